"""Notification rules: who follows what, which changes queue which rows, and that a row
commits with its change or not at all (the transactional outbox)."""

from __future__ import annotations

import httpx
import pytest

from api.activities.tables import Activity
from api.db import write_transaction
from api.errors import InputInvalidError
from api.notifications import service
from api.notifications.service import check_endpoint
from api.notifications.tables import CaseFollower, Notification, PushSubscription
from api.workorders.schemas import Priority, StatusChange, WorkOrderStatus
from api.workorders.service import apply_status, assign
from tests import factories
from tests.factories import FakePushService, Town

pytestmark = pytest.mark.usefixtures("db")

S = WorkOrderStatus


async def kinds() -> list[str]:
    rows = await Notification.select(Notification.kind).order_by(Notification.id)
    return [row["kind"] for row in rows]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://evil.example.com/push/x",  # not a push service
        "https://fcm.googleapis.com.evil.example/x",
        "https://169.254.169.254/latest/meta-data",  # an internal address
        "ftp://127.0.0.1/push/x",
        "not a url at all",
    ],
)
def test_endpoints_must_be_push_services(endpoint: str) -> None:
    with pytest.raises(InputInvalidError) as caught:
        check_endpoint(endpoint, ("fcm.googleapis.com", "127.0.0.1"))
    assert caught.value.field == "endpoint"


def test_known_push_services_and_their_subdomains_pass() -> None:
    hosts = ("fcm.googleapis.com", "push.apple.com", "127.0.0.1")
    check_endpoint("https://fcm.googleapis.com/fcm/send/abc", hosts)
    check_endpoint("https://web.push.apple.com/QGk", hosts)
    check_endpoint("http://127.0.0.1:5000/push/abc", hosts)  # loopback only may be plain http


async def test_following_queues_report_received_once(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    browser = push_service.subscriber()
    first = await factories.follow_case(client, case, browser)
    again = await factories.follow_case(client, case, browser)
    assert first.status_code == again.status_code == 201
    assert again.json()["following"] == [case.public_id]
    assert await kinds() == ["case_received"]
    assert await PushSubscription.count() == 1 and await CaseFollower.count() == 1


async def test_new_keys_for_a_known_endpoint_replace_the_old(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    browser = push_service.subscriber()
    await factories.follow_case(client, case, browser)
    renewed = browser.as_request() | {"keys": {"p256dh": "B" + "Q" * 86, "auth": "Z" * 22}}
    response = await client.post(f"/api/track/{case.tracking_token}/subscriptions", json=renewed)
    assert response.status_code == 201
    row = await PushSubscription.select().first()
    assert (row["p256dh"], row["auth"]) == ("B" + "Q" * 86, "Z" * 22)


async def test_work_orders_tell_the_citizen_what_happens(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    number = (await factories.make_work_order(town, case)).number
    assert await kinds() == ["case_received"]  # not dispatched yet: nothing to say
    await assign(town.supervisor, number, town.crew_a)
    await assign(town.supervisor, number, town.crew_b)  # a reassignment: no news for them
    crew_b = town.users["crew_b"]
    await apply_status(crew_b, number, StatusChange(status=S.ON_SITE))
    await apply_status(
        crew_b, number, StatusChange(status=S.CANNOT_COMPLETE, resolution_code="no_access")
    )
    assert await kinds() == ["case_received", "work_scheduled", "work_not_completed"]


async def test_urgent_work_reaches_the_crews_devices_only(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    ours, theirs = push_service.subscriber(), push_service.subscriber()
    for name, device in (("crew_a", ours), ("crew_b", theirs)):
        response = await client.post(
            "/api/push/subscriptions", json=device.as_request(), headers=town.headers(name)
        )
        assert response.status_code == 201 and response.json()["user"] == name
    await factories.make_work_order(town, crew_id=town.crew_a, priority=Priority.URGENT)
    await factories.make_work_order(town, crew_id=town.crew_a)  # normal: no alert
    rows = await Notification.select(
        Notification.kind, Notification.audience, Notification.subscription.endpoint
    )
    assert [(r["kind"], r["audience"], r["subscription.endpoint"]) for r in rows] == [
        ("urgent_work", "crew", ours.endpoint)
    ]


async def test_the_outbox_row_commits_with_its_change_or_not_at_all(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    number = (await factories.make_work_order(town, case, crew_id=town.crew_a)).number
    before = await kinds()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await apply_status(town.users["crew_a"], number, StatusChange(status=S.ON_SITE))
            await apply_status(
                town.users["crew_a"],
                number,
                StatusChange(status=S.COMPLETED, resolution_code="repaired"),
            )
            assert (await kinds())[-1] == "work_completed"  # written in the same transaction
            raise RuntimeError("the change fails after the notification was written")
    assert await kinds() == before
    assert (await factories.work_order_row(number))["status"] == "assigned"


async def test_nobody_to_tell_is_on_the_timeline(town: Town) -> None:
    number = (await factories.make_work_order(town, crew_id=town.crew_a)).number
    crew = town.users["crew_a"]
    await apply_status(crew, number, StatusChange(status=S.ON_SITE))
    await apply_status(crew, number, StatusChange(status=S.COMPLETED, resolution_code="repaired"))
    entries = await Activity.select(Activity.body, Activity.public).where(
        Activity.kind == "notification"
    )
    assert entries == [
        {
            "body": "Citizen not notified (work completed): no browser follows this case",
            "public": False,
        }
    ]
    assert await Notification.count() == 0


async def test_a_case_has_room_for_twenty_browsers(
    client: httpx.AsyncClient, town: Town, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    for _ in range(service.MAX_FOLLOWERS):
        await factories.follow_case(client, case, push_service.subscriber())
    refused = await factories.follow_case(client, case, push_service.subscriber())
    assert refused.status_code == 429
    assert refused.json()["extra"]["reason"] == "too_many_followers"
