"""api/workorders/queries.py: the dispatch list's filters, distance ordering, paging and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.auth.schemas import Role
from api.settings import Settings
from api.workorders.queries import distance_m, list_work_orders
from api.workorders.schemas import Priority, WorkOrderOut, WorkOrderStatus
from tests.factories import (
    Town,
    make_case,
    make_service_type,
    make_user,
    make_work_order,
    set_work_order_status,
    shared_app,
)

S = WorkOrderStatus
HOME = (35.7915, -78.7811)
METRES_PER_DEGREE = 111_194.93  # of latitude, on the haversine sphere
RALEIGH = timezone(timedelta(hours=-5))
INDIA = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


async def job(
    town: Town,
    n: int,
    *,
    north_m: float = 0,
    east_deg: float = 0,
    crew_id: int | None = None,
    status: WorkOrderStatus | None = None,
    located: bool = True,
    **kwargs: object,
) -> WorkOrderOut:
    """A work order at house `n` on Oak Ave, `north_m` metres north of HOME."""
    case = await make_case(
        town,
        address=f"{n} Oak Ave",
        lat=HOME[0] + north_m / METRES_PER_DEGREE if located else None,
        lng=HOME[1] + east_deg if located else None,
    )
    work_order = await make_work_order(town, case, crew_id=crew_id, **kwargs)
    if status is not None:
        await set_work_order_status(work_order.number, status)
    return work_order


def numbers(page) -> list[str]:
    return [item.number for item in page.items]


async def test_status_filter_takes_several(town: Town) -> None:
    new = await job(town, 1)
    assigned = await job(town, 2, crew_id=town.crew_a)
    await job(town, 3, crew_id=town.crew_a, status=S.EN_ROUTE)
    await job(town, 4, crew_id=town.crew_a, status=S.COMPLETED)
    page = await list_work_orders(town.supervisor, statuses=[S.NEW, S.ASSIGNED])
    assert sorted(numbers(page)) == sorted([new.number, assigned.number])
    page = await list_work_orders(town.supervisor, statuses=[S.CANCELLED])
    assert page.items == [] and page.next_offset is None
    assert len((await list_work_orders(town.supervisor)).items) == 4


async def test_crew_service_and_priority_filters(town: Town) -> None:
    await make_service_type(town.department_id, "streetlight", "Streetlight out")
    a_high = await job(town, 1, crew_id=town.crew_a, priority=Priority.HIGH)
    a_low = await job(town, 2, crew_id=town.crew_a, priority=Priority.LOW)
    b_high = await job(town, 3, crew_id=town.crew_b, priority=Priority.HIGH)
    light_case = await make_case(town, service_code="streetlight", address="9 Elm St")
    light = await make_work_order(town, light_case, crew_id=town.crew_b)
    sup = town.supervisor
    page = await list_work_orders(sup, crew_id=town.crew_a)
    assert sorted(numbers(page)) == sorted([a_high.number, a_low.number])
    assert {item.crew.name for item in page.items if item.crew} == {"Streets A"}
    page = await list_work_orders(sup, service_code="streetlight")
    assert numbers(page) == [light.number]
    assert page.items[0].service_name == "Streetlight out"
    page = await list_work_orders(sup, priority=Priority.HIGH)
    assert sorted(numbers(page)) == sorted([a_high.number, b_high.number])
    page = await list_work_orders(sup, priority=Priority.HIGH, crew_id=town.crew_b)
    assert numbers(page) == [b_high.number]
    assert (await list_work_orders(sup, service_code="no_such")).items == []


async def test_overdue_filter_and_flag(town: Town) -> None:
    now = datetime.now(UTC)
    late = await job(town, 1, crew_id=town.crew_a, due_at=now - timedelta(hours=2))
    late_but_done = await job(
        town, 2, crew_id=town.crew_a, due_at=now - timedelta(hours=3), status=S.COMPLETED
    )
    # times with another offset must compare as the same instants
    in_time = await job(town, 3, due_at=(now + timedelta(hours=1)).astimezone(INDIA))
    late_elsewhere = await job(town, 4, due_at=(now - timedelta(hours=1)).astimezone(RALEIGH))
    sup = town.supervisor
    page = await list_work_orders(sup, overdue=True)
    assert sorted(numbers(page)) == sorted([late.number, late_elsewhere.number])
    assert all(item.overdue for item in page.items)
    page = await list_work_orders(sup, overdue=False)
    assert sorted(numbers(page)) == sorted([late_but_done.number, in_time.number])
    assert not any(item.overdue for item in page.items)


async def test_list_is_soonest_due_first_and_pages(town: Town) -> None:
    now = datetime.now(UTC)
    made = [
        await job(town, n, due_at=now + timedelta(hours=hours))
        for n, hours in enumerate([5, 1, 4, 2, 3])
    ]
    by_due = [made[i].number for i in (1, 3, 4, 2, 0)]
    seen: list[str] = []
    offsets: list[int | None] = []
    offset = 0
    while True:
        page = await list_work_orders(town.supervisor, limit=2, offset=offset)
        seen += numbers(page)
        offsets.append(page.next_offset)
        if page.next_offset is None:
            break
        offset = page.next_offset
    assert seen == by_due
    assert offsets == [2, 4, None]
    exact = await list_work_orders(town.supervisor, limit=5)
    assert exact.next_offset is None and len(exact.items) == 5


async def test_near_lists_nearest_first_within_the_radius(town: Town) -> None:
    far = await job(town, 1, north_m=5_000)
    at_500 = await job(town, 2, north_m=500)
    at_100 = await job(town, 3, north_m=100)
    east = await job(town, 4, east_deg=0.002)  # ~180 m east
    # inside the bounding box but outside the circle: ~1,020 m to the north-east
    corner = await job(town, 5, north_m=720, east_deg=0.008)
    nowhere = await job(town, 6, located=False)
    page = await list_work_orders(town.supervisor, near=(*HOME, 1_000))
    assert numbers(page) == [at_100.number, east.number, at_500.number]
    distances = [item.distance_m for item in page.items]
    assert distances[0] == pytest.approx(100, abs=0.2)
    assert distances[1] == pytest.approx(distance_m(*HOME, HOME[0], HOME[1] + 0.002), abs=0.1)
    assert distances[2] == pytest.approx(500, abs=0.2)
    assert distance_m(*HOME, HOME[0] + 720 / METRES_PER_DEGREE, HOME[1] + 0.008) > 1_000
    excluded = {far.number, corner.number, nowhere.number}
    assert not excluded & set(numbers(page))
    wide = await list_work_orders(town.supervisor, near=(*HOME, 6_000))
    assert numbers(wide)[-1] == far.number and nowhere.number not in numbers(wide)


async def test_near_pages(town: Town) -> None:
    made = [await job(town, n, north_m=100 * (n + 1)) for n in range(3)]
    first = await list_work_orders(town.supervisor, near=(*HOME, 1_000), limit=2)
    assert numbers(first) == [made[0].number, made[1].number] and first.next_offset == 2
    rest = await list_work_orders(town.supervisor, near=(*HOME, 1_000), limit=2, offset=2)
    assert numbers(rest) == [made[2].number] and rest.next_offset is None


async def test_crews_see_only_their_own_work(town: Town) -> None:
    ours = await job(town, 1, crew_id=town.crew_a)
    theirs = await job(town, 2, crew_id=town.crew_b)
    unassigned = await job(town, 3)
    crew_a, crew_b = town.users["crew_a"], town.users["crew_b"]
    assert numbers(await list_work_orders(crew_a)) == [ours.number]
    assert numbers(await list_work_orders(crew_b)) == [theirs.number]
    assert (await list_work_orders(crew_b, crew_id=town.crew_a)).items == []
    assert numbers(await list_work_orders(crew_b, near=(*HOME, 1_000))) == [theirs.number]
    loner = await make_user("loner", Role.CREW)  # a crew user not yet placed in a crew
    assert (await list_work_orders(loner)).items == []
    everything = await list_work_orders(town.advocate)
    assert sorted(numbers(everything)) == sorted([ours.number, theirs.number, unassigned.number])
