"""`megacity analyse forecast`: weekly volume forecasts, band alerts and a rolling-origin backtest.

Registered in `megacity.cli` as `analyse_app.command("forecast")(forecast_cmd)`; input options
follow `megacity analyse repeats`. User errors print one line starting with `error:`, exit 2.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from megacity.analytics.cli import DatabaseUrl, Tickets, fail
from megacity.analytics.forecast_report import BacktestRow, ForecastRow, backtest_table, forecast_table
from megacity.analytics.tables import TableError
from megacity.analytics.weekly import DIMENSIONS, read_volume, series_keys, weekly_counts

__all__ = ["forecast_cmd", "parse_by"]


def parse_by(text: str) -> tuple[str, ...]:
    """`category,district` → ("category", "district"); "" or "total" → () (one overall series)."""
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    if parts in ((), ("total",)):
        return ()
    unknown = [p for p in parts if p not in DIMENSIONS]
    if unknown or len(set(parts)) != len(parts):
        raise ValueError(f"--by takes category, district or both, comma-separated (got {text!r})")
    return parts


def forecast_cmd(
    out: Annotated[Path, typer.Option("--out", help="Where to write the weekly forecasts (CSV).")],
    tickets: Tickets = None,
    database: DatabaseUrl = None,
    by: Annotated[
        str, typer.Option("--by", help="Series: category, district, category,district or total.")
    ] = "category,district",
    level: Annotated[
        int, typer.Option("--category-level", min=1, max=3, help="Category depth: 1, 2 or 3 (leaf).")
    ] = 1,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=104, help="Weeks to forecast.")] = 8,
    monitor: Annotated[
        int, typer.Option("--monitor", min=0, max=52, help="Recent weeks checked against the band.")
    ] = 4,
    coverage: Annotated[
        float, typer.Option("--coverage", min=0.5, max=0.999, help="Prediction band, e.g. 0.95.")
    ] = 0.95,
    min_total: Annotated[
        float, typer.Option("--min-total", min=0, help="Skip series with fewer requests in all.")
    ] = 52.0,
    backtest_out: Annotated[
        Path | None, typer.Option("--backtest", help="Also write rolling-origin scores (CSV).")
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=1, max=52, help="Backtest origins.")] = 4,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", envvar="MEGACITY_PROFILE", help="Profile folder (default: Beijing)."),
    ] = None,
) -> None:
    """Forecast weekly request volume per series; flag recent weeks outside the forecast band."""
    if (tickets is None) == (database is None):
        fail("give exactly one of --tickets FILE and --database URL")
    try:
        dimensions = parse_by(by)
    except ValueError as exc:
        fail(str(exc))
    zone = _profile_zone(profile)
    try:
        table = read_volume(dimensions, path=tickets, database=database, timezone=zone)
    except TableError as exc:
        fail(str(exc))
    weekly = weekly_counts(table.times, series_keys(table, dimensions, level), dimensions, ZoneInfo(zone))
    if not weekly.weeks:
        fail("no complete week of requests with a readable received_at")
    rows = list(
        forecast_table(
            weekly.keys,
            weekly.weeks,
            weekly.counts,
            horizon=horizon,
            monitor=monitor,
            level=coverage,
            min_total=min_total,
        )
    )
    scores = (
        backtest_table(
            weekly.keys, weekly.counts, horizon=horizon, folds=folds, level=coverage, min_total=min_total
        )
        if backtest_out
        else []
    )
    try:
        write_forecasts(out, dimensions, rows)
        if backtest_out is not None:
            write_backtest(backtest_out, dimensions, scores)
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    series = len({row.key for row in rows})
    alerts = sum(1 for row in rows if row.alert)
    typer.echo(f"series {series} weeks {len(weekly.weeks)} alerts {alerts}")
    if scores:
        total = scores[-1]
        typer.echo(
            f"backtest series {len(scores) - 1} MASE model {_fmt(total.mase_model)} "
            f"seasonal-naive {_fmt(total.mase_naive)} sMAPE model {_fmt(total.smape_model)} "
            f"seasonal-naive {_fmt(total.smape_naive)} coverage {_fmt(total.coverage)}"
        )


def _profile_zone(profile: Path | None) -> str:
    from megacity.profiles import load_profile

    try:
        return load_profile(profile).timezone
    except Exception as exc:  # a broken profile is a user error, whatever the loader raised
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail(f"cannot load profile {profile}: {first}")


def _fmt(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3f}"


def write_forecasts(path: Path, dimensions: tuple[str, ...], rows: Iterable[ForecastRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*dimensions, "week", "actual", "forecast", "lower", "upper", "alert", "method"))
        for row in rows:
            writer.writerow(
                (
                    *row.key,
                    row.week.isoformat(),
                    "" if row.actual is None else f"{row.actual:g}",
                    _fmt(row.forecast),
                    _fmt(row.lower),
                    _fmt(row.upper),
                    row.alert,
                    row.method,
                )
            )


def write_backtest(path: Path, dimensions: tuple[str, ...], rows: Iterable[BacktestRow]) -> None:
    """One line per series, then `ALL` (means over series) in every key column."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                *dimensions,
                "weeks",
                "folds",
                "mase_model",
                "mase_snaive",
                "smape_model",
                "smape_snaive",
                "coverage",
            )
        )
        for row in rows:
            key = row.key if row.key or not dimensions else tuple("ALL" for _ in dimensions)
            scores = (row.mase_model, row.mase_naive, row.smape_model, row.smape_naive, row.coverage)
            writer.writerow((*key, row.weeks, row.folds, *(_fmt(v) for v in scores)))
