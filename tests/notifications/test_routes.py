"""Push endpoints over HTTP: the public key, citizens following by tracking token, staff
devices, and a case's notifications for the office."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from api.notifications.tables import CaseFollower, PushSubscription
from tests import factories
from tests.factories import FakePushService, Town

pytestmark = pytest.mark.usefixtures("db")


async def test_the_public_key_needs_no_login(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await client.get("/api/push/key")
    assert response.status_code == 200
    key = response.json()["public_key"]
    assert key == app.state.vapid_public_key and len(key) == 87  # 65 bytes, base64url


async def test_a_citizen_follows_and_unfollows_by_tracking_link(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    browser = push_service.subscriber()
    followed = await factories.follow_case(client, case, browser)
    assert followed.status_code == 201
    assert followed.json()["following"] == [case.public_id]
    assert followed.json()["user"] is None
    base = f"/api/track/{case.tracking_token}"
    gone = await client.post(f"{base}/unsubscribe", json={"endpoint": browser.endpoint})
    assert gone.status_code == 204
    assert await CaseFollower.count() == 0
    again = await client.post(f"{base}/unsubscribe", json={"endpoint": "https://x.example/1"})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"endpoint": "https://evil.example.com/p/1"}, 422, "endpoint"),
        ({"keys": {"p256dh": "short", "auth": "A" * 22}}, 400, "keys.p256dh"),
        ({"keys": {"p256dh": "B" + "A" * 86, "auth": "!" * 22}}, 400, "keys.auth"),
        ({"extra": 1}, 400, "extra"),
    ],
)
async def test_bad_subscriptions_are_refused(
    client: httpx.AsyncClient,
    town: Town,
    push_service: FakePushService,
    change: dict,
    status: int,
    field: str,
) -> None:
    case = await factories.make_case(town)
    body = push_service.subscriber().as_request() | change
    response = await client.post(f"/api/track/{case.tracking_token}/subscriptions", json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
    assert await PushSubscription.count() == 0


async def test_an_unknown_tracking_link_is_404(
    client: httpx.AsyncClient, push_service: FakePushService
) -> None:
    response = await client.post(
        f"/api/track/{'x' * 32}/subscriptions", json=push_service.subscriber().as_request()
    )
    assert response.status_code == 404


async def test_a_device_that_changes_hands_follows_its_new_user(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    device = push_service.subscriber().as_request()
    await client.post("/api/push/subscriptions", json=device, headers=town.headers("crew_a"))
    taken = await client.post(
        "/api/push/subscriptions", json=device, headers=town.headers("crew_b")
    )
    assert taken.json()["user"] == "crew_b"
    refused = await client.post(
        "/api/push/unsubscribe",
        json={"endpoint": device["endpoint"]},
        headers=town.headers("crew_a"),
    )
    assert refused.status_code == 404
    done = await client.post(
        "/api/push/unsubscribe",
        json={"endpoint": device["endpoint"]},
        headers=town.headers("crew_b"),
    )
    assert done.status_code == 204 and await PushSubscription.count() == 0


async def test_the_office_sees_a_cases_notifications(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    url = f"/api/cases/{case.public_id}/notifications"
    [row] = (await client.get(url, headers=town.headers("advocate"))).json()
    assert (row["kind"], row["status"], row["attempts"], row["audience"]) == (
        "case_received",
        "pending",
        0,
        "citizen",
    )
    assert row["next_attempt_at"] is not None and row["sent_at"] is None
    assert (await client.get(url, headers=town.headers("crew_a"))).status_code == 403
