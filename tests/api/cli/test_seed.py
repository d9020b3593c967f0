"""api/cli/seed.py: `fieldloop seed` migrates, seeds an empty database and refuses a full one."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.cli import APPLIED_ALL, run


def test_seed_migrates_seeds_and_summarises(tmp_path: Path) -> None:
    result = run(tmp_path, "seed", "--scale", "0.02")
    assert result.exit_code == 0, result.output
    assert APPLIED_ALL in result.stdout
    for name, count in (("cases", 30), ("citizens", 10), ("service types", 21), ("crews", 6)):
        assert re.search(rf"^  {name} +{count}$", result.stdout, re.MULTILINE), name
    assert "work orders by status: new" in result.stdout
    assert "Writing activities" in result.stderr  # the progress bars


def test_seed_refuses_a_database_that_has_cases(tmp_path: Path) -> None:
    assert run(tmp_path, "seed", "--scale", "0.02").exit_code == 0
    again = run(tmp_path, "seed", "--scale", "0.02")
    assert again.exit_code == 1
    error = again.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: the database is not empty (it has 30 cases")
    assert "Traceback" not in again.output


def test_scale_must_be_a_positive_number(tmp_path: Path) -> None:
    zero = run(tmp_path, "seed", "--scale", "0")
    assert zero.exit_code == 2
    assert "Invalid value for '--scale'" in zero.stderr
    endless = run(tmp_path, "seed", "--scale", "inf")
    assert endless.exit_code == 1
    assert "Error: scale must be a positive number" in endless.stderr
