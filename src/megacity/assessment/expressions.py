"""The assessment as Ibis expressions: one code path for DuckDB, PostgreSQL and Spark.

The pipeline, each step a function of the previous table:

1. `scoped` — the tickets in scope of the months (without the exclusion filter), one row each,
   with the month index and the per-ticket facts the rates need (as of a time, if given);
2. `counts` — one pass over `scoped` grouped by (month, handling unit, district), then rolled up
   to handling-unit rows and district rows; every count twice, without and with excluded tickets;
3. `assessed` — profile facts joined in, rates, composites, ranks, governance focus and its
   change from the previous month.

Rules are those of `rules.py`; the float operations run in a fixed order so the engines agree
to the bit, and ranking uses the composite rounded with `floor(x·10⁹ + 0.5) / 10⁹`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from megacity.assessment.rules import (
    RANK_DECIMALS,
    SATISFACTION_VALUES,
    MonthWindow,
    UnitFact,
    Weights,
)

UTC_TS = dt.Timestamp(timezone="UTC")
#: Columns the engine reads, with their types; the optional ones may be missing from a source.
TICKET_COLUMNS: dict[str, dt.DataType] = {
    "id": dt.string,
    "received_at": UTC_TS,
    "kind": dt.string,
    "urgency": dt.string,
    "district_code": dt.string,
    "unit_code": dt.string,
    "dispatched_at": UTC_TS,
    "contacted_at": UTC_TS,
    "resolved": dt.boolean,
    "satisfaction": dt.string,
    "excluded": dt.boolean,
    "status": dt.string,
    "repeat_of": dt.string,
    "callback_at": UTC_TS,
    "category_code": dt.string,
}
OPTIONAL_COLUMNS: frozenset[str] = frozenset({"status", "repeat_of", "callback_at", "category_code"})
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c in TICKET_COLUMNS if c not in OPTIONAL_COLUMNS)

#: Count name -> per-ticket condition column of `scoped` (None: every ticket).
COUNTS: dict[str, str | None] = {
    "in_scope": None,
    "response_counted": "resp_counted",
    "response_on_time": "on_time",
    "rated": "is_rated",
    "resolved_count": "is_resolved",
    "satisfaction_rated": "is_sat_rated",
    "satisfied_count": "is_satisfied",
    "basically_satisfied_count": "is_basic",
}


def conform(t: ir.Table) -> ir.Table:
    """The source's columns the engine needs, typed; missing optional columns become nulls."""
    values: dict[str, ir.Value] = {}
    for name, dtype in TICKET_COLUMNS.items():
        if name in t.columns:
            column = t[name]
            values[name] = column if _same_family(column.type(), dtype) else column.cast(dtype)
        else:
            values[name] = ibis.null(dtype)
    return t.select(**values)


def _same_family(have: dt.DataType, want: dt.DataType) -> bool:
    """Timestamps (any zone: Spark's are instants in its UTC session), strings and booleans as they are."""
    if want.is_timestamp():
        return bool(have.is_timestamp())
    return bool(have.is_string() if want.is_string() else have.is_boolean())


def limits_table(hours: dict[str, int]) -> ir.Table:
    """The response limit (hours) of each urgency, as a small in-memory table."""
    table = pa.table(
        {
            "limit_urgency": pa.array(list(hours), pa.string()),
            "limit_hours": pa.array([int(h) for h in hours.values()], pa.int64()),
        }
    )
    return ibis.memtable(table)


def facts_table(facts: Sequence[UnitFact]) -> ir.Table:
    """Names, ranking groups and populations of the profile's codes, as an in-memory table."""
    columns: dict[str, tuple[list[Any], pa.DataType]] = {
        "f_code": ([f.code for f in facts], pa.string()),
        "f_kind": ([f.kind for f in facts], pa.string()),
        "unit_name": ([f.name for f in facts], pa.string()),
        "f_type": ([f.unit_type for f in facts], pa.string()),
        "unit_subtype": ([f.subtype for f in facts], pa.string()),
        "f_district": ([f.district_code for f in facts], pa.string()),
        "population": ([f.population for f in facts], pa.int64()),
        "f_estimated": ([f.population_estimated for f in facts], pa.bool_()),
    }
    return ibis.memtable(
        pa.table({name: pa.array(values, dtype) for name, (values, dtype) in columns.items()})
    )


def _month_index(received: ir.TimestampValue, windows: Sequence[MonthWindow]) -> ir.IntegerValue:
    branches = [
        (received < ibis.literal(w.end, UTC_TS), ibis.literal(w.index, "int64")) for w in windows[:-1]
    ]
    last = ibis.literal(windows[-1].index, "int64")
    return cast(ir.IntegerValue, ibis.cases(*branches, else_=last) if branches else last)


def _before(value: ir.TimestampValue, as_of: datetime | None) -> ir.TimestampValue:
    """`value` if it happened at or before `as_of`, else null (an event after T is absent)."""
    if as_of is None:
        return value
    return cast(ir.TimestampValue, ibis.cases((value <= ibis.literal(as_of, UTC_TS), value)))


