"""Writers of the canonical ticket table (Parquet, CSV) and of the rejected-row report.

The output is exactly what `read_tickets(format="canonical")` reads back, value for value: that
round trip is the contract other tools (Spark, pandas, R, Excel) rely on. Files are written to a
temporary sibling and renamed, so an interrupted export never leaves a half-written table behind.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from megacity.domain.tickets import CANONICAL_COLUMNS, TIMESTAMP_COLUMNS
from megacity.io.rows import RowError

__all__ = ["EXPORT_FORMATS", "parquet_schema", "write_row_errors", "write_tickets"]

EXPORT_FORMATS: tuple[str, ...] = ("parquet", "csv")
FLOAT_COLUMNS = frozenset({"lon", "lat"})
BOOL_COLUMNS = frozenset({"resolved", "excluded"})
BATCH_ROWS = 8192


def parquet_schema() -> Any:
    """The explicit Arrow schema: instants as UTC microseconds, so every engine agrees on them."""
    import pyarrow as pa

    def arrow_type(column: str) -> Any:
        if column in TIMESTAMP_COLUMNS:
            return pa.timestamp("us", tz="UTC")
        if column in FLOAT_COLUMNS:
            return pa.float64()
        if column in BOOL_COLUMNS:
            return pa.bool_()
        return pa.string()

    return pa.schema([pa.field(column, arrow_type(column)) for column in CANONICAL_COLUMNS])


def _instant(column: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{column}: expected a timezone-aware datetime, got {value!r}")
    return value


def _normalised(row: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical columns only, enums as their values, NaN as null (pandas' way of saying null)."""
    out: dict[str, Any] = {}
    for column in CANONICAL_COLUMNS:
        value = row.get(column)
        if isinstance(value, float) and math.isnan(value):
            value = None
        if column in TIMESTAMP_COLUMNS:
            value = _instant(column, value)
        elif column in FLOAT_COLUMNS:
            value = None if value is None else float(value)
        elif column in BOOL_COLUMNS:
            value = None if value is None else bool(value)
        elif isinstance(value, Enum):
            value = str(value.value)
        elif value is not None:
            value = str(value)
        out[column] = value
    if out["id"] is None:
        raise ValueError("id: every exported row needs an id")
    return out


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _batches(rows: Iterable[Mapping[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(_normalised(row))
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_csv(rows: Iterable[Mapping[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANONICAL_COLUMNS)
        for batch in _batches(rows):
            writer.writerows([_csv_cell(row[column]) for column in CANONICAL_COLUMNS] for row in batch)
            count += len(batch)
    return count


def _arrow_value(column: str, value: Any) -> Any:
    if column in TIMESTAMP_COLUMNS and value is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # Arrow reads naive values as UTC
    return value


def _write_parquet(rows: Iterable[Mapping[str, Any]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in _batches(rows):
            arrays = [
                pa.array([_arrow_value(field.name, row[field.name]) for row in batch], type=field.type)
                for field in schema
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
    return count


def write_tickets(rows: Iterable[Mapping[str, Any]], path: Path, *, format: str) -> int:
    """Write rows as the canonical table ("parquet" or "csv"); returns the number of rows written.

    Rows are mappings with canonical keys (others are ignored, missing ones are null). Timestamps
    must be timezone-aware; CSV keeps each value's offset, Parquet stores UTC.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        count = _write_csv(rows, partial) if format == "csv" else _write_parquet(rows, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def write_row_errors(errors: Iterable[RowError], path: Path) -> int:
    """The rejected-row report: UTF-8 CSV with columns row, field, reason; returns rows written."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("row", "field", "reason"))
        for error in errors:
            writer.writerow((error.row, error.field, error.reason))
            count += 1
    return count
