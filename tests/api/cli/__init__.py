"""Shared by the command-line tests: run `fieldloop …` in-process against a temp SQLite file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from api.cli import main
from api.piccolo_app import APP_CONFIG

MIGRATION_COUNT = len(list(Path(APP_CONFIG.resolved_migrations_folder_path).glob("fieldloop_*.py")))
APPLIED_ALL = f"Applied {MIGRATION_COUNT} migration{'s' if MIGRATION_COUNT > 1 else ''}"


def cli_env(tmp_path: Path) -> dict[str, str | None]:
    return {
        "FIELDLOOP_DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3",
        "FIELDLOOP_VAR_DIR": str(tmp_path / "var"),
        "FIELDLOOP_PASSWORD": None,  # unset, whatever the calling shell has
    }


def run(tmp_path: Path, *args: str, typed: str | None = None, **env: str | None) -> Result:
    """`fieldloop *args` on the database in `tmp_path`; `typed` is keyboard input."""
    return CliRunner().invoke(main, list(args), env=cli_env(tmp_path) | env, input=typed)
