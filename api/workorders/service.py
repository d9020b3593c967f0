"""Work-order rules: creation from a case, dispatch, the state machine, notes.

These functions are the only way a work order changes. The HTTP routes call them, and so will
the offline sync mutators, with the same arguments: one code path online and offline. Every
change locks the row, checks `can()`, checks the state machine, writes the timeline entry and
lets the case follow, all in one write transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from api.access import Action, authorize
from api.activities import service as activities
from api.activities.schemas import ActivityKind, NoteCreate
from api.auth.schemas import Principal
from api.cases import service as cases
from api.catalog.tables import ServiceType
from api.citizens.service import place_out
from api.crews.service import active_crew
from api.crews.tables import Crew
from api.db import write_transaction
from api.errors import ConflictError, InputInvalidError, TransitionNotAllowedError
from api.notifications import service as notify
from api.workorders.queries import detail_query
from api.workorders.reach import (
    WorkOrderRef,
    action_for,
    allowed_transitions,
    locked_row,
    readable,
)
from api.workorders.schemas import (
    FINAL_STATUSES,
    PUBLIC_STATUSES,
    RESOLUTION_CODES,
    STATUS_WORDS,
    TRANSITIONS,
    CaseForCrew,
    ContactForCrew,
    CrewRef,
    StatusChange,
    WorkOrderCreate,
    WorkOrderOut,
    WorkOrderStatus,
)
from api.workorders.tables import WorkOrder
from sync import feed

S = WorkOrderStatus


async def announce(
    work_order_id: int, case_id: int, crews: list[int | None], case_changed: bool
) -> None:
    """Feed entries for a changed work order, and, when its case's status moved, for the
    case's other work orders too (tablets show the case status on each). Call last."""
    await feed.work_order_changed(work_order_id, crews)
    if case_changed:
        siblings = await WorkOrder.select(WorkOrder.id, WorkOrder.crew).where(
            (WorkOrder.case == case_id) & (WorkOrder.id != work_order_id)
        )
        for sibling in siblings:
            await feed.work_order_changed(sibling["id"], [sibling["crew"]])


