"""API schemas: `TicketCreate` in, `TicketRead`/`TicketPage` out, one body per lifecycle action."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from megacity.domain.enums import (
    CallbackOutcome,
    Channel,
    EscalationLevel,
    Kind,
    Satisfaction,
    SpecialCase,
    Urgency,
)
from megacity.domain.lifecycle import Action

Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.:-]+$")]
Reason = Annotated[str, StringConstraints(max_length=2000)]
Required = Annotated[str, StringConstraints(min_length=2, max_length=2000, strip_whitespace=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Strict):
    """A new request as an operator or a client submits it."""

    channel: Channel
    kind: Kind
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True)]
    urgency: Urgency | None = None
    name: Annotated[str, StringConstraints(max_length=50, strip_whitespace=True)] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{5,20}$")] | None = None
    address: Annotated[str, StringConstraints(max_length=300)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    district_code: Code | None = None
    street_code: Code | None = None
    category_code: Code | None = None
    received_at: AwareDatetime | None = None
    auto_dispatch: bool = Field(False, description="dispatch at once when the dispatcher is confident")


class ContactRead(BaseModel):
    """The complainant's contact details, masked unless the role may see them."""

    name: str | None
    phone: str | None
    masked: bool


class TicketRead(BaseModel):
    id: str
    received_at: datetime
    channel: str
    kind: str
    urgency: str
    title: str
    text: str
    complainant_id: str | None
    address: str | None
    lon: float | None
    lat: float | None
    district_code: str | None
    street_code: str | None
    category_code: str | None
    unit_code: str | None
    dispatched_at: datetime | None
    deadline_at: datetime | None
    deadline_provisional: bool
    contacted_at: datetime | None
    replied_at: datetime | None
    callback_at: datetime | None
    resolved: bool | None
    satisfaction: str | None
    excluded: bool
    status: str
    repeat_of: str | None
    special_case: str | None
    exclusion_state: str
    extension_state: str
    escalation: str
    cohandlers: list[str]
    overdue: bool
    source: str
    flags: list[str]
    allowed_actions: list[str]
    contact: ContactRead | None = None


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class EventRead(BaseModel):
    seq: int
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    role: str
    at: datetime
    reason: str
    payload: dict[str, Any]


class AttachmentRead(BaseModel):
    id: str
    purpose: str
    filename: str
    content_type: str
    size: int
    sha256: str


# ---- one body per action -------------------------------------------------------------


class NoteBody(Strict):
    reason: Reason = ""


class RequiredReasonBody(Strict):
    reason: Required


class DisposeBody(Strict):
    case: SpecialCase
    reason: Reason = ""


class DispatchBody(Strict):
    unit_code: Code | None = Field(None, description="omit to use the dispatcher's suggestion")
    category_code: Code | None = None
    reason: Reason = ""


class RedispatchBody(Strict):
    unit_code: Code
    category_code: Code | None = None
    reason: Reason = ""


class CallbackBody(Strict):
    outcome: CallbackOutcome = CallbackOutcome.RATED
    resolved: bool | None = None
    satisfaction: Satisfaction | None = None
    reason: Reason = ""


class ExtensionBody(Strict):
    days: Annotated[int, Field(ge=1, le=60)] = Field(description="working days added to the deadline")
    reason: Required


class EscalateBody(Strict):
    level: EscalationLevel
    reason: Required


class CohandlerBody(Strict):
    unit_code: Code
    reason: Reason = ""


class ExclusionBody(Strict):
    evidence: Annotated[list[Code], Field(min_length=1, max_length=20)] = Field(
        description="ids of uploaded evidence attachments"
    )
    reason: Required


class MergeBody(Strict):
    master_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reason: Reason = ""


#: Body model and URL segment of every action the API exposes (mark_overdue is the sweep's).
ACTION_BODIES: dict[Action, type[Strict]] = {
    Action.ANSWER: RequiredReasonBody,
    Action.DISPOSE: DisposeBody,
    Action.DISPATCH: DispatchBody,
    Action.ACCEPT: NoteBody,
    Action.DISPUTE: RequiredReasonBody,
    Action.REJECT_DISPUTE: RequiredReasonBody,
    Action.REDISPATCH: RedispatchBody,
    Action.CONTACT: NoteBody,
    Action.REPLY: RequiredReasonBody,
    Action.CALLBACK: CallbackBody,
    Action.REOPEN: NoteBody,
    Action.CLOSE: NoteBody,
    Action.REQUEST_EXTENSION: ExtensionBody,
    Action.APPROVE_EXTENSION: NoteBody,
    Action.REJECT_EXTENSION: RequiredReasonBody,
    Action.ESCALATE: EscalateBody,
    Action.ADD_COHANDLER: CohandlerBody,
    Action.REQUEST_EXCLUSION: ExclusionBody,
    Action.DISTRICT_APPROVE_EXCLUSION: NoteBody,
    Action.CITY_APPROVE_EXCLUSION: NoteBody,
    Action.REJECT_EXCLUSION: RequiredReasonBody,
    Action.MERGE: MergeBody,
}
