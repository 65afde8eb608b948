"""分析: analytics of a month as a list of sections — repeats, 重点诉求人, 每月一题, 异常工单, 未诉先办.

Each section is a `Section`: a key (the anchor), a title, a partial template under
`templates/analysis/`, a builder returning that template's data and, optionally, the permission
a role needs to see it (the key complainants need `read_key_complainants`). To add one, write a
builder `(app, actor, month) -> dict`, a partial template that reads `data`, and append a
`Section` to `SECTIONS`; the page, its table of contents and the tests of every section pick it
up. A builder that fails is logged and its section shows a short notice: one broken analysis
must not take the others down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from megacity.assessment.rules import parse_month
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Role
from megacity.domain.privacy import mask_text
from megacity.web.deps import MegacityDep
from megacity.web.i18n import negotiate
from megacity.web.labels import N_
from megacity.web.pages import repeats_data
from megacity.web.pages.analysis_sections import (
    abnormal_section,
    complainants_section,
    forecast_section,
    topics_section,
)
from megacity.web.pages.common import render_page, slow_results
from megacity.web.pages.ranking_data import default_month
from megacity.web.pages.section_cache import Pending, cached
from megacity.web.session import page_requires, permission

router = APIRouter(include_in_schema=False)
Analyst = Annotated[Actor, Depends(page_requires(permission(Permission.READ_ANALYTICS), "the analysis"))]
Builder = Callable[[Megacity, Actor, str], dict[str, Any]]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """One analysis shown on the page."""

    key: str
    title: str
    template: str
    build: Builder
    permission: Permission | None = None  # needed on top of read_analytics, if any

    def visible_to(self, actor: Actor) -> bool:
        return self.permission is None or actor.may(self.permission)


def scope_district(actor: Actor) -> str | None:
    """A district reviewer analyses its own district only."""
    return actor.district_code if actor.role is Role.DISTRICT_REVIEWER else None


def repeats_section(app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
    """Repeat chains active in the month; titles masked for roles without personal data."""
    district = scope_district(actor)
    found = cached(
        app, "repeats", month, lambda: repeats_data.month_repeats(app, month, district), district or ""
    )

    def shown(chain: repeats_data.Chain) -> dict[str, Any]:
        title = chain.title if actor.sees_personal_data else mask_text(chain.title)
        return {
            "master": chain.master,
            "latest": chain.latest,
            "size": chain.size,
            "first_at": datetime.fromtimestamp(chain.first_at, UTC),
            "last_at": datetime.fromtimestamp(chain.last_at, UTC),
            "district_code": chain.district_code,
            "title": title[:60],
            "unresolved": chain.unresolved,
            "escalate": chain.escalate,
        }

    return {
        "requests": found["requests"],
        "repeats": found["repeats"],
        "chain_count": len(found["chains"]),
        "escalate": found["escalate"],
        "chains": [shown(ch) for ch in found["chains"][:20]],
        "unresolved": [shown(ch) for ch in found["unresolved"][:20]],
        "unresolved_count": len(found["unresolved"]),
    }


SECTIONS: tuple[Section, ...] = (
    Section("repeats", N_("Repeat requests"), "analysis/repeats.html", repeats_section),
    Section(
        "complainants",
        N_("Key complainants"),
        "analysis/complainants.html",
        complainants_section,
        Permission.READ_KEY_COMPLAINANTS,
    ),
    Section("topics", N_("Topic of the month"), "analysis/topics.html", topics_section),
    Section("abnormal", N_("Abnormal orders"), "analysis/abnormal.html", abnormal_section),
    Section("forecast", N_("Forecasts"), "analysis/forecast.html", forecast_section),
)


def build_section(section: Section, app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
    """The section for the page; on failure its data is None and the error is logged; while
    its analysis is still being computed for the first time, `pending` is set."""
    pending = False
    try:
        data: dict[str, Any] | None = section.build(app, actor, month)
    except Pending:
        data, pending = None, True
    except Exception:  # any failure of one analysis: the other sections still render
        log.exception("analysis section %s failed for %s", section.key, month)
        data = None
    return {
        "key": section.key,
        "title": section.title,
        "template": section.template,
        "data": data,
        "pending": pending,
    }


@router.get("/analysis", response_class=HTMLResponse)
def analysis(
    request: Request,
    app: MegacityDep,
    actor: Analyst,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> HTMLResponse:
    """Every section for the month, in the order of `SECTIONS`."""
    chosen = month or default_month(app)
    parse_month(chosen)
    with slow_results(app):
        sections = [build_section(s, app, actor, chosen) for s in SECTIONS if s.visible_to(actor)]
        context = {
            "month": chosen,
            "sections": sections,
            "district": scope_district(actor),
            "language": negotiate(request, app.settings.default_language),
        }
        return render_page(request, actor, "analysis.html", context)
