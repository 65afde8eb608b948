"""`megacity indicators derive` and `megacity indicators analyse ...`: derived indicators from
the ticket data, and analysis of a results panel (strengths, weak areas, zones, covariates,
trend). Registered on the indicators app by `register()`; errors are one `error:` line, exit 2.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from megacity.cli_options import Database, ProfileOpt
from megacity.indicators.cli import user_errors
from megacity.indicators.errors import IndicatorError

analyse_app = typer.Typer(
    help="Analyse indicator results: strengths, weak areas, zones, covariates, trend.", no_args_is_help=True
)

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Results table (uCode[, Time], one column per indicator); default: derive from --database.",
    ),
]
MonthsOpt = Annotated[
    str | None, typer.Option("--months", help="Derive for these months, YYYY-MM:YYYY-MM (without --data).")
]
PeriodOpt = Annotated[str | None, typer.Option("--period", help="Period to analyse (default: the latest).")]
LevelOpt = Annotated[str, typer.Option("--level", help="city, zone:<scheme>, district or street.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Also write the result as CSV.")]


@dataclass(frozen=True)
class Read:
    """The read options of an `analyse` command: where the panel comes from, what to show of it."""

    data: Path | None = None
    months: str | None = None
    period: str | None = None
    level: str = "district"
    out: Path | None = None
    database: str | None = None
    profile: Path | None = None

    def panel(self) -> tuple[Any, dict[str, int]]:
        """The panel to analyse and the indicators' directions."""
        return _panel(self.data, self.months, self.level, self.database, self.profile)

    def city(self) -> Any:
        """The city profile (org units, zones, covariates)."""
        return _context(self.database, self.profile)[0]


#: Every read option in the order of `--help`: (annotation, default). A command gets `--data`,
#: `--months`, `--database` and `--profile` always, the others when `reads()` names them.
_READ_OPTIONS: dict[str, tuple[Any, Any]] = {
    "data": (DataOpt, None),
    "months": (MonthsOpt, None),
    "period": (PeriodOpt, None),
    "level": (LevelOpt, "district"),
    "out": (OutOpt, None),
    "database": (Database, None),
    "profile": (ProfileOpt, None),
}
_ALWAYS = ("data", "months", "database", "profile")


