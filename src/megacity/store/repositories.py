"""Repositories: tickets, contacts (personal data), idempotency keys, attachments.

Rows map to `Ticket` by name. Writes use optimistic concurrency on `tickets.version`, so two
users acting on one request at once cannot silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

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
from megacity.domain.errors import ConflictError
from megacity.domain.tickets import Ticket
from megacity.store.crypto import Vault
from megacity.store.tables import attachments, contacts, idempotency_keys, tickets, users

_ENUMS: Mapping[str, Any] = {
    "channel": Channel,
    "kind": Kind,
    "urgency": Urgency,
    "status": Status,
    "satisfaction": Satisfaction,
    "exclusion_state": ExclusionState,
    "extension_state": ExtensionState,
    "escalation": EscalationLevel,
}
_FIELDS = [f.name for f in fields(Ticket) if f.name != "events"]


def ticket_to_row(ticket: Ticket) -> dict[str, Any]:
    row = {name: getattr(ticket, name) for name in _FIELDS}
    for name in _ENUMS:
        if row[name] is not None:
            row[name] = row[name].value
    return row


def row_to_ticket(row: Mapping[Any, Any]) -> Ticket:
    values = {name: row[name] for name in _FIELDS}
    for name, enum in _ENUMS.items():
        if values[name] is not None:
            values[name] = enum(values[name])
    values["cohandlers"] = list(values["cohandlers"] or [])
    values["flags"] = list(values["flags"] or [])
    return Ticket(**values)


@dataclass(frozen=True)
class TicketFilter:
    """Filters of the ticket list; every field optional."""

    status: Sequence[str] = ()
    district_code: str | None = None
    street_code: str | None = None
    unit_code: str | None = None
    category_code: str | None = None
    kind: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    overdue: bool | None = None


class TicketRepository:
    """Loads and stores tickets inside the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._versions: dict[str, int] = {}

    def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        query = select(tickets).where(tickets.c.id == ticket_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            return None
        self._versions[ticket_id] = row.version
        return row_to_ticket(row._mapping)

    def exists(self, ticket_ids: Iterable[str]) -> set[str]:
        ids = list(ticket_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(self._conn.scalars(select(tickets.c.id).where(tickets.c.id.in_(chunk))))
        return found

    def add(self, ticket: Ticket) -> None:
        self.add_many([ticket])

    def add_many(self, items: Sequence[Ticket]) -> None:
        if items:
            self._conn.execute(insert(tickets), [{**ticket_to_row(t), "version": 1} for t in items])
            for t in items:
                self._versions[t.id] = 1

    def save(self, ticket: Ticket) -> None:
        """Write back a ticket loaded through this repository; fail if someone else changed it."""
        version = self._versions[ticket.id]
        result = self._conn.execute(
            update(tickets)
            .where(and_(tickets.c.id == ticket.id, tickets.c.version == version))
            .values(**ticket_to_row(ticket), version=version + 1)
        )
        if result.rowcount != 1:
            raise ConflictError(f"request {ticket.id} was changed by someone else; reload and retry")
        self._versions[ticket.id] = version + 1

    def page(self, flt: TicketFilter, *, after: tuple[datetime, str] | None, limit: int) -> list[Ticket]:
        """Newest first, keyset-paginated on (received_at, id)."""
        query = _filtered(select(tickets), flt)
        if after is not None:
            at, last_id = after
            query = query.where(
                or_(tickets.c.received_at < at, and_(tickets.c.received_at == at, tickets.c.id < last_id))
            )
        query = query.order_by(tickets.c.received_at.desc(), tickets.c.id.desc()).limit(limit)
        return [row_to_ticket(r._mapping) for r in self._conn.execute(query)]

    def due_for_overdue(self, now: datetime, statuses: Sequence[str], limit: int) -> list[str]:
        query = (
            select(tickets.c.id)
            .where(tickets.c.status.in_(statuses), tickets.c.overdue.is_(False), tickets.c.deadline_at < now)
            .limit(limit)
        )
        return list(self._conn.scalars(query))

    def counts(self, by: str) -> dict[str | None, int]:
        column = tickets.c[by]
        rows = self._conn.execute(select(column, func.count()).group_by(column))
        return {r[0]: r[1] for r in rows}

    def count_since(self, complainant_id: str, since: datetime) -> int:
        """Requests of one complainant received at or after `since`."""
        query = select(func.count()).where(
            tickets.c.complainant_id == complainant_id, tickets.c.received_at >= since
        )
        return int(self._conn.scalar(query) or 0)

    def total(self) -> int:
        return int(self._conn.scalar(select(func.count()).select_from(tickets)) or 0)

    def newest_received(self) -> datetime | None:
        """When the newest request was received (one index probe), or None without requests."""
        found: datetime | None = self._conn.scalar(select(func.max(tickets.c.received_at)))
        return found


def _filtered(query: Select[Any], flt: TicketFilter) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if flt.status:
        conditions.append(tickets.c.status.in_(list(flt.status)))
    for name in ("district_code", "street_code", "unit_code", "kind"):
        value = getattr(flt, name)
        if value is not None:
            conditions.append(tickets.c[name] == value)
    if flt.category_code is not None:
        conditions.append(tickets.c.category_code.startswith(flt.category_code, autoescape=True))
    if flt.received_from is not None:
        conditions.append(tickets.c.received_at >= flt.received_from)
    if flt.received_to is not None:
        conditions.append(tickets.c.received_at < flt.received_to)
    if flt.overdue is not None:
        conditions.append(tickets.c.overdue.is_(flt.overdue))
    return query.where(*conditions)


class ContactRepository:
    """Personal data of complainants, encrypted with the vault."""

    def __init__(self, conn: Connection, vault: Vault) -> None:
        self._conn = conn
        self._vault = vault

    def _insert(self) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL both do)."""
        dialect = self._conn.dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(contacts)

    def remember(self, complainant_id: str, *, name: str | None, phone: str, at: datetime) -> None:
        """Store or refresh a complainant's contact details (an upsert: safe under concurrency)."""
        values = {
            "name_enc": self._vault.seal(name),
            "phone_enc": self._vault.seal(phone),
            "last_seen_at": at,
        }
        statement = self._insert().values(complainant_id=complainant_id, created_at=at, **values)
        self._conn.execute(
            statement.on_conflict_do_update(index_elements=[contacts.c.complainant_id], set_=values)
        )

    def remember_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Bulk insert of complainants (`complainant_id, name, phone, at`); known ids are kept as they are."""
        fresh: dict[str, dict[str, Any]] = {}
        for r in rows:
            fresh.setdefault(
                r["complainant_id"],
                {
                    "complainant_id": r["complainant_id"],
                    "name_enc": self._vault.seal(r.get("name")),
                    "phone_enc": self._vault.seal(r["phone"]),
                    "created_at": r["at"],
                    "last_seen_at": r["at"],
                },
            )
        if fresh:
            statement = self._insert().on_conflict_do_nothing(index_elements=[contacts.c.complainant_id])
            self._conn.execute(statement, list(fresh.values()))

    def get(self, complainant_id: str) -> dict[str, str | None] | None:
        row = self._conn.execute(select(contacts).where(contacts.c.complainant_id == complainant_id)).first()
        if row is None or row.erased_at is not None:
            return None
        return {"name": self._vault.open(row.name_enc), "phone": self._vault.open(row.phone_enc)}


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, key: str) -> tuple[str, str] | None:
        row = self._conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).first()
        return None if row is None else (row.request_hash, row.ticket_id)

    def put(self, key: str, request_hash: str, ticket_id: str, at: datetime) -> None:
        """Remember a key; a concurrent twin that got there first makes this a conflict."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(idempotency_keys).values(
                        key=key, request_hash=request_hash, ticket_id=ticket_id, created_at=at
                    )
                )
        except IntegrityError as exc:
            raise ConflictError("a request with this Idempotency-Key is being processed; retry") from exc


class AttachmentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, **values: Any) -> None:
        self._conn.execute(insert(attachments).values(**values))

    def for_ticket(self, ticket_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute(select(attachments).where(attachments.c.ticket_id == ticket_id))
        return [dict(r._mapping) for r in rows]


class UserRepository:
    """Accounts; the password hash never leaves this layer except for verification."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, **values: Any) -> int:
        try:
            with self._conn.begin_nested():
                result = self._conn.execute(insert(users).values(**values))
        except IntegrityError as exc:
            raise ConflictError(f"user {values.get('username')!r} already exists") from exc
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def by_username(self, username: str) -> dict[str, Any] | None:
        row = self._conn.execute(select(users).where(users.c.username == username)).first()
        return None if row is None else dict(row._mapping)

    def by_id(self, user_id: int) -> dict[str, Any] | None:
        row = self._conn.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else dict(row._mapping)

    def all(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self._conn.execute(select(users).order_by(users.c.username))]

    def set_active(self, username: str, active: bool) -> bool:
        result = self._conn.execute(update(users).where(users.c.username == username).values(active=active))
        return result.rowcount == 1

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
