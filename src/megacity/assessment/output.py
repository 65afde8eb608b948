"""CSV files of the assessment: rates as fractions, empty cell = null, booleans true/false.

Files are written to a temporary sibling and renamed, so a failed run never leaves half a file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any


def cell(value: Any) -> str:
    """One CSV cell.

    >>> [cell(None), cell(True), cell(0.1), cell(3)]
    ['', 'true', '0.1', '3']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write `rows` (only `columns`, in that order) with a header; returns the number of rows."""
    temporary = path.with_name(f".{path.name}.tmp")
    count = 0
    try:
        with temporary.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([cell(row.get(c)) for c in columns])
                count += 1
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return count


def sibling(out: Path, suffix: str) -> Path:
    """``R.csv`` → ``R.<suffix>.csv`` next to it.

    >>> sibling(Path("out/R.csv"), "explain").as_posix()
    'out/R.explain.csv'
    """
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.{suffix}.csv")
