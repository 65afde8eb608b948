"""Repeat requests of a month from the operational database, for the 分析 page and the report.

Reads only the requests received in the month and the repeat window before it (a repeat links
to an earlier request at most the window apart), runs the detector of `megacity.analytics`
(the same code as `megacity analyse repeats`) and summarises the chains that were active in the
month: size, first and last request, whether the latest request is still unresolved, and the
escalation rule of docs/repeats.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from megacity.analytics.cli import escalation
from megacity.analytics.orders import bulk, select_columns
from megacity.analytics.repeats import Params, group_rows
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


def _epoch(column: Any) -> np.ndarray:
    """Epoch seconds of an instant column (pyarrow, UTC), NaN when missing."""
    micros = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(micros, dtype=np.float64) / 1e6


def _values(column: Any) -> list[Any]:
    return column if isinstance(column, list) else list(column.to_pylist())


def _read(app: Megacity, start: Any, end: Any) -> tuple[RequestTable, list[str | None]]:
    c = tickets.c
    window = (c.received_at >= start) & (c.received_at < end)
    with app.uow(write=False) as uow:
        found = select_columns(uow.connection, (*COLUMNS, "district_code"), window)
    cols = {name: _values(found[name]) for name in COLUMNS if name not in ("received_at", "callback_at")}
    resolved = np.array([-1 if v is None else int(bool(v)) for v in cols["resolved"]], dtype=np.int8)
    table = RequestTable(
        ids=[str(v) for v in cols["id"]],
        times=_epoch(found["received_at"]),
        people=_codes(cols["complainant_id"]),
        streets=_codes(cols["street_code"]),
        titles=cols["title"],
        texts=cols["text"],
        resolved=resolved,
        callbacks=_epoch(found["callback_at"]),
    )
    return table, _values(found["district_code"])


def month_repeats(app: Megacity, month: str, district: str | None = None) -> dict[str, Any]:
    """The month's repeat chains (optionally of one district) and its counts."""
    with bulk():
        return _month_repeats(app, month, district)


def _month_repeats(app: Megacity, month: str, district: str | None) -> dict[str, Any]:
    window = month_windows([parse_month(month)], app.profile.timezone)[0]
    days = float(app.profile.repeat_window_days)
    table, districts = _read(app, window.start - timedelta(days=days), window.end)
    in_month = (table.times >= window.start.timestamp()) & (table.times < window.end.timestamp())
    masters = np.array([], dtype=np.int64)
    if len(table):
        params = Params(window_days=days)
        masters, _ = group_rows(
            table.ids, table.times, table.people, table.streets, table.titles, table.texts, params
        )
    scoped = np.array([district is None or d == district for d in districts], dtype=bool)
    chains = [
        _chain(table, districts, int(masters[rows[0]]), rows)
        for rows in _members(masters)
        if len(rows) > 1
        and in_month[rows[-1]]
        and (district is None or districts[int(masters[rows[0]])] == district)
    ]
    chains.sort(key=lambda ch: (-ch.size, -ch.last_at, ch.master))
    rows = np.arange(len(masters), dtype=np.int64)
    repeats = int(np.count_nonzero(in_month & scoped & (masters != rows)))
    return {
        "requests": int(np.count_nonzero(in_month & scoped)),
        "repeats": repeats,
        "chains": chains,
        "unresolved": [ch for ch in chains if ch.unresolved],
        "escalate": {
            level: sum(1 for ch in chains if ch.escalate == level) for level in ("district", "city")
        },
    }


def _members(masters: np.ndarray) -> list[np.ndarray]:
    """The rows of each chain, in row (time) order."""
    if not len(masters):
        return []
    order = np.argsort(masters, kind="stable")
    cuts = np.flatnonzero(masters[order][1:] != masters[order][:-1]) + 1
    return np.split(order, cuts)


def _chain(table: RequestTable, districts: list[str | None], master: int, rows: np.ndarray) -> Chain:
    last = int(rows[-1])
    _, _, unresolved, level = escalation(table.times[rows], table.resolved[rows], table.callbacks[rows])
    return Chain(
        master=table.ids[master],
        size=len(rows),
        first_at=float(table.times[rows[0]]),
        last_at=float(table.times[last]),
        district_code=districts[master],
        title=table.titles[master] or table.texts[master] or "",
        latest=table.ids[last],
        unresolved=unresolved,
        escalate=level,
    )
