"""The `megacity` command line. Every command takes --database (env MEGACITY_DATABASE_URL).

User errors print one line and exit 2; lines that scripts parse (`imported N rejected M`)
are never translated.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from megacity.analytics.cli import app as analyse_app
from megacity.analytics.directory_cli import app as complainant_app
from megacity.analytics.forecast_cli import forecast_cmd
from megacity.analytics.people_cli import abnormal_cmd, complainants_cmd
from megacity.analytics.topics_cli import (
    hot_issues_cmd,
    replies_cmd,
    topic_close_cmd,
    topic_track_cmd,
    topics_cmd,
)
from megacity.assessment.cli import assess
from megacity.bootstrap import Megacity
from megacity.cli_options import Database, ProfileOpt, build_app
from megacity.domain.errors import DomainError
from megacity.indicators.cli import app as indicators_app
from megacity.io.rows import UnreadableFileError
from megacity.nlp.cli import app as classify_app
from megacity.report.cli import report
from megacity.web.open311.cli import app as apikey_app

app = typer.Typer(
    help="Megacity: a 12345 citizen-hotline (接诉即办) platform. Run `megacity COMMAND --help` for details.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
profile_app = typer.Typer(help="Check and inspect city profiles.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")
app.add_typer(indicators_app, name="indicators")
app.add_typer(apikey_app, name="apikey")
app.add_typer(classify_app, name="classify")
app.command("assess")(assess)
app.command("report")(report)
app.add_typer(analyse_app, name="analyse")
analyse_app.command("forecast")(forecast_cmd)
analyse_app.command("complainants")(complainants_cmd)
analyse_app.command("abnormal")(abnormal_cmd)
analyse_app.command("hot-issues")(hot_issues_cmd)
analyse_app.command("topics")(topics_cmd)
analyse_app.command("topic-track")(topic_track_cmd)
analyse_app.command("topic-close")(topic_close_cmd)
analyse_app.command("replies")(replies_cmd)
app.add_typer(complainant_app, name="complainant")
audit_app = typer.Typer(help="Inspect the append-only audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
user_app = typer.Typer(help="Manage user accounts and their roles.", no_args_is_help=True)
app.add_typer(user_app, name="user")

#: Accounts `megacity demo --accounts` creates (local environment only), one per role.
DEMO_PASSWORD = "megacity-demo"
DEMO_ACCOUNTS = {
    "admin": ("admin", None, None),
    "operator": ("operator", None, None),
    "dispatcher": ("dispatcher", None, None),
    "chaoyang-wangjing": ("unit_handler", "110105026", None),
    "chaoyang-reviewer": ("district_reviewer", None, "110105"),
    "analyst": ("analyst", None, None),
    "auditor": ("auditor", None, None),
}


class UsageError(Exception):
    """A mistake of the user's: one line on stderr, exit code 2."""


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _app(database: str | None, profile: Path | None = None) -> Megacity:
    return build_app(database, profile)


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; silent when stderr is not a terminal and the job is small."""
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@app.command()
def init(database: Database = None, profile: ProfileOpt = None) -> None:
    """Create or upgrade the database schema."""
    _app(database, profile)
    typer.echo("database ready")


@profile_app.command("check")
def profile_check(path: Annotated[Path, typer.Argument(help="Profile folder to validate.")]) -> None:
    """Validate a profile folder; print every problem with its file and line."""
    from megacity.profiles import check_profile

    if not path.is_dir():
        fail(f"{path} is not a folder")
    problems = check_profile(path)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(2)
    typer.echo(f"profile ok: {path}")


@app.command()
def demo(
    count: Annotated[int, typer.Option("--count", min=1, max=5_000_000, help="Number of requests.")] = 20000,
    months: Annotated[int, typer.Option("--months", min=1, max=120, help="Months of history.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same demo).")] = 12345,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if requests exist.")] = False,
    accounts: Annotated[
        bool,
        typer.Option("--accounts", help=f"Also create one demo account per role (password {DEMO_PASSWORD})."),
    ] = False,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Load a believable demo history of the profile's city."""
    from megacity.demo import generate
    from megacity.services.demo_load import load_demo

    mc = _app(database, profile)
    if accounts:
        _demo_accounts(mc)
    with mc.uow(write=False) as uow:
        existing = uow.tickets.total()
    if if_empty and existing:
        typer.echo(f"demo skipped: the database already holds {existing} requests")
        return
    with progress_bar("demo", count) as advance:
        stored = load_demo(
            app=mc, cases=generate(mc.profile, count=count, months=months, seed=seed), progress=advance
        )
    typer.echo(f"demo loaded {stored}")


