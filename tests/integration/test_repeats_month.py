"""The month's repeat chains of the 分析 page: the vectorised summary against its definition."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from megacity.analytics.cli import escalation, group_requests
from megacity.analytics.repeats import Params
from megacity.analytics.tables import RequestTable
from megacity.assessment.rules import month_windows, parse_month
from megacity.bootstrap import Megacity
from megacity.demo import generate
from megacity.services.demo_load import load_demo
from megacity.store.tables import tickets
from megacity.web.pages.repeats_data import COLUMNS, Chain, month_repeats


def _by_definition(app: Megacity, month: str, district: str | None) -> dict[str, Any]:
    """month_repeats as first written: rows one by one, a dict of chains, a loop per chain."""
    window = month_windows([parse_month(month)], app.profile.timezone)[0]
    days = float(app.profile.repeat_window_days)
    c = tickets.c
    query = (
        select(*[c[n] for n in COLUMNS], c.district_code)
        .where(c.received_at >= window.start - timedelta(days=days), c.received_at < window.end)
        .order_by(c.received_at, c.id)
    )
    with app.uow(write=False) as uow:
        rows = uow.connection.execute(query).all()
    cols = [[row[i] for row in rows] for i in range(len(COLUMNS) + 1)]

    def codes(values: list[Any]) -> np.ndarray:
        index: dict[Any, int] = {}
        return np.array(
            [-1 if v is None else index.setdefault(v, len(index)) for v in values], dtype=np.int64
        )

    def epoch(values: list[Any]) -> np.ndarray:
        return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=np.float64)

    table = RequestTable(
        ids=[str(v) for v in cols[0]],
        times=epoch(cols[1]),
        people=codes(cols[2]),
        streets=codes(cols[3]),
        titles=cols[4],
        texts=cols[5],
        resolved=np.array([-1 if v is None else int(bool(v)) for v in cols[6]], dtype=np.int8),
        callbacks=epoch(cols[7]),
    )
    districts = cols[8]
    in_month = (table.times >= window.start.timestamp()) & (table.times < window.end.timestamp())
    masters = group_requests(table, Params(window_days=days)) if len(table) else np.array([], dtype=np.int64)
    members: dict[int, list[int]] = defaultdict(list)
    for row, master in enumerate(masters):
        members[int(master)].append(row)
    chains = []
    for master, found in members.items():
        if len(found) < 2 or not in_month[found[-1]]:
            continue
        if district is not None and districts[master] != district:
            continue
        idx = np.array(found)
        _, _, unresolved, level = escalation(table.times[idx], table.resolved[idx], table.callbacks[idx])
        chains.append(
            Chain(
                master=table.ids[master],
                size=len(found),
                first_at=float(table.times[found[0]]),
                last_at=float(table.times[found[-1]]),
                district_code=districts[master],
                title=table.titles[master] or table.texts[master] or "",
                latest=table.ids[found[-1]],
                unresolved=unresolved,
                escalate=level,
            )
        )
    chains.sort(key=lambda ch: (-ch.size, -ch.last_at, ch.master))
    scoped = np.array([district is None or d == district for d in districts], dtype=bool)
    repeats = sum(1 for row, master in enumerate(masters) if in_month[row] and scoped[row] and master != row)
    return {
        "requests": int(np.count_nonzero(in_month & scoped)),
        "repeats": repeats,
        "chains": chains,
        "unresolved": [ch for ch in chains if ch.unresolved],
        "escalate": {
            level: sum(1 for ch in chains if ch.escalate == level) for level in ("district", "city")
        },
    }


def test_month_repeats_match_their_definition(megacity: Megacity) -> None:
    """Demo months with chains that start before the month (inside and beyond the repeat
    window read with it), a district filter, and a month with no request at all."""
    load_demo(app=megacity, cases=generate(megacity.profile, count=600, months=4, seed=3))
    with megacity.uow(write=False) as uow:
        last = uow.connection.scalar(select(tickets.c.received_at).order_by(tickets.c.received_at.desc()))
    assert last is not None
    months = [f"{last - timedelta(days=31 * back):%Y-%m}" for back in range(3)]
    seen = 0
    for month in [*months, "2001-01"]:
        for district in (None, "110105", "110108"):
            found = month_repeats(megacity, month, district)
            assert found == _by_definition(megacity, month, district), (month, district)
            seen += len(found["chains"])
    assert seen > 0


def test_orders_read_in_bulk_are_the_orders_read_row_by_row(megacity: Megacity) -> None:
    """`read_orders_from` reads SQLite's instants as text and keeps text columns as lists; the
    result must be what typed SQLAlchemy rows turned into pyarrow columns give."""
    import pyarrow as pa

    from megacity.analytics.orders import COLUMNS as ORDER_COLUMNS
    from megacity.analytics.orders import orders_from_columns, read_orders_from

    load_demo(app=megacity, cases=generate(megacity.profile, count=150, months=2, seed=5))
    with megacity.uow(write=False) as uow:
        fast = read_orders_from(uow.connection, megacity.profile.timezone)
        rows = uow.connection.execute(
            select(*[tickets.c[n] for n in ORDER_COLUMNS]).order_by(tickets.c.received_at, tickets.c.id)
        ).all()
    columns = {n: pa.chunked_array([pa.array([r[i] for r in rows])]) for i, n in enumerate(ORDER_COLUMNS)}
    slow = orders_from_columns(columns, megacity.tz)
    assert len(fast) == 150 and np.isnan(fast.callbacks).any() and not np.isnan(fast.callbacks).all()
    for name in ("ids", "titles", "texts", "complainants", "streets", "categories", "units", "satisfaction"):
        assert getattr(fast, name) == getattr(slow, name), name
    for name in ("times", "callbacks", "resolved", "excluded", "disputes", "reopens", "overdue"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name), equal_nan=True), name
    assert fast.escalation == slow.escalation
