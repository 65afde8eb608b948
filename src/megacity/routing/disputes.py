"""Dispute statistics (派单异议): which categories and units are disputed most, and how often.

A category with many disputes is one the catalogue describes unclearly; a unit with many is
one that receives what it cannot handle. Both are read from the audit log, which records every
dispatch, dispute and review with the unit and category of the moment: a dispute counts
against the unit that held the request and the category it was dispatched under. The outcome
of the review tells whether the dispute was right: ``redispatched`` (the reviewer agreed and
sent the request elsewhere) or ``rejected`` (the dispatch stood).

The dispute rate is disputes per dispatch (dispatches and re-dispatches to that unit or under
that category).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.domain.lifecycle import Action
from megacity.store.tables import audit_events, tickets

__all__ = ["DisputeRow", "DisputeStats", "dispute_stats"]

_ACTIONS = (Action.DISPATCH, Action.REDISPATCH, Action.DISPUTE, Action.REJECT_DISPUTE)


@dataclass(frozen=True)
class DisputeRow:
    """Dispatches and disputes of one category or unit."""

    code: str
    name: str
    dispatched: int
    disputed: int
    redispatched: int
    rejected: int

    @property
    def rate(self) -> float:
        """Disputes per dispatch (0 when nothing was dispatched)."""
        return self.disputed / self.dispatched if self.dispatched else 0.0


@dataclass(frozen=True)
class DisputeStats:
    """Dispute statistics per category and per unit, most disputed first."""

    dispatched: int
    disputed: int
    by_category: list[DisputeRow]
    by_unit: list[DisputeRow]


class _Tally:
    def __init__(self) -> None:
        self.dispatched: Counter[str] = Counter()
        self.disputed: Counter[str] = Counter()
        self.redispatched: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    def rows(self, names: dict[str, str]) -> list[DisputeRow]:
        codes = set(self.dispatched) | set(self.disputed)
        rows = [
            DisputeRow(
                code,
                names.get(code, code),
                self.dispatched[code],
                self.disputed[code],
                self.redispatched[code],
                self.rejected[code],
            )
            for code in codes
        ]
        return sorted(rows, key=lambda r: (-r.disputed, -r.rate, r.code))


def dispute_stats(
    app: Megacity, *, since: datetime | None = None, until: datetime | None = None
) -> DisputeStats:
    """Count dispatches, disputes and review outcomes per category and unit (events in [since, until))."""
    query = (
        select(
            audit_events.c.ticket_id, audit_events.c.action, audit_events.c.payload, tickets.c.category_code
        )
        .join(tickets, tickets.c.id == audit_events.c.ticket_id)
        .where(audit_events.c.action.in_([a.value for a in _ACTIONS]))
        .order_by(audit_events.c.ticket_id, audit_events.c.seq)
    )
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    if until is not None:
        query = query.where(audit_events.c.at < until)
    units, categories = _Tally(), _Tally()
    state: dict[str, tuple[str | None, str | None, bool]] = {}  # ticket -> unit, category, disputed
    with app.uow(write=False) as uow:
        for row in uow.connection.execute(query):
            payload = row.payload or {}
            unit, category, pending = state.get(row.ticket_id, (None, row.category_code, False))
            action = Action(row.action)
            if action in (Action.DISPATCH, Action.REDISPATCH):
                if action is Action.REDISPATCH and pending and unit is not None:
                    units.redispatched[unit] += 1
                    if category:
                        categories.redispatched[category] += 1
                unit = payload.get("unit_code") or unit
                category = payload.get("category_code") or category
                if unit:
                    units.dispatched[unit] += 1
                if category:
                    categories.dispatched[category] += 1
                pending = False
            elif action is Action.DISPUTE:
                pending = True
                if unit:
                    units.disputed[unit] += 1
                if category:
                    categories.disputed[category] += 1
            elif action is Action.REJECT_DISPUTE:
                pending = False
                if unit:
                    units.rejected[unit] += 1
                if category:
                    categories.rejected[category] += 1
            state[row.ticket_id] = (unit, category, pending)
    org, catalogue = app.profile.org, app.profile.catalogue
    unit_names = {code: unit.name for code, unit in org.units.items()}
    category_names = {code: "/".join(c.name for c in catalogue.path(code)) for code in catalogue.categories}
    return DisputeStats(
        dispatched=sum(units.dispatched.values()),
        disputed=sum(units.disputed.values()),
        by_category=categories.rows(category_names),
        by_unit=units.rows(unit_names),
    )