def _demo_accounts(mc: Megacity) -> None:
    from megacity.domain.enums import Role
    from megacity.services.accounts import create_user

    if mc.settings.environment == "production":
        fail("demo accounts are refused in production")
    with mc.uow(write=False) as uow:
        existing = {u["username"] for u in uow.users.all()}
    for name, (role, unit, district) in DEMO_ACCOUNTS.items():
        if name not in existing:
            create_user(
                app=mc,
                username=name,
                password=DEMO_PASSWORD,
                role=Role(role),
                unit_code=unit,
                district_code=district,
                actor="demo",
            )
    typer.echo(f"demo accounts: {', '.join(DEMO_ACCOUNTS)} (password {DEMO_PASSWORD})")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[
        str, typer.Option(help="operator|dispatcher|unit_handler|district_reviewer|admin|analyst|auditor")
    ],
    unit: Annotated[str | None, typer.Option(help="Unit code (unit_handler).")] = None,
    district: Annotated[str | None, typer.Option(help="District code (district_reviewer).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Create a user account (the password is asked for, or read from stdin)."""
    from megacity.domain.enums import ACCOUNT_ROLES, Role
    from megacity.services.accounts import create_user

    roles = [r.value for r in ACCOUNT_ROLES]
    if role not in roles:
        fail(f"--role must be one of {', '.join(roles)}")
    password = (
        sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("password", hide_input=True)
    )
    mc = _app(database, profile)
    create_user(
        app=mc, username=username, password=password, role=Role(role), unit_code=unit, district_code=district
    )
    typer.echo(f"user created: {username} ({role})")


@user_app.command("list")
def user_list(database: Database = None, profile: ProfileOpt = None) -> None:
    """List accounts with role, scope and whether they are active."""
    from megacity.services.accounts import list_users

    for u in list_users(app=_app(database, profile)):
        scope = u["unit_code"] or u["district_code"] or "-"
        typer.echo(f"{u['username']}\t{u['role']}\t{scope}\t{'active' if u['active'] else 'disabled'}")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="Login name.")],
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Disable an account; its tokens stop working at once."""
    from megacity.services.accounts import set_active

    if not set_active(app=_app(database, profile), username=username, active=False):
        fail(f"no user {username!r}")
    typer.echo(f"user disabled: {username}")


@app.command("import")
def import_(
    file: Annotated[Path | None, typer.Argument(help="CSV, xlsx or Parquet file.")] = None,
    format: Annotated[str, typer.Option("--format", help="auto|canonical|teddycup|nyc311|open311")] = "auto",
    timezone: Annotated[str | None, typer.Option(help="Zone of times without an offset.")] = None,
    report: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV).")] = None,
    endpoint: Annotated[str | None, typer.Option(help="open311: the GeoReport v2 root URL.")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="open311: key, if asked.")] = None,
    start_date: Annotated[str | None, typer.Option("--start-date", help="open311: from (date/time).")] = None,
    end_date: Annotated[str | None, typer.Option("--end-date", help="open311: to (date/time).")] = None,
    service_code: Annotated[str | None, typer.Option("--service-code", help="open311: codes a,b.")] = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Import requests; bad rows go to the report, good rows are kept."""
    from megacity.io import count_rows, read_tickets
    from megacity.io.export import write_row_errors
    from megacity.services.bulk import import_rows

    mc = _app(database, profile)
    if format == "open311":
        from megacity.cli_open311 import open311_import

        with progress_bar("import", None) as advance:
            result = open311_import(
                mc, file=file, endpoint=endpoint, api_key=api_key, start_date=start_date,
                end_date=end_date, service_code=service_code, timezone=timezone, progress=advance,
            )  # fmt: skip
    else:
        if file is None or endpoint is not None:
            fail("give one FILE to import (an --endpoint needs --format open311)")
            return
        try:
            rows = read_tickets(file, format=format, timezone=timezone, default_timezone=mc.profile.timezone)
            total = count_rows(file)
        except UnreadableFileError as exc:
            fail(f"cannot read {file}: {exc}")
        with progress_bar("import", total) as advance:
            result = import_rows(app=mc, rows=rows, actor=f"import:{file.name}", progress=advance)
    report_path = report or Path.cwd() / f"import-report-{datetime.now():%Y%m%d-%H%M%S}.csv"
    write_row_errors(sorted(result.errors, key=lambda e: e.row), report_path)
    if result.rejected:
        typer.echo(f"rejected rows written to {report_path}", err=True)
    typer.echo(f"imported {result.imported} rejected {result.rejected}")


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Output file.")],
    format: Annotated[str, typer.Option("--format", help="parquet|csv")] = "parquet",
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Export every request as the canonical ticket table (pseudonymised, texts masked)."""
    from megacity.services.export import export_tickets

    if format not in {"parquet", "csv"}:
        fail("--format must be parquet or csv")
    mc = _app(database, profile)
    with progress_bar("export", None) as advance:
        count = export_tickets(app=mc, path=out, format=format, progress=advance)
    typer.echo(f"exported {count}")


@audit_app.command("verify")
def audit_verify(database: Database = None, profile: ProfileOpt = None) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first row that does not verify."""
    from megacity.services.audit import verify

    result = verify(app=_app(database, profile))
    if result.broken_at is not None or result.reason:
        typer.echo(
            f"audit chain BROKEN at seq {result.broken_at}: {result.reason} ({result.checked} rows ok)"
        )
        raise typer.Exit(1)
    typer.echo(f"audit chain ok: {result.checked} events")


