"""Push (sync/push.py): each mutation applied exactly once, in order, whatever the network does
(DESIGN §4.1 and its list of failure cases)."""

import asyncio

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.settings import Settings
from sync import mutators
from tests.factories import (
    Tablet,
    Town,
    activities_of,
    device_seq,
    make_tablet,
    make_work_order,
    mutation,
    mutation_rows,
    shared_app,
    work_order_row,
)


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


def answers(response: httpx.Response) -> list[tuple]:
    return [(r["seq"], r["status"], r["reason"], r["flagged"]) for r in response.json()["results"]]


async def test_response_lost_after_commit_is_applied_once(tablet: Tablet, number: str) -> None:
    tablet.queue("add_note", work_order=number, body="Cones out")
    tablet.queue("set_status", work_order=number, status="new", expected_status="assigned")
    tablet.queue("complete", work_order=number, resolution_code="repaired", note="Filled")

    first = await tablet.push()  # committed, but the tablet never hears back
    assert first.status_code == 200, first.text
    replay = await tablet.push()  # so it sends the same mutations again
    assert replay.status_code == 200, replay.text

    assert answers(replay) == answers(first)
    assert [r["replayed"] for r in first.json()["results"]] == [False, False, False]
    assert [r["replayed"] for r in replay.json()["results"]] == [True, True, True]
    assert [r["status"] for r in replay.json()["results"]] == ["applied", "rejected", "applied"]
    assert "cannot go from assigned to new" in replay.json()["results"][1]["reason"]
    assert replay.json()["last_mutation_seq"] == 3
    assert [a["body"] for a in await activities_of(number, "note")] == ["Cones out", "Filled"]
    changes = [
        (a["data"]["from"], a["data"]["to"]) for a in await activities_of(number, "status_changed")
    ]
    assert changes == [("assigned", "on_site"), ("on_site", "completed")]
    assert len(await mutation_rows(tablet.device_id)) == 3


async def test_a_mutation_that_always_fails_does_not_block_the_queue(
    tablet: Tablet, number: str
) -> None:
    tablet.queue("set_status", work_order=number, status="new", expected_status="assigned")
    tablet.queue("record_voice_memo", work_order=number, seconds=12)  # from a newer app
    tablet.queue("add_note", work_order=number)  # malformed: no body
    tablet.queue("add_note", work_order=number, body=["not", "text"])
    tablet.queue("add_note", work_order="WO-2099-999999", body="Nobody's work")
    tablet.queue("set_status", work_order=number, status="en_route", expected_status="assigned")
    tablet.queue("add_note", work_order=number, body="On our way")

    response = await tablet.push()
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 5 + ["applied"] * 2
    assert "cannot go from assigned to new" in results[0]["reason"]
    assert "unknown mutation 'record_voice_memo'" in results[1]["reason"]
    assert "bad arguments for add_note" in results[2]["reason"]
    assert "body" in results[2]["reason"]
    assert "bad arguments for add_note" in results[3]["reason"]
    assert "not found" in results[4]["reason"]
    assert [r["work_order"] for r in results] == [number] * 4 + ["WO-2099-999999", number, number]
    assert response.json()["last_mutation_seq"] == 7
    assert await device_seq(tablet.device_id) == 7

    rows = await mutation_rows(tablet.device_id)
    assert [(r["seq"], r["status"]) for r in rows] == [
        (i + 1, r["status"]) for i, r in enumerate(results)
    ]
    assert all(r["result"]["reason"] for r in rows if r["status"] == "rejected")
    assert (await work_order_row(number))["status"] == "en_route"
    assert [a["body"] for a in await activities_of(number, "note")] == ["On our way"]


async def test_a_rejection_undoes_its_partial_work(tablet: Tablet, number: str) -> None:
    """`complete` walks assigned → on_site → completed; a bad resolution code fails the second
    step, and the first must not stay behind."""
    tablet.queue("complete", work_order=number, resolution_code="fixed-ish")
    response = await tablet.push()
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    assert "'fixed-ish' is not a resolution code" in result["reason"]
    assert (await work_order_row(number))["status"] == "assigned"
    assert await activities_of(number, "status_changed") == []
    assert await device_seq(tablet.device_id) == 1


async def test_sequence_gap(tablet: Tablet, number: str) -> None:
    one = mutation(1, "add_note", work_order=number, body="First")
    two = mutation(2, "add_note", work_order=number, body="Second")
    three = mutation(3, "add_note", work_order=number, body="Third")
    four = mutation(4, "add_note", work_order=number, body="Fourth")

    response = await tablet.push([one, two, four])
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["field"] == "seq"
    assert body["extra"]["expected_seq"] == 3
    assert [(r["seq"], r["status"]) for r in body["extra"]["results"]] == [
        (1, "applied"),
        (2, "applied"),
    ]
    assert await device_seq(tablet.device_id) == 2
    assert [a["body"] for a in await activities_of(number, "note")] == ["First", "Second"]

    response = await tablet.push([one, two, three, four])  # the tablet resends from 1
    assert response.status_code == 200, response.text
    assert [r["replayed"] for r in response.json()["results"]] == [True, True, False, False]
    assert [a["body"] for a in await activities_of(number, "note")] == [
        "First",
        "Second",
        "Third",
        "Fourth",
    ]


