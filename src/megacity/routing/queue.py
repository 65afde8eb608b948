"""The human dispatch queue (人工派单): requests waiting for a dispatcher, with the model's top 3.

A request waits here when it was recorded without automatic dispatch or when the dispatcher
was less sure than the profile's ``dispatch_confidence_threshold``. The suggestions are
computed when the queue is read (so a retrained model is used at once); the reason the request
was queued at intake, if it was, comes from the decision log.

A human decision dispatches the request and is logged as mode ``human`` with the suggestion it
saw and the model version. When the person chose another unit or category than the first
suggestion, the choice is a correction and becomes a training label, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.domain.enums import Status
from megacity.domain.errors import IllegalTransitionError, NotFoundError, ValidationError
from megacity.domain.lifecycle import Action, apply
from megacity.domain.tickets import Ticket
from megacity.routing.decisions import record_decision, record_label
from megacity.services.dispatch import Suggestion, suggest_many
from megacity.services.handling import dispatch_params
from megacity.store.followup_tables import dispatch_decisions
from megacity.store.repositories import row_to_ticket
from megacity.store.tables import tickets

__all__ = ["Option", "QueueItem", "decide", "waiting"]


@dataclass(frozen=True)
class Option:
    """One suggested (unit, category) with its confidence."""

    unit_code: str
    unit_name: str
    category_code: str | None
    category_name: str | None
    confidence: float


@dataclass(frozen=True)
class QueueItem:
    """A waiting request and what the dispatcher suggests for it."""

    ticket: Ticket
    options: tuple[Option, ...]
    confidence: float
    reason: str
    model_version: str
    queued_reason: str | None


def _options(app: Megacity, suggestion: Suggestion) -> tuple[Option, ...]:
    org, catalogue = app.profile.org, app.profile.catalogue
    pairs = list(suggestion.alternatives)
    if not pairs and suggestion.unit_code:
        pairs = [(suggestion.unit_code, suggestion.confidence)]
    categories = list(suggestion.alternative_categories) or [suggestion.category_code] * len(pairs)
    out = []
    for (unit_code, confidence), category_code in zip(pairs, categories, strict=False):
        unit = org.unit(unit_code)
        category = catalogue.get(category_code) if category_code else None
        out.append(
            Option(
                unit_code,
                unit.name if unit else unit_code,
                category_code,
                category.name if category else None,
                round(confidence, 4),
            )
        )
    return tuple(out[:3])


def waiting(app: Megacity, *, limit: int = 50) -> list[QueueItem]:
    """The oldest requests waiting for a human dispatch decision, with suggestions."""
    query = (
        select(tickets)
        .where(tickets.c.status == Status.RECEIVED.value)
        .order_by(tickets.c.received_at, tickets.c.id)
        .limit(limit)
    )
    with app.uow(write=False) as uow:
        found = [row_to_ticket(row._mapping) for row in uow.connection.execute(query)]
        ids = [t.id for t in found]
        reasons: dict[str, str] = {}
        if ids:
            rows = uow.connection.execute(
                select(dispatch_decisions.c.ticket_id, dispatch_decisions.c.reason)
                .where(dispatch_decisions.c.ticket_id.in_(ids), dispatch_decisions.c.mode == "queued")
                .order_by(dispatch_decisions.c.id)
            )
            reasons = {r.ticket_id: r.reason for r in rows}
    suggestions = suggest_many(app.dispatcher, found)
    return [
        QueueItem(t, _options(app, s), s.confidence, s.reason, s.model_version, reasons.get(t.id))
        for t, s in zip(found, suggestions, strict=True)
    ]


def decide(
    *,
    app: Megacity,
    ticket_id: str,
    unit_code: str,
    category_code: str | None,
    actor: str,
    role: str,
    reason: str = "",
) -> Ticket:
    """Dispatch a waiting request as a person decided; log it, and learn when it corrects the model."""
    now: datetime = app.clock()
    catalogue = app.profile.catalogue
    if category_code is not None and (
        catalogue.get(category_code) is None or not catalogue.is_leaf(category_code)
    ):
        raise ValidationError(f"unknown leaf category_code '{category_code}'", field="category_code")
    with app.uow() as uow:
        ticket = uow.tickets.get(ticket_id, for_update=True)
        if ticket is None:
            raise NotFoundError(f"no request with id '{ticket_id}'")
        if ticket.status is not Status.RECEIVED:
            raise IllegalTransitionError(f"the request is {ticket.status.value}, not waiting for dispatch")
        suggestion = app.dispatcher.suggest(ticket)
        chosen = category_code or ticket.category_code
        if chosen is None and unit_code == suggestion.unit_code:
            chosen = suggestion.category_code
        params = dispatch_params(app, ticket, unit_code, now)
        params["category_code"] = chosen
        event = apply(ticket, Action.DISPATCH, actor=actor, role=role, at=now, reason=reason, **params)
        uow.tickets.save(ticket)
        uow.audit.append([event])
        record_decision(
            uow.connection,
            ticket_id=ticket.id,
            at=now,
            mode="human",
            actor=actor,
            model_version=suggestion.model_version,
            unit_code=unit_code,
            category_code=ticket.category_code,
            suggestion=suggestion,
            reason=reason or f"human decision; suggested: {suggestion.reason}",
        )
        corrected = unit_code != suggestion.unit_code or (
            ticket.category_code is not None and ticket.category_code != suggestion.category_code
        )
        if corrected:
            record_label(
                uow.connection,
                ticket=ticket,
                source="human",
                actor=actor,
                at=now,
                previous_category_code=suggestion.category_code,
                previous_unit_code=suggestion.unit_code,
            )
        uow.commit()
    return ticket
