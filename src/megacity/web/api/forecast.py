"""GET /api/analysis/forecast: weekly volume forecasts and band alerts (未诉先办) from the database.

The same computation as `megacity analyse forecast` (docs/forecasts.md), over the tickets table.
A district reviewer sees the series of their own district only. The route is a plain `def`, so
FastAPI runs the model fits in its thread pool instead of blocking the event loop.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from megacity.analytics.forecast_cli import parse_by
from megacity.analytics.forecast_report import forecast_table
from megacity.analytics.tables import TableError
from megacity.analytics.weekly import VolumeTable, read_volume, series_keys, weekly_counts
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Role
from megacity.domain.errors import ValidationError
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/analysis",
    tags=["analysis"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Analyst = Annotated[Actor, Depends(require(Permission.READ_ANALYTICS))]


class Week(BaseModel):
    """A monitored week (`actual` set, `alert` above/below/empty) or a forecast week (`actual` null)."""

    week: date
    actual: float | None
    forecast: float
    lower: float
    upper: float
    alert: str


class Series(BaseModel):
    key: dict[str, str]
    method: str
    weeks: list[Week]


class ForecastAnswer(BaseModel):
    dimensions: list[str]
    history_weeks: int
    last_week: date | None
    coverage: float
    series: list[Series]
    alerts: int


@router.get("/forecast", response_model=ForecastAnswer)
def forecast(
    app: MegacityDep,
    actor: Analyst,
    by: Annotated[str, Query(max_length=40, description="category, district, category,district or total")] = (
        "category,district"
    ),
    category_level: Annotated[int, Query(ge=1, le=3)] = 1,
    horizon: Annotated[int, Query(ge=1, le=52)] = 8,
    monitor: Annotated[int, Query(ge=0, le=26)] = 4,
    coverage: Annotated[float, Query(ge=0.5, le=0.999)] = 0.95,
    min_total: Annotated[float, Query(ge=0)] = 52.0,
) -> ForecastAnswer:
    """Recent weeks against the forecast band, then `horizon` weeks ahead, per series."""
    try:
        dimensions = parse_by(by)
    except ValueError as exc:
        raise ValidationError(str(exc), field="by") from None
    scoped = actor.role is Role.DISTRICT_REVIEWER
    wanted = tuple(dict.fromkeys((*dimensions, "district"))) if scoped else dimensions
    try:
        table = read_volume(wanted, engine=app.engine, timezone=app.profile.timezone)
    except TableError as exc:
        raise ValidationError(str(exc)) from None
    if scoped:
        table = _only_district(table, actor.district_code)
    weekly = weekly_counts(table.times, series_keys(table, dimensions, category_level), dimensions, app.tz)
    rows = forecast_table(
        weekly.keys,
        weekly.weeks,
        weekly.counts,
        horizon=horizon,
        monitor=monitor,
        level=coverage,
        min_total=min_total,
    )
    series: dict[tuple[str, ...], Series] = {}
    for row in rows:
        entry = series.setdefault(
            row.key, Series(key=dict(zip(dimensions, row.key, strict=True)), method="", weeks=[])
        )
        entry.method = row.method
        entry.weeks.append(Week(**{name: getattr(row, name) for name in Week.model_fields}))
    return ForecastAnswer(
        dimensions=list(dimensions),
        history_weeks=len(weekly.weeks),
        last_week=weekly.weeks[-1] if weekly.weeks else None,
        coverage=coverage,
        series=list(series.values()),
        alerts=sum(1 for s in series.values() for w in s.weeks if w.alert),
    )


def _only_district(table: VolumeTable, district: str | None) -> VolumeTable:
    keep = np.array([code == district for code in table.codes["district"]], dtype=bool)
    codes = {
        name: [v for v, k in zip(values, keep, strict=True) if k] for name, values in table.codes.items()
    }
    return VolumeTable(times=table.times[keep], codes=codes)
