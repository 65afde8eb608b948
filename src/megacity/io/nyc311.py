"""Reader of NYC 311 service-request exports (NYC Open Data, several historical schemas).

The portal has published the same data as `Unique Key` / `Created Date` (title case, US times
`03/01/2011 02:27:57 PM`) and as `unique_key` / `created_date` (API names, ISO times); headers are
matched loosely so both, and the normalised merge, read alike. Agencies and boroughs are not codes
of any profile: they are kept verbatim and the service flags them.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from megacity.io.rows import (
    FieldProblem,
    Mapper,
    ParsedRow,
    RawRecord,
    UnreadableFileError,
    clean_code,
    clean_text,
    empty_record,
    parse_float,
    parse_timestamp,
    plain,
)
from megacity.io.tabular import normalize_header

__all__ = ["KEY_COLUMNS", "TIMEZONE", "check_header", "make_mapper"]

#: Times in NYC exports are local wall-clock times of New York.
TIMEZONE = "America/New_York"
#: Columns that identify an NYC 311 export (after `normalize_header`).
KEY_COLUMNS: tuple[str, ...] = ("unique_key", "created_date")
ID_PREFIX = "nyc311:"

CHANNELS = {"phone": "phone", "online": "web", "mobile": "app"}
#: Source columns copied to `extra` when not blank (normalised name -> extra key).
EXTRAS = {
    "agency_name": "agency_name",
    "complaint_type": "complaint_type",
    "descriptor": "descriptor",
    "location_type": "location_type",
    "incident_zip": "incident_zip",
    "city": "city",
    "community_board": "community_board",
    "resolution_description": "resolution_description",
    "open_data_channel_type": "channel_type",
    "source": "upstream_source",
}
USED = (
    *KEY_COLUMNS,
    "closed_date",
    "due_date",
    "agency",
    "status",
    "borough",
    "incident_address",
    "intersection_street_1",
    "intersection_street_2",
    "latitude",
    "longitude",
)


def column_map(header: tuple[str, ...]) -> dict[str, str]:
    """Normalised column name -> header name (first match wins)."""
    found: dict[str, str] = {}
    for name in header:
        found.setdefault(normalize_header(name), name)
    return found


def check_header(header: tuple[str, ...]) -> None:
    """Refuse a file without unique key and created date before reading any data."""
    found = column_map(header)
    missing = [name for name in KEY_COLUMNS if name not in found]
    if missing:
        raise UnreadableFileError(f"NYC 311 table lacks column(s): {', '.join(missing)}")


def _time(field: str, column: str, value: Any, tz: tzinfo) -> datetime | None:
    try:
        return parse_timestamp(value, tz)
    except ValueError as exc:
        raise FieldProblem(field, f"{exc} in {column}") from None


def _coordinate(field: str, column: str, value: Any, limit: float) -> float | None:
    try:
        number = parse_float(value)
    except ValueError as exc:
        raise FieldProblem(field, f"{exc} in {column}") from None
    if number is not None and not -limit <= number <= limit:
        raise FieldProblem(field, f"{number} outside [-{limit:g}, {limit:g}] in {column}")
    return number


def _describe(cells: dict[str, Any], record: dict[str, Any]) -> None:
    """Title is the complaint type; text adds the descriptor and the agency's resolution."""
    complaint = clean_text(cells.get("complaint_type"))
    descriptor = clean_text(cells.get("descriptor"))
    resolution = clean_text(cells.get("resolution_description"))
    headline = ": ".join(part for part in (complaint, descriptor) if part)
    record["title"] = complaint or descriptor
    record["text"] = "\n".join(part for part in (headline, resolution) if part) or None
    if record["text"] is None:
        raise FieldProblem("text", "complaint_type, descriptor and resolution_description are all empty")


def _place(cells: dict[str, Any], record: dict[str, Any]) -> None:
    address = clean_text(cells.get("incident_address"))
    if address is None:
        corners = [clean_text(cells.get(f"intersection_street_{n}")) for n in (1, 2)]
        address = " & ".join(corner for corner in corners if corner) or None
    record["address"] = address
    record["lat"] = _coordinate("lat", "latitude", cells.get("latitude"), 90.0)
    record["lon"] = _coordinate("lon", "longitude", cells.get("longitude"), 180.0)
    borough = clean_code(cells.get("borough"))
    record["district_code"] = None if borough is None or borough.lower() == "unspecified" else borough
    record["unit_code"] = clean_code(cells.get("agency"))


def _lifecycle(cells: dict[str, Any], record: dict[str, Any], extra: dict[str, Any], tz: tzinfo) -> list[str]:
    """Closed requests are `closed` and replied at their closed date; everything else `received`."""
    flags: list[str] = []
    closed_at = _time("replied_at", "closed_date", cells.get("closed_date"), tz)
    due_at = _time("deadline_at", "due_date", cells.get("due_date"), tz)
    status = clean_text(cells.get("status"))
    if status is not None:
        extra["nyc_status"] = status
    if status is not None and status.lower() == "closed":
        record["status"] = "closed"
        record["replied_at"] = closed_at
        if closed_at is None:
            flags.append("closed without closed date")
    else:
        record["status"] = "received"
        if closed_at is not None:
            extra["closed_at"] = closed_at
    if due_at is not None:
        extra["due_at"] = due_at
    if closed_at is not None and closed_at < record["received_at"]:
        flags.append("closed before created")
    return flags


def map_cells(row: int, cells: dict[str, Any], tz: tzinfo) -> ParsedRow:
    """One service request, with cells keyed by normalised column names."""
    record = empty_record()
    key = clean_code(cells.get("unique_key"))
    if key is None:
        raise FieldProblem("id", "missing value in unique_key")
    record["id"] = ID_PREFIX + key
    record["received_at"] = _time("received_at", "created_date", cells.get("created_date"), tz)
    if record["received_at"] is None:
        raise FieldProblem("received_at", "missing value in created_date")
    _describe(cells, record)
    _place(cells, record)
    channel = clean_text(cells.get("open_data_channel_type"))
    record["channel"] = CHANNELS.get((channel or "").lower(), "other")
    record["kind"] = "complaint"
    extra: dict[str, Any] = {"source": "nyc311"}
    flags = _lifecycle(cells, record, extra, tz)
    for column, name in EXTRAS.items():
        value = plain(cells.get(column))
        if value is not None:
            extra[name] = value
    return ParsedRow(row, record, extra, tuple(flags))


def make_mapper(header: tuple[str, ...], tz: tzinfo) -> Mapper:
    """Resolve the header once; rows are then re-keyed by normalised column names."""
    check_header(header)
    columns = {key: name for key, name in column_map(header).items() if key in USED or key in EXTRAS}

    def map_row(raw: RawRecord) -> ParsedRow:
        cells = {key: raw.cells.get(name) for key, name in columns.items()}
        return map_cells(raw.row, cells, tz)

    return map_row
