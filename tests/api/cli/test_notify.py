"""api/cli/notify.py: `fieldloop vapid` prints the push key; `fieldloop worker` delivers until
told to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.api.cli import cli_env, run


def test_vapid_prints_one_key_and_keeps_it(tmp_path: Path) -> None:
    first = run(tmp_path, "vapid")
    assert first.exit_code == 0, first.output
    key = first.stdout.strip()
    assert len(key) == 87 and key.startswith("B")  # an uncompressed P-256 point, base64url
    assert "vapid_private.pem" in first.stderr
    assert run(tmp_path, "vapid").stdout.strip() == key
    assert (tmp_path / "var" / "vapid_private.pem").stat().st_mode & 0o777 == 0o600


def test_vapid_refuses_a_key_that_is_not_one(tmp_path: Path) -> None:
    result = run(tmp_path, "vapid", FIELDLOOP_VAPID_PRIVATE_KEY="not-a-key")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: FIELDLOOP_VAPID_PRIVATE_KEY is not a P-256 private key (PEM or base64url)"
    ]


def test_worker_needs_a_migrated_database(tmp_path: Path) -> None:
    result = run(tmp_path, "worker")
    assert result.exit_code == 1
    assert "run `fieldloop migrate` first" in result.stderr


def test_worker_runs_until_sigterm(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").exit_code == 0
    env = {k: v for k, v in (os.environ | cli_env(tmp_path)).items() if v is not None}
    with subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        try:
            assert worker.stderr is not None
            assert "notification worker" in worker.stderr.readline()  # started
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=10) == 0
            assert "stopped" in worker.stderr.read()
        finally:
            worker.kill()
