"""Options every `megacity` command shares, and the one way commands build the application."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from megacity.bootstrap import Megacity, bootstrap
from megacity.settings import Settings

Database = Annotated[
    str | None,
    typer.Option(
        "--database", envvar="MEGACITY_DATABASE_URL", help="Database URL (default sqlite:///megacity.db)."
    ),
]
ProfileOpt = Annotated[
    Path | None,
    typer.Option("--profile", envvar="MEGACITY_PROFILE", help="Profile folder (default: Beijing)."),
]


def build_app(database: str | None, profile: Path | None = None) -> Megacity:
    """The application for a command, with --database and --profile over the environment."""
    values: dict[str, Any] = {}
    if database:
        values["database_url"] = database
    if profile:
        values["profile"] = profile
    return bootstrap(Settings(**values))
