"""Fieldloop's benchmarks: `make bench` runs them all, each figure beside its baseline.

What every bench shares: where to find a PostgreSQL server, and throwaway databases on it that
are dropped again whatever happens.
"""

from __future__ import annotations

import os
from types import TracebackType

import asyncpg


def postgres_url() -> str | None:
    """The server to bench PostgreSQL on (FIELDLOOP_BENCH_POSTGRES_URL, else the tests'
    FIELDLOOP_TEST_POSTGRES_URL); says so when there is none."""
    url = os.environ.get("FIELDLOOP_BENCH_POSTGRES_URL") or os.environ.get(
        "FIELDLOOP_TEST_POSTGRES_URL"
    )
    if not url:
        print("  postgres: skipped; set FIELDLOOP_BENCH_POSTGRES_URL to include it")
    return url or None


class ScratchDatabases:
    """`async with ScratchDatabases(url) as databases:` — `await databases.new(name)` creates
    an empty database on that server and gives its URL; all are dropped on leaving."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []
        self.admin: asyncpg.Connection | None = None

    async def __aenter__(self) -> ScratchDatabases:
        self.admin = await asyncpg.connect(self.url)
        return self

    async def new(self, name: str) -> str:
        assert self.admin is not None
        await self.admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url.rpartition("/")[0] + "/" + name

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.admin is not None
        try:
            for name in self.created:
                await self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await self.admin.close()
