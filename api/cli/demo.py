"""`fieldloop demo`: one command from nothing to a running, populated Fieldloop.

It migrates, seeds the demo town only when the database is empty (a second run keeps what the
first one made, and whatever was done in it since), prints where to go and how to log in, then
serves. `make demo` runs exactly this.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from api.auth.tables import User
from api.cli import run_with_database, settings_or_fail
from api.cli.migrate import apply_migrations
from api.cli.seed import seed_demo_town
from api.cli.serve import host_option, port_option, run_server
from api.demo import DEMO_LOGINS, DEMO_PASSWORD, existing_data

_LOCAL_HOSTS = {"127.0.0.1", "0.0.0.0", "localhost", "::", "::1"}


async def prepare_demo() -> list[str]:
    """Migrate and seed if empty; returns the demo usernames present in the database."""
    await apply_migrations()
    if await existing_data():
        click.echo("The database already holds data: keeping it (no seed).")
    else:
        await seed_demo_town()
    usernames = [login.username for login in DEMO_LOGINS]
    rows = await User.select(User.username).where(User.username.is_in(usernames))
    return [row["username"] for row in rows]


def base_url(host: str, port: int) -> str:
    shown = "localhost" if host in _LOCAL_HOSTS else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def print_welcome(url: str, present: list[str]) -> None:
    console = Console(highlight=False)
    console.print(f"\nFieldloop demo: [bold]{url}[/bold]")
    console.print(f"API schema:     [bold]{url}/schema[/bold]")
    console.print(
        f"Open311:        [bold]{url}/open311/v2/services.json[/bold] "
        "(keys to submit: .venv/bin/fieldloop apikey create NAME)"
    )
    logins = [login for login in DEMO_LOGINS if login.username in present]
    if not logins:
        console.print("No demo logins in this database; create users with `fieldloop user create`.")
        return
    table = Table(title="Demo logins", title_justify="left")
    for column in ("username", "password", "role", "crew"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, DEMO_PASSWORD, login.role.value, login.crew or "")
    console.print(table)


@click.command("demo")
@host_option
@port_option
def demo_command(host: str, port: int) -> None:
    """Migrate, seed the demo town if the database is empty, and serve it."""
    settings = settings_or_fail()
    present = run_with_database(prepare_demo, settings)
    print_welcome(base_url(host, port), present)
    run_server(host, port, settings)


def register(group: click.Group) -> None:
    group.add_command(demo_command)
