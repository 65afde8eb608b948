"""工作台: the operators' intake form, live dispatch suggestions, duplicate warnings, a district chart."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Channel, Kind, Urgency
from megacity.domain.errors import DomainError, ValidationError
from megacity.domain.privacy import mask_text, pseudonym
from megacity.domain.tickets import Ticket
from megacity.services import intake
from megacity.services.accounts import ForbiddenError
from megacity.web.api.schemas import TicketCreate
from megacity.web.deps import MegacityDep
from megacity.web.knowledge import similarity
from megacity.web.pages import reads
from megacity.web.pages.common import Names, gettext_for, local_day_start, local_time, render_page
from megacity.web.session import CsrfForm, CsrfHeader, JsonActor, field, flash, page_requires, permission

router = APIRouter(include_in_schema=False)
Operator = Annotated[Actor, Depends(page_requires(permission(Permission.CREATE_REQUEST), "the workbench"))]
FORM_FIELDS = (
    "channel",
    "kind",
    "urgency",
    "title",
    "text",
    "name",
    "phone",
    "address",
    "district_code",
    "street_code",
    "category_code",
)
#: Titles at least this similar (bigram Dice coefficient) on the same street are flagged.
SIMILAR_TITLE = 0.5


def json_operator(actor: JsonActor) -> Actor:
    """The logged-in operator behind a fetch() of the workbench (401 or 403 otherwise)."""
    if not actor.may(Permission.CREATE_REQUEST):
        raise ForbiddenError(f"role {actor.role.value} may not record requests")
    return actor


JsonOperator = Annotated[Actor, Depends(json_operator)]


def choices(app: Megacity) -> dict[str, Any]:
    """Options of the form's selects: districts, their streets in force today, catalogue leaves."""
    org, catalogue = app.profile.org, app.profile.catalogue
    today = app.clock().astimezone(app.tz).date()
    districts = sorted(org.districts.values(), key=lambda d: d.code)
    streets = [(d, sorted(org.streets_of(d.code, today), key=lambda u: u.code)) for d in districts]
    groups: dict[str, list[tuple[str, str]]] = {}
    for leaf in sorted(catalogue.leaves(), key=lambda c: c.code):
        if not leaf.validity.covers(today):
            continue
        path = catalogue.path(leaf.code)
        groups.setdefault(" · ".join(c.name for c in path[:-1]), []).append((leaf.code, leaf.name))
    return {
        "districts": districts,
        "streets": streets,
        "categories": list(groups.items()),
        "channels": [c.value for c in Channel if c is not Channel.OPEN311],
        "kinds": [k.value for k in Kind],
        "urgencies": [u.value for u in Urgency],
    }


def district_chart(app: Megacity) -> dict[str, Any]:
    """Requests received today and this month, by district: the data of the workbench chart."""
    today = app.clock().astimezone(app.tz).date()
    by_day = reads.district_counts(app, local_day_start(app, today))
    by_month = reads.district_counts(app, local_day_start(app, today.replace(day=1)))
    districts = sorted(app.profile.org.districts.values(), key=lambda d: d.code)
    return {
        "districts": [d.name for d in districts],
        "today": [by_day.get(d.code, 0) for d in districts],
        "month": [by_month.get(d.code, 0) for d in districts],
    }


def _page(
    request: Request, app: Megacity, actor: Actor, values: dict[str, str], errors: dict[str, str], status: int
) -> HTMLResponse:
    context = {
        **choices(app),
        "values": values,
        "errors": errors,
        "chart": district_chart(app),
        "repeat_window": app.profile.repeat_window_days,
        "idempotency_key": values.get("idempotency_key") or f"page-{secrets.token_urlsafe(16)}",
    }
    return render_page(request, actor, "workbench.html", context, status)


@router.get("/workbench", response_class=HTMLResponse)
def workbench(request: Request, app: MegacityDep, actor: Operator) -> HTMLResponse:
    """The intake form with the knowledge-base search and today's requests by district."""
    return _page(request, app, actor, {"channel": "phone", "kind": "complaint"}, {}, 200)


def _field_errors(exc: pydantic.ValidationError) -> dict[str, str]:
    return {".".join(str(p) for p in e["loc"]) or "form": e["msg"] for e in exc.errors()}


