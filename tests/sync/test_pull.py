"""Pull (sync/pull.py): a tablet's scope, by cursor, in atomic and idempotent pages
(DESIGN §4.3 to §4.5)."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.auth.tables import User
from api.catalog.tables import ServiceType
from api.db import write_transaction
from api.settings import Settings
from api.workorders.schemas import WorkOrderStatus
from sync import feed
from sync.pull import Position
from sync.tables import Change
from tests.factories import (
    Tablet,
    Town,
    age_changes,
    crew_work,
    make_case,
    make_tablet,
    make_work_order,
    office_assign,
    office_status,
    set_completed_at,
    shared_app,
    work_order_row,
)

S = WorkOrderStatus


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


@pytest.fixture
async def tablet(client: httpx.AsyncClient, town: Town) -> Tablet:
    return await make_tablet(client, town, "crew_a")


async def work_for(town: Town, crew_id: int, count: int) -> list[str]:
    """`count` work orders for a crew, each at an address of its own."""
    numbers = []
    for _ in range(count):
        case = await make_case(town, address=f"{len(numbers) + crew_id * 100} Oak Ave")
        numbers.append((await make_work_order(town, case, crew_id=crew_id)).number)
    return numbers


async def page_of(tablet: Tablet, limit: int = 100) -> dict:
    """Pull one page and apply it."""
    response = await tablet.pull(limit)
    assert response.status_code == 200, response.text
    page = response.json()
    tablet.apply(page)
    return page


def numbers_in(page: dict) -> list[str]:
    return [bundle["work_order"]["number"] for bundle in page["work_orders"]]


async def test_first_full_pull_in_pages(town: Town, tablet: Tablet) -> None:
    mine = await work_for(town, town.crew_a, 5)
    await work_for(town, town.crew_b, 2)

    pages = [await page_of(tablet, limit=2) for _ in range(3)]
    assert [numbers_in(p) for p in pages] == [mine[:2], mine[2:4], mine[4:]]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert pages[0]["cursor"].startswith("v2.f.") and pages[1]["cursor"].startswith("v2.f.")
    assert pages[2]["cursor"].startswith("v2.c.")
    assert [p["reference"] is not None for p in pages] == [True, False, False]
    assert [p["reset"] for p in pages] == [False] * 3
    assert tablet.statuses() == dict.fromkeys(mine, "assigned") == await crew_work(town.crew_a)

    quiet = await page_of(tablet, limit=2)  # nothing changed since
    assert (quiet["work_orders"], quiet["removed"], quiet["has_more"]) == ([], [], False)
    assert quiet["cursor"] == pages[2]["cursor"]


async def test_changes_between_pages_arrive_through_the_feed(town: Town, tablet: Tablet) -> None:
    mine = await work_for(town, town.crew_a, 5)
    first = await page_of(tablet, limit=2)
    assert numbers_in(first) == mine[:2]

    await office_status(town, mine[0], S.CANCELLED)  # already sent: must be removed later
    await office_status(town, mine[1], S.ON_HOLD)  # already sent: must be updated later
    await office_assign(town, mine[4], town.crew_b)  # not sent yet: must never arrive
    [new] = await work_for(town, town.crew_a, 1)  # created meanwhile

    while (await page_of(tablet, limit=2))["has_more"]:
        pass
    assert tablet.statuses() == await crew_work(town.crew_a)
    assert tablet.statuses() == {
        mine[1]: "on_hold",
        mine[2]: "assigned",
        mine[3]: "assigned",
        new: "assigned",
    }
    removed = [n for page in tablet.pages for n in page["removed"]]
    assert mine[0] in removed
    assert mine[4] not in tablet.store


async def test_a_page_applied_twice_is_harmless(town: Town, tablet: Tablet) -> None:
    mine = await work_for(town, town.crew_a, 3)
    await tablet.sync(limit=2)
    cursor = tablet.cursor
    await office_status(town, mine[0], S.CANCELLED)
    await office_status(town, mine[1], S.EN_ROUTE)

    first = await tablet.pull(cursor=cursor)
    again = await tablet.pull(cursor=cursor)  # the answer to the first was lost
    drop_time = lambda page: {k: v for k, v in page.items() if k != "server_time"}  # noqa: E731
    assert drop_time(first.json()) == drop_time(again.json())
    tablet.apply(first.json())
    after_once = dict(tablet.store)
    tablet.apply(again.json())
    assert tablet.store == after_once
    assert tablet.statuses() == {mine[1]: "en_route", mine[2]: "assigned"}


async def test_reassigned_work_moves_between_crews(
    client: httpx.AsyncClient, town: Town, tablet: Tablet
) -> None:
    [number] = await work_for(town, town.crew_a, 1)
    other = await make_tablet(client, town, "crew_b")
    await tablet.sync()
    await other.sync()
    assert (list(tablet.store), list(other.store)) == ([number], [])

    await office_assign(town, number, town.crew_b)
    page = await page_of(tablet)
    assert (page["removed"], page["work_orders"]) == ([number], [])
    page = await page_of(other)
    assert numbers_in(page) == [number]
    assert page["work_orders"][0]["work_order"]["crew"]["name"] == "Streets B"
    assert page["removed"] == []


async def test_cancelled_work_is_removed(town: Town, tablet: Tablet) -> None:
    [number, kept] = await work_for(town, town.crew_a, 2)
    await tablet.sync()
    await office_status(town, number, S.CANCELLED)
    page = await page_of(tablet)
    assert page["removed"] == [number]
    assert list(tablet.store) == [kept]


async def test_finished_work_stays_within_the_window(town: Town, tablet: Tablet) -> None:
    [number] = await work_for(town, town.crew_a, 1)
    await tablet.sync()
    tablet.queue("complete", work_order=number, resolution_code="repaired")
    await tablet.sync()
    assert tablet.statuses() == {number: "completed"}
    assert tablet.store[number]["resolution_code"] == "repaired"
    fresh = await make_tablet(tablet.client, town, "crew_a")
    await fresh.sync()  # a first pull sends it too
    assert fresh.statuses() == {number: "completed"}


async def test_finished_longer_ago_than_the_window_is_archived(town: Town, tablet: Tablet) -> None:
    [old, recent] = await work_for(town, town.crew_a, 2)
    for number in (old, recent):
        tablet.queue("complete", work_order=number, resolution_code="repaired")
    await tablet.sync()
    assert tablet.statuses() == {old: "completed", recent: "completed"}
    await set_completed_at(old, datetime.now(UTC) - timedelta(days=8))

    page = await page_of(tablet)
    assert (page["removed"], page["work_orders"]) == ([old], [])
    assert list(tablet.store) == [recent]
    assert (await work_order_row(old))["archived_at"] is not None
    assert (await work_order_row(recent))["archived_at"] is None
    fresh = await make_tablet(tablet.client, town, "crew_a")
    await fresh.sync()
    assert list(fresh.store) == [recent]

    await office_status(town, old, S.REOPENED)  # reopened work comes back
    await page_of(tablet)
    assert tablet.statuses() == {old: "reopened", recent: "completed"}
    assert (await work_order_row(old))["archived_at"] is None


async def test_a_cursor_below_the_tombstone_horizon_resets(town: Town, tablet: Tablet) -> None:
    [number, cancelled] = await work_for(town, town.crew_a, 2)
    await tablet.sync()
    # while the tablet is offline for weeks: its crew's work changes, and it queues work
    await office_status(town, cancelled, S.CANCELLED)
    tablet.queue("add_note", work_order=number, body="Written offline")
    await age_changes(datetime.now(UTC) - timedelta(days=31))

    response = await tablet.pull()
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["reset"] is True
    assert "offline longer than the server keeps removals" in page["reason"]
    assert (page["cursor"], page["work_orders"], page["removed"]) == (None, [], [])
    assert await Change.count() == 0  # pruned

    await tablet.sync()  # push the outbox first, then wipe and pull from the start
    assert tablet.outbox == []
    assert tablet.statuses() == {number: "assigned"}
    bodies = [e["body"] for e in tablet.store[number]["timeline"] if e["kind"] == "note"]
    assert bodies == ["Written offline"]


async def test_a_quiet_crew_is_not_reset_by_other_crews_changes(
    client: httpx.AsyncClient, town: Town, tablet: Tablet
) -> None:
    """Crew A's tablet pulls every day but its crew's work is quiet, while crew B's is busy.
    When B's old entries are pruned, A's tablet has seen everything: no reset."""
    await work_for(town, town.crew_a, 1)
    [theirs] = await work_for(town, town.crew_b, 1)
    await tablet.sync()
    for status in (S.EN_ROUTE, S.ON_SITE, S.ON_HOLD):
        await office_status(town, theirs, status)
        page = await page_of(tablet)  # online, nothing for crew A
        assert (page["work_orders"], page["removed"]) == ([], [])
    await age_changes(datetime.now(UTC) - timedelta(days=31))

    page = await page_of(tablet)
    assert page["reset"] is False, page["reason"]
    assert len(tablet.store) == 1


async def test_a_cursor_ahead_of_the_feed_resets(town: Town, tablet: Tablet) -> None:
    """A database restored from a backup: the tablet has seen changes the server has not."""
    await work_for(town, town.crew_a, 1)
    await tablet.sync()
    seq = int(tablet.cursor.split(".")[-1])
    for cursor in (f"v1.c.{seq + 1}", f"v1.f.{seq + 1}.0"):
        response = await tablet.pull(cursor=cursor)
        assert response.status_code == 200, response.text
        assert response.json()["reset"] is True
        assert "ahead of the server's change feed" in response.json()["reason"]


@pytest.mark.parametrize(
    ("cursor", "status"),
    [
        ("v2.c.1", 422),
        ("v1.c", 422),
        ("v1.c.", 422),
        ("v1.c.1.2", 422),
        ("v1.f.1", 422),
        ("v1.x.1", 422),
        ("garbage", 422),
        ("v1.c.99999999999999999999999", 422),
        ("v1.f.0.99999999999", 422),
        ("V1.C.1", 400),
        ("v1.c.-1", 400),
        ("v1.c." + "1" * 80, 400),
    ],
)
async def test_a_malformed_cursor_names_the_cursor(
    town: Town, tablet: Tablet, cursor: str, status: int
) -> None:
    response = await tablet.pull(cursor=cursor)
    assert response.status_code == status, response.text
    assert response.json()["field"] == "cursor"


async def test_every_page_carries_the_last_mutation_seq(town: Town, tablet: Tablet) -> None:
    mine = await work_for(town, town.crew_a, 3)
    tablet.queue("add_note", work_order=mine[0], body="One")
    tablet.queue("add_note", work_order=mine[1], body="Two")
    response = await tablet.push()
    assert response.json()["last_mutation_seq"] == 2
    full = [await page_of(tablet, limit=1) for _ in range(3)]
    assert [p["last_mutation_seq"] for p in full] == [2, 2, 2]
    tablet.queue("add_note", work_order=mine[2], body="Three")
    await tablet.push()
    changes = await page_of(tablet, limit=1)
    assert changes["cursor"].startswith("v2.c.")
    assert changes["last_mutation_seq"] == 3


async def test_reference_data_comes_first_and_when_it_changes(town: Town, tablet: Tablet) -> None:
    await work_for(town, town.crew_a, 2)
    first = await page_of(tablet, limit=1)
    codes = {t["code"]: t["name"] for t in first["reference"]["service_types"]}
    assert codes["pothole"] == "Pothole"
    assert "no_access" in first["reference"]["resolution_codes"]["cannot_complete"]
    while (await page_of(tablet, limit=1))["has_more"]:
        pass
    assert (await page_of(tablet))["reference"] is None

    async with write_transaction():
        await ServiceType.update({ServiceType.name: "Pothole or sinkhole"}).where(
            ServiceType.code == "pothole"
        )
        await feed.reference_changed()
    page = await page_of(tablet)
    names = {t["code"]: t["name"] for t in page["reference"]["service_types"]}
    assert names["pothole"] == "Pothole or sinkhole"
    assert (await page_of(tablet))["reference"] is None


async def test_a_crew_sees_its_own_work_and_others_only_in_history(
    town: Town, tablet: Tablet
) -> None:
    here = await make_case(town, address="12 Main St")
    earlier = (await make_work_order(town, here, crew_id=town.crew_b)).number
    await office_status(town, earlier, S.CANCELLED)
    other_place = (await make_work_order(town, await make_case(town, address="9 Elm St"))).number
    theirs_now = (
        await make_work_order(town, await make_case(town, address="5 Pine St"), crew_id=town.crew_b)
    ).number
    mine = (await make_work_order(town, here, crew_id=town.crew_a)).number

    await tablet.sync()
    assert list(tablet.store) == [mine]
    [bundle] = tablet.pages[0]["work_orders"]
    history = bundle["history"]
    assert [item["number"] for item in history] == [earlier]
    assert history[0]["crew"]["name"] == "Streets B"
    assert history[0]["status"] == "cancelled"
    everything = str(tablet.pages)
    assert theirs_now not in everything and other_place not in everything


async def test_a_user_moved_to_another_crew_pulls_afresh(town: Town, tablet: Tablet) -> None:
    """The tablet held crew A's work; its user now works for crew B: the next pull says
    reset, and the pull after it holds crew B's work only."""
    ours = await work_for(town, town.crew_a, 2)
    theirs = await work_for(town, town.crew_b, 1)
    await tablet.sync()
    assert sorted(tablet.store) == sorted(ours)
    await User.update({User.crew: town.crew_b}).where(User.id == town.users["crew_a"].id)
    page = await page_of(tablet)
    assert page["reset"] is True
    assert "now works for another crew" in page["reason"]
    assert tablet.store == {}  # applying a reset empties the tablet
    await tablet.sync()
    assert sorted(tablet.store) == theirs


async def test_cursors_of_the_older_form_still_read(town: Town, tablet: Tablet) -> None:
    """Tablets in the field hold `v1.` cursors from before cursors named their crew."""
    await work_for(town, town.crew_a, 1)
    await tablet.sync()
    seq = int(tablet.cursor.split(".")[-1])
    response = await tablet.pull(cursor=f"v1.c.{seq}")
    assert response.status_code == 200
    assert response.json()["reset"] is False
    assert response.json()["cursor"] == f"v2.c.{town.crew_a}.{seq}"


def test_cursors_round_trip_with_and_without_their_crew() -> None:
    for position, text in (
        (Position(True, 5, 7, crew=3), "v2.f.3.5.7"),
        (Position(False, 5, crew=0), "v2.c.0.5"),
        (Position(False, 5), "v1.c.5"),  # no crew known: the older form, read as before
        (Position(True, 5, 7), "v1.f.5.7"),
    ):
        assert position.encode() == text
        assert Position.decode(text) == position
