"""Read the ticket columns that complainant profiles and abnormal-order mining need.

`analytics.tables` reads only what repeat detection needs; these analyses need the workflow
columns too (category, unit, satisfaction, dispute and reopen counts, overdue, escalation,
exclusion). A file (Parquet or CSV, headers matched loosely) or the `tickets` table is read
column by column; columns a file lacks get neutral defaults, so a canonical export (which has
no workflow columns) still yields profiles. Dispute reasons live only in the audit log, so
`read_disputes` needs a database.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import Boolean, Enum, Integer, String, select, type_coerce
from sqlalchemy.engine import Connection

from megacity.analytics.tables import RequestTable, TableError, _booleans, _codes, _instants, read_columns

__all__ = ["COLUMNS", "DisputeEvent", "Orders", "TableError", "bulk", "read_disputes", "read_orders"]

COLUMNS = (
    "id",
    "received_at",
    "title",
    "text",
    "complainant_id",
    "street_code",
    "category_code",
    "unit_code",
    "resolved",
    "callback_at",
    "satisfaction",
    "excluded",
    "exclusion_state",
    "dispute_count",
    "reopen_count",
    "overdue",
    "escalation",
)
WORKFLOW = ("excluded", "exclusion_state", "dispute_count", "reopen_count", "overdue", "escalation")
I64 = npt.NDArray[np.int64]
Column: TypeAlias = "pa.ChunkedArray | list[Any]"  # a text column read from the database is a list
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
T = TypeVar("T")


@dataclass(frozen=True)
class Orders:
    """One entry per ticket, in input order; empty strings where a code is missing."""

    ids: list[str]
    times: F64  # epoch seconds, NaN when unreadable
    titles: list[str]
    texts: list[str]
    complainants: list[str]
    streets: list[str]
    categories: list[str]
    units: list[str]
    resolved: npt.NDArray[np.int8]  # 1, 0, -1 unknown
    callbacks: F64
    satisfaction: list[str]
    excluded: BOOL  # excluded, or an exclusion requested / under review
    disputes: I64
    reopens: I64
    overdue: BOOL
    escalation: list[str]
    present: frozenset[str] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return len(self.ids)

    def request_table(self) -> RequestTable:
        """The same tickets in the form repeat detection reads."""
        return RequestTable(
            ids=self.ids,
            times=self.times,
            people=_codes(pa.chunked_array([pa.array(self.complainants, pa.string())])),
            streets=_codes(pa.chunked_array([pa.array(self.streets, pa.string())])),
            titles=list(self.titles),
            texts=list(self.texts),
            resolved=self.resolved,
            callbacks=self.callbacks,
        )


@dataclass(frozen=True)
class DisputeEvent:
    """A dispute (派单异议) or the re-dispatch that followed one, from the audit log."""

    ticket_id: str
    action: str  # dispute | redispatch | reject_dispute
    actor: str
    reason: str
    unit_code: str  # dispute: the unit that disputed; redispatch: the unit it went to


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are made and kept.

    Reading a million rows makes tens of millions of tuples, strings and list entries that all
    survive; each collection would walk them all again, and did double the reading time. Memory
    is still freed by reference counting; collection resumes (if it was on) at the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_orders(
    path: Path | None, database: str | None, timezone: str, required: Sequence[str] = ("id", "received_at")
) -> Orders:
    """Read a file or a database URL; `TableError` (one line for the user) when unusable."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TableError(f"unknown timezone {timezone!r}") from None
    if path is not None:
        columns = read_columns(Path(path), COLUMNS, required)
    elif database is not None:
        columns = _with_database(database, _database_columns)
    else:
        raise TableError("give a tickets file or a database URL")
    return orders_from_columns(columns, zone)


def read_orders_from(conn: Connection, timezone: str, columns: Sequence[str] = COLUMNS) -> Orders:
    """The tickets table through an open connection (services and the API); only `columns`
    are read (the others get their neutral defaults)."""
    return orders_from_columns(_database_columns(conn, columns), ZoneInfo(timezone))


