"""Reader of another city's Open311 GeoReport v2 server: `GET requests.json` into canonical rows.

The spec limits a list to a 90-day window of `requested_datetime`, so a longer range is read as
consecutive windows; inside a window the pagination extension (`page` from 1, `page_size`) is
followed while pages come back full. A server without the extension ignores `page` and sends the
same list again, which the reader notices (no new id) and stops; a server that refuses a deep
page (ours allows page × page_size ≤ 10,000) gets the window split in halves. Ids already read
are skipped, so overlapping windows and pages never yield a request twice.

Each request becomes a row whose id is `<source>:<service_request_id>`, the source naming the
server (`open311:host:port`): importing the same server again finds the same ids. Pure I/O: no
database, no profile (the import service resolves `address_id` against the profile).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

import httpx

from megacity.io.rows import (
    FieldProblem,
    ParsedRow,
    RowError,
    clean_code,
    clean_text,
    empty_record,
    parse_float,
)
from megacity.io.rows import parse_timestamp as _parse_timestamp

__all__ = ["WINDOW", "Open311Error", "Open311Source", "map_request", "parse_bound", "source_name"]

#: The widest date range one GeoReport list call may span.
WINDOW = timedelta(days=90)
#: The range one call asks for: a day under the limit, because servers differ on whether
#: `end_date` is inclusive; each window ends where the next starts (the ids seen dedupe).
STEP = WINDOW - timedelta(days=1)
PAGE_SIZE = 200
#: Longest id of the canonical table.
MAX_ID = 64
#: Longest `source` of the canonical table.
MAX_SOURCE = 32


class Open311Error(Exception):
    """The server cannot be read: bad endpoint, refused call, unreadable answer (one line)."""


def source_name(endpoint: str) -> str:
    """`open311:<host[:port]>`, or a hash of the endpoint when that does not fit in 32 characters.

    >>> source_name("https://311.boston.gov/open311/v2")
    'open311:311.boston.gov'
    """
    parts = urlsplit(endpoint)
    name = f"open311:{parts.netloc.lower()}"
    if len(name) <= MAX_SOURCE and parts.netloc:
        return name
    return "open311:" + hashlib.sha256(endpoint.encode()).hexdigest()[:16]


def parse_bound(value: str, tz: tzinfo, *, end: bool) -> datetime:
    """`2025-03-01` (a whole local day: an end date includes it) or a date-time with offset."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(f"not a date or date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if end and len(text) == 10:  # a date: the end of that day
        moment += timedelta(days=1)
    return moment


