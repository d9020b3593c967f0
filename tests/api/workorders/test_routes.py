"""api/workorders/routes.py over HTTP: error bodies, query parsing and unknown work orders."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.settings import Settings
from tests.factories import Town, make_work_order, shared_app

ERROR_KEYS = {"status_code", "detail", "field", "extra"}


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


def error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["status_code"] == status
    return body


async def test_illegal_transition_is_409_naming_both_states(
    client: httpx.AsyncClient, town: Town
) -> None:
    work_order = await make_work_order(town, crew_id=town.crew_a)
    response = await client.post(
        f"/api/work-orders/{work_order.number}/status",
        json={"status": "completed", "resolution_code": "repaired"},
        headers=town.headers("crew_a"),
    )
    body = error(response, 409)
    assert "from assigned to completed" in body["detail"]
    assert body["field"] == "status"
    assert body["extra"] == {
        "current": "assigned",
        "allowed": ["en_route", "on_site", "on_hold", "cancelled"],
    }
    response = await client.get(
        f"/api/work-orders/{work_order.number}", headers=town.headers("crew_a")
    )
    assert response.json()["status"] == "assigned"


async def test_stale_expected_status_is_409(client: httpx.AsyncClient, town: Town) -> None:
    work_order = await make_work_order(town, crew_id=town.crew_a)
    response = await client.post(
        f"/api/work-orders/{work_order.number}/status",
        json={"status": "on_site", "expected_status": "en_route"},
        headers=town.headers("crew_a"),
    )
    body = error(response, 409)
    assert (body["field"], body["extra"]) == ("expected_status", {"current": "assigned"})


async def test_status_takes_a_comma_separated_list(client: httpx.AsyncClient, town: Town) -> None:
    assigned = await make_work_order(town, crew_id=town.crew_a)
    new = await make_work_order(town)
    headers = town.headers("supervisor")
    response = await client.get(
        "/api/work-orders", params={"status": "new, assigned"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert sorted(i["number"] for i in response.json()["items"]) == sorted(
        [assigned.number, new.number]
    )
    response = await client.get("/api/work-orders", params={"status": "new"}, headers=headers)
    assert [i["number"] for i in response.json()["items"]] == [new.number]


async def test_query_parameters_parse(client: httpx.AsyncClient, town: Town) -> None:
    work_order = await make_work_order(town, crew_id=town.crew_a)
    response = await client.get(
        "/api/work-orders",
        params={
            "near": "35.7915,-78.7811",
            "radius_m": "250",
            "overdue": "false",
            "priority": "normal",
            "crew_id": str(town.crew_a),
            "service_code": "pothole",
        },
        headers=town.headers("supervisor"),
    )
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item["number"] == work_order.number
    assert item["distance_m"] == 0.0
    assert item["crew"] == {"id": town.crew_a, "name": "Streets A"}


BAD_QUERIES: list[tuple[dict[str, str], str]] = [  # (query, field named)
    ({"status": "bogus"}, "status"),
    ({"status": "new,bogus"}, "status"),
    ({"near": "abc"}, "near"),
    ({"near": "35.79"}, "near"),
    ({"near": "95,10"}, "near"),
    ({"near": "nan,nan"}, "near"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"radius_m": "-1"}, "radius_m"),
    ({"radius_m": "0"}, "radius_m"),
    ({"priority": "bogus"}, "priority"),
    ({"overdue": "maybe"}, "overdue"),
    ({"crew_id": "abc"}, "crew_id"),
    ({"crew_id": "0"}, "crew_id"),
    ({"crew_id": str(2**40)}, "crew_id"),  # past PostgreSQL's int4
    ({"service_code": "a b"}, "service_code"),
    ({"service_code": "pot\x00hole"}, "service_code"),
]


async def test_bad_query_parameters_are_400_naming_them(
    client: httpx.AsyncClient, town: Town
) -> None:
    headers = town.headers("supervisor")
    wrong = []
    for params, field in BAD_QUERIES:
        response = await client.get("/api/work-orders", params=params, headers=headers)
        body = response.json()
        got = (response.status_code, set(body) == ERROR_KEYS and body["field"])
        if got != (400, field):
            wrong.append((params, field, got, body))
    assert wrong == []


async def test_unknown_work_order_is_404(client: httpx.AsyncClient, town: Town) -> None:
    headers = town.headers("supervisor")
    body = error(await client.get("/api/work-orders/WO-2026-999999", headers=headers), 404)
    assert body["detail"] == "work order WO-2026-999999 not found"
    response = await client.post(
        "/api/work-orders/WO-2026-999999/status", json={"status": "cancelled"}, headers=headers
    )
    error(response, 404)
    response = await client.post(
        "/api/work-orders/WO-2026-999999/notes", json={"body": "Hello"}, headers=headers
    )
    error(response, 404)


async def test_malformed_work_order_numbers_are_400_not_500(
    client: httpx.AsyncClient, town: Town
) -> None:
    for number in ("nonsense", "WO-2026-00%001", "WO-2026-1"):
        response = await client.get(
            f"/api/work-orders/{number}", headers=town.headers("supervisor")
        )
        assert error(response, 400)["field"] == "number", number


async def test_bad_bodies_are_4xx_naming_the_field(client: httpx.AsyncClient, town: Town) -> None:
    work_order = await make_work_order(town, crew_id=town.crew_a)
    headers = town.headers("supervisor")
    url = f"/api/work-orders/{work_order.number}"
    cases = [
        (f"{url}/status", {"status": "flying"}, 400, "status"),
        (f"{url}/status", {"status": "en_route", "occurred_at": "yesterday"}, 400, "occurred_at"),
        (f"{url}/status", {"status": "en_route", "note": "x" * 4001}, 400, "note"),
        (
            f"{url}/status",
            {"status": "en_route", "occurred_at": "2026-01-01T10:00:00"},
            422,
            "occurred_at",
        ),
        (f"{url}/assign", {"crew_id": 2**40}, 400, "crew_id"),
        (f"{url}/assign", {"crew_id": 4242}, 422, "crew_id"),
        (f"{url}/notes", {"body": "a\x00b"}, 400, "body"),
        (f"{url}/notes", {"body": " "}, 422, "body"),
        (
            f"/api/cases/{work_order.case.public_id}/work-orders",
            {"due_at": "9999-12-31T23:00:00-05:00"},
            422,
            "due_at",
        ),
        (
            f"/api/cases/{work_order.case.public_id}/work-orders",
            {"priority": "asap"},
            400,
            "priority",
        ),
    ]
    for path, body, status, field in cases:
        response = await client.post(path, json=body, headers=headers)
        assert error(response, status)["field"] == field, (path, body, response.text)
