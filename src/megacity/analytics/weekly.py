"""Weekly request counts per series (category × district, or any key) from the canonical table.

Input follows `megacity analyse repeats`: a Parquet/CSV file with loosely matched headers, or
the `tickets` table of a database. Weeks run Monday to Sunday in the profile's zone (the working
week of the 12345 hotline); every series covers the same weeks, zero-filled, from the week of
the oldest request to the last complete week (the week of the newest request counts only when
that request falls on its Sunday: a half-counted week would look like a collapse).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Engine

from megacity.analytics.tables import TableError, _instants
from megacity.io.tabular import normalize_header

__all__ = ["DIMENSIONS", "WeeklySeries", "read_volume", "series_keys", "weekly_counts"]

#: Dimensions a series can be split by, and the canonical column each one reads.
DIMENSIONS = {"category": "category_code", "district": "district_code"}
EPOCH = date(1970, 1, 1)
#: Placeholder key of requests without a code, so that they are still counted.
NONE = "(none)"


@dataclass(frozen=True)
class VolumeTable:
    """One entry per request: its instant and its code in each dimension asked for."""

    times: npt.NDArray[np.float64]
    codes: dict[str, list[str | None]]


@dataclass(frozen=True)
class WeeklySeries:
    """counts[i, j] = requests of series keys[i] in the week starting on weeks[j] (a Monday)."""

    dimensions: tuple[str, ...]
    keys: list[tuple[str, ...]]
    weeks: list[date]
    counts: npt.NDArray[np.float64]


def read_volume(
    dimensions: Sequence[str],
    *,
    path: Path | None = None,
    database: str | None = None,
    engine: Engine | None = None,
    timezone: str = "Asia/Shanghai",
) -> VolumeTable:
    """Read `received_at` and the codes of `dimensions` from a file, a database URL or an engine."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TableError(f"unknown timezone {timezone!r}") from None
    wanted = ["received_at", *(DIMENSIONS[d] for d in dimensions)]
    if path is not None:
        columns = _read_file(Path(path), wanted)
    elif database is not None or engine is not None:
        columns = _read_database(wanted, database, engine)
    else:
        raise TableError("give a tickets file or a database URL")
    codes = {
        d: [
            None if v is None or not str(v).strip() else str(v).strip()
            for v in columns[DIMENSIONS[d]].to_pylist()
        ]
        for d in dimensions
    }
    return VolumeTable(times=_instants(columns["received_at"], zone), codes=codes)


def _read_file(path: Path, wanted: list[str]) -> dict[str, pa.ChunkedArray]:
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    try:
        with path.open("rb") as handle:
            parquet = handle.read(4) == b"PAR1"
        if parquet:
            header = pq.ParquetFile(path).schema_arrow.names
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
        names = _pick(header, wanted, path)
        if parquet:
            table = pq.read_table(path, columns=sorted(set(names.values())))
        else:
            table = pacsv.read_csv(
                path,
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=sorted(set(names.values())),
                    column_types={name: pa.string() for name in names.values()},
                ),
            )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableError(f"{path}: not a readable Parquet or CSV table ({first})") from None
    return {key: table.column(name) for key, name in names.items()}


def _pick(header: Sequence[str], wanted: list[str], path: Path) -> dict[str, str]:
    if not header:
        raise TableError(f"{path}: empty file")
    found: dict[str, str] = {}
    for name in header:
        found.setdefault(normalize_header(name), name)
    missing = [name for name in wanted if name not in found]
    if missing:
        raise TableError(f"{path}: missing column(s) {', '.join(missing)} (header: {', '.join(header)})")
    return {name: found[name] for name in wanted}


def _read_database(wanted: list[str], url: str | None, engine: Engine | None) -> dict[str, pa.ChunkedArray]:
    from sqlalchemy import inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from megacity.store.database import create_db_engine
    from megacity.store.tables import tickets

    own = engine is None
    try:
        if engine is None:
            parsed = make_url(url or "")
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                if not Path(parsed.database or "").is_file():
                    raise TableError(f"{parsed.database}: no such database file")
            engine = create_db_engine(url or "")
        try:
            if not inspect(engine).has_table("tickets"):
                raise TableError("the database has no tickets table (run `megacity init`)")
            with engine.connect() as conn:
                rows = conn.execute(select(*(tickets.c[name] for name in wanted))).all()
        finally:
            if own:
                engine.dispose()
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise TableError(f"cannot read the database: {str(exc).splitlines()[0]}") from None
    return {name: pa.chunked_array([pa.array([row[i] for row in rows])]) for i, name in enumerate(wanted)}


def series_keys(
    table: VolumeTable, dimensions: Sequence[str], category_level: int = 1
) -> list[tuple[str, ...]]:
    """The series key of each request: category codes cut to `category_level` (1 = two digits)."""
    width = {1: 2, 2: 4}.get(category_level)
    columns = []
    for dimension in dimensions:
        values = table.codes[dimension]
        if dimension == "category" and width is not None:
            values = [None if v is None else v[:width] for v in values]
        columns.append([NONE if v is None else v for v in values])
    return list(zip(*columns, strict=True)) if columns else [() for _ in range(len(table.times))]


def local_days(times: npt.NDArray[np.float64], zone: ZoneInfo) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 in `zone` (one offset lookup per distinct UTC hour); -1 for NaN."""
    known = ~np.isnan(times)
    hours = np.floor(times[known] / 3600.0)
    unique, inverse = np.unique(hours, return_inverse=True)
    epoch = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    offsets = np.array(
        [(epoch + timedelta(hours=float(h))).astimezone(zone).utcoffset() or timedelta() for h in unique]
    )
    seconds = np.array([o.total_seconds() for o in offsets], dtype=np.float64)
    out = np.full(len(times), -1, dtype=np.int64)
    out[known] = np.floor((times[known] + seconds[inverse]) / 86400.0).astype(np.int64)
    return out


def weekly_counts(
    times: npt.NDArray[np.float64], keys: Sequence[tuple[str, ...]], dimensions: Sequence[str], zone: ZoneInfo
) -> WeeklySeries:
    """Count requests per key and Monday-to-Sunday week; requests without a time are left out."""
    days = local_days(np.asarray(times, dtype=np.float64), zone)
    usable = np.flatnonzero(days >= 0)
    if len(usable) == 0:
        return WeeklySeries(tuple(dimensions), [], [], np.zeros((0, 0)))
    # 1970-01-01 was a Thursday: day + 3 counts from Monday 1969-12-29.
    week_index = (days[usable] + 3) // 7
    first, last = int(week_index.min()), int(week_index.max())
    if (int(days[usable].max()) + 3) % 7 != 6:  # the newest week is not complete
        last -= 1
    inside = week_index <= last
    picked = [keys[i] for i in usable.tolist()]
    names = sorted(set(picked))
    position = {key: row for row, key in enumerate(names)}
    rows = np.array([position[key] for key in picked], dtype=np.int64)[inside]
    columns = week_index[inside] - first
    width = max(0, last - first + 1)
    counts = np.zeros((len(names), width), dtype=np.float64)
    np.add.at(counts, (rows, columns), 1.0)
    weeks = [EPOCH + timedelta(days=(first + j) * 7 - 3) for j in range(width)]
    return WeeklySeries(tuple(dimensions), names, weeks, counts)
