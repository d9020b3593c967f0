"""api/demo: the demo town is believable, follows the services' rules and is deterministic.

Most tests seed a small town (scale 0.05: 75 cases) into the test database of every engine and
check properties the real services guarantee; the plan-level tests need no database at all.
"""

from __future__ import annotations

import json
import math
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from api import db as database
from api.activities.tables import Activity
from api.auth.schemas import Principal
from api.auth.service import authenticate, load_principal
from api.auth.tables import User
from api.cases import service as cases
from api.cases.schemas import CaseCreate, CaseStatus
from api.cases.tables import Case, Counter
from api.catalog.service import check_attributes, service_type_by_code
from api.catalog.tables import ServiceType
from api.citizens.schemas import CitizenIn, PlaceIn
from api.citizens.service import normalize_address
from api.citizens.tables import Citizen, Place
from api.crews.tables import Crew
from api.demo import DEMO_LOGINS, DEMO_PASSWORD, SeedRefusedError, TownSummary, seed_town
from api.demo.catalog import CARY_CENTRE, CREWS, SERVICE_TYPES, TOWN_RADIUS_M
from api.demo.seed import plan_town
from api.settings import load_settings
from api.workorders import service as workorders
from api.workorders.queries import distance_m
from api.workorders.schemas import (
    FINAL_STATUSES,
    RESOLUTION_CODES,
    TRANSITIONS,
    WorkOrderCreate,
    WorkOrderStatus,
)
from api.workorders.tables import WorkOrder

SCALE = 0.05
FIXED_NOW = datetime(2026, 2, 10, 15, 30, tzinfo=UTC)  # the 90 days span New Year


@pytest.fixture
async def town(db: Engine) -> TownSummary:
    return await seed_town(scale=SCALE)


async def _principal(username: str) -> Principal:
    row = await User.select(User.id).where(User.username == username).first()
    principal = await load_principal(row["id"])
    assert principal is not None
    return principal


async def test_counts_follow_the_scale(town: TownSummary) -> None:
    expected = {Case: 75, Citizen: 25, Place: 60, Crew: 6, ServiceType: len(SERVICE_TYPES)}
    for table, count in expected.items():
        assert await table.count() == count, table
    for table in (User, WorkOrder, Activity):
        assert await table.count() == town.counts[table._meta.tablename.replace("_", " ")]
    crew_sizes = Tally(row["crew"] for row in await User.select(User.crew).where(User.crew > 0))
    assert sorted(crew_sizes.values())[0] >= 2 and max(crew_sizes.values()) <= 3
    work_orders = await WorkOrder.count()
    assert 0.25 <= work_orders / 75 <= 0.55  # about 40 % of cases need field work


async def test_every_work_order_status_is_present(town: TownSummary) -> None:
    statuses = {row["status"] for row in await WorkOrder.select(WorkOrder.status)}
    assert statuses == {status.value for status in WorkOrderStatus}
    assert set(town.work_orders_by_status) == statuses


async def test_case_status_follows_its_work_orders(town: TownSummary) -> None:
    by_case: dict[int, set[WorkOrderStatus]] = {}
    for row in await WorkOrder.select(WorkOrder.case, WorkOrder.status):
        by_case.setdefault(row["case"], set()).add(WorkOrderStatus(row["status"]))
    without_work = Tally()
    for case in await Case.select():
        if case["id"] in by_case:
            assert case["status"] == cases.case_status_for(by_case[case["id"]]), case["public_id"]
        else:
            without_work[case["status"]] += 1
        resolved = case["status"] == CaseStatus.RESOLVED
        assert (case["resolution"] is not None) is resolved, case["public_id"]
        assert (case["resolved_at"] is not None) is resolved, case["public_id"]
    assert without_work[CaseStatus.IN_PROGRESS] == 0
    assert without_work[CaseStatus.RESOLVED] > without_work[CaseStatus.OPEN] > 0