async def test_a_gap_before_anything_was_applied(tablet: Tablet, number: str) -> None:
    response = await tablet.push([mutation(2, "add_note", work_order=number, body="Lost one")])
    assert response.status_code == 409
    assert response.json()["extra"] == {"expected_seq": 1, "results": []}
    assert await mutation_rows(tablet.device_id) == []


async def test_a_reused_number_is_refused(tablet: Tablet, number: str) -> None:
    original = mutation(1, "add_note", work_order=number, body="Original")
    first = await tablet.push([original])
    assert first.status_code == 200
    impostor = mutation(1, "add_note", work_order=number, body="Impostor")
    later = mutation(2, "add_note", work_order=number, body="Later")

    response = await tablet.push([later, impostor])
    assert response.status_code == 409, response.text
    assert response.json()["field"] == "seq"
    assert "already used" in response.json()["detail"]
    # the mutation before it in the same request was applied, and the answer says so
    assert [(r["seq"], r["status"]) for r in response.json()["extra"]["results"]] == [
        (2, "applied")
    ]
    rows = await mutation_rows(tablet.device_id)
    assert [(r["seq"], r["mutation_id"]) for r in rows] == [(1, original["id"]), (2, later["id"])]
    assert [a["body"] for a in await activities_of(number, "note")] == ["Original", "Later"]


async def test_a_reused_mutation_id_is_refused(tablet: Tablet, number: str) -> None:
    original = mutation(1, "add_note", work_order=number, body="Original")
    assert (await tablet.push([original])).status_code == 200
    renumbered = original | {"seq": 2}

    response = await tablet.push([renumbered])
    assert response.status_code == 409, response.text
    assert response.json()["field"] == "id"
    assert await device_seq(tablet.device_id) == 1
    assert [a["body"] for a in await activities_of(number, "note")] == ["Original"]


async def test_the_same_id_from_another_device_is_refused(
    client: httpx.AsyncClient, town: Town, tablet: Tablet, number: str
) -> None:
    original = mutation(1, "add_note", work_order=number, body="Original")
    assert (await tablet.push([original])).status_code == 200
    other = await make_tablet(client, town, "crew_a")
    response = await other.push([original])
    assert response.status_code == 409
    assert response.json()["field"] == "id"
    assert await device_seq(other.device_id) == 0


async def test_concurrent_pushes_of_one_batch(tablet: Tablet, number: str) -> None:
    """Two tabs (or a retry racing the original) push the same batch at once."""
    tablet.queue("add_note", work_order=number, body="Arrived")
    tablet.queue("set_status", work_order=number, status="on_site", expected_status="assigned")
    tablet.queue("add_note", work_order=number, body="Started")
    tablet.queue("add_gps_fix", work_order=number, lat=35.79, lng=-78.78)

    responses = await asyncio.gather(tablet.push(), tablet.push(), tablet.push())
    assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
    for seq in range(1, 5):
        answers_for_seq = [r.json()["results"][seq - 1] for r in responses]
        assert {a["status"] for a in answers_for_seq} == {"applied"}
        assert sorted(a["replayed"] for a in answers_for_seq) == [False, True, True]
    assert [a["body"] for a in await activities_of(number, "note")] == ["Arrived", "Started"]
    assert len(await activities_of(number, "status_changed")) == 1
    assert len(await activities_of(number, "gps_fix")) == 1
    assert len(await mutation_rows(tablet.device_id)) == 4


async def _crash(ctx: mutators.Context, args: object) -> mutators.Outcome:
    raise RuntimeError("the server process died here")


async def test_server_killed_mid_batch(
    tablet: Tablet, number: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tablet.queue("add_note", work_order=number, body="Before the crash")
    tablet.queue("set_status", work_order=number, status="en_route", expected_status="assigned")
    tablet.queue("add_note", work_order=number, body="After the crash")
    batch = [dict(m) for m in tablet.outbox]

    with monkeypatch.context() as patch:
        patch.setitem(mutators.MUTATORS, "set_status", (mutators.SetStatusArgs, _crash))
        response = await tablet.push()
    assert response.status_code == 500
    assert "internal error" in response.json()["detail"]
    assert await device_seq(tablet.device_id) == 1
    assert [r["seq"] for r in await mutation_rows(tablet.device_id)] == [1]
    assert [a["body"] for a in await activities_of(number, "note")] == ["Before the crash"]
    assert (await work_order_row(number))["status"] == "assigned"

    assert tablet.outbox == batch  # nothing renumbered; the same batch goes again
    response = await tablet.push()
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["status"], r["replayed"]) for r in results] == [
        ("applied", True),
        ("applied", False),
        ("applied", False),
    ]
    assert [a["body"] for a in await activities_of(number, "note")] == [
        "Before the crash",
        "After the crash",
    ]
    assert (await work_order_row(number))["status"] == "en_route"
    assert len(await activities_of(number, "status_changed")) == 1