async def create_work_order(actor: Principal, case_id: str, data: WorkOrderCreate) -> WorkOrderOut:
    """Turn a case into field work; with `crew_id`, dispatch it at once (supervisor)."""
    authorize(actor, Action.WORK_ORDER_CREATE)
    if data.crew_id is not None:
        authorize(actor, Action.WORK_ORDER_ASSIGN)
    now = datetime.now(UTC)
    due_at = data.due_at
    if due_at is not None:
        if due_at.tzinfo is None:
            raise InputInvalidError("due_at needs a time zone", field="due_at")
        try:
            due_at = due_at.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is after the last representable instant
            raise InputInvalidError("due_at is out of range", field="due_at") from None
    async with write_transaction():
        case = await cases.case_row(case_id, lock=True)
        crew = await active_crew(data.crew_id) if data.crew_id is not None else None
        sla = (
            await ServiceType.select(ServiceType.sla_hours)
            .where(ServiceType.id == case["service_type"])
            .first()
        )
        due_at = due_at or now + timedelta(hours=sla["sla_hours"])
        number = await cases.next_number(f"work-order-{now.year}")
        work_order = WorkOrder(
            number=f"WO-{now.year}-{number:06d}",
            case=case["id"],
            service_type=case["service_type"],
            place=case["place"],
            crew=crew["id"] if crew else None,
            status=(S.ASSIGNED if crew else S.NEW).value,
            priority=data.priority.value,
            instructions=data.instructions.strip(),
            due_at=due_at,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        await work_order.save()
        await activities.record(
            case_id=case["id"],
            work_order_id=work_order.id,
            kind=ActivityKind.WORK_ORDER_CREATED,
            body=f"Work order {work_order.number} created ({data.priority.value} priority)",
            actor_id=actor.id,
            public=True,
        )
        if crew:
            await _record_assignment(actor, case["id"], work_order.id, None, crew)
        case_changed = await cases.refresh_case_status(case["id"], actor.id)
        await announce(work_order.id, case["id"], [work_order.crew], case_changed)
    return await get_work_order(actor, work_order.number)


async def _record_assignment(
    actor: Principal, case_id: int, work_order_id: int, old_crew: dict | None, crew: dict
) -> None:
    verb = f"Reassigned from {old_crew['name']} to" if old_crew else "Assigned to"
    await activities.record(
        case_id=case_id,
        work_order_id=work_order_id,
        kind=ActivityKind.ASSIGNED,
        body=f"{verb} {crew['name']}",
        actor_id=actor.id,
        data={"crew_id": crew["id"], "from_crew_id": old_crew["id"] if old_crew else None},
    )
    await notify.work_assigned(work_order_id, crew["id"], first=old_crew is None)


async def assign(actor: Principal, number: str, crew_id: int) -> WorkOrderOut:
    """Give a work order to a crew, or move it to another. Work already done stays final."""
    async with write_transaction():
        row = await locked_row(actor, number)
        authorize(actor, Action.WORK_ORDER_ASSIGN, WorkOrderRef(number, row["crew"]))
        current = S(row["status"])
        if current in FINAL_STATUSES:
            raise TransitionNotAllowedError(
                f"work order {number} is {current.value}; reopen it before assigning",
                field="status",
                current=current.value,
            )
        crew = await active_crew(crew_id)
        if row["crew"] == crew_id and current not in (S.NEW, S.REOPENED):
            return await get_work_order(actor, number)  # already theirs: nothing to do
        # the crew losing the work may since have been disbanded: that is no reason to refuse
        moved = row["crew"] is not None and row["crew"] != crew_id
        old_crew = await Crew.select().where(Crew.id == row["crew"]).first() if moved else None
        now = datetime.now(UTC)
        await WorkOrder.update(
            {WorkOrder.crew: crew_id, WorkOrder.status: S.ASSIGNED.value, WorkOrder.updated_at: now}
        ).where(WorkOrder.id == row["id"])
        await _record_assignment(actor, row["case"], row["id"], old_crew, crew)
        case_changed = await cases.refresh_case_status(row["case"], actor.id)
        await announce(row["id"], row["case"], [row["crew"], crew_id], case_changed)
    return await get_work_order(actor, number)


def _check_resolution(target: WorkOrderStatus, code: str | None) -> None:
    codes = RESOLUTION_CODES.get(target)
    if codes is None:
        if code is not None:
            raise InputInvalidError(
                f"resolution_code only goes with completed or cannot_complete, not {target}",
                field="resolution_code",
            )
        return
    if code is None:
        raise InputInvalidError(
            f"{target.value} needs a resolution_code: one of {', '.join(codes)}",
            field="resolution_code",
        )
    if code not in codes:
        raise InputInvalidError(
            f"{code!r} is not a resolution code for {target.value}: one of {', '.join(codes)}",
            field="resolution_code",
        )


async def change_status(actor: Principal, number: str, change: StatusChange) -> WorkOrderOut:
    """Move a work order through the state machine (DESIGN §3); 409 names what is allowed."""
    await apply_status(actor, number, change)
    return await get_work_order(actor, number)


async def apply_status(
    actor: Principal, number: str, change: StatusChange, *, clock: dict | None = None
) -> None:
    """The rules of a status change, in the caller's write transaction (or its own).

    `clock` is added to the timeline entry's data: sync records there a device time it had
    to correct."""
    now = datetime.now(UTC)
    occurred_at = activities.field_time(change.occurred_at, now)
    target = change.status
    async with write_transaction():
        row = await locked_row(actor, number)
        current = S(row["status"])
        authorize(actor, action_for(current, target), WorkOrderRef(number, row["crew"]))
        if change.expected_status is not None and change.expected_status is not current:
            raise ConflictError(
                f"work order {number} is {current.value}, not {change.expected_status.value} "
                "as you last saw it",
                field="expected_status",
                current=current.value,
            )
        if target not in TRANSITIONS[current]:
            allowed = sorted(TRANSITIONS[current], key=list(S).index)
            raise TransitionNotAllowedError(
                f"work order {number} cannot go from {current.value} to {target.value}; "
                f"from {current.value} it can go to {', '.join(s.value for s in allowed)}",
                field="status",
                current=current.value,
                allowed=[s.value for s in allowed],
            )
        if target is S.ASSIGNED and row["crew"] is None:
            raise TransitionNotAllowedError(
                f"work order {number} has no crew; assign one instead", field="status"
            )
        _check_resolution(target, change.resolution_code)
        values: dict = {WorkOrder.status: target.value, WorkOrder.updated_at: now}
        if target in (S.COMPLETED, S.CANNOT_COMPLETE):
            values |= {
                WorkOrder.resolution_code: change.resolution_code,
                WorkOrder.completed_at: now,
                WorkOrder.field_completed_at: occurred_at,
                WorkOrder.completed_by: actor.id,
            }
        elif target is S.REOPENED:
            values |= {
                WorkOrder.resolution_code: None,
                WorkOrder.completed_at: None,
                WorkOrder.field_completed_at: None,
                WorkOrder.completed_by: None,
                WorkOrder.archived_at: None,
            }
        await WorkOrder.update(values).where(WorkOrder.id == row["id"])
        body = STATUS_WORDS[target]
        if change.resolution_code:
            body += f": {RESOLUTION_CODES[target][change.resolution_code]}"
        await activities.record(
            case_id=row["case"],
            work_order_id=row["id"],
            kind=ActivityKind.STATUS_CHANGED,
            body=body,
            actor_id=actor.id,
            public=target in PUBLIC_STATUSES,
            occurred_at=occurred_at,
            data={
                "from": current.value,
                "to": target.value,
                "resolution_code": change.resolution_code,
            }
            | (clock or {}),
        )
        if change.note.strip():
            await activities.record(
                case_id=row["case"],
                work_order_id=row["id"],
                kind=ActivityKind.NOTE,
                body=change.note.strip(),
                actor_id=actor.id,
                occurred_at=occurred_at,
            )
        if target in (S.COMPLETED, S.CANNOT_COMPLETE):
            await notify.work_finished(row["id"], row["case"], target)
        elif target is S.ASSIGNED and row["crew"] is not None:
            await notify.work_assigned(row["id"], row["crew"], first=current is S.REOPENED)
        case_changed = await cases.refresh_case_status(row["case"], actor.id)
        await announce(row["id"], row["case"], [row["crew"]], case_changed)


async def add_note(actor: Principal, number: str, note: NoteCreate) -> WorkOrderOut:
    """Append a note to the work order's timeline (never conflicts: append-only)."""
    await record_note(actor, number, note)
    return await get_work_order(actor, number)


async def record_note(
    actor: Principal, number: str, note: NoteCreate, *, clock: dict | None = None
) -> None:
    """The rules of a note, in the caller's write transaction (or its own). A crew may still
    note work its crew held before the office moved it."""
    if not note.body.strip():
        raise InputInvalidError("a note needs some text", field="body")
    now = datetime.now(UTC)
    occurred_at = activities.field_time(note.occurred_at, now)
    async with write_transaction():
        row = await locked_row(actor, number, Action.WORK_ORDER_NOTE)
        await activities.record(
            case_id=row["case"],
            work_order_id=row["id"],
            kind=ActivityKind.NOTE,
            body=note.body.strip(),
            actor_id=actor.id,
            public=note.public,
            occurred_at=occurred_at,
            data=clock,
        )
        await WorkOrder.update({WorkOrder.updated_at: now}).where(WorkOrder.id == row["id"])
        await feed.work_order_changed(row["id"], [row["crew"]])


async def get_work_order(actor: Principal, number: str) -> WorkOrderOut:
    """Everything a crew needs at the job: the case, who to call, where, and the story so far."""
    row = readable(actor, number, await detail_query().where(WorkOrder.number == number).first())
    timeline = await activities.timeline(work_order_id=row["id"])
    now = datetime.now(UTC)
    status = S(row["status"])
    citizen = None
    if row["case.citizen"] is not None:
        citizen = ContactForCrew(
            name=row["case.citizen.name"],
            phone=row["case.citizen.phone"],
            email=row["case.citizen.email"],
            contact_preference=row["case.citizen.contact_preference"],
        )
    place = None
    if row["place"] is not None:
        place = place_out(
            {k.removeprefix("place."): v for k, v in row.items() if k.startswith("place.")}
            | {"id": row["place"]}
        )
    attributes = row["case.attributes"]
    return WorkOrderOut(
        number=row["number"],
        status=status,
        priority=row["priority"],
        instructions=row["instructions"],
        service_code=row["service_type.code"],
        service_name=row["service_type.name"],
        crew=CrewRef(id=row["crew"], name=row["crew.name"]) if row["crew"] else None,
        due_at=row["due_at"],
        overdue=is_overdue(status, row["due_at"], now),
        case=CaseForCrew(
            public_id=row["case.public_id"],
            description=row["case.description"],
            channel=row["case.channel"],
            status=row["case.status"],
            attributes=json.loads(attributes) if isinstance(attributes, str) else attributes,
        ),
        citizen=citizen,
        place=place,
        resolution_code=row["resolution_code"],
        completed_at=row["completed_at"],
        field_completed_at=row["field_completed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        allowed_transitions=allowed_transitions(actor, row),
        timeline=[entry for entries in timeline.values() for entry in entries],
    )


def is_overdue(status: WorkOrderStatus, due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at < now and status not in FINAL_STATUSES