def _in_scope(t: ir.Table, windows: Sequence[MonthWindow], as_of: datetime | None) -> ir.Table:
    """Received in the months, dispatched, not a consult, not merged (exclusions still in)."""
    received, dispatched = t.received_at, t.dispatched_at
    conditions = [
        received >= ibis.literal(windows[0].start, UTC_TS),
        received < ibis.literal(windows[-1].end, UTC_TS),
        dispatched.notnull(),
        t.kind.fill_null("") != "consult",
        t.status.fill_null("") != "merged",
    ]
    if as_of is not None:
        conditions += [received <= ibis.literal(as_of, UTC_TS), dispatched <= ibis.literal(as_of, UTC_TS)]
    return t.filter(*conditions)


def scoped(
    t: ir.Table,
    windows: Sequence[MonthWindow],
    limits: ir.Table,
    default_hours: int,
    as_of: datetime | None = None,
) -> ir.Table:
    """Tickets in scope of the months, exclusions not yet applied, with their per-ticket facts."""
    t = _in_scope(t, windows, as_of)
    t = t.left_join(limits, t.urgency == limits.limit_urgency)
    hours = cast(ir.IntegerValue, t.limit_hours.fill_null(default_hours))
    deadline = t.dispatched_at + hours.as_interval("h")
    contacted = _before(t.contacted_at, as_of)
    rating_known = ibis.literal(True) if as_of is None else (t.callback_at <= ibis.literal(as_of, UTC_TS))
    resolved = ibis.cases((rating_known, t.resolved))
    satisfaction = ibis.cases((rating_known, t.satisfaction))
    pending = (
        ibis.literal(False)
        if as_of is None
        else contacted.isnull() & (deadline > ibis.literal(as_of, UTC_TS))
    )
    return t.select(
        id=t.id,
        month_idx=_month_index(t.received_at, windows),
        unit_code=t.unit_code,
        district_code=t.district_code,
        category_code=t.category_code,
        urgency=t.urgency,
        repeat_of=t.repeat_of,
        received_at=t.received_at,
        dispatched_at=t.dispatched_at,
        deadline=deadline,
        contacted_at=contacted,
        callback_at=t.callback_at,
        resolved=resolved,
        satisfaction=satisfaction,
        excl=t.excluded.fill_null(False),
        resp_counted=~pending.fill_null(False),
        on_time=(contacted.notnull() & (contacted <= deadline)).fill_null(False),
        is_rated=resolved.notnull(),
        is_resolved=resolved.fill_null(False),
        is_sat_rated=satisfaction.isin(SATISFACTION_VALUES).fill_null(False),
        is_satisfied=(satisfaction == "satisfied").fill_null(False),
        is_basic=(satisfaction == "basically_satisfied").fill_null(False),
    )


def count_if(condition: ir.BooleanValue) -> ir.IntegerScalar:
    return cast(ir.IntegerScalar, ibis.cases((condition, 1), else_=0).sum())


def counts(s: ir.Table) -> ir.Table:
    """Counts per (month, code, kind): handling-unit rows and district roll-up rows, one scan.

    The scan groups by (month, handling unit, district, excluded) and counts every condition
    once; the roll-ups add them up without and with the excluded tickets.
    """
    metrics = {name: (s.count() if col is None else s.count(where=s[col])) for name, col in COUNTS.items()}
    fine = s.group_by(["month_idx", "unit_code", "district_code", "excl"]).aggregate(**metrics)
    both = _rollup(fine, "unit_code", "unit").union(_rollup(fine, "district_code", "district"))
    return both.filter(both.in_scope > 0)


def _rollup(fine: ir.Table, key: str, kind: str) -> ir.Table:
    part = fine.filter(fine[key].notnull())
    sums: dict[str, ir.Scalar] = {"excluded": part.in_scope.sum(where=part.excl).fill_null(0)}
    for name in COUNTS:
        sums[name] = part[name].sum(where=~part.excl).fill_null(0)
        sums[f"{name}_all"] = part[name].sum()
    code = part[key].cast("string").name("code")
    return part.group_by(["month_idx", code]).aggregate(**sums).mutate(kind=ibis.literal(kind))


def _ratio(numerator: ir.NumericValue, denominator: ir.IntegerValue) -> ir.FloatingValue:
    return cast(ir.FloatingValue, numerator.cast("float64") / denominator.nullif(0).cast("float64"))


def round9(value: ir.FloatingValue) -> ir.FloatingValue:
    scale = float(10**RANK_DECIMALS)
    return cast(ir.FloatingValue, (value * scale + 0.5).floor().cast("float64") / scale)


def rates(t: ir.Table, suffix: str, basically_satisfied_weight: float) -> dict[str, ir.FloatingValue]:
    """Response, resolution and satisfaction rates of the counts named with `suffix` ('' or '_all')."""
    satisfied = t[f"satisfied_count{suffix}"].cast("float64") + basically_satisfied_weight * t[
        f"basically_satisfied_count{suffix}"
    ].cast("float64")
    return {
        "response_rate": _ratio(t[f"response_on_time{suffix}"], t[f"response_counted{suffix}"]),
        "resolution_rate": _ratio(t[f"resolved_count{suffix}"], t[f"rated{suffix}"]),
        "satisfaction_rate": _ratio(satisfied, t[f"satisfaction_rated{suffix}"]),
    }


def composite_of(r: dict[str, ir.FloatingValue], w: Weights) -> ir.FloatingValue:
    """``100 × ((wr·response + ws·resolution) + wm·satisfaction)``, null when a rate is null."""
    weighted = (w.response * r["response_rate"] + w.resolution * r["resolution_rate"]) + (
        w.satisfaction * r["satisfaction_rate"]
    )
    return cast(ir.FloatingValue, 100.0 * weighted)
