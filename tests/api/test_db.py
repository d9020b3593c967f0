"""api/db.py: engine from URL, migrations, write transactions that serialise, health ping."""

import asyncio
from pathlib import Path

import pytest
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from api import db as database
from api.cases.service import next_number
from api.cases.tables import Counter
from api.settings import Settings, load_settings


def _settings(url: str, var_dir: Path) -> Settings:
    return load_settings({"FIELDLOOP_DATABASE_URL": url, "FIELDLOOP_VAR_DIR": str(var_dir)})


def test_engine_follows_the_url(tmp_path: Path) -> None:
    sqlite = database.build_engine(_settings(f"sqlite:///{tmp_path}/sub/x.sqlite3", tmp_path))
    assert isinstance(sqlite, SQLiteEngine)
    assert (tmp_path / "sub").is_dir()  # the folder is made on a first run
    postgres = database.build_engine(_settings("postgres://u@h:5432/town", tmp_path))
    assert isinstance(postgres, PostgresEngine)


def test_postgres_url_without_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(database.DatabaseUnavailableError, match="no database name"):
        database.build_engine(_settings("postgresql://u@h:5432/", tmp_path))


async def test_migrate_is_idempotent(db: Engine) -> None:
    assert await database.migrate() == []


async def test_sqlite_runs_in_wal_mode(db: Engine) -> None:
    if not isinstance(db, SQLiteEngine):
        pytest.skip("WAL is a SQLite setting")
    rows = await db.run_ddl("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"


async def test_concurrent_writers_never_collide(db: Engine) -> None:
    """Fifty read-then-write transactions at once: no 'database is locked', no lost update."""

    async def take_a_number() -> int:
        async with database.write_transaction():
            return await next_number("test-counter")

    numbers = await asyncio.gather(*(take_a_number() for _ in range(50)))
    assert sorted(numbers) == list(range(1, 51))
    row = await Counter.select(Counter.value).where(Counter.name == "test-counter").first()
    assert row["value"] == 50


async def test_nested_write_transactions_join_the_outer_one(db: Engine) -> None:
    with pytest.raises(RuntimeError, match="roll everything back"):
        async with database.write_transaction():
            await next_number("nested")
            async with database.write_transaction():
                await next_number("nested")
            raise RuntimeError("roll everything back")
    assert not await Counter.exists().where(Counter.name == "nested")


async def test_ping_answers_on_a_live_database(db: Engine) -> None:
    await database.ping()


async def test_ping_fails_clearly_when_the_database_is_gone(tmp_path: Path) -> None:
    unreachable = database.build_engine(_settings("postgresql://nobody@127.0.0.1:1/none", tmp_path))
    database.bind_engine(unreachable)
    with pytest.raises(database.DatabaseUnavailableError, match="did not answer"):
        await database.ping()


async def test_after_commit_runs_only_once_committed(db: Engine) -> None:
    ran: list[str] = []
    async with database.write_transaction():
        database.after_commit(lambda: ran.append("wake"))
        database.after_commit(ran.clear)  # a second callback, in order
        async with database.write_transaction():  # nested: joins, runs nothing itself
            database.after_commit(lambda: ran.append("inner"))
        assert ran == []
    assert ran == ["inner"]
    with pytest.raises(RuntimeError):
        async with database.write_transaction():
            database.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("boom")
    assert ran == ["inner"]
    database.after_commit(lambda: ran.append("outside"))
    assert ran == ["inner", "outside"]
