"""api/cli/demo.py: `fieldloop demo` takes a fresh machine to a served, populated Fieldloop.

The end-to-end test runs the real `fieldloop demo` in a subprocess and walks the README's
promise over HTTP: a call becomes a case, then a work order, is dispatched, worked by crew1 and
completed, and the case resolves itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.cases.tables import Case
from api.cli import run_with_database
from api.cli.demo import base_url, prepare_demo
from api.demo import DEMO_LOGINS, DEMO_PASSWORD
from api.settings import load_settings

REPOSITORY = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 60


def test_base_url_is_what_a_browser_can_open() -> None:
    assert base_url("127.0.0.1", 8000) == "http://localhost:8000"
    assert base_url("0.0.0.0", 9000) == "http://localhost:9000"
    assert base_url("10.0.0.5", 8000) == "http://10.0.0.5:8000"
    assert base_url("fe80::1", 8000) == "http://[fe80::1]:8000"


def test_a_second_demo_keeps_the_first_town(tmp_path: Path, capsys) -> None:
    settings = load_settings(
        {
            "FIELDLOOP_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
            "FIELDLOOP_VAR_DIR": str(tmp_path),
        }
    )
    present = run_with_database(prepare_demo, settings)
    assert sorted(present) == sorted(login.username for login in DEMO_LOGINS)

    async def count_and_prepare() -> tuple[int, list[str]]:
        cases = await Case.count()
        return cases, await prepare_demo()

    cases, present_again = run_with_database(count_and_prepare, settings)
    assert cases == 1_500
    assert sorted(present_again) == sorted(present)
    assert run_with_database(Case.count, settings) == cases
    assert "keeping it (no seed)" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _demo_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "fieldloop"
    if script.exists():
        return [str(script), "demo", "--port", str(port)]
    return [sys.executable, "-m", "api.cli", "demo", "--port", str(port)]


def _wait_until_healthy(client: httpx.Client, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"fieldloop demo exited:\n{log.read_text()}"
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"no healthy server after {STARTUP_SECONDS} s:\n{log.read_text()}")


def _login(client: httpx.Client, username: str) -> tuple[dict[str, str], dict]:
    response = client.post(
        "/api/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["user"]


def _answers(service_type: dict) -> dict[str, str | list[str]]:
    """An answer to every required question of a catalogue entry."""
    answers: dict[str, str | list[str]] = {}
    for question in service_type["attributes"]:
        if not question["required"]:
            continue
        keys = [value["key"] for value in question["values"]]
        if question["datatype"] == "multivaluelist":
            answers[question["code"]] = keys[:1]
        elif keys:
            answers[question["code"]] = keys[0]
        else:
            answers[question["code"]] = "3" if question["datatype"] == "number" else "Bond Park"
    return answers


def _walk_the_loop(client: httpx.Client) -> None:
    advocate, _ = _login(client, "advocate")
    catalogue = client.get("/api/service-types", headers=advocate).json()
    field_work = [entry for entry in catalogue if entry["needs_work_order"]]
    service_type = next(entry for entry in field_work if entry["code"] == "pothole")
    response = client.post(
        "/api/cases",
        json={
            "service_code": service_type["code"],
            "description": "Pothole outside the library",
            "citizen": {"name": "Eve Tester", "phone": "(919) 555-0142"},
            "place": {"address": "310 S Academy St", "lat": 35.786, "lng": -78.781},
            "attributes": _answers(service_type),
        },
        headers=advocate,
    )
    assert response.status_code == 201, response.text
    public_id = response.json()["public_id"]
    response = client.post(f"/api/cases/{public_id}/work-orders", json={}, headers=advocate)
    assert response.status_code == 201, response.text
    number = response.json()["number"]

    crew1, crew1_user = _login(client, "crew1")
    supervisor, _ = _login(client, "supervisor")
    crews = {crew["id"]: crew for crew in client.get("/api/crews", headers=supervisor).json()}
    assert crews[crew1_user["crew_id"]]["name"] == "Streets 1"
    response = client.post(
        f"/api/work-orders/{number}/assign",
        json={"crew_id": crew1_user["crew_id"]},
        headers=supervisor,
    )
    assert response.status_code == 200, response.text
    for change in ({"status": "en_route"}, {"status": "on_site"}):
        response = client.post(f"/api/work-orders/{number}/status", json=change, headers=crew1)
        assert response.status_code == 200, response.text
    response = client.post(
        f"/api/work-orders/{number}/status",
        json={"status": "completed", "resolution_code": "repaired"},
        headers=crew1,
    )
    assert response.status_code == 200, response.text

    case = client.get(f"/api/cases/{public_id}", headers=advocate).json()
    assert case["status"] == "resolved"
    assert [w["status"] for w in case["work_orders"]] == ["completed"]


@pytest.mark.slow
def test_demo_serves_the_whole_loop_over_http(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {
        "FIELDLOOP_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
        "FIELDLOOP_VAR_DIR": str(tmp_path / "var"),
        "FIELDLOOP_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            _demo_command(port), cwd=REPOSITORY, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                _wait_until_healthy(client, process, log)
                _walk_the_loop(client)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    printed = log.read_text()
    assert f"http://localhost:{port}/schema" in printed
    assert f"http://localhost:{port}/open311/v2/services.json" in printed
    assert "crew1" in printed and DEMO_PASSWORD in printed
