"""Pick the reader for a file by its header and run it.

Detection looks at column names only, never at values, so it is cheap, predictable and explains
itself: the error lists the header it saw. Everything that makes a whole file unusable is raised
here, eagerly, before the first row is read; after that, bad rows only ever become `RowError`s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from megacity.io import canonical, nyc311, teddycup
from megacity.io.rows import Mapper, ParsedRow, RowError, UnreadableFileError, run_mapper
from megacity.io.tabular import Table, is_blank, normalize_header, open_table, parquet_row_count

__all__ = ["FORMATS", "count_rows", "detect_format", "read_tickets"]

READERS: dict[str, Callable[[tuple[str, ...], tzinfo], Mapper]] = {
    "canonical": canonical.make_mapper,
    "teddycup": teddycup.make_mapper,
    "nyc311": nyc311.make_mapper,
}
#: Values accepted by `read_tickets(format=...)`.
FORMATS: tuple[str, ...] = ("auto", *READERS)
#: Text tables larger than this are not pre-counted: counting would cost a full extra parse.
COUNT_LIMIT_BYTES = 64 * 1024 * 1024


def format_of_header(header: tuple[str, ...]) -> str | None:
    """The format a header belongs to, or None; Teddy Cup first, its columns are unmistakable."""
    keys = {normalize_header(name) for name in header}
    if teddycup.KEY_COLUMN in {key.replace("_", "") for key in keys}:
        return "teddycup"
    if all(key in keys for key in nyc311.KEY_COLUMNS):
        return "nyc311"
    if all(key in keys for key in canonical.REQUIRED):
        return "canonical"
    return None


def detect_format(path: Path) -> str:
    """Return "canonical", "teddycup" or "nyc311" from the header; UnreadableFileError otherwise."""
    return _detect(open_table(Path(path)))


def _detect(table: Table) -> str:
    header, path = table.header, table.path
    found = format_of_header(header)
    if found is None:
        shown = ", ".join(header[:12]) + (" …" if len(header) > 12 else "")
        raise UnreadableFileError(
            f"{path}: unknown table format (header: {shown}); expected 留言编号 (teddycup), "
            "unique key + created date (nyc311) or id + received_at (canonical)"
        )
    return found


def zone(name: str) -> ZoneInfo:
    """An IANA zone; a wrong name is a usage error of the whole import, hence UnreadableFileError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnreadableFileError(f"unknown timezone {name!r}") from None


def read_tickets(
    path: Path,
    *,
    format: str = "auto",
    timezone: str | None = None,
    default_timezone: str = "Asia/Shanghai",
) -> Iterator[ParsedRow | RowError]:
    """Canonical rows of a file, one `ParsedRow` or `RowError` per non-blank data record.

    Raises UnreadableFileError immediately (not on first iteration) when the file is missing, not
    a table, of unknown format, lacks required columns, or `timezone` is not a zone. Naive times
    are read in `timezone` if given, else America/New_York for NYC 311, else `default_timezone`.
    """
    if format not in FORMATS:
        raise UnreadableFileError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    table = open_table(Path(path))
    chosen = format if format != "auto" else _detect(table)
    fallback = nyc311.TIMEZONE if chosen == "nyc311" else default_timezone
    mapper = READERS[chosen](table.header, zone(timezone or fallback))
    return run_mapper(table.records(), mapper)


def count_rows(path: Path) -> int | None:
    """Non-blank data rows, for progress bars; None when counting would cost a full extra read.

    Parquet answers from its footer (all-null rows included); CSV and xlsx are counted exactly
    when the file is at most COUNT_LIMIT_BYTES (xlsx: an eighth of it, being compressed).
    """
    table = open_table(Path(path))
    if table.kind == "parquet":
        return parquet_row_count(table.path)
    limit = COUNT_LIMIT_BYTES if table.kind == "csv" else COUNT_LIMIT_BYTES // 8
    if table.path.stat().st_size > limit:
        return None
    rows = table.raw_rows()
    count = -1  # the header is the first non-blank row
    for cells in rows:
        if not all(is_blank(cell) for cell in cells):
            count += 1
    return max(count, 0)
