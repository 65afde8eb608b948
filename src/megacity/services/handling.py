"""Handling: every lifecycle action after intake, with deadlines from the working-day calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from megacity.bootstrap import Megacity
from megacity.domain.calendar import Deadline, LimitUnit, TimeLimit
from megacity.domain.enums import DEADLINE_RUNNING
from megacity.domain.errors import IllegalTransitionError, NotFoundError, ValidationError
from megacity.domain.lifecycle import Action, allowed_actions, apply
from megacity.domain.tickets import Ticket
from megacity.routing import decisions
from megacity.store.unit_of_work import UnitOfWork

#: Actions whose parameters name a handling unit that must exist in the profile.
_UNIT_ACTIONS = frozenset({Action.DISPATCH, Action.REDISPATCH, Action.ADD_COHANDLER})
#: Actions that (re)start the handling clock.
_CLOCK_ACTIONS = frozenset({Action.DISPATCH, Action.REDISPATCH, Action.REOPEN})


def feedback_deadline(app: Megacity, ticket: Ticket, start: datetime) -> Deadline:
    """The feedback limit of the ticket's urgency class, counted from `start`."""
    limit = app.profile.limits.feedback[ticket.urgency]
    return app.calendar.deadline(start, limit, app.tz)


def dispatch_params(app: Megacity, ticket: Ticket, unit_code: str, at: datetime) -> dict[str, Any]:
    """Parameters of a dispatch to `unit_code` at `at`, deadline included."""
    check_unit(app, unit_code)
    deadline = feedback_deadline(app, ticket, at)
    return {"unit_code": unit_code, "deadline_at": deadline.at, "provisional": deadline.provisional}


def check_unit(app: Megacity, unit_code: str) -> None:
    if app.profile.org.unit(unit_code) is None:
        raise ValidationError(f"unknown unit_code '{unit_code}'", field="unit_code")


def prepare(
    app: Megacity, uow: UnitOfWork, ticket: Ticket, action: Action, params: dict[str, Any], at: datetime
) -> None:
    """Complete and check an action's parameters: codes exist, deadlines are computed."""
    if action in _UNIT_ACTIONS:
        check_unit(app, str(params.get("unit_code") or ""))
    if action in _CLOCK_ACTIONS:
        deadline = feedback_deadline(app, ticket, at)
        params["deadline_at"], params["provisional"] = deadline.at, deadline.provisional
    if "category_code" in params and params["category_code"] is not None:
        if app.profile.catalogue.get(params["category_code"]) is None:
            raise ValidationError(f"unknown category_code '{params['category_code']}'", field="category_code")
    if action is Action.REQUEST_EXTENSION:
        days = params.pop("days", None)
        if days is not None and "deadline_at" not in params:
            if ticket.deadline_at is None:
                raise ValidationError("the request has no deadline to extend", field="days")
            limit = TimeLimit(int(days), LimitUnit.WORKING_DAYS)
            params["deadline_at"] = app.calendar.deadline(ticket.deadline_at, limit, app.tz).at
    if action is Action.APPROVE_EXTENSION:
        params["deadline_at"] = _requested_deadline(uow, ticket.id)
    if action is Action.REQUEST_EXCLUSION:
        known = {a["id"] for a in uow.attachments.for_ticket(ticket.id)}
        missing = [e for e in params.get("evidence") or [] if e not in known]
        if missing:
            raise ValidationError(
                f"evidence not attached to this request: {', '.join(missing)}", field="evidence"
            )
    if action is Action.MERGE:
        master = uow.tickets.get(str(params.get("master_id") or ""))
        if master is None:
            raise ValidationError(f"unknown master request '{params.get('master_id')}'", field="master_id")


def _requested_deadline(uow: UnitOfWork, ticket_id: str) -> Any:
    for row in reversed(uow.audit.for_ticket(ticket_id)):
        if row["action"] == Action.REQUEST_EXTENSION.value:
            return row["payload"].get("deadline_at")
    return None


def perform(
    *,
    app: Megacity,
    ticket_id: str,
    action: Action,
    actor: str,
    role: str,
    reason: str = "",
    params: dict[str, Any] | None = None,
    visible: Callable[[Ticket], bool] | None = None,
) -> Ticket:
    """Apply one lifecycle action to a stored request and record it in the audit log.

    `visible` limits the requests the caller may act on (a unit its own, a reviewer its
    district); anything outside looks like a request that does not exist.
    """
    params = dict(params or {})
    now = app.clock()
    with app.uow() as uow:
        ticket = uow.tickets.get(ticket_id, for_update=True)
        if ticket is None or (visible is not None and not visible(ticket)):
            raise NotFoundError(f"no request with id '{ticket_id}'")
        prepare(app, uow, ticket, action, params, now)
        before = (ticket.status, ticket.unit_code, ticket.category_code)
        event = apply(ticket, action, actor=actor, role=role, at=now, reason=reason, **params)
        uow.tickets.save(ticket)
        uow.audit.append([event])
        decisions.after_action(
            uow.connection, app.dispatcher, ticket, action, before, actor=actor, at=now, reason=reason
        )
        uow.commit()
    return ticket


def sweep_overdue(*, app: Megacity, batch: int = 500) -> int:
    """Mark requests whose deadline has passed as overdue; returns how many were marked.

    The unit is notified through the event (its inbox lists overdue requests first).
    """
    now, marked = app.clock(), 0
    statuses = sorted(s.value for s in DEADLINE_RUNNING)
    while True:
        with app.uow() as uow:
            ids = uow.tickets.due_for_overdue(now, statuses, batch)
            events = []
            for ticket_id in ids:
                ticket = uow.tickets.get(ticket_id, for_update=True)
                if ticket is None:
                    continue
                events.append(apply(ticket, Action.MARK_OVERDUE, actor="sweep", role="system", at=now))
                uow.tickets.save(ticket)
            uow.audit.append(events)
            uow.commit()
        marked += len(ids)
        if len(ids) < batch:
            return marked


def suggested_dispatch(*, app: Megacity, ticket_id: str) -> dict[str, Any]:
    """The dispatcher's unit for a request, or an error sending it to a human dispatcher."""
    with app.uow(write=False) as uow:
        ticket = uow.tickets.get(ticket_id)
    if ticket is None:
        raise NotFoundError(f"no request with id '{ticket_id}'")
    if Action.DISPATCH not in allowed_actions(ticket):
        raise IllegalTransitionError(f"cannot dispatch a request that is {ticket.status.value}")
    suggestion = app.dispatcher.suggest(ticket)
    if not suggestion.confident(app.profile.dispatch_confidence_threshold):
        raise ValidationError(
            f"no confident suggestion ({suggestion.reason}); give unit_code", field="unit_code"
        )
    return {"unit_code": suggestion.unit_code, "category_code": suggestion.category_code}