@dataclass
class Open311Source:
    """Everything one import reads: the endpoint and the spec's filters."""

    endpoint: str
    api_key: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    service_codes: str | None = None
    page_size: int = PAGE_SIZE
    timeout: float = 60.0
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise Open311Error(
                f"--endpoint must be the http(s) URL of a GeoReport v2 root: {self.endpoint!r}"
            )
        self.endpoint = self.endpoint.rstrip("/")
        if self.start and self.end and self.end <= self.start:
            raise Open311Error("--end-date must be after --start-date")

    def requests(self, client: httpx.Client) -> Iterator[dict[str, Any]]:
        """Every request of the range, each once, window by window, page by page."""
        for start, end in self.windows():
            yield from self._window(client, start, end)

    def windows(self) -> list[tuple[datetime | None, datetime | None]]:
        """The range as windows of 89 days; without dates, the server's default (the last 90 days)."""
        if self.start is None and self.end is None:
            return [(None, None)]
        end = self.end or datetime.now(self.start.tzinfo if self.start else None)
        start = self.start or end - WINDOW
        windows: list[tuple[datetime | None, datetime | None]] = []
        while start < end:
            windows.append((start, min(start + STEP, end)))
            start += STEP
        return windows

    def _window(
        self, client: httpx.Client, start: datetime | None, end: datetime | None
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, str] = {"page_size": str(self.page_size)}
        if start is not None and end is not None:
            params.update(start_date=start.isoformat(), end_date=end.isoformat())
        if self.service_codes:
            params["service_code"] = self.service_codes
        if self.api_key:
            params["api_key"] = self.api_key
        page = 1
        while True:
            try:
                items = self._get(client, {**params, "page": str(page)})
            except Open311Error:
                if page == 1 or start is None or end is None or end - start <= timedelta(hours=1):
                    raise
                middle = start + (end - start) / 2  # a deep page refused: read the halves
                yield from self._window(client, start, middle)
                yield from self._window(client, middle, end)
                return
            fresh = [item for item in items if str(item.get("service_request_id")) not in self.seen]
            for item in fresh:
                self.seen.add(str(item.get("service_request_id")))
            yield from fresh
            if len(items) < self.page_size or not fresh:
                return
            page += 1

    def _get(self, client: httpx.Client, params: dict[str, str]) -> list[dict[str, Any]]:
        url = f"{self.endpoint}/requests.json"
        try:
            answer = client.get(url, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise Open311Error(f"cannot reach {url}: {exc}") from None
        if answer.status_code != 200:
            raise Open311Error(f"{url} answered {answer.status_code}: {_error_text(answer)}")
        try:
            data = answer.json()
        except ValueError:
            raise Open311Error(f"{url} did not answer JSON") from None
        if isinstance(data, dict):  # some servers wrap the list: {"service_requests": [...]}
            data = data.get("service_requests", data.get("requests"))
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise Open311Error(f"{url} did not answer a list of requests")
        return data


def _error_text(answer: httpx.Response) -> str:
    """The GeoReport error description when there is one, else the start of the body."""
    try:
        data = answer.json()
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return str(data[0].get("description", ""))[:200]
    except ValueError:
        pass
    return " ".join(answer.text.split())[:200]


def map_request(row: int, item: dict[str, Any], source: str, tz: tzinfo) -> ParsedRow | RowError:
    """One GeoReport request → one canonical row (or the reason it cannot be one)."""
    try:
        return ParsedRow(row, *_record(item, source, tz))
    except FieldProblem as exc:
        return RowError(row, exc.field, exc.reason)


def _record(
    item: dict[str, Any], source: str, tz: tzinfo
) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    record = empty_record()
    remote = clean_code(item.get("service_request_id"))
    if remote is None:
        raise FieldProblem("id", "missing service_request_id")
    record["id"] = f"{source}:{remote}"
    if len(record["id"]) > MAX_ID:
        raise FieldProblem("id", f"service_request_id {remote[:40]!r} too long for an id")
    record["received_at"] = _time("received_at", item.get("requested_datetime"), tz)
    if record["received_at"] is None:
        raise FieldProblem("received_at", "missing requested_datetime")
    name, code = clean_text(item.get("service_name")), clean_code(item.get("service_code"))
    description = clean_text(item.get("description"))
    record["text"] = description or name or code
    if record["text"] is None:
        raise FieldProblem("text", "description, service_name and service_code are all empty")
    record["title"] = (name or record["text"].splitlines()[0])[:200]
    record["category_code"] = code
    record["channel"] = "open311"
    address = clean_text(item.get("address"))
    record["address"] = address[:300] if address else None
    record["lat"] = _coordinate("lat", item.get("lat"), 90.0)
    record["lon"] = _coordinate("lon", item.get("long"), 180.0)
    record["deadline_at"] = _time("deadline_at", item.get("expected_datetime"), tz)
    closed = str(item.get("status") or "").strip().lower() == "closed"
    record["status"] = "closed" if closed else "received"
    flags: list[str] = []
    if closed:
        record["replied_at"] = _time("replied_at", item.get("updated_datetime"), tz)
        if record["replied_at"] is None:
            flags.append("closed without updated_datetime")
    extra: dict[str, Any] = {"source": source, "service_request_id": remote}
    for key in ("address_id", "agency_responsible", "detailed_status", "status_notes", "media_url"):
        value = clean_text(item.get(key))
        if value is not None:
            extra[key] = value
    return record, extra, tuple(flags)


def _time(field_name: str, value: Any, tz: tzinfo) -> datetime | None:
    try:
        return _parse_timestamp(value, tz)
    except ValueError as exc:
        raise FieldProblem(field_name, str(exc)) from None


def _coordinate(field_name: str, value: Any, limit: float) -> float | None:
    try:
        number = parse_float(value)
    except ValueError as exc:
        raise FieldProblem(field_name, str(exc)) from None
    if number is not None and not -limit <= number <= limit:
        raise FieldProblem(field_name, f"{number} outside [-{limit:g}, {limit:g}]")
    return number
