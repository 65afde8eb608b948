"""The Open311 client: `megacity import --format open311` pulls requests from a live GeoReport v2
server (our own, the `server` fixture) into a second database; re-importing changes nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from megacity.bootstrap import Megacity, bootstrap
from megacity.cli import app as megacity_app
from megacity.domain.enums import Status, Urgency
from megacity.io.open311 import Open311Source
from megacity.services import apikeys, queries
from megacity.services.open311_import import import_open311
from megacity.settings import Settings
from megacity.store.tables import audit_events, tickets
from tests.conftest import PG_URL, Clock, _worker_database

V2 = "/open311/v2"
Login = Callable[[str], httpx.Client]


def leaf(megacity: Megacity) -> tuple[str, str]:
    """(service code, leaf code) of a general-urgency territorial leaf."""
    for c in sorted(megacity.profile.catalogue.leaves(), key=lambda c: c.code):
        if c.is_territorial and c.urgency is Urgency.GENERAL:
            return c.code[:4], c.code
    raise AssertionError("no such leaf")


def post(server: str, megacity: Megacity, key: str, **fields: str) -> str:
    service, code = leaf(megacity)
    form = {"api_key": key, "service_code": service, "attribute[category]": code, **fields}
    answer = httpx.post(f"{server}{V2}/requests.json", data=form, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()[0]["service_request_id"])


def seed(server: str, megacity: Megacity, clock: Clock) -> list[str]:
    """Five requests a day apart: streets, districts, free addresses and coordinates."""
    key = apikeys.create(app=megacity, name="peer-city")[1]
    places: list[dict[str, str]] = [
        {"address_id": "110101001", "description": "路灯不亮，电话13800138000"},
        {"address_id": "110105", "description": "噪音扰民"},
        {"address_string": "海淀区八里庄街道某小区3号楼", "description": "垃圾堆积"},
        {
            "lat": "39.913818",
            "long": "116.363625",
            "description": "井盖归谁管？",
            "attribute[kind]": "consult",
        },
        {"address_id": "110101002", "description": "占道经营"},
    ]
    ids = []
    for fields in places:
        ids.append(post(server, megacity, key, **fields))
        clock.advance(days=1)
    return ids


def second_database(tmp_path: Path, like: str = "sqlite", name: str = "peer") -> tuple[str, Megacity]:
    """The importing city's database, on the same engine as the serving one."""
    url = f"sqlite:///{tmp_path / f'{name}.db'}"
    if not like.startswith("sqlite") and PG_URL:
        url = _worker_database(PG_URL, f"{os.environ.get('PYTEST_XDIST_WORKER', 'master')}_{name}")
    return url, bootstrap(
        Settings(database_url=url, files_dir=tmp_path / f"{name}-files", environment="test")
    )


def run_import(*args: str) -> Any:
    return CliRunner().invoke(megacity_app, ["import", "--format", "open311", *args])


