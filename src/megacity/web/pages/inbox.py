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
from megacity.web.pages.common import is_unit_handler, render_page, time_left
from megacity.web.session import page_requires

router = APIRouter(include_in_schema=False)
UnitHandler = Annotated[Actor, Depends(page_requires(is_unit_handler, "the unit inbox"))]


#: A request is "due soon" — and the inbox reminds the unit of it at the top — when at most this
#: much working time is left before its deadline: one working day.
REMIND_WITHIN_SECONDS = 86_400.0


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, app: MegacityDep, actor: UnitHandler) -> HTMLResponse:
    """The unit's open requests (lead or co-handler) with working time left and action forms,
    under a reminder of those overdue and those due within a working day."""
    tickets = [t for t in reads.inbox(app, actor.unit_code or "") if actor.sees(t)]
    rows = []
    for t in tickets:
        left = time_left(app, t.status, t.deadline_at)
        overdue = t.overdue or (left is not None and left.overdue)
        due_soon = not overdue and left is not None and left.seconds <= REMIND_WITHIN_SECONDS
        rows.append(
            {
                "t": to_read(t, actor, app.tz),
                "forms": forms_for(actor, t),
                "left": left,
                "overdue": overdue,
                "due_soon": due_soon,
            }
        )
    context = {
        "rows": rows,
        "overdue": [r for r in rows if r["overdue"]],
        "due_soon": [r for r in rows if r["due_soon"]],
        "units": unit_options(app),
        "next": "/inbox",
    }
    return render_page(request, actor, "inbox.html", context)