async def test_work_orders_move_along_the_state_machine(town: TownSummary) -> None:
    changes: dict[int, list[dict]] = {}
    query = Activity.select(Activity.work_order, Activity.data).where(
        Activity.kind == "status_changed"
    )
    for row in await query.order_by(Activity.id):
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        changes.setdefault(row["work_order"], []).append(data)
    now = datetime.now(UTC)
    for work_order in await WorkOrder.select():
        status, story = WorkOrderStatus(work_order["status"]), changes.get(work_order["id"], [])
        current = WorkOrderStatus.ASSIGNED if work_order["crew"] else WorkOrderStatus.NEW
        if story:
            current = WorkOrderStatus(story[0]["from"])
        for change in story:
            assert WorkOrderStatus(change["from"]) is current, work_order["number"]
            current = WorkOrderStatus(change["to"])
            assert current in TRANSITIONS[WorkOrderStatus(change["from"])]
        assert current is status, work_order["number"]
        finished = status in RESOLUTION_CODES
        assert (work_order["resolution_code"] in RESOLUTION_CODES.get(status, {})) is finished
        for column in ("completed_at", "field_completed_at", "completed_by"):
            assert (work_order[column] is not None) is finished, (work_order["number"], column)
        if finished:
            assert work_order["field_completed_at"] <= work_order["completed_at"] <= now
        assert work_order["created_at"] <= work_order["updated_at"] <= now
    overdue = [
        w
        for w in await WorkOrder.select(WorkOrder.status, WorkOrder.due_at)
        if w["due_at"] < now and WorkOrderStatus(w["status"]) not in FINAL_STATUSES
    ]
    assert overdue, "some open work is past due"


async def test_timeline_tells_each_story(town: TownSummary) -> None:
    kinds = Tally(row["kind"] for row in await Activity.select(Activity.kind))
    for kind in ("case_created", "case_resolved", "work_order_created", "assigned", "note"):
        assert kinds[kind] > 0, kind
    assert kinds["case_created"] == await Case.count()
    assert kinds["work_order_created"] == await WorkOrder.count()
    now = datetime.now(UTC)
    entries = await Activity.select().order_by(Activity.id)
    assert all(e["occurred_at"] <= e["recorded_at"] <= now for e in entries)
    recorded = [entry["recorded_at"] for entry in entries]
    assert recorded == sorted(recorded)  # ids in the order the server recorded them
    public = {(e["kind"], e["public"]) for e in entries}
    assert ("case_created", True) in public and ("assigned", False) in public


async def test_answers_places_and_citizens_are_valid(town: TownSummary) -> None:
    types = {row["id"]: row["code"] for row in await ServiceType.select()}
    for case in await Case.select(Case.service_type, Case.attributes):
        service_type = await service_type_by_code(types[case["service_type"]])
        answers = json.loads(case["attributes"])
        assert check_attributes(service_type, answers) == answers
    places = await Place.select()
    assert len({place["normalized_address"] for place in places}) == len(places)
    for place in places:
        assert place["normalized_address"] == normalize_address(place["address"])
        assert distance_m(*CARY_CENTRE, place["lat"], place["lng"]) <= TOWN_RADIUS_M
    for citizen in await Citizen.select():
        assert citizen["phone"] is None or citizen["phone"].isdigit()
        assert citizen["phone"] or citizen["email"]
    assert await Case.count().where(Case.citizen.is_null()) > 0  # some reports are anonymous


async def test_new_cases_and_work_orders_continue_the_numbering(town: TownSummary) -> None:
    year = datetime.now(UTC).year
    case_numbers = [
        int(row["public_id"].rsplit("-", 1)[1])
        for row in await Case.select(Case.public_id).where(Case.public_id.like(f"{year}-%"))
    ]
    order_numbers = [
        int(row["number"].rsplit("-", 1)[1])
        for row in await WorkOrder.select(WorkOrder.number).where(
            WorkOrder.number.like(f"WO-{year}-%")
        )
    ]
    case = await cases.create_case(
        await _principal("advocate"),
        CaseCreate(
            service_code="pothole",
            citizen=CitizenIn(name="New Caller", phone="919-555-0199"),
            place=PlaceIn(address="1 Academy St", lat=35.79, lng=-78.78),
            attributes={"size": "large"},
        ),
    )
    assert case.public_id == f"{year}-{max(case_numbers, default=0) + 1:06d}"
    work_order = await workorders.create_work_order(
        await _principal("supervisor"), case.public_id, WorkOrderCreate()
    )
    assert work_order.number == f"WO-{year}-{max(order_numbers, default=0) + 1:06d}"
    counters = {row["name"]: row["value"] for row in await Counter.select()}
    assert counters[f"case-{year}"] == max(case_numbers, default=0) + 1


async def test_demo_logins_work(town: TownSummary) -> None:
    crew_ids = {row["name"]: row["id"] for row in await Crew.select(Crew.id, Crew.name)}
    for number, login in enumerate(DEMO_LOGINS):
        if number in (0, 3):  # argon2 is slow: check one office and one crew login in full
            row = await authenticate(login.username, DEMO_PASSWORD)
        else:
            row = await User.select().where(User.username == login.username).first()
        assert row["role"] == login.role.value
        assert row["crew"] == (crew_ids[login.crew] if login.crew else None)
    crew1 = await User.select(User.crew).where(User.username == "crew1").first()
    assert crew1["crew"] == crew_ids[next(iter(CREWS))]


