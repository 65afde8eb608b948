"""Data of the 考核排名 page, shaped for tables and charts; reusable by the monthly report.

Everything comes from `megacity.assessment.service` (the same engine runs as the API): this
module only selects, groups and reshapes rows, so the page, the API and a report built from
these functions always agree. No web framework is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from megacity.assessment import service
from megacity.assessment.rules import Weights, month_label, parse_month
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.domain.profile import Profile
from megacity.services import queries
from megacity.web.labels import N_

#: Unit types in the order the page lists their tables (as the result file orders them), with titles.
TYPE_LABELS: dict[str, str] = {
    "district": N_("Districts (area roll-up)"),
    "street": N_("Streets, towns and townships"),
    "devzone": N_("Development zones"),
    "department": N_("City departments"),
    "company": N_("Public service companies"),
    "district_gov": N_("District departments"),
}
UNIT_TYPES: tuple[str, ...] = tuple(TYPE_LABELS)
FOCUS_LABELS: dict[str, str] = {
    "entered": N_("Entered the list"),
    "stayed": N_("Stayed on the list"),
    "left": N_("Left the list"),
}
FOCUS_CHANGES: tuple[str, ...] = tuple(FOCUS_LABELS)
#: Why a request cost points (`assessment.explain` reasons).
REASON_LABELS: dict[str, str] = {
    "late_contact": N_("Contacted late"),
    "not_contacted": N_("Not contacted"),
    "unresolved": N_("Not resolved"),
    "dissatisfied": N_("Dissatisfied"),
    "basically_satisfied": N_("Basically satisfied"),
}


@dataclass(frozen=True)
class MonthRanking:
    """One month's ranking: rows grouped by unit type, focus list changes and chart series."""

    month: str
    published: bool
    published_at: datetime | None
    engine: str | None
    weights: Weights
    rows: list[dict[str, Any]]
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    focus: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def districts(self) -> list[dict[str, Any]]:
        return self.by_type.get("district", [])

    def find(self, code: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["unit_code"] == code), None)


def current_month(app: Megacity) -> str:
    """The month the clock is in, in the profile's zone (the month being worked on)."""
    return app.clock().astimezone(app.tz).strftime("%Y-%m")


def default_month(app: Megacity) -> str:
    """The month the ranking, monitoring and analysis pages open on.

    The clock's month, unless no request has come in since it began (the first hours of a new
    month, or a demo history that ended earlier): then the month of the newest request, so that
    whoever opens 考核排名 sees figures rather than an empty month. Never a month after the clock's.
    """
    current = current_month(app)
    newest = queries.newest_received(app=app)
    if newest is None:
        return current
    return min(current, newest.astimezone(app.tz).strftime("%Y-%m"))


def previous_months(month: str, count: int) -> list[str]:
    """`count` months ending at `month`, oldest first.

    >>> previous_months("2025-01", 3)
    ['2024-11', '2024-12', '2025-01']
    """
    last = parse_month(month)
    return [month_label(i) for i in range(last - count + 1, last + 1)]


def _rank_key(row: dict[str, Any]) -> tuple[int, int, str]:
    rank = row.get("rank")
    return (rank is None, rank or 0, str(row["unit_code"]))


def month_ranking(app: Megacity, month: str) -> MonthRanking:
    """The month as published (frozen) if it was, else computed with the profile's weights."""
    options = service.options_for(app, [parse_month(month)])
    frozen = service.published(app, month)
    result = service.ranking(app, options) if frozen is None else None
    if frozen is not None:
        publication, rows = frozen
        published_at: datetime | None = publication.published_at
        engine: str | None = str(publication.settings.get("engine"))
    else:
        assert result is not None
        rows, published_at, engine = result.for_month(month), None, result.engine
    by_type = {t: sorted((r for r in rows if r["unit_type"] == t), key=_rank_key) for t in UNIT_TYPES}
    focus = {
        change: sorted(
            (r for r in rows if r.get("focus_change") == change), key=lambda r: str(r["unit_code"])
        )
        for change in FOCUS_CHANGES
    }
    return MonthRanking(
        month=month,
        published=frozen is not None,
        published_at=published_at,
        engine=engine,
        weights=options.weights,
        rows=list(rows),
        by_type={t: r for t, r in by_type.items() if r},
        focus=focus,
    )


