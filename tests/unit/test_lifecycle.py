"""The lifecycle state machine: table rules, sub-processes, and replay as a property."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from megacity.domain.enums import (
    Channel,
    EscalationLevel,
    ExclusionState,
    ExtensionState,
    Kind,
    Satisfaction,
    Status,
    Urgency,
)
from megacity.domain.errors import DomainError, IllegalTransitionError, ValidationError
from megacity.domain.lifecycle import TRANSITIONS, Action, allowed_actions, apply, replay
from megacity.domain.tickets import TERMINAL, Ticket

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def new_ticket(kind: Kind = Kind.HELP) -> Ticket:
    return Ticket(
        id="t-1",
        received_at=T0,
        channel=Channel.PHONE,
        kind=kind,
        urgency=Urgency.GENERAL,
        title="路灯坏了",
        text="小区门口路灯坏了一个月",
    )


def act(ticket: Ticket, action: Action, at: datetime = T0, **params: Any) -> Ticket:
    apply(ticket, action, actor="tester", role="dispatcher", at=at, **params)
    return ticket


def dispatched() -> Ticket:
    return act(new_ticket(), Action.DISPATCH, unit_code="110105001", deadline_at=T0 + timedelta(days=7))


def test_full_happy_path_sets_every_timestamp_and_closes() -> None:
    t = dispatched()
    act(t, Action.ACCEPT, T0 + timedelta(minutes=5))
    act(t, Action.CONTACT, T0 + timedelta(hours=1))
    act(t, Action.REPLY, T0 + timedelta(days=2))
    act(t, Action.CALLBACK, T0 + timedelta(days=3), resolved=True, satisfaction="satisfied")
    act(t, Action.CLOSE, T0 + timedelta(days=3))
    assert t.status is Status.CLOSED
    assert (t.dispatched_at, t.contacted_at, t.callback_at) == (
        T0,
        T0 + timedelta(hours=1),
        T0 + timedelta(days=3),
    )
    assert t.resolved is True and t.satisfaction is Satisfaction.SATISFIED
    assert [e.action for e in t.events] == ["dispatch", "accept", "contact", "reply", "callback", "close"]


def test_illegal_transition_raises_and_changes_nothing() -> None:
    t = new_ticket()
    with pytest.raises(IllegalTransitionError, match="cannot reply a request that is received"):
        act(t, Action.REPLY)
    assert t.status is Status.RECEIVED and t.events == []


def test_only_a_consult_is_answered_on_the_spot() -> None:
    with pytest.raises(IllegalTransitionError):
        act(new_ticket(Kind.COMPLAINT), Action.ANSWER)
    assert act(new_ticket(Kind.CONSULT), Action.ANSWER).status is Status.ANSWERED


def test_dispute_then_redispatch_moves_the_request_and_counts_the_dispute() -> None:
    t = act(dispatched(), Action.DISPUTE)
    assert t.status is Status.DISPUTED
    act(t, Action.REDISPATCH, unit_code="D001", deadline_at=T0 + timedelta(days=9))
    assert (t.status, t.unit_code, t.dispute_count) == (Status.DISPATCHED, "D001", 1)


def test_latest_callback_counts_after_a_reopen() -> None:
    t = act(act(dispatched(), Action.CONTACT), Action.REPLY)
    act(t, Action.CALLBACK, resolved=False, satisfaction="dissatisfied")
    act(t, Action.REOPEN, deadline_at=T0 + timedelta(days=14))
    act(act(t, Action.CONTACT), Action.REPLY)
    act(t, Action.CALLBACK, T0 + timedelta(days=15), resolved=True, satisfaction="basically_satisfied")
    assert (t.resolved, t.satisfaction, t.reopen_count) == (True, Satisfaction.BASICALLY_SATISFIED, 1)
    assert t.contacted_at == T0  # the first contact is what response is measured on


def test_reopen_needs_an_unresolved_callback() -> None:
    t = act(act(dispatched(), Action.CONTACT), Action.REPLY)
    act(t, Action.CALLBACK, resolved=True, satisfaction="satisfied")
    with pytest.raises(IllegalTransitionError):
        act(t, Action.REOPEN, deadline_at=T0 + timedelta(days=14))


def test_not_reached_callback_leaves_no_rating() -> None:
    t = act(act(dispatched(), Action.CONTACT), Action.REPLY)
    act(t, Action.CALLBACK, outcome="not_reached")
    assert t.status is Status.CALLED_BACK and t.resolved is None and t.satisfaction is None


def test_exclusion_needs_evidence_and_two_reviews() -> None:
    t = dispatched()
    with pytest.raises(ValidationError):
        act(t, Action.REQUEST_EXCLUSION)
    act(t, Action.REQUEST_EXCLUSION, evidence=["att-1"])
    with pytest.raises(IllegalTransitionError):
        act(t, Action.CITY_APPROVE_EXCLUSION)
    act(t, Action.DISTRICT_APPROVE_EXCLUSION)
    assert not t.excluded
    act(t, Action.CITY_APPROVE_EXCLUSION)
    assert t.excluded and t.exclusion_state is ExclusionState.EXCLUDED


def test_extension_moves_the_deadline_only_when_approved() -> None:
    t = dispatched()
    later = T0 + timedelta(days=12)
    act(t, Action.REQUEST_EXTENSION, deadline_at=later)
    assert t.deadline_at == T0 + timedelta(days=7) and t.extension_state is ExtensionState.REQUESTED
    with pytest.raises(IllegalTransitionError):
        act(t, Action.REQUEST_EXTENSION, deadline_at=later)
    act(t, Action.APPROVE_EXTENSION, deadline_at=later)
    assert t.deadline_at == later


def test_escalation_only_goes_up() -> None:
    t = act(dispatched(), Action.ESCALATE, level="city")
    assert t.escalation is EscalationLevel.CITY
    with pytest.raises(IllegalTransitionError):
        act(t, Action.ESCALATE, level="district")


def test_merge_points_at_the_master_and_ends_the_request() -> None:
    t = act(new_ticket(), Action.MERGE, master_id="t-0")
    assert t.status is Status.MERGED and t.repeat_of == "t-0" and not t.is_open


def test_naive_event_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        apply(
            new_ticket(),
            Action.DISPOSE,
            actor="a",
            role="operator",
            at=datetime(2025, 1, 1),
            case="legal_channel",
        )


def test_terminal_statuses_allow_nothing_but_exclusion_review() -> None:
    for status in TERMINAL:
        actions = {a for (s, a) in TRANSITIONS if s is status}
        assert actions <= {
            Action.REQUEST_EXCLUSION,
            Action.DISTRICT_APPROVE_EXCLUSION,
            Action.CITY_APPROVE_EXCLUSION,
            Action.REJECT_EXCLUSION,
        }


# ---- property: random action sequences ------------------------------------------------

UNITS = ["110105001", "110105002", "D001"]


def params_for(action: Action, at: datetime, draw: st.DrawFn) -> dict[str, Any]:
    later = at + timedelta(days=draw(st.integers(1, 20)))
    return {
        Action.DISPOSE: {"case": "legal_channel"},
        Action.DISPATCH: {"unit_code": draw(st.sampled_from(UNITS)), "deadline_at": later},
        Action.REDISPATCH: {"unit_code": draw(st.sampled_from(UNITS)), "deadline_at": later},
        Action.REOPEN: {"deadline_at": later},
        Action.CALLBACK: draw(
            st.sampled_from(
                [
                    {"resolved": True, "satisfaction": "satisfied"},
                    {"resolved": False, "satisfaction": "dissatisfied"},
                    {"resolved": True, "satisfaction": "basically_satisfied"},
                    {"outcome": "not_reached"},
                ]
            )
        ),
        Action.REQUEST_EXTENSION: {"deadline_at": later + timedelta(days=30)},
        Action.APPROVE_EXTENSION: {"deadline_at": later + timedelta(days=30)},
        Action.ESCALATE: {"level": draw(st.sampled_from(["district", "city"]))},
        Action.ADD_COHANDLER: {"unit_code": draw(st.sampled_from(UNITS))},
        Action.REQUEST_EXCLUSION: {"evidence": ["att-1"]},
        Action.MERGE: {"master_id": "t-0"},
    }.get(action, {})


def check_invariants(t: Ticket) -> None:
    assert t.status in set(Status)
    assert t.excluded == (t.exclusion_state is ExclusionState.EXCLUDED)
    if t.status in {Status.DISPATCHED, Status.ACCEPTED, Status.CONTACTED, Status.REPLIED, Status.CALLED_BACK}:
        assert t.unit_code is not None and t.dispatched_at is not None and t.deadline_at is not None
    if t.status in {Status.REPLIED, Status.CALLED_BACK, Status.CLOSED}:
        assert t.contacted_at is not None and t.replied_at is not None
    if t.status is Status.CALLED_BACK:
        assert t.callback_at is not None
    if t.satisfaction is not None:
        assert t.resolved is not None
    assert t.unit_code not in t.cohandlers


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_action_sequence_reaches_an_illegal_state_and_replay_rebuilds_it(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(list(Kind)))
    ticket = new_ticket(kind)
    intake = new_ticket(kind)
    at = T0
    for _ in range(data.draw(st.integers(1, 25))):
        at += timedelta(hours=data.draw(st.integers(0, 72)))
        allowed = allowed_actions(ticket)
        # mostly legal actions, sometimes anything: illegal ones must fail cleanly
        pool = allowed if allowed and data.draw(st.integers(0, 4)) else list(Action)
        action = data.draw(st.sampled_from(pool))
        before, events_before = deepcopy(ticket), len(ticket.events)
        try:
            act(ticket, action, at, **params_for(action, at, data.draw))
        except DomainError:
            assert ticket == before and len(ticket.events) == events_before
        check_invariants(ticket)
    rebuilt = replay(intake, ticket.events)
    assert rebuilt == ticket
