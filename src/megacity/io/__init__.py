"""File readers and writers of the canonical ticket table: pure I/O, no database, no profile.

`read_tickets` turns a CSV, xlsx or Parquet file in one of the known formats (canonical,
Teddy Cup message board, NYC 311) into canonical rows, one `ParsedRow` or `RowError` per record;
`write_tickets` writes the canonical table as Parquet or CSV. See docs/canonical-table.md.
"""

from __future__ import annotations

from megacity.io.detect import FORMATS, count_rows, detect_format, read_tickets
from megacity.io.export import EXPORT_FORMATS, parquet_schema, write_row_errors, write_tickets
from megacity.io.rows import (
    ParsedRow,
    RowError,
    UnreadableFileError,
    clean_text,
    parse_bool,
    parse_float,
    parse_timestamp,
)

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ParsedRow",
    "RowError",
    "UnreadableFileError",
    "clean_text",
    "count_rows",
    "detect_format",
    "parquet_schema",
    "parse_bool",
    "parse_float",
    "parse_timestamp",
    "read_tickets",
    "write_row_errors",
    "write_tickets",
]
