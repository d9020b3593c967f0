"""Case rules: intake, lookup, resolution on the phone, and status that follows the field work.

A case is opened for every contact. It is resolved either by an advocate directly (most calls
only need an answer) or through its work orders: when all are final and one completed. Every
change writes its timeline entry in the same transaction.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from api.access import Action, authorize
from api.activities import service as activities
from api.activities.schemas import ActivityKind, NoteCreate
from api.auth.schemas import Principal
from api.cases.schemas import (
    CASE_STATUS_WORDS,
    CaseCreate,
    CaseOut,
    CasePage,
    CaseResolve,
    CaseStatus,
    CaseSummary,
    Channel,
    Citizen360,
    PlaceHistory,
    WorkOrderBrief,
)
from api.cases.tables import Case, Counter
from api.catalog.service import check_attributes, service_type_by_code
from api.citizens import service as citizens
from api.db import for_update, write_transaction
from api.errors import ConflictError, InputInvalidError, NotFoundError
from api.workorders.schemas import FINAL_STATUSES, WorkOrderStatus
from api.workorders.tables import WorkOrder


async def next_number(counter: str) -> int:
    """The next value of a named counter; call inside a write transaction."""
    await Counter.insert(Counter(name=counter, value=0)).on_conflict(
        target=Counter.name, action="DO NOTHING"
    )
    rows = await (
        Counter.update({Counter.value: Counter.value + 1})
        .where(Counter.name == counter)
        .returning(Counter.value)
    )
    return rows[0]["value"]


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


async def create_case(actor: Principal, data: CaseCreate) -> CaseOut:
    """Open a case, finding or creating the citizen and the place."""
    authorize(actor, Action.CASE_CREATE)
    service_type = await service_type_by_code(data.service_code)
    answers = check_attributes(service_type, data.attributes)
    async with write_transaction():
        now = datetime.now(UTC)
        # Taking the number first locks the counter row until commit, so concurrent intakes
        # queue here and each finds the citizen and place the one before it created
        # (PostgreSQL; SQLite's IMMEDIATE transaction already serialises them).
        number = await next_number(f"case-{now.year}")
        citizen_id = await citizens.find_or_create_citizen(data.citizen)
        place_id = await citizens.find_or_create_place(data.place)
        case = Case(
            public_id=f"{now.year}-{number:06d}",
            tracking_token=new_tracking_token(),
            citizen=citizen_id,
            service_type=service_type["id"],
            place=place_id,
            description=data.description.strip(),
            channel=data.channel.value,
            attributes=answers,
            status=CaseStatus.OPEN.value,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        await case.save()
        await activities.record(
            case_id=case.id,
            kind=ActivityKind.CASE_CREATED,
            body=f"Request received by {data.channel.value.replace('_', '-')}: "
            f"{service_type['name']}",
            actor_id=actor.id,
            public=True,
            data={"public_id": case.public_id},
        )
    return await get_case(actor, case.public_id)


async def case_row(public_id: str, *, lock: bool = False) -> dict:
    query = Case.select().where(Case.public_id == public_id)
    row = await (for_update(query) if lock else query).first()
    if row is None:
        raise NotFoundError(f"no case {public_id}")
    return row


def _json(value: str | dict | list) -> dict | list:
    return json.loads(value) if isinstance(value, str) else value


async def _work_order_briefs(case_ids: list[int]) -> dict[int, list[WorkOrderBrief]]:
    if not case_ids:
        return {}
    rows = await (
        WorkOrder.select(
            WorkOrder.case,
            WorkOrder.number,
            WorkOrder.status,
            WorkOrder.priority,
            WorkOrder.crew.name,
            WorkOrder.due_at,
            WorkOrder.resolution_code,
            WorkOrder.updated_at,
        )
        .where(WorkOrder.case.is_in(case_ids))
        .order_by(WorkOrder.id)
    )
    grouped: dict[int, list[WorkOrderBrief]] = {}
    for row in rows:
        grouped.setdefault(row["case"], []).append(
            WorkOrderBrief(
                number=row["number"],
                status=row["status"],
                priority=row["priority"],
                crew=row["crew.name"],
                due_at=row["due_at"],
                resolution_code=row["resolution_code"],
                updated_at=row["updated_at"],
            )
        )
    return grouped


def _summary_query():
    return Case.select(
        Case.id,
        Case.public_id,
        Case.status,
        Case.service_type.code,
        Case.service_type.name,
        Case.description,
        Case.channel,
        Case.place.address,
        Case.citizen,
        Case.created_at,
        Case.resolved_at,
    )


async def _summaries(rows: list[dict]) -> list[CaseSummary]:
    briefs = await _work_order_briefs([row["id"] for row in rows])
    return [
        CaseSummary(
            public_id=row["public_id"],
            status=CaseStatus(row["status"]),
            service_code=row["service_type.code"],
            service_name=row["service_type.name"],
            description=row["description"],
            channel=Channel(row["channel"]),
            address=row["place.address"],
            citizen_id=row["citizen"],
            created_at=row["created_at"],
            resolved_at=row["resolved_at"],
            work_orders=briefs.get(row["id"], []),
        )
        for row in rows
    ]


async def get_case(actor: Principal, public_id: str) -> CaseOut:
    """The whole case: who, where, what was asked, its work orders and its timeline."""
    authorize(actor, Action.CASE_READ)
    row = await (
        Case.select(
            *Case.all_columns(),
            Case.service_type.code,
            Case.service_type.name,
            Case.service_type.department.name,
        )
        .where(Case.public_id == public_id)
        .first()
    )
    if row is None:
        raise NotFoundError(f"no case {public_id}")
    citizen = None
    if row["citizen"] is not None:
        citizen = await citizens.get_citizen(actor, row["citizen"])
    place = None
    if row["place"] is not None:
        place = await citizens.get_place(actor, row["place"])
    briefs = await _work_order_briefs([row["id"]])
    timeline = await activities.timeline(case_ids=[row["id"]])
    return CaseOut(
        public_id=row["public_id"],
        tracking_token=row["tracking_token"],
        status=CaseStatus(row["status"]),
        service_code=row["service_type.code"],
        service_name=row["service_type.name"],
        department=row["service_type.department.name"],
        description=row["description"],
        channel=Channel(row["channel"]),
        attributes=_json(row["attributes"]),
        citizen=citizen,
        place=place,
        resolution=row["resolution"],
        resolved_at=row["resolved_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        work_orders=briefs.get(row["id"], []),
        timeline=timeline.get(row["id"], []),
    )


async def search_cases(
    actor: Principal,
    *,
    q: str | None = None,
    status: CaseStatus | None = None,
    citizen_id: int | None = None,
    service_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CasePage:
    """Newest first. `q` matches a public id exactly, or description and address text."""
    authorize(actor, Action.CASE_READ)
    query = _summary_query()
    if q and q.strip():
        text = q.strip()
        query = query.where(
            (Case.public_id == text)
            | citizens.contains_text(Case.description, text)
            | citizens.contains_text(Case.place.address, text)
        )
    if status is not None:
        query = query.where(Case.status == status.value)
    if citizen_id is not None:
        query = query.where(Case.citizen == citizen_id)
    if service_code:
        query = query.where(Case.service_type.code == service_code)
    rows = await query.order_by(Case.id, ascending=False).limit(limit + 1).offset(offset)
    more = len(rows) > limit
    return CasePage(
        items=await _summaries(rows[:limit]), next_offset=offset + limit if more else None
    )


async def resolve_case(actor: Principal, public_id: str, data: CaseResolve) -> CaseOut:
    """Resolve a case on the phone. Refused while field work is still under way."""
    authorize(actor, Action.CASE_RESOLVE)
    async with write_transaction():
        row = await case_row(public_id, lock=True)
        if row["status"] == CaseStatus.RESOLVED:
            raise ConflictError(f"case {public_id} is already resolved", field="status")
        open_work = await WorkOrder.select(WorkOrder.number).where(
            (WorkOrder.case == row["id"])
            & WorkOrder.status.not_in([s.value for s in FINAL_STATUSES])
        )
        if open_work:
            numbers = ", ".join(w["number"] for w in open_work)
            raise ConflictError(
                f"case {public_id} has work orders still open ({numbers}); "
                "finish or cancel them first",
                field="status",
                open_work_orders=[w["number"] for w in open_work],
            )
        now = datetime.now(UTC)
        await Case.update(
            {
                Case.status: CaseStatus.RESOLVED.value,
                Case.resolution: data.resolution.strip(),
                Case.resolved_at: now,
                Case.updated_at: now,
            }
        ).where(Case.id == row["id"])
        await activities.record(
            case_id=row["id"],
            kind=ActivityKind.CASE_RESOLVED,
            body=data.resolution.strip(),
            actor_id=actor.id,
            public=True,
        )
    return await get_case(actor, public_id)


async def add_case_note(
    actor: Principal, public_id: str, note: NoteCreate, *, call: bool = False
) -> CaseOut:
    """A note on the case, or (call=True) a logged call from the citizen."""
    authorize(actor, Action.CASE_NOTE)
    if not note.body.strip():
        raise InputInvalidError("a note needs some text", field="body")
    now = datetime.now(UTC)
    async with write_transaction():
        row = await case_row(public_id)
        await activities.record(
            case_id=row["id"],
            kind=ActivityKind.CALL if call else ActivityKind.NOTE,
            body=note.body.strip(),
            actor_id=actor.id,
            public=note.public,
            occurred_at=activities.field_time(note.occurred_at, now),
        )
        await Case.update({Case.updated_at: now}).where(Case.id == row["id"])
    return await get_case(actor, public_id)


def case_status_for(work_order_statuses: set[WorkOrderStatus]) -> CaseStatus:
    """The status a case with work orders in these statuses has (DESIGN §3)."""
    if work_order_statuses - FINAL_STATUSES:
        return CaseStatus.IN_PROGRESS
    if WorkOrderStatus.COMPLETED in work_order_statuses:
        return CaseStatus.RESOLVED
    return CaseStatus.OPEN  # all work final, none done: an advocate must follow up


async def refresh_case_status(case_id: int, actor_id: int | None) -> bool:
    """Make the case's status follow its work orders; call inside the write transaction.
    True when the status changed."""
    statuses = {
        WorkOrderStatus(r["status"])
        for r in await WorkOrder.select(WorkOrder.status).where(WorkOrder.case == case_id)
    }
    if not statuses:
        return False
    target = case_status_for(statuses)
    row = await Case.select(Case.status).where(Case.id == case_id).first()
    if row["status"] == target:
        return False
    now = datetime.now(UTC)
    resolved = target is CaseStatus.RESOLVED
    await Case.update(
        {
            Case.status: target.value,
            Case.resolution: "Field work completed" if resolved else None,
            Case.resolved_at: now if resolved else None,
            Case.updated_at: now,
        }
    ).where(Case.id == case_id)
    await activities.record(
        case_id=case_id,
        kind=ActivityKind.CASE_STATUS,
        body=CASE_STATUS_WORDS[target],
        actor_id=actor_id,
        public=target is not CaseStatus.OPEN,
        data={"from": row["status"], "to": target.value},
    )
    return True


async def place_history(actor: Principal, place_id: int) -> PlaceHistory:
    """Every case ever filed at a place, newest first, with its work."""
    place = await citizens.get_place(actor, place_id)
    rows = await _summary_query().where(Case.place == place_id).order_by(Case.id, ascending=False)
    return PlaceHistory(place=place, cases=await _summaries(rows))


async def citizen_360(actor: Principal, citizen_id: int) -> Citizen360:
    """A citizen's whole story: cases, their work and timelines, and each place's history."""
    citizen = await citizens.get_citizen(actor, citizen_id)
    rows = await (
        _summary_query().where(Case.citizen == citizen_id).order_by(Case.id, ascending=False)
    )
    timeline = await activities.timeline(case_ids=[row["id"] for row in rows])
    place_ids = [
        r["place"]
        for r in await Case.select(Case.place)
        .where((Case.citizen == citizen_id) & Case.place.is_not_null())
        .distinct()
    ]
    places = [await place_history(actor, place_id) for place_id in sorted(place_ids)]
    return Citizen360(
        citizen=citizen,
        cases=await _summaries(rows),
        timeline=sorted(
            (entry for entries in timeline.values() for entry in entries),
            key=lambda entry: (entry.occurred_at, entry.id),
            reverse=True,
        ),
        places=places,
    )