async def test_seeding_twice_is_refused(town: TownSummary) -> None:
    with pytest.raises(SeedRefusedError, match="75 cases"):
        await seed_town(scale=SCALE)
    assert await Case.count() == 75


@pytest.mark.parametrize("scale", [0, -1, math.inf, math.nan])
async def test_scale_must_be_positive(db: Engine, scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        await seed_town(scale=scale)


def _plan(random_seed: int) -> dict:
    plan = plan_town(
        scale=SCALE, random_seed=random_seed, now=FIXED_NOW, password_hash="x", counters={}
    )
    for row in plan.rows[Case]:
        row.pop("tracking_token")  # a secret: random on purpose
    return {table.__name__: rows for table, rows in plan.rows.items()} | {"counters": plan.counters}


def test_same_seed_plans_the_same_town() -> None:
    assert _plan(311) == _plan(311)
    assert _plan(311)["Citizen"] != _plan(7)["Citizen"]


def test_a_full_size_plan_has_the_mix_of_a_real_town() -> None:
    plan = plan_town(scale=1, random_seed=311, now=FIXED_NOW, password_hash="x", counters={})
    cases, work_orders = plan.rows[Case], plan.rows[WorkOrder]
    assert len(cases) == 1_500 and len(plan.rows[Citizen]) == 500
    channels = Tally(case["channel"] for case in cases)
    assert [channel for channel, _ in channels.most_common()] == [
        "phone", "web", "email", "walk_in", "open311"
    ]  # fmt: skip
    assert 0.35 <= len(work_orders) / len(cases) <= 0.45
    assert {row["status"] for row in work_orders} == {status.value for status in WorkOrderStatus}
    for entry in plan.rows[Activity]:
        if entry["kind"] == "status_changed":
            change = entry["data"]
            assert WorkOrderStatus(change["to"]) in TRANSITIONS[WorkOrderStatus(change["from"])]


def test_numbers_run_per_year_in_creation_order() -> None:
    plan = plan_town(scale=0.2, random_seed=311, now=FIXED_NOW, password_hash="x", counters={})
    for table, key in ((Case, "public_id"), (WorkOrder, "number")):
        by_year: dict[str, list[int]] = {}
        for row in sorted(plan.rows[table], key=lambda row: (row["created_at"], row["id"])):
            year, number = row[key].removeprefix("WO-").split("-")
            assert year == str(row["created_at"].year)
            by_year.setdefault(year, []).append(int(number))
        assert len(by_year) == 2  # December and February
        for year, numbers in by_year.items():
            assert numbers == list(range(1, len(numbers) + 1)), (table, year)
            prefix = "case" if table is Case else "work-order"
            assert plan.counters[f"{prefix}-{year}"] == len(numbers)
    assert min(row["created_at"] for row in plan.rows[Case]) >= FIXED_NOW - timedelta(days=91)


def test_numbering_continues_from_existing_counters() -> None:
    plan = plan_town(
        scale=SCALE, random_seed=311, now=FIXED_NOW, password_hash="x", counters={"case-2026": 41}
    )
    first = min(
        (row for row in plan.rows[Case] if row["public_id"].startswith("2026-")),
        key=lambda row: row["created_at"],
    )
    assert first["public_id"] == "2026-000042"


async def _seed_file(path: Path, random_seed: int) -> dict[str, list]:
    settings = load_settings(
        {"FIELDLOOP_DATABASE_URL": f"sqlite:///{path}", "FIELDLOOP_VAR_DIR": str(path.parent)}
    )
    engine = await database.connect(settings)
    try:
        await database.migrate()
        await seed_town(scale=0.02, random_seed=random_seed, now=FIXED_NOW)
        return {
            "cases": await Case.select(Case.public_id, Case.status).order_by(Case.id),
            "citizens": await Citizen.select(Citizen.name, Citizen.phone).order_by(Citizen.id),
            "work orders": await WorkOrder.select(WorkOrder.number, WorkOrder.status),
            "users": await User.select(User.username, User.display_name).order_by(User.id),
        }
    finally:
        await database.disconnect(engine)


async def test_two_fresh_databases_get_the_same_town(tmp_path: Path) -> None:
    first = await _seed_file(tmp_path / "first.sqlite3", 311)
    second = await _seed_file(tmp_path / "second.sqlite3", 311)
    assert first == second
    assert first["cases"][0]["public_id"] == "2025-000001"
