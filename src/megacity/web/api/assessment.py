"""/api/assessment: monthly ranking, explanations, what-if, trends, publishing and corrections."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel

from megacity.assessment import service
from megacity.assessment.rules import FocusRule, Weights, parse_as_of, parse_month
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Role
from megacity.services.accounts import ForbiddenError
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/assessment",
    tags=["assessment"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Reader = Annotated[Actor, Depends(require(Permission.READ_ASSESSMENT))]
Publisher = Annotated[Actor, Depends(require(Permission.PUBLISH_ASSESSMENT))]

Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, a month of the profile's zone")]
UnitCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.:-]+$")]
AsOf = Annotated[
    str | None,
    Query(max_length=40, description="count only events at or before this ISO-8601 time"),
]
UNIT_TYPES = "district|street|devzone|department|company|district_gov|unknown"


class AssessmentRow(BaseModel):
    """One unit in one month; rates are fractions 0–1, null when their denominator is empty."""

    unit_code: str
    unit_name: str | None
    unit_type: str
    unit_subtype: str | None
    district_code: str | None
    month: str
    in_scope: int
    response_counted: int
    response_on_time: int
    rated: int
    resolved_count: int
    satisfaction_rated: int
    satisfied_count: int
    basically_satisfied_count: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    composite: float | None
    requests_per_10k: float | None
    population: int | None
    population_estimated: bool
    rank: int | None
    rank_in_subtype: int | None
    governance_focus: bool
    focus_change: str | None
    excluded: int
    composite_with_excluded: float | None
    composite_default: float | None = None
    rank_default: int | None = None
    rank_change: int | None = None
    governance_focus_default: bool | None = None


class FocusChanges(BaseModel):
    entered: list[str]
    stayed: list[str]
    left: list[str]


class Ranking(BaseModel):
    month: str
    published: bool
    published_at: datetime | None
    engine: str | None
    as_of: datetime | None
    weights: dict[str, float]
    focus: FocusChanges
    rows: list[AssessmentRow]


class Explanation(BaseModel):
    month: str
    unit_code: str
    row: AssessmentRow | None
    groups: list[dict[str, Any]]
    tickets: list[dict[str, Any]]


class WhatIf(BaseModel):
    month: str
    weights: dict[str, float]
    default_weights: dict[str, float]
    moved_up: int
    moved_down: int
    focus_entered: list[str]
    focus_left: list[str]
    rows: list[dict[str, Any]]


class Trend(BaseModel):
    unit_code: str
    unit_name: str | None
    unit_type: str | None
    month: str
    series: list[dict[str, Any]]
    month_over_month: dict[str, Any]
    year_to_date: dict[str, Any]


class Publication(BaseModel):
    month: str
    created: bool
    published_at: datetime
    published_by: str
    profile_version: str
    row_count: int
    checksum: str
    settings: dict[str, Any]
    corrections: list[dict[str, Any]]


def _weights(w: Weights) -> dict[str, float]:
    return {"response": w.response, "resolution": w.resolution, "satisfaction": w.satisfaction}


def _focus(rows: list[dict[str, Any]]) -> FocusChanges:
    def codes(change: str) -> list[str]:
        return sorted(str(r["unit_code"]) for r in rows if r.get("focus_change") == change)

    return FocusChanges(entered=codes("entered"), stayed=codes("stayed"), left=codes("left"))


def _check_scope(app: Megacity, actor: Actor, code: str) -> None:
    if actor.role is Role.UNIT_HANDLER and code != actor.unit_code:
        raise ForbiddenError(f"a unit handler sees the explanation of its own unit only, not {code}")
    if actor.role is Role.DISTRICT_REVIEWER:
        unit = app.profile.org.unit(code)
        district = code if code in app.profile.org.districts else (unit.district_code if unit else None)
        if district is None or district != actor.district_code:
            raise ForbiddenError(f"a district reviewer sees the units of its own district only, not {code}")


@router.get("/months/{month}", response_model=Ranking)
def month_ranking(
    app: MegacityDep,
    _: Reader,
    month: Month,
    unit_type: Annotated[str | None, Query(pattern=f"^({UNIT_TYPES})$")] = None,
    as_of: AsOf = None,
    focus_rule: FocusRule = FocusRule.COMPOSITE,
    live: Annotated[bool, Query(description="recompute even if the month was published")] = False,
) -> Ranking:
    """The month's ranking: as published if it was (frozen), else computed now."""
    index = parse_month(month)
    when = parse_as_of(as_of, app.profile.timezone)
    options = service.options_for(app, [index], as_of=when, focus_rule=focus_rule)
    frozen = None
    if not live and when is None and focus_rule is FocusRule.COMPOSITE:
        frozen = service.published(app, month)
    if frozen is not None:
        publication, rows, engine = frozen[0], frozen[1], str(frozen[0].settings.get("engine"))
    else:
        result = service.ranking(app, options)
        publication, rows, engine = None, result.rows, result.engine
    selected = [r for r in rows if unit_type is None or r["unit_type"] == unit_type]
    return Ranking(
        month=month,
        published=publication is not None,
        published_at=publication.published_at if publication else None,
        engine=engine,
        as_of=when,
        weights=_weights(options.weights),
        focus=_focus(rows),
        rows=[AssessmentRow.model_validate(r) for r in selected],
    )


