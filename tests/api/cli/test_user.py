"""api/cli/user.py: `fieldloop user create`, the way the first administrator is made."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api import db
from api.auth.service import authenticate
from api.settings import load_settings
from tests.api.cli import cli_env, run


def _can_log_in(tmp_path: Path, username: str, password: str) -> bool:
    env = {name: value for name, value in cli_env(tmp_path).items() if value is not None}
    settings = load_settings(env)

    async def attempt() -> bool:
        engine = await db.connect(settings)
        try:
            return (await authenticate(username, password))["username"] == username
        finally:
            await db.disconnect(engine)

    return asyncio.run(attempt())


def test_create_with_password_from_the_environment(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").exit_code == 0
    result = run(
        tmp_path,
        "user",
        "create",
        "alice",
        "--role",
        "admin",
        "--display-name",
        "Alice Admin",
        FIELDLOOP_PASSWORD="a long enough secret",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Created user alice (admin), id ")
    assert "a long enough secret" not in result.output
    assert _can_log_in(tmp_path, "alice", "a long enough secret")
    again = run(tmp_path, "user", "create", "alice", "--role", "admin", FIELDLOOP_PASSWORD="x" * 9)
    assert again.exit_code == 1
    assert again.stderr.strip() == "Error: username 'alice' is taken"


def test_password_is_prompted_twice_when_not_in_the_environment(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").exit_code == 0
    result = run(tmp_path, "user", "create", "bob", "--role", "advocate", typed="s3cret-pass\n" * 2)
    assert result.exit_code == 0, result.output
    assert "Password: " in result.stdout and "Repeat for confirmation: " in result.stdout
    assert "s3cret-pass" not in result.output  # hidden input
    assert _can_log_in(tmp_path, "bob", "s3cret-pass")


def test_crew_users_name_an_existing_crew(tmp_path: Path) -> None:
    assert run(tmp_path, "seed", "--scale", "0.01").exit_code == 0
    password = {"FIELDLOOP_PASSWORD": "field-work-9"}
    result = run(
        tmp_path, "user", "create", "dana", "--role", "crew", "--crew", "Streets 2", **password
    )
    assert result.exit_code == 0, result.output
    assert "Created user dana (crew, crew Streets 2)" in result.stdout
    unknown = run(
        tmp_path, "user", "create", "erin", "--role", "crew", "--crew", "Roads", **password
    )
    assert unknown.exit_code == 1
    assert "no crew named 'Roads'; the crews are: Parks & Trees, Sanitation" in unknown.stderr
    missing = run(tmp_path, "user", "create", "erin", "--role", "crew", **password)
    assert missing.exit_code == 2
    assert "a crew user needs --crew CREW_NAME" in missing.stderr


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    role = run(tmp_path, "user", "create", "carol", "--role", "mayor")
    assert role.exit_code == 2
    assert "Invalid value for '--role': 'mayor' is not one of 'advocate', 'crew'" in role.stderr
    short = run(tmp_path, "user", "create", "carol", "--role", "admin", FIELDLOOP_PASSWORD="short")
    assert short.exit_code == 1
    assert short.stderr.strip() == "Error: the password needs 8 to 200 characters"
    name = run(tmp_path, "user", "create", "Carol!", "--role", "admin", FIELDLOOP_PASSWORD="x" * 9)
    assert name.exit_code == 1
    assert "'Carol!' cannot be a username" in name.stderr
