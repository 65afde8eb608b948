"""The database schema (SQLAlchemy Core), managed by Alembic migrations.

We map rows to domain objects by hand in `repositories.py` rather than with
`map_imperatively`: the ticket row *is* the canonical ticket table plus workflow columns,
and list views, exports and analytics read it as plain rows without building aggregates.

Personal data (name, phone, id number) lives only in `contacts`, encrypted; requests refer
to a complainant by pseudonym. The audit log is append-only and hash-chained.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class Instant(TypeDecorator[datetime]):
    """A timezone-aware instant on every engine: UTC in SQLite, ``timestamptz`` elsewhere.

    SQLite has no zone-aware type, so values are stored as naive UTC and given back as UTC.
    Naive datetimes are refused: an instant without a zone is a bug, never a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given for an instant")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def _ts(name: str, *, nullable: bool = True) -> Column[datetime]:
    return Column(name, Instant(), nullable=nullable)


tickets = Table(
    "tickets",
    metadata,
    Column("id", String(64), primary_key=True),
    _ts("received_at", nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("complainant_id", String(64)),
    Column("address", String(300)),
    Column("lon", Float),
    Column("lat", Float),
    Column("district_code", String(32)),
    Column("street_code", String(32)),
    Column("category_code", String(32)),
    Column("unit_code", String(32)),
    _ts("dispatched_at"),
    _ts("deadline_at"),
    Column("deadline_provisional", Boolean, nullable=False, default=False),
    _ts("contacted_at"),
    _ts("replied_at"),
    _ts("callback_at"),
    Column("resolved", Boolean),
    Column("satisfaction", String(32)),
    Column("excluded", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("repeat_of", String(64)),
    Column("special_case", String(32)),
    Column("exclusion_state", String(32), nullable=False, default="none"),
    Column("extension_state", String(32), nullable=False, default="none"),
    Column("escalation", String(16), nullable=False, default="none"),
    Column("cohandlers", JSON, nullable=False, default=list),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("dispute_count", Integer, nullable=False, default=0),
    Column("reopen_count", Integer, nullable=False, default=0),
    Column("source", String(32), nullable=False, default="megacity"),
    Column("profile_version", String(32)),
    Column("flags", JSON, nullable=False, default=list),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_tickets_status_received", "status", "received_at"),
    Index("ix_tickets_unit_status", "unit_code", "status"),
    Index("ix_tickets_district_received", "district_code", "received_at"),
    Index("ix_tickets_received_id", "received_at", "id"),
    Index("ix_tickets_complainant", "complainant_id"),
    # the review queues (exclusions, extensions, escalations) read these, newest first
    Index("ix_tickets_exclusion_received", "exclusion_state", "received_at"),
    Index("ix_tickets_extension_received", "extension_state", "received_at"),
    Index("ix_tickets_escalation_received", "escalation", "received_at"),
)

#: Append-only audit log; `hash` chains each row to the previous one (see `audit.py`).
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), index=True),
    Column("action", String(40), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    _ts("at", nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("payload", JSON, nullable=False, default=dict),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

#: One row that serialises appends to the hash chain (locked with SELECT ... FOR UPDATE).
#: `data_seq`/`data_hash` move only with events that change data (not with a logged view of
#: personal data or an account change): the data version of cached rankings and analyses.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("data_seq", Integer, nullable=False, server_default="0"),
    Column("data_hash", String(64), nullable=False, server_default=""),
)

#: Personal data, kept apart from requests and encrypted at rest (PIPL).
contacts = Table(
    "contacts",
    metadata,
    Column("complainant_id", String(64), primary_key=True),
    Column("name_enc", LargeBinary),
    Column("phone_enc", LargeBinary),
    Column("id_number_enc", LargeBinary),
    _ts("created_at", nullable=False),
    _ts("last_seen_at", nullable=False),
    _ts("erased_at"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("purpose", String(32), nullable=False),  # voice, picture, video, evidence ...
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(300), nullable=False),
    _ts("created_at", nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    _ts("created_at", nullable=False),
)

#: Accounts and their scope; the security issue adds login flows on top of this.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(32), nullable=False),
    Column("unit_code", String(32)),
    Column("district_code", String(32)),
    Column("active", Boolean, nullable=False, default=True),
    _ts("created_at", nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    _ts("created_at", nullable=False),
    _ts("revoked_at"),
)
