"""`megacity analyse ...`: analytics over a canonical ticket table (a file) or the database.

Registered in `megacity.cli` with `app.add_typer(analyse_app, name="analyse")`. User errors print
one line starting with `error:` and exit with code 2.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import numpy as np
import typer

from megacity.analytics.repeats import DAY, F64, Params, group_rows
from megacity.analytics.tables import RequestTable, TableError, read_requests

app = typer.Typer(
    help="Analytics over the canonical ticket table (a Parquet/CSV file or the database).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def analyse() -> None:
    """Analytics over the canonical ticket table (a Parquet/CSV file or the database)."""


#: The two inputs of every `analyse` command: a canonical ticket file or a database.
Tickets = Annotated[Path | None, typer.Option("--tickets", help="Canonical table: Parquet or CSV.")]
DatabaseUrl = Annotated[str | None, typer.Option("--database", help="Read the tickets table of this URL.")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("repeats")
def repeats(
    out: Annotated[Path, typer.Option("--out", help="Where to write `id,group_id` (CSV).")],
    tickets: Tickets = None,
    database: DatabaseUrl = None,
    window_days: Annotated[
        float | None,
        typer.Option("--window-days", min=0, help="Window in days (default: the profile's, 60)."),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", min=0, max=1, help="Similarity needed for a link (0-1).")
    ] = None,
    groups: Annotated[
        Path | None,
        typer.Option("--groups", help="Also write one line per repeat chain (CSV) with escalation."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", envvar="MEGACITY_PROFILE", help="Profile folder (default: Beijing)."),
    ] = None,
) -> None:
    """Find repeat requests: every id once, with the id of the first request of its chain."""
    if (tickets is None) == (database is None):
        fail("give exactly one of --tickets FILE and --database URL")
    window, zone = _profile_settings(profile)
    params = Params(
        window_days=window if window_days is None else window_days,
        threshold=Params.threshold if threshold is None else threshold,
    )
    try:
        table = read_requests(tickets, database, zone)
    except TableError as exc:
        fail(str(exc))
    masters = group_requests(table, params)
    try:
        write_groups(out, table.ids, masters)
        if groups is not None:
            write_chains(groups, table, masters)
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    kept = masters[np.unique(np.array(table.ids, dtype=object), return_index=True)[1]]
    sizes = np.bincount(kept, minlength=len(masters))
    chains, repeated = int(np.count_nonzero(sizes > 1)), int((sizes[sizes > 1] - 1).sum())
    typer.echo(f"requests {len(kept)} repeat chains {chains} repeats {repeated}")


def _profile_settings(profile: Path | None) -> tuple[float, str]:
    from megacity.profiles import load_profile

    try:
        loaded = load_profile(profile)
    except Exception as exc:  # a broken profile is a user error, whatever the loader raised
        fail(f"cannot load profile {profile}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    return float(loaded.repeat_window_days), loaded.timezone


def group_requests(table: RequestTable, params: Params) -> np.ndarray:
    """For each row, the row of its chain's master (`repeats.group_rows`: rows without a time
    stay alone, the first row of an id stands for all of them), warning about timeless rows."""
    masters, timeless = group_rows(
        table.ids, table.times, table.people, table.streets, table.titles, table.texts, params
    )
    if timeless:
        typer.echo(f"warning: {timeless} request(s) without a readable received_at kept alone", err=True)
    return masters


def write_groups(path: Path, ids: list[str], masters: np.ndarray) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id", "group_id"))
        seen: set[str] = set()
        for row, request in enumerate(ids):
            if request not in seen:
                seen.add(request)
                writer.writerow((request, ids[int(masters[row])]))


def write_chains(path: Path, table: RequestTable, masters: np.ndarray) -> None:
    """One line per chain of two or more requests, with the escalation rule of docs/repeats.md."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                "group_id",
                "size",
                "first_at",
                "last_at",
                "max_in_window",
                "after_resolved",
                "unresolved",
                "escalate",
            )
        )
        for master, rows in _chains(masters):
            row = escalation(table.times[rows], table.resolved[rows], table.callbacks[rows])
            first, last = _iso(float(np.nanmin(table.times[rows]))), _iso(float(np.nanmax(table.times[rows])))
            writer.writerow((table.ids[master], len(rows), first, last, *row))


def _chains(masters: np.ndarray) -> list[tuple[int, np.ndarray]]:
    order = np.argsort(masters, kind="stable")
    starts = np.flatnonzero(np.r_[True, masters[order][1:] != masters[order][:-1]])
    bounds = np.r_[starts, len(order)]
    return [
        (int(masters[order[a]]), order[a:b])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        if b - a > 1
    ]


def _iso(seconds: float) -> str:
    return "" if math.isnan(seconds) else datetime.fromtimestamp(seconds, UTC).isoformat()


def escalation(
    times: F64, resolved: np.ndarray, callbacks: F64, repeats: int = 3, days: float = 30.0
) -> tuple[int, bool, bool, str]:
    """Escalation of one chain: (most repeats within `days`, repeat after a resolved callback,
    latest request unresolved, "city" | "district" | "none").

    >>> t = np.array([0.0, 1.0, 2.0, 3.0]) * DAY
    >>> escalation(t, np.array([-1, -1, -1, -1], dtype=np.int8), np.full(4, np.nan))
    (3, False, True, 'district')
    >>> escalation(t[:2], np.array([1, -1], dtype=np.int8), np.array([0.5 * DAY, np.nan]))
    (1, True, True, 'district')
    """
    order = np.argsort(times, kind="stable")
    times, resolved, callbacks = times[order], resolved[order], callbacks[order]
    inside = np.searchsorted(times, times + days * DAY, side="right") - np.arange(len(times))
    burst = int(inside.max()) - 1 if len(times) else 0
    closed = np.where(resolved == 1, np.where(np.isnan(callbacks), times, callbacks), np.inf)
    after = bool(np.any(times[1:] > np.minimum.accumulate(closed)[:-1])) if len(times) > 1 else False
    level = "city" if after and burst >= repeats else "district" if after or burst >= repeats else "none"
    return burst, after, bool(len(times) and resolved[-1] != 1), level
