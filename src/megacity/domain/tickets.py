"""The request (诉求) — called a work order (工单) once it is recorded — and its events.

`Ticket` is a plain dataclass: the lifecycle module changes it, the store maps it to tables.
`CANONICAL_COLUMNS` is the canonical ticket table, the contract of import, export and every
analytics command (see docs/canonical-table.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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

#: Columns of the canonical ticket table, in order.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "id",
    "received_at",
    "channel",
    "kind",
    "urgency",
    "title",
    "text",
    "complainant_id",
    "address",
    "lon",
    "lat",
    "district_code",
    "street_code",
    "category_code",
    "unit_code",
    "dispatched_at",
    "deadline_at",
    "contacted_at",
    "replied_at",
    "callback_at",
    "resolved",
    "satisfaction",
    "excluded",
    "status",
    "repeat_of",
)

#: Canonical columns holding instants (timezone-aware datetimes).
TIMESTAMP_COLUMNS: frozenset[str] = frozenset(
    {"received_at", "dispatched_at", "deadline_at", "contacted_at", "replied_at", "callback_at"}
)

#: Statuses a request never leaves.
TERMINAL: frozenset[Status] = frozenset({Status.ANSWERED, Status.SPECIAL, Status.CLOSED, Status.MERGED})


@dataclass
class TicketEvent:
    """One state change, as the audit log records it.

    The payload holds exactly the parameters of the action (codes, instants, flags) and
    never raw personal data, so the log can be replayed to rebuild a ticket and kept after
    personal data is deleted.
    """

    ticket_id: str
    action: str
    from_status: Status | None
    to_status: Status
    actor: str
    role: str
    at: datetime
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ticket:
    """A citizen request and everything that happened to it so far."""

    id: str
    received_at: datetime
    channel: Channel
    kind: Kind
    urgency: Urgency
    title: str
    text: str
    complainant_id: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    district_code: str | None = None
    street_code: str | None = None
    category_code: str | None = None
    unit_code: str | None = None
    dispatched_at: datetime | None = None
    deadline_at: datetime | None = None
    deadline_provisional: bool = False
    contacted_at: datetime | None = None
    replied_at: datetime | None = None
    callback_at: datetime | None = None
    resolved: bool | None = None
    satisfaction: Satisfaction | None = None
    excluded: bool = False
    status: Status = Status.RECEIVED
    repeat_of: str | None = None
    special_case: str | None = None
    exclusion_state: ExclusionState = ExclusionState.NONE
    extension_state: ExtensionState = ExtensionState.NONE
    escalation: EscalationLevel = EscalationLevel.NONE
    cohandlers: list[str] = field(default_factory=list)
    overdue: bool = False
    dispute_count: int = 0
    reopen_count: int = 0
    source: str = "megacity"  # where the record came from: megacity, teddycup, nyc311, demo ...
    profile_version: str | None = None  # the profile version in force when it was received
    flags: list[str] = field(default_factory=list)  # import warnings, e.g. unknown codes
    events: list[TicketEvent] = field(default_factory=list, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL

    def canonical(self) -> dict[str, Any]:
        """The ticket as a row of the canonical table."""
        return {name: getattr(self, name) for name in CANONICAL_COLUMNS}
