"""api/auth/routes.py over HTTP: login, tokens of deactivated users, admin-only user routes."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.settings import Settings
from tests.factories import PASSWORD, Town, deactivate_user, shared_app


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


async def test_login_gives_a_token_that_works(client: httpx.AsyncClient, town: Town) -> None:
    response = await client.post(
        "/api/auth/login", json={"username": "crew_a", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == {
        "id": town.users["crew_a"].id,
        "username": "crew_a",
        "role": "crew",
        "display_name": "Crew_A",
        "crew_id": town.crew_a,
        "active": True,
    }
    response = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert response.status_code == 200
    assert (response.json()["username"], response.json()["crew_id"]) == ("crew_a", town.crew_a)


async def test_wrong_password_and_unknown_user_answer_alike(
    client: httpx.AsyncClient, town: Town
) -> None:
    wrong = await client.post("/api/auth/login", json={"username": "admin", "password": "nope"})
    unknown = await client.post("/api/auth/login", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"] == "wrong username or password"


async def test_deactivated_users_are_locked_out_at_once(
    client: httpx.AsyncClient, town: Town
) -> None:
    headers = town.headers("supervisor")  # a token issued while still active
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    await deactivate_user(town.supervisor)
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"status_code", "detail", "field", "extra"}
    response = await client.get("/api/work-orders", headers=headers)
    assert response.status_code == 401
    response = await client.post(
        "/api/auth/login", json={"username": "supervisor", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


async def test_users_routes_are_for_admins(client: httpx.AsyncClient, town: Town) -> None:
    admin = town.headers("admin")
    response = await client.get("/api/users", headers=admin)
    assert [u["username"] for u in response.json()] == [
        "admin",
        "advocate",
        "crew_a",
        "crew_b",
        "supervisor",
    ]
    for name in ("advocate", "crew_a", "supervisor"):
        assert (await client.get("/api/users", headers=town.headers(name))).status_code == 403
    body = {"username": "erin", "password": "long enough", "role": "crew", "crew_id": town.crew_a}
    response = await client.post("/api/users", json=body, headers=town.headers("supervisor"))
    assert response.status_code == 403
    response = await client.post("/api/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert (response.json()["username"], response.json()["crew_id"]) == ("erin", town.crew_a)
    response = await client.post("/api/users", json=body, headers=admin)
    assert (response.status_code, response.json()["field"]) == (409, "username")


BAD_USERS: list[tuple[dict, int, str]] = [  # (change to a good body, status, field named)
    ({"crew_id": 2**40}, 400, "crew_id"),  # past int4: must not reach PostgreSQL
    ({"crew_id": 0}, 400, "crew_id"),
    ({"crew_id": 4242}, 422, "crew_id"),
    ({"crew_id": None}, 422, "crew_id"),
    ({"role": "mayor"}, 400, "role"),
    ({"password": "short"}, 400, "password"),
    ({"username": "Erin"}, 400, "username"),
    ({"username": "e"}, 400, "username"),
    ({"display_name": "x" * 121}, 400, "display_name"),
    ({"active": False}, 400, "active"),
]


async def test_bad_new_users_are_4xx_naming_the_field(
    client: httpx.AsyncClient, town: Town
) -> None:
    good = {"username": "erin", "password": "long enough", "role": "crew", "crew_id": town.crew_a}
    wrong = []
    for changes, status, field in BAD_USERS:
        response = await client.post(
            "/api/users", json=good | changes, headers=town.headers("admin")
        )
        got = (response.status_code, response.json()["field"])
        if got != (status, field):
            wrong.append((changes, status, field, got))
    assert wrong == []
    response = await client.get("/api/users", headers=town.headers("admin"))
    assert "erin" not in [user["username"] for user in response.json()]
