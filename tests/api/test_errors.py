"""api/errors.py: every client mistake is a 4xx with one body shape naming the field."""

import httpx
import pytest

from api.errors import field_of
from tests.factories import Town


@pytest.mark.parametrize(
    ("message", "key", "field"),
    [
        ("Object missing required field `password`", "data", "password"),
        ("Expected `str` of length <= 4000 - at `$.description`", "data", "description"),
        ("Object missing required field `address` - at `$.place`", "data", "place.address"),
        ("Expected `str` matching regex - at `$.attributes.size[0]`", "data", "attributes.size.0"),
        ("Expected `int` >= 1", "limit", "limit"),
        ("Expected an object", "data", None),
        ("Object contains unknown field `nickname`", "citizen", "citizen.nickname"),
        ("Object missing required field `address`", "place", "place.address"),
        ("Expected `float` <= 90", "place.lat", "place.lat"),
    ],
)
def test_field_is_named_from_the_validation_message(message: str, key: str, field: str) -> None:
    assert field_of(message, key) == field


def _assert_error_shape(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail", "field", "extra"}
    assert body["status_code"] == status
    assert body["detail"]
    return body


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    _assert_error_shape(response, 400)


async def test_missing_and_unknown_fields_are_named(client: httpx.AsyncClient) -> None:
    body = _assert_error_shape(await client.post("/api/auth/login", json={"username": "a"}), 400)
    assert body["field"] == "password"
    response = await client.post("/api/auth/login", json={"username": "a", "password": "b", "x": 1})
    assert _assert_error_shape(response, 400)["field"] == "x"


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    _assert_error_shape(response, 413)


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    _assert_error_shape(await client.get("/api/nowhere"), 404)
    _assert_error_shape(await client.delete("/healthz"), 405)


async def test_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/cases", headers={"Authorization": "Bearer not-a-jwt"})
    _assert_error_shape(response, 401)


async def test_nested_field_errors_point_into_the_body(
    client: httpx.AsyncClient, town: Town
) -> None:
    response = await client.post(
        "/api/cases",
        json={"service_code": "pothole", "place": {"address": "1 Main St", "lat": 100}},
        headers=town.headers("advocate"),
    )
    assert _assert_error_shape(response, 400)["field"] == "place.lat"


async def test_domain_errors_keep_their_status_and_field(
    client: httpx.AsyncClient, town: Town
) -> None:
    response = await client.post(
        "/api/cases", json={"service_code": "no_such_service"}, headers=town.headers("advocate")
    )
    assert _assert_error_shape(response, 422)["field"] == "service_code"


async def test_openapi_schema_documents_the_handlers(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/cases" in paths
    assert "Log a contact as a case" in paths["/api/cases"]["post"]["description"]
