"""Reading and writing `result_snapshots`: the newest stored result of one question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.engine import Engine

from megacity.store.snapshot_tables import result_snapshots as t


@dataclass(frozen=True)
class StoredResult:
    version: str
    computed_at: datetime
    payload: bytes


def stored_version(engine: Engine, name: str, key: str) -> tuple[str, datetime] | None:
    """The data version and time of the stored result, without reading its payload."""
    with engine.connect() as conn:
        row = conn.execute(
            select(t.c.version, t.c.computed_at).where(t.c.name == name, t.c.key == key)
        ).first()
    return None if row is None else (row.version, row.computed_at)


def load(engine: Engine, name: str, key: str) -> StoredResult | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(t.c.version, t.c.computed_at, t.c.payload).where(t.c.name == name, t.c.key == key)
        ).first()
    return None if row is None else StoredResult(row.version, row.computed_at, bytes(row.payload))


def save(
    engine: Engine,
    name: str,
    key: str,
    *,
    label: str,
    version: str,
    computed_at: datetime,
    seconds: float,
    payload: bytes,
) -> None:
    """Replace the stored result of the question (delete and insert: the same on every engine);
    results of the same question stored by other code (`revalidate.code_stamp`) go too."""
    row = {
        "name": name,
        "key": key,
        "label": label,
        "version": version,
        "computed_at": computed_at,
        "seconds": seconds,
        "payload": payload,
    }
    with engine.connect().execution_options(megacity_write=True) as conn, conn.begin():
        conn.execute(delete(t).where(t.c.name == name, or_(t.c.key == key, t.c.label == label)))
        conn.execute(insert(t).values(**row))


def newest(engine: Engine) -> datetime | None:
    """When the newest stored result was computed."""
    with engine.connect() as conn:
        found: datetime | None = conn.scalar(select(func.max(t.c.computed_at)))
    return found


def clear(engine: Engine, name: str | None = None) -> int:
    """Delete the stored results (of one cache, or all); how many rows went."""
    with engine.connect().execution_options(megacity_write=True) as conn, conn.begin():
        query = delete(t) if name is None else delete(t).where(t.c.name == name)
        return int(conn.execute(query).rowcount or 0)


def listing(engine: Engine) -> list[dict[str, object]]:
    """Every stored result without its payload: what `megacity refresh --list` prints."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.name, t.c.label, t.c.version, t.c.computed_at, t.c.seconds).order_by(
                t.c.name, t.c.label
            )
        )
        return [dict(r._mapping) for r in rows]
