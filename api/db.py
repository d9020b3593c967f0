"""The database connection: which engine, how writes are serialised, migrations and health.

One URL picks the engine (DESIGN §6). SQLite gets WAL, a generous busy timeout and
`BEGIN IMMEDIATE` for every write transaction, so concurrent writers queue instead of failing
with "database is locked". PostgreSQL gets a connection pool. Piccolo finds its engine through
`api.piccolo_conf.DB`; `bind_engine` points that and every table at one engine, which is how the
app, the command line, the tests and the benchmarks choose a database at run time.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, redirect_stdout
from contextvars import ContextVar
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from api.settings import Settings

os.environ.setdefault("PICCOLO_CONF", "api.piccolo_conf")


class DatabaseUnavailableError(RuntimeError):
    """The database could not be reached or migrated; the message says why."""


def sqlite_path(url: str) -> Path:
    """`sqlite:///var/x.sqlite3` → `var/x.sqlite3`; `sqlite:////abs/x` → `/abs/x`."""
    return Path(url.removeprefix("sqlite:///"))


def build_engine(settings: Settings) -> Engine:
    """An engine for `settings.database_url`; nothing is connected yet."""
    url = settings.database_url
    if settings.is_postgres:
        parts = urlsplit(url)
        if not parts.path.strip("/"):
            raise DatabaseUnavailableError(f"no database name in FIELDLOOP_DATABASE_URL ({url})")
        # Piccolo's constructor asks the server for its version and only warns when it cannot
        # reach it; `connect()` reports an unreachable database as an error of its own.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return PostgresEngine(
                config={"dsn": url.replace("postgres://", "postgresql://", 1)}, extensions=()
            )
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=settings.sqlite_timeout)


def all_tables() -> list[type]:
    """Every Fieldloop table, parents before children (the order migrations create them)."""
    from api.piccolo_app import APP_CONFIG

    return list(APP_CONFIG.table_classes)


def bind_engine(engine: Engine) -> None:
    """Make `engine` the one Piccolo and every table use from now on."""
    from piccolo.apps.migrations.tables import Migration

    import api.piccolo_conf

    api.piccolo_conf.DB = engine
    for table in [*all_tables(), Migration]:
        table._meta.db = engine


def current_engine() -> Engine:
    import api.piccolo_conf

    return api.piccolo_conf.DB


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type == "sqlite"


async def connect(settings: Settings) -> Engine:
    """Build, bind and open the engine: the pool on PostgreSQL, WAL on SQLite."""
    try:
        engine = build_engine(settings)
        bind_engine(engine)
        if isinstance(engine, PostgresEngine):
            await engine.start_connection_pool(min_size=1, max_size=settings.pg_pool_max)
        else:
            await engine.run_ddl("PRAGMA journal_mode=WAL")
    except Exception as error:  # refused, unknown host, no such database, bad password, …
        raise DatabaseUnavailableError(f"cannot open the database: {error}") from error
    return engine


async def disconnect(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for work that writes.

    On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
    transaction that reads first and writes later can fail with "database is locked" however
    long the timeout. Nested calls join the outer transaction.
    """
    engine = current_engine()
    if engine.current_transaction.get() is not None:
        yield
        return
    if isinstance(engine, SQLiteEngine):
        transaction = engine.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = engine.transaction()
    callbacks: list[Callable[[], None]] = []
    token = _after_commit.set(callbacks)
    try:
        async with transaction:
            yield
    finally:
        _after_commit.reset(token)
    for callback in callbacks:  # committed: only now may others act on what was written
        callback()


_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "fieldloop_after_commit", default=None
)


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current write transaction has committed (at once outside
    one); never if it rolls back. For waking a worker about rows it can only see then."""
    pending = _after_commit.get()
    if pending is None:
        callback()
    elif callback not in pending:
        pending.append(callback)


@asynccontextmanager
async def read_snapshot() -> AsyncIterator[None]:
    """A read-only transaction in which every query sees the same committed state.

    PostgreSQL: REPEATABLE READ. SQLite in WAL mode: a deferred transaction reads one snapshot
    from its first read to its end."""
    engine = current_engine()
    async with engine.transaction():
        if not isinstance(engine, SQLiteEngine):
            await engine.run_ddl("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


async def migrate() -> list[str]:
    """Apply every migration not yet applied; returns the names it applied."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    await Migration.create_table(if_not_exists=True)
    before = set(await Migration.get_migrations_which_ran(app_name="fieldloop"))
    with redirect_stdout(StringIO()):  # Piccolo prints emoji progress; the CLI says its own
        result = await run_forwards(app_name="fieldloop")
    if not result.success:
        raise DatabaseUnavailableError(f"migration failed: {result.message}")
    after = await Migration.get_migrations_which_ran(app_name="fieldloop")
    return sorted(set(after) - before)


async def ping() -> None:
    """Raise `DatabaseUnavailableError` unless the database answers a query."""
    from api.catalog.tables import Department

    try:
        await Department.raw("SELECT 1")
    except Exception as error:  # any driver error at all means "not healthy"
        raise DatabaseUnavailableError(f"database did not answer: {error}") from error


def for_update(query):
    """`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the IMMEDIATE transaction already holds
    the database's single write lock, and Piccolo refuses row locks there."""
    return query if is_sqlite() else query.lock_rows()


async def lock_name(name: str) -> None:
    """Serialise transactions about one named thing (a photo's content hash) until commit.

    PostgreSQL: a transaction-scoped advisory lock, for things that have no row to lock yet.
    SQLite: nothing to do, the IMMEDIATE transaction already holds the one write lock."""
    if is_sqlite():
        return
    from api.catalog.tables import Department

    await Department.raw("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", name)


def for_update_skip_locked(query):
    """`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL: workers sharing a queue each take rows
    nobody else holds. On SQLite the IMMEDIATE transaction already makes them take turns."""
    return query if is_sqlite() else query.lock_rows(skip_locked=True)