def reads(*extra: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the read options after its own ones and pass them on as `read: Read`.

    Typer has no option groups, and a callback on the `analyse` group would move these options
    before the subcommand's name; so the decorator extends the signature Typer reads instead,
    keeping each option's name, default and help in one place (the aliases above).
    """
    names = [name for name in _READ_OPTIONS if name in _ALWAYS or name in extra]

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        own = inspect.signature(func, eval_str=True)
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=note, default=default)
            for name, (note, default) in ((n, _READ_OPTIONS[n]) for n in names)
        ]
        mine = [p for p in own.parameters.values() if p.name != "read"]

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> None:
            read = Read(**{name: kwargs.pop(name) for name in names if name in kwargs})
            func(read=read, **kwargs)

        wrapper.__signature__ = own.replace(parameters=[*mine, *added])  # type: ignore[attr-defined]
        return wrapper

    return decorate


def register(app: typer.Typer, plans: typer.Typer) -> None:
    """Add `derive`, the `analyse` group and `plans progress` to the indicators app."""
    app.command("derive")(derive_cmd)
    app.add_typer(analyse_app, name="analyse")
    plans.command("progress")(progress_cmd)
    plans.command("notes")(notes_cmd)


@user_errors
def notes_cmd(
    notes: Annotated[Path, typer.Option("--notes", help="CSV: point,indicator,date,note.")],
    plan: Annotated[
        Path | None, typer.Option("--plan", help="Plan CSV: notes must name its indicators.")
    ] = None,
    indicator: Annotated[str | None, typer.Option("--indicator", help="Only this indicator.")] = None,
) -> None:
    """Observation-point notes (基层观测点), grouped per indicator and dated."""
    from megacity.indicators.plans import notes_by_indicator, read_notes, read_plan

    known = [p.code for p in read_plan(plan)] if plan is not None else None
    for code, items in notes_by_indicator(read_notes(notes, known)).items():
        if indicator is not None and code != indicator:
            continue
        typer.echo(code)
        for n in items:
            typer.echo(f"  {n.date}\t{n.point}\t{n.note}")


@user_errors
def progress_cmd(
    progress: Annotated[Path, typer.Option("--progress", help="CSV: task,district,project,done.")],
    system: Annotated[
        str, typer.Option("--system", help="Shipped system with project tasks.")
    ] = "urban_renewal",
    month: Annotated[
        int | None, typer.Option("--month", min=1, max=12, help="Month of the report: adds the status.")
    ] = None,
    task: Annotated[str | None, typer.Option("--task", help="Break this task down.")] = None,
    by: Annotated[str, typer.Option("--by", help="district or project (with --task).")] = "district",
    out: OutOpt = None,
) -> None:
    """Project tasks (e.g. 2023 urban renewal): done against the city target, per district/project."""
    from megacity.indicators.plans import load_system
    from megacity.indicators.projects import breakdown, read_progress, task_progress, tasks_of

    tasks = tasks_of(load_system(system).data)
    reported = read_progress(progress, tasks)
    table = breakdown(reported, task, by) if task else task_progress(tasks, reported, month)
    _emit(table.to_dict("records"), out)


@user_errors
def derive_cmd(
    out: Annotated[Path, typer.Option("--out", help="Result CSV.")],
    period: Annotated[
        list[str] | None, typer.Option("--period", help="YYYY, YYYYQn or YYYY-MM; repeat for several.")
    ] = None,
    months: MonthsOpt = None,
    level: LevelOpt = "district",
    indicator: Annotated[
        list[str] | None, typer.Option("--indicator", help="Only these indicator codes.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="long (numerator, denominator, value) or wide (iData).")
    ] = "long",
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Derived indicators (numerator/denominator over the tickets of a period) per org unit."""
    from megacity.indicators.derive import wide
    from megacity.indicators.io import write_table
    from megacity.indicators.service import derived

    if fmt not in ("long", "wide"):
        raise IndicatorError(f"unknown format {fmt!r} (valid: long, wide)")
    prof, folder, url = _context(database, profile)
    table = derived(url, prof, folder, _periods(period, months), level=level, codes=indicator)
    write_table(wide(table) if fmt == "wide" else table, out)
    demo = " (demo data)" if table["demo_data"].any() else ""
    units, codes = table["ou_code"].nunique(), table["indicator"].nunique()
    typer.echo(f"wrote {out} ({units} org units, {codes} indicators){demo}")


def _context(database: str | None, profile: Path | None) -> tuple[Any, Path, str]:
    from megacity.domain.errors import DomainError
    from megacity.indicators.service import profile_dir
    from megacity.profiles import load_profile
    from megacity.settings import Settings

    settings = Settings(database_url=database) if database else Settings()
    try:
        prof = load_profile(profile or settings.profile)
    except DomainError as exc:
        raise IndicatorError(str(exc).splitlines()[0]) from None
    return prof, profile_dir(profile or settings.profile), settings.database_url


def _periods(period: list[str] | None, months: str | None) -> list[Any]:
    from megacity.indicators.derived import month_periods, parse_period

    if bool(period) == bool(months):
        raise IndicatorError("give --period (repeatable) or --months YYYY-MM:YYYY-MM")
    if months:
        first, sep, last = months.partition(":")
        if not sep:
            raise IndicatorError(f"--months is YYYY-MM:YYYY-MM, got {months!r}")
        return month_periods(first, last)
    return [parse_period(p) for p in period or []]


def _panel(
    data: Path | None, months: str | None, level: str, database: str | None, profile: Path | None
) -> tuple[Any, dict[str, int]]:
    """The panel to analyse and the indicators' directions (derived ones are known)."""
    from megacity.indicators.panel import read_panel
    from megacity.indicators.service import definitions, derived_panel, directions

    prof, folder, url = _context(database, profile)
    known = directions(definitions(folder))
    if data is not None:
        if months:
            raise IndicatorError("give --data or --months, not both")
        return read_panel(data), known
    if not months:
        raise IndicatorError("give --data FILE or --months YYYY-MM:YYYY-MM (derived from --database)")
    return derived_panel(url, prof, folder, _periods(None, months), level=level), known


def _emit(rows: list[dict[str, Any]], out: Path | None) -> None:
    import pandas as pd

    from megacity.indicators.io import format_number, write_table

    for row in rows:
        typer.echo("\t".join(format_number(v) if isinstance(v, float) else str(v) for v in row.values()))
    if out is not None:
        write_table(pd.DataFrame(rows), out)


@analyse_app.command("strengths")
@user_errors
@reads("period", "level", "out")
def strengths_cmd(
    read: Read,
    unit: Annotated[str, typer.Option("--unit", help="uCode of the unit.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many indicators each way.")] = 3,
) -> None:
    """The unit's strongest and weakest indicators (rank among the units of the period)."""
    from megacity.indicators.panel import strengths

    table, dirs = read.panel()
    found = strengths(table, unit, period=read.period, k=k, directions=dirs)
    rows = [{"kind": kind, **e} for kind in ("strongest", "weakest") for e in found[kind]]
    typer.echo(f"{unit} {found['period']}")
    _emit(rows, read.out)


@analyse_app.command("weak-areas")
@user_errors
@reads("level", "out")
def weak_cmd(
    read: Read,
    indicator: Annotated[str, typer.Option("--indicator", help="Indicator code.")],
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Weak: worse than this value.")
    ] = None,
    bottom_k: Annotated[
        int | None, typer.Option("--bottom-k", min=1, help="Weak: among the k worst.")
    ] = None,
    consecutive: Annotated[
        int, typer.Option("--consecutive", min=1, help="For this many latest periods.")
    ] = 1,
) -> None:
    """Units weak on an indicator (below a threshold or in the bottom k) for n periods in a row."""
    from megacity.indicators.panel import weak_areas

    table, dirs = read.panel()
    found = weak_areas(
        table,
        indicator,
        threshold=threshold,
        bottom_k=bottom_k,
        consecutive=consecutive,
        direction=dirs.get(indicator, 1),
    )
    if not found["enough_periods"]:
        typer.echo(f"only {len(found['periods'])} period(s) available, {consecutive} needed")
    typer.echo(f"{indicator} {','.join(found['periods'])}: {len(found['units'])} weak unit(s)")
    _emit([{"uCode": u} for u in found["units"]], read.out)


