"""Intake: record a citizen request (诉求), optionally dispatching it at once."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind, Urgency
from megacity.domain.errors import ConflictError, ValidationError
from megacity.domain.lifecycle import Action, apply
from megacity.domain.privacy import pseudonym
from megacity.domain.profile import Profile
from megacity.domain.tickets import Ticket, TicketEvent
from megacity.routing.decisions import record_decision
from megacity.services.dispatch import Suggestion
from megacity.services.handling import dispatch_params
from megacity.services.ratelimit import RateLimitedError
from megacity.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class NewRequest:
    """What an operator, a web form or an API client submits."""

    channel: Channel
    kind: Kind
    title: str
    text: str
    urgency: Urgency | None = None
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    district_code: str | None = None
    street_code: str | None = None
    category_code: str | None = None
    received_at: datetime | None = None

    def fingerprint(self) -> str:
        """A hash of the request, to tell a retried submission from a different one."""
        body = json.dumps(asdict(self), sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()


def new_ticket_id(at: datetime, profile: Profile) -> str:
    """A readable, sortable id: profile code, local date, random part (e.g. beijing-20250301-3f9a1c2b)."""
    day = at.astimezone(ZoneInfo(profile.timezone)).strftime("%Y%m%d")
    return f"{profile.code}-{day}-{secrets.token_hex(4)}"


def check_location(profile: Profile, request: NewRequest, day: date) -> tuple[str | None, str | None]:
    """Validate district/street codes against the profile in force on `day`; derive the district."""
    org = profile.org
    district, street = request.district_code, request.street_code
    if district is not None and district not in org.districts:
        raise ValidationError(f"unknown district_code '{district}'", field="district_code")
    if street is not None:
        unit = org.unit(street)
        if unit is None or not unit.type.is_street_level:
            raise ValidationError(f"unknown street_code '{street}'", field="street_code")
        if not unit.validity.covers(day):
            raise ValidationError(
                f"street {street} was not in force on {day.isoformat()}", field="street_code"
            )
        if district is not None and unit.district_code != district:
            raise ValidationError(f"street {street} is not in district {district}", field="street_code")
        district = unit.district_code
    return district, street


def build_ticket(app: Megacity, request: NewRequest, at: datetime) -> Ticket:
    """Validate the request against the profile and make the new ticket."""
    profile = app.profile
    if request.received_at is not None and request.received_at > at:
        raise ValidationError("received_at is in the future", field="received_at")
    received = request.received_at or at
    day = received.astimezone(ZoneInfo(profile.timezone)).date()
    district, street = check_location(profile, request, day)
    urgency = request.urgency
    if request.category_code is not None:
        category = profile.catalogue.get(request.category_code)
        if category is None or not category.validity.covers(day):
            raise ValidationError(f"unknown category_code '{request.category_code}'", field="category_code")
        urgency = urgency or category.urgency
    complainant = pseudonym(app.settings.pseudonym_secret, request.phone) if request.phone else None
    return Ticket(
        id=new_ticket_id(received, profile),
        received_at=received,
        channel=request.channel,
        kind=request.kind,
        urgency=urgency or Urgency.GENERAL,
        title=request.title,
        text=request.text,
        complainant_id=complainant,
        address=request.address,
        lon=request.lon,
        lat=request.lat,
        district_code=district,
        street_code=street,
        category_code=request.category_code,
        profile_version=profile.version,
    )


def submit(
    *,
    app: Megacity,
    request: NewRequest,
    actor: str,
    role: str,
    idempotency_key: str | None = None,
    auto_dispatch: bool = False,
) -> tuple[Ticket, bool]:
    """Record a request; returns the ticket and whether it was created now (False on a retry)."""
    now = app.clock()
    with app.uow() as uow:
        if idempotency_key is not None:
            earlier = _replayed(uow, idempotency_key, request.fingerprint())
            if earlier is not None:
                return earlier, False
        ticket = build_ticket(app, request, now)
        _check_complainant_limit(app, uow, ticket.complainant_id, now)
        received = TicketEvent(ticket.id, Action.RECEIVE.value, None, ticket.status, actor, role, now)
        received.payload = {"channel": ticket.channel.value, "kind": ticket.kind.value}
        events = [received]
        queued: Suggestion | None = None
        if auto_dispatch:
            suggestion = app.dispatcher.suggest(ticket)
            if suggestion.confident(app.profile.dispatch_confidence_threshold):
                params = dispatch_params(app, ticket, suggestion.unit_code or "", now)
                params["category_code"] = suggestion.category_code
                events.append(apply(ticket, Action.DISPATCH, actor=actor, role=role, at=now, **params))
            else:
                queued = suggestion
        uow.tickets.add(ticket)
        if auto_dispatch:
            _log_dispatch(app, uow, ticket, suggestion, queued is None, actor, now)
        if request.phone and ticket.complainant_id:
            uow.contacts.remember(ticket.complainant_id, name=request.name, phone=request.phone, at=now)
        if idempotency_key is not None:
            uow.idempotency.put(idempotency_key, request.fingerprint(), ticket.id, now)
        uow.audit.append(events)
        uow.commit()
    return ticket, True


def _log_dispatch(
    app: Megacity,
    uow: UnitOfWork,
    ticket: Ticket,
    suggestion: Suggestion,
    dispatched: bool,
    actor: str,
    now: datetime,
) -> None:
    """Log the automatic decision; below the threshold the request waits in the human queue."""
    threshold = app.profile.dispatch_confidence_threshold
    reason = suggestion.reason
    if not dispatched:
        reason = f"confidence {suggestion.confidence:.2f} below {threshold:.2f}: {reason}"
    record_decision(
        uow.connection,
        ticket_id=ticket.id,
        at=now,
        mode="auto" if dispatched else "queued",
        actor=actor,
        model_version=suggestion.model_version,
        unit_code=ticket.unit_code if dispatched else suggestion.unit_code,
        category_code=suggestion.category_code,
        suggestion=suggestion,
        reason=reason,
    )


def _check_complainant_limit(app: Megacity, uow: UnitOfWork, complainant: str | None, now: datetime) -> None:
    """Refuse the N+1-th request of one complainant within 24 hours (条例 Art. 9/37: dissuade, educate)."""
    limit = app.settings.complainant_daily_limit
    if complainant is None or limit <= 0:
        return
    if uow.tickets.count_since(complainant, now - timedelta(days=1)) >= limit:
        raise RateLimitedError(
            f"this complainant already made {limit} requests in 24 hours; handle per 条例 Art. 37",
            retry_after=3600,
        )


def _replayed(uow: UnitOfWork, key: str, fingerprint: str) -> Ticket | None:
    found = uow.idempotency.get(key)
    if found is None:
        return None
    earlier_hash, ticket_id = found
    if earlier_hash != fingerprint:
        raise ConflictError("Idempotency-Key was already used for a different request")
    return uow.tickets.get(ticket_id)
