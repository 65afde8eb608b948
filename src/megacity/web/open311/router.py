"""Open311 GeoReport v2 under /open311/v2: discovery, services, requests in and out, tokens.

Every answer, errors included, comes in the format the path asks for (`.json` or `.xml`);
errors use the GeoReport error list, never problem+json: `GeoReportRoute` turns whatever a
route raises into one. See docs/open311.md for the decisions this module implements.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from megacity.bootstrap import Megacity
from megacity.domain.enums import Role, Status
from megacity.domain.errors import DomainError, NotFoundError, ValidationError
from megacity.domain.tickets import TERMINAL, Ticket
from megacity.services import apikeys, intake, queries
from megacity.services.accounts import ForbiddenError
from megacity.store.repositories import TicketFilter
from megacity.web.deps import MegacityDep
from megacity.web.open311 import mapping, render
from megacity.web.open311.forms import (
    fields_of,
    find_service,
    first,
    given,
    new_request,
    parse_instant,
    today,
)
from megacity.web.open311.render import format_of

log = logging.getLogger(__name__)
WINDOW = timedelta(days=90)
DEFAULT_PAGE_SIZE = 50
#: Deepest result a page may reach (page × page_size); narrower dates reach older requests.
MAX_RESULTS = 10_000
MAX_IDS = 100
_limiter_lock = threading.Lock()


class GeoReportRoute(APIRoute):
    """A route whose errors are GeoReport error lists in the requested format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # every error leaves in GeoReport form
                return error_response(request, exc)

        return guarded


def error_response(request: Request, exc: Exception) -> Response:
    """Render an exception as a GeoReport error (400/403/404/429 ..., the spec's codes)."""
    fmt, headers = format_of(request.url.path), {}
    if isinstance(exc, DomainError):
        status, messages = _status_of(exc), [exc.detail]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
    elif isinstance(exc, RequestValidationError):
        status = 400
        messages = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
    elif isinstance(exc, StarletteHTTPException):
        status, messages = exc.status_code, [str(exc.detail)]
        headers.update(exc.headers or {})
    else:
        log.exception("unexpected error on %s", request.url.path)
        status, messages = 500, ["an unexpected error occurred; it was logged"]
    return render.errors(fmt, status, messages, headers)


def _status_of(exc: DomainError) -> int:
    """Open311 knows 403 for keys, 404 for what does not exist and 400 for the rest."""
    if exc.status in (401, 403):
        return 403
    if exc.status in (404, 413, 429) or exc.status >= 500:
        return exc.status
    return 400


router = APIRouter(
    prefix="/open311/v2", tags=["open311"], route_class=GeoReportRoute, responses=render.RESPONSES
)
Jurisdiction = Annotated[str | None, Query(description="optional: this server serves one city (its code)")]
Param = Annotated[str | None, Query()]


async def read_form(request: Request) -> FormData:
    return await request.form()


def _format(fmt: str) -> str:
    if fmt not in render.MEDIA_TYPES:
        raise NotFoundError(f"unknown format '.{fmt}': use .json or .xml")
    return fmt


def _check_jurisdiction(app: Megacity, jurisdiction_id: str | None) -> None:
    value = given(jurisdiction_id)
    if value is not None and value != app.profile.org.city_code:
        raise NotFoundError(
            f"jurisdiction_id '{value}' not found: this server serves {app.profile.org.city_code}"
        )


@router.get("/discovery.{fmt}", name="open311_discovery")
def discovery(fmt: str, request: Request, app: MegacityDep) -> Response:
    """Service discovery: the GeoReport v2 endpoint, its formats and how to get an API key."""
    changeset = mapping.changeset(app.profile, today(app))
    endpoint = {
        "specification": mapping.SPECIFICATION,
        "url": str(request.base_url).rstrip("/") + router.prefix,
        "changeset": changeset,
        "type": "production" if app.settings.environment == "production" else "test",
        "formats": ["text/xml", "application/json"],
    }
    body = {
        "changeset": changeset,
        "contact": f"{app.profile.name} 12345 citizen hotline; API questions: the operators of this server",
        "key_service": "API keys are issued by the operators of this server (megacity apikey create)",
        "endpoints": [endpoint],
    }
    return render.render(_format(fmt), "discovery", body)


@router.get("/services.{fmt}", name="open311_services")
def list_services(fmt: str, app: MegacityDep, jurisdiction_id: Jurisdiction = None) -> Response:
    """The service list: one service per level-2 category of the dispatch catalogue."""
    out = _format(fmt)
    _check_jurisdiction(app, jurisdiction_id)
    return render.render(out, "services", [s.view() for s in mapping.services(app.profile, today(app))])


