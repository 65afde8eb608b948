"""`megacity assess`: the monthly assessment of a ticket file or the operational database.

Registered in `megacity.cli` with ``app.command("assess")(assess)``. Only light imports at
module level: the engine is imported when the command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from megacity.assessment.engine import Result
    from megacity.assessment.explain import Explanation
    from megacity.assessment.rules import Options
    from megacity.domain.profile import Profile

DEFAULT_DATABASE = "sqlite:///megacity.db"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(2)


OutOpt = Annotated[Path | None, typer.Option("--out", help="Result CSV: one row per unit and month.")]
TicketsOpt = Annotated[
    Path | None, typer.Option("--tickets", help="Canonical ticket table (Parquet or CSV).")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database", help="Operational database URL (default MEGACITY_DATABASE_URL).")
]
MonthOpt = Annotated[str | None, typer.Option("--month", help="The month YYYY-MM.")]
MonthsOpt = Annotated[
    str | None, typer.Option("--months", help="A range of months YYYY-MM:YYYY-MM (inclusive).")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Count only events at or before this ISO-8601 time (profile zone)."),
]
EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="duckdb|postgres|spark (default: postgres for PostgreSQL, else duckdb)."),
]
ProfileOpt = Annotated[
    Path | None,
    typer.Option("--profile", envvar="MEGACITY_PROFILE", help="Profile folder (default: Beijing)."),
]
WeightsOpt = Annotated[
    str | None, typer.Option("--weights", help="What-if weights R,S,M (response,resolution,satisfaction).")
]
ExplainOpt = Annotated[
    str | None,
    typer.Option("--explain", help="Also write the tickets that cost UNIT points to OUT.explain.csv."),
]
FocusRuleOpt = Annotated[
    str, typer.Option("--focus-rule", help="Governance focus by lowest composite or most requests.")
]


def assess(
    out: OutOpt = None,
    tickets: TicketsOpt = None,
    database: DatabaseOpt = None,
    month: MonthOpt = None,
    months: MonthsOpt = None,
    as_of: AsOfOpt = None,
    engine: EngineOpt = None,
    profile: ProfileOpt = None,
    weights: WeightsOpt = None,
    explain: ExplainOpt = None,
    focus_rule: FocusRuleOpt = "composite",
) -> None:
    """Monthly assessment (考核): rates, composite, ranks and governance focus per unit and month."""
    import duckdb

    from megacity.domain.errors import DomainError

    if out is None:
        _fail("--out is required: the result CSV to write")
    if tickets is not None and database is not None:
        _fail("give either --tickets FILE or --database URL, not both")
    if tickets is None and database is None:
        database = os.environ.get("MEGACITY_DATABASE_URL") or DEFAULT_DATABASE
    if not out.parent.is_dir():
        _fail(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        _run(out, tickets, database, month, months, as_of, engine, profile, weights, explain, focus_rule)
    except DomainError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename or out}")
    except duckdb.Error as exc:  # e.g. a Parquet file broken past its footer
        _fail(f"cannot read the tickets: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}")


def _run(
    out: Path,
    tickets: Path | None,
    database: str | None,
    month: str | None,
    months: str | None,
    as_of: str | None,
    engine: str | None,
    profile_path: Path | None,
    weights: str | None,
    explain: str | None,
    focus_rule: str,
) -> None:
    from megacity.assessment import engine as engine_mod
    from megacity.assessment.backends import choose_engine, open_tickets
    from megacity.assessment.rules import FocusRule, Options, Weights, month_indexes, parse_as_of
    from megacity.domain.errors import ValidationError
    from megacity.profiles import load_profile

    profile = load_profile(profile_path)
    try:
        rule = FocusRule(focus_rule.strip().lower())
    except ValueError:
        raise ValidationError(f"--focus-rule must be composite or requests, got {focus_rule!r}") from None
    options = Options.build(
        profile,
        month_indexes(month, months),
        weights=Weights.parse(weights) if weights is not None else None,
        as_of=parse_as_of(as_of, profile.timezone),
        focus_rule=rule,
    )
    chosen = choose_engine(engine, database if tickets is None else None)
    window = engine_mod.source_window(options, profile.timezone)
    source = database if tickets is None else None
    with open_tickets(
        tickets=tickets, database=source, engine=chosen, timezone=profile.timezone, window=window
    ) as opened:
        result = engine_mod.run(opened, profile, options)
        explained = None if explain is None else _explain(opened.tickets, profile, options, result, explain)
        cohandled = None if source is None else _cohandling(source, opened.tickets, profile, options)
    _write_result(out, result)
    if explained is not None:
        _write_explanation(out, explained)
    if cohandled is not None:
        _write_cohandling(out, cohandled)


def _write_result(out: Path, result: Result) -> None:
    from megacity.assessment.output import write_csv

    count = write_csv(out, result.columns, result.rows)
    months = sorted({r["month"] for r in result.rows})
    span = f"{months[0]}..{months[-1]}" if months else "no months with tickets"
    typer.echo(f"assessed {count} unit-months ({span}) on {result.engine} -> {out}")
    if result.options.what_if:
        up = sum(1 for r in result.rows if (r["rank_change"] or 0) > 0)
        down = sum(1 for r in result.rows if (r["rank_change"] or 0) < 0)
        typer.echo(f"what-if weights {result.options.weights.as_text()}: {up} units move up, {down} down")


def _explain(tickets: ir.Table, profile: Profile, options: Options, result: Result, code: str) -> Explanation:
    from megacity.assessment.errors import SourceError
    from megacity.assessment.explain import explain

    code = code.strip()
    known = code in profile.org.districts or code in profile.org.units
    if not known and not any(r["unit_code"] == code for r in result.rows):
        raise SourceError(f"--explain {code}: no such unit in the profile and no assessed tickets")
    return explain(tickets, profile, options, result, code)


def _write_explanation(out: Path, explanation: Explanation) -> None:
    from megacity.assessment.explain import TICKET_COLUMNS
    from megacity.assessment.output import sibling, write_csv

    path = sibling(out, "explain")
    write_csv(path, TICKET_COLUMNS, explanation.tickets)
    lost = sum(t["points_lost"] or 0.0 for t in explanation.tickets)
    count = len(explanation.tickets)
    typer.echo(f"explained {explanation.unit_code}: {count} ticket reasons, {lost:.3f} points -> {path}")


def _cohandling(database: str, tickets: ir.Table, profile: Profile, options: Options) -> list[dict[str, Any]]:
    from megacity.assessment import engine as engine_mod
    from megacity.assessment.cohandling import cohandler_pairs, cohandling

    pairs = cohandler_pairs(database, engine_mod.source_window(options, profile.timezone))
    return cohandling(tickets, profile, options, pairs)


def _write_cohandling(out: Path, rows: list[dict[str, Any]]) -> None:
    from megacity.assessment.cohandling import COLUMNS
    from megacity.assessment.output import sibling, write_csv

    path = sibling(out, "cohandling")
    write_csv(path, COLUMNS, rows)
    typer.echo(f"co-handling {len(rows)} rows -> {path}")
