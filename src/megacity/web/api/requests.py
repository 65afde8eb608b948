"""/api/requests: create, read, list, act, history and attachments of citizen requests."""

from datetime import datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, UploadFile, status

from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Role, Status
from megacity.domain.errors import NotFoundError, ValidationError
from megacity.domain.lifecycle import Action, allowed_actions
from megacity.domain.privacy import mask_name, mask_phone, mask_text
from megacity.domain.tickets import Ticket
from megacity.services import attachments, handling, intake, queries
from megacity.services.accounts import ForbiddenError
from megacity.store.repositories import TicketFilter
from megacity.web.api.schemas import (
    ACTION_BODIES,
    AttachmentRead,
    ContactRead,
    EventRead,
    Strict,
    TicketCreate,
    TicketPage,
    TicketRead,
)
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/requests",
    tags=["requests"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Reader = Annotated[Actor, Depends(require(Permission.READ_REQUESTS))]
Creator = Annotated[Actor, Depends(require(Permission.CREATE_REQUEST))]
Attacher = Annotated[Actor, Depends(require(Permission.ATTACH_FILES))]


ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"


def _instant(name: str, value: str | None) -> datetime | None:
    """An ISO-8601 instant with offset; anything else is a field error."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"{name} is not an ISO-8601 time: {value!r}", field=name) from exc
    if parsed.tzinfo is None:
        raise ValidationError(f"{name} needs a timezone offset", field=name)
    return parsed


def visible_ticket(app: MegacityDep, actor: Actor, ticket_id: str) -> Ticket:
    """A request the actor may see; others look like requests that do not exist."""
    ticket = queries.get_ticket(app=app, ticket_id=ticket_id)
    if not actor.sees(ticket):
        raise NotFoundError(f"no request with id '{ticket_id}'")
    return ticket


def to_read(
    ticket: Ticket, actor: Actor, tz: tzinfo, contact: dict[str, str | None] | None = None
) -> TicketRead:
    """Render a ticket for `actor` with times in the city's zone, masking personal data unless allowed."""
    data: dict[str, Any] = {
        name: getattr(ticket, name) for name in TicketRead.model_fields if hasattr(ticket, name)
    }
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = value.astimezone(tz)
    if not actor.sees_personal_data:
        data["title"], data["text"] = mask_text(ticket.title), mask_text(ticket.text)
    data["allowed_actions"] = [a.value for a in allowed_actions(ticket) if a in ACTION_BODIES]
    if contact is not None:
        masked = not actor.sees_personal_data
        data["contact"] = ContactRead(
            name=mask_name(contact["name"]) if masked else contact["name"],
            phone=mask_phone(contact["phone"]) if masked else contact["phone"],
            masked=masked,
        )
    return TicketRead.model_validate(data)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketRead,
    responses={
        200: {"model": TicketRead, "description": "A retry: the request first made with this Idempotency-Key"}
    },
)
def create_request(
    ticket_in: TicketCreate,
    app: MegacityDep,
    actor: Creator,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> TicketRead:
    """Record a new request; a retry with the same Idempotency-Key returns the first result."""
    fields = ticket_in.model_dump(exclude={"auto_dispatch"})
    ticket, created = intake.submit(
        app=app,
        request=intake.NewRequest(**fields),
        actor=actor.name,
        role=actor.role.value,
        idempotency_key=idempotency_key,
        auto_dispatch=ticket_in.auto_dispatch,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/requests/{ticket.id}"
    return to_read(ticket, actor, app.tz)


@router.get("", response_model=TicketPage)
def list_requests(
    app: MegacityDep,
    actor: Reader,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    district_code: Annotated[str | None, Query(max_length=32)] = None,
    street_code: Annotated[str | None, Query(max_length=32)] = None,
    unit_code: Annotated[str | None, Query(max_length=32)] = None,
    category_code: Annotated[str | None, Query(max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    received_from: Annotated[str | None, Query(max_length=40, pattern=ISO_INSTANT)] = None,
    received_to: Annotated[str | None, Query(max_length=40, pattern=ISO_INSTANT)] = None,
    overdue: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
) -> TicketPage:
    """List requests, newest first, with filters and cursor pagination."""
    received = {
        name: _instant(name, value)
        for name, value in (("received_from", received_from), ("received_to", received_to))
    }
    # a unit lists its own requests, a district reviewer those of its district
    if actor.role is Role.UNIT_HANDLER:
        if unit_code not in (None, actor.unit_code):
            raise ForbiddenError("a handling unit lists only its own requests")
        unit_code = actor.unit_code
    if actor.role is Role.DISTRICT_REVIEWER:
        if district_code not in (None, actor.district_code):
            raise ForbiddenError("a district reviewer lists only its district's requests")
        district_code = actor.district_code
    flt = TicketFilter(
        status=[s.value for s in status_ or []],
        district_code=district_code,
        street_code=street_code,
        unit_code=unit_code,
        category_code=category_code,
        kind=kind,
        received_from=received["received_from"],
        received_to=received["received_to"],
        overdue=overdue,
    )
    page = queries.list_tickets(app=app, flt=flt, cursor=cursor, limit=limit)
    return TicketPage(items=[to_read(t, actor, app.tz) for t in page.items], next_cursor=page.next_cursor)


@router.get("/{ticket_id}", response_model=TicketRead)
def get_request(ticket_id: str, app: MegacityDep, actor: Reader) -> TicketRead:
    """One request with its contact details: unmasked (and audited) only for roles that call back."""
    ticket = visible_ticket(app, actor, ticket_id)
    contact = None
    if ticket.complainant_id:
        viewer = (actor.name, actor.role.value) if actor.sees_personal_data else None
        contact = queries.contact_of(
            app=app, complainant_id=ticket.complainant_id, viewer=viewer, ticket_id=ticket.id
        )
    return to_read(ticket, actor, app.tz, contact)


@router.get("/{ticket_id}/history", response_model=list[EventRead])
def get_history(ticket_id: str, app: MegacityDep, actor: Reader) -> list[EventRead]:
    """The audit trail of one request, oldest first."""
    visible_ticket(app, actor, ticket_id)
    return [EventRead.model_validate(row) for row in queries.history(app=app, ticket_id=ticket_id)]


@router.post("/{ticket_id}/attachments", status_code=201, response_model=AttachmentRead)
async def add_attachment(
    ticket_id: str, file: UploadFile, app: MegacityDep, actor: Attacher, purpose: str = "evidence"
) -> AttachmentRead:
    """Attach a file (voice, picture, video, evidence document) to a request."""
    content = await file.read(attachments.MAX_BYTES + 1)
    row = attachments.attach(
        app=app,
        ticket_id=ticket_id,
        purpose=purpose,
        filename=file.filename or "upload",
        content_type=file.content_type or "application/octet-stream",
        content=content,
        actor=actor.name,
        role=actor.role.value,
        visible=actor.sees,
    )
    return AttachmentRead.model_validate(row)


def _action_route(action: Action, body_model: type[Strict]) -> None:
    def act(ticket_id: str, body: body_model, app: MegacityDep, actor: Reader) -> TicketRead:  # type: ignore[valid-type]
        if not actor.may_act(action):
            raise ForbiddenError(f"role {actor.role.value} may not {action.value.replace('_', ' ')}")
        params = body.model_dump(exclude={"reason"}, exclude_none=True)  # type: ignore[attr-defined]
        if action is Action.DISPATCH and "unit_code" not in params:
            params.update(handling.suggested_dispatch(app=app, ticket_id=ticket_id))
        ticket = handling.perform(
            app=app,
            ticket_id=ticket_id,
            action=action,
            actor=actor.name,
            role=actor.role.value,
            reason=body.reason,  # type: ignore[attr-defined]
            params=params,
            visible=actor.sees,
        )
        return to_read(ticket, actor, app.tz)

    segment = action.value.replace("_", "-")
    act.__doc__ = f"Perform '{action.value}' on a request (409 if its state does not allow it)."
    router.add_api_route(
        f"/{{ticket_id}}/{segment}",
        act,
        methods=["POST"],
        response_model=TicketRead,
        name=f"{action.value}_request",
        summary=action.value.replace("_", " ").capitalize(),
    )


for _action, _model in ACTION_BODIES.items():
    _action_route(_action, _model)
