"""`megacity backup` / `megacity restore` on SQLite and PostgreSQL: nothing lost, chain intact."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from megacity.bootstrap import Megacity, bootstrap
from megacity.demo import generate
from megacity.services import queries
from megacity.services.audit import verify
from megacity.services.demo_load import load_demo
from megacity.services.export import export_tickets
from megacity.settings import Settings
from megacity.store import snapshots
from megacity.store.audit import data_version
from megacity.web.pages import section_cache
from tests.conftest import PG_URL, _worker_database


def second_database(database_url: str, tmp_path: Path, worker_id: str) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    assert PG_URL is not None
    return _worker_database(PG_URL, f"{worker_id}_restore")


def cli(*args: str, cwd: Path, expect: int = 0) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", *args], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_backup_restores_everything_into_an_empty_database(
    megacity: Megacity, database_url: str, tmp_path: Path, worker_id: str
) -> None:
    load_demo(app=megacity, cases=generate(megacity.profile, count=300, months=2))
    section_cache.cached(megacity, "probe", "2025-01", lambda: "derived, not backed up")
    archive = tmp_path / "backup.zip"
    assert "300 requests" in cli("backup", "--out", str(archive), "--database", database_url, cwd=tmp_path)
    assert "result_snapshots.jsonl" not in zipfile.ZipFile(archive).namelist()
    target = second_database(database_url, tmp_path, worker_id)
    assert "restored 300 requests" in cli("restore", str(archive), "--database", target, cwd=tmp_path)
    restored = bootstrap(Settings(database_url=target, files_dir=tmp_path / "f2", environment="test"))
    for app, name in ((megacity, "a.csv"), (restored, "b.csv")):
        export_tickets(app=app, path=tmp_path / name, format="csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert snapshots.listing(restored.engine) == []
    with megacity.engine.connect() as a, restored.engine.connect() as b:
        assert data_version(a) == data_version(b)  # the same data: stored results would be valid
    report = verify(app=restored)
    assert report.broken_at is None and not report.reason and report.checked > 300
    ticket = queries.get_ticket(app=restored, ticket_id="demo-000001")
    assert queries.contact_of(app=restored, complainant_id=ticket.complainant_id or "") is not None
    # a second restore into the now non-empty database is refused, nothing changes
    assert "already holds requests" in cli(
        "restore", str(archive), "--database", target, cwd=tmp_path, expect=2
    )
    assert queries.overview(app=restored).total == 300


def test_restore_refuses_a_file_that_is_not_a_backup(database_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    out = cli("restore", str(junk), "--database", database_url, cwd=tmp_path, expect=2)
    assert out.startswith("error:") and out.count("\n") == 1