def _number(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def district_chart(ranking: MonthRanking, profile: Profile) -> dict[str, Any]:
    """Bar chart and choropleth map of the districts' composites (names as in the geojson)."""
    rows = {r["unit_code"]: r for r in ranking.districts()}
    codes = sorted(profile.org.districts, key=lambda c: _rank_key(rows.get(c) or {"unit_code": c}))
    return {
        "labels": [profile.org.districts[c].name for c in codes],
        "codes": codes,
        "values": [_number((rows.get(c) or {}).get("composite")) for c in codes],
        "in_scope": [int((rows.get(c) or {}).get("in_scope") or 0) for c in codes],
        "map": [
            {"name": profile.org.districts[c].name, "code": c, "value": _number(rows[c]["composite"])}
            for c in codes
            if c in rows and rows[c].get("composite") is not None
        ],
    }


def may_explain(profile: Profile, actor: Actor, code: str) -> bool:
    """The API's rule: a unit handler sees its own unit only, a district reviewer its district."""
    if actor.role is Role.UNIT_HANDLER:
        return code == actor.unit_code
    if actor.role is Role.DISTRICT_REVIEWER:
        unit = profile.org.unit(code)
        district = code if code in profile.org.districts else (unit.district_code if unit else None)
        return district is not None and district == actor.district_code
    return True


def default_unit(actor: Actor) -> str | None:
    """The unit explained when none is asked for: a unit handler's own unit, a district
    reviewer's district; others choose one (each explanation costs two engine runs)."""
    if actor.role is Role.UNIT_HANDLER and actor.unit_code:
        return actor.unit_code
    if actor.role is Role.DISTRICT_REVIEWER and actor.district_code:
        return actor.district_code
    return None


def explanation(app: Megacity, month: str, code: str) -> dict[str, Any]:
    """The tickets that cost `code` points in the month, grouped by reason and category."""
    options = service.options_for(app, [parse_month(month)])
    found = service.explanation(app, options, code)
    groups = sorted(found.groups, key=lambda g: -float(g.get("points_lost") or 0))
    return {
        "row": found.rows[0] if found.rows else None,
        "groups": groups,
        "tickets": sorted(found.tickets, key=lambda t: -float(t.get("points_lost") or 0))[:50],
        "ticket_count": len(found.tickets),
        "points_lost": round(sum(float(g.get("points_lost") or 0) for g in groups), 4),
    }


def trend(app: Megacity, month: str, code: str) -> dict[str, Any]:
    """A unit's 12 months ending at `month`, as series for a line chart, and its year to date."""
    found = service.trend(app, code, month)
    return {
        "labels": [p["month"] for p in found.series],
        "values": [_number(p["composite"]) for p in found.series],
        "in_scope": [p["in_scope"] for p in found.series],
        "rank": [p["rank"] for p in found.series],
        "month_over_month": found.month_over_month,
        "year_to_date": found.year_to_date,
    }


def what_if(app: Megacity, month: str, weights: Weights, limit: int = 30) -> dict[str, Any]:
    """The month under other weights: who moves most, and the focus list changes."""
    options = service.options_for(app, [parse_month(month)], weights=weights)
    result = service.what_if(app, options)
    moved = [r for r in result.rows if r["rank_change"]]
    moved.sort(key=lambda r: (-abs(int(r["rank_change"])), str(r["unit_type"]), str(r["unit_code"])))
    return {
        "weights": result.weights,
        "moved_up": result.moved_up,
        "moved_down": result.moved_down,
        "focus_entered": result.focus_entered,
        "focus_left": result.focus_left,
        "focus_entered_names": [unit_name(app.profile, c) for c in result.focus_entered],
        "focus_left_names": [unit_name(app.profile, c) for c in result.focus_left],
        "rows": moved[:limit],
    }


def unit_name(profile: Profile, code: str) -> str:
    """The profile's name of a district or handling unit (the code when unknown)."""
    district = profile.org.districts.get(code)
    unit = profile.org.unit(code)
    return district.name if district else unit.name if unit else code
