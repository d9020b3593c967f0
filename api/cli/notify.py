"""`fieldloop vapid` and `fieldloop worker`: the Web Push key, and delivery as its own process.

`vapid` prints the public key browsers subscribe with (creating the key pair on first use, as
the API would). `worker` delivers the notification outbox until interrupted (SIGINT/SIGTERM),
for deployments that run the API with FIELDLOOP_NOTIFY_WORKER=off; several workers, on
PostgreSQL, share the outbox without sending anything twice (docs/notifications.md).
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import signal

import click

from api.cli import run_with_database, settings_or_fail
from api.cli.serve import check_ready, log_config
from api.notifications.vapid import key_file, load_vapid, public_key
from api.notifications.worker import DeliveryConfig, Worker
from api.settings import SettingsError


@click.command("vapid")
def vapid_command() -> None:
    """Print the Web Push public key (applicationServerKey)."""
    settings = settings_or_fail()
    try:
        vapid = load_vapid(settings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(public_key(vapid))
    if not settings.vapid_private_key:
        click.echo(f"(private key kept in {key_file(settings)})", err=True)


@click.command("worker")
def worker_command() -> None:
    """Deliver push notifications until interrupted."""
    settings = settings_or_fail()
    logging.config.dictConfig(log_config(settings.log_level))
    log = logging.getLogger("fieldloop.notifications")

    async def deliver() -> None:
        await check_ready()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with Worker(DeliveryConfig.from_settings(settings)) as worker:
            log.info("notification worker %s started", worker.name)
            await worker.run(stop)
            log.info("notification worker %s stopped", worker.name)

    run_with_database(deliver, settings)


def register(group: click.Group) -> None:
    group.add_command(vapid_command)
    group.add_command(worker_command)
