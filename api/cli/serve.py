"""`fieldloop serve`: run the API under uvicorn.

Before starting, it checks that the database answers and is migrated, so a wrong
FIELDLOOP_DATABASE_URL or a forgotten `fieldloop migrate` is one clear line, not a server that
starts and then fails every request. `--migrate` applies migrations first (the Docker image
starts this way). `demo` serves through `run_server` too.
"""

from __future__ import annotations

import copy

import click
import uvicorn
import uvicorn.config
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration

from api import db
from api.cli import fail, run_with_database, settings_or_fail
from api.cli.migrate import apply_migrations
from api.piccolo_app import APP_CONFIG
from api.settings import Settings

host_option = click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on."
)
port_option = click.option(
    "--port", type=click.IntRange(1, 65_535), default=8000, show_default=True, help="TCP port."
)


async def pending_migrations() -> list[str]:
    """The migrations `fieldloop migrate` would apply."""
    manager = BaseMigrationManager()
    modules = manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)
    known = manager.get_migration_ids(modules)
    if not await Migration.table_exists():
        return sorted(known)
    ran = await Migration.get_migrations_which_ran(app_name=APP_CONFIG.app_name)
    return sorted(set(known) - set(ran))


async def check_ready() -> None:
    await db.ping()
    if pending := await pending_migrations():
        fail(f"the database lacks {len(pending)} migration(s): run `fieldloop migrate` first")


def log_config(level: str) -> dict:
    """uvicorn's logging, plus Fieldloop's own loggers on the same handler.

    uvicorn's access log is off: `api.request_log` writes one line per request instead,
    without the query string (which may carry a tracking token)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["fieldloop"] = {"handlers": ["default"], "level": level, "propagate": False}
    return config


def run_server(host: str, port: int, settings: Settings) -> None:
    """Serve `api.app:create_app` until interrupted; the app reads the same settings."""
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings.log_level),
        access_log=False,
    )


@click.command("serve")
@host_option
@port_option
@click.option("--migrate", is_flag=True, help="Apply pending migrations before serving.")
def serve_command(host: str, port: int, migrate: bool) -> None:
    """Serve the Fieldloop API (and its OpenAPI schema at /schema)."""
    settings = settings_or_fail()

    async def prepare() -> None:
        if migrate:
            await apply_migrations()
        await check_ready()

    run_with_database(prepare, settings)
    run_server(host, port, settings)


def register(group: click.Group) -> None:
    group.add_command(serve_command)
