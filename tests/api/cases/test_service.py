"""api/cases/service.py: intake, numbering, answers, resolution, notes, search and history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.activities.schemas import ActivityKind, NoteCreate
from api.cases import service
from api.cases.schemas import CaseCreate, CaseResolve, CaseStatus, Channel
from api.catalog.tables import ServiceType
from api.citizens.schemas import CitizenIn, PlaceIn
from api.citizens.tables import Citizen, Place
from api.errors import ConflictError, InputInvalidError, NotFoundError, PermissionDeniedError
from api.settings import Settings
from api.workorders import service as workorders
from api.workorders.schemas import StatusChange, WorkOrderStatus
from tests.factories import Town, make_case, make_service_type, make_work_order, shared_app

S = WorkOrderStatus
YEAR = datetime.now(UTC).year


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


def intake(
    citizen: CitizenIn | None = None,
    address: str | None = None,
    *,
    service_code: str = "general_question",
    lat: float | None = None,
    lng: float | None = None,
    **kwargs: object,
) -> CaseCreate:
    place = PlaceIn(address=address, lat=lat, lng=lng) if address is not None else None
    return CaseCreate(service_code=service_code, citizen=citizen, place=place, **kwargs)


async def test_create_case(town: Town) -> None:
    case = await service.create_case(
        town.advocate,
        CaseCreate(
            service_code="pothole",
            description="  Deep pothole  ",
            channel=Channel.WALK_IN,
            citizen=CitizenIn(name="Ada Caller", phone="(919) 555-0100", email="Ada@Example.com"),
            place=PlaceIn(address="12 Main St", lat=35.79, lng=-78.78),
            attributes={"size": "small", "depth_cm": "12.5"},
        ),
    )
    assert case.public_id == f"{YEAR}-000001"
    assert (case.status, case.service_code, case.department) == (
        CaseStatus.OPEN,
        "pothole",
        "Public Works",
    )
    assert case.description == "Deep pothole"
    assert case.channel is Channel.WALK_IN
    assert case.attributes == {"size": "small", "depth_cm": "12.5"}
    assert case.citizen is not None
    assert (case.citizen.phone, case.citizen.email) == ("9195550100", "ada@example.com")
    assert case.place is not None and (case.place.lat, case.place.lng) == (35.79, -78.78)
    assert (case.resolution, case.resolved_at, case.work_orders) == (None, None, [])
    (created,) = case.timeline
    assert created.kind is ActivityKind.CASE_CREATED and created.public
    assert created.body == "Request received by walk-in: Pothole"
    with pytest.raises(PermissionDeniedError):
        await service.create_case(town.users["crew_a"], intake())


@pytest.mark.parametrize(
    "phone", ["919-555-0100", "(919) 555-0100", "919.555.0100", " 9195550100 ", "919 555 0100 x12"]
)
async def test_citizen_is_found_by_phone_in_any_formatting(town: Town, phone: str) -> None:
    first = await service.create_case(town.advocate, intake(CitizenIn(phone="9195550100")))
    again = await service.create_case(town.advocate, intake(CitizenIn(name="Ada", phone=phone)))
    assert first.citizen is not None and again.citizen is not None
    assert again.citizen.id == first.citizen.id
    assert await Citizen.count() == 1


async def test_citizen_is_found_by_email_when_the_phone_is_new(town: Town) -> None:
    first = await service.create_case(
        town.advocate,
        intake(CitizenIn(name="Ada", phone="919-555-0100", email="ada@example.com")),
    )
    again = await service.create_case(
        town.advocate,
        intake(CitizenIn(name="A. Lovelace", phone="919-555-0199", email=" ADA@example.COM ")),
    )
    assert first.citizen is not None and again.citizen is not None
    assert again.citizen.id == first.citizen.id
    # what was stored stays: a caller may give another number or name
    assert (again.citizen.name, again.citizen.phone) == ("Ada", "9195550100")


async def test_blanks_are_filled_and_stored_values_kept(town: Town) -> None:
    first = await service.create_case(town.advocate, intake(CitizenIn(phone="919-555-0100")))
    assert first.citizen is not None and first.citizen.name == ""
    again = await service.create_case(
        town.advocate,
        intake(
            CitizenIn(
                name="Ada Caller", phone="9195550100", email="ada@example.com", address="1 Oak"
            )
        ),
    )
    assert again.citizen is not None
    assert (again.citizen.name, again.citizen.email, again.citizen.address) == (
        "Ada Caller",
        "ada@example.com",
        "1 Oak",
    )
    third = await service.create_case(
        town.advocate,
        intake(CitizenIn(name="Someone Else", phone="9195550100", email="other@example.com")),
    )
    assert third.citizen is not None
    assert (third.citizen.name, third.citizen.email) == ("Ada Caller", "ada@example.com")


@pytest.mark.parametrize(
    "citizen",
    [None, CitizenIn(), CitizenIn(name="  ", address="4 Elm St"), CitizenIn(phone=" ", email="")],
)
async def test_no_details_means_an_anonymous_case(town: Town, citizen: CitizenIn | None) -> None:
    case = await service.create_case(town.advocate, intake(citizen))
    assert case.citizen is None
    assert await Citizen.count() == 0


async def test_a_name_alone_never_merges_two_callers(town: Town) -> None:
    one = await service.create_case(town.advocate, intake(CitizenIn(name="John Smith")))
    two = await service.create_case(town.advocate, intake(CitizenIn(name="John Smith")))
    assert one.citizen is not None and two.citizen is not None
    assert one.citizen.id != two.citizen.id


async def test_place_is_matched_by_normalised_address(town: Town) -> None:
    first = await service.create_case(town.advocate, intake(address="12 N. Main St."))
    same = await service.create_case(
        town.advocate, intake(address="12 north main street", lat=35.79, lng=-78.78)
    )
    other = await service.create_case(town.advocate, intake(address="12 Main St"))
    assert first.place is not None and same.place is not None and other.place is not None
    assert same.place.id == first.place.id
    assert same.place.address == "12 N. Main St."  # as first written
    assert (same.place.lat, same.place.lng) == (35.79, -78.78)  # missing coordinates filled
    assert other.place.id != first.place.id
    moved = await service.create_case(
        town.advocate, intake(address="12 NORTH MAIN ST", lat=1.0, lng=1.0)
    )
    assert moved.place is not None and (moved.place.lat, moved.place.lng) == (35.79, -78.78)
    blank = await service.create_case(town.advocate, intake(address="   "))
    assert blank.place is None
    assert await Place.count() == 2


async def test_public_ids_are_sequential_and_tokens_long_and_unique(town: Town) -> None:
    made = [await service.create_case(town.advocate, intake()) for _ in range(3)]
    assert [case.public_id for case in made] == [f"{YEAR}-{n:06d}" for n in (1, 2, 3)]
    tokens = {case.tracking_token for case in made}
    assert len(tokens) == 3 and all(len(token) >= 32 for token in tokens)


async def test_concurrent_intake_hands_out_consecutive_ids(town: Town) -> None:
    made = await asyncio.gather(
        *(service.create_case(town.advocate, intake(description=f"call {n}")) for n in range(20))
    )
    numbers = sorted(int(case.public_id.split("-")[1]) for case in made)
    assert numbers == list(range(1, 21))
    assert len({case.tracking_token for case in made}) == 20
    assert {case.description for case in made} == {f"call {n}" for n in range(20)}


async def test_concurrent_calls_from_one_new_caller_make_one_citizen_and_place(
    town: Town,
) -> None:
    """The phone lines are busy: the same person (or neighbours) report the same thing at
    once. One citizen and one place must come out, or their history splits in two."""
    made = await asyncio.gather(
        *(
            service.create_case(
                town.advocate, intake(CitizenIn(phone="919-555-0142"), address="7 Pine St")
            )
            for _ in range(6)
        )
    )
    assert len({case.citizen.id for case in made if case.citizen}) == 1
    assert len({case.place.id for case in made if case.place}) == 1
    assert await Citizen.count() == 1 and await Place.count() == 1


GRAFFITI = [
    {
        "code": "surfaces",
        "description": "What is painted?",
        "datatype": "multivaluelist",
        "values": [{"key": "wall", "name": "Wall"}, {"key": "fence", "name": "Fence"}],
    },
    {"code": "seen_at", "description": "When", "datatype": "datetime"},
    {"code": "staff_note", "description": "Set by staff", "variable": False},
]


@pytest.mark.parametrize(
    ("service_code", "attributes", "field"),
    [
        ("pothole", {"size": "small", "colour": "red"}, "attributes.colour"),
        ("pothole", {}, "attributes.size"),
        ("pothole", {"size": ""}, "attributes.size"),
        ("pothole", {"size": "huge"}, "attributes.size"),
        ("pothole", {"size": ["small", "large"]}, "attributes.size"),
        ("pothole", {"size": "small", "depth_cm": "deep"}, "attributes.depth_cm"),
        ("pothole", {"size": "small", "depth_cm": "nan"}, "attributes.depth_cm"),
        ("pothole", {"size": "small", "depth_cm": "inf"}, "attributes.depth_cm"),
        ("graffiti", {"surfaces": ["wall", "roof"]}, "attributes.surfaces"),
        ("graffiti", {"seen_at": "last tuesday"}, "attributes.seen_at"),
        ("graffiti", {"staff_note": "x"}, "attributes.staff_note"),  # not asked of callers
    ],
)
async def test_answers_are_checked_against_the_questions(
    town: Town, service_code: str, attributes: dict, field: str
) -> None:
    await make_service_type(town.department_id, "graffiti", "Graffiti", attributes=GRAFFITI)
    with pytest.raises(InputInvalidError) as refused:
        await service.create_case(
            town.advocate, CaseCreate(service_code=service_code, attributes=attributes)
        )
    assert refused.value.status_code == 422
    assert refused.value.field == field
    assert await Citizen.count() == 0 and (await service.search_cases(town.advocate)).items == []


async def test_good_answers_are_kept_in_their_shape(town: Town) -> None:
    await make_service_type(town.department_id, "graffiti", "Graffiti", attributes=GRAFFITI)
    case = await service.create_case(
        town.advocate,
        CaseCreate(
            service_code="graffiti",
            attributes={"surfaces": ["wall", "fence"], "seen_at": "2026-03-01T10:00:00"},
        ),
    )
    assert case.attributes == {"surfaces": ["wall", "fence"], "seen_at": "2026-03-01T10:00:00"}
    single = await service.create_case(
        town.advocate, CaseCreate(service_code="graffiti", attributes={"surfaces": "wall"})
    )
    assert single.attributes == {"surfaces": ["wall"]}
    listed = await service.create_case(
        town.advocate, CaseCreate(service_code="pothole", attributes={"size": ["large"]})
    )
    assert listed.attributes == {"size": "large"}


async def test_unknown_or_retired_service_code_is_422(town: Town) -> None:
    for code in ("no_such_service", "pothole"):
        if code == "pothole":
            await ServiceType.update({ServiceType.active: False}).where(
                ServiceType.code == "pothole"
            )
        with pytest.raises(InputInvalidError) as refused:
            await service.create_case(
                town.advocate, CaseCreate(service_code=code, attributes={"size": "small"})
            )
        assert refused.value.field == "service_code"
        assert code in refused.value.detail


async def test_resolve_on_the_phone(town: Town) -> None:
    case = await make_case(town, service_code="general_question")
    before = datetime.now(UTC)
    resolved = await service.resolve_case(
        town.advocate, case.public_id, CaseResolve(resolution="  Bin day is Tuesday  ")
    )
    assert resolved.status is CaseStatus.RESOLVED
    assert resolved.resolution == "Bin day is Tuesday"
    assert resolved.resolved_at is not None and resolved.resolved_at >= before
    entry = resolved.timeline[-1]
    assert (entry.kind, entry.body, entry.public) == (
        ActivityKind.CASE_RESOLVED,
        "Bin day is Tuesday",
        True,
    )
    with pytest.raises(ConflictError, match="already resolved"):
        await service.resolve_case(town.advocate, case.public_id, CaseResolve(resolution="again"))
    with pytest.raises(PermissionDeniedError):
        await service.resolve_case(
            town.users["crew_a"], case.public_id, CaseResolve(resolution="done")
        )
    with pytest.raises(NotFoundError):
        await service.resolve_case(town.advocate, "2026-999999", CaseResolve(resolution="done"))


async def test_resolve_is_refused_while_field_work_is_open(town: Town) -> None:
    case = await make_case(town)
    done = await make_work_order(town, case, crew_id=town.crew_a)
    still_open = await make_work_order(town, case)
    await workorders.change_status(town.advocate, done.number, StatusChange(status=S.CANCELLED))
    with pytest.raises(ConflictError) as refused:
        await service.resolve_case(town.advocate, case.public_id, CaseResolve(resolution="x"))
    assert refused.value.status_code == 409
    assert refused.value.extra == {"open_work_orders": [still_open.number]}
    assert still_open.number in refused.value.detail and done.number not in refused.value.detail
    row = await service.case_row(case.public_id)
    assert (row["status"], row["resolution"]) == ("in_progress", None)
    await workorders.change_status(
        town.advocate, still_open.number, StatusChange(status=S.CANCELLED)
    )
    resolved = await service.resolve_case(
        town.advocate, case.public_id, CaseResolve(resolution="Fixed by the owner")
    )
    assert resolved.status is CaseStatus.RESOLVED


async def test_notes_and_calls(town: Town) -> None:
    case = await make_case(town)
    earlier = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    await service.add_case_note(town.advocate, case.public_id, NoteCreate(body=" Checked map "))
    result = await service.add_case_note(
        town.supervisor,
        case.public_id,
        NoteCreate(body="Caller asked for news", public=True, occurred_at=earlier),
        call=True,
    )
    note = next(e for e in result.timeline if e.kind is ActivityKind.NOTE)
    call = next(e for e in result.timeline if e.kind is ActivityKind.CALL)
    assert (note.body, note.public, note.actor) == ("Checked map", False, "Advocate")
    assert (call.body, call.public, call.actor, call.occurred_at) == (
        "Caller asked for news",
        True,
        "Supervisor",
        earlier,
    )
    assert result.timeline[0] == call  # the timeline runs by when things happened
    assert result.status is CaseStatus.OPEN
    with pytest.raises(InputInvalidError):
        await service.add_case_note(town.advocate, case.public_id, NoteCreate(body="  "))
    with pytest.raises(PermissionDeniedError):
        await service.add_case_note(town.users["crew_a"], case.public_id, NoteCreate(body="x"))
    with pytest.raises(NotFoundError):
        await service.add_case_note(town.advocate, "2026-999999", NoteCreate(body="x"))
    with pytest.raises(InputInvalidError) as refused:
        await service.add_case_note(
            town.advocate,
            case.public_id,
            NoteCreate(body="x", occurred_at=datetime.now(UTC) + timedelta(hours=1)),
        )
    assert refused.value.field == "occurred_at"


async def test_get_case_shows_its_work(town: Town) -> None:
    case = await make_case(town)
    work_order = await make_work_order(town, case, crew_id=town.crew_a)
    seen = await service.get_case(town.advocate, case.public_id)
    assert seen.status is CaseStatus.IN_PROGRESS
    (brief,) = seen.work_orders
    assert (brief.number, brief.status, brief.crew) == (work_order.number, "assigned", "Streets A")
    kinds = [entry.kind for entry in seen.timeline]
    assert kinds == [
        ActivityKind.CASE_CREATED,
        ActivityKind.WORK_ORDER_CREATED,
        ActivityKind.ASSIGNED,
        ActivityKind.CASE_STATUS,
    ]
    with pytest.raises(NotFoundError):
        await service.get_case(town.advocate, "2026-999999")
    with pytest.raises(PermissionDeniedError):
        await service.get_case(town.users["crew_a"], case.public_id)


async def test_search(town: Town) -> None:
    pothole = await make_case(town, description="Deep POTHOLE by the school", address="3 Oak Ave")
    question = await make_case(
        town, service_code="general_question", description="Bin day?", address="9 Elm St"
    )
    other = await make_case(
        town, description="Sinkhole", address="5 Birch Rd", phone="919-555-0177"
    )
    await service.resolve_case(town.advocate, question.public_id, CaseResolve(resolution="Tue"))

    async def ids(**kwargs: object) -> list[str]:
        return [c.public_id for c in (await service.search_cases(town.advocate, **kwargs)).items]

    everything = [other.public_id, question.public_id, pothole.public_id]  # newest first
    assert await ids() == everything
    assert await ids(q=f" {question.public_id} ") == [question.public_id]
    assert await ids(q="pothole") == [pothole.public_id]  # any case
    assert await ids(q="elm st") == [question.public_id]  # the address
    assert await ids(q="hole") == [other.public_id, pothole.public_id]
    assert await ids(q="100%") == []
    assert await ids(q="   ") == everything
    assert await ids(status=CaseStatus.RESOLVED) == [question.public_id]
    assert await ids(status=CaseStatus.OPEN) == [other.public_id, pothole.public_id]
    assert await ids(service_code="general_question") == [question.public_id]
    assert other.citizen is not None
    assert await ids(citizen_id=other.citizen.id) == [other.public_id]
    first = await service.search_cases(town.advocate, limit=2)
    rest = await service.search_cases(town.advocate, limit=2, offset=first.next_offset or 0)
    assert (first.next_offset, rest.next_offset) == (2, None)
    assert [c.public_id for c in first.items + rest.items] == everything
    assert first.items[0].address == "5 Birch Rd"
    with pytest.raises(PermissionDeniedError):
        await service.search_cases(town.users["crew_a"])


async def test_citizen_360(town: Town) -> None:
    ada_at_home = await make_case(town, description="Pothole at home", address="1 Oak Ave")
    ada_at_work = await make_case(
        town, service_code="general_question", description="Parking", address="50 Main St"
    )
    neighbour = await make_case(
        town, description="Same pothole", address="1 OAK AVENUE", phone="919-555-0111"
    )
    elsewhere = await make_case(town, address="99 Far Rd", phone="919-555-0122")
    work_order = await make_work_order(town, ada_at_home, crew_id=town.crew_a)
    assert ada_at_home.citizen is not None
    view = await service.citizen_360(town.advocate, ada_at_home.citizen.id)
    assert view.citizen.phone == "9195550100"
    assert [c.public_id for c in view.cases] == [ada_at_work.public_id, ada_at_home.public_id]
    assert [w.number for w in view.cases[1].work_orders] == [work_order.number]
    stamps = [(entry.occurred_at, entry.id) for entry in view.timeline]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert {entry.kind for entry in view.timeline} >= {
        ActivityKind.CASE_CREATED,
        ActivityKind.WORK_ORDER_CREATED,
    }
    assert work_order.number in {entry.work_order for entry in view.timeline}
    assert view.timeline[-1].kind is ActivityKind.CASE_CREATED
    histories = {history.place.address: history for history in view.places}
    assert set(histories) == {"1 Oak Ave", "50 Main St"}
    assert [c.public_id for c in histories["1 Oak Ave"].cases] == [
        neighbour.public_id,  # another caller, same place: the crew sees it too
        ada_at_home.public_id,
    ]
    assert elsewhere.public_id not in {c.public_id for h in view.places for c in h.cases}
    with pytest.raises(NotFoundError):
        await service.citizen_360(town.advocate, 9999)
    with pytest.raises(PermissionDeniedError):
        await service.citizen_360(town.users["crew_a"], ada_at_home.citizen.id)


async def test_place_history(town: Town) -> None:
    first = await make_case(town, address="1 Oak Ave")
    second = await make_case(town, address="1 oak ave.", phone="919-555-0111")
    await make_case(town, address="2 Oak Ave")
    await make_work_order(town, first)
    assert first.place is not None
    history = await service.place_history(town.advocate, first.place.id)
    assert history.place.address == "1 Oak Ave"
    assert [c.public_id for c in history.cases] == [second.public_id, first.public_id]
    assert [len(c.work_orders) for c in history.cases] == [0, 1]
    with pytest.raises(NotFoundError):
        await service.place_history(town.advocate, 9999)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({S.NEW}, CaseStatus.IN_PROGRESS),
        ({S.COMPLETED, S.ON_HOLD}, CaseStatus.IN_PROGRESS),
        ({S.COMPLETED, S.REOPENED}, CaseStatus.IN_PROGRESS),
        ({S.COMPLETED}, CaseStatus.RESOLVED),
        ({S.COMPLETED, S.CANCELLED, S.CANNOT_COMPLETE}, CaseStatus.RESOLVED),
        ({S.CANCELLED}, CaseStatus.OPEN),
        ({S.CANCELLED, S.CANNOT_COMPLETE}, CaseStatus.OPEN),
    ],
)
def test_case_status_for(statuses: set[WorkOrderStatus], expected: CaseStatus) -> None:
    assert service.case_status_for(statuses) is expected
