"""Publishing a month's ranking (frozen) and recording corrections instead of rewriting it.

`publish` stores the month's rows once. Publishing (or checking) the same month again
recomputes it and compares unit by unit: every unit whose figures differ gets a correction
entry with the figures before (as published) and after (recomputed); the published rows stay
as they were. The same change is recorded once (`after_hash`), so repeated checks are quiet.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from megacity.domain.errors import ConflictError
from megacity.store.assessment_tables import assessment_corrections, assessment_publications, assessment_rows

#: Figures compared between the published and the recomputed ranking.
TRACKED: tuple[str, ...] = (
    "in_scope",
    "rated",
    "excluded",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "requests_per_10k",
    "rank",
    "rank_in_subtype",
    "governance_focus",
)
_COLUMNS = ("unit_name", *TRACKED)


@dataclass(frozen=True)
class Publication:
    id: int
    month: str
    published_at: datetime
    published_by: str
    profile_code: str
    profile_version: str
    settings: dict[str, Any]
    row_count: int
    checksum: str


@dataclass(frozen=True)
class Outcome:
    """What `publish` did: created the publication, or compared and recorded corrections."""

    publication: Publication
    created: bool
    corrections: list[dict[str, Any]]


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return str(row["unit_type"]), str(row["unit_code"])


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return bool(a == b)


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The tracked figures that differ (all of them when a unit appears or disappears).

    >>> changed_fields({"rank": 1, "composite": 90.0}, {"rank": 2, "composite": 90.0})
    ['rank']
    """
    if before is None or after is None:
        return list(TRACKED) if before is not after else []
    return [f for f in TRACKED if not _same(before.get(f), after.get(f))]


def _publication(row: Any) -> Publication:
    m = row._mapping
    return Publication(**{name: m[name] for name in Publication.__dataclass_fields__})


def find(conn: Connection, month: str) -> Publication | None:
    row = conn.execute(
        select(assessment_publications).where(assessment_publications.c.month == month)
    ).first()
    return _publication(row) if row else None


def published_rows(conn: Connection, publication_id: int) -> list[dict[str, Any]]:
    """The rows as published, in report order (their full figures)."""
    query = select(assessment_rows.c.figures).where(assessment_rows.c.publication_id == publication_id)
    rows = [dict(r[0]) for r in conn.execute(query)]
    return sorted(rows, key=lambda r: int(r.get("_order", 0)))


def _insert(
    conn: Connection, month: str, rows: Sequence[dict[str, Any]], meta: dict[str, Any]
) -> Publication:
    figures = [{**r, "_order": i} for i, r in enumerate(rows)]
    values = {**meta, "month": month, "row_count": len(rows), "checksum": _digest(figures)}
    inserted = conn.execute(insert(assessment_publications).values(**values)).inserted_primary_key
    assert inserted is not None
    publication_id = inserted[0]
    if figures:
        conn.execute(
            insert(assessment_rows),
            [
                {
                    "publication_id": publication_id,
                    "unit_type": r["unit_type"],
                    "unit_code": r["unit_code"],
                    **{c: r.get(c) for c in _COLUMNS},
                    "governance_focus": bool(r.get("governance_focus")),
                    "figures": r,
                }
                for r in figures
            ],
        )
    found = find(conn, month)
    assert found is not None
    return found


def _corrections(
    conn: Connection, pub: Publication, rows: Sequence[dict[str, Any]], by: str, at: datetime
) -> list[dict[str, Any]]:
    before = {_key(r): r for r in published_rows(conn, pub.id)}
    after = {_key(r): r for r in rows}
    known = {
        (r.unit_type, r.unit_code, r.after_hash)
        for r in conn.execute(
            select(
                assessment_corrections.c.unit_type,
                assessment_corrections.c.unit_code,
                assessment_corrections.c.after_hash,
            ).where(assessment_corrections.c.publication_id == pub.id)
        )
    }
    new: list[dict[str, Any]] = []
    for key in sorted(before.keys() | after.keys()):
        old, now = before.get(key), after.get(key)
        changed = changed_fields(old, now)
        now_figures = None if now is None else {f: now.get(f) for f in _COLUMNS}
        digest = _digest(now_figures)
        if not changed or (*key, digest) in known:
            continue
        new.append(
            {
                "publication_id": pub.id,
                "month": pub.month,
                "unit_type": key[0],
                "unit_code": key[1],
                "detected_at": at,
                "detected_by": by,
                "changed": changed,
                "before": None if old is None else {f: old.get(f) for f in _COLUMNS},
                "after": now_figures,
                "after_hash": digest,
                "note": "",
            }
        )
    if new:
        conn.execute(insert(assessment_corrections), new)
    return [{k: v for k, v in c.items() if k not in {"after_hash", "publication_id"}} for c in new]


def publish(
    engine: Engine,
    month: str,
    rows: Sequence[dict[str, Any]],
    *,
    by: str,
    at: datetime,
    meta: dict[str, Any],
) -> Outcome:
    """Freeze `rows` as the month's ranking, or record how a recomputation differs from it.

    `meta` holds ``profile_code``, ``profile_version`` and ``settings`` of the computation.
    """
    try:
        with engine.connect() as plain:
            conn = plain.execution_options(megacity_write=True)
            with conn.begin():
                existing = find(conn, month)
                if existing is None:
                    pub = _insert(conn, month, rows, {**meta, "published_at": at, "published_by": by})
                    return Outcome(pub, True, [])
                return Outcome(existing, False, _corrections(conn, existing, rows, by, at))
    except IntegrityError:
        raise ConflictError(f"{month} was being published at the same time; try again") from None


def corrections(engine: Engine, month: str | None = None) -> list[dict[str, Any]]:
    """Recorded corrections, oldest first, optionally of one month."""
    c = assessment_corrections.c
    query = select(
        c.id,
        c.month,
        c.unit_type,
        c.unit_code,
        c.detected_at,
        c.detected_by,
        c.changed,
        c.before,
        c.after,
        c.note,
    )
    if month is not None:
        query = query.where(c.month == month)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(c.id))]


def load(engine: Engine, month: str) -> tuple[Publication, list[dict[str, Any]]] | None:
    """A published month and its rows as published, if it was published."""
    with engine.connect() as conn:
        pub = find(conn, month)
        if pub is None:
            return None
        rows = published_rows(conn, pub.id)
    return pub, [{k: v for k, v in r.items() if k != "_order"} for r in rows]
