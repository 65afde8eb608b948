"""The report as one self-contained HTML page: inline CSS, charts as data-URI SVG, no scripts.

The same page is the `html` output and WeasyPrint's input for the PDF, so the two never drift.
User-facing strings are `_()` calls in this module (where `make messages` extracts them), not in
the template, which only lays them out.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from megacity.report.charts import all_charts
from megacity.report.data import MonthlyReport
from megacity.report.fonts import find_cjk_font

Gettext = Callable[[str], str]


def gettext_for(language: str) -> Gettext:
    """The Babel catalogue's gettext for `language` (zh_CN or en)."""
    from megacity.web.i18n import translations

    return translations(language).gettext


def labels(_: Gettext) -> dict[str, str]:
    """Every fixed string of the page, translated."""
    return {
        "title": _("12345 hotline monthly report"),
        "summary": _("Summary"),
        "figure": _("Figure"),
        "this_month": _("This month"),
        "previous": _("Previous month"),
        "change": _("Change"),
        "requests": _("Requests received"),
        "in_scope": _("Requests assessed"),
        "response_rate": _("Response rate"),
        "resolution_rate": _("Resolution rate"),
        "satisfaction_rate": _("Satisfaction rate"),
        "composite": _("Composite score"),
        "districts": _("District ranking"),
        "rank": _("Rank"),
        "unit": _("Unit"),
        "code": _("Code"),
        "rank_change": _("Rank change"),
        "map": _("Map of the districts"),
        "trend": _("Trend"),
        "streets": _("Streets and towns"),
        "streets_top": _("Top streets and towns"),
        "streets_bottom": _("Bottom streets and towns"),
        "streets_ranked": _("Streets and towns ranked"),
        "streets_unranked": _(
            "Not ranked: %(count)s streets and towns with fewer than %(n)s rated requests this month."
        ),
        "focus": _("Governance focus list"),
        "entered": _("Entered the list"),
        "stayed": _("Stayed on the list"),
        "left": _("Left the list"),
        "none": _("none"),
        "categories": _("Top categories"),
        "category": _("Category"),
        "parent": _("Top-level category"),
        "points": _("pp"),
        "method": _(
            "Rankings, rates and the governance focus list are the assessment engine's (engine: "
            "%(engine)s); city rates are formed from the districts' summed counts. Requests received "
            "count every kind, consultations included; assessed requests exclude consultations, "
            "undispatched, merged and excluded requests."
        ),
        "generated": _("Generated %(at)s"),
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _points(now: float | None, before: float | None, unit: str) -> str:
    if now is None or before is None:
        return "—"
    return f"{round((now - before) * 100, 1) + 0.0:+.1f} {unit}"  # + 0.0: no "-0.0" for a tiny fall


def _relative(now: int, before: int) -> str:
    return "—" if not before else f"{(now - before) / before * 100:+.1f}%"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _rank_change(row: dict[str, Any]) -> str:
    before, now = row.get("previous_rank"), row.get("rank")
    return "—" if before is None or now is None else f"{before - now:+d}"


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def summary_rows(report: MonthlyReport, text: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(figure, this month, previous month, change) for the summary table."""
    now, before = report.city, report.city_previous
    rows = [
        (
            text["requests"],
            f"{now.requests:,}",
            f"{before.requests:,}",
            _relative(now.requests, before.requests),
        ),
        (
            text["in_scope"],
            f"{now.in_scope:,}",
            f"{before.in_scope:,}",
            _relative(now.in_scope, before.in_scope),
        ),
    ]
    for key in ("response_rate", "resolution_rate", "satisfaction_rate"):
        a, b = getattr(now, key), getattr(before, key)
        rows.append((text[key], _pct(a), _pct(b), _points(a, b, text["points"])))
    change = (
        "—"
        if now.composite is None or before.composite is None
        else f"{now.composite - before.composite:+.2f}"
    )
    rows.append((text["composite"], _score(now.composite), _score(before.composite), change))
    return rows


def render_html(report: MonthlyReport, *, city: str, language: str, generated: datetime) -> str:
    """The whole report page."""
    _ = gettext_for(language)
    text = labels(_)
    env = Environment(loader=PackageLoader("megacity.report", "templates"), autoescape=select_autoescape())
    env.filters.update(pct=_pct, score=_score, rank_change=_rank_change)
    charts = {name: _data_uri(svg) for name, svg in all_charts(report, _).items()}
    return env.get_template("report.html").render(
        r=report,
        t=text,
        city=city,
        lang="zh-CN" if language == "zh_CN" else language,
        font=find_cjk_font().family,
        charts=charts,
        summary=summary_rows(report, text),
        method=text["method"] % {"engine": report.engine},
        generated=text["generated"] % {"at": generated.strftime("%Y-%m-%d %H:%M")},
    )
