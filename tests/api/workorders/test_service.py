"""api/workorders/service.py: the state machine, dispatch, notes, field times, case status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.activities.schemas import ActivityKind, NoteCreate
from api.activities.tables import Activity
from api.cases import service as cases
from api.cases.schemas import CaseStatus
from api.errors import (
    ConflictError,
    InputInvalidError,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)
from api.settings import Settings
from api.workorders import service
from api.workorders.schemas import (
    TRANSITIONS,
    StatusChange,
    WorkOrderCreate,
    WorkOrderOut,
    WorkOrderStatus,
)
from api.workorders.tables import WorkOrder
from tests.factories import (
    Town,
    deactivate_crew,
    make_case,
    make_work_order,
    set_work_order_status,
    shared_app,
)

S = WorkOrderStatus
FIELD = ("crew_a", "supervisor", "admin")  # progress in the field
CANCEL = ("advocate", "supervisor", "admin")  # an office decision
SUPERVISE = ("supervisor", "admin")  # dispatch and reopen
STAFF = ("advocate", "crew_a", "supervisor", "admin")

# Who may make each move (DESIGN §3, docs/domain.md). Must list exactly TRANSITIONS.
WHO: dict[tuple[WorkOrderStatus, WorkOrderStatus], tuple[str, ...]] = {
    (S.NEW, S.ASSIGNED): SUPERVISE,
    (S.NEW, S.ON_HOLD): FIELD,
    (S.NEW, S.CANCELLED): CANCEL,
    (S.ASSIGNED, S.EN_ROUTE): FIELD,
    (S.ASSIGNED, S.ON_SITE): FIELD,
    (S.ASSIGNED, S.ON_HOLD): FIELD,
    (S.ASSIGNED, S.CANCELLED): CANCEL,
    (S.EN_ROUTE, S.ON_SITE): FIELD,
    (S.EN_ROUTE, S.ON_HOLD): FIELD,
    (S.EN_ROUTE, S.CANNOT_COMPLETE): FIELD,
    (S.EN_ROUTE, S.CANCELLED): CANCEL,
    (S.ON_SITE, S.COMPLETED): FIELD,
    (S.ON_SITE, S.CANNOT_COMPLETE): FIELD,
    (S.ON_SITE, S.ON_HOLD): FIELD,
    (S.ON_SITE, S.CANCELLED): CANCEL,
    (S.ON_HOLD, S.NEW): FIELD,
    (S.ON_HOLD, S.ASSIGNED): FIELD,
    (S.ON_HOLD, S.EN_ROUTE): FIELD,
    (S.ON_HOLD, S.ON_SITE): FIELD,
    (S.ON_HOLD, S.CANCELLED): CANCEL,
    (S.REOPENED, S.ASSIGNED): SUPERVISE,
    (S.REOPENED, S.CANCELLED): CANCEL,
    (S.COMPLETED, S.REOPENED): SUPERVISE,
    (S.CANNOT_COMPLETE, S.REOPENED): SUPERVISE,
    (S.CANCELLED, S.REOPENED): SUPERVISE,
}
CODE_FOR = {S.COMPLETED: "repaired", S.CANNOT_COMPLETE: "no_access"}


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


def change(target: WorkOrderStatus, **kwargs: object) -> StatusChange:
    return StatusChange(status=target, resolution_code=CODE_FOR.get(target), **kwargs)


async def dispatched(town: Town, status: WorkOrderStatus = S.ASSIGNED) -> WorkOrderOut:
    """A pothole work order of crew_a, put straight into `status`."""
    work_order = await make_work_order(town, crew_id=town.crew_a)
    if status is not S.ASSIGNED:
        await set_work_order_status(work_order.number, status, resolution_code=CODE_FOR.get(status))
    return work_order


async def status_of(number: str) -> WorkOrderStatus:
    row = await WorkOrder.select(WorkOrder.status).where(WorkOrder.number == number).first()
    return S(row["status"])


async def status_entries(number: str) -> list[dict]:
    row = await WorkOrder.select(WorkOrder.id).where(WorkOrder.number == number).first()
    return await (
        Activity.select(Activity.data, Activity.body, Activity.occurred_at)
        .where(
            (Activity.work_order == row["id"])
            & (Activity.kind == ActivityKind.STATUS_CHANGED.value)
        )
        .output(load_json=True)
        .order_by(Activity.id)
    )


def test_the_who_table_is_the_state_machine() -> None:
    assert set(WHO) == {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("current", list(S))
async def test_every_listed_transition_is_allowed_for_the_right_roles_only(
    town: Town, current: WorkOrderStatus
) -> None:
    work_order = await dispatched(town, current)
    number = work_order.number
    for target in sorted(TRANSITIONS[current], key=list(S).index):
        allowed = WHO[(current, target)]
        for name in STAFF:
            if name in allowed:
                continue
            with pytest.raises(PermissionDeniedError):
                await service.change_status(town.users[name], number, change(target))
            assert await status_of(number) is current
        with pytest.raises(NotFoundError):  # another crew's work is out of reach
            await service.change_status(town.users["crew_b"], number, change(target))
        for name in allowed:
            await set_work_order_status(number, current, resolution_code=CODE_FOR.get(current))
            before = len(await status_entries(number))
            result = await service.change_status(town.users[name], number, change(target))
            assert result.status is target, (current, target, name)
            assert await status_of(number) is target
            entries = await status_entries(number)
            assert len(entries) == before + 1
            assert entries[-1]["data"]["from"] == current.value
            assert entries[-1]["data"]["to"] == target.value
        await set_work_order_status(number, current, resolution_code=CODE_FOR.get(current))


@pytest.mark.parametrize("current", list(S))
async def test_every_unlisted_transition_is_refused_naming_both_states(
    town: Town, current: WorkOrderStatus
) -> None:
    work_order = await dispatched(town, current)
    allowed = sorted(TRANSITIONS[current], key=list(S).index)
    entries = await Activity.count()
    for target in S:
        if target in TRANSITIONS[current]:
            continue
        with pytest.raises(TransitionNotAllowedError) as refused:
            await service.change_status(town.users["admin"], work_order.number, change(target))
        error = refused.value
        assert error.status_code == 409
        assert f"from {current.value} to {target.value}" in error.detail
        assert error.field == "status"
        assert error.extra == {"current": current.value, "allowed": [s.value for s in allowed]}
        assert await status_of(work_order.number) is current
    assert await Activity.count() == entries


async def test_a_crew_cannot_skip_to_completed(town: Town) -> None:
    work_order = await dispatched(town)
    with pytest.raises(TransitionNotAllowedError, match="from assigned to completed"):
        await service.change_status(town.users["crew_a"], work_order.number, change(S.COMPLETED))


async def test_allowed_transitions_are_what_this_user_may_do_now(town: Town) -> None:
    work_order = await dispatched(town)
    by = {
        name: (await service.get_work_order(town.users[name], work_order.number))
        for name in ("advocate", "crew_a", "supervisor")
    }
    assert by["crew_a"].allowed_transitions == [S.EN_ROUTE, S.ON_SITE, S.ON_HOLD]
    assert by["advocate"].allowed_transitions == [S.CANCELLED]
    assert by["supervisor"].allowed_transitions == [S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, S.CANCELLED]
    unassigned = await make_work_order(town)
    assert unassigned.allowed_transitions == [S.ON_HOLD, S.CANCELLED]  # assign a crew instead


async def test_moving_to_assigned_without_a_crew_is_refused(town: Town) -> None:
    work_order = await make_work_order(town)
    with pytest.raises(TransitionNotAllowedError, match="has no crew"):
        await service.change_status(town.supervisor, work_order.number, change(S.ASSIGNED))
    assert await status_of(work_order.number) is S.NEW


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        (S.COMPLETED, None, "completed needs a resolution_code"),
        (S.CANNOT_COMPLETE, None, "cannot_complete needs a resolution_code"),
        (S.COMPLETED, "no_access", "not a resolution code for completed"),
        (S.CANNOT_COMPLETE, "repaired", "not a resolution code for cannot_complete"),
        (S.COMPLETED, "made_up", "not a resolution code for completed"),
        (S.ON_HOLD, "repaired", "only goes with completed or cannot_complete"),
    ],
)
async def test_resolution_code_is_required_and_checked(
    town: Town, target: WorkOrderStatus, code: str | None, message: str
) -> None:
    work_order = await dispatched(town, S.ON_SITE)
    entries = await Activity.count()
    with pytest.raises(InputInvalidError, match=message) as refused:
        await service.change_status(
            town.users["crew_a"],
            work_order.number,
            StatusChange(status=target, resolution_code=code),
        )
    assert refused.value.field == "resolution_code"
    assert await status_of(work_order.number) is S.ON_SITE
    assert await Activity.count() == entries


async def test_completion_records_who_when_and_why(town: Town) -> None:
    work_order = await dispatched(town, S.ON_SITE)
    crew = town.users["crew_a"]
    in_the_field = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    before = datetime.now(UTC)
    result = await service.change_status(
        crew,
        work_order.number,
        StatusChange(
            status=S.COMPLETED,
            resolution_code="temporary_fix",
            note="Cold patch; needs hot mix",
            occurred_at=in_the_field,
        ),
    )
    assert result.status is S.COMPLETED
    assert result.resolution_code == "temporary_fix"
    assert result.field_completed_at == in_the_field
    assert result.completed_at is not None and result.completed_at >= before
    row = await WorkOrder.select(WorkOrder.completed_by).where(
        WorkOrder.number == work_order.number
    )
    assert row[0]["completed_by"] == crew.id
    status_entry, note = [e for e in result.timeline if e.kind.value in ("status_changed", "note")]
    assert status_entry.kind is ActivityKind.STATUS_CHANGED
    assert status_entry.body == "Work completed: Temporary fix made"
    assert status_entry.data["resolution_code"] == "temporary_fix"
    assert status_entry.occurred_at == in_the_field  # the field clock is kept...
    assert status_entry.recorded_at >= before  # ...beside the server's
    assert status_entry.public
    assert (note.kind, note.body, note.occurred_at) == (
        ActivityKind.NOTE,
        "Cold patch; needs hot mix",
        in_the_field,
    )


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        (datetime.now(UTC) + timedelta(hours=1), "in the future"),
        (datetime(2026, 1, 1, 12, 0), "needs a time zone"),
        (datetime(1, 1, 1, tzinfo=UTC) + timedelta(hours=1), None),  # fine: long ago, in UTC
    ],
)
async def test_field_time_must_be_aware_and_not_in_the_future(
    town: Town, occurred_at: datetime, message: str | None
) -> None:
    work_order = await dispatched(town)
    request = StatusChange(status=S.EN_ROUTE, occurred_at=occurred_at)
    if message is None:
        result = await service.change_status(town.users["crew_a"], work_order.number, request)
        entries = [e for e in result.timeline if e.kind is ActivityKind.STATUS_CHANGED]
        assert [e.occurred_at for e in entries] == [occurred_at]
        assert result.timeline[0] == entries[0]  # the timeline runs by field time
        return
    with pytest.raises(InputInvalidError, match=message) as refused:
        await service.change_status(town.users["crew_a"], work_order.number, request)
    assert refused.value.field == "occurred_at"
    assert await status_of(work_order.number) is S.ASSIGNED


async def test_a_field_clock_a_little_ahead_is_accepted(town: Town) -> None:
    work_order = await dispatched(town)
    ahead = datetime.now(UTC) + timedelta(minutes=2)
    result = await service.change_status(
        town.users["crew_a"], work_order.number, StatusChange(status=S.EN_ROUTE, occurred_at=ahead)
    )
    assert result.timeline[-1].occurred_at == ahead


async def test_a_field_time_before_year_one_in_utc_is_refused_not_a_crash(town: Town) -> None:
    work_order = await dispatched(town)
    too_early = datetime.fromisoformat("0001-01-01T00:00:00+05:00")
    with pytest.raises(InputInvalidError, match="out of range"):
        await service.change_status(
            town.users["crew_a"],
            work_order.number,
            StatusChange(status=S.EN_ROUTE, occurred_at=too_early),
        )
    with pytest.raises(InputInvalidError, match="out of range"):
        await service.add_note(
            town.users["crew_a"], work_order.number, NoteCreate(body="x", occurred_at=too_early)
        )


async def test_expected_status_mismatch_is_a_conflict(town: Town) -> None:
    work_order = await dispatched(town, S.EN_ROUTE)
    with pytest.raises(ConflictError) as refused:
        await service.change_status(
            town.users["crew_a"],
            work_order.number,
            StatusChange(status=S.ON_SITE, expected_status=S.ASSIGNED),
        )
    assert not isinstance(refused.value, TransitionNotAllowedError)
    assert refused.value.field == "expected_status"
    assert refused.value.extra == {"current": "en_route"}
    assert "en_route" in refused.value.detail and "assigned" in refused.value.detail
    assert await status_of(work_order.number) is S.EN_ROUTE
    result = await service.change_status(
        town.users["crew_a"],
        work_order.number,
        StatusChange(status=S.ON_SITE, expected_status=S.EN_ROUTE),
    )
    assert result.status is S.ON_SITE


async def test_reopen_clears_completion(town: Town) -> None:
    work_order = await dispatched(town, S.ON_SITE)
    await service.change_status(town.users["crew_a"], work_order.number, change(S.COMPLETED))
    result = await service.change_status(town.supervisor, work_order.number, change(S.REOPENED))
    assert result.status is S.REOPENED
    assert (result.resolution_code, result.completed_at, result.field_completed_at) == (
        None,
        None,
        None,
    )
    row = await WorkOrder.select(WorkOrder.completed_by).where(
        WorkOrder.number == work_order.number
    )
    assert row[0]["completed_by"] is None
    assert result.crew is not None and result.crew.id == town.crew_a  # kept for reassigning


async def test_notes_append_in_order(town: Town) -> None:
    work_order = await dispatched(town)
    crew = town.users["crew_a"]
    earlier = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    await service.add_note(crew, work_order.number, NoteCreate(body="  Gate locked  "))
    result = await service.add_note(
        town.advocate, work_order.number, NoteCreate(body="Key at the office", public=True)
    )
    notes = [e for e in result.timeline if e.kind is ActivityKind.NOTE]
    assert [(n.body, n.public, n.actor) for n in notes] == [
        ("Gate locked", False, "Crew_A"),
        ("Key at the office", True, "Advocate"),
    ]
    result = await service.add_note(
        crew, work_order.number, NoteCreate(body="Written offline", occurred_at=earlier)
    )
    offline = next(e for e in result.timeline if e.body == "Written offline")
    assert offline.occurred_at == earlier
    assert result.status is S.ASSIGNED  # a note never moves the work order
    for blank in ("", "   \n"):
        with pytest.raises(InputInvalidError) as refused:
            await service.add_note(crew, work_order.number, NoteCreate(body=blank))
        assert refused.value.field == "body"
    with pytest.raises(NotFoundError):
        await service.add_note(town.users["crew_b"], work_order.number, NoteCreate(body="Hi"))


async def test_assign_dispatches_new_work(town: Town) -> None:
    work_order = await make_work_order(town)
    assert (work_order.status, work_order.crew) == (S.NEW, None)
    result = await service.assign(town.supervisor, work_order.number, town.crew_a)
    assert result.status is S.ASSIGNED
    assert result.crew is not None and result.crew.id == town.crew_a
    entry = result.timeline[-1]
    assert (entry.kind, entry.body) == (ActivityKind.ASSIGNED, "Assigned to Streets A")
    assert entry.data == {"crew_id": town.crew_a, "from_crew_id": None}
    assert (await service.get_work_order(town.users["crew_a"], work_order.number)).number


async def test_reassigning_restarts_at_assigned_and_moves_reach(town: Town) -> None:
    work_order = await dispatched(town, S.EN_ROUTE)
    result = await service.assign(town.supervisor, work_order.number, town.crew_b)
    assert result.status is S.ASSIGNED
    assert result.crew is not None and result.crew.name == "Streets B"
    entry = result.timeline[-1]
    assert entry.body == "Reassigned from Streets A to Streets B"
    assert entry.data == {"crew_id": town.crew_b, "from_crew_id": town.crew_a}
    with pytest.raises(NotFoundError):
        await service.get_work_order(town.users["crew_a"], work_order.number)
    assert (await service.get_work_order(town.users["crew_b"], work_order.number)).crew


async def test_assigning_the_same_crew_again_records_nothing(town: Town) -> None:
    work_order = await dispatched(town, S.EN_ROUTE)
    row = await WorkOrder.select(WorkOrder.updated_at).where(WorkOrder.number == work_order.number)
    entries = await Activity.count()
    result = await service.assign(town.supervisor, work_order.number, town.crew_a)
    assert result.status is S.EN_ROUTE  # the crew keeps going
    assert await Activity.count() == entries
    assert result.updated_at == row[0]["updated_at"]


async def test_assigning_a_crew_moves_new_work_to_assigned_even_if_it_was_theirs(
    town: Town,
) -> None:
    """Work put back in the queue (on_hold → new) keeps its crew; dispatching it to that crew
    again must still move it to assigned (docs/domain.md: assigning moves new to assigned)."""
    work_order = await dispatched(town, S.ON_HOLD)
    await service.change_status(town.supervisor, work_order.number, change(S.NEW))
    result = await service.assign(town.supervisor, work_order.number, town.crew_a)
    assert result.status is S.ASSIGNED
    assert result.timeline[-1].body == "Assigned to Streets A"


async def test_reopened_work_goes_back_to_its_crew(town: Town) -> None:
    work_order = await dispatched(town, S.COMPLETED)
    await service.change_status(town.supervisor, work_order.number, change(S.REOPENED))
    result = await service.assign(town.supervisor, work_order.number, town.crew_a)
    assert result.status is S.ASSIGNED
    assert result.timeline[-1].body == "Assigned to Streets A"


@pytest.mark.parametrize("final", [S.COMPLETED, S.CANNOT_COMPLETE, S.CANCELLED])
async def test_final_work_cannot_be_assigned(town: Town, final: WorkOrderStatus) -> None:
    work_order = await dispatched(town, final)
    with pytest.raises(TransitionNotAllowedError, match="reopen it before assigning"):
        await service.assign(town.supervisor, work_order.number, town.crew_b)
    row = await WorkOrder.select(WorkOrder.status, WorkOrder.crew).where(
        WorkOrder.number == work_order.number
    )
    assert row == [{"status": final.value, "crew": town.crew_a}]


async def test_assign_refuses_other_roles_and_unknown_or_inactive_crews(town: Town) -> None:
    work_order = await dispatched(town)
    number = work_order.number
    for name in ("advocate", "crew_a"):
        with pytest.raises(PermissionDeniedError):
            await service.assign(town.users[name], number, town.crew_b)
    with pytest.raises(NotFoundError):
        await service.assign(town.users["crew_b"], number, town.crew_b)
    with pytest.raises(InputInvalidError) as refused:
        await service.assign(town.supervisor, number, 9999)
    assert refused.value.field == "crew_id"
    await deactivate_crew(town.crew_b)
    with pytest.raises(InputInvalidError):
        await service.assign(town.supervisor, number, town.crew_b)
    assert (await service.get_work_order(town.supervisor, number)).crew.id == town.crew_a


async def test_work_can_be_taken_from_a_disbanded_crew(town: Town) -> None:
    work_order = await dispatched(town, S.EN_ROUTE)
    await deactivate_crew(town.crew_a)
    result = await service.assign(town.supervisor, work_order.number, town.crew_b)
    assert result.crew is not None and result.crew.id == town.crew_b
    assert result.timeline[-1].body == "Reassigned from Streets A to Streets B"


async def test_create_work_order(town: Town) -> None:
    case = await make_case(town)
    start = datetime.now(UTC)
    work_order = await service.create_work_order(
        town.advocate, case.public_id, WorkOrderCreate(instructions="  Bring cones  ")
    )
    assert work_order.status is S.NEW and work_order.crew is None
    assert work_order.instructions == "Bring cones"
    assert work_order.due_at is not None
    assert (
        start + timedelta(hours=72) <= work_order.due_at <= datetime.now(UTC) + timedelta(hours=72)
    )
    assert work_order.place is not None and work_order.place.address == "12 Main St"
    assert work_order.timeline[0].kind is ActivityKind.WORK_ORDER_CREATED
    with pytest.raises(PermissionDeniedError):  # dispatching is a supervisor's decision
        await service.create_work_order(
            town.advocate, case.public_id, WorkOrderCreate(crew_id=town.crew_a)
        )
    with pytest.raises(PermissionDeniedError):
        await service.create_work_order(town.users["crew_a"], case.public_id, WorkOrderCreate())
    with pytest.raises(NotFoundError):
        await service.create_work_order(town.advocate, "2026-999999", WorkOrderCreate())
    dispatched_now = await service.create_work_order(
        town.supervisor, case.public_id, WorkOrderCreate(crew_id=town.crew_b)
    )
    assert dispatched_now.status is S.ASSIGNED
    assert dispatched_now.timeline[-1].body == "Assigned to Streets B"
    assert work_order.number != dispatched_now.number


@pytest.mark.parametrize(
    ("due_at", "message"),
    [
        (datetime(2030, 1, 1, 12, 0), "needs a time zone"),
        (datetime.fromisoformat("9999-12-31T23:00:00-05:00"), "out of range"),
    ],
)
async def test_due_time_must_be_a_real_instant(town: Town, due_at: datetime, message: str) -> None:
    case = await make_case(town)
    with pytest.raises(InputInvalidError, match=message) as refused:
        await service.create_work_order(
            town.advocate, case.public_id, WorkOrderCreate(due_at=due_at)
        )
    assert refused.value.field == "due_at"


async def test_due_time_with_an_offset_is_kept_as_the_same_instant(town: Town) -> None:
    case = await make_case(town)
    due_at = datetime.fromisoformat("2030-06-01T08:00:00-04:00")
    work_order = await service.create_work_order(
        town.advocate, case.public_id, WorkOrderCreate(due_at=due_at)
    )
    assert work_order.due_at == due_at


async def _case_status(public_id: str) -> tuple[CaseStatus, str | None, bool]:
    row = await cases.case_row(public_id)
    return CaseStatus(row["status"]), row["resolution"], row["resolved_at"] is not None


async def test_case_status_follows_its_work_orders(town: Town) -> None:
    crew, supervisor, advocate = town.users["crew_a"], town.supervisor, town.advocate
    case = await make_case(town)
    assert await _case_status(case.public_id) == (CaseStatus.OPEN, None, False)
    first = await make_work_order(town, case, crew_id=town.crew_a)
    second = await make_work_order(town, case)
    assert await _case_status(case.public_id) == (CaseStatus.IN_PROGRESS, None, False)

    await set_work_order_status(first.number, S.ON_SITE)
    await service.change_status(crew, first.number, change(S.COMPLETED))
    # one done, one still open: in progress
    assert await _case_status(case.public_id) == (CaseStatus.IN_PROGRESS, None, False)

    await service.change_status(advocate, second.number, change(S.CANCELLED))
    # all final, one completed: resolved
    assert await _case_status(case.public_id) == (
        CaseStatus.RESOLVED,
        "Field work completed",
        True,
    )

    third = await make_work_order(town, case)  # more work on a resolved case
    assert await _case_status(case.public_id) == (CaseStatus.IN_PROGRESS, None, False)
    await service.change_status(advocate, third.number, change(S.CANCELLED))
    assert (await _case_status(case.public_id))[0] is CaseStatus.RESOLVED

    await service.change_status(supervisor, first.number, change(S.REOPENED))
    assert (await _case_status(case.public_id))[0] is CaseStatus.IN_PROGRESS
    await service.change_status(advocate, first.number, change(S.CANCELLED))
    # all final, none completed: back to open for an advocate to follow up
    assert await _case_status(case.public_id) == (CaseStatus.OPEN, None, False)

    moves = [
        (e.data["from"], e.data["to"])
        for e in (await cases.get_case(advocate, case.public_id)).timeline
        if e.kind is ActivityKind.CASE_STATUS
    ]
    assert moves == [
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "in_progress"),
        ("in_progress", "open"),
    ]


async def test_cannot_complete_alone_leaves_the_case_open(town: Town) -> None:
    work_order = await dispatched(town, S.EN_ROUTE)
    await service.change_status(town.users["crew_a"], work_order.number, change(S.CANNOT_COMPLETE))
    assert await _case_status(work_order.case.public_id) == (CaseStatus.OPEN, None, False)


@pytest.mark.parametrize("expected_status", [None, S.ON_SITE])
async def test_concurrent_status_changes_one_wins(
    town: Town, expected_status: WorkOrderStatus | None
) -> None:
    """Two people finish the same job at once from on_site; whichever commits second finds it
    final (or not as it last saw it) and gets 409, on both engines."""
    for _ in range(3):
        work_order = await dispatched(town, S.ON_SITE)
        results = await asyncio.gather(
            service.change_status(
                town.users["crew_a"],
                work_order.number,
                change(S.COMPLETED, expected_status=expected_status),
            ),
            service.change_status(
                town.supervisor,
                work_order.number,
                change(S.CANNOT_COMPLETE, expected_status=expected_status),
            ),
            return_exceptions=True,
        )
        wins = [r for r in results if isinstance(r, WorkOrderOut)]
        losses = [r for r in results if not isinstance(r, WorkOrderOut)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], ConflictError), repr(losses[0])
        assert await status_of(work_order.number) is wins[0].status
        entries = await status_entries(work_order.number)
        assert [e["data"]["to"] for e in entries] == [wins[0].status.value]


async def test_a_case_status_change_is_announced_on_every_work_order_of_the_case(
    town: Town,
) -> None:
    """Tablets show the case's status on each of its work orders: when the last open one is
    cancelled and the case resolves, the completed sibling gets a feed entry too."""
    from sync.tables import Change

    case = await make_case(town)
    done = await make_work_order(town, case, crew_id=town.crew_a)
    other = await make_work_order(town, case, crew_id=town.crew_b)
    for status in (WorkOrderStatus.ON_SITE, WorkOrderStatus.COMPLETED):
        await service.change_status(
            town.supervisor,
            done.number,
            StatusChange(
                status=status, resolution_code="repaired" if status == "completed" else None
            ),
        )
    done_row = await WorkOrder.select(WorkOrder.id).where(WorkOrder.number == done.number).first()
    before = await Change.count().where(Change.work_order == done_row["id"])
    await service.change_status(
        town.supervisor, other.number, StatusChange(status=WorkOrderStatus.CANCELLED)
    )
    assert (await cases.get_case(town.advocate, case.public_id)).status is CaseStatus.RESOLVED
    after = await Change.select(Change.crew).where(Change.work_order == done_row["id"])
    assert len(after) == before + 1 and after[-1]["crew"] == town.crew_a