def read_disputes(database: str) -> list[DisputeEvent]:
    """Dispute, reject-dispute and redispatch events of the audit log, oldest first."""
    return _with_database(database, disputes_from)


def disputes_from(conn: Connection) -> list[DisputeEvent]:
    """Dispatch events are read too, to know which unit held the ticket when it was disputed."""
    from megacity.store.tables import audit_events as ev

    wanted = ("dispatch", "dispute", "redispatch", "reject_dispute")
    query = (
        select(ev.c.ticket_id, ev.c.action, ev.c.actor, ev.c.reason, ev.c.payload)
        .where(ev.c.action.in_(wanted), ev.c.ticket_id.is_not(None))
        .order_by(ev.c.seq)
    )
    holder: dict[str, str] = {}
    out: list[DisputeEvent] = []
    for row in conn.execute(query):
        ticket, action = str(row.ticket_id), str(row.action)
        moved = str((row.payload or {}).get("unit_code") or "")
        if action in ("dispatch", "redispatch") and moved:
            holder[ticket] = moved
        if action == "dispatch":
            continue
        unit = moved if action == "redispatch" else holder.get(ticket, "")
        reason = str(row.reason or "").strip()
        out.append(DisputeEvent(ticket, action, str(row.actor), reason, unit))
    return out


def _with_database(url: str, read: Callable[[Connection], T]) -> T:
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from megacity.store.database import create_db_engine

    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not Path(parsed.database or "").is_file():
                raise TableError(f"{parsed.database}: no such database file")
        engine = create_db_engine(url)
        try:
            if not inspect(engine).has_table("tickets"):
                raise TableError(f"{parsed.render_as_string()}: no tickets table (run `megacity init`)")
            with engine.connect() as conn:
                return read(conn)
        finally:
            engine.dispose()
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise TableError(f"cannot read the database: {str(exc).splitlines()[0]}") from None


def _database_columns(conn: Connection, names: Sequence[str] = COLUMNS) -> dict[str, Column]:
    return select_columns(conn, names)


def select_columns(conn: Connection, names: Sequence[str], where: Any = None) -> dict[str, Column]:
    """Columns of the tickets table (those `where` selects), in (received_at, id) order.

    Text columns stay the Python lists the driver gave (they are used as `str` anyway: a round
    trip through pyarrow costs seconds at a million rows); instants and the rest are pyarrow.
    SQLite keeps instants as naive UTC text; they are read as text and parsed by pyarrow in one
    call, not one `datetime` per value (a million rows have two million instants).
    """
    from megacity.store.tables import Instant, tickets

    sqlite = conn.dialect.name == "sqlite"
    kinds = {name: tickets.c[name].type for name in names}
    stamps = {name for name, kind in kinds.items() if sqlite and isinstance(kind, Instant)}
    wanted = [type_coerce(tickets.c[n], String).label(n) if n in stamps else tickets.c[n] for n in names]
    query = select(*wanted).order_by(tickets.c.received_at, tickets.c.id)
    plain = sqlite and where is None and all(_driver_value(kind) for kind in kinds.values())
    if plain:  # nothing to convert but booleans: the driver's tuples, not SQLAlchemy's Rows
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            sql = str(query.compile(dialect=conn.dialect))
            rows: Sequence[Sequence[Any]] = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
    else:
        rows = conn.execute(query if where is None else query.where(where)).all()
    values: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    out: dict[str, Column] = {}
    for name, column in zip(names, values, strict=True):
        if name in stamps:
            out[name] = _utc_text(column)
        elif isinstance(kinds[name], String):
            out[name] = list(column)
        elif plain and isinstance(kinds[name], Boolean):  # SQLite's 0/1, as SQLAlchemy reads them
            out[name] = pa.chunked_array([pa.array([None if v is None else bool(v) for v in column])])
        else:
            out[name] = pa.chunked_array([pa.array(column)])
    return out


