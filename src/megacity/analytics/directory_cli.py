"""`megacity complainant ...`: the 重点诉求人 directory from the command line (docs/complainants.md).

Every change is audited with the operator's name (`--actor`, default the login name) and the
role `admin`: whoever runs the command holds the database. Nothing printed here is personal
data: complainants are shown by pseudonym only.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Annotated, Any

import typer

from megacity.cli_options import Database, ProfileOpt, build_app
from megacity.domain.errors import DomainError
from megacity.services import complainants as directory
from megacity.services.complainants import Who

app = typer.Typer(
    help="The 重点诉求人 directory: designate, plan (一人一策), notes, close.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
Label = Annotated[list[str], typer.Option("--label", help="frequent|repeat|unsatisfied|other (repeatable).")]
Actor = Annotated[str | None, typer.Option("--actor", help="Who makes the change (default: the login name).")]
Person = Annotated[str, typer.Argument(help="The complainant's pseudonym (complainant_id).")]


def _run(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


def _who(actor: str | None) -> Who:
    return Who(actor or f"cli:{getpass.getuser()}", "admin")


def _show(entry: dict[str, Any]) -> None:
    labels = ",".join(entry["labels"])
    typer.echo(f"{entry['complainant_id']}\t{entry['status']}\t{labels}\t{entry['updated_at'].isoformat()}")


@app.command("designate")
def designate(
    complainant_id: Person,
    label: Label,
    plan: Annotated[str, typer.Option("--plan", help="The plan for this person (一人一策).")] = "",
    actor: Actor = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Put a complainant on the directory with labels and, optionally, a plan."""
    mc = build_app(database, profile)
    _show(
        _run(
            lambda: directory.designate(
                app=mc, who=_who(actor), complainant_id=complainant_id, labels=label, plan=plan
            )
        )
    )


@app.command("update")
def update(
    complainant_id: Person,
    label: Annotated[list[str] | None, typer.Option("--label", help="New labels (repeatable).")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="The new plan (一人一策).")] = None,
    actor: Actor = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Change the labels or the plan of an active entry."""
    mc = build_app(database, profile)
    who = _who(actor)
    _show(
        _run(
            lambda: directory.update_entry(
                app=mc, who=who, complainant_id=complainant_id, labels=label, plan=plan
            )
        )
    )


@app.command("note")
def note(
    complainant_id: Person,
    text: Annotated[str, typer.Option("--text", help="The case note.")],
    actor: Actor = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Add a dated case note to an active entry."""
    mc = build_app(database, profile)
    added = _run(
        lambda: directory.add_note(app=mc, who=_who(actor), complainant_id=complainant_id, note=text)
    )
    typer.echo(f"note {added['id']} added at {added['at'].isoformat()}")


@app.command("close")
def close(
    complainant_id: Person,
    reason: Annotated[str, typer.Option("--reason", help="Why the person leaves the directory.")],
    actor: Actor = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Close an entry; it and its notes are kept."""
    mc = build_app(database, profile)
    _show(
        _run(lambda: directory.close(app=mc, who=_who(actor), complainant_id=complainant_id, reason=reason))
    )


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="active|closed")] = None,
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """List the directory: pseudonym, status, labels, last change."""
    mc = build_app(database, profile)
    for entry in _run(lambda: directory.list_entries(app=mc, status=status)):
        _show(entry)


@app.command("show")
def show(complainant_id: Person, database: Database = None, profile: ProfileOpt = None) -> None:
    """One entry: labels, plan, notes and the current profile numbers."""
    mc = build_app(database, profile)
    entry = _run(lambda: directory.get_entry(app=mc, complainant_id=complainant_id))
    _show(entry)
    typer.echo(f"plan: {entry['plan']}")
    for item in entry["notes"]:
        typer.echo(f"note {item['id']} {item['at'].isoformat()} {item['author']}: {item['note']}")
    found = directory.profile_of(app=mc, complainant_id=complainant_id)
    if found is not None:
        typer.echo(
            f"requests {found.requests} repeats {found.repeats} "
            f"unsatisfied {found.unsatisfied}/{found.rated} labels {found.labels or '-'}"
        )
