"""`fieldloop seed`: migrate, then fill an empty database with the demo town.

The town (api/demo) is deterministic: the same `--random-seed` gives the same citizens, cases
and numbers. The seed refuses a database that already holds data, so it never doubles a town or
mixes one into real records. Progress goes to stderr as rich progress bars; the summary of what
was written goes to stdout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli import fail, run_with_database
from api.cli.migrate import apply_migrations
from api.demo import DEFAULT_RANDOM_SEED, SeedRefusedError, TownSummary, seed_town
from api.workorders.schemas import WorkOrderStatus


class _ProgressBars:
    """Adapts `seed_town`'s progress(step, done, total) calls to one rich bar per step."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if step not in self.tasks:
            self.tasks[step] = self.progress.add_task(step, total=total)
        self.progress.update(self.tasks[step], completed=done, total=total)


@contextmanager
def progress_bars() -> Iterator[_ProgressBars]:
    columns = (
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield _ProgressBars(progress)


async def seed_demo_town(scale: float = 1.0, random_seed: int = DEFAULT_RANDOM_SEED) -> None:
    """Seed with progress bars, then print what was written; a refusal ends the command."""
    started = time.perf_counter()
    try:
        with progress_bars() as progress:
            summary = await seed_town(scale=scale, random_seed=random_seed, progress=progress)
    except (SeedRefusedError, ValueError) as error:
        fail(str(error))
    print_summary(summary, time.perf_counter() - started)


def print_summary(summary: TownSummary, seconds: float) -> None:
    click.echo(f"Seeded the demo town in {seconds:.1f} s:")
    for name, count in summary.counts.items():
        click.echo(f"  {name:<14} {count:>7,}")
    by_status = summary.work_orders_by_status
    statuses = ", ".join(f"{s.value} {by_status[s]:,}" for s in WorkOrderStatus if s in by_status)
    click.echo(f"  work orders by status: {statuses}")


@click.command("seed")
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplies citizens (500), places (1,200) and cases (1,500); staff, crews and the "
    "catalogue stay the same.",
)
@click.option(
    "--random-seed",
    type=int,
    default=DEFAULT_RANDOM_SEED,
    show_default=True,
    help="The same seed builds the same town.",
)
def seed_command(scale: float, random_seed: int) -> None:
    """Migrate, then build the demo town into an empty database."""

    async def migrate_and_seed() -> None:
        await apply_migrations()
        await seed_demo_town(scale, random_seed)

    run_with_database(migrate_and_seed)


def register(group: click.Group) -> None:
    group.add_command(seed_command)
