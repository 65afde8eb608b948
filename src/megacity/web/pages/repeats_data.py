"""Repeat requests of a month from the operational database, for the 分析 page and the report.

Reads only the requests received in the month and the repeat window before it (a repeat links
to an earlier request at most the window apart), runs the detector of `megacity.analytics`
(the same code as `megacity analyse repeats`) and summarises the chains that were active in the
month: size, first and last request, whether the latest request is still unresolved, and the
escalation rule of docs/repeats.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from megacity.analytics.cli import escalation, group_requests
from megacity.analytics.repeats import Params
from megacity.analytics.tables import RequestTable
from megacity.assessment.rules import month_windows, parse_month
from megacity.bootstrap import Megacity
from megacity.store.tables import tickets

COLUMNS = ("id", "received_at", "complainant_id", "street_code", "title", "text", "resolved", "callback_at")


@dataclass(frozen=True)
class Chain:
    """A repeat chain active in the month (its latest request received in the month)."""

    master: str
    size: int
    first_at: float
    last_at: float
    district_code: str | None
    title: str
    latest: str
    unresolved: bool
    escalate: str  # none | district | city


def _codes(values: list[Any]) -> np.ndarray:
    index: dict[Any, int] = {}
    return np.array([-1 if v is None else index.setdefault(v, len(index)) for v in values], dtype=np.int64)


def _epoch(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=np.float64)


def _read(app: Megacity, start: Any, end: Any) -> tuple[RequestTable, list[str | None]]:
    c = tickets.c
    query = (
        select(*[c[n] for n in COLUMNS], c.district_code)
        .where(c.received_at >= start, c.received_at < end)
        .order_by(c.received_at, c.id)
    )
    with app.uow(write=False) as uow:
        rows = uow.connection.execute(query).all()
    cols: list[list[Any]] = [[row[i] for row in rows] for i in range(len(COLUMNS) + 1)]
    resolved = np.array([-1 if v is None else int(bool(v)) for v in cols[6]], dtype=np.int8)
    table = RequestTable(
        ids=[str(v) for v in cols[0]],
        times=_epoch(cols[1]),
        people=_codes(cols[2]),
        streets=_codes(cols[3]),
        titles=cols[4],
        texts=cols[5],
        resolved=resolved,
        callbacks=_epoch(cols[7]),
    )
    return table, cols[8]


def month_repeats(app: Megacity, month: str, district: str | None = None) -> dict[str, Any]:
    """The month's repeat chains (optionally of one district) and its counts."""
    window = month_windows([parse_month(month)], app.profile.timezone)[0]
    days = float(app.profile.repeat_window_days)
    table, districts = _read(app, window.start - timedelta(days=days), window.end)
    in_month = (table.times >= window.start.timestamp()) & (table.times < window.end.timestamp())
    masters = group_requests(table, Params(window_days=days)) if len(table) else np.array([], dtype=np.int64)
    members: dict[int, list[int]] = defaultdict(list)
    for row, master in enumerate(masters):
        members[int(master)].append(row)
    chains = []
    for master, rows in members.items():
        if len(rows) < 2 or not in_month[rows[-1]]:
            continue
        if district is not None and districts[master] != district:
            continue
        idx = np.array(rows)
        _, _, unresolved, level = escalation(table.times[idx], table.resolved[idx], table.callbacks[idx])
        chains.append(
            Chain(
                master=table.ids[master],
                size=len(rows),
                first_at=float(table.times[rows[0]]),
                last_at=float(table.times[rows[-1]]),
                district_code=districts[master],
                title=table.titles[master] or table.texts[master] or "",
                latest=table.ids[rows[-1]],
                unresolved=unresolved,
                escalate=level,
            )
        )
    chains.sort(key=lambda ch: (-ch.size, -ch.last_at, ch.master))
    scoped = np.array([district is None or d == district for d in districts], dtype=bool)
    repeats = sum(
        1 for row, master in enumerate(masters) if in_month[row] and scoped[row] and int(master) != row
    )
    return {
        "requests": int(np.count_nonzero(in_month & scoped)),
        "repeats": repeats,
        "chains": chains,
        "unresolved": [ch for ch in chains if ch.unresolved],
        "escalate": {
            level: sum(1 for ch in chains if ch.escalate == level) for level in ("district", "city")
        },
    }
