"""/api/indicators: derived indicators from the ticket data and their analysis (strengths and
weaknesses, weak areas, functional-zone comparison, covariates, trend and CAGR).

Every endpoint reads aggregates only (no personal data) and needs READ_ANALYTICS. Values are
computed on request from the live ticket table; results of demo tickets say `demo_data: true`.
Bad input is 422 problem+json.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.errors import ValidationError
from megacity.indicators import panel as panels
from megacity.indicators import service
from megacity.indicators.derived import Period, month_periods, parse_period
from megacity.indicators.errors import IndicatorError
from megacity.indicators.orgunits import covariates, zones
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/indicators",
    tags=["indicators"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Reader = Annotated[Actor, Depends(require(Permission.READ_ANALYTICS))]
MAX_MONTHS = 24

PeriodQ = Annotated[str, Query(max_length=10, description="YYYY, YYYYQn or YYYY-MM")]
MonthsQ = Annotated[str, Query(max_length=15, description=f"YYYY-MM:YYYY-MM, at most {MAX_MONTHS} months")]
LevelQ = Annotated[str, Query(max_length=40, description="city, zone:<scheme>, district or street")]
CodeQ = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:\-\u4e00-\u9fff]+$")]


class Definition(BaseModel):
    code: str
    name: str
    name_en: str
    numerator: str
    denominator: str
    factor: float
    unit: str
    direction: int
    plan_indicator: str | None
    status: str


class DerivedRow(BaseModel):
    """One org unit and indicator in one period; value null when the denominator is 0."""

    period: str
    level: str
    ou_code: str
    ou_name: str
    indicator: str
    name: str
    numerator: float | None
    denominator: float | None
    value: float | None
    unit: str
    population_estimated: bool
    demo_data: bool
    status: str


@contextmanager
def _user_errors() -> Iterator[None]:
    """An IndicatorError is the caller's bad input: 422 problem+json."""
    try:
        yield
    except IndicatorError as exc:
        raise ValidationError(str(exc)) from None


def _months(text: str) -> list[Period]:
    first, sep, last = text.partition(":")
    if not sep:
        raise IndicatorError(f"months is YYYY-MM:YYYY-MM, got {text!r}")
    found = month_periods(first, last)
    if len(found) > MAX_MONTHS:
        raise IndicatorError(f"at most {MAX_MONTHS} months at a time")
    return found


def _panel(app: Megacity, periods: list[Period], level: str = "district") -> pd.DataFrame:
    folder = service.profile_dir(app.settings.profile)
    return service.derived_panel(app.settings.database_url, app.profile, folder, periods, level=level)


def _directions(app: Megacity) -> dict[str, int]:
    return service.directions(service.definitions(service.profile_dir(app.settings.profile)))


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


@router.get("/derived/definitions", response_model=list[Definition])
def definitions(app: MegacityDep, _: Reader) -> list[Definition]:
    """The profile's derived indicators, each with the provenance of its formula."""
    with _user_errors():
        defs = service.definitions(service.profile_dir(app.settings.profile))
    return [
        Definition(
            code=d.code,
            name=d.name,
            name_en=d.name_en,
            numerator=d.numerator.text,
            denominator=d.denominator.text,
            factor=d.factor,
            unit=d.unit,
            direction=d.direction,
            plan_indicator=d.plan_indicator,
            status=d.status,
        )
        for d in defs
    ]


@router.get("/derived", response_model=list[DerivedRow])
def derived(
    app: MegacityDep,
    _: Reader,
    period: PeriodQ,
    level: LevelQ = "district",
    indicator: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> list[DerivedRow]:
    """Derived indicators of one period for every org unit of a level."""
    with _user_errors():
        folder = service.profile_dir(app.settings.profile)
        table = service.derived(
            app.settings.database_url,
            app.profile,
            folder,
            [parse_period(period)],
            level=level,
            codes=indicator,
        )
    return [DerivedRow.model_validate({k: _clean(v) for k, v in r.items()}) for r in table.to_dict("records")]


@router.get("/strengths")
def strengths(
    app: MegacityDep,
    _: Reader,
    unit: CodeQ,
    period: PeriodQ,
    level: LevelQ = "district",
    k: Annotated[int, Query(ge=1, le=20)] = 3,
) -> dict[str, Any]:
    """The unit's strongest and weakest indicators in the period (ranks among its level)."""
    with _user_errors():
        table = _panel(app, [parse_period(period)], level)
        return panels.strengths(table, unit, period=period, k=k, directions=_directions(app))


@router.get("/weak-areas")
def weak_areas(
    app: MegacityDep,
    _: Reader,
    indicator: CodeQ,
    months: MonthsQ,
    threshold: float | None = None,
    bottom_k: Annotated[int | None, Query(ge=1)] = None,
    consecutive: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = 1,
    level: LevelQ = "district",
) -> dict[str, Any]:
    """Units below a threshold (or in the bottom k) for `consecutive` months up to the last one."""
    with _user_errors():
        direction = _directions(app).get(indicator, 1)
        table = _panel(app, _months(months), level)
        return panels.weak_areas(
            table,
            indicator,
            threshold=threshold,
            bottom_k=bottom_k,
            consecutive=consecutive,
            direction=direction,
        )


@router.get("/zones")
def zone_comparison(
    app: MegacityDep,
    _: Reader,
    scheme: CodeQ,
    period: PeriodQ,
    indicator: Annotated[list[str] | None, Query(max_length=20)] = None,
    standard: Annotated[list[str] | None, Query(max_length=50, description="ZONE:INDICATOR=VALUE")] = None,
) -> dict[str, Any]:
    """Districts grouped by the zones of a scheme; each zone against its own standard."""
    with _user_errors():
        groups = zones(app.profile, scheme)
        standards = panels.parse_standards(standard or [])
        table = _panel(app, [parse_period(period)])
        chosen, result = panels.compare_zones(
            table, groups, period=period, codes=indicator, standards=standards, directions=_directions(app)
        )
    rows = [{k: _clean(v) for k, v in r.items()} for r in result.to_dict("records")]
    return {"scheme": scheme, "period": chosen, "rows": rows}


@router.get("/covariates")
def covariate_correlation(
    app: MegacityDep,
    _: Reader,
    indicator: CodeQ,
    period: PeriodQ,
    covariate: Annotated[str, Query(pattern=r"^(population|area_km2|gdp_100m_yuan|density)$")] = "population",
) -> dict[str, Any]:
    """Correlation across districts of an indicator with a district covariate of the profile."""
    with _user_errors():
        table = _panel(app, [parse_period(period)])
        facts = covariates(app.profile, service.profile_dir(app.settings.profile))
        return panels.covariate(table, facts, indicator, covariate, period=period)


@router.get("/trend")
def trend(
    app: MegacityDep, _: Reader, unit: CodeQ, indicator: CodeQ, months: MonthsQ, level: LevelQ = "district"
) -> dict[str, Any]:
    """The unit's monthly series of an indicator, its slope per year and its CAGR."""
    with _user_errors():
        return panels.trend(_panel(app, _months(months), level), unit, indicator)
