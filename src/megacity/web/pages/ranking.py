"""考核排名: a month's rankings, map, charts, focus list, explanations, trends and what-if weights."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from megacity.assessment.rules import Weights, parse_month
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.errors import DomainError
from megacity.services.revalidate import Pending
from megacity.web.deps import MegacityDep
from megacity.web.labels import N_
from megacity.web.pages import ranking_data as data
from megacity.web.pages.common import gettext_for, render_page, slow_results
from megacity.web.session import page_requires, permission

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(page_requires(permission(Permission.READ_ASSESSMENT), "the ranking"))]
MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]
CodeParam = Annotated[str | None, Query(max_length=32, pattern=r"^[0-9A-Za-z_.:-]+$")]


@router.get("/ranking", response_class=HTMLResponse)
def ranking(
    request: Request,
    app: MegacityDep,
    actor: Reader,
    month: MonthParam = None,
    unit: CodeParam = None,
    weights: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    """The month's ranking (published if it was); `unit` explains one unit, `weights` is a what-if.

    The engine runs in the background when it takes longer than the page may wait: the page then
    shows the newest earlier ranking, or says the figures are being computed.
    """
    try:
        with slow_results(app):
            return _ranking(request, app, actor, month, unit, weights)
    except Pending:
        return render_page(request, actor, "pending.html", {"heading": N_("Assessment ranking")})


def _ranking(
    request: Request, app: Megacity, actor: Actor, month: str | None, unit: str | None, weights: str | None
) -> HTMLResponse:
    _ = gettext_for(request)
    chosen = month or data.default_month(app)
    parse_month(chosen)  # 422 page for 2025-13
    code = unit or data.default_unit(actor)
    result = data.month_ranking(app, chosen)
    context: dict[str, Any] = {
        "month": chosen,
        "ranking": result,
        "chart": data.district_chart(result, app.profile),
        "unit_types": data.UNIT_TYPES,
        "type_labels": data.TYPE_LABELS,
        "focus_labels": data.FOCUS_LABELS,
        "reason_labels": data.REASON_LABELS,
        "focus_changes": data.FOCUS_CHANGES,
        "weights_text": weights if weights is not None else result.weights.as_text(),
        "default_weights": result.weights.as_text(),
        "min_rated": app.profile.assessment.min_rated_for_ranking,
        "what_if": None,
        "weights_error": None,
        "unit_error": None,
        "unit_pending": False,
        "what_if_pending": False,
    }
    context["unit"] = code
    context["unit_name"] = data.unit_name(app.profile, code) if code else None
    if code is not None and not data.may_explain(app.profile, actor, code):
        context["unit_error"] = _("Your role may see the explanation of its own unit or district only.")
    elif code is not None:
        try:  # each part comes from the background when slow, as the month's ranking does
            context["explanation"] = data.explanation(app, chosen, code)
            context["trend"] = data.trend(app, chosen, code)
        except Pending:
            context["unit_pending"] = True
        except DomainError as exc:
            context["unit_error"] = str(exc)
    if weights is not None:
        try:
            context["what_if"] = data.what_if(app, chosen, Weights.parse(weights))
        except Pending:
            context["what_if_pending"] = True
        except DomainError:
            context["weights_error"] = _(
                "Weights must be three non-negative numbers R,S,M (response, resolution, satisfaction), "
                "not all zero."
            )
    return render_page(request, actor, "ranking.html", context, 422 if context["weights_error"] else 200)