@router.get("/months/{month}/units/{unit_code}/explanation", response_model=Explanation)
def unit_explanation(
    app: MegacityDep, actor: Reader, month: Month, unit_code: UnitCode, as_of: AsOf = None
) -> Explanation:
    """The tickets that cost the unit points in the month, grouped by reason and category.

    A unit handler sees only its own unit, a district reviewer only its district and its units.
    """
    _check_scope(app, actor, unit_code)
    when = parse_as_of(as_of, app.profile.timezone)
    options = service.options_for(app, [parse_month(month)], as_of=when)
    found = service.explanation(app, options, unit_code)
    row = found.rows[0] if found.rows else None
    return Explanation(
        month=month,
        unit_code=unit_code,
        row=AssessmentRow.model_validate(row) if row else None,
        groups=found.groups,
        tickets=found.tickets,
    )


@router.get("/months/{month}/what-if", response_model=WhatIf)
def what_if(
    app: MegacityDep,
    _: Reader,
    month: Month,
    weights: Annotated[str, Query(max_length=80, description="R,S,M: response,resolution,satisfaction")],
    as_of: AsOf = None,
) -> WhatIf:
    """The month ranked under other weights, with each unit's rank change (positive = moves up)."""
    when = parse_as_of(as_of, app.profile.timezone)
    options = service.options_for(app, [parse_month(month)], weights=Weights.parse(weights), as_of=when)
    result = service.what_if(app, options)
    return WhatIf(
        month=month,
        weights=_weights(result.weights),
        default_weights=_weights(result.default_weights),
        moved_up=result.moved_up,
        moved_down=result.moved_down,
        focus_entered=result.focus_entered,
        focus_left=result.focus_left,
        rows=result.rows,
    )


@router.get("/units/{unit_code}/trends", response_model=Trend)
def unit_trends(
    app: MegacityDep,
    _: Reader,
    unit_code: UnitCode,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="the last month of the series")],
) -> Trend:
    """12-month series ending at `month`, the change from the month before and the year to date."""
    parse_month(month)
    found = service.trend(app, unit_code, month)
    return Trend(
        unit_code=found.unit_code,
        unit_name=found.unit_name,
        unit_type=found.unit_type,
        month=found.month,
        series=found.series,
        month_over_month=found.month_over_month,
        year_to_date=found.year_to_date,
    )


@router.get("/months/{month}/cohandling", response_model=list[dict[str, Any]])
def cohandling(app: MegacityDep, _: Reader, month: Month) -> list[dict[str, Any]]:
    """Co-handled requests (吹哨报到) per lead unit and per co-handling unit; not part of the ranking."""
    return [dict(r) for r in service.cohandling(app, service.options_for(app, [parse_month(month)]))]


@router.post("/months/{month}/publish", response_model=Publication, status_code=status.HTTP_201_CREATED)
def publish(app: MegacityDep, actor: Publisher, month: Month, response: Response) -> Publication:
    """Freeze the month's ranking; if already published, record corrections for what changed since."""
    outcome = service.publish(app, month, actor.name)
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    p = outcome.publication
    return Publication(
        month=p.month,
        created=outcome.created,
        published_at=p.published_at,
        published_by=p.published_by,
        profile_version=p.profile_version,
        row_count=p.row_count,
        checksum=p.checksum,
        settings=p.settings,
        corrections=outcome.corrections,
    )


@router.get("/corrections", response_model=list[dict[str, Any]])
def corrections(
    app: MegacityDep,
    _: Reader,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> list[dict[str, Any]]:
    """Corrections recorded against published months (figures before and after), oldest first."""
    return service.corrections(app, month)
