"""/api/dispatch: the human dispatch queue (top-3 suggestions and why) and dispute statistics."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from megacity.domain.access import Actor, Permission
from megacity.domain.lifecycle import Action
from megacity.domain.privacy import mask_text
from megacity.routing import disputes, queue
from megacity.services.accounts import ForbiddenError
from megacity.web.api.requests import to_read
from megacity.web.api.schemas import Code, Reason, Strict, TicketRead
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/dispatch",
    tags=["dispatch"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Reader = Annotated[Actor, Depends(require(Permission.READ_REQUESTS))]
Analyst = Annotated[Actor, Depends(require(Permission.READ_ANALYTICS))]
TicketId = Annotated[str, Path(min_length=1, max_length=64)]


def _dispatcher(actor: Actor) -> Actor:
    """Only roles that may dispatch see the queue (the centre's dispatchers, operators, admins)."""
    if not actor.may_act(Action.DISPATCH):
        raise ForbiddenError(f"role {actor.role.value} may not dispatch")
    return actor


class OptionRead(BaseModel):
    unit_code: str
    unit_name: str
    category_code: str | None
    category_name: str | None
    confidence: float


class QueueItemRead(BaseModel):
    """A request waiting for a person to dispatch it; texts masked unless the role may see them."""

    ticket_id: str
    received_at: datetime
    title: str
    text: str
    address: str | None
    district_code: str | None
    category_code: str | None
    suggestions: list[OptionRead]
    confidence: float
    reason: str
    queued_reason: str | None
    model_version: str


class DecisionBody(Strict):
    unit_code: Code
    category_code: Code | None = None
    reason: Reason = ""


class DisputeRowRead(BaseModel):
    code: str
    name: str
    dispatched: int
    disputed: int
    rate: float
    redispatched: int
    rejected: int


class DisputeStatsRead(BaseModel):
    dispatched: int
    disputed: int
    rate: float
    by_category: list[DisputeRowRead]
    by_unit: list[DisputeRowRead]


@router.get("/queue", response_model=list[QueueItemRead])
def dispatch_queue(
    app: MegacityDep, actor: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[QueueItemRead]:
    """Requests waiting for a human dispatch decision, oldest first, with the top-3 suggestions."""
    _dispatcher(actor)
    masked = not actor.sees_personal_data
    out = []
    for item in queue.waiting(app, limit=limit):
        t = item.ticket
        out.append(
            QueueItemRead(
                ticket_id=t.id,
                received_at=t.received_at.astimezone(app.tz),
                title=mask_text(t.title) if masked else t.title,
                text=mask_text(t.text) if masked else t.text,
                address=t.address,
                district_code=t.district_code,
                category_code=t.category_code,
                suggestions=[OptionRead(**o.__dict__) for o in item.options],
                confidence=round(item.confidence, 4),
                reason=item.reason,
                queued_reason=item.queued_reason,
                model_version=item.model_version,
            )
        )
    return out


@router.post("/queue/{ticket_id}", response_model=TicketRead)
def decide(ticket_id: TicketId, body: DecisionBody, app: MegacityDep, actor: Reader) -> TicketRead:
    """Dispatch a waiting request to the unit a person chose (a correction teaches the model)."""
    _dispatcher(actor)
    ticket = queue.decide(
        app=app,
        ticket_id=ticket_id,
        unit_code=body.unit_code,
        category_code=body.category_code,
        actor=actor.name,
        role=actor.role.value,
        reason=body.reason,
    )
    return to_read(ticket, actor, app.tz)


@router.get("/disputes", response_model=DisputeStatsRead)
def dispute_statistics(app: MegacityDep, actor: Analyst) -> DisputeStatsRead:
    """Dispatches, disputes (派单异议) and review outcomes per category and unit, most disputed first."""
    stats = disputes.dispute_stats(app)

    def rows(items: list[disputes.DisputeRow]) -> list[DisputeRowRead]:
        return [DisputeRowRead(**r.__dict__, rate=round(r.rate, 4)) for r in items]

    return DisputeStatsRead(
        dispatched=stats.dispatched,
        disputed=stats.disputed,
        rate=round(stats.disputed / stats.dispatched, 4) if stats.dispatched else 0.0,
        by_category=rows(stats.by_category),
        by_unit=rows(stats.by_unit),
    )
