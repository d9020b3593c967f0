"""`fieldloop migrate`: bring the database schema up to date.

Migrations are additive and safe to run at every deploy; running it again is a no-op that says
so. `seed` and `demo` migrate first too, through `apply_migrations`.
"""

from __future__ import annotations

import click

from api import db
from api.cli import describe_database, run_with_database, settings_or_fail


async def apply_migrations() -> None:
    """Apply what has not run yet and say which migrations those were."""
    applied = await db.migrate()
    if not applied:
        click.echo("Database is up to date: no migrations to apply.")
        return
    noun = "migration" if len(applied) == 1 else "migrations"
    click.echo(f"Applied {len(applied)} {noun}:")
    for name in applied:
        click.echo(f"  {name}")


@click.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations that have not run yet."""
    settings = settings_or_fail()
    click.echo(f"Migrating the {describe_database(settings)}")
    run_with_database(apply_migrations, settings)


def register(group: click.Group) -> None:
    group.add_command(migrate_command)
