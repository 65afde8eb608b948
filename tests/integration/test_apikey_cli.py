"""`megacity apikey` as an operator runs it: a real process, a real database."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from megacity.bootstrap import Megacity, bootstrap
from megacity.services import apikeys
from megacity.services.apikeys import InvalidApiKeyError
from megacity.settings import Settings
from megacity.store.tables import api_keys, audit_events


def megacity(*args: str, database: str, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", "apikey", *args, "--database", database],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def test_create_list_revoke(database_url: str, tmp_path: Path) -> None:
    created = megacity("create", "--name", "fixmystreet", database=database_url, cwd=tmp_path)
    key = created.stdout.strip().splitlines()[-1]  # the key is the last line, shown once
    assert key.startswith("m311_") and len(key) > 40
    app = bootstrap(Settings(database_url=database_url, environment="test"))
    found = apikeys.verify(app=app, key=key)
    assert (found.name, found.actor) == ("fixmystreet", "open311:fixmystreet")
    with app.uow(write=False) as uow:
        [row] = uow.connection.execute(select(api_keys)).all()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()  # only the hash is stored

    listed = megacity("list", database=database_url, cwd=tmp_path).stdout.splitlines()
    assert [line.split("\t")[::3] for line in listed] == [[str(found.id), "active"]]
    assert key not in "\n".join(listed)

    revoked = megacity("revoke", str(found.id), database=database_url, cwd=tmp_path)
    assert revoked.stdout.strip() == f"api key {found.id} revoked"
    with pytest.raises(InvalidApiKeyError, match="revoked"):
        apikeys.verify(app=app, key=key)
    [line] = megacity("list", database=database_url, cwd=tmp_path).stdout.splitlines()
    assert line.split("\t")[3].startswith("revoked ")
    again = megacity("revoke", str(found.id), database=database_url, cwd=tmp_path)
    assert "already revoked" in again.stdout
    events = [e["action"] for e in _audit(app)]
    assert events == ["create_api_key", "revoke_api_key"]


def test_user_errors_exit_2(database_url: str, tmp_path: Path) -> None:
    missing = megacity("revoke", "99", database=database_url, cwd=tmp_path, expect=2)
    assert missing.stderr.startswith("error: ") and "99" in missing.stderr
    bad = megacity("create", "--name", "has spaces", database=database_url, cwd=tmp_path, expect=2)
    assert bad.stderr.startswith("error: ") and "name" in bad.stderr


def _audit(app: Megacity) -> list[dict[str, object]]:
    with app.uow(write=False) as uow:
        rows = uow.connection.execute(select(audit_events).order_by(audit_events.c.seq)).all()
    return [dict(r._mapping) for r in rows]
