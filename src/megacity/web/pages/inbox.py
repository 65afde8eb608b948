"""我的待办: a handling unit's open requests, the nearest deadline first, with their actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from megacity.domain.access import Actor
from megacity.web.api.requests import to_read
from megacity.web.deps import MegacityDep
from megacity.web.pages import reads
from megacity.web.pages.actions import forms_for, unit_options
from megacity.web.pages.common import is_unit_handler, render_page
from megacity.web.session import page_requires

router = APIRouter(include_in_schema=False)
UnitHandler = Annotated[Actor, Depends(page_requires(is_unit_handler, "the unit inbox"))]


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, app: MegacityDep, actor: UnitHandler) -> HTMLResponse:
    """The unit's open requests (lead or co-handler) with working time left and action forms."""
    tickets = [t for t in reads.inbox(app, actor.unit_code or "") if actor.sees(t)]
    rows = [
        {"t": to_read(t, actor, app.tz), "forms": forms_for(actor, t), "overdue": t.overdue} for t in tickets
    ]
    context = {
        "rows": rows,
        "units": unit_options(app),
        "next": "/inbox",
    }
    return render_page(request, actor, "inbox.html", context)