@app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", help="Archive to write (.zip).")],
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Write the whole database to one portable archive (restores into SQLite or PostgreSQL)."""
    from megacity.services.backup import backup as run_backup

    with progress_bar("backup", None) as advance:
        counts = run_backup(app=_app(database, profile), path=out, progress=advance)
    requests, events = counts.get("tickets", 0), counts.get("audit_events", 0)
    typer.echo(f"backup written to {out}: {requests} requests, {events} events")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="Archive written by `megacity backup`.")],
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Restore an archive into an empty database; all or nothing, audit chain verified."""
    from megacity.services.backup import restore as run_restore

    if not archive.is_file():
        fail(f"{archive} does not exist")
    with progress_bar("restore", None) as advance:
        counts = run_restore(app=_app(database, profile), path=archive, progress=advance)
    typer.echo(f"restored {counts.get('tickets', 0)} requests, {counts.get('audit_events', 0)} events")


keys_app = typer.Typer(help="Encryption keys of personal data.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
retention_app = typer.Typer(help="The retention rule for personal data (PIPL).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@keys_app.command("rotate")
def keys_rotate(database: Database = None, profile: ProfileOpt = None) -> None:
    """Re-encrypt personal data under MEGACITY_SECRET_KEY (old keys in MEGACITY_PREVIOUS_SECRET_KEYS)."""
    from megacity.services.privacy import rotate_keys

    typer.echo(f"rotated {rotate_keys(app=_app(database, profile))} contacts")


@retention_app.command("apply")
def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be erased.")] = False,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Erase names and phone numbers of complainants silent for longer than the profile's retention."""
    from megacity.services.privacy import apply_retention

    count = apply_retention(app=_app(database, profile), dry_run=dry_run)
    typer.echo(f"{'would erase' if dry_run else 'erased'} personal data of {count} complainants")


@app.command()
def sweep(database: Database = None, profile: ProfileOpt = None) -> None:
    """Mark requests past their deadline as overdue (run it every few minutes)."""
    from megacity.services.handling import sweep_overdue

    typer.echo(f"marked overdue {sweep_overdue(app=_app(database, profile))}")


@app.command()
def refresh(
    month: Annotated[
        list[str] | None,
        typer.Option(
            help=(
                "Month YYYY-MM to compute (repeat it); "
                "default: the month the pages open on and the one before."
            )
        ),
    ] = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Compute the rankings and analyses the pages show, ahead of their visitors (cron it)."""
    from megacity.assessment.rules import parse_month
    from megacity.web.pages import refresh as refresh_mod

    for text in month or []:
        try:
            parse_month(text)
        except DomainError:
            fail(f"--month must be YYYY-MM, not {text!r}")
    mc = _app(database, profile)
    months = month or refresh_mod.default_months(mc)
    total = len(refresh_mod.jobs(mc, months))
    with progress_bar("refresh", total) as advance:
        done = list(refresh_mod.refresh(mc, months, advance))
    for item in done:
        typer.echo(f"{item.label:<32} {item.seconds:8.2f} s  {'computed' if item.computed else 'up to date'}")
    seconds = sum(d.seconds for d in done)
    computed = sum(d.computed for d in done)
    typer.echo(f"{computed} of {len(done)} results computed for {', '.join(months)} in {seconds:.1f} s")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Serve the web app and the API (OpenAPI at /docs)."""
    import uvicorn

    from megacity.web.app import create_app

    mc = _app(database, profile)
    if workers == 1:
        uvicorn.run(create_app(mc), host=host, port=port, log_level="info")
        return
    import os

    if database:
        os.environ["MEGACITY_DATABASE_URL"] = database
    uvicorn.run("megacity.web.asgi:app", host=host, port=port, workers=workers, log_level="warning")


def main() -> None:
    """Entry point: domain and input errors become one line and exit code 2."""
    try:
        app()
    except (DomainError, UnreadableFileError, UsageError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
