"""`megacity analyse complainants` and `megacity analyse abnormal` (docs/complainants.md, docs/abnormal.md).

Same input conventions as `analyse repeats`: exactly one of `--tickets F` (Parquet or CSV) and
`--database URL`. Registered in `megacity.cli` next to the other `analyse` commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from megacity.analytics.cli import DatabaseUrl, Tickets, fail
from megacity.analytics.orders import WORKFLOW, TableError, read_disputes, read_orders
from megacity.domain.profile import Profile
from megacity.profiles import load_profile
from megacity.profiles.loader import default_profile_path

ProfileDir = Annotated[
    Path | None,
    typer.Option("--profile", envvar="MEGACITY_PROFILE", help="Profile folder (default: Beijing)."),
]


def _profile(profile: Path | None) -> Profile:
    try:
        return load_profile(profile)
    except Exception as exc:  # a broken profile is a user error, whatever the loader raised
        fail(f"cannot load profile {profile}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def complainants_cmd(
    out: Annotated[Path, typer.Option("--out", help="Where to write one profile per complainant (CSV).")],
    tickets: Tickets = None,
    database: DatabaseUrl = None,
    profile: ProfileDir = None,
) -> None:
    """Profile every complainant (pseudonym): requests, categories, streets, ratings, repeats, labels."""
    from megacity.analytics.complainants import load_thresholds, profiles_for, write_profiles

    if (tickets is None) == (database is None):
        fail("give exactly one of --tickets FILE and --database URL")
    city = _profile(profile)
    try:
        thresholds = load_thresholds(profile or default_profile_path())
    except (ValueError, OSError) as exc:
        fail(str(exc))
    try:
        orders = read_orders(
            tickets, database, city.timezone, required=("id", "received_at", "complainant_id")
        )
    except TableError as exc:
        fail(str(exc))
    profiles = profiles_for(orders, thresholds, float(city.repeat_window_days), ZoneInfo(city.timezone))
    try:
        write_profiles(out, profiles)
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    labelled = {
        name: sum(1 for p in profiles if name in p.labels.split("|"))
        for name in ("frequent", "repeat", "unsatisfied")
    }
    typer.echo(f"complainants {len(profiles)} " + " ".join(f"{k} {v}" for k, v in labelled.items()))


def abnormal_cmd(
    out: Annotated[Path, typer.Option("--out", help="Where to write the labels of every order (CSV).")],
    tickets: Tickets = None,
    database: DatabaseUrl = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write a Markdown report.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: zh_CN or en.")] = "zh_CN",
    profile: ProfileDir = None,
) -> None:
    """Label abnormal orders (disputed, excluded, reopened, overdue, escalated) and mine their features."""
    from megacity.analytics.abnormal_render import write_labels, write_report
    from megacity.analytics.abnormal_report import LANGUAGES, Names, analyse

    if (tickets is None) == (database is None):
        fail("give exactly one of --tickets FILE and --database URL")
    if lang not in LANGUAGES:
        fail(f"--lang must be one of {', '.join(LANGUAGES)}")
    city = _profile(profile)
    try:
        orders = read_orders(tickets, database, city.timezone)
        events = read_disputes(database) if database is not None else []
    except TableError as exc:
        fail(str(exc))
    if not any(name in orders.present for name in WORKFLOW):
        fail(f"{tickets}: no workflow column ({', '.join(WORKFLOW)}): nothing marks an order abnormal")
    names = Names(city.catalogue, city.org)
    result = analyse(orders, events, ZoneInfo(city.timezone), names, language=lang)
    try:
        write_labels(out, orders, result.labels)
        if report is not None:
            write_report(report, result, names, lang)
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    counts = " ".join(f"{kind} {n}" for kind, n in result.counts.items())
    typer.echo(f"orders {result.orders} {counts} suggestions {len(result.suggestions)}")
