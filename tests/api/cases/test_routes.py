"""api/cases/routes.py over HTTP: intake answers 201, and bad input is a 4xx naming the field."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.settings import Settings
from tests.factories import Town, make_case, shared_app

GOOD = {
    "service_code": "pothole",
    "description": "Deep pothole outside number 12",
    "channel": "web",
    "citizen": {"name": "Ada Caller", "phone": "(919) 555-0100", "email": "ada@example.com"},
    "place": {"address": "12 Main St.", "lat": 35.79, "lng": -78.78},
    "attributes": {"size": "large", "depth_cm": "8"},
}


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


async def test_create_returns_201_with_the_case(client: httpx.AsyncClient, town: Town) -> None:
    response = await client.post("/api/cases", json=GOOD, headers=town.headers("advocate"))
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["public_id"].endswith("-000001")
    assert (case["status"], case["channel"], case["service_name"]) == ("open", "web", "Pothole")
    assert case["citizen"]["phone"] == "9195550100"
    assert case["place"]["address"] == "12 Main St."
    assert case["attributes"] == {"size": "large", "depth_cm": "8"}
    assert len(case["tracking_token"]) >= 32
    response = await client.get(
        f"/api/cases/{case['public_id']}", headers=town.headers("supervisor")
    )
    assert response.status_code == 200
    assert response.json()["tracking_token"] == case["tracking_token"]


def _with(**changes: object) -> dict:
    body = {**GOOD}
    for key, value in changes.items():
        if "__" in key:
            outer, inner = key.split("__")
            body[outer] = {**body[outer], inner: value}
        else:
            body[key] = value
    return body


ERROR_KEYS = {"status_code", "detail", "field", "extra"}
BAD_INTAKE: list[tuple[dict, int, str]] = [  # (body, status, field named)
    ({k: v for k, v in GOOD.items() if k != "service_code"}, 400, "service_code"),
    (_with(service_code=""), 400, "service_code"),
    (_with(service_code="no_such"), 422, "service_code"),
    (_with(description="x" * 4001), 400, "description"),
    (_with(description="nul \x00 byte"), 400, "description"),
    (_with(channel="fax"), 400, "channel"),
    (_with(citizen__email="not-an-email"), 400, "citizen.email"),
    (_with(citizen__phone="call me"), 400, "citizen.phone"),
    (_with(citizen__phone="12-34"), 422, "citizen.phone"),
    (_with(citizen__phone="1" * 16), 422, "citizen.phone"),
    (_with(citizen__name="\x00"), 400, "citizen.name"),
    (_with(place__lat=100), 400, "place.lat"),
    (_with(place__lng=-181), 400, "place.lng"),
    (_with(place__address="a" * 301), 400, "place.address"),
    (_with(attributes={"size": "huge"}), 422, "attributes.size"),
    (_with(attributes={"size": "large", "depth_cm": "nan"}), 422, "attributes.depth_cm"),
    (_with(attributes={"size": "large", "colour": "red"}), 422, "attributes.colour"),
    # msgspec does not say which key of a dict was wrong: the field is the whole dict
    (_with(attributes={"size": "x" * 4001}), 400, "attributes[...]"),
    (_with(attributes={"size": ["large", 3]}), 400, "attributes[...].1"),
    (_with(attributes={"bad code!": "x"}), 400, "attributes"),
    (_with(extra_field=1), 400, "extra_field"),
]
BAD_LOOKUPS: list[tuple[str, dict | None, int, str | None]] = [  # (path, query, status, field)
    ("/api/cases/not-a-case-id", None, 400, "case_id"),
    ("/api/cases/2026-00%000001", None, 400, "case_id"),
    ("/api/cases/2026-999999", None, 404, None),
    ("/api/cases", {"q": "pot\x00hole"}, 400, "q"),
    ("/api/cases", {"q": "x" * 201}, 400, "q"),
    ("/api/cases", {"status": "closed"}, 400, "status"),
    ("/api/cases", {"citizen_id": str(2**40)}, 400, "citizen_id"),
    ("/api/cases", {"citizen_id": "0"}, 400, "citizen_id"),
    ("/api/cases", {"service_code": "\x00"}, 400, "service_code"),
    ("/api/cases", {"limit": "0"}, 400, "limit"),
    ("/api/citizens", {"q": "a"}, 400, "q"),
    ("/api/citizens", {"q": "ad\x00a"}, 400, "q"),
    ("/api/citizens/99999999999", None, 400, "citizen_id"),
    ("/api/citizens/0", None, 400, "citizen_id"),
    ("/api/citizens/4242", None, 404, None),
    ("/api/places/99999999999", None, 400, "place_id"),
    ("/api/places/4242", None, 404, None),
]


async def test_bad_intake_is_4xx_naming_the_field(client: httpx.AsyncClient, town: Town) -> None:
    headers = town.headers("advocate")
    wrong = []
    for body, status, field in BAD_INTAKE:
        response = await client.post("/api/cases", json=body, headers=headers)
        error = response.json()
        got = (response.status_code, set(error) == ERROR_KEYS and error["field"])
        if got != (status, field):
            wrong.append((field, status, got, error.get("detail")))
    assert wrong == []
    response = await client.get("/api/cases", headers=headers)
    assert response.json()["items"] == []  # nothing half-made


async def test_an_unknown_nested_field_is_named_with_its_parent(
    client: httpx.AsyncClient, town: Town
) -> None:
    body = {**GOOD, "citizen": {**GOOD["citizen"], "nickname": "Ada"}}
    response = await client.post("/api/cases", json=body, headers=town.headers("advocate"))
    assert response.status_code == 400
    assert response.json()["field"] == "citizen.nickname"


async def test_bad_lookups_are_4xx_never_500(client: httpx.AsyncClient, town: Town) -> None:
    headers = town.headers("advocate")
    wrong = []
    for path, params, status, field in BAD_LOOKUPS:
        response = await client.get(path, params=params, headers=headers)
        error = response.json()
        if (response.status_code, error.get("field")) != (status, field):
            wrong.append((path, params, status, field, response.status_code, error))
    assert wrong == []


async def test_search_and_views_over_http(client: httpx.AsyncClient, town: Town) -> None:
    case = await make_case(town, description="Sinkhole by the school")
    headers = town.headers("advocate")
    response = await client.get("/api/cases", params={"q": "SINKHOLE"}, headers=headers)
    assert [c["public_id"] for c in response.json()["items"]] == [case.public_id]
    response = await client.get("/api/citizens", params={"q": "555-0100"}, headers=headers)
    assert [c["name"] for c in response.json()] == ["Ada Caller"]
    assert case.citizen is not None and case.place is not None
    response = await client.get(f"/api/citizens/{case.citizen.id}", headers=headers)
    assert [c["public_id"] for c in response.json()["cases"]] == [case.public_id]
    response = await client.get(f"/api/places/{case.place.id}", headers=headers)
    assert response.json()["place"]["address"] == "12 Main St"


async def test_resolve_notes_and_calls_over_http(client: httpx.AsyncClient, town: Town) -> None:
    case = await make_case(town, service_code="general_question")
    headers = town.headers("advocate")
    url = f"/api/cases/{case.public_id}"
    response = await client.post(f"{url}/notes", json={"body": "Looked it up"}, headers=headers)
    assert response.status_code == 201
    response = await client.post(f"{url}/calls", json={"body": "Called again"}, headers=headers)
    assert [e["kind"] for e in response.json()["timeline"]][-2:] == ["note", "call"]
    for bad in ({"resolution": ""}, {"resolution": "   "}, {}):
        response = await client.post(f"{url}/resolve", json=bad, headers=headers)
        assert (response.status_code, response.json()["field"]) == (400, "resolution"), bad
    response = await client.post(f"{url}/resolve", json={"resolution": "Told"}, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    response = await client.post(f"{url}/resolve", json={"resolution": "Again"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["detail"] == f"case {case.public_id} is already resolved"
