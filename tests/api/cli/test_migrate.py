"""api/cli/migrate.py (and the shared error handling of api/cli): `fieldloop migrate`."""

from __future__ import annotations

from pathlib import Path

from tests.api.cli import APPLIED_ALL, run


def test_migrate_applies_once_then_says_up_to_date(tmp_path: Path) -> None:
    first = run(tmp_path, "migrate")
    assert first.exit_code == 0, first.output
    assert APPLIED_ALL in first.stdout
    assert f"SQLite file {tmp_path}/cli.sqlite3" in first.stdout
    second = run(tmp_path, "migrate")
    assert second.exit_code == 0, second.output
    assert "up to date" in second.stdout
    assert "Applied" not in second.stdout


def test_unusable_database_url_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", FIELDLOOP_DATABASE_URL="mysql://db.example/fieldloop")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: FIELDLOOP_DATABASE_URL must start with sqlite:/// or postgresql://, got 'mysql'"
    ]


def test_unreachable_database_names_where_but_not_the_password(tmp_path: Path) -> None:
    url = "postgresql://fieldloop:hunter22@127.0.0.1:1/fieldloop"  # nothing listens on port 1
    result = run(tmp_path, "migrate", FIELDLOOP_DATABASE_URL=url)
    assert result.exit_code == 1
    error = result.stderr.strip()
    assert error.startswith("Error: cannot open the database")
    assert "PostgreSQL database fieldloop on 127.0.0.1:1" in error
    assert "hunter22" not in result.output
    assert "Traceback" not in result.output
