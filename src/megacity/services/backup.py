"""Backup and restore of the whole database as one portable archive.

The archive is a zip of JSON-lines files, one per table, plus a manifest with the schema
revision and row counts. It is engine-neutral: a SQLite backup restores into PostgreSQL and
back. Restore refuses a database that already holds requests, and verifies the audit chain
and the row counts before it commits.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table, func, insert, select, text
from sqlalchemy.engine import Connection

from megacity.bootstrap import Megacity
from megacity.domain.errors import ConflictError, ValidationError
from megacity.store.audit import verify_chain
from megacity.store.tables import metadata

FORMAT = "megacity-backup/1"
BATCH = 2000


#: Results computed from the other tables (`services.revalidate`): not backed up, emptied on restore.
DERIVED = frozenset({"result_snapshots"})


def _tables() -> list[Table]:
    """Every table of the schema but the derived ones, parents before children."""
    return [t for t in metadata.sorted_tables if t.name not in DERIVED]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
        if "$b" in value:
            return base64.b64decode(value["$b"])
    return value


def _revision(conn: Connection) -> str:
    return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())


def backup(*, app: Megacity, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write every table to `path` inside one read transaction (a consistent snapshot)."""
    counts: dict[str, int] = {}
    tmp = path.with_name(path.name + ".partial")
    with (
        app.engine.connect() as conn,
        conn.begin(),
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for table in _tables():
            with (
                archive.open(f"{table.name}.jsonl", "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8") as out,
            ):
                counts[table.name] = 0
                for row in _rows(conn, table):
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                    counts[table.name] += 1
                    if progress and counts[table.name] % BATCH == 0:
                        progress(BATCH)
        manifest = {
            "format": FORMAT,
            "revision": _revision(conn),
            "counts": counts,
            "profile": app.profile.version,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    tmp.replace(path)
    return counts


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns)
    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    for row in result:
        yield dict(row._mapping)


def restore(*, app: Megacity, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Load an archive into an empty, initialised database; all or nothing."""
    try:
        archive = zipfile.ZipFile(path)
        manifest = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path} is not a Megacity backup: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise ValidationError(f"{path} has format {manifest.get('format')!r}, expected {FORMAT}")
    with archive, app.engine.connect() as conn, conn.begin():
        if manifest["revision"] != _revision(conn):
            raise ValidationError(
                f"backup schema {manifest['revision']} differs from the database's; migrate first"
            )
        if conn.scalar(select(func.count()).select_from(metadata.tables["tickets"])):
            raise ConflictError("the database already holds requests; restore needs an empty one")
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())  # the fresh schema's seed rows (audit head) come from the backup
        for table in _tables():
            loaded = _load_table(conn, archive, table, progress)
            if loaded != manifest["counts"].get(table.name, 0):
                raise ValidationError(
                    f"{table.name}: expected {manifest['counts'][table.name]} rows, read {loaded}"
                )
        _reset_sequences(conn)
        _check_chain(conn)
    return dict(manifest["counts"])


def _load_table(
    conn: Connection, archive: zipfile.ZipFile, table: Table, progress: Callable[[int], None] | None
) -> int:
    name = f"{table.name}.jsonl"
    if name not in archive.namelist():
        return 0
    batch: list[dict[str, Any]] = []
    loaded = 0
    with archive.open(name) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            batch.append({k: _decode(v) for k, v in json.loads(line).items()})
            if len(batch) >= BATCH:
                conn.execute(insert(table), batch)
                loaded, batch = loaded + len(batch), []
                if progress:
                    progress(BATCH)
    if batch:
        conn.execute(insert(table), batch)
        loaded += len(batch)
    return loaded


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL serials must continue after the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )


def _check_chain(conn: Connection) -> None:
    events = metadata.tables["audit_events"]
    head = metadata.tables["audit_head"]
    rows = (dict(r._mapping) for r in conn.execute(select(events).order_by(events.c.seq)))
    report = verify_chain(rows, expected_count=conn.scalar(select(head.c.seq)) or 0)
    if report.broken_at is not None or report.reason:
        raise ValidationError(f"the backup's audit chain does not verify: {report.reason}")
