"""/api/topics (每月一题: proposals, adoption, tracking, closing) and /api/replies/check (reply quality)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from megacity.analytics.replies import score_reply
from megacity.domain.access import Actor, Permission
from megacity.services import topics as service
from megacity.services.topics import Proposal
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(tags=["analytics"], responses=PROBLEM_RESPONSES, dependencies=[Depends(client_limited)])
Reader = Annotated[Actor, Depends(require(Permission.READ_ANALYTICS))]
Adopter = Annotated[Actor, Depends(require(Permission.ADOPT_TOPICS))]
Checker = Annotated[Actor, Depends(require(Permission.CHECK_REPLIES))]
MONTH = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"


class Proposals(BaseModel):
    month: str
    items: list[Proposal]  # the service's dataclass: pydantic validates and documents it as is


class AdoptBody(BaseModel):
    """A topic to adopt, usually a proposal's phrase, terms, streets and categories."""

    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=MONTH)
    title: str = Field(min_length=1, max_length=200)
    terms: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(min_length=1, max_length=20)
    street_codes: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=50)
    category_codes: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=20)
    heat: Annotated[float, Field(strict=True)] | None = None


class CloseBody(BaseModel):
    """Why the topic is closed: the problem is solved, or no longer a 每月一题 (audited)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=service.REASON_LIMIT)


class MonthlyTopic(BaseModel):
    id: int
    month: str
    title: str
    terms: list[str]
    street_codes: list[str]
    category_codes: list[str]
    heat: float | None
    status: str = Field(description="adopted, or closed once its problem is solved")
    adopted_at: datetime
    adopted_by: str
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None


class VolumePoint(BaseModel):
    month: str
    volume: int


class TrackedTopic(MonthlyTopic):
    series: list[VolumePoint]


class ReplyCheck(BaseModel):
    """A draft reply and the request it answers; times are optional (timeliness)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=200)
    request: str = Field(max_length=20000)
    reply: str = Field(max_length=20000)
    received_at: AwareDatetime | None = None
    replied_at: AwareDatetime | None = None

    @field_validator("received_at", "replied_at", mode="before")
    @classmethod
    def _iso_only(cls, value: object) -> object:
        """Only ISO 8601 strings: a bare number is not silently read as a Unix time."""
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string with an offset")
        return value


class ReplyScores(BaseModel):
    relevance: float
    completeness: float
    timeliness: float | None
    combined: float
    working_days: int | None
    elements: list[str]
    weak: bool
    reasons: list[str]


@router.get("/api/topics/proposals", response_model=Proposals)
def topic_proposals(
    app: MegacityDep,
    _: Reader,
    month: Annotated[str, Query(pattern=MONTH, description="YYYY-MM, a month of the profile's zone")],
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Proposals:
    """The month's hottest topics with representative requests (computed on demand)."""
    items = service.propose(app=app, month=month, top=top)
    return Proposals(month=month, items=items)


@router.post("/api/topics", response_model=MonthlyTopic, status_code=status.HTTP_201_CREATED)
def adopt_topic(app: MegacityDep, actor: Adopter, body: AdoptBody) -> dict[str, Any]:
    """Adopt a topic as one of the month's 每月一题 (audited); its volume is tracked from then on."""
    return service.adopt(
        app=app,
        month=body.month,
        title=body.title,
        terms=body.terms,
        street_codes=body.street_codes,
        category_codes=body.category_codes,
        heat=body.heat,
        actor=actor.name,
        role=actor.role.value,
    )


@router.post("/api/topics/{topic_id}/close", response_model=MonthlyTopic)
def close_topic(
    app: MegacityDep,
    actor: Adopter,
    topic_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: CloseBody,
) -> dict[str, Any]:
    """Close an adopted topic with a reason (audited); 409 when it is closed already."""
    return service.close(
        app=app, topic_id=topic_id, actor=actor.name, role=actor.role.value, reason=body.reason
    )


@router.get("/api/topics", response_model=list[MonthlyTopic])
def adopted_topics(app: MegacityDep, _: Reader) -> list[dict[str, Any]]:
    """Every adopted topic, open or closed (with who closed it, when and why), newest month first."""
    return service.list_topics(app=app)


@router.get("/api/topics/{topic_id}/volume", response_model=TrackedTopic)
def topic_volume(
    app: MegacityDep,
    _: Reader,
    topic_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    until: Annotated[str | None, Query(pattern=MONTH)] = None,
) -> dict[str, Any]:
    """The adopted topic's volume month by month, from its month up to `until` (default: now)."""
    return service.track(app=app, topic_id=topic_id, until=until)


@router.post("/api/replies/check", response_model=ReplyScores)
def check_reply(app: MegacityDep, _: Checker, body: ReplyCheck) -> dict[str, Any]:
    """Score a draft reply before it goes out: relevance, completeness, timeliness and reasons."""
    replied_at = body.replied_at or (app.clock() if body.received_at is not None else None)
    scored = score_reply(body.title, body.request, body.reply, body.received_at, replied_at, app.calendar)
    return vars(scored)