def test_import_from_a_live_server_matches_and_is_idempotent(
    server: str, megacity: Megacity, clock: Clock, login: Login, tmp_path: Path
) -> None:
    ids = seed(server, megacity, clock)
    assert login("admin").post(f"/api/requests/{ids[3]}/answer", json={"reason": "已解答"}).status_code == 200
    url, peer = second_database(tmp_path, megacity.settings.database_url)
    endpoint = f"{server}{V2}"
    first = run_import("--endpoint", endpoint, "--database", url, "--report", str(tmp_path / "r.csv"))
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1] == "imported 5 rejected 0"

    source = "open311:" + endpoint.split("//")[1].split("/")[0]
    public = {r["service_request_id"]: r for r in httpx.get(f"{endpoint}/requests.json", timeout=30).json()}
    for remote in ids:
        original = queries.get_ticket(app=megacity, ticket_id=remote)
        copy = queries.get_ticket(app=peer, ticket_id=f"{source}:{remote}")
        assert copy.received_at == original.received_at
        assert (copy.lat, copy.lon, copy.address) == (original.lat, original.lon, original.address)
        assert (copy.street_code, copy.district_code) == (original.street_code, original.district_code)
        assert copy.category_code == (original.category_code or "")[:4]  # the service (level 2) travels
        assert copy.text == public[remote]["description"] and "13800138000" not in copy.text
        assert copy.channel.value == "open311" and copy.source == source
        closed = public[remote]["status"] == "closed"
        assert copy.status == (Status.CLOSED if closed else Status.RECEIVED)
    assert (
        sum(queries.get_ticket(app=peer, ticket_id=f"{source}:{i}").status == Status.CLOSED for i in ids) == 1
    )
    with peer.engine.connect() as conn:
        events = conn.execute(select(audit_events.c.ticket_id, audit_events.c.actor)).all()
    assert sorted(e.ticket_id for e in events) == sorted(f"{source}:{i}" for i in ids)
    assert {e.actor for e in events} == {f"import:{source}"}

    again = run_import("--endpoint", endpoint, "--database", url, "--report", str(tmp_path / "r2.csv"))
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines()[-2:] == [
        "already imported 5 (unchanged)",
        "imported 0 rejected 0",
    ]
    with peer.engine.connect() as conn:
        assert len(conn.execute(select(tickets.c.id)).all()) == 5
        assert len(conn.execute(select(audit_events.c.hash)).all()) == 5  # nothing new audited


def test_pages_windows_and_service_filter(
    server: str, megacity: Megacity, clock: Clock, tmp_path: Path
) -> None:
    ids = seed(server, megacity, clock)
    _, peer = second_database(tmp_path, megacity.settings.database_url)
    calls: list[httpx.URL] = []
    client = httpx.Client(event_hooks={"request": [lambda request: calls.append(request.url)]})
    start = clock.now - timedelta(days=200)
    source = Open311Source(f"{server}{V2}/", start=start, end=clock.now + timedelta(days=1), page_size=2)
    with client:
        done = import_open311(app=peer, source=source, client=client)
    assert (done.result.imported, done.result.rejected) == (5, 0)
    windows = sorted({u.params["start_date"] for u in calls})
    assert len(windows) == 3  # 201 days read as 89 + 89 + 23
    last = [u for u in calls if u.params["start_date"] == windows[-1]]
    assert [u.params["page"] for u in last] == ["1", "2", "3"]  # 2 + 2 + 1: a short page ends it
    service = leaf(megacity)[0]
    other = next(c.code[:4] for c in megacity.profile.catalogue.leaves() if c.code[:4] != service)
    only = Open311Source(f"{server}{V2}", service_codes=other)
    _, empty = second_database(tmp_path, megacity.settings.database_url, "other")
    assert import_open311(app=empty, source=only).result.imported == 0
    assert import_open311(
        app=empty, source=Open311Source(f"{server}{V2}", service_codes=service)
    ).result.imported == len(ids)


def test_bad_input_exits_2_with_one_error_line(server: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'peer.db'}"
    port = int(server.rsplit(":", 1)[1])
    cases: list[list[str]] = [
        [],  # no endpoint
        ["--endpoint", "ftp://example.org/open311/v2"],
        ["--endpoint", f"http://127.0.0.1:{port + 1 if port < 65535 else 1}/open311/v2"],  # nobody there
        ["--endpoint", f"{server}/not-open311"],
        ["--endpoint", f"{server}{V2}", "--start-date", "yesterday"],
        ["--endpoint", f"{server}{V2}", "--start-date", "2025-03-01", "--end-date", "2025-01-01"],
        ["--endpoint", f"{server}{V2}", "--service-code", "01,,"],
        [str(tmp_path / "file.csv"), "--endpoint", f"{server}{V2}"],
    ]
    for args in cases:
        result = run_import(*args, "--database", url)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (
            args,
            result.output,
        )
    plain = CliRunner().invoke(megacity_app, ["import", "--database", url])
    assert plain.exit_code == 2 and plain.stderr.startswith("error: ")