def _driver_value(kind: Any) -> bool:
    """Whether SQLite's value of a column of this type is what SQLAlchemy would give (or, for
    a boolean, its 0/1): plain text, integers, and instants read as text."""
    from megacity.store.tables import Instant

    if isinstance(kind, Enum):
        return False
    return isinstance(kind, String | Integer | Boolean | Instant)


def _utc_text(values: Sequence[str | None]) -> pa.ChunkedArray:
    """SQLite's naive UTC text ("2025-01-02 03:04:05.000006") as UTC instants."""
    text = pa.array(values, pa.string())
    try:
        stamps = text.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = [None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC) for v in values]
        stamps = pa.array(parsed, pa.timestamp("us", tz="UTC"))
    return pa.chunked_array([stamps])


def orders_from_columns(columns: Mapping[str, Column], zone: ZoneInfo) -> Orders:
    """Typed per-ticket lists from raw columns; missing columns get neutral defaults. Text
    columns may be pyarrow or Python lists; the others are pyarrow."""
    ids = _text(columns.get("id"), 0)
    count = len(ids)
    state = _text(columns.get("exclusion_state"), count)
    excluded = _flags(columns.get("excluded"), count) == 1
    excluded |= np.array([s not in ("", "none", "rejected") for s in state], dtype=bool)
    return Orders(
        ids=ids,
        times=_instants(columns["received_at"], zone) if "received_at" in columns else np.full(count, np.nan),
        titles=_text(columns.get("title"), count, strip=False),
        texts=_text(columns.get("text"), count, strip=False),
        complainants=_text(columns.get("complainant_id"), count),
        streets=_text(columns.get("street_code"), count),
        categories=_text(columns.get("category_code"), count),
        units=_text(columns.get("unit_code"), count),
        resolved=_flags(columns.get("resolved"), count),
        callbacks=_instants(columns["callback_at"], zone)
        if "callback_at" in columns
        else np.full(count, np.nan),
        satisfaction=[s.casefold() for s in _text(columns.get("satisfaction"), count)],
        excluded=excluded,
        disputes=_integers(columns.get("dispute_count"), count),
        reopens=_integers(columns.get("reopen_count"), count),
        overdue=_flags(columns.get("overdue"), count) == 1,
        escalation=[s.casefold() or "none" for s in _text(columns.get("escalation"), count)],
        present=frozenset(columns),
    )


def _text(column: Column | None, count: int, *, strip: bool = True) -> list[str]:
    if column is None:
        return [""] * count
    if isinstance(column, list):
        if strip:
            try:
                return [v.strip() for v in column]  # the usual case: every value a str
            except AttributeError:
                pass
        values = [v if v.__class__ is str else "" if v is None else str(v) for v in column]
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = column.fill_null("").to_pylist()  # already str: no str() per value
    else:
        values = ["" if v is None else str(v) for v in column.to_pylist()]
    return [v.strip() for v in values] if strip else values


def _flags(column: pa.ChunkedArray | None, count: int) -> npt.NDArray[np.int8]:
    """`tables._booleans`, without a loop when the column is already boolean (the database)."""
    if column is None or not pa.types.is_boolean(column.type):
        return _booleans(column, count)
    known = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    truth = np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return np.where(known, truth.astype(np.int8), np.int8(-1)).astype(np.int8)


def _integers(column: pa.ChunkedArray | None, count: int) -> I64:
    out = np.zeros(count, dtype=np.int64)
    if column is None:
        return out
    if pa.types.is_integer(column.type):  # the database: no parsing, missing counts are 0
        return np.asarray(column.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    for row, value in enumerate(column.to_pylist()):
        try:
            out[row] = int(float(str(value).strip())) if value not in (None, "") else 0
        except ValueError:
            out[row] = 0
    return out
