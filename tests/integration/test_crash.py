"""`kill -9` in the middle of a bulk import and of concurrent intake, on SQLite and PostgreSQL.

After the crash every acknowledged request is there, no transition is half-applied (each
stored request has its events, the audit chain verifies) and re-running finishes the job.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from megacity.bootstrap import Megacity
from megacity.domain.enums import Role
from megacity.services.accounts import create_user
from megacity.services.audit import verify
from megacity.store.tables import audit_events, tickets

ROWS = 40_000


def write_canonical(path: Path, rows: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "received_at", "channel", "kind", "title", "text", "street_code", "status"])
        for i in range(rows):
            at = (start + timedelta(minutes=i)).isoformat()
            out.writerow(
                [
                    f"crash-{i:06d}",
                    at,
                    "phone",
                    "help",
                    f"路灯{i}",
                    f"第{i}号路灯不亮",
                    "110101001",
                    "received",
                ]
            )


def counts(app: Megacity) -> tuple[int, int]:
    with app.engine.connect() as conn:
        n_tickets = conn.scalar(select(func.count()).select_from(tickets)) or 0
        n_receive = conn.scalar(select(func.count()).where(audit_events.c.action == "receive")) or 0
    return n_tickets, n_receive


def wait_for(predicate: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_kill_9_during_bulk_import_loses_nothing_acknowledged(
    megacity: Megacity, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.csv"
    write_canonical(source, ROWS)
    cmd = [
        sys.executable,
        "-m",
        "megacity",
        "import",
        str(source),
        "--database",
        database_url,
        "--report",
        str(tmp_path / "r.csv"),
    ]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: counts(megacity)[0] >= 3000)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored, received = counts(megacity)
    assert 0 < stored < ROWS, "the crash should land mid-import"
    assert stored == received, "every stored request has its intake event: no half-written batch"
    report = verify(app=megacity)
    assert report.broken_at is None and not report.reason
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == f"imported {ROWS - stored} rejected {stored}"
    assert counts(megacity) == (ROWS, ROWS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kill_9_under_concurrent_intake_keeps_every_acknowledged_request(
    megacity: Megacity, database_url: str, tmp_path: Path
) -> None:
    create_user(app=megacity, username="op", password="a-long-password", role=Role.OPERATOR)
    port = _free_port()
    env = {**os.environ, "MEGACITY_DATABASE_URL": database_url, "MEGACITY_ENVIRONMENT": "test"}
    server = subprocess.Popen(
        [sys.executable, "-m", "megacity", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(base), timeout=60)
    token = httpx.post(
        base + "/api/auth/token", data={"username": "op", "password": "a-long-password"}
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
            i = 0
            while not stop.is_set():
                body = {"channel": "phone", "kind": "help", "title": f"噪音{n}-{i}", "text": "夜间施工噪音"}
                try:
                    r = c.post("/api/requests", json=body)
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acknowledged.append(r.json()["id"])
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acknowledged) >= 150, timeout=120)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    with megacity.engine.connect() as conn:
        stored = set(conn.scalars(select(tickets.c.id)))
    assert set(acknowledged) <= stored
    n_tickets, n_receive = counts(megacity)
    assert n_tickets == n_receive
    report = verify(app=megacity)
    assert report.broken_at is None and not report.reason


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
