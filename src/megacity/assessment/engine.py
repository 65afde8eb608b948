"""Run the assessment: build the expression for a source and fetch the (small) result.

The months assessed are always computed together with the month before the first one, so that
`focus_change` can say who entered, stayed in or left the governance focus list.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from megacity.assessment.backends import EngineName, Opened, open_tickets
from megacity.assessment.expressions import counts, facts_table, limits_table, scoped
from megacity.assessment.ranking import ROW_COLUMNS, WHAT_IF_COLUMNS, assessed
from megacity.assessment.rules import (
    UNIT_TYPES,
    MonthWindow,
    Options,
    default_limit_hours,
    month_label,
    month_windows,
    response_limit_hours,
    unit_facts,
)
from megacity.domain.profile import Profile


@dataclass(frozen=True)
class Result:
    """Assessed unit-months in report order, with the columns they carry."""

    options: Options
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    engine: str

    def for_month(self, month: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["month"] == month]

    def find(self, month: str, code: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["month"] == month and r["unit_code"] == code), None)


def windows_for(options: Options, timezone: str) -> list[MonthWindow]:
    """Contiguous months from the one before the first assessed month to the last."""
    return month_windows(range(min(options.months) - 1, max(options.months) + 1), timezone)


def source_window(options: Options, timezone: str) -> tuple[datetime, datetime]:
    windows = windows_for(options, timezone)
    return windows[0].start, windows[-1].end


def scoped_tickets(tickets: ir.Table, profile: Profile, options: Options) -> ir.Table:
    """The per-ticket scope table of `expressions.scoped` for the options' months."""
    limits = response_limit_hours(profile)
    windows = windows_for(options, profile.timezone)
    return scoped(tickets, windows, limits_table(limits), default_limit_hours(limits), options.as_of)


def assessment_expr(tickets: ir.Table, profile: Profile, options: Options) -> ir.Table:
    """The whole assessment of `options.months` as one Ibis expression."""
    s = scoped_tickets(tickets, profile, options)
    return assessed(counts(s), facts_table(unit_facts(profile)), options)


def fetch(expr: ir.Table) -> list[dict[str, Any]]:
    """Execute on the expression's backend and return plain rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = expr.to_pyarrow()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def columns_of(options: Options) -> tuple[str, ...]:
    return ROW_COLUMNS + (WHAT_IF_COLUMNS if options.what_if else ())


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    unit_type = row["unit_type"]
    group = UNIT_TYPES.index(unit_type) if unit_type in UNIT_TYPES else len(UNIT_TYPES)
    rank = row["rank"]
    return (row["month"], group, rank is None, rank or 0, row["unit_code"])


def finish(raw: Sequence[dict[str, Any]], options: Options) -> list[dict[str, Any]]:
    """Month labels, report column order, report row order."""
    columns = columns_of(options)
    rows = []
    for r in raw:
        r = dict(r)
        r["month"] = month_label(int(r.pop("month_idx")))
        rows.append({c: r.get(c) for c in columns})
    return sorted(rows, key=_order)


def run(opened: Opened, profile: Profile, options: Options) -> Result:
    """Assess on an opened source."""
    rows = finish(fetch(assessment_expr(opened.tickets, profile, options)), options)
    return Result(options, columns_of(options), rows, opened.engine.value)


def assess(
    *,
    profile: Profile,
    options: Options,
    tickets: Path | None = None,
    database: str | None = None,
    engine: EngineName = EngineName.DUCKDB,
) -> Result:
    """Open the source on the engine, assess, close."""
    window = source_window(options, profile.timezone)
    with open_tickets(
        tickets=tickets, database=database, engine=engine, timezone=profile.timezone, window=window
    ) as opened:
        return run(opened, profile, options)
