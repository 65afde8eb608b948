"""Export of the canonical ticket table: pseudonyms only, phone and id numbers in texts masked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.domain.privacy import mask_text
from megacity.domain.tickets import CANONICAL_COLUMNS
from megacity.io.export import write_tickets
from megacity.store.tables import tickets


def export_tickets(
    *, app: Megacity, path: Path, format: str, progress: Callable[[int], None] | None = None
) -> int:
    """Write every stored request to `path`; returns the number of rows."""

    def rows() -> Iterator[dict[str, Any]]:
        columns = [tickets.c[name] for name in CANONICAL_COLUMNS]
        with app.engine.connect() as conn:
            result = conn.execution_options(yield_per=2000).execute(select(*columns).order_by(tickets.c.id))
            for n, row in enumerate(result, 1):
                record = dict(row._mapping)
                record["title"] = mask_text(record["title"])
                record["text"] = mask_text(record["text"])
                yield record
                if progress and n % 2000 == 0:
                    progress(2000)

    return write_tickets(rows(), path, format=format)
