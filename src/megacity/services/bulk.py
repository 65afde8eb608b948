"""Bulk loading: imported files and the demo history, in batches with their audit events.

Good rows are kept, bad rows are reported with row, field and reason; codes the profile does
not know are kept and flagged, never dropped. Each batch is one transaction, so an
interrupted import keeps every batch it acknowledged and nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind, Satisfaction, Status, Urgency
from megacity.domain.kinds import guess_kind
from megacity.domain.profile import Profile
from megacity.domain.tickets import Ticket, TicketEvent
from megacity.io.rows import ParsedRow, RowError

BATCH = 1000
Progress = Callable[[int], None]


@dataclass
class ImportResult:
    imported: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)


def _flag_unknown(profile: Profile, ticket: Ticket) -> list[str]:
    org, flags = profile.org, []
    if ticket.district_code and ticket.district_code not in org.districts:
        flags.append(f"unknown district_code {ticket.district_code}")
    if ticket.street_code and org.unit(ticket.street_code) is None:
        flags.append(f"unknown street_code {ticket.street_code}")
    if ticket.unit_code and org.unit(ticket.unit_code) is None:
        flags.append(f"unknown unit_code {ticket.unit_code}")
    if ticket.category_code and profile.catalogue.get(ticket.category_code) is None:
        flags.append(f"unknown category_code {ticket.category_code}")
    return flags


def ticket_from_row(profile: Profile, parsed: ParsedRow) -> Ticket:
    """Turn a parsed canonical row into a ticket, filling what the source leaves open."""
    rec, flags = dict(parsed.record), list(parsed.flags)
    path = parsed.extra.get("category_path")
    if not rec.get("category_code") and path:
        category = profile.catalogue.by_path(*path)
        if category is not None:
            rec["category_code"] = category.code
        else:
            flags.append(f"unknown category {'/'.join(path)}")
    if not rec.get("kind"):
        rec["kind"] = guess_kind(rec.get("title"), rec.get("text")).value
        flags.append("kind guessed")
    category = profile.catalogue.get(rec["category_code"]) if rec.get("category_code") else None
    urgency = rec.get("urgency") or (category.urgency.value if category else Urgency.GENERAL.value)
    text = rec.get("text") or rec.get("title") or ""
    ticket = Ticket(
        id=str(rec["id"]),
        received_at=rec["received_at"],
        channel=Channel(rec.get("channel") or Channel.OTHER.value),
        kind=Kind(rec["kind"]),
        urgency=Urgency(urgency),
        title=(rec.get("title") or text[:30])[:200],
        text=text,
        status=Status(rec.get("status") or Status.RECEIVED.value),
        satisfaction=Satisfaction(rec["satisfaction"]) if rec.get("satisfaction") else None,
        excluded=bool(rec.get("excluded") or False),
        source=str(parsed.extra.get("source") or "import"),
        profile_version=profile.version,
    )
    for name in (
        "complainant_id address lon lat district_code street_code category_code unit_code dispatched_at "
        "deadline_at contacted_at replied_at callback_at resolved repeat_of"
    ).split():
        setattr(ticket, name, rec.get(name))
    ticket.flags = flags + _flag_unknown(profile, ticket)
    return ticket


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_rows(
    *, app: Megacity, rows: Iterable[ParsedRow | RowError], actor: str, progress: Progress | None = None
) -> ImportResult:
    """Store every good row; report every bad one (including ids already stored)."""
    result = ImportResult()
    seen: set[str] = set()
    for batch in _batches(rows, BATCH):
        good: list[tuple[int, Ticket]] = []
        for item in batch:
            if isinstance(item, RowError):
                result.errors.append(item)
                continue
            try:
                ticket = ticket_from_row(app.profile, item)
            except (KeyError, ValueError, TypeError) as exc:
                result.errors.append(RowError(item.row, "record", f"cannot build a request: {exc}"))
                continue
            if ticket.id in seen:
                result.errors.append(RowError(item.row, "id", f"duplicate id {ticket.id} in this file"))
                continue
            seen.add(ticket.id)
            good.append((item.row, ticket))
        _store_batch(app, good, result, actor)
        if progress:
            progress(len(batch))
    result.rejected = len(result.errors)
    return result


def _store_batch(app: Megacity, good: list[tuple[int, Ticket]], result: ImportResult, actor: str) -> None:
    now = app.clock()
    with app.uow() as uow:
        stored = uow.tickets.exists(t.id for _, t in good)
        fresh = []
        for row, ticket in good:
            if ticket.id in stored:
                result.errors.append(RowError(row, "id", f"id {ticket.id} is already stored"))
            else:
                fresh.append(ticket)
        uow.tickets.add_many(fresh)
        uow.audit.append([_imported_event(t, actor, now) for t in fresh])
        uow.commit()
    result.imported += len(fresh)


def _imported_event(ticket: Ticket, actor: str, at: datetime) -> TicketEvent:
    event = TicketEvent(ticket.id, "receive", None, ticket.status, actor, "system", at)
    event.payload = {"imported_from": ticket.source, "status": ticket.status.value}
    if ticket.flags:
        event.payload["flags"] = list(ticket.flags)
    return event
