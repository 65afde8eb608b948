"""Bring a ticket source into DuckDB as a view `tickets` with the canonical types.

Parquet with canonical types is a plain projection (filters reach the Parquet scan). CSV is
read as text and parsed: ISO-8601 times (an offset is honoured, a time without one is local
time of the profile's zone), booleans ``true``/``false`` (also ``t/f``, ``yes/no``, ``1/0``,
``是/否``), empty cells null. Header names are matched loosely (``Received At`` =
``received_at``). Only the columns the assessment needs are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from megacity.assessment.errors import SourceError
from megacity.assessment.expressions import REQUIRED_COLUMNS, TICKET_COLUMNS
from megacity.store.database import engine_for
from megacity.store.tables import tickets as tickets_table

VIEW = "tickets"
_TRUE = ("true", "t", "yes", "y", "1", "是")
_FALSE = ("false", "f", "no", "n", "0", "否")
_NAIVE_TIMES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE")
_OFFSET = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)$"
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")


def normalise_name(name: str) -> str:
    """A header name as a canonical column name.

    >>> normalise_name(" Received At ")
    'received_at'
    """
    return re.sub(r"[\s\-]+", "_", name.strip().lower().lstrip("\ufeff"))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_parquet(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PAR1"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SourceError(f"cannot read {path}: no such file")
    if not path.is_file():
        raise SourceError(f"cannot read {path}: not a regular file")
    if path.stat().st_size == 0:
        raise SourceError(f"cannot read {path}: the file is empty")


def stage_file(raw: Any, path: Path, timezone: str) -> None:
    """Create the view `tickets` over a Parquet or CSV file."""
    _check_file(path)
    try:
        if is_parquet(path):
            relation, text = f"read_parquet({_quote(str(path))})", False
        else:
            raw.execute(
                f"CREATE TEMP TABLE raw_csv AS SELECT * FROM read_csv({_quote(str(path))}, "
                "all_varchar = true, header = true)"
            )
            relation, text = "raw_csv", True
        columns = {
            row[0]: str(row[1]) for row in raw.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        }
    except Exception as exc:
        if isinstance(exc, SourceError):
            raise
        raise SourceError(f"cannot read {path}: {_first_line(exc)}") from None
    selects, checks = _normalising(columns, timezone, text, path)
    if checks:
        _verify(raw, relation, checks, path)
    raw.execute(f"CREATE VIEW {VIEW} AS SELECT {', '.join(selects)} FROM {relation}")


def _normalising(
    columns: dict[str, str], timezone: str, text: bool, path: Path
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """SELECT items giving canonical names and types, and (column, raw, parsed) checks."""
    by_name = {normalise_name(name): name for name in columns}
    missing = [c for c in REQUIRED_COLUMNS if c not in by_name]
    if missing:
        raise SourceError(f"cannot read {path}: missing column(s) {', '.join(missing)}")
    selects: list[str] = []
    checks: list[tuple[str, str, str]] = []
    for target, dtype in TICKET_COLUMNS.items():
        if target not in by_name:
            continue
        source = by_name[target]
        raw_sql, kind = _ident(source), columns[source].upper()
        parsed = _convert(raw_sql, kind, dtype, timezone, text)
        if parsed is None:
            raise SourceError(f"cannot read {path}: column {source} has type {kind}, expected {dtype}")
        if kind == "VARCHAR" and not dtype.is_string():
            checks.append((source, raw_sql, parsed))
        selects.append(f"{parsed} AS {_ident(target)}")
    return selects, checks


def _convert(raw: str, kind: str, dtype: dt.DataType, timezone: str, text: bool) -> str | None:
    trimmed = f"NULLIF(TRIM({raw}), '')"
    if dtype.is_string():
        return (trimmed if text else raw) if kind == "VARCHAR" else f"CAST({raw} AS VARCHAR)"
    if dtype.is_boolean():
        if kind == "BOOLEAN":
            return raw
        if kind in _INTEGERS:
            return f"({raw} <> 0)"
        if kind == "VARCHAR":
            low = f"lower({trimmed})"
            true, false = ", ".join(map(_quote, _TRUE)), ", ".join(map(_quote, _FALSE))
            return f"(CASE WHEN {low} IN ({true}) THEN TRUE WHEN {low} IN ({false}) THEN FALSE END)"
        return None
    zone = _quote(timezone)
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return raw
    if kind.split("(")[0] in _NAIVE_TIMES:
        return f"timezone({zone}, CAST({raw} AS TIMESTAMP))"
    if kind == "VARCHAR":
        with_offset = f"regexp_matches({trimmed}, {_quote(_OFFSET)})"
        return (
            f"(CASE WHEN {with_offset} THEN TRY_CAST({trimmed} AS TIMESTAMPTZ) "
            f"ELSE timezone({zone}, TRY_CAST({trimmed} AS TIMESTAMP)) END)"
        )
    return None


def _verify(raw: Any, relation: str, checks: list[tuple[str, str, str]], path: Path) -> None:
    """Every non-empty text value of a time or boolean column must parse."""
    items = []
    for _, source, parsed in checks:
        bad = f"NULLIF(TRIM({source}), '') IS NOT NULL AND ({parsed}) IS NULL"
        items.append(f"count(*) FILTER (WHERE {bad}), min({source}) FILTER (WHERE {bad})")
    row = raw.execute(f"SELECT {', '.join(items)} FROM {relation}").fetchone()
    for i, (name, _, _) in enumerate(checks):
        count, example = row[2 * i], row[2 * i + 1]
        if count:
            kind = "times" if "TIMESTAMP" in checks[i][2] else "booleans"
            raise SourceError(
                f"cannot read {path}: {count} value(s) of {name} are not {kind} (e.g. {str(example)[:40]!r})"
            )


def is_canonical_parquet(path: Path) -> bool:
    """A Parquet file whose needed columns have the canonical names and Arrow types."""
    _check_file(path)
    if not is_parquet(path):
        return False
    try:
        schema = pq.read_schema(path)
    except Exception:
        return False
    for name, dtype in TICKET_COLUMNS.items():
        if name not in schema.names:
            if name in REQUIRED_COLUMNS:
                return False
            continue
        arrow = schema.field(name).type
        if dtype.is_timestamp() and not (pa.types.is_timestamp(arrow) and arrow.tz is not None):
            return False
        if dtype.is_boolean() and not pa.types.is_boolean(arrow):
            return False
        if dtype.is_string() and not (pa.types.is_string(arrow) or pa.types.is_large_string(arrow)):
            return False
    return True


def arrow_schema() -> pa.Schema:
    def arrow_type(dtype: dt.DataType) -> pa.DataType:
        if dtype.is_timestamp():
            return pa.timestamp("us", tz="UTC")
        return pa.bool_() if dtype.is_boolean() else pa.string()

    return pa.schema([pa.field(name, arrow_type(dtype)) for name, dtype in TICKET_COLUMNS.items()])


def read_database(url: str, window: tuple[datetime, datetime]) -> pa.Table:
    """The tickets received in `window` from the operational database, through SQLAlchemy."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(str(parsed.database)).is_file():
            raise SourceError(f"database {parsed.database} does not exist")
    try:
        engine = engine_for(url)
        if not inspect(engine).has_table("tickets"):
            raise SourceError(f"{parsed.render_as_string()} has no tickets table: run `megacity init`")
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"cannot open {parsed.render_as_string()}: {_first_line(exc)}") from None
    schema = arrow_schema()
    columns = [tickets_table.c[name] for name in schema.names]
    received = tickets_table.c.received_at
    statement = select(*columns).where(received >= window[0], received < window[1])
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=20000).execute(statement)
        batches = [
            pa.RecordBatch.from_arrays(
                [
                    pa.array(list(values), type=schema.field(i).type)
                    for i, values in enumerate(zip(*rows, strict=True))
                ],
                schema=schema,
            )
            for rows in _chunks(result.partitions())
        ]
    return pa.Table.from_batches(batches, schema=schema)


def _chunks(partitions: Iterator[Any]) -> Iterator[list[Any]]:
    for part in partitions:
        if part:
            yield list(part)


def stage_arrow(raw: Any, table: pa.Table) -> None:
    """Create the view `tickets` over an Arrow table with the canonical schema."""
    raw.register("tickets_arrow", table)
    raw.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM tickets_arrow")


def write_normalised_parquet(
    tickets: Path | None, database: str | None, timezone: str, window: tuple[datetime, datetime], out: Path
) -> None:
    """Normalise a source with DuckDB and write the window's tickets as canonical Parquet."""
    import duckdb

    raw = duckdb.connect()
    try:
        raw.execute("SET TimeZone = 'UTC'")
        if tickets is not None:
            stage_file(raw, tickets, timezone)
        else:
            assert database is not None
            stage_arrow(raw, read_database(database, window))
        start, end = (_quote(w.isoformat()) for w in window)
        raw.execute(
            f"COPY (SELECT * FROM {VIEW} WHERE received_at >= CAST({start} AS TIMESTAMPTZ) "
            f"AND received_at < CAST({end} AS TIMESTAMPTZ)) TO {_quote(str(out))} (FORMAT parquet)"
        )
    finally:
        raw.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
