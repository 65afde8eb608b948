"""审核: the review queues (disputes, exclusions, extensions, escalations) within the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.domain.errors import DomainError
from megacity.domain.lifecycle import Action
from megacity.routing import queue
from megacity.services.accounts import ForbiddenError
from megacity.web.api.requests import to_read
from megacity.web.deps import MegacityDep
from megacity.web.labels import N_
from megacity.web.pages import reads
from megacity.web.pages.actions import forms_for, unit_options
from megacity.web.pages.common import error_text, gettext_for, may_review, render_page
from megacity.web.session import CsrfForm, PageActor, field, flash, page_requires

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Actor, Depends(page_requires(may_review, "the review queues"))]
A = Action


@dataclass(frozen=True)
class Queue:
    """A review queue: shown to roles that may perform `gate`; its rows offer `actions` (None: all)."""

    key: str
    label: str
    gate: Action
    actions: frozenset[Action] | None


QUEUES = (
    Queue(
        "disputes", N_("Disputed dispatches"), A.REJECT_DISPUTE, frozenset({A.REJECT_DISPUTE, A.REDISPATCH})
    ),
    Queue(
        "exclusions",
        N_("Exclusion requests: district review"),
        A.DISTRICT_APPROVE_EXCLUSION,
        frozenset({A.DISTRICT_APPROVE_EXCLUSION, A.REJECT_EXCLUSION}),
    ),
    Queue(
        "city_exclusions",
        N_("Exclusion requests: city review"),
        A.CITY_APPROVE_EXCLUSION,
        frozenset({A.CITY_APPROVE_EXCLUSION, A.REJECT_EXCLUSION}),
    ),
    Queue(
        "extensions",
        N_("Extension requests"),
        A.APPROVE_EXTENSION,
        frozenset({A.APPROVE_EXTENSION, A.REJECT_EXTENSION}),
    ),
    Queue("escalations", N_("Escalated requests"), A.ESCALATE, None),
)


#: Rows shown per queue, oldest first: every row carries its action forms, and a reviewer works
#: a queue from its oldest request, so a longer page only costs time (seconds at 1M requests).
QUEUE_PAGE = 50


def queue_rows(app: Megacity, actor: Actor, queue: Queue) -> list[dict[str, Any]]:
    """The oldest requests of one queue the actor may see, with the forms of the queue's actions."""
    district = actor.district_code if actor.role is Role.DISTRICT_REVIEWER else None
    rows = []
    for ticket in reads.review_queue(app, queue.key, district, limit=QUEUE_PAGE + 1):
        if not actor.sees(ticket):
            continue
        forms = [
            f for f in forms_for(actor, ticket) if queue.actions is None or Action(f.action) in queue.actions
        ]
        rows.append({"t": to_read(ticket, actor, app.tz), "forms": forms})
    return rows


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, app: MegacityDep, actor: Reviewer) -> HTMLResponse:
    """The queues this role works, each limited to the actor's scope."""
    queues = []
    for q in QUEUES:
        if actor.may_act(q.gate):
            rows = queue_rows(app, actor, q)
            queues.append(
                {"key": q.key, "label": q.label, "rows": rows[:QUEUE_PAGE], "more": len(rows) > QUEUE_PAGE}
            )
    waiting = dispatch_rows(app, actor) if actor.may_act(A.DISPATCH) else None
    context = {"queues": queues, "units": unit_options(app), "next": "/review", "waiting": waiting}
    return render_page(request, actor, "review.html", context)


def dispatch_rows(app: Megacity, actor: Actor) -> list[dict[str, Any]]:
    """The human dispatch queue (人工派单): waiting requests with the dispatcher's top 3 and why."""
    return [{"t": to_read(i.ticket, actor, app.tz), "item": i} for i in queue.waiting(app, limit=20)]


@router.post("/review/dispatch/{ticket_id}")
def decide(
    ticket_id: str, request: Request, app: MegacityDep, actor: PageActor, form: CsrfForm
) -> RedirectResponse:
    """A dispatcher's decision from the queue; a choice other than the first suggestion teaches the model."""
    if not actor.may_act(A.DISPATCH):
        raise ForbiddenError(f"role {actor.role.value} may not dispatch")
    _ = gettext_for(request)
    response = RedirectResponse("/review#q-dispatch", status_code=303)
    try:
        queue.decide(
            app=app,
            ticket_id=ticket_id,
            unit_code=field(form, "unit_code"),
            category_code=field(form, "category_code") or None,
            actor=actor.name,
            role=actor.role.value,
            reason=field(form, "reason"),
        )
    except DomainError as exc:
        flash(response, request, "error", error_text(_, exc))
    else:
        done = _("Done: %(action)s (%(id)s)") % {"action": _("dispatch"), "id": ticket_id}
        flash(response, request, "ok", done)
    return response
