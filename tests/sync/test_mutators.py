"""The named mutations and their conflict rules (sync/mutators.py), pushed as a tablet does:
field reality wins, append-only data never conflicts, the state machine is the state machine."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.cases.tables import Case
from api.citizens.tables import Place
from api.settings import Settings
from api.workorders.schemas import WorkOrderStatus
from media.tables import Photo
from tests.factories import (
    Tablet,
    Town,
    activities_of,
    make_tablet,
    make_work_order,
    mutation_rows,
    office_assign,
    office_status,
    shared_app,
    work_order_row,
)

S = WorkOrderStatus
SHA = "ab" * 32


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


@pytest.fixture
async def tablet(client: httpx.AsyncClient, town: Town) -> Tablet:
    return await make_tablet(client, town, "crew_a")


@pytest.fixture
async def number(town: Town) -> str:
    """A work order assigned to crew A (the tablet's crew)."""
    return (await make_work_order(town, crew_id=town.crew_a)).number


async def push(tablet: Tablet) -> list[dict]:
    response = await tablet.push()
    assert response.status_code == 200, response.text
    tablet.acknowledge(response.json()["last_mutation_seq"])
    return response.json()["results"]


def transitions(entries: list[dict]) -> list[tuple[str, str]]:
    return [(e["data"]["from"], e["data"]["to"]) for e in entries]


async def test_crew_unassigned_while_offline_with_pending_edits(
    client: httpx.AsyncClient, town: Town, tablet: Tablet, number: str
) -> None:
    await tablet.sync()
    assert list(tablet.store) == [number]
    # offline, the crew works on; meanwhile the office gives the job to crew B
    tablet.queue("add_note", work_order=number, body="Road plate is loose")
    tablet.queue("add_gps_fix", work_order=number, lat=35.7916, lng=-78.7812, accuracy_m=6.0)
    tablet.queue("set_status", work_order=number, status="en_route", expected_status="assigned")
    tablet.queue("complete", work_order=number, resolution_code="repaired", note="Patched")
    await office_assign(town, number, town.crew_b)

    results = await push(tablet)
    assert [(r["status"], r["flagged"]) for r in results] == [
        ("applied", False),
        ("applied", False),
        ("rejected", False),
        ("applied", True),
    ]
    assert "no longer your crew's work" in results[2]["reason"]
    assert results[3]["reason"] == "kept and flagged: it had been given to Streets B"

    row = await work_order_row(number)
    assert row["status"] == "assigned" and row["crew"] == town.crew_b
    assert row["completed_at"] is None and row["resolution_code"] is None
    assert row["flagged_at"] is not None
    assert "Streets B" in row["flag_reason"]
    crew_a = town.users["crew_a"].id
    [note] = await activities_of(number, "note")
    assert (note["body"], note["actor"]) == ("Road plate is loose", crew_a)
    [fix] = await activities_of(number, "gps_fix")
    assert fix["data"] == {"lat": 35.7916, "lng": -78.7812, "accuracy_m": 6.0}
    [conflict] = await activities_of(number, "field_conflict")
    assert conflict["actor"] == crew_a
    assert conflict["data"] == {
        "status": "completed",
        "resolution_code": "repaired",
        "reason": "it had been given to Streets B",
    }
    assert "Repaired" in conflict["body"] and "Crew note: Patched" in conflict["body"]
    assert transitions(await activities_of(number, "status_changed")) == []

    await tablet.sync()  # the work left this crew's tablet; crew B's tablet has the story
    assert tablet.store == {}
    assert tablet.pages[-1]["removed"] == [number]
    other = await make_tablet(client, town, "crew_b")
    await other.sync()
    kinds = [entry["kind"] for entry in other.store[number]["timeline"]]
    assert {"note", "gps_fix", "field_conflict"} <= set(kinds)


async def test_office_cancelled_while_the_crew_completed(
    town: Town, tablet: Tablet, number: str
) -> None:
    tablet.queue("complete", work_order=number, resolution_code="repaired")
    await office_status(town, number, S.CANCELLED)

    [result] = await push(tablet)
    assert (result["status"], result["flagged"]) == ("applied", True)
    assert result["reason"] == "kept and flagged: the office had cancelled it"
    row = await work_order_row(number)
    assert row["status"] == "cancelled"
    assert row["completed_at"] is None and row["completed_by"] is None
    assert row["flagged_at"] is not None
    [conflict] = await activities_of(number, "field_conflict")
    assert conflict["data"]["reason"] == "the office had cancelled it"


async def test_two_crews_complete_the_same_work_order_offline(
    client: httpx.AsyncClient, town: Town, tablet: Tablet, number: str
) -> None:
    await tablet.sync()
    tablet.queue("complete", work_order=number, resolution_code="repaired")  # crew A, offline
    await office_assign(town, number, town.crew_b)
    crew_b = await make_tablet(client, town, "crew_b")
    await crew_b.sync()
    crew_b.queue("complete", work_order=number, resolution_code="temporary_fix")
    [first] = await push(crew_b)
    assert (first["status"], first["flagged"]) == ("applied", False)

    [late] = await push(tablet)  # crew A comes back online
    assert (late["status"], late["flagged"]) == ("applied", True)
    assert "given to Streets B" in late["reason"]

    row = await work_order_row(number)
    assert row["status"] == "completed"
    assert row["resolution_code"] == "temporary_fix"
    assert row["completed_by"] == town.users["crew_b"].id
    assert row["flagged_at"] is not None
    completions = [e for e in await activities_of(number, "status_changed")]
    assert transitions(completions) == [("assigned", "on_site"), ("on_site", "completed")]
    assert {e["actor"] for e in completions} == {town.users["crew_b"].id}
    [conflict] = await activities_of(number, "field_conflict")
    assert conflict["actor"] == town.users["crew_a"].id
    assert conflict["data"]["resolution_code"] == "repaired"


async def test_two_tablets_of_one_crew_complete_it(
    client: httpx.AsyncClient, town: Town, tablet: Tablet, number: str
) -> None:
    second = await make_tablet(client, town, "crew_a")
    tablet.queue("complete", work_order=number, resolution_code="repaired")
    second.queue("complete", work_order=number, resolution_code="cleaned")
    assert [r["flagged"] for r in await push(tablet)] == [False]
    [late] = await push(second)
    assert (late["status"], late["flagged"]) == ("applied", True)
    assert late["reason"] == "kept and flagged: it was already completed"
    row = await work_order_row(number)
    assert (row["status"], row["resolution_code"]) == ("completed", "repaired")
    assert len(await activities_of(number, "status_changed")) == 2


async def between_creation_and_now(number: str) -> datetime:
    """A device time that is possible: after the work order existed, before the push."""
    created_at = (await work_order_row(number))["created_at"]
    return created_at + (datetime.now(UTC) - created_at) / 2


async def test_complete_from_assigned_walks_through_on_site(tablet: Tablet, number: str) -> None:
    done_at = await between_creation_and_now(number)
    tablet.queue(
        "complete", work_order=number, resolution_code="repaired", occurred_at=done_at.isoformat()
    )
    [result] = await push(tablet)
    assert (result["status"], result["flagged"], result["reason"]) == ("applied", False, None)
    entries = await activities_of(number, "status_changed")
    assert transitions(entries) == [("assigned", "on_site"), ("on_site", "completed")]
    assert [e["occurred_at"] for e in entries] == [done_at, done_at]
    row = await work_order_row(number)
    assert (row["status"], row["resolution_code"]) == ("completed", "repaired")
    assert row["field_completed_at"] == done_at
    assert row["completed_at"] > done_at  # when the server learned of it
    assert row["flagged_at"] is None


async def test_complete_from_on_hold_and_on_site(town: Town, tablet: Tablet) -> None:
    on_hold = (await make_work_order(town, crew_id=town.crew_a)).number
    on_site = (await make_work_order(town, crew_id=town.crew_a)).number
    tablet.queue("set_status", work_order=on_hold, status="on_hold", expected_status="assigned")
    tablet.queue("set_status", work_order=on_site, status="on_site", expected_status="assigned")
    tablet.queue("complete", work_order=on_hold, resolution_code="repaired")
    tablet.queue("complete", work_order=on_site, resolution_code="repaired")
    assert {r["status"] for r in await push(tablet)} == {"applied"}
    assert transitions(await activities_of(on_hold, "status_changed")) == [
        ("assigned", "on_hold"),
        ("on_hold", "on_site"),
        ("on_site", "completed"),
    ]
    assert transitions(await activities_of(on_site, "status_changed")) == [
        ("assigned", "on_site"),
        ("on_site", "completed"),
    ]


async def test_cannot_complete_from_en_route_is_direct(tablet: Tablet, number: str) -> None:
    tablet.queue("set_status", work_order=number, status="en_route", expected_status="assigned")
    tablet.queue(
        "complete", work_order=number, status="cannot_complete", resolution_code="no_access"
    )
    assert [r["status"] for r in await push(tablet)] == ["applied", "applied"]
    assert transitions(await activities_of(number, "status_changed")) == [
        ("assigned", "en_route"),
        ("en_route", "cannot_complete"),
    ]
    row = await work_order_row(number)
    assert (row["status"], row["resolution_code"]) == ("cannot_complete", "no_access")


async def test_set_status_to_an_outcome_is_a_completion(tablet: Tablet, number: str) -> None:
    tablet.queue(
        "set_status",
        work_order=number,
        status="completed",
        expected_status="assigned",
        resolution_code="cleaned",
    )
    assert [r["status"] for r in await push(tablet)] == ["applied"]
    assert (await work_order_row(number))["resolution_code"] == "cleaned"


async def test_complete_needs_an_outcome_status(tablet: Tablet, number: str) -> None:
    tablet.queue("complete", work_order=number, status="on_hold", resolution_code="repaired")
    [result] = await push(tablet)
    assert result["status"] == "rejected"
    assert "completed or cannot_complete" in result["reason"]


async def test_stale_status_is_rejected_with_the_current_one(
    town: Town, tablet: Tablet, number: str
) -> None:
    await office_status(town, number, S.ON_HOLD)
    tablet.queue("set_status", work_order=number, status="en_route", expected_status="assigned")
    [result] = await push(tablet)
    assert result["status"] == "rejected"
    assert "is on_hold, not assigned as you last saw it" in result["reason"]
    assert (await work_order_row(number))["status"] == "on_hold"


async def test_a_crew_may_not_cancel(tablet: Tablet, number: str) -> None:
    tablet.queue("set_status", work_order=number, status="cancelled", expected_status="assigned")
    [result] = await push(tablet)
    assert result["status"] == "rejected"
    assert "may not work_order cancel" in result["reason"]
    assert (await work_order_row(number))["status"] == "assigned"


async def test_work_the_crew_never_held_reads_as_not_found(town: Town, tablet: Tablet) -> None:
    """Out of reach answers like "no such work order" (api.access), whatever the mutation:
    a crew learns nothing about other crews' work by pushing at it."""
    theirs = (await make_work_order(town, crew_id=town.crew_b)).number
    missing = "WO-2020-999999"
    for work_order in (theirs, missing):
        tablet.queue(
            "set_status", work_order=work_order, status="en_route", expected_status="assigned"
        )
        tablet.queue("complete", work_order=work_order, resolution_code="repaired")
        tablet.queue("add_note", work_order=work_order, body="Hello")
        tablet.queue("add_gps_fix", work_order=work_order, lat=1.0, lng=2.0)
        tablet.queue("set_location", work_order=work_order, lat=1.0, lng=2.0)
        tablet.queue("attach_photo", work_order=work_order, sha256=SHA, kind="before")
    results = await push(tablet)
    assert [r["status"] for r in results] == ["rejected"] * 12
    reasons = [r["reason"].replace(theirs, "WO").replace(missing, "WO") for r in results]
    assert reasons[:6] == reasons[6:]
    assert all(reason == "work order WO not found" for reason in reasons), reasons
    row = await work_order_row(theirs)
    assert (row["status"], row["flagged_at"]) == ("assigned", None)
    assert await activities_of(theirs, "note") == []


async def test_device_clock_a_day_ahead(tablet: Tablet, number: str) -> None:
    ahead = datetime.now(UTC) + timedelta(days=1)
    tablet.queue("add_note", work_order=number, body="Tomorrow?", occurred_at=ahead.isoformat())
    tablet.queue(
        "complete", work_order=number, resolution_code="repaired", occurred_at=ahead.isoformat()
    )
    assert [r["status"] for r in await push(tablet)] == ["applied", "applied"]
    received_at = (await mutation_rows(tablet.device_id))[0]["received_at"]
    clock = {"device_time": ahead.isoformat(), "clock": "after receipt"}
    [note] = await activities_of(number, "note")
    assert note["occurred_at"] == received_at
    assert note["data"] == clock
    entries = await activities_of(number, "status_changed")
    assert [e["occurred_at"] for e in entries] == [received_at, received_at]
    assert all(clock.items() <= e["data"].items() for e in entries)
    assert (await work_order_row(number))["field_completed_at"] == received_at


async def test_device_clock_before_the_work_order_existed(tablet: Tablet, number: str) -> None:
    created_at = (await work_order_row(number))["created_at"]
    behind = created_at - timedelta(days=1)
    tablet.queue("add_note", work_order=number, body="Yesterday?", occurred_at=behind.isoformat())
    tablet.queue(
        "add_gps_fix", work_order=number, lat=35.0, lng=-78.0, occurred_at=behind.isoformat()
    )
    assert [r["status"] for r in await push(tablet)] == ["applied", "applied"]
    clock = {"device_time": behind.isoformat(), "clock": "before the work order existed"}
    [note] = await activities_of(number, "note")
    assert (note["occurred_at"], note["data"]) == (created_at, clock)
    [fix] = await activities_of(number, "gps_fix")
    assert fix["occurred_at"] == created_at
    assert clock.items() <= fix["data"].items()


async def test_a_plausible_device_time_is_kept(tablet: Tablet, number: str) -> None:
    then = await between_creation_and_now(number)
    tablet.queue("add_note", work_order=number, body="Just now", occurred_at=then.isoformat())
    await push(tablet)
    [note] = await activities_of(number, "note")
    assert (note["occurred_at"], note["data"]) == (then, {})


async def test_set_location_moves_the_work_not_the_case(
    town: Town, tablet: Tablet, number: str
) -> None:
    before = await work_order_row(number)
    tablet.queue("set_location", work_order=number, lat=35.8, lng=-78.79, note="Across the street")
    assert [r["status"] for r in await push(tablet)] == ["applied"]
    after = await work_order_row(number)
    assert after["place"] != before["place"]
    moved = await Place.select().where(Place.id == after["place"]).first()
    original = await Place.select().where(Place.id == before["place"]).first()
    assert (moved["lat"], moved["lng"]) == (35.8, -78.79)
    assert moved["normalized_address"] == original["normalized_address"]
    assert (original["lat"], original["lng"]) == (35.7915, -78.7811)
    case = await Case.select(Case.place).where(Case.id == before["case"]).first()
    assert case["place"] == before["place"]
    [entry] = await activities_of(number, "location_set")
    assert entry["body"] == "Across the street"
    assert entry["data"]["from"] == {"lat": 35.7915, "lng": -78.7811}


async def test_attach_photo_twice_is_one_photo(tablet: Tablet, number: str) -> None:
    tablet.queue("attach_photo", work_order=number, sha256=SHA, kind="before", client_id="p1")
    tablet.queue("attach_photo", work_order=number, sha256=SHA, kind="before", client_id="p1")
    assert [r["status"] for r in await push(tablet)] == ["applied", "applied"]
    rows = await Photo.select(Photo.sha256, Photo.status, Photo.kind)
    assert rows == [{"sha256": SHA, "status": "pending", "kind": "before"}]
    assert len(await activities_of(number, "photo")) == 1
    await tablet.sync()
    assert [p["sha256"] for p in tablet.pages[-1]["work_orders"][0]["photos"]] == [SHA]
