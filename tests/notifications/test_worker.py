"""The delivery worker against a fake push service on loopback that checks the VAPID JWT and
decrypts with the subscriber's keys: one readable message per event, retries that end in one
delivery, 410 removing the subscription, a killed worker's message not lost, and two workers
never sending one notification twice."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar

from api.activities.tables import Activity
from api.notifications.tables import DeliveryAttempt, Notification, PushSubscription
from api.notifications.worker import DeliveryConfig, Worker
from api.workorders.schemas import StatusChange, WorkOrderStatus
from api.workorders.service import apply_status
from tests import factories
from tests.factories import FakePushService, Town

pytestmark = pytest.mark.usefixtures("db")


def config(app: Litestar, **overrides: object) -> DeliveryConfig:
    """Delivery as configured for the app; no backoff unless a test asks for it."""
    overrides.setdefault("backoff", timedelta(0))
    return DeliveryConfig.from_settings(app.state.settings, **overrides)


async def drain(worker: Worker, rounds: int = 20) -> None:
    for _ in range(rounds):
        if not await worker.run_once():
            return


async def complete(town: Town, number: str, code: str = "repaired") -> None:
    await apply_status(
        town.users["crew_a"],
        number,
        StatusChange(status=WorkOrderStatus.ON_SITE),
    )
    await apply_status(
        town.users["crew_a"],
        number,
        StatusChange(status=WorkOrderStatus.COMPLETED, resolution_code=code),
    )


async def timeline(kind: str = "notification") -> list[str]:
    rows = await Activity.select(Activity.body).where(Activity.kind == kind).order_by(Activity.id)
    return [row["body"] for row in rows]


async def test_a_completed_work_order_tells_the_citizen_once(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    case = await factories.make_case(town, address="12 Main St")
    browser = push_service.subscriber()
    assert (await factories.follow_case(client, case, browser)).status_code == 201
    number = (await factories.make_work_order(town, case, crew_id=town.crew_a)).number
    photo = factories.photo_jpeg(800, 600)
    await factories.upload_photo(client, town.headers("crew_a"), number, photo, "after")
    tablet = await factories.make_tablet(client, town)
    tablet.queue("set_status", work_order=number, status="on_site")
    tablet.queue("complete", work_order=number, resolution_code="repaired")
    await tablet.sync()

    async with Worker(config(app)) as worker:
        await drain(worker)
    messages = await push_service.wait_for(3)
    assert [m.json()["kind"] for m in messages] == [
        "case_received",
        "work_scheduled",
        "work_completed",
    ]
    done = messages[-1].json()
    assert done["title"] == "Done: Pothole"
    assert "12 Main St" in done["body"] and "(repaired)" in done["body"]
    assert done["url"] == f"/track/{case.tracking_token}"
    sha = factories.sha256_of(photo)
    assert done["image"] == f"/api/track/{case.tracking_token}/photos/{sha}/display"
    shown = await client.get(done["image"])  # the citizen's browser can fetch it
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert done["tag"] == f"fieldloop-{done['id']}"
    assert messages[-1].headers["ttl"] == str(24 * 3600)
    assert messages[-1].headers["urgency"] == "normal"
    assert messages[-1].claims["sub"] == app.state.settings.vapid_subject
    assert len(push_service.received) == 3  # nothing twice
    async with Worker(config(app)) as again:
        assert await again.run_once() == 0
    assert await timeline() == [
        "Citizen notified (report received)",
        "Citizen notified (work scheduled)",
        "Citizen notified (work completed)",
    ]


async def test_a_failing_push_service_gets_it_once_when_it_recovers(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    push_service.fail_next(2, 503)
    push_service.fail_next(1, 500)
    async with Worker(config(app)) as worker:
        await drain(worker)
    await push_service.wait_for(1)
    assert push_service.requests == 4 and len(push_service.received) == 1
    attempts = await DeliveryAttempt.select(
        DeliveryAttempt.number, DeliveryAttempt.outcome, DeliveryAttempt.status_code
    ).order_by(DeliveryAttempt.id)
    assert [(a["number"], a["outcome"], a["status_code"]) for a in attempts] == [
        (1, "retry", 503),
        (2, "retry", 503),
        (3, "retry", 500),
        (4, "sent", 201),
    ]
    row = await Notification.select().first()
    assert (row["status"], row["attempts"]) == ("sent", 4)


async def test_backoff_waits_and_honours_retry_after(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    push_service.fail_next(1, 429, retry_after="600")
    before = datetime.now(UTC)
    async with Worker(config(app, backoff=timedelta(seconds=30))) as worker:
        assert await worker.run_once() == 1
        assert await worker.run_once() == 0  # not due yet
    row = await Notification.select().first()
    assert row["status"] == "pending"
    assert row["next_attempt_at"] >= before + timedelta(seconds=600)
    assert "429" in row["last_error"]


async def test_giving_up_is_on_the_timeline(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    push_service.fail_next(3, 502)
    async with Worker(config(app, max_attempts=3)) as worker:
        await drain(worker)
    row = await Notification.select().first()
    assert (row["status"], row["attempts"]) == ("failed", 3)
    [entry] = await timeline()
    assert entry.startswith("Citizen not notified (report received): gave up after 3 attempts")


async def test_410_removes_the_subscription(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    browser = push_service.subscriber()
    await factories.follow_case(client, case, browser)
    push_service.gone(browser)
    async with Worker(config(app)) as worker:
        await drain(worker)
    assert await PushSubscription.count() == 0
    row = await Notification.select().first()
    assert (row["status"], row["subscription"]) == ("gone", None)
    assert await timeline() == [
        "Citizen not notified (report received): the browser's subscription has expired or "
        "was revoked"
    ]
    # the next event has nobody to tell, and says so
    number = (await factories.make_work_order(town, case, crew_id=town.crew_a)).number
    await complete(town, number)
    assert await Notification.count() == 1
    assert (await timeline())[-1] == (
        "Citizen not notified (work completed): no browser follows this case"
    )


async def test_a_worker_killed_mid_delivery_leaves_it_to_be_retried(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    push_service.delay = 5.0  # the service holds its answer
    async with Worker(config(app, lease=timedelta(seconds=30)), name="doomed") as doomed:
        delivery = asyncio.create_task(doomed.run_once())
        await push_service.wait_for(1)  # taken by the service, its answer held back
        delivery.cancel()  # killed between sending and recording
        with pytest.raises(asyncio.CancelledError):
            await delivery
    push_service.delay = 0.0
    row = await Notification.select().first()
    assert (row["status"], row["claimed_by"]) == ("sending", "doomed")
    async with Worker(config(app), name="heir") as heir:
        assert await heir.run_once() == 0  # the lease still holds
        await Notification.update(
            {Notification.locked_until: datetime.now(UTC) - timedelta(seconds=1)}
        ).where(Notification.id == row["id"])
        assert await heir.run_once() == 1
    row = await Notification.select().first()
    assert (row["status"], row["claimed_by"], row["attempts"]) == ("sent", "heir", 2)
    tags = {m.json()["tag"] for m in push_service.received}
    assert tags == {f"fieldloop-{row['id']}"}  # a repeat, if any, replaces the first on screen


async def test_two_workers_never_send_one_notification_twice(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    """On PostgreSQL the workers claim at the same moment, `FOR UPDATE SKIP LOCKED`."""
    case = await factories.make_case(town)
    browsers = [push_service.subscriber() for _ in range(60)]
    for browser in browsers:
        assert (await factories.follow_case(client, case, browser)).status_code in (201, 429)
    queued = await Notification.count()
    assert queued == 20  # MAX_FOLLOWERS: one per browser that could follow
    cases = [await factories.make_case(town) for _ in range(10)]
    for other in cases:
        for browser in browsers[:8]:
            await factories.follow_case(client, other, browser)
    total = await Notification.count()
    assert total == 100
    push_service.delay = 0.002
    async with (
        Worker(config(app, batch=7, concurrency=3), name="left") as left,
        Worker(config(app, batch=7, concurrency=3), name="right") as right,
    ):
        await asyncio.gather(drain(left, 100), drain(right, 100))
    await push_service.wait_for(total)
    ids = [m.json()["id"] for m in push_service.received]
    assert len(ids) == total and len(set(ids)) == total
    senders = await DeliveryAttempt.select(DeliveryAttempt.worker).where(
        DeliveryAttempt.outcome == "sent"
    )
    assert len(senders) == total
    assert {s["worker"] for s in senders} == {"left", "right"}  # both really worked


@pytest.mark.slow
async def test_a_worker_process_killed_mid_delivery_loses_nothing(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    """`fieldloop worker` as its own process, SIGKILLed while the push service holds its
    answer: the row stays claimed until the lease runs out, then another worker sends it."""
    case = await factories.make_case(town)
    await factories.follow_case(client, case, push_service.subscriber())
    settings = app.state.settings
    env = os.environ | {
        "FIELDLOOP_DATABASE_URL": settings.database_url,
        "FIELDLOOP_VAR_DIR": str(settings.var_dir),  # the same VAPID key
        "FIELDLOOP_SECRET_KEY": settings.secret_key,
    }
    push_service.delay = 30.0
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "worker", env=env, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await push_service.wait_for(1, timeout=20)  # taken by the service, answer held
    finally:
        worker.kill()
        await worker.wait()
    push_service.delay = 0.0
    row = await Notification.select().first()
    assert row["status"] == "sending" and row["claimed_by"] != ""
    await Notification.update(
        {Notification.locked_until: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(Notification.id == row["id"])
    async with Worker(config(app), name="heir") as heir:
        assert await heir.run_once() == 1
    row = await Notification.select().first()
    assert (row["status"], row["claimed_by"], row["attempts"]) == ("sent", "heir", 2)
    assert {m.json()["tag"] for m in push_service.received} == {f"fieldloop-{row['id']}"}


async def test_a_claim_skips_rows_another_worker_holds(
    client: httpx.AsyncClient, town: Town, app: Litestar, push_service: FakePushService
) -> None:
    """PostgreSQL: while one worker's claim transaction holds some rows, another worker's
    claim takes the others at once (`FOR UPDATE SKIP LOCKED`). The negative control: a plain
    `FOR UPDATE` over the same rows waits for the first worker instead, which is how two
    workers without SKIP LOCKED end up taking turns or, without any lock, the same rows."""
    settings = app.state.settings
    if not settings.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has one writer, claims cannot overlap")
    case = await factories.make_case(town)
    for _ in range(6):
        await factories.follow_case(client, case, push_service.subscriber())
    ids = [
        row["id"] for row in await Notification.select(Notification.id).order_by(Notification.id)
    ]
    holder = await asyncpg.connect(settings.database_url)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT id FROM notifications WHERE id = ANY($1::int[]) FOR UPDATE", ids[:3]
            )
            async with Worker(config(app), name="second") as second:
                claimed = await asyncio.wait_for(second.claim(), timeout=5)
            assert sorted(row["id"] for row in claimed) == ids[3:]
            naive = Notification.select(Notification.id).where(Notification.id.is_in(ids))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(naive.lock_rows().run(), timeout=1)
    finally:
        await holder.close()
