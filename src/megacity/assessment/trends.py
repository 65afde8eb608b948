"""Trends of one unit: a 12-month series, the change from the month before and the year to date.

Year to date adds up the monthly counts from January to the month and forms the rates and the
composite from the sums (not an average of monthly composites); it has no rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from megacity.assessment.engine import Result
from megacity.assessment.rules import composite, month_label, parse_month, rate, round_for_ranking

SERIES_MONTHS = 12
SERIES_COLUMNS: tuple[str, ...] = (
    "month",
    "in_scope",
    "rated",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "rank",
    "governance_focus",
)
_SUMMED = (
    "in_scope",
    "response_counted",
    "response_on_time",
    "rated",
    "resolved_count",
    "satisfaction_rated",
    "satisfied_count",
    "basically_satisfied_count",
    "excluded",
)


@dataclass(frozen=True)
class Trend:
    unit_code: str
    unit_name: str | None
    unit_type: str | None
    month: str
    series: list[dict[str, Any]]  # 12 months ending at `month`; months without tickets have nulls
    month_over_month: dict[str, Any]
    year_to_date: dict[str, Any]


def series_months(month: str) -> list[int]:
    """The 12 month indexes ending at `month`.

    >>> [month_label(m) for m in series_months("2025-02")][:2]
    ['2024-03', '2024-04']
    """
    last = parse_month(month)
    return list(range(last - SERIES_MONTHS + 1, last + 1))


def _change(now: Any, before: Any) -> Any:
    return None if now is None or before is None else now - before


def trend(result: Result, unit_code: str, month: str) -> Trend:
    """The unit's trend from a result covering the 12 months ending at `month`."""
    rows = {r["month"]: r for r in result.rows if r["unit_code"] == unit_code}
    empty = dict.fromkeys(SERIES_COLUMNS)
    series = [
        {c: rows.get(month_label(m), empty).get(c) for c in SERIES_COLUMNS} | {"month": month_label(m)}
        for m in series_months(month)
    ]
    now, before = series[-1], series[-2]
    mom = {
        "composite_change": _change(now["composite"], before["composite"]),
        "rank_change": _change(before["rank"], now["rank"]),  # positive: moved up
        "in_scope_change": _change(now["in_scope"], before["in_scope"]),
    }
    latest = next((r for r in reversed(list(rows.values()))), None)
    return Trend(
        unit_code=unit_code,
        unit_name=latest["unit_name"] if latest else None,
        unit_type=latest["unit_type"] if latest else None,
        month=month,
        series=series,
        month_over_month=mom,
        year_to_date=year_to_date(result, [rows[m] for m in rows if m[:4] == month[:4] and m <= month]),
    )


def year_to_date(result: Result, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates and composite from the summed monthly counts."""
    sums = {k: sum(int(r[k] or 0) for r in rows) for k in _SUMMED}
    options = result.options
    satisfied = (
        sums["satisfied_count"] + options.basically_satisfied_weight * sums["basically_satisfied_count"]
    )
    rates = (
        rate(sums["response_on_time"], sums["response_counted"]),
        rate(sums["resolved_count"], sums["rated"]),
        rate(satisfied, sums["satisfaction_rated"]),
    )
    return {
        "months": len(rows),
        **sums,
        "response_rate": rates[0],
        "resolution_rate": rates[1],
        "satisfaction_rate": rates[2],
        "composite": round_for_ranking(composite(rates, options.weights)),
    }
