"""Import requests from another GeoReport v2 server through the bulk import path.

`megacity.io.open311` reads and maps the requests; here the profile places them (an `address_id`
that is a street-level unit or a district of the profile sets `street_code` / `district_code`,
as our own server writes it) and requests already imported from the same server are left
alone, so that running the same import again changes nothing. Everything else — flags for codes
the profile does not know, one transaction and one audit event per stored request — is
`services.bulk.import_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx

from megacity.bootstrap import Megacity
from megacity.io.open311 import Open311Error, Open311Source, map_request, source_name
from megacity.io.rows import ParsedRow, RowError
from megacity.services.bulk import BATCH, ImportResult, Progress, import_rows

__all__ = ["Open311Error", "Open311Import", "import_open311"]


@dataclass
class Open311Import:
    """What an import did: the bulk result plus how many requests were already stored."""

    result: ImportResult
    already_stored: int
    source: str


def import_open311(
    *,
    app: Megacity,
    source: Open311Source,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> Open311Import:
    """Read every request of `source` and store the new ones (raises Open311Error if unreadable)."""
    name = source_name(source.endpoint)
    skipped = [0]
    own = client is None
    http = client or httpx.Client(headers={"Accept": "application/json", "User-Agent": "megacity-open311"})
    try:
        rows = (map_request(n, item, name, app.tz) for n, item in enumerate(source.requests(http), start=1))
        placed = (_place(app, row) for row in rows)
        result = import_rows(
            app=app, rows=_new_only(app, placed, skipped), actor=f"import:{name}", progress=progress
        )
    finally:
        if own:
            http.close()
    return Open311Import(result, skipped[0], name)


def _place(app: Megacity, row: ParsedRow | RowError) -> ParsedRow | RowError:
    """Set street and district from `address_id` when the profile knows the code."""
    if isinstance(row, RowError):
        return row
    code = row.extra.get("address_id")
    org = app.profile.org
    if code and code in org.districts:
        row.record["district_code"] = code
    elif code and (unit := org.unit(code)) is not None and unit.district_code:
        row.record["street_code"] = code
        row.record["district_code"] = unit.district_code
    return row


def _new_only(
    app: Megacity, rows: Iterable[ParsedRow | RowError], skipped: list[int]
) -> Iterator[ParsedRow | RowError]:
    """Drop rows whose id is already stored (a re-import), one lookup per batch."""
    batch: list[ParsedRow | RowError] = []

    def flush() -> Iterator[ParsedRow | RowError]:
        ids = [row.record["id"] for row in batch if isinstance(row, ParsedRow)]
        with app.uow(write=False) as uow:
            stored = uow.tickets.exists(ids)
        for row in batch:
            if isinstance(row, ParsedRow) and row.record["id"] in stored:
                skipped[0] += 1
            else:
                yield row
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield from flush()
    yield from flush()
