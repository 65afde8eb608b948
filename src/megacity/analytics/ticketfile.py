"""Read a canonical ticket table (CSV or Parquet) as `Message`s for topic detection.

Needs `id, received_at, text`; uses `title, complainant_id, street_code, category_code` when
present. Header names match loosely (`Received At` = `received_at`); a time without a zone is
wall-clock time of the profile's zone; rows without a readable time are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from megacity.analytics.topics import Message
from megacity.io.rows import parse_timestamp
from megacity.io.tabular import normalize_header

__all__ = ["TicketFileError", "read_ticket_messages"]

REQUIRED = ("id", "received_at", "text")
OPTIONAL = ("title", "complainant_id", "street_code", "category_code")


class TicketFileError(Exception):
    """The tickets file cannot be used (one line for the user)."""


def _load(path: Path) -> pa.Table:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return pq.read_table(path)
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True, auto_dict_encode=False),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_ticket_messages(path: Path, timezone: str) -> list[Message]:
    """Every request of the file with a readable `received_at`, in file order."""
    if not path.is_file():
        raise TicketFileError(f"{path}: no such file")
    try:
        table = _load(path)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TicketFileError(f"{path}: not a readable Parquet or CSV table ({first})") from None
    names: dict[str, str] = {}
    for name in table.column_names:
        names.setdefault(normalize_header(name), name)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise TicketFileError(f"{path}: missing column(s) {', '.join(missing)}")
    columns = {c: table.column(names[c]).to_pylist() for c in REQUIRED + OPTIONAL if c in names}
    zone = ZoneInfo(timezone)
    out: list[Message] = []
    for row in range(table.num_rows):
        cell = {c: values[row] for c, values in columns.items()}
        try:
            at = parse_timestamp(cell["received_at"], zone)
        except ValueError:
            at = None
        if at is None:
            continue
        out.append(
            Message(
                id=str(cell["id"]).strip(),
                at=at,
                title=_text(cell.get("title")) or "",
                text=_text(cell.get("text")) or "",
                author=_text(cell.get("complainant_id")),
                street=_text(cell.get("street_code")),
                category=_text(cell.get("category_code")),
            )
        )
    return out
