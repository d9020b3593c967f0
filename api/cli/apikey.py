"""`fieldloop apikey create|revoke|list`: Open311 API keys, managed by the operator.

`create NAME` prints the new key alone on its last line (scripts take `| tail -1`); it is shown
once and only its hash is kept. `revoke NAME` stops it at once; the cases it filed stay.
"""

from __future__ import annotations

import click

from api.cli import run_with_database
from api.open311.keys import create_api_key, list_api_keys, revoke_api_key


@click.group("apikey")
def apikey_group() -> None:
    """Manage Open311 API keys."""


@apikey_group.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Make a key for the app NAME and print it (once)."""
    key = run_with_database(lambda: create_api_key(name))
    click.echo(f"Open311 API key for {name} (shown once; keep it safe):")
    click.echo(key)


@apikey_group.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Stop the key of the app NAME."""
    run_with_database(lambda: revoke_api_key(name))
    click.echo(f"Revoked the Open311 API key {name}.")


@apikey_group.command("list")
def list_command() -> None:
    """The keys: name, created, last used, revoked."""
    keys = run_with_database(list_api_keys)
    if not keys:
        click.echo("No Open311 API keys yet: fieldloop apikey create NAME")
    for key in keys:
        used = f"last used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        click.echo(f"{key.name}  created {key.created_at:%Y-%m-%d}  {used}  {state}")


def register(group: click.Group) -> None:
    group.add_command(apikey_group)
