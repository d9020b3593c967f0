"""Devices (sync/devices.py): registration, revocation and who sees which tablets."""

import asyncio

import asyncpg
import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.db import is_sqlite
from api.settings import Settings
from sync.tables import Device
from tests.factories import Town, make_tablet, shared_app

DEVICE = "tablet-0001-aaaa"


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


async def register(client: httpx.AsyncClient, town: Town, user: str, **body: str):
    return await client.post(
        "/api/sync/devices", json={"device_id": DEVICE} | body, headers=town.headers(user)
    )


async def test_register_and_register_again(client: httpx.AsyncClient, town: Town) -> None:
    first = await register(client, town, "crew_a", name="Truck 7", app_version="1.0.0")
    assert first.status_code == 200, first.text
    assert first.json()["username"] == "crew_a"
    assert first.json()["last_mutation_seq"] == 0
    assert first.json()["revoked_at"] is None

    again = await register(client, town, "crew_a", name="Truck 8", app_version="1.1.0")
    assert again.status_code == 200, again.text
    assert (again.json()["name"], again.json()["app_version"]) == ("Truck 8", "1.1.0")
    assert again.json()["registered_at"] == first.json()["registered_at"]
    assert await Device.count() == 1


async def test_another_users_device_id_is_refused(client: httpx.AsyncClient, town: Town) -> None:
    assert (await register(client, town, "crew_a")).status_code == 200
    response = await register(client, town, "crew_b")
    assert response.status_code == 409
    assert response.json()["field"] == "device_id"
    assert "another user" in response.json()["detail"]
    [row] = await Device.select(Device.user.username)
    assert row["user.username"] == "crew_a"


async def test_concurrent_first_registrations(client: httpx.AsyncClient, town: Town) -> None:
    """Two tabs of one tablet register at once: one row, no 500 (PostgreSQL races the insert)."""
    answers = await asyncio.gather(*(register(client, town, "crew_a") for _ in range(4)))
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    assert await Device.count() == 1


async def test_registration_racing_an_uncommitted_one(
    client: httpx.AsyncClient, town: Town, db: Engine, settings: Settings
) -> None:
    """PostgreSQL: a registration waiting on another one's uncommitted insert of the same
    device id registers (the same user) once, never a 500. Made deterministic by holding the
    other insert open until this one waits on it."""
    if is_sqlite(db):
        pytest.skip("SQLite runs one write transaction at a time: registrations cannot race")
    other = await asyncpg.connect(settings.database_url)
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            'INSERT INTO devices (device_id, "user", name, app_version, last_mutation_seq, '
            "registered_at, last_seen_at) VALUES ($1, $2, 'first', '', 0, now(), now())",
            DEVICE,
            town.users["crew_a"].id,
        )
        racing = asyncio.create_task(register(client, town, "crew_a", name="second"))
        waiting = "SELECT count(*) FROM pg_stat_activity "
        waiting += "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        while not racing.done() and not await other.fetchval(waiting):
            pass  # each check is a query: the racing request runs meanwhile
        await transaction.commit()
        response = await racing
    finally:
        await other.close()
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "second"
    assert await Device.count() == 1


async def test_concurrent_registrations_by_two_users(client: httpx.AsyncClient, town: Town) -> None:
    answers = await asyncio.gather(
        register(client, town, "crew_a"), register(client, town, "crew_b")
    )
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    assert await Device.count() == 1


async def test_office_users_cannot_register(client: httpx.AsyncClient, town: Town) -> None:
    for user in ("advocate", "supervisor"):
        response = await register(client, town, user)
        assert response.status_code == 403, response.text
    assert await Device.count() == 0


async def test_supervisor_revokes_and_the_tablet_is_refused(
    client: httpx.AsyncClient, town: Town
) -> None:
    tablet = await make_tablet(client, town, device_id=DEVICE)
    response = await client.post(
        f"/api/sync/devices/{DEVICE}/revoke",
        json={"reason": "  lost on route 9  "},
        headers=town.headers("supervisor"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["revoke_reason"] == "lost on route 9"
    assert response.json()["revoked_at"] is not None

    for answer in (await tablet.pull(), await tablet.push([]), await tablet.register()):
        assert answer.status_code == 403, answer.text
        assert "revoked" in answer.json()["detail"]
        assert "lost on route 9" in answer.json()["detail"]
        assert answer.json()["extra"]["revoked"] is True

    again = await client.post(
        f"/api/sync/devices/{DEVICE}/revoke",
        json={"reason": "second thoughts"},
        headers=town.headers("admin"),
    )
    assert again.status_code == 200
    assert again.json()["revoke_reason"] == "lost on route 9"  # the first revocation stands


async def test_crew_and_advocate_cannot_revoke(client: httpx.AsyncClient, town: Town) -> None:
    await make_tablet(client, town, device_id=DEVICE)
    for user in ("crew_a", "advocate"):
        response = await client.post(
            f"/api/sync/devices/{DEVICE}/revoke",
            json={"reason": "mine"},
            headers=town.headers(user),
        )
        assert response.status_code == 403, response.text
    [row] = await Device.select(Device.revoked_at)
    assert row["revoked_at"] is None


async def test_revoking_an_unknown_device(client: httpx.AsyncClient, town: Town) -> None:
    response = await client.post(
        "/api/sync/devices/tablet-none-0000/revoke",
        json={"reason": "lost"},
        headers=town.headers("supervisor"),
    )
    assert response.status_code == 404


async def test_list_scoping(client: httpx.AsyncClient, town: Town) -> None:
    await make_tablet(client, town, "crew_a", "tablet-a-000001")
    await make_tablet(client, town, "crew_a", "tablet-a-000002")
    await make_tablet(client, town, "crew_b", "tablet-b-000001")

    async def listed(user: str) -> list[str] | int:
        response = await client.get("/api/sync/devices", headers=town.headers(user))
        if response.status_code != 200:
            return response.status_code
        return sorted(d["device_id"] for d in response.json())

    assert await listed("crew_a") == ["tablet-a-000001", "tablet-a-000002"]
    assert await listed("crew_b") == ["tablet-b-000001"]
    everyone = ["tablet-a-000001", "tablet-a-000002", "tablet-b-000001"]
    assert await listed("supervisor") == everyone
    assert await listed("admin") == everyone
    assert await listed("advocate") == 403


async def test_sync_with_another_users_device_is_not_found(
    client: httpx.AsyncClient, town: Town
) -> None:
    tablet = await make_tablet(client, town, "crew_a", DEVICE)
    tablet.headers = town.headers("crew_b")
    for answer in (await tablet.pull(), await tablet.push([])):
        assert answer.status_code == 404, answer.text
        assert answer.json()["field"] == "device_id"
