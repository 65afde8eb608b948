"""Read side: lists, details and counts as plain data, never through aggregates' write path."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from megacity.bootstrap import Megacity
from megacity.domain.errors import NotFoundError, ValidationError
from megacity.domain.tickets import Ticket
from megacity.store.repositories import TicketFilter

MAX_PAGE = 500


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    next_cursor: str | None


def encode_cursor(ticket: Ticket) -> str:
    raw = json.dumps([ticket.received_at.isoformat(), ticket.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Parse an opaque cursor; a tampered one is a validation error, not a crash."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ticket_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not isinstance(ticket_id, str):
            raise ValueError("bad cursor")
        return parsed, ticket_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationError("cursor is not valid; start again without it", field="cursor") from exc


def list_tickets(*, app: Megacity, flt: TicketFilter, cursor: str | None, limit: int) -> Page:
    """One page of requests, newest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    after = decode_cursor(cursor) if cursor else None
    with app.uow(write=False) as uow:
        items = uow.tickets.page(flt, after=after, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1]) if more and items else None)


def get_ticket(*, app: Megacity, ticket_id: str) -> Ticket:
    with app.uow(write=False) as uow:
        ticket = uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFoundError(f"no request with id '{ticket_id}'")
    return ticket


def history(*, app: Megacity, ticket_id: str) -> list[dict[str, Any]]:
    """The audit events of one request, oldest first."""
    with app.uow(write=False) as uow:
        if uow.tickets.get(ticket_id) is None:
            raise NotFoundError(f"no request with id '{ticket_id}'")
        return uow.audit.for_ticket(ticket_id)


def last_status_changes(*, app: Megacity, ticket_ids: Sequence[str]) -> dict[str, datetime]:
    """When each of `ticket_ids` last changed status (tickets without a change are left out)."""
    with app.uow(write=False) as uow:
        return uow.audit.last_status_change(ticket_ids)


def contact_of(
    *, app: Megacity, complainant_id: str, viewer: tuple[str, str] | None = None, ticket_id: str | None = None
) -> dict[str, str | None] | None:
    """Decrypt a complainant's contact details; a `viewer` (actor, role) is recorded in the audit log."""
    if viewer is None:
        with app.uow(write=False) as uow:
            return uow.contacts.get(complainant_id)
    with app.uow() as uow:
        contact = uow.contacts.get(complainant_id)
        if contact is not None:
            uow.audit.note(
                action="view_personal_data",
                actor=viewer[0],
                role=viewer[1],
                at=app.clock(),
                ticket_id=ticket_id,
                payload={"complainant_id": complainant_id},
            )
            uow.commit()
        return contact


@dataclass(frozen=True)
class Overview:
    """Counts for the public landing page: no personal data, no texts."""

    total: int
    by_status: dict[str, int]
    by_district: dict[str, int]


def newest_received(*, app: Megacity) -> datetime | None:
    """When the newest request was received; None while there are none."""
    with app.uow(write=False) as uow:
        return uow.tickets.newest_received()


def overview(*, app: Megacity) -> Overview:
    with app.uow(write=False) as uow:
        by_status = {str(k): v for k, v in uow.tickets.counts("status").items() if k is not None}
        by_district = {str(k): v for k, v in uow.tickets.counts("district_code").items() if k is not None}
        total = uow.tickets.total()
    return Overview(total, by_status, by_district)
