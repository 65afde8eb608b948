"""Reader of the canonical ticket table itself (CSV, xlsx or Parquet with canonical headers).

This is the format our own export writes, so validation is strict: a value that does not parse
rejects the row instead of being guessed. Codes stay strings the profile may not know; the service
decides what to do with them. Columns outside the contract are kept in ``extra["columns"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from enum import StrEnum
from typing import Any

from megacity.domain.enums import Channel, Kind, Satisfaction, Status, Urgency
from megacity.domain.tickets import CANONICAL_COLUMNS, TIMESTAMP_COLUMNS
from megacity.io.rows import (
    FieldProblem,
    Mapper,
    ParsedRow,
    RawRecord,
    UnreadableFileError,
    clean_code,
    clean_text,
    empty_record,
    parse_bool,
    parse_float,
    parse_timestamp,
    plain,
    shown,
    strip_invisible,
)
from megacity.io.tabular import is_blank, normalize_header

__all__ = ["REQUIRED", "check_header", "make_mapper", "parse_enum"]

#: Columns a canonical file must have; besides these, at least one of title/text.
REQUIRED: tuple[str, ...] = ("id", "received_at")

ENUMS: dict[str, type[StrEnum]] = {
    "channel": Channel,
    "kind": Kind,
    "urgency": Urgency,
    "status": Status,
    "satisfaction": Satisfaction,
}
VALUES: dict[str, frozenset[str]] = {
    column: frozenset(member.value for member in vocabulary) for column, vocabulary in ENUMS.items()
}
RANGES: dict[str, tuple[float, float]] = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0)}
BOOLS = frozenset({"resolved", "excluded"})
FREE_TEXT = frozenset({"title", "text", "address"})
IDENTIFIERS = frozenset({"id", "complainant_id", "repeat_of"})


def column_map(header: tuple[str, ...]) -> dict[str, str]:
    """Canonical column -> header name, matching loosely (`Received At` is `received_at`)."""
    found: dict[str, str] = {}
    known = set(CANONICAL_COLUMNS)
    for name in header:
        key = normalize_header(name)
        if key in known and key not in found:
            found[key] = name
    return found


def check_header(header: tuple[str, ...]) -> None:
    """Refuse a file that cannot yield a single valid row, before reading any data."""
    found = column_map(header)
    missing = [name for name in REQUIRED if name not in found]
    if "title" not in found and "text" not in found:
        missing.append("title or text")
    if missing:
        raise UnreadableFileError(f"canonical table lacks column(s): {', '.join(missing)}")


def parse_enum(column: str, value: Any) -> str | None:
    """The enum's string value; case and surrounding space are forgiven, unknown values are not."""
    if is_blank(value):
        return None
    text = str(value).strip().lower()
    if text not in VALUES[column]:
        allowed = "|".join(member.value for member in ENUMS[column])
        raise ValueError(f"unknown {column} {shown(value)}, expected {allowed}")
    return text


def identifier(value: Any) -> str | None:
    """An id taken verbatim but for outer whitespace and invisible control characters.

    Spreadsheet numbers become digits (`1001.0` is `1001`).
    """
    if isinstance(value, str):
        return strip_invisible(value).strip() or None
    return clean_code(value)


def _in_range(column: str, value: Any) -> float | None:
    number = parse_float(value)
    low, high = RANGES[column]
    if number is not None and not low <= number <= high:
        raise ValueError(f"{number} outside [{low:g}, {high:g}]")
    return number


def converter(column: str, tz: tzinfo) -> Callable[[Any], Any]:
    """The strict parser of one canonical column."""
    if column in TIMESTAMP_COLUMNS:
        return lambda value: parse_timestamp(value, tz)
    if column in ENUMS:
        return lambda value: parse_enum(column, value)
    if column in RANGES:
        return lambda value: _in_range(column, value)
    if column in BOOLS:
        return parse_bool
    if column in FREE_TEXT:
        return clean_text
    if column in IDENTIFIERS:
        return identifier
    return clean_code


def make_mapper(header: tuple[str, ...], tz: tzinfo) -> Mapper:
    """Build the row mapper once per file so per-row work is only parsing."""
    check_header(header)
    columns = column_map(header)
    converters = [(name, columns[name], converter(name, tz)) for name in CANONICAL_COLUMNS if name in columns]
    used = set(columns.values())
    others = [name for name in dict.fromkeys(header) if name and name not in used]

    def map_row(raw: RawRecord) -> ParsedRow:
        record = empty_record()
        for name, source, convert in converters:
            try:
                record[name] = convert(raw.cells.get(source))
            except ValueError as exc:
                raise FieldProblem(name, str(exc)) from None
            if record[name] is None and name in REQUIRED:
                raise FieldProblem(name, "missing value")
        if record["title"] is None and record["text"] is None:
            raise FieldProblem("text", "title and text are both empty")
        extra: dict[str, Any] = {"source": "canonical"}
        kept = {name: plain(raw.cells.get(name)) for name in others if not is_blank(raw.cells.get(name))}
        if kept:
            extra["columns"] = kept
        return ParsedRow(raw.row, record, extra, ())

    return map_row
