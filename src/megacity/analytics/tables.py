"""Read the columns analytics need from a canonical ticket table: Parquet, CSV or the database.

Files are read column-wise with pyarrow (only the columns asked for; any other column may be
missing). Header names are matched loosely, as on import (`Received At` = `received_at`). Times
become epoch seconds: an instant keeps its offset, a time without a zone is wall-clock time of
`timezone`. Complainant and street codes become small integers (-1 = empty), ids stay strings.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from megacity.io.rows import parse_timestamp
from megacity.io.tabular import normalize_header

__all__ = ["OPTIONAL", "REQUIRED", "RequestTable", "TableError", "read_requests"]

REQUIRED = ("id", "received_at", "text", "complainant_id", "street_code")
OPTIONAL = ("title", "resolved", "callback_at")
_TRUE = {"true", "t", "yes", "y", "1", "是"}
_FALSE = {"false", "f", "no", "n", "0", "否"}


class TableError(Exception):
    """The input cannot be used: missing file, column or table (one line for the user)."""


@dataclass(frozen=True)
class RequestTable:
    """One entry per request, in input order."""

    ids: list[str]
    times: npt.NDArray[np.float64]  # epoch seconds; NaN when missing or unparseable
    people: npt.NDArray[np.int64]  # complainant as a small integer, -1 when empty
    streets: npt.NDArray[np.int64]  # street as a small integer, -1 when empty
    titles: list[str | None]
    texts: list[str | None]
    resolved: npt.NDArray[np.int8]  # 1 resolved, 0 not resolved, -1 unknown
    callbacks: npt.NDArray[np.float64]  # callback time in epoch seconds, NaN when unknown

    def __len__(self) -> int:
        return len(self.ids)


def read_requests(
    path: Path | None = None, database: str | None = None, timezone: str = "Asia/Shanghai"
) -> RequestTable:
    """Read a Parquet or CSV file (`path`) or the `tickets` table of a Megacity database."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TableError(f"unknown timezone {timezone!r}") from None
    if path is not None:
        columns = read_columns(Path(path), REQUIRED + OPTIONAL, REQUIRED)
    elif database is not None:
        columns = _read_database(database)
    else:
        raise TableError("give a tickets file or a database URL")
    return _table(columns, zone)


def read_columns(path: Path, wanted: Sequence[str], required: Sequence[str]) -> dict[str, pa.ChunkedArray]:
    """The `wanted` canonical columns present in a Parquet or CSV file, as strings for CSV;
    a clear `TableError` if the file is unreadable or lacks a `required` one."""
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    with path.open("rb") as handle:
        magic = handle.read(4)
    try:
        if magic == b"PAR1":
            names = _pick(pq.ParquetFile(path).schema_arrow.names, path, wanted, required)
            table = pq.read_table(path, columns=sorted(set(names.values())))
            return {key: table.column(name) for key, name in names.items()}
        return _read_csv(path, wanted, required)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableError(f"{path}: not a readable Parquet or CSV table ({first})") from None


def _pick(
    header: Sequence[str], path: Path, wanted: Sequence[str], required: Sequence[str]
) -> dict[str, str]:
    """Canonical column name -> name in the file, for the columns we use; error if one is missing."""
    found: dict[str, str] = {}
    for name in header:
        key = normalize_header(name)
        if key in wanted and key not in found:
            found[key] = name
    missing = [name for name in required if name not in found]
    if missing:
        raise TableError(f"{path}: missing column(s) {', '.join(missing)} (header: {', '.join(header)})")
    return found


def _read_csv(path: Path, wanted: Sequence[str], required: Sequence[str]) -> dict[str, pa.ChunkedArray]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    if not header:
        raise TableError(f"{path}: empty file")
    names = _pick(header, path, wanted, required)
    if len(set(header)) != len(header):
        header = [f"{name}\x00{i}" for i, name in enumerate(header)]  # pyarrow needs unique names
        names = {key: next(h for h in header if h.split("\x00")[0] == name) for key, name in names.items()}
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            include_columns=sorted(set(names.values())),
            column_types={name: pa.string() for name in names.values()},
            strings_can_be_null=False,
        ),
    )
    return {key: table.column(name) for key, name in names.items()}