@analyse_app.command("zones")
@user_errors
@reads("period", "out")
def zones_cmd(
    read: Read,
    scheme: Annotated[str, typer.Option("--scheme", help="Zone scheme of the profile (zones.yaml).")],
    indicator: Annotated[list[str] | None, typer.Option("--indicator", help="Only these indicators.")] = None,
    standard: Annotated[
        list[str] | None, typer.Option("--standard", help="Zone-specific standard ZONE:INDICATOR=VALUE.")
    ] = None,
) -> None:
    """Compare districts across the zones of a scheme, each against its own standard."""
    from megacity.indicators.orgunits import zones
    from megacity.indicators.panel import compare_zones, parse_standards

    table, dirs = read.panel()
    chosen, result = compare_zones(
        table,
        zones(read.city(), scheme),
        period=read.period,
        codes=indicator,
        standards=parse_standards(standard or []),
        directions=dirs,
    )
    typer.echo(f"{scheme} {chosen}")
    _emit(result.to_dict("records"), read.out)


@analyse_app.command("covariates")
@user_errors
@reads("period")
def covariates_cmd(
    read: Read,
    indicator: Annotated[str, typer.Option("--indicator", help="Indicator code.")],
    covariate: Annotated[
        str, typer.Option("--covariate", help="population, area_km2, gdp_100m_yuan or density.")
    ] = "population",
) -> None:
    """Correlation of a district indicator with a district covariate of the profile."""
    from megacity.indicators.orgunits import covariates
    from megacity.indicators.panel import covariate as correlate
    from megacity.indicators.service import profile_dir

    table, _ = read.panel()
    values = covariates(read.city(), profile_dir(read.profile))
    found = correlate(table, values, indicator, covariate, period=read.period)
    _emit([found], None)


@analyse_app.command("trend")
@user_errors
@reads("level")
def trend_cmd(
    read: Read,
    unit: Annotated[str, typer.Option("--unit", help="uCode of the unit.")],
    indicator: Annotated[str, typer.Option("--indicator", help="Indicator code.")],
) -> None:
    """The unit's series, least-squares slope per year and compound annual growth rate."""
    from megacity.indicators.io import format_number
    from megacity.indicators.panel import trend

    table, _ = read.panel()
    found = trend(table, unit, indicator)
    for point in found["series"]:
        typer.echo(f"{point['period']}\t{format_number(point['value'])}")
    typer.echo(f"slope_per_year\t{format_number(found['slope_per_year'])}")
    typer.echo(f"cagr\t{format_number(found['cagr'])}")
