"""Row-level types and value parsers shared by every reader.

Readers never raise on a bad row: a value parser raises `ValueError` with an English reason, the
mapper wraps it in `FieldProblem` naming the canonical field, and `run_mapper` turns that into one
`RowError`. Only `UnreadableFileError` (the file as a whole is unusable) escapes to the caller, so
the CLI can treat it as the single exit-2 condition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone, tzinfo
from decimal import Decimal
from typing import Any

from megacity.domain.tickets import CANONICAL_COLUMNS

__all__ = [
    "FieldProblem",
    "ParsedRow",
    "RawRecord",
    "RowError",
    "UnreadableFileError",
    "clean_code",
    "clean_text",
    "empty_record",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_timestamp",
    "run_mapper",
    "strip_invisible",
]


@dataclass(frozen=True)
class ParsedRow:
    """A source record mapped to the canonical table, plus what did not fit in it."""

    row: int  # 1-based index of the data record (header and blank rows not counted)
    record: dict[str, Any]  # every canonical column; None when the source has no value
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific extras
    flags: tuple[str, ...] = ()  # warnings that did not reject the row


@dataclass(frozen=True)
class RowError:
    """Why one record was rejected: the first problem found, in English."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


class UnreadableFileError(Exception):
    """The file cannot be read as a ticket table at all (the CLI exits 2 on this only)."""


class FieldProblem(ValueError):
    """Raised inside a mapper so the row loop can report which canonical field was bad."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RawRecord:
    """One non-blank data record of a table, keyed by header name (first column of a name wins)."""

    row: int
    cells: dict[str, Any]
    overflow: int = 0  # non-blank cells beyond the last header column


def empty_record() -> dict[str, Any]:
    """A canonical record with every column present and null, so readers only fill what they know."""
    return dict.fromkeys(CANONICAL_COLUMNS)


Mapper = Callable[[RawRecord], ParsedRow]


def run_mapper(records: Iterable[RawRecord], mapper: Mapper) -> Iterator[ParsedRow | RowError]:
    """Map every record, turning each failure into exactly one RowError so an import never stops."""
    for raw in records:
        if raw.overflow:
            yield RowError(raw.row, "row", f"{raw.overflow} cell(s) beyond the last header column")
            continue
        try:
            yield mapper(raw)
        except FieldProblem as problem:
            yield RowError(raw.row, problem.field, problem.reason)
        except Exception as exc:  # a mapper bug must not abort a million-row import
            yield RowError(raw.row, "row", f"unexpected {type(exc).__name__}: {exc}")


# --- text ------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b\u2060\ufeff\ud800-\udfff]+")
_WHITESPACE = re.compile(r"\s+")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _collapse(match: re.Match[str]) -> str:
    return "\n" if _LINE_BREAKS.intersection(match.group()) else " "


def strip_invisible(text: str) -> str:
    """Drop control characters and zero-width marks that no one typed on purpose."""
    return _INVISIBLE.sub("", text)


def shown(value: Any, limit: int = 40) -> str:
    """A short repr for error messages, so a bad 5 kB text cell does not flood the report."""
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def clean_text(value: Any) -> str | None:
    """Strip and normalise whitespace so padded exports (``\\n\\t…``, U+3000, NBSP) compare equal.

    Runs of whitespace containing a line break become one newline (paragraphs survive), other
    runs become one space; invisible control characters are dropped. Empty means null.

    >>> clean_text("\\n\\t\\t 举报\\u3000\\u3000噪音 \\n\\t\\n 扰民\\xa0")
    '举报 噪音\\n扰民'
    >>> clean_text("  ") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else str(value)
    text = _WHITESPACE.sub(_collapse, strip_invisible(text)).strip()
    return text or None


def clean_code(value: Any) -> str | None:
    """A code kept as a string: spreadsheets turn `110101` into an int or `110101.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean_text(value)


# --- scalars ---------------------------------------------------------------------------------

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否"})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value: Any) -> bool | None:
    """`true`/`false` (and the usual spreadsheet spellings); empty is null, anything else an error.

    >>> parse_bool(" TRUE "), parse_bool(""), parse_bool(0)
    (True, None, False)
    """
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean {shown(value)}")


def parse_float(value: Any) -> float | None:
    """A finite float; NaN and infinities are rejected because no coordinate or score is one."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number {shown(value)}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a number {shown(value)}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number {shown(value)}")
    return number


def parse_int(value: Any) -> int | None:
    """An integer count; `3.0` from a spreadsheet is accepted, `3.5` is not."""
    number = parse_float(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"not an integer {shown(value)}")
    return int(number)


# --- timestamps ------------------------------------------------------------------------------

_YMD = re.compile(
    r"(?P<y>[0-9]{4})(?:[/.-]|年)(?P<m>[0-9]{1,2})(?:[/.-]|月)(?P<d>[0-9]{1,2})日?"
    r"(?:[ T]+(?P<H>[0-9]{1,2})[:时](?P<M>[0-9]{2})(?:[:分](?P<S>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?秒?)?"
)
_MDY = re.compile(
    r"(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})/(?P<y>[0-9]{4})"
    r"(?: +(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?"
    r" *(?P<p>[AaPp][Mm])?)?"
)
_YEARS = range(1800, 2201)


def _from_match(match: re.Match[str]) -> datetime:
    parts = match.groupdict()
    hour = int(parts["H"] or 0)
    meridiem = (parts.get("p") or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for AM/PM")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    micro = int((parts["f"] or "0").ljust(6, "0"))
    return datetime(
        int(parts["y"]),
        int(parts["m"]),
        int(parts["d"]),
        hour,
        int(parts["M"] or 0),
        int(parts["S"] or 0),
        micro,
    )


def _parse_text_time(text: str) -> datetime:
    for pattern in (_YMD, _MDY):
        match = pattern.fullmatch(text)
        if match:
            return _from_match(match)
    if not text.isascii():
        raise ValueError("not ASCII")
    return datetime.fromisoformat(text)


def parse_timestamp(value: Any, tz: tzinfo) -> datetime | None:
    """An instant from ISO 8601, `2020/1/6 12:09:38`, `01/15/2011 12:00:00 AM` or an Excel datetime.

    A time without a zone is read in `tz` (the profile's zone, or the source's); one with an
    offset keeps it. The result carries a fixed UTC offset: an instant, which compares equal to
    itself after any round trip (a zone-bound time in a DST fold would not, see PEP 495). Years
    outside 1800-2200 are rejected as typos rather than stored.

    >>> from zoneinfo import ZoneInfo
    >>> parse_timestamp("2020/1/6 12:09:38", ZoneInfo("Asia/Shanghai")).isoformat()
    '2020-01-06T12:09:38+08:00'
    >>> parse_timestamp("01/15/2011 12:00:00 AM", ZoneInfo("America/New_York")).isoformat()
    '2011-01-15T00:00:00-05:00'
    """
    if _blank(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = _parse_text_time(value.strip())
        except (ValueError, OverflowError):
            raise ValueError(f"unparseable time {shown(value)}") from None
    else:
        raise ValueError(f"unparseable time {shown(value)}")
    if moment.year not in _YEARS:
        raise ValueError(f"implausible year in time {shown(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=tz)
    offset = moment.utcoffset()
    if offset is None:  # a tzinfo that declines to give an offset cannot place an instant
        raise ValueError(f"time without a usable zone {shown(value)}")
    return moment.replace(tzinfo=timezone(offset))


def plain(value: Any) -> Any:
    """A cell as a JSON-friendly scalar for `extra`: cleaned text, Decimal as float."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return clean_text(value)
    return value
