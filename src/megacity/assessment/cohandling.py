"""Co-handled requests (吹哨报到, 条例 Art. 33): a separate table, never part of the ranking.

A ticket's co-handling units are stored in the operational database only (`tickets.cohandlers`,
a JSON list). For each month the report has one row per lead unit (the ticket's `unit_code`:
usually the street that "blew the whistle") and one per co-handling unit (the departments that
"reported for duty"), with the same counts and rates as the ranking, over the co-handled
tickets in scope only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy import String, cast, select

from megacity.assessment.engine import fetch, scoped_tickets
from megacity.assessment.expressions import COUNTS, composite_of, count_if, rates, round9
from megacity.assessment.rules import Options, month_label, unit_facts
from megacity.domain.profile import Profile
from megacity.store.database import engine_for
from megacity.store.tables import tickets as tickets_table

COLUMNS: tuple[str, ...] = (
    "month",
    "role",
    "unit_code",
    "unit_name",
    "unit_type",
    "requests",
    "rated",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
)


def cohandler_pairs(url: str, window: tuple[datetime, datetime]) -> pa.Table:
    """(ticket_id, cohandler) for the tickets received in `window` that have co-handlers."""
    column = tickets_table.c.cohandlers
    received = tickets_table.c.received_at
    statement = select(tickets_table.c.id, column).where(
        received >= window[0], received < window[1], cast(column, String) != "[]"
    )
    ids: list[str] = []
    units: list[str] = []
    with engine_for(url).connect() as conn:
        for ticket_id, cohandlers in conn.execute(statement):
            values = json.loads(cohandlers) if isinstance(cohandlers, str) else cohandlers
            for unit in values or []:
                ids.append(str(ticket_id))
                units.append(str(unit))
    return pa.table({"ticket_id": pa.array(ids, pa.string()), "cohandler": pa.array(units, pa.string())})


def _metrics(t: ir.Table) -> dict[str, ir.Scalar]:
    return {name: (t.count() if col is None else count_if(t[col])) for name, col in COUNTS.items()}


def cohandling_expr(s: ir.Table, pairs: ir.Table, options: Options) -> ir.Table:
    """Counts and rates per (month, role, unit) over co-handled tickets in scope."""
    t = s.filter(~s.excl, s.month_idx.isin(list(options.months)))
    joined = t.inner_join(pairs, t.id == pairs.ticket_id)
    led = t.semi_join(pairs, t.id == pairs.ticket_id)
    led = led.filter(led.unit_code.notnull())
    leads = (
        led.group_by(["month_idx", led.unit_code.cast("string").name("code")])
        .aggregate(**_metrics(led))
        .mutate(role=ibis.literal("lead"))
    )
    helpers = (
        joined.group_by(["month_idx", joined.cohandler.cast("string").name("code")])
        .aggregate(**_metrics(joined))
        .mutate(role=ibis.literal("cohandler"))
    )
    both = leads.union(helpers)
    r = rates(both, "", options.basically_satisfied_weight)
    return both.mutate(**r, composite=round9(composite_of(r, options.weights)))


def cohandling(
    tickets: ir.Table, profile: Profile, options: Options, pairs: pa.Table
) -> list[dict[str, Any]]:
    """The co-handling table of the options' months (empty without co-handled tickets)."""
    if pairs.num_rows == 0:
        return []
    s = scoped_tickets(tickets, profile, options)
    raw = fetch(cohandling_expr(s, ibis.memtable(pairs), options))
    facts = {f.code: f for f in unit_facts(profile) if f.kind == "unit"}
    rows = []
    for r in raw:
        fact = facts.get(r["code"])
        rows.append(
            {
                "month": month_label(int(r["month_idx"])),
                "role": r["role"],
                "unit_code": r["code"],
                "unit_name": fact.name if fact else None,
                "unit_type": fact.unit_type if fact else "unknown",
                "requests": int(r["in_scope"]),
                "rated": int(r["rated"]),
                "response_rate": r["response_rate"],
                "resolution_rate": r["resolution_rate"],
                "satisfaction_rate": r["satisfaction_rate"],
                "composite": r["composite"],
            }
        )
    return sorted(rows, key=lambda r: (r["month"], r["role"] != "lead", -r["requests"], r["unit_code"]))