def _read_database(url: str) -> dict[str, pa.ChunkedArray]:
    from sqlalchemy import inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from megacity.store.database import create_db_engine
    from megacity.store.tables import tickets

    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not Path(parsed.database or "").is_file():
                raise TableError(f"{parsed.database}: no such database file")
        engine = create_db_engine(url)
        try:
            if not inspect(engine).has_table("tickets"):
                raise TableError(f"{parsed.render_as_string()}: no tickets table (run `megacity init`)")
            wanted = [tickets.c[name] for name in REQUIRED + OPTIONAL]
            with engine.connect() as conn:
                rows = conn.execute(select(*wanted).order_by(tickets.c.received_at, tickets.c.id)).all()
        finally:
            engine.dispose()
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise TableError(f"cannot read the database: {str(exc).splitlines()[0]}") from None
    return {
        name: pa.chunked_array([pa.array([row[i] for row in rows])])
        for i, name in enumerate(REQUIRED + OPTIONAL)
    }


def _table(columns: dict[str, pa.ChunkedArray], zone: ZoneInfo) -> RequestTable:
    ids = [("" if value is None else str(value).strip()) for value in columns["id"].to_pylist()]
    count = len(ids)
    return RequestTable(
        ids=ids,
        times=_instants(columns["received_at"], zone),
        people=_codes(columns["complainant_id"]),
        streets=_codes(columns["street_code"]),
        titles=_strings(columns.get("title"), count),
        texts=_strings(columns["text"], count),
        resolved=_booleans(columns.get("resolved"), count),
        callbacks=_instants(columns["callback_at"], zone)
        if "callback_at" in columns
        else np.full(count, np.nan),
    )


def _strings(column: pa.ChunkedArray | None, count: int) -> list[str | None]:
    if column is None:
        return [None] * count
    return [None if value is None else str(value) for value in column.to_pylist()]


def _codes(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Each distinct non-empty code (outer whitespace ignored) as 0, 1, 2, ...; -1 for empty."""
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    encoded = pc.dictionary_encode(text).combine_chunks()
    return np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _booleans(column: pa.ChunkedArray | None, count: int) -> npt.NDArray[np.int8]:
    out = np.full(count, -1, dtype=np.int8)
    if column is None:
        return out
    for row, value in enumerate(column.to_pylist()):
        word = str(value).strip().casefold() if value is not None else ""
        out[row] = 1 if value is True or word in _TRUE else 0 if value is False or word in _FALSE else -1
    return out


def _instants(column: pa.ChunkedArray, zone: ZoneInfo) -> npt.NDArray[np.float64]:
    kind = column.type
    if pa.types.is_timestamp(kind):
        micros = column.cast(pa.timestamp("us", tz=kind.tz)).cast(pa.int64()).to_numpy(zero_copy_only=False)
        seconds = np.asarray(micros, dtype=np.float64) / 1e6  # nulls come out as NaN
        return seconds if kind.tz else _localise(seconds, zone)
    if pa.types.is_date(kind):
        days = column.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False)
        return _localise(np.asarray(days, dtype=np.float64) * 86400.0, zone)
    return _parse_times(column.cast(pa.string()).to_pylist(), zone)


def _localise(wall: npt.NDArray[np.float64], zone: ZoneInfo) -> npt.NDArray[np.float64]:
    """Wall-clock seconds (as if UTC) to instants in `zone`, one offset lookup per distinct hour."""
    hours = np.floor(wall / 3600.0)
    known = ~np.isnan(hours)
    unique, inverse = np.unique(hours[known], return_inverse=True)
    epoch = datetime(1970, 1, 1)
    offsets = np.array([_offset(epoch + timedelta(hours=float(h)), zone) for h in unique], dtype=np.float64)
    out = np.full(len(wall), np.nan)
    out[known] = wall[known] - offsets[inverse]
    return out


def _offset(wall: datetime, zone: ZoneInfo) -> float:
    delta = wall.replace(tzinfo=zone).utcoffset()
    return delta.total_seconds() if delta is not None else 0.0


def _parse_times(values: Iterable[Any], zone: ZoneInfo) -> npt.NDArray[np.float64]:
    out: list[float] = []
    for value in values:
        text = value.strip() if isinstance(value, str) else value
        try:
            moment = datetime.fromisoformat(text) if isinstance(text, str) else None
            if moment is not None and moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
        except ValueError:
            moment = None
        if moment is None:
            try:
                moment = parse_timestamp(text, zone)
            except ValueError:
                moment = None
        out.append(moment.timestamp() if moment is not None else math.nan)
    return np.array(out, dtype=np.float64)
