"""The hash-chained, append-only audit log.

Each row's hash covers the previous hash and the row's own fields, so any edit or deletion
breaks the chain from that row on. Appends are serialised through the single `audit_head`
row, locked for the length of the transaction that records the change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from megacity.domain.tickets import TicketEvent
from megacity.store.tables import Instant, audit_events, audit_head

GENESIS = "0" * 64
#: Events that change no request, directory or topic: a logged view of personal data, account,
#: key and model bookkeeping. They extend the chain but leave the data version (`audit_head.
#: data_seq`) alone, so cached rankings and analyses stay valid while people only look.
BOOKKEEPING_ACTIONS = frozenset(
    {
        "view_personal_data",
        "create_user",
        "change_password",
        "enable_user",
        "disable_user",
        "create_api_key",
        "revoke_api_key",
        "rotate_keys",
        "dispatch_model_trained",
    }
)


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON form of the row."""
    body = {k: row[k] for k in sorted(row) if k not in {"seq", "hash", "prev_hash"}}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=_json_default)
    return hashlib.sha256(f"{prev_hash}|{text}".encode()).hexdigest()


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def _row(event: TicketEvent) -> dict[str, Any]:
    return {
        "ticket_id": event.ticket_id,
        "action": event.action,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "actor": event.actor,
        "role": event.role,
        "at": event.at,
        "reason": event.reason,
        "payload": event.payload,
    }


class AuditLog:
    """Appends events to the chain inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def append(self, events: Sequence[TicketEvent]) -> None:
        """Chain the events of ticket state changes."""
        self._chain([_row(e) for e in events])

    def note(
        self,
        *,
        action: str,
        actor: str,
        role: str,
        at: datetime,
        ticket_id: str | None = None,
        payload: dict[str, Any] | None = None,
        reason: str = "",
    ) -> None:
        """Chain an event that is not a state change: a view of personal data, an account change ..."""
        row = {
            "ticket_id": ticket_id,
            "action": action,
            "from_status": None,
            "to_status": None,
            "actor": actor,
            "role": role,
            "at": at,
            "reason": reason,
            "payload": payload or {},
        }
        self._chain([row])

    def _chain(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        head = self._conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
        ).one()
        prev, count = head.hash, head.seq
        for row in rows:
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(prev, _hashable(row))
        self._conn.execute(insert(audit_events), rows)
        values: dict[str, Any] = {"seq": count + len(rows), "hash": prev}
        if any(row["action"] not in BOOKKEEPING_ACTIONS for row in rows):
            values.update(data_seq=count + len(rows), data_hash=prev)
        self._conn.execute(update(audit_head).where(audit_head.c.id == 1).values(**values))

    def for_ticket(self, ticket_id: str) -> list[dict[str, Any]]:
        result = self._conn.execute(
            select(audit_events).where(audit_events.c.ticket_id == ticket_id).order_by(audit_events.c.seq)
        )
        return [dict(r._mapping) for r in result]

    def last_status_change(self, ticket_ids: Sequence[str]) -> dict[str, datetime]:
        """When each ticket last changed status, in one grouped query (list views would otherwise
        read each ticket's whole history)."""
        if not ticket_ids:
            return {}
        at = func.max(audit_events.c.at, type_=Instant())
        result = self._conn.execute(
            select(audit_events.c.ticket_id, at)
            .where(audit_events.c.ticket_id.in_(list(ticket_ids)), audit_events.c.to_status.is_not(None))
            .group_by(audit_events.c.ticket_id)
        )
        return {row.ticket_id: row[1] for row in result}


def _hashable(row: dict[str, Any]) -> dict[str, Any]:
    """The fields the hash covers, with the instant in UTC so every engine agrees."""
    out = dict(row)
    out["at"] = row["at"].astimezone(UTC).isoformat()
    return out


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # seq of the first row that does not verify
    reason: str = ""


def verify_chain(rows: Iterable[dict[str, Any]], expected_count: int | None = None) -> ChainReport:
    """Recompute every hash in `seq` order; report the first break."""
    prev, checked = GENESIS, 0
    for row in rows:
        if row["prev_hash"] != prev:
            return ChainReport(checked, row["seq"], "previous hash does not match")
        if event_hash(prev, _hashable(row)) != row["hash"]:
            return ChainReport(checked, row["seq"], "row content does not match its hash")
        prev, checked = row["hash"], checked + 1
    if expected_count is not None and checked != expected_count:
        return ChainReport(checked, None, f"head says {expected_count} rows, found {checked}")
    return ChainReport(checked, None)


def iter_chain(conn: Connection, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """All audit rows in chain order, streamed."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        select(audit_events).order_by(audit_events.c.seq)
    )
    for r in result:
        yield dict(r._mapping)


def data_version(conn: Connection) -> str:
    """`data_seq:data_hash` of the audit head: it changes with every event that changes data.

    The hash matters as well as the number: a database emptied and refilled (a restore, a test)
    can reach the same sequence number with other contents, never the same hash chain.
    """
    head = conn.execute(
        select(audit_head.c.data_seq, audit_head.c.data_hash).where(audit_head.c.id == 1)
    ).first()
    return f"{head[0]}:{head[1]}" if head is not None else "0:"
