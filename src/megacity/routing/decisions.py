"""The dispatch decision log and the training labels that corrections leave behind.

Every automatic or human dispatch decision is a row of ``dispatch_decisions`` with the model
version that made or suggested it, so a wrong dispatch can be traced to its model. When a
person overrides a dispatch — a reviewer re-dispatches a disputed request (派单异议), a
dispatcher re-dispatches, or a human dispatcher picks another unit or category than the model's
first suggestion — the corrected (category, unit) is stored with the request's text in
``training_labels``; ``megacity classify retrain`` learns from them. Both rows are written
through the caller's unit of work, in the same transaction as the state change they describe.
Texts are stored with phone and ID numbers masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from megacity.domain.enums import Status
from megacity.domain.lifecycle import Action
from megacity.domain.privacy import mask_text
from megacity.domain.tickets import Ticket
from megacity.services.dispatch import RULES, Dispatcher, Suggestion
from megacity.store.followup_tables import dispatch_decisions, training_labels

__all__ = ["Before", "after_action", "dispatcher_version", "record_decision", "record_label"]

#: What a ticket looked like before an action: status, unit, category.
Before = tuple[Status, str | None, str | None]


def dispatcher_version(dispatcher: Dispatcher) -> str:
    """The version of the dispatcher's model (``rules`` when it has none)."""
    return str(getattr(dispatcher, "model_version", RULES))


def record_decision(
    conn: Connection,
    *,
    ticket_id: str,
    at: datetime,
    mode: str,
    actor: str,
    model_version: str,
    unit_code: str | None,
    category_code: str | None,
    suggestion: Suggestion | None = None,
    reason: str = "",
) -> None:
    """Append one decision: ``auto``, ``queued``, ``human`` or ``redispatch``."""
    suggestions: list[dict[str, Any]] = []
    if suggestion is not None:
        suggestions = [{"unit_code": u, "confidence": c} for u, c in suggestion.alternatives]
        if not suggestions and suggestion.unit_code:
            suggestions = [{"unit_code": suggestion.unit_code, "confidence": suggestion.confidence}]
    conn.execute(
        insert(dispatch_decisions).values(
            ticket_id=ticket_id,
            at=at,
            mode=mode,
            actor=actor,
            model_version=model_version,
            category_code=category_code,
            unit_code=unit_code,
            confidence=suggestion.confidence if suggestion is not None else None,
            suggestions=suggestions,
            reason=reason[:2000],
        )
    )


def record_label(
    conn: Connection,
    *,
    ticket: Ticket,
    source: str,
    actor: str,
    at: datetime,
    previous_category_code: str | None,
    previous_unit_code: str | None,
) -> None:
    """Store the ticket's (now corrected) category and unit as a training example."""
    conn.execute(
        insert(training_labels).values(
            ticket_id=ticket.id,
            created_at=at,
            source=source,
            actor=actor,
            title=mask_text(ticket.title or "")[:200],
            text=mask_text(ticket.text or ""),
            category_code=ticket.category_code,
            unit_code=ticket.unit_code,
            previous_category_code=previous_category_code,
            previous_unit_code=previous_unit_code,
        )
    )


def after_action(
    conn: Connection,
    dispatcher: Dispatcher,
    ticket: Ticket,
    action: Action,
    before: Before,
    *,
    actor: str,
    at: datetime,
    reason: str = "",
) -> None:
    """Log dispatches and re-dispatches made through the lifecycle API; learn from re-dispatches."""
    if action not in (Action.DISPATCH, Action.REDISPATCH):
        return
    status, unit, category = before
    mode = "redispatch" if action is Action.REDISPATCH else "human"
    record_decision(
        conn,
        ticket_id=ticket.id,
        at=at,
        mode=mode,
        actor=actor,
        model_version=dispatcher_version(dispatcher),
        unit_code=ticket.unit_code,
        category_code=ticket.category_code,
        reason=reason,
    )
    if action is Action.REDISPATCH:
        source = "dispute" if status is Status.DISPUTED else "redispatch"
        record_label(
            conn,
            ticket=ticket,
            source=source,
            actor=actor,
            at=at,
            previous_category_code=category,
            previous_unit_code=unit,
        )
