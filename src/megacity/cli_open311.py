"""`megacity import --format open311 --endpoint URL …`: the command-line side of the Open311 client.

Kept out of `cli.py` so that the import command only branches here. User errors (a bad URL or
date, a server that refuses or cannot be reached) print one `error:` line and exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from megacity.bootstrap import Megacity
from megacity.io.open311 import Open311Error, Open311Source, parse_bound
from megacity.services.bulk import ImportResult, Progress
from megacity.services.open311_import import import_open311

__all__ = ["open311_import"]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def open311_import(
    mc: Megacity,
    *,
    file: Path | None,
    endpoint: str | None,
    api_key: str | None,
    start_date: str | None,
    end_date: str | None,
    service_code: str | None,
    timezone: str | None,
    progress: Progress | None = None,
) -> ImportResult:
    """Pull the requests of `endpoint` into the database; says how many were already there."""
    if file is not None:
        _fail("--format open311 reads --endpoint URL, not a FILE")
    if not endpoint:
        _fail("--format open311 needs --endpoint URL (a GeoReport v2 root, e.g. https://host/open311/v2)")
    try:
        zone = ZoneInfo(timezone) if timezone else mc.tz
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"unknown timezone {timezone!r}")
    try:
        source = Open311Source(
            endpoint,
            api_key=api_key or None,
            start=parse_bound(start_date, zone, end=False) if start_date else None,
            end=parse_bound(end_date, zone, end=True) if end_date else None,
            service_codes=service_code or None,
        )
        done = import_open311(app=mc, source=source, progress=progress)
    except Open311Error as exc:
        _fail(str(exc))
    if done.already_stored:
        typer.echo(f"already imported {done.already_stored} (unchanged)")
    return done.result
