"""Compute derived indicators from the ticket table: one Ibis query per period, on DuckDB (SQLite
databases, read through SQLAlchemy into Arrow) or on PostgreSQL itself.

The tickets counted are those the monthly assessment counts (`assessment.expressions.scoped`:
received in the period, dispatched, not a consult, not merged), so the hotline resolution rate
of an indicator and of the assessment agree. Tickets are attributed to the org unit of their
location (`district_code`, `street_code`). The query returns counts per (district, street);
org units of every level are sums of those rows (the city: every ticket, located or not), and
each indicator is evaluated on the sums (`derived.Definition.value`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from sqlalchemy import inspect, select

from megacity.assessment.backends import EngineName, Opened, choose_engine, open_tickets
from megacity.assessment.errors import SourceError
from megacity.assessment.expressions import limits_table, scoped
from megacity.assessment.rules import default_limit_hours, month_windows, response_limit_hours
from megacity.domain.profile import Profile
from megacity.indicators.derived import COUNTS, Definition, Period
from megacity.indicators.errors import IndicatorError
from megacity.indicators.orgunits import CITY, OrgUnit
from megacity.store.database import engine_for
from megacity.store.tables import tickets as tickets_table

#: Columns of a derived-indicator result (long format, one row per org unit and indicator).
COLUMNS = (
    "period",
    "level",
    "ou_code",
    "ou_name",
    "indicator",
    "name",
    "numerator",
    "denominator",
    "value",
    "unit",
    "population_estimated",
    "demo_data",
    "status",
)


def count_tickets(database: str, profile: Profile, period: Period) -> pd.DataFrame:
    """Counts (`derived.COUNTS`) per (district_code, street_code) for the tickets of `period`."""
    windows = month_windows(period.months, profile.timezone)
    window = (windows[0].start, windows[-1].end)
    limits = response_limit_hours(profile)
    try:
        engine = choose_engine(None, database)
        with open_tickets(
            tickets=None, database=database, engine=engine, timezone=profile.timezone, window=window
        ) as opened:
            s = scoped(opened.tickets, windows, limits_table(limits), default_limit_hours(limits))
            extra = _location_columns(opened, database, window)
            joined = s.left_join(extra, s.id == extra.ticket_id)
            return _fetch(_count_expr(joined))
    except SourceError as exc:
        raise IndicatorError(str(exc)) from None


def _location_columns(opened: Opened, database: str, window: tuple[datetime, datetime]) -> ir.Table:
    """(ticket_id, street_code, source) of the window: the assessment's conformed table has no
    street, and a ticket's source says whether it is demo data."""
    if opened.engine is EngineName.POSTGRES:
        raw = opened.backend.table("tickets")
        raw = raw.filter(raw.received_at >= window[0], raw.received_at < window[1])
        return raw.select(ticket_id=raw.id, street=raw.street_code, origin=raw.source)
    c = tickets_table.c
    engine = engine_for(database)
    if not inspect(engine).has_table("tickets"):
        raise IndicatorError("the database has no tickets table: run `megacity init`")
    statement = select(c.id, c.street_code, c.source).where(
        c.received_at >= window[0], c.received_at < window[1]
    )
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    table = pa.table(
        {
            "ticket_id": pa.array([r[0] for r in rows], pa.string()),
            "street": pa.array([r[1] for r in rows], pa.string()),
            "origin": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    return ibis.memtable(table)


def _count_expr(t: ir.Table) -> ir.Table:
    kept = ~t.excl
    conditions: dict[str, ir.BooleanValue] = {
        "tickets": kept,
        "excluded": t.excl,
        "response_counted": kept & t.resp_counted,
        "response_on_time": kept & t.on_time,
        "rated": kept & t.is_rated,
        "resolved": kept & t.is_resolved,
        "satisfaction_rated": kept & t.is_sat_rated,
        "satisfied": kept & t.is_satisfied,
        "basically_satisfied": kept & t.is_basic,
        "dissatisfied": kept & (t.satisfaction == "dissatisfied").fill_null(False),
        "repeats": kept & t.repeat_of.notnull(),
        "demo": t.origin.fill_null("") == "demo",
    }
    assert tuple(conditions) == COUNTS
    metrics = {name: t.count(where=cond) for name, cond in conditions.items()}
    return t.group_by([t.district_code.name("district_code"), t.street.name("street_code")]).aggregate(
        **metrics
    )


def _fetch(expr: ir.Table) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = expr.to_pyarrow()
    frame = table.to_pandas()
    for name in COUNTS:
        frame[name] = frame[name].astype("int64")
    return frame


def unit_counts(counts: pd.DataFrame, unit: OrgUnit) -> dict[str, float]:
    """The counts of one org unit: the sum of its (district, street) rows."""
    if unit.level == CITY:
        part = counts
    elif unit.street is not None:
        part = counts[counts["street_code"] == unit.street]
    else:
        part = counts[counts["district_code"].isin(unit.districts)]
    return {name: float(part[name].sum()) for name in COUNTS}


def evaluate(
    counts: pd.DataFrame, units: Sequence[OrgUnit], definitions: Sequence[Definition], period: str
) -> pd.DataFrame:
    """One row per (org unit, indicator): numerator, denominator, value (NaN: no value)."""
    rows: list[dict[str, Any]] = []
    for unit in units:
        values: dict[str, float | None] = dict(unit_counts(counts, unit))
        values["population"] = unit.population
        values["area_km2"] = unit.area_km2
        for d in definitions:
            num, den, value = d.value(values)
            rows.append(
                {
                    "period": period,
                    "level": unit.level,
                    "ou_code": unit.code,
                    "ou_name": unit.name,
                    "indicator": d.code,
                    "name": d.name,
                    "numerator": num,
                    "denominator": den,
                    "value": value,
                    "unit": d.unit,
                    "population_estimated": unit.population_estimated
                    and "population" in d.denominator.names | d.numerator.names,
                    "demo_data": bool(values["demo"]),
                    "status": d.status,
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


@dataclass(frozen=True)
class DerivedRequest:
    """What to compute: periods, org units and indicators."""

    periods: Sequence[Period]
    units: Sequence[OrgUnit]
    definitions: Sequence[Definition]


def derive(database: str, profile: Profile, request: DerivedRequest) -> pd.DataFrame:
    """Derived indicators for every period and org unit of the request (long format)."""
    parts = [
        evaluate(count_tickets(database, profile, p), request.units, request.definitions, p.label)
        for p in request.periods
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(COLUMNS))


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """The long result as iData: uCode, uName, Time (the period), one column per indicator."""
    table = long.pivot(index=["ou_code", "ou_name", "period"], columns="indicator", values="value")
    order = list(dict.fromkeys(long["indicator"]))
    table = table.reindex(columns=order).reset_index()
    table.columns.name = None
    return table.rename(columns={"ou_code": "uCode", "ou_name": "uName", "period": "Time"})
