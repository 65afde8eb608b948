"""指标监测: indicator tree, district radar, zone comparison, weak areas, plan progress and decomposition."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from megacity.assessment.rules import parse_month
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.indicators.model import IndicatorError
from megacity.services.revalidate import Pending
from megacity.web.deps import MegacityDep
from megacity.web.labels import N_
from megacity.web.pages import monitoring_data as data
from megacity.web.pages.common import gettext_for, render_page, slow_results
from megacity.web.pages.ranking_data import default_month
from megacity.web.session import page_requires, permission

router = APIRouter(include_in_schema=False)
Analyst = Annotated[
    Actor, Depends(page_requires(permission(Permission.READ_ANALYTICS), "indicator monitoring"))
]
PROGRESS_FIELDS = ("baseline_year", "baseline", "target_year", "target", "year", "actual")
#: The plan value the decomposition starts from: 市民服务热线诉求解决率 2023 (social-governance plan).
DEFAULT_CITY_TARGET = 93.0


def _number(text: str | None, name: str, errors: dict[str, str], message: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors[name] = message
        return None
    return value


def _progress(request: Request, errors: dict[str, str], message: str) -> dict[str, Any] | None:
    """The plan-progress form: all six numbers given → the status; some missing → nothing."""
    params = request.query_params
    values = {f: _number(params.get(f), f, errors, message) for f in PROGRESS_FIELDS}
    if any(v is None for v in values.values()):
        return None
    direction = -1 if params.get("direction") == "-1" else 1
    try:
        check = data.PlanCheck(
            baseline_year=int(values["baseline_year"] or 0),
            baseline=float(values["baseline"] or 0),
            target_year=int(values["target_year"] or 0),
            target=float(values["target"] or 0),
            year=int(values["year"] or 0),
            actual=float(values["actual"] or 0),
            direction=direction,
        )
        return data.progress(check)
    except IndicatorError as exc:
        errors["target_year"] = str(exc)
        return None


def _decomposition(
    app: Megacity, request: Request, panel: data.DistrictPanel, errors: dict[str, str], message: str
) -> dict[str, Any]:
    params = request.query_params
    city = _number(params.get("city_target"), "city_target", errors, message)
    targets = {}
    for code in app.profile.org.districts:
        value = _number(params.get(f"t_{code}"), f"t_{code}", errors, message)
        if value is not None:
            targets[code] = value
    return data.decomposition(panel, app.profile, city if city is not None else DEFAULT_CITY_TARGET, targets)


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring(
    request: Request,
    app: MegacityDep,
    actor: Analyst,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> HTMLResponse:
    """The indicator systems and the districts' hotline indicators of a month (the figures come
    from the assessment engine, computed in the background when slow, as on the ranking page)."""
    try:
        with slow_results(app):
            return _monitoring(request, app, actor, month, district)
    except Pending:
        return render_page(request, actor, "pending.html", {"heading": N_("Indicator monitoring")})


def _monitoring(
    request: Request, app: Megacity, actor: Actor, month: str | None, district: str | None
) -> HTMLResponse:
    _ = gettext_for(request)
    chosen = month or default_month(app)
    parse_month(chosen)
    panel = data.district_panel(app, chosen)
    focus = district or actor.district_code or min(app.profile.org.districts)
    if focus not in app.profile.org.districts:
        focus = min(app.profile.org.districts)
    errors: dict[str, str] = {}
    message = _("Enter a number.")
    latest = panel.latest()
    context = {
        "month": chosen,
        "district": focus,
        "districts": sorted(app.profile.org.districts.items()),
        "tree": data.indicator_tree(),
        "indicators": data.DISTRICT_INDICATORS,
        "radar": data.radar(panel, app.profile, focus, _),
        "zones": data.zone_table(panel, app.profile),
        "weak": data.weak(panel),
        "months": panel.months,
        "latest": {
            code: [None if math.isnan(v) else round(v, 2) for v in latest.loc[code]] for code in latest.index
        },
        "progress": _progress(request, errors, message),
        "decomposition": _decomposition(app, request, panel, errors, message),
        "form": dict(request.query_params),
        "errors": errors,
    }
    return render_page(request, actor, "monitoring.html", context, 422 if errors else 200)
