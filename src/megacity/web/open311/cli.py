"""`megacity apikey`: create, list and revoke the API keys of Open311 clients.

`create` prints the key as its last line, once: only its SHA-256 hash is stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from megacity.cli_options import Database, ProfileOpt, build_app
from megacity.services import apikeys

app = typer.Typer(help="Manage the API keys of Open311 clients.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who the key is for, e.g. fixmystreet (no spaces).")],
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Create a key; it is printed once, as the last line, and stored only as a hash."""
    key, secret = apikeys.create(app=build_app(database, profile), name=name)
    typer.echo(f"api key {key.id} created for {key.name}; store it now, it is not shown again:")
    typer.echo(secret)


@app.command("list")
def list_(database: Database = None, profile: ProfileOpt = None) -> None:
    """List keys: id, name, created, and active or when revoked (never the keys themselves)."""
    for key in apikeys.list_keys(app=build_app(database, profile)):
        state = (
            "active" if key.revoked_at is None else f"revoked {key.revoked_at.isoformat(timespec='seconds')}"
        )
        typer.echo(f"{key.id}\t{key.name}\t{key.created_at.isoformat(timespec='seconds')}\t{state}")


@app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(metavar="ID", help="Id of the key (see `megacity apikey list`).")],
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Revoke a key at once: its requests are refused with 403 from now on."""
    if apikeys.revoke(app=build_app(database, profile), key_id=key_id):
        typer.echo(f"api key {key_id} revoked")
    else:
        typer.echo(f"api key {key_id} was already revoked")
