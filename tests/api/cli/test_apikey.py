"""api/cli/apikey.py: `fieldloop apikey create|revoke|list`."""

from __future__ import annotations

from pathlib import Path

from tests.api.cli import run


def test_create_prints_the_key_alone_on_its_last_line_then_revoke(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").exit_code == 0
    created = run(tmp_path, "apikey", "create", "seeclickfix")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("o311_") and len(key) == 48 and " " not in key
    listed = run(tmp_path, "apikey", "list")
    assert "seeclickfix" in listed.stdout and "never used" in listed.stdout
    again = run(tmp_path, "apikey", "create", "seeclickfix")
    assert again.exit_code == 1
    assert "exists already" in again.stderr
    revoked = run(tmp_path, "apikey", "revoke", "seeclickfix")
    assert revoked.exit_code == 0 and "Revoked" in revoked.stdout
    assert "revoked" in run(tmp_path, "apikey", "list").stdout
    twice = run(tmp_path, "apikey", "revoke", "seeclickfix")
    assert twice.exit_code == 1 and "revoked already" in twice.stderr
    missing = run(tmp_path, "apikey", "revoke", "nobody")
    assert missing.exit_code == 1 and "no API key named 'nobody'" in missing.stderr


def test_a_bad_name_is_one_line(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").exit_code == 0
    result = run(tmp_path, "apikey", "create", "Bad Name!")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: an API key's name is 2-60 lower-case letters, digits, '.', '_' or '-'"
    ]
