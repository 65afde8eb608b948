"""Gather one month's report: every figure comes from the assessment engine or the ticket table.

The rankings, rates and governance-focus list are the engine's rows (`assessment.service`),
never recomputed here, so the report always agrees with `megacity assess` and the API. City
figures add up the district rows' counts and form rates from the sums, as the engine's
year-to-date does (`trends.year_to_date`): a rate of sums, not a mean of rates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from megacity.assessment import service
from megacity.assessment.engine import Result
from megacity.assessment.rules import DISTRICT, STREET, month_label, month_windows, parse_month
from megacity.assessment.trends import series_months, year_to_date
from megacity.bootstrap import Megacity
from megacity.domain.errors import ValidationError
from megacity.store.tables import tickets

#: How many categories the report lists, and how many streets at the top and bottom.
TOP_CATEGORIES = 10
STREETS_SHOWN = 10
RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


@dataclass(frozen=True)
class CityFigures:
    """The city's month: requests received (all kinds) and the assessed rates of the districts."""

    month: str
    requests: int
    in_scope: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    composite: float | None


@dataclass(frozen=True)
class CategoryCount:
    """Requests of one second-level category this month and the month before."""

    code: str
    name: str
    parent: str
    count: int
    previous: int

    @property
    def change(self) -> float | None:
        return (self.count - self.previous) / self.previous if self.previous else None


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    previous_month: str
    city: CityFigures
    city_previous: CityFigures
    trend: list[CityFigures]  # 12 months ending at `month`
    districts: list[dict[str, Any]]  # engine rows, by rank (unranked last), with `previous_rank`
    streets_top: list[dict[str, Any]]
    streets_bottom: list[dict[str, Any]]
    streets_ranked: int
    streets_unranked: int  # streets with requests in scope but too few rated ones to rank
    min_rated: int  # the profile's threshold behind `streets_unranked`
    focus: dict[str, list[dict[str, Any]]]  # entered / stayed / left
    categories: list[CategoryCount]
    engine: str


def _requests_by_category(app: Megacity, index: int) -> Counter[str]:
    window = month_windows([index], app.profile.timezone)[0]
    query = (
        select(tickets.c.category_code, func.count())
        .where(tickets.c.received_at >= window.start, tickets.c.received_at < window.end)
        .group_by(tickets.c.category_code)
    )
    with app.engine.connect() as conn:
        return Counter({str(code or ""): int(n) for code, n in conn.execute(query)})


def _second_level(app: Megacity, code: str) -> tuple[str, str, str]:
    """(code, name, top-level name) of the category's second level; the leaf's own if shallower."""
    path = app.profile.catalogue.path(code) if code else []
    if not path:
        return "", "未分类", ""
    node = path[1] if len(path) > 1 else path[0]
    return node.code, node.name, path[0].name


def _categories(app: Megacity, now: Counter[str], before: Counter[str]) -> list[CategoryCount]:
    totals: dict[str, list[int]] = {}
    names: dict[str, tuple[str, str]] = {}
    for position, counts in enumerate((now, before)):
        for code, n in counts.items():
            key, name, parent = _second_level(app, code)
            totals.setdefault(key, [0, 0])[position] += n
            names[key] = (name, parent)
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_CATEGORIES]
    return [CategoryCount(k, names[k][0], names[k][1], v[0], v[1]) for k, v in ordered]


def _city(result: Result, month: str, requests: int) -> CityFigures:
    rows = [r for r in result.for_month(month) if r["unit_type"] == DISTRICT]
    sums = year_to_date(result, rows)
    return CityFigures(
        month=month,
        requests=requests,
        in_scope=int(sums["in_scope"]),
        response_rate=sums["response_rate"],
        resolution_rate=sums["resolution_rate"],
        satisfaction_rate=sums["satisfaction_rate"],
        composite=sums["composite"] if rows else None,
    )


def _ranked(rows: list[dict[str, Any]], unit_type: str, *, unranked: bool = False) -> list[dict[str, Any]]:
    """The unit type's rows by rank; with `unranked`, also those too small to rank, at the end."""
    chosen = [r for r in rows if r["unit_type"] == unit_type and (unranked or r["rank"] is not None)]
    return sorted(chosen, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["unit_code"]))


def build(app: Megacity, month: str) -> MonthlyReport:
    """The report of `month` (YYYY-MM); `ValidationError` for a bad month or one without requests."""
    index = parse_month(month)
    month = month_label(index)
    previous = month_label(index - 1)
    counts_now = _requests_by_category(app, index)
    if not counts_now:
        raise ValidationError(f"no requests were received in {month}: nothing to report", field="month")
    counts_before = _requests_by_category(app, index - 1)
    result = service.ranking(app, service.options_for(app, series_months(month)))
    rows = result.for_month(month)
    previous_rank = {r["unit_code"]: r["rank"] for r in result.for_month(previous)}
    districts = [
        r | {"previous_rank": previous_rank.get(r["unit_code"])}
        for r in _ranked(rows, DISTRICT, unranked=True)
    ]
    streets = _ranked(rows, STREET)
    focus = {
        change: sorted(
            (r for r in rows if r["focus_change"] == change),
            key=lambda r: (r["composite"] or 0, r["unit_code"]),
        )
        for change in ("entered", "stayed", "left")
    }
    known = {month: counts_now, previous: counts_before}
    trend = [
        _city(result, label, sum((known.get(label) or _requests_by_category(app, m)).values()))
        for m in series_months(month)
        for label in (month_label(m),)
    ]
    return MonthlyReport(
        month=month,
        previous_month=previous,
        city=trend[-1],
        city_previous=trend[-2],
        trend=trend,
        districts=districts,
        streets_top=streets[:STREETS_SHOWN],
        streets_bottom=streets[-STREETS_SHOWN:][::-1] if len(streets) > STREETS_SHOWN else [],
        streets_ranked=len(streets),
        streets_unranked=sum(1 for r in rows if r["unit_type"] == STREET and r["rank"] is None),
        min_rated=app.profile.assessment.min_rated_for_ranking,
        focus=focus,
        categories=_categories(app, counts_now, counts_before),
        engine=result.engine,
    )