async def test_5xx_then_recovery_without_a_new_write(
    tablet: Tablet, number: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tablet.queue("add_note", work_order=number, body="Pothole filled")
    tablet.queue("complete", work_order=number, resolution_code="repaired")
    with monkeypatch.context() as patch:
        patch.setitem(mutators.MUTATORS, "add_note", (mutators.AddNoteArgs, _crash))
        for _ in range(2):  # the tablet retries on a timer while the server is broken
            response = await tablet.push()
            assert response.status_code == 500
    assert await mutation_rows(tablet.device_id) == []
    assert await device_seq(tablet.device_id) == 0

    response = await tablet.push()  # the same outbox, after the fix is deployed
    assert response.status_code == 200, response.text
    assert [(r["status"], r["replayed"]) for r in response.json()["results"]] == [
        ("applied", False),
        ("applied", False),
    ]
    assert [a["body"] for a in await activities_of(number, "note")] == ["Pothole filled"]
    assert (await work_order_row(number))["status"] == "completed"


async def test_a_revoked_tablet_is_refused(
    client: httpx.AsyncClient, town: Town, tablet: Tablet, number: str
) -> None:
    tablet.queue("add_note", work_order=number, body="Too late")
    response = await client.post(
        f"/api/sync/devices/{tablet.device_id}/revoke",
        json={"reason": "stolen from truck 7"},
        headers=town.headers("supervisor"),
    )
    assert response.status_code == 200
    response = await tablet.push()
    assert response.status_code == 403
    assert "revoked" in response.json()["detail"]
    assert "stolen from truck 7" in response.json()["detail"]
    assert await activities_of(number, "note") == []
    assert await mutation_rows(tablet.device_id) == []


async def test_another_users_tablet_is_not_found(
    client: httpx.AsyncClient, town: Town, number: str
) -> None:
    theirs = await make_tablet(client, town, "crew_b")
    theirs.headers = town.headers("crew_a")
    theirs.queue("add_note", work_order=number, body="Borrowed tablet")
    response = await theirs.push()
    assert response.status_code == 404
    assert response.json()["field"] == "device_id"
    assert await activities_of(number, "note") == []


async def test_mutations_from_an_older_app_version(tablet: Tablet, number: str) -> None:
    """Version 0.9 called it `note` and sent `text`; both are refused, the queue moves on."""
    tablet.queue("note", work_order=number, text="Old name")
    tablet.queue("add_note", work_order=number, body="Old argument", urgent=True)
    tablet.queue("add_note", work_order=number, body="Current")
    response = await tablet.push()
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "unknown mutation 'note'" in results[0]["reason"]
    assert "add_note" in results[0]["reason"]  # names what this server knows
    assert "urgent" in results[1]["reason"]
    assert response.json()["last_mutation_seq"] == 3
    assert [a["body"] for a in await activities_of(number, "note")] == ["Current"]


async def test_names_the_record_cannot_hold_are_rejected_not_500(
    tablet: Tablet, number: str
) -> None:
    """A NUL (which PostgreSQL refuses in text) or a name longer than the record's column is
    rejected on its own, with the name in the reason; it never fails the whole request."""
    long_name = "attach_photo_with_annotations_and_sketches"
    tablet.queue("add\x00note", work_order=number, body="Hello")
    tablet.queue(long_name, work_order=number, sha256="0" * 64)
    tablet.queue("add_note", work_order=number, body="Still here")
    response = await tablet.push()
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "unknown mutation 'add\\x00note'" in results[0]["reason"]
    assert f"unknown mutation {long_name!r}" in results[1]["reason"]
    rows = await mutation_rows(tablet.device_id)
    assert [r["name"] for r in rows] == ["add\ufffdnote", long_name[:32], "add_note"]
    replay = await tablet.push()  # and the replay answers from the record
    assert [r["reason"] for r in replay.json()["results"]] == [r["reason"] for r in results]


async def test_an_absurd_mutation_name_is_a_400(tablet: Tablet, number: str) -> None:
    tablet.queue("x" * 201, work_order=number)
    response = await tablet.push()
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "mutations.0.name"


async def test_odd_arguments_are_rejected_not_500(tablet: Tablet, number: str) -> None:
    """Whatever a broken client puts in `args` is stored with the rejection (PostgreSQL too)."""
    tablet.queue("add_note", work_order=number, body="nul\x00inside")
    tablet.queue("add_note", work_order=number, body="Hi", **{"odd\x00key": "\x00"})
    tablet.queue("add_note", work_order=number, body="Hi", occurred_at="2026-01-01T10:00:00")
    tablet.queue("add_note", work_order=number, body="Hi", occurred_at="0001-01-01T00:00:00+05:00")
    tablet.queue("add_note", work_order="x" * 5000, body="Hi")
    response = await tablet.push()
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3 + ["applied", "rejected"]
    assert "time zone" in results[2]["reason"]
    rows = await mutation_rows(tablet.device_id)
    assert rows[1]["args"]["odd\x00key"] == "\x00"