@router.post("/workbench")
def submit(request: Request, app: MegacityDep, actor: Operator, form: CsrfForm) -> Response:
    """Record the request of the form; on success go to its page."""
    _ = gettext_for(request)
    values = {name: field(form, name) for name in (*FORM_FIELDS, "idempotency_key", "auto_dispatch")}
    try:
        body = TicketCreate.model_validate({k: values[k] for k in FORM_FIELDS if values[k]})
        ticket, _created = intake.submit(
            app=app,
            request=intake.NewRequest(**body.model_dump(exclude={"auto_dispatch"})),
            actor=actor.name,
            role=actor.role.value,
            idempotency_key=values["idempotency_key"][:128] or None,
            auto_dispatch=values["auto_dispatch"] == "on",
        )
    except pydantic.ValidationError as exc:
        return _page(request, app, actor, values, _field_errors(exc), 422)
    except DomainError as exc:
        name = exc.field if isinstance(exc, ValidationError) and exc.field else "form"
        return _page(request, app, actor, values, {name: f"{_(exc.title)}: {exc.detail}"}, 422)
    response = RedirectResponse(f"/tickets/{ticket.id}", status_code=303)
    text = _("Request recorded: %(id)s") % {"id": ticket.id}
    if ticket.unit_code:
        text += " · " + _("dispatched to %(unit)s") % {"unit": Names(app.profile).unit(ticket.unit_code)}
    flash(response, request, "ok", text)
    return response


def _preview(app: Megacity, category_code: str, street_code: str, district_code: str) -> Ticket:
    """A ticket that exists only to ask the dispatcher (unknown codes are left out)."""
    org = app.profile.org
    street = org.unit(street_code) if street_code else None
    if street is not None and not street.type.is_street_level:
        street = None
    district = street.district_code if street else (district_code if district_code in org.districts else None)
    return Ticket(
        id="preview",
        received_at=app.clock(),
        channel=Channel.PHONE,
        kind=Kind.COMPLAINT,
        urgency=Urgency.GENERAL,
        title="",
        text="",
        district_code=district,
        street_code=street.code if street else None,
        category_code=category_code if app.profile.catalogue.get(category_code) else None,
    )


@router.get("/pages/api/suggest")
def suggest(
    request: Request,
    app: MegacityDep,
    actor: JsonOperator,
    category_code: str = "",
    street_code: str = "",
    district_code: str = "",
) -> dict[str, Any]:
    """The dispatcher's suggestion for a category and location, as the form is being filled."""
    _ = gettext_for(request)
    suggestion = app.dispatcher.suggest(
        _preview(app, category_code[:32], street_code[:32], district_code[:32])
    )
    category = app.profile.catalogue.get(suggestion.category_code or "")
    names = Names(app.profile)
    return {
        "unit_code": suggestion.unit_code,
        "unit_name": names.unit(suggestion.unit_code) if suggestion.unit_code else None,
        "category_code": suggestion.category_code,
        "urgency": _(category.urgency.value) if category else None,
        "confidence": suggestion.confidence,
        "confident": suggestion.confident(app.profile.dispatch_confidence_threshold),
        "reason": suggestion.reason,
    }


class DuplicateQuery(pydantic.BaseModel):
    phone: str = pydantic.Field("", max_length=30)
    street_code: str = pydantic.Field("", max_length=32)
    title: str = pydantic.Field("", max_length=200)


def possible_duplicates(app: Megacity, query: DuplicateQuery) -> list[tuple[Ticket, str, float]]:
    """Recent requests of the same caller, or on the same street with a similar title."""
    since = app.clock() - timedelta(days=app.profile.repeat_window_days)
    found: dict[str, tuple[Ticket, str, float]] = {}
    if len(query.phone.strip()) >= 5:
        who = pseudonym(app.settings.pseudonym_secret, query.phone)
        for t in reads.recent_by_complainant(app, who, since):
            found[t.id] = (t, "caller", 1.0)
    if query.street_code and query.title.strip():
        for t in reads.recent_on_street(app, query.street_code, since):
            score = similarity(query.title, t.title)
            if score >= SIMILAR_TITLE and t.id not in found:
                found[t.id] = (t, "street", score)
    return sorted(found.values(), key=lambda f: (-f[2], -f[0].received_at.timestamp()))[:10]


@router.post("/pages/api/duplicates")
def duplicates(
    request: Request, body: DuplicateQuery, app: MegacityDep, actor: JsonOperator, _csrf: CsrfHeader
) -> dict[str, Any]:
    """Possible duplicates of the request being recorded (the caller's phone stays in the body)."""
    _ = gettext_for(request)
    items = []
    for ticket, why, score in possible_duplicates(app, body):
        reason = (
            _("same caller")
            if why == "caller"
            else _("same street, similar title (%(pct)s%%)") % {"pct": round(score * 100)}
        )
        items.append(
            {
                "id": ticket.id,
                "title": ticket.title if actor.sees_personal_data else mask_text(ticket.title),
                "received_at": local_time(ticket.received_at, app.tz),
                "status": _(ticket.status.value),
                "why": reason,
            }
        )
    return {"items": items}
