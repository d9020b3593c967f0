"""Shared fixtures: the database under test (SQLite always, PostgreSQL when configured), a
clean slate per test, the app and an HTTP client for it, and a small standard town.

Tests that take `db` (directly or through `client`/`town`) run once per engine. PostgreSQL runs
when FIELDLOOP_TEST_POSTGRES_URL names a server; each session creates its own throwaway
database there and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api import db as database
from api.app import create_app
from api.settings import Settings, load_settings
from tests import factories

POSTGRES_URL = os.environ.get("FIELDLOOP_TEST_POSTGRES_URL", "")
POSTGRES_SKIP_REASON = (
    "PostgreSQL run skipped: set FIELDLOOP_TEST_POSTGRES_URL "
    "(e.g. postgresql://postgres@127.0.0.1:5432/test) to run every database test on it too"
)


def _admin_url(url: str, dbname: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{dbname}"


async def _create_postgres_database(url: str) -> str:
    name = f"fieldloop_test_{os.getpid()}"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return _admin_url(url, name)


async def _drop_postgres_database(url: str, test_url: str) -> None:
    name = test_url.rpartition("/")[2]
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def make_settings(url: str, var_dir: Path) -> Settings:
    return load_settings(
        {
            "FIELDLOOP_DATABASE_URL": url,
            "FIELDLOOP_VAR_DIR": str(var_dir),
            "FIELDLOOP_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            # push subscriptions may point at the loopback fake push service; tests drive the
            # delivery worker themselves (a live server starts none)
            "FIELDLOOP_PUSH_SERVICES": "127.0.0.1,fcm.googleapis.com",
            "FIELDLOOP_NOTIFY_WORKER": "off",
        }
    )


async def _migrate(settings: Settings) -> None:
    engine = await database.connect(settings)
    try:
        await database.migrate()
    finally:
        await database.disconnect(engine)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings for a freshly migrated database of each engine."""
    var_dir = tmp_path_factory.mktemp(f"var-{request.param}")
    if request.param == "sqlite":
        result = make_settings(f"sqlite:///{var_dir}/test.sqlite3", var_dir)
        asyncio.run(_migrate(result))
        yield result
        return
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    test_url = asyncio.run(_create_postgres_database(POSTGRES_URL))
    result = make_settings(test_url, var_dir)
    asyncio.run(_migrate(result))
    yield result
    asyncio.run(_drop_postgres_database(POSTGRES_URL, test_url))


async def _wipe(engine: Engine) -> None:
    """Empty every table in one transaction: one commit (one fsync) per test, and on
    PostgreSQL DELETE plus sequence restarts, which is several times faster than TRUNCATE
    on tables this small."""
    tables = [table._meta.tablename for table in reversed(database.all_tables())]
    async with database.write_transaction():
        for name in tables:
            await engine.run_ddl(f'DELETE FROM "{name}"')
        if not database.is_sqlite(engine):
            for name in tables:
                await engine.run_ddl(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), 1, false)"
                )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Engine]:
    """The connected, bound engine over an empty (migrated) database."""
    engine = await database.connect(settings)
    await _wipe(engine)
    yield engine
    await database.disconnect(engine)


@pytest.fixture
def app(settings: Settings, db: Engine, tmp_path: Path) -> Litestar:
    """The app over this test's database; photos and unfinished uploads in this test's own
    directory, so a test can see exactly what it stored."""
    return create_app(replace(settings, var_dir=tmp_path / "var"), engine=db)


@pytest.fixture
async def live_server(app: Litestar) -> AsyncIterator[str]:
    """The app behind a real uvicorn server on a free loopback port, in this test's event
    loop (so it shares the test's database connection); yields its base URL. For tests about
    HTTP itself: connections cut mid-body, real tus clients."""
    async with factories.serving(app) as url:
        yield url


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in this test's event loop (Litestar's AsyncTestClient
    runs the app on another loop, where the PostgreSQL pool of this test cannot be used)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fieldloop.test") as c:
        yield c


@pytest.fixture
async def push_service(app: Litestar) -> AsyncIterator[factories.FakePushService]:
    """A fake Web Push service on loopback that only takes messages signed with this app's
    VAPID key and encrypted for the subscriber."""
    async with factories.FakePushService(vapid_public_key=app.state.vapid_public_key) as service:
        yield service


@pytest.fixture
async def town(db: Engine, app: Litestar) -> factories.Town:
    """Two crews, a user of every role, a service type needing field work and one not."""
    return await factories.make_town(app)