@router.get("/services/{service_code}.{fmt}", name="open311_service_definition")
def service_definition(
    service_code: str, fmt: str, app: MegacityDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    """A service definition: the leaf to pick (required) and the optional attributes."""
    out = _format(fmt)
    _check_jurisdiction(app, jurisdiction_id)
    return render.render(out, "service_definition", find_service(app, service_code).definition())


def _limiter(request: Request) -> apikeys.PostLimiter:
    with _limiter_lock:
        limiter: apikeys.PostLimiter | None = getattr(request.app.state, "open311_limiter", None)
        if limiter is None:
            limiter = request.app.state.open311_limiter = apikeys.PostLimiter()
        return limiter


_POST_FIELDS = (
    "api_key, service_code, lat, long, address_string, address_id, attribute[code], description, media_url"
)
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "description": f"GeoReport v2 fields: {_POST_FIELDS} ..."}
            }
        },
    }
}


@router.post("/requests.{fmt}", name="open311_create_request", openapi_extra=_POST_BODY)
def create_request(
    fmt: str, request: Request, app: MegacityDep, form: Annotated[FormData, Depends(read_form)]
) -> Response:
    """Create a request (form-encoded, api_key required); answers its service_request_id."""
    out = _format(fmt)
    fields = fields_of(form)
    key = apikeys.verify(app=app, key=first(fields, "api_key") or request.query_params.get("api_key"))
    _limiter(request).check(key)
    _check_jurisdiction(app, first(fields, "jurisdiction_id") or request.query_params.get("jurisdiction_id"))
    new = new_request(app, fields, key)
    ticket, _ = intake.submit(
        app=app, request=new, actor=key.actor, role=Role.OPERATOR.value, auto_dispatch=True
    )
    notice = mapping.service_notice(ticket, app.profile, app.tz)
    return render.render(
        out, "service_requests", [{"service_request_id": ticket.id, "service_notice": notice}]
    )


@router.get("/tokens/{token}.{fmt}", name="open311_token")
def get_token(token: str, fmt: str, app: MegacityDep, jurisdiction_id: Jurisdiction = None) -> Response:
    """The request behind a token: intake is never deferred, so a request's id is its own token."""
    out = _format(fmt)
    _check_jurisdiction(app, jurisdiction_id)
    try:
        ticket = queries.get_ticket(app=app, ticket_id=token)
    except NotFoundError:
        raise NotFoundError(f"token '{token}' not found") from None
    return render.render(out, "service_requests", [{"service_request_id": ticket.id, "token": token}])


