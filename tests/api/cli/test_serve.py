"""api/cli/serve.py: `fieldloop serve` checks the database before it starts a server.

Serving itself is proven end to end by tests/api/cli/test_demo.py, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import serve
from api.settings import Settings
from tests.api.cli import APPLIED_ALL, MIGRATION_COUNT, run


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Records the servers the command would start instead of starting them."""
    started: list[tuple[str, int]] = []

    def record(host: str, port: int, settings: Settings) -> None:
        started.append((host, port))

    monkeypatch.setattr(serve, "run_server", record)
    return started


def test_serve_starts_on_a_migrated_database(tmp_path: Path, servers: list) -> None:
    assert run(tmp_path, "migrate").exit_code == 0
    result = run(tmp_path, "serve", "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert servers == [("0.0.0.0", 8123)]


def test_serve_migrate_applies_migrations_first(tmp_path: Path, servers: list) -> None:
    result = run(tmp_path, "serve", "--migrate")
    assert result.exit_code == 0, result.output
    assert APPLIED_ALL in result.stdout
    assert servers == [("127.0.0.1", 8000)]


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, servers: list) -> None:
    result = run(tmp_path, "serve")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: the database lacks {MIGRATION_COUNT} migration(s): run `fieldloop migrate` first"
    )
    assert servers == []


def test_serve_refuses_unusable_settings(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", FIELDLOOP_TOKEN_HOURS="a shift")
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "Error: FIELDLOOP_TOKEN_HOURS must be a whole number, got 'a shift'"
    )


def test_port_must_be_a_tcp_port(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--port", "70000")
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.stderr
