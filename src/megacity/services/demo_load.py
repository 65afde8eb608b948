"""Load the generated demo history through the real lifecycle, with its audit trail.

Every demo step goes through `lifecycle.apply` with deadlines from the profile's calendar,
so the demo database holds only states the product itself could have produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from megacity.bootstrap import Megacity
from megacity.demo import DemoCase
from megacity.domain.calendar import LimitUnit, TimeLimit
from megacity.domain.enums import Channel, Kind, Urgency
from megacity.domain.lifecycle import Action, apply
from megacity.domain.privacy import pseudonym
from megacity.domain.tickets import Ticket, TicketEvent
from megacity.services.bulk import _batches
from megacity.services.handling import feedback_deadline

_CLOCK = {Action.DISPATCH.value, Action.REDISPATCH.value, Action.REOPEN.value}


def _intake(app: Megacity, case: DemoCase) -> Ticket:
    data = dict(case.intake)
    return Ticket(
        id=str(data.pop("id")),
        received_at=data.pop("received_at"),
        channel=Channel(data.pop("channel")),
        kind=Kind(data.pop("kind")),
        urgency=Urgency(data.pop("urgency")),
        title=data.pop("title"),
        text=data.pop("text"),
        complainant_id=pseudonym(app.settings.pseudonym_secret, case.phone),
        source="demo",
        profile_version=app.profile.version,
        **{k: v for k, v in data.items() if k in Ticket.__dataclass_fields__},
    )


def play(app: Megacity, case: DemoCase) -> tuple[Ticket, list[TicketEvent]]:
    """Build a demo ticket and its events by applying each step."""
    ticket = _intake(app, case)
    received = TicketEvent(
        ticket.id, Action.RECEIVE.value, None, ticket.status, "operator", "operator", ticket.received_at
    )
    received.payload = {"channel": ticket.channel.value, "kind": ticket.kind.value}
    events: list[TicketEvent] = [received]
    requested: Any = None
    for step in case.steps:
        params = dict(step.params)
        if step.action in _CLOCK:
            deadline = feedback_deadline(app, ticket, step.at)
            params.setdefault("deadline_at", deadline.at)
            params.setdefault("provisional", deadline.provisional)
        elif step.action == Action.REQUEST_EXTENSION.value:
            base = ticket.deadline_at or step.at
            requested = app.calendar.deadline(base, TimeLimit(5, LimitUnit.WORKING_DAYS), app.tz).at
            params.setdefault("deadline_at", max(requested, base + timedelta(hours=1)))
            requested = params["deadline_at"]
        elif step.action == Action.APPROVE_EXTENSION.value:
            params.setdefault("deadline_at", requested)
        events.append(
            apply(
                ticket,
                step.action,
                actor=step.actor,
                role=step.role,
                at=step.at,
                reason=step.reason,
                **params,
            )
        )
    return ticket, events


def load_demo(
    *,
    app: Megacity,
    cases: Iterable[DemoCase],
    progress: Callable[[int], None] | None = None,
    batch: int = 1000,
) -> int:
    """Store the cases in batches; returns how many requests were stored."""
    stored = 0
    for chunk in _batches(cases, batch):
        played = [(case, *play(app, case)) for case in chunk]
        with app.uow() as uow:
            uow.tickets.add_many([t for _, t, _ in played])
            uow.contacts.remember_many(
                [
                    {
                        "complainant_id": t.complainant_id,
                        "name": c.name,
                        "phone": c.phone,
                        "at": t.received_at,
                    }
                    for c, t, _ in played
                ]
            )
            uow.audit.append([e for _, _, evs in played for e in evs])
            uow.commit()
        stored += len(played)
        if progress:
            progress(len(chunk))
    return stored