@router.get("/requests/{service_request_id}.{fmt}", name="open311_request")
def get_request(
    service_request_id: str, fmt: str, app: MegacityDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    """One request: its public, masked view (readable by id even when the list is off)."""
    out = _format(fmt)
    _check_jurisdiction(app, jurisdiction_id)
    ticket = queries.get_ticket(app=app, ticket_id=service_request_id)
    return render.render(out, "service_requests", _views(app, [ticket]))


@router.get("/requests.{fmt}", name="open311_requests")
def list_requests(
    fmt: str,
    app: MegacityDep,
    service_request_id: Param = None,
    service_code: Param = None,
    start_date: Param = None,
    end_date: Param = None,
    status: Param = None,
    page: Param = None,
    page_size: Param = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Requests, newest first: by ids, or by service, date window (90 days), status and page."""
    out = _format(fmt)
    _check_jurisdiction(app, jurisdiction_id)
    ids = given(service_request_id)
    if ids is not None:
        return render.render(out, "service_requests", _views(app, _by_ids(app, ids)))
    if not app.profile.public_request_list:
        raise ForbiddenError(
            "the public request list is switched off; ask for requests by service_request_id"
        )
    start, end = _window(given(start_date), given(end_date), app.clock(), app.tz)
    filters = [
        TicketFilter(
            status=_statuses(given(status)), category_code=code, received_from=start, received_to=end
        )
        for code in _codes(app, given(service_code))
    ]
    number = _number(page, "page", 1, None, 1)
    size = _number(page_size, "page_size", 1, queries.MAX_PAGE, DEFAULT_PAGE_SIZE)
    if number * size > MAX_RESULTS:
        raise ValidationError(f"page × page_size may reach at most {MAX_RESULTS}; narrow start_date/end_date")
    return render.render(out, "service_requests", _views(app, _page(app, filters, number, size)))


def _by_ids(app: Megacity, ids: str) -> list[Ticket]:
    wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
    if len(wanted) > MAX_IDS:
        raise ValidationError(f"at most {MAX_IDS} service_request_id values at once")
    found = []
    for ticket_id in wanted:
        try:
            found.append(queries.get_ticket(app=app, ticket_id=ticket_id))
        except NotFoundError:
            continue  # an unknown id is left out, like a filter that matches nothing
    return found


def _window(
    start: str | None, end: str | None, now: datetime, tz: tzinfo
) -> tuple[datetime, datetime | None]:
    """[start, end) of requested_datetime; the most recent 90 days unless told, never more than 90."""
    begin = _bound(start, "start_date", tz, end=False) if start else None
    until = _bound(end, "end_date", tz, end=True) if end else None
    if begin is None:
        return (until or now) - WINDOW, until
    until = until or begin + WINDOW
    if until <= begin:
        raise ValidationError("end_date must be after start_date", field="end_date")
    if until - begin > WINDOW:
        raise ValidationError("start_date and end_date may span at most 90 days", field="end_date")
    return begin, until


def _bound(value: str, name: str, tz: tzinfo, *, end: bool) -> datetime:
    """A w3 date-time (offset required), or a date: the day's local start (end: the next day's)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = date.fromisoformat(value)
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        return midnight + timedelta(days=1) if end else midnight
    instant = parse_instant(value, name)
    return instant + timedelta(microseconds=1) if end else instant  # end_date is inclusive


def _statuses(value: str | None) -> list[str]:
    """Lifecycle statuses of `open` / `closed` (closed: the terminal ones); none means all."""
    wanted = {s.strip() for s in (value or "").split(",") if s.strip()}
    if not wanted <= {"open", "closed"}:
        raise ValidationError("status takes open, closed or open,closed", field="status")
    if len(wanted) != 1:
        return []
    return sorted(s.value for s in Status if (s in TERMINAL) == ("closed" in wanted))


def _codes(app: Megacity, value: str | None) -> list[str | None]:
    if value is None:
        return [None]
    codes = list(dict.fromkeys(c.strip() for c in value.split(",") if c.strip()))
    for code in codes:
        category = app.profile.catalogue.get(code)
        if category is None or category.level != 2:
            raise ValidationError(f"unknown service_code '{code}'", field="service_code")
    return list(codes)


def _number(value: str | None, name: str, low: int, high: int | None, default: int) -> int:
    text = given(value)
    if text is None:
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        raise ValidationError(f"{name} must be a whole number from {low}" + (f" to {high}" if high else ""))
    return int(text)


def _stream(app: Megacity, flt: TicketFilter, chunk: int) -> Iterator[Ticket]:
    """Every request matching `flt`, newest first, read `chunk` at a time as the caller goes on."""
    cursor: str | None = None
    while True:
        page = queries.list_tickets(app=app, flt=flt, cursor=cursor, limit=chunk)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _page(app: Megacity, filters: list[TicketFilter], number: int, size: int) -> list[Ticket]:
    """Page `number` (from 1) of the requests matching any filter, newest first (the pagination extension)."""
    skip = (number - 1) * size
    chunk = min(queries.MAX_PAGE, skip + size)
    streams = [_stream(app, flt, chunk) for flt in filters]
    merged = heapq.merge(*streams, key=lambda t: (t.received_at, t.id), reverse=True)
    return list(itertools.islice(merged, skip, skip + size))


def _views(app: Megacity, tickets: list[Ticket]) -> list[dict[str, Any]]:
    """Public views; updated_datetime is the request's last change in the audit log."""
    changed = queries.last_status_changes(app=app, ticket_ids=[t.id for t in tickets])
    return [mapping.request_view(t, app.profile, app.tz, changed.get(t.id)) for t in tickets]


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@router.api_route(
    "/{path:path}", methods=[*_METHODS, "HEAD", "OPTIONS"], include_in_schema=False, name="open311_not_found"
)
def not_found(path: str, request: Request) -> Response:
    """Anything else under /open311/v2: 404 (or 405 for a known path), in GeoReport form."""
    allowed = [
        method
        for method in _METHODS
        if any(
            isinstance(route, APIRoute)
            and route.name != "open311_not_found"
            and route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in router.routes
        )
    ]
    if allowed:
        raise StarletteHTTPException(405, f"use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)})
    raise NotFoundError(f"no Open311 resource at /{path}; start at {router.prefix}/discovery.xml")
