"""工单: the request list with filters and cursor pagination, and one request's page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Kind, Role, Status
from megacity.domain.lifecycle import Action
from megacity.domain.privacy import mask_text
from megacity.services import queries
from megacity.store.repositories import TicketFilter
from megacity.web.api.requests import to_read, visible_ticket
from megacity.web.deps import MegacityDep
from megacity.web.labels import N_
from megacity.web.pages import reads
from megacity.web.pages.actions import forms_for, unit_options
from megacity.web.pages.common import Names, local_day_start, local_time, render_page
from megacity.web.session import page_requires, permission

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(page_requires(permission(Permission.READ_REQUESTS), "the request list"))]
PAGE_SIZE = 50
FILTERS = ("status", "district_code", "street_code", "unit_code", "kind", "received_from", "received_to")


def _day(value: str, name: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(name)
        return None


def scoped_filter(app: Megacity, actor: Actor, values: dict[str, str], errors: list[str]) -> TicketFilter:
    """The list filter from the form, limited to the actor's scope like the API's list."""
    if actor.role is Role.UNIT_HANDLER:
        values["unit_code"] = actor.unit_code or "-"
    if actor.role is Role.DISTRICT_REVIEWER:
        values["district_code"] = actor.district_code or "-"
    status = values["status"] if values["status"] in {s.value for s in Status} else ""
    kind = values["kind"] if values["kind"] in {k.value for k in Kind} else ""
    start = _day(values["received_from"], "received_from", errors)
    end = _day(values["received_to"], "received_to", errors)
    return TicketFilter(
        status=[status] if status else [],
        district_code=values["district_code"] or None,
        street_code=values["street_code"] or None,
        unit_code=values["unit_code"] or None,
        kind=kind or None,
        received_from=local_day_start(app, start) if start else None,
        received_to=local_day_start(app, end + timedelta(days=1)) if end else None,
    )


def _filter_choices(app: Megacity) -> dict[str, Any]:
    org = app.profile.org
    districts = sorted(org.districts.values(), key=lambda d: d.code)
    return {
        "statuses": [s.value for s in Status],
        "kinds": [k.value for k in Kind],
        "districts": districts,
        "streets": [(d, sorted(org.streets_of(d.code), key=lambda u: u.code)) for d in districts],
        "units": unit_options(app),
    }


@router.get("/tickets", response_class=HTMLResponse)
def ticket_list(
    request: Request,
    app: MegacityDep,
    actor: Reader,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    """Requests newest first, filtered by status, place, unit, kind and date, within the actor's scope."""
    values = {name: request.query_params.get(name, "").strip()[:32] for name in FILTERS}
    errors: list[str] = []
    flt = scoped_filter(app, actor, values, errors)
    page = queries.list_tickets(app=app, flt=flt, cursor=cursor[:200] or None, limit=limit)
    rows = [to_read(t, actor, app.tz) for t in page.items]
    kept: dict[str, str | int] = {k: v for k, v in values.items() if v and k in request.query_params}
    if limit != PAGE_SIZE:
        kept["limit"] = limit
    next_link = f"/tickets?{urlencode({**kept, 'cursor': page.next_cursor})}" if page.next_cursor else None
    context = {
        **_filter_choices(app),
        "values": values,
        "errors": errors,
        "rows": rows,
        "next_link": next_link,
        "first_link": f"/tickets?{urlencode(kept)}" if cursor else None,
        "scoped_unit": actor.role is Role.UNIT_HANDLER,
        "scoped_district": actor.role is Role.DISTRICT_REVIEWER,
    }
    return render_page(request, actor, "tickets.html", context)


#: Payload keys shown in the timeline, with their labels; values of the `_TRANSLATED` ones are labels too.
_PAYLOAD_LABELS = {
    "channel": N_("Channel"),
    "kind": N_("Type"),
    "unit_code": N_("Handling unit"),
    "category_code": N_("Category"),
    "deadline_at": N_("Deadline"),
    "level": N_("Level"),
    "case": N_("Case (Art. 11)"),
    "outcome": N_("Outcome"),
    "resolved": N_("Resolved"),
    "satisfaction": N_("Satisfaction"),
    "master_id": N_("Id of the master request"),
    "evidence": N_("Evidence"),
    "attachment_id": N_("Attachments"),
    "purpose": N_("Purpose"),
    "complainant_id": N_("pseudonym"),
}
_TRANSLATED = frozenset(
    {"channel", "kind", "level", "case", "outcome", "satisfaction", "purpose", "resolved"}
)


def _detail(key: str, value: Any, names: Names) -> tuple[str, str, bool]:
    """(label, value, whether the value is a label to translate) of one payload entry."""
    if key == "unit_code":
        return _PAYLOAD_LABELS[key], names.unit(str(value)), False
    if key == "category_code":
        return _PAYLOAD_LABELS[key], names.category(str(value)), False
    if key.endswith("_at"):
        return _PAYLOAD_LABELS[key], str(value).replace("T", " ")[:16], False
    if key == "resolved":
        return _PAYLOAD_LABELS[key], "Yes" if value else "No", True
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return _PAYLOAD_LABELS[key], str(value), key in _TRANSLATED


def _event_view(row: dict[str, Any], app: Megacity, masked: bool) -> dict[str, Any]:
    """One audit event for the timeline: codes named, instants local, free text masked if needed."""
    names = Names(app.profile)
    payload = row.get("payload") or {}
    details = [
        _detail(key, value, names)
        for key, value in sorted(payload.items())
        if key in _PAYLOAD_LABELS and value not in (None, "", [], {})
    ]
    reason = str(row.get("reason") or "")
    return {
        "action": row["action"],
        "from_status": row.get("from_status"),
        "to_status": row.get("to_status"),
        "actor": row["actor"],
        "role": row["role"],
        "at": local_time(row["at"], app.tz),
        "reason": mask_text(reason) if masked else reason,
        "provisional": bool(payload.get("provisional")),
        "details": details,
    }


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_detail(ticket_id: str, request: Request, app: MegacityDep, actor: Reader) -> HTMLResponse:
    """One request: its data (masked for roles that may not see personal data), timeline, files, actions."""
    ticket = visible_ticket(app, actor, ticket_id)
    contact = None
    if ticket.complainant_id:
        viewer = (actor.name, actor.role.value) if actor.sees_personal_data else None
        contact = queries.contact_of(
            app=app, complainant_id=ticket.complainant_id, viewer=viewer, ticket_id=ticket.id
        )
    forms = forms_for(actor, ticket)
    suggestion = None
    if any(f.action == Action.DISPATCH.value for f in forms):
        suggestion = app.dispatcher.suggest(ticket)
    masked = not actor.sees_personal_data
    context = {
        "t": to_read(ticket, actor, app.tz, contact),
        "events": [_event_view(row, app, masked) for row in queries.history(app=app, ticket_id=ticket.id)],
        "attachments": reads.attachments_of(app, ticket.id),
        "forms": forms,
        "suggestion": suggestion,
        "units": unit_options(app) if any(f.kind == "unit" for form in forms for f in form.fields) else [],
        "may_attach": actor.may(Permission.ATTACH_FILES),
        "next": f"/tickets/{ticket.id}",
    }
    return render_page(request, actor, "ticket.html", context)
