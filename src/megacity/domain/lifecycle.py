"""The lifecycle of a request as a transition table.

`TRANSITIONS` says which action is legal in which status and where it leads; `apply`
is the only function that changes a ticket's state. It checks the table (and the
sub-process tables for extensions and exclusions), changes the ticket, and returns the
event the audit log stores. Because an event carries exactly the action's parameters,
`replay` rebuilds a ticket from its events (tested as a property).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from datetime import datetime
from enum import StrEnum
from typing import Any

from megacity.domain.enums import (
    CallbackOutcome,
    EscalationLevel,
    ExclusionState,
    ExtensionState,
    Kind,
    Satisfaction,
    SpecialCase,
    Status,
)
from megacity.domain.errors import IllegalTransitionError, ValidationError
from megacity.domain.tickets import Ticket, TicketEvent


class Action(StrEnum):
    """Everything that can happen to a request, in imperative form."""

    RECEIVE = "receive"
    ANSWER = "answer"  # consult answered on the spot
    DISPOSE = "dispose"  # special disposition, 条例 Art. 11
    DISPATCH = "dispatch"  # 派单
    ACCEPT = "accept"  # 签收
    DISPUTE = "dispute"  # 派单异议
    REJECT_DISPUTE = "reject_dispute"  # reviewer keeps the dispatch
    REDISPATCH = "redispatch"  # reviewer or dispatcher sends it elsewhere
    CONTACT = "contact"
    REPLY = "reply"
    CALLBACK = "callback"  # 回访
    REOPEN = "reopen"
    CLOSE = "close"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    ESCALATE = "escalate"  # 提级
    ADD_COHANDLER = "add_cohandler"  # co-handling unit under the lead (首接负责制)
    REQUEST_EXCLUSION = "request_exclusion"  # 申请剔除
    DISTRICT_APPROVE_EXCLUSION = "district_approve_exclusion"
    CITY_APPROVE_EXCLUSION = "city_approve_exclusion"
    REJECT_EXCLUSION = "reject_exclusion"
    MERGE = "merge"  # fold a duplicate into its master
    MARK_OVERDUE = "mark_overdue"


S, A = Status, Action
_HANDLING = (S.DISPATCHED, S.ACCEPTED, S.CONTACTED)  # a unit holds the request
_OPEN = (S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.DISPUTED, S.CONTACTED, S.REPLIED, S.CALLED_BACK)
_AFTER_DISPATCH = (*_OPEN[1:], S.CLOSED)


def _same(statuses: Iterable[Status], action: Action) -> dict[tuple[Status, Action], Status]:
    """Table rows for an action that leaves the status as it is."""
    return {(s, action): s for s in statuses}


#: (status, action) -> new status. Anything absent is illegal.
TRANSITIONS: Mapping[tuple[Status, Action], Status] = {
    (S.RECEIVED, A.ANSWER): S.ANSWERED,
    (S.RECEIVED, A.DISPOSE): S.SPECIAL,
    (S.RECEIVED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.ACCEPT): S.ACCEPTED,
    (S.DISPATCHED, A.DISPUTE): S.DISPUTED,
    (S.ACCEPTED, A.DISPUTE): S.DISPUTED,
    (S.DISPUTED, A.REJECT_DISPUTE): S.DISPATCHED,
    (S.DISPUTED, A.REDISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.REDISPATCH): S.DISPATCHED,
    (S.ACCEPTED, A.REDISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.CONTACT): S.CONTACTED,
    (S.ACCEPTED, A.CONTACT): S.CONTACTED,
    (S.CONTACTED, A.REPLY): S.REPLIED,
    (S.REPLIED, A.CALLBACK): S.CALLED_BACK,
    (S.CALLED_BACK, A.CALLBACK): S.CALLED_BACK,  # a later callback replaces the earlier one
    (S.CALLED_BACK, A.REOPEN): S.DISPATCHED,
    (S.CALLED_BACK, A.CLOSE): S.CLOSED,
    **_same(_HANDLING, A.REQUEST_EXTENSION),
    **_same(_HANDLING, A.APPROVE_EXTENSION),
    **_same(_HANDLING, A.REJECT_EXTENSION),
    **_same(_OPEN, A.ESCALATE),
    **_same(_HANDLING, A.ADD_COHANDLER),
    **_same(_AFTER_DISPATCH, A.REQUEST_EXCLUSION),
    **_same(_AFTER_DISPATCH, A.DISTRICT_APPROVE_EXCLUSION),
    **_same(_AFTER_DISPATCH, A.CITY_APPROVE_EXCLUSION),
    **_same(_AFTER_DISPATCH, A.REJECT_EXCLUSION),
    **{(s, A.MERGE): S.MERGED for s in _OPEN},
    **_same(_HANDLING, A.MARK_OVERDUE),
}

X, E = ExclusionState, ExtensionState
#: Exclusion request (申请剔除): district review, then city review.
EXCLUSION_TRANSITIONS: Mapping[tuple[ExclusionState, Action], ExclusionState] = {
    (X.NONE, A.REQUEST_EXCLUSION): X.REQUESTED,
    (X.REQUESTED, A.DISTRICT_APPROVE_EXCLUSION): X.DISTRICT_APPROVED,
    (X.DISTRICT_APPROVED, A.CITY_APPROVE_EXCLUSION): X.EXCLUDED,
    (X.REQUESTED, A.REJECT_EXCLUSION): X.REJECTED,
    (X.DISTRICT_APPROVED, A.REJECT_EXCLUSION): X.REJECTED,
}
#: Extension request: one pending request at a time; a new one after a decision is fine.
EXTENSION_TRANSITIONS: Mapping[tuple[ExtensionState, Action], ExtensionState] = {
    **{(s, A.REQUEST_EXTENSION): E.REQUESTED for s in (E.NONE, E.APPROVED, E.REJECTED)},
    (E.REQUESTED, A.APPROVE_EXTENSION): E.APPROVED,
    (E.REQUESTED, A.REJECT_EXTENSION): E.REJECTED,
}
_ESCALATION_ORDER = [EscalationLevel.NONE, EscalationLevel.DISTRICT, EscalationLevel.CITY]

Effect = Callable[[Ticket, datetime, dict[str, Any]], None]


def allowed_actions(ticket: Ticket) -> list[Action]:
    """Actions the table allows now (sub-process guards included, parameters not checked)."""
    out = []
    for action in Action:
        if (ticket.status, action) not in TRANSITIONS:
            continue
        if (ticket.exclusion_state, action) not in EXCLUSION_TRANSITIONS and action in _EXCLUSION_ACTIONS:
            continue
        if (ticket.extension_state, action) not in EXTENSION_TRANSITIONS and action in _EXTENSION_ACTIONS:
            continue
        out.append(action)
    return out


def apply(
    ticket: Ticket,
    action: Action | str,
    *,
    actor: str,
    role: str,
    at: datetime,
    reason: str = "",
    **params: Any,
) -> TicketEvent:
    """Perform `action` on `ticket`, append and return the event, or raise without change.

    Raises `IllegalTransitionError` when the status (or a sub-process) does not allow the
    action, and `ValidationError` when a parameter is missing or wrong.
    """
    action = Action(action)
    if at.tzinfo is None:
        raise ValidationError("event time must be timezone-aware", field="at")
    before = ticket.status
    target = TRANSITIONS.get((before, action))
    if target is None:
        raise IllegalTransitionError(f"cannot {action.value} a request that is {before.value}")
    payload = {k: _to_payload(v) for k, v in params.items() if v is not None}
    _EFFECTS[action](ticket, at, dict(payload))
    ticket.status = target
    event = TicketEvent(ticket.id, action.value, before, target, actor, role, at, reason, payload)
    ticket.events.append(event)
    return event


def replay(intake: Ticket, events: Iterable[TicketEvent]) -> Ticket:
    """Rebuild a ticket by applying its recorded events to a copy of its intake state."""
    ticket = deepcopy(intake)
    ticket.events = []
    for ev in events:
        if ev.action not in _REPLAYED:
            continue  # intake and non-state events (attachments, views) change no state
        apply(ticket, ev.action, actor=ev.actor, role=ev.role, at=ev.at, reason=ev.reason, **ev.payload)
    return ticket


def _to_payload(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return [_to_payload(v) for v in value]
    return value


def _instant(params: Mapping[str, Any], key: str) -> datetime:
    raw = params.get(key)
    if raw is None:
        raise ValidationError(f"{key} is required", field=key)
    value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    if value.tzinfo is None:
        raise ValidationError(f"{key} must be timezone-aware", field=key)
    return value


def _required(params: Mapping[str, Any], key: str) -> Any:
    value = params.get(key)
    if value is None or value == "" or value == []:
        raise ValidationError(f"{key} is required", field=key)
    return value


def _answer(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    if t.kind is not Kind.CONSULT:
        raise IllegalTransitionError("only a consult (咨询) can be answered on the spot")


def _dispose(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    t.special_case = SpecialCase(_required(p, "case")).value


def _dispatch(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    unit, deadline = str(_required(p, "unit_code")), _instant(p, "deadline_at")
    if deadline < at:
        raise ValidationError("deadline_at is before the dispatch", field="deadline_at")
    t.unit_code, t.deadline_at = unit, deadline
    t.deadline_provisional = bool(p.get("provisional", False))
    t.category_code = p.get("category_code", t.category_code)
    t.dispatched_at = at
    t.overdue = False


def _redispatch(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    if p.get("unit_code") == t.unit_code and t.status is not Status.DISPUTED:
        raise ValidationError("redispatch needs a different unit", field="unit_code")
    _dispatch(t, at, p)
    t.cohandlers = []


def _dispute(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    t.dispute_count += 1


def _contact(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    if t.contacted_at is None:  # the first contact is what the response rate measures
        t.contacted_at = at


def _reply(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    t.replied_at = at


def _callback(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    outcome = CallbackOutcome(p.get("outcome", CallbackOutcome.RATED))
    if outcome is CallbackOutcome.NOT_REACHED:
        resolved, satisfaction = None, None
    else:
        if not isinstance(p.get("resolved"), bool):
            raise ValidationError("resolved (true/false) is required for a rated callback", field="resolved")
        resolved, satisfaction = p["resolved"], Satisfaction(_required(p, "satisfaction"))
    # the latest callback is the one that counts, also after a reopen
    t.callback_at, t.resolved, t.satisfaction = at, resolved, satisfaction


def _reopen(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    if t.resolved is not False:
        raise IllegalTransitionError("only a request called back as unresolved can be reopened")
    deadline = _instant(p, "deadline_at")
    t.deadline_at, t.deadline_provisional = deadline, bool(p.get("provisional", False))
    t.reopen_count += 1
    t.overdue = False


def _close(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    pass


def _extension(t: Ticket, at: datetime, p: dict[str, Any], action: Action) -> None:
    new = EXTENSION_TRANSITIONS.get((t.extension_state, action))
    if new is None:
        raise IllegalTransitionError(f"cannot {action.value}: extension is {t.extension_state.value}")
    if action is Action.REQUEST_EXTENSION:
        requested = _instant(p, "deadline_at")
        if t.deadline_at is not None and requested <= t.deadline_at:
            raise ValidationError("an extension must move the deadline later", field="deadline_at")
    if action is Action.APPROVE_EXTENSION:
        t.deadline_at = _instant(p, "deadline_at")
        t.deadline_provisional = bool(p.get("provisional", False))
        t.overdue = False
    t.extension_state = new


def _escalate(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    level = EscalationLevel(_required(p, "level"))
    if _ESCALATION_ORDER.index(level) <= _ESCALATION_ORDER.index(t.escalation):
        raise IllegalTransitionError(f"already escalated to {t.escalation.value}")
    t.escalation = level


def _add_cohandler(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    unit = str(_required(p, "unit_code"))
    if unit == t.unit_code or unit in t.cohandlers:
        raise ValidationError(f"{unit} already handles this request", field="unit_code")
    t.cohandlers = [*t.cohandlers, unit]


def _exclusion(t: Ticket, at: datetime, p: dict[str, Any], action: Action) -> None:
    new = EXCLUSION_TRANSITIONS.get((t.exclusion_state, action))
    if new is None:
        raise IllegalTransitionError(f"cannot {action.value}: exclusion is {t.exclusion_state.value}")
    if action is Action.REQUEST_EXCLUSION:
        _required(p, "evidence")
    t.exclusion_state = new
    t.excluded = new is ExclusionState.EXCLUDED


def _merge(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    master = str(_required(p, "master_id"))
    if master == t.id:
        raise ValidationError("a request cannot be merged into itself", field="master_id")
    t.repeat_of = master


def _mark_overdue(t: Ticket, at: datetime, p: dict[str, Any]) -> None:
    if t.overdue:
        raise IllegalTransitionError("already marked overdue")
    if t.deadline_at is None or t.deadline_at > at:
        raise IllegalTransitionError("the deadline has not passed")
    t.overdue = True


def _sub(fn: Callable[[Ticket, datetime, dict[str, Any], Action], None], action: Action) -> Effect:
    return lambda t, at, p: fn(t, at, p, action)


_REPLAYED = frozenset(a.value for a in Action if a is not Action.RECEIVE)
_EXCLUSION_ACTIONS = frozenset(a for _, a in EXCLUSION_TRANSITIONS)
_EXTENSION_ACTIONS = frozenset(a for _, a in EXTENSION_TRANSITIONS)
_EFFECTS: Mapping[Action, Effect] = {
    A.RECEIVE: lambda t, at, p: None,
    A.ANSWER: _answer,
    A.DISPOSE: _dispose,
    A.DISPATCH: _dispatch,
    A.ACCEPT: lambda t, at, p: None,
    A.DISPUTE: _dispute,
    A.REJECT_DISPUTE: lambda t, at, p: None,
    A.REDISPATCH: _redispatch,
    A.CONTACT: _contact,
    A.REPLY: _reply,
    A.CALLBACK: _callback,
    A.REOPEN: _reopen,
    A.CLOSE: _close,
    A.ESCALATE: _escalate,
    A.ADD_COHANDLER: _add_cohandler,
    A.MERGE: _merge,
    A.MARK_OVERDUE: _mark_overdue,
    **{a: _sub(_extension, a) for a in _EXTENSION_ACTIONS},
    **{a: _sub(_exclusion, a) for a in _EXCLUSION_ACTIONS},
}
