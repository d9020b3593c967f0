"""The `fieldloop` command line: one click group, one module per command group.

Every command reads its settings with `load_settings()` (so FIELDLOOP_DATABASE_URL and
FIELDLOOP_VAR_DIR apply), runs its async work with `asyncio.run` against `api.db`, and turns
the failures an operator can expect (a bad setting, a database it cannot reach, a refused
seed, a taken username) into one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

import click

from api import db
from api.errors import DomainError
from api.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Stop the command: `Error: <message>` on stderr, exit status 1."""
    raise click.ClickException(message)


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


def describe_database(settings: Settings) -> str:
    """Where the data lives, for messages: never the password."""
    if not settings.is_postgres:
        return f"SQLite file {db.sqlite_path(settings.database_url)}"
    parts = urlsplit(settings.database_url)
    try:
        port = parts.port or 5432
    except ValueError:  # not a number: the driver will say so
        port = parts.netloc.rpartition(":")[2]
    return f"PostgreSQL database {parts.path.strip('/')} on {parts.hostname}:{port}"


def run_with_database(work: Callable[[], Awaitable[T]], settings: Settings | None = None) -> T:
    """Connect, run `work()`, disconnect; expected failures end the command cleanly."""
    settings = settings or settings_or_fail()

    async def connected() -> T:
        try:
            engine = await db.connect(settings)
        except db.DatabaseUnavailableError as error:
            fail(f"{error} ({describe_database(settings)})")
        except Exception as error:  # e.g. no permission to create the SQLite file's folder
            fail(f"cannot open the {describe_database(settings)}: {error}")
        try:
            return await work()
        finally:
            await db.disconnect(engine)

    try:
        return asyncio.run(connected())
    except db.DatabaseUnavailableError as error:
        fail(str(error))
    except DomainError as error:
        fail(error.detail)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fieldloop", prog_name="fieldloop")
def main() -> None:
    """Fieldloop: 311 software that closes the loop between the call center, field crews
    and citizens.

    Settings come from FIELDLOOP_* environment variables (see the README); by default the
    data lives in var/fieldloop.sqlite3."""


def _register_commands() -> None:
    # imported here, after the helpers above exist, because each module imports them
    from api.cli import apikey, demo, migrate, notify, seed, serve, user

    for module in (migrate, seed, serve, demo, user, notify, apikey):
        module.register(main)


_register_commands()
