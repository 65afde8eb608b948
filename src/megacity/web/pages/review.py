"""审核: the review queues (disputes, exclusions, extensions, escalations) within the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.domain.lifecycle import Action
from megacity.web.api.requests import to_read
from megacity.web.deps import MegacityDep
from megacity.web.labels import N_
from megacity.web.pages import reads
from megacity.web.pages.actions import forms_for, unit_options
from megacity.web.pages.common import may_review, render_page
from megacity.web.session import page_requires

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


def queue_rows(app: Megacity, actor: Actor, queue: Queue) -> list[dict[str, Any]]:
    """The requests of one queue the actor may see, with the forms of the queue's actions."""
    district = actor.district_code if actor.role is Role.DISTRICT_REVIEWER else None
    rows = []
    for ticket in reads.review_queue(app, queue.key, district):
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
    queues = [
        {"key": q.key, "label": q.label, "rows": queue_rows(app, actor, q)}
        for q in QUEUES
        if actor.may_act(q.gate)
    ]
    context = {"queues": queues, "units": unit_options(app), "next": "/review"}
    return render_page(request, actor, "review.html", context)
