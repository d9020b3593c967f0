"""The named mutations a crew tablet pushes, each a thin adapter onto the same service
functions the online routes call (one code path online and offline).

Conflict rules (DESIGN §4.2, docs/sync-protocol.md "Conflicts"):

- Notes, GPS fixes and photos only add to the record: they never conflict, and a crew may still
  add them to work its crew held before the office moved it.
- `set_status` is checked against the state machine and against the status the device last
  saw (`expected_status`); a mismatch is rejected with the current status.
- `complete` (and `set_status` to completed or cannot_complete): field reality wins. If the crew
  still holds active work, the server walks it to on_site and then to the outcome. If the office
  cancelled it, gave it to another crew, or someone finished it first, the crew's report is kept
  on the timeline and the work order is flagged for a supervisor; the status stays as it is.
- A device time (`occurred_at`) is kept, but clamped when impossible: before the work order
  existed, or after the server received the push. The original is kept in the entry's data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from api.activities.schemas import NoteCreate
from api.auth.schemas import Principal
from api.crews.tables import Crew
from api.db import for_update
from api.errors import ConflictError, InputInvalidError, NotFoundError
from api.types import LongText
from api.workorders import field
from api.workorders.reach import former_crew_ids
from api.workorders.schemas import (
    FINAL_STATUSES,
    GpsFix,
    LocationSet,
    StatusChange,
    WorkOrderNumber,
    WorkOrderStatus,
)
from api.workorders.service import apply_status, record_note
from api.workorders.tables import WorkOrder
from media.schemas import PhotoAttach
from media.service import attach_photo
from sync.schemas import MutationIn

S = WorkOrderStatus
OUTCOMES = (S.COMPLETED, S.CANNOT_COMPLETE)


@dataclass(frozen=True)
class Outcome:
    work_order: str
    flagged: bool = False
    note: str | None = None  # why it was flagged, for the crew


@dataclass(frozen=True)
class Context:
    actor: Principal
    received_at: datetime  # when the server received the push: no field time is later


class SetStatusArgs(msgspec.Struct, forbid_unknown_fields=True):
    work_order: WorkOrderNumber
    status: WorkOrderStatus
    expected_status: WorkOrderStatus
    note: LongText = ""
    resolution_code: str | None = None
    occurred_at: datetime | None = None


class CompleteArgs(msgspec.Struct, forbid_unknown_fields=True):
    work_order: WorkOrderNumber
    resolution_code: str
    status: WorkOrderStatus = S.COMPLETED
    note: LongText = ""
    occurred_at: datetime | None = None


class AddNoteArgs(msgspec.Struct, forbid_unknown_fields=True):
    work_order: WorkOrderNumber
    body: LongText
    occurred_at: datetime | None = None


class GpsFixArgs(GpsFix, forbid_unknown_fields=True, kw_only=True):
    work_order: WorkOrderNumber


class SetLocationArgs(LocationSet, forbid_unknown_fields=True, kw_only=True):
    work_order: WorkOrderNumber


class AttachPhotoArgs(PhotoAttach, forbid_unknown_fields=True, kw_only=True):
    work_order: WorkOrderNumber


async def _work_order(number: str) -> dict:
    """The row, locked: the conflict rules decide on what the office cannot change meanwhile
    (they run in push's write transaction, after the device row and before the feed)."""
    row = await for_update(WorkOrder.select().where(WorkOrder.number == number)).first()
    if row is None:
        raise NotFoundError(f"work order {number} not found", field="work_order")
    return row


def clamp(occurred_at: datetime | None, row: dict, ctx: Context) -> tuple[datetime, dict]:
    """The device's time if possible; else the nearest possible time, with the original."""
    if occurred_at is None:
        return ctx.received_at, {}
    if occurred_at.tzinfo is None:
        raise InputInvalidError("occurred_at needs a time zone", field="occurred_at")
    if occurred_at > ctx.received_at:
        return ctx.received_at, {"device_time": occurred_at.isoformat(), "clock": "after receipt"}
    if occurred_at < row["created_at"]:
        return row["created_at"], {
            "device_time": occurred_at.isoformat(),
            "clock": "before the work order existed",
        }
    return occurred_at, {}


async def _conflict_reason(ctx: Context, row: dict) -> str | None:
    """Why this crew's outcome cannot simply be applied, or None if it can."""
    current = S(row["status"])
    if current is S.CANCELLED:
        return "the office had cancelled it"
    if row["crew"] != ctx.actor.crew_id and ctx.actor.role.value == "crew":
        crew = await Crew.select(Crew.name).where(Crew.id == row["crew"]).first()
        return f"it had been given to {crew['name'] if crew else 'another crew'}"
    if current in FINAL_STATUSES:
        return f"it was already {current.value.replace('_', ' ')}"
    if current in (S.NEW, S.REOPENED):
        return f"it was {current.value} and waiting for dispatch"
    return None


async def complete(ctx: Context, args: CompleteArgs) -> Outcome:
    if args.status not in OUTCOMES:
        raise InputInvalidError("complete takes completed or cannot_complete", field="status")
    row = await _work_order(args.work_order)
    occurred_at, clock = clamp(args.occurred_at, row, ctx)
    reason = await _conflict_reason(ctx, row)
    if reason is not None:
        await field.record_field_conflict(
            ctx.actor,
            args.work_order,
            status=args.status,
            resolution_code=args.resolution_code,
            note=args.note,
            occurred_at=occurred_at,
            reason=reason,
            clock=clock,
        )
        return Outcome(args.work_order, flagged=True, note=f"kept and flagged: {reason}")
    current = S(row["status"])
    on_the_way = args.status is S.CANNOT_COMPLETE and current is S.EN_ROUTE
    if current is not S.ON_SITE and not on_the_way:
        await apply_status(
            ctx.actor,
            args.work_order,
            StatusChange(status=S.ON_SITE, occurred_at=occurred_at),
            clock=clock,
        )
    await apply_status(
        ctx.actor,
        args.work_order,
        StatusChange(
            status=args.status,
            resolution_code=args.resolution_code,
            note=args.note,
            occurred_at=occurred_at,
        ),
        clock=clock,
    )
    return Outcome(args.work_order)


async def set_status(ctx: Context, args: SetStatusArgs) -> Outcome:
    if args.status in OUTCOMES:
        return await complete(
            ctx,
            CompleteArgs(
                work_order=args.work_order,
                resolution_code=args.resolution_code or "",
                status=args.status,
                note=args.note,
                occurred_at=args.occurred_at,
            ),
        )
    row = await _work_order(args.work_order)
    if ctx.actor.role.value == "crew" and row["crew"] != ctx.actor.crew_id:
        if ctx.actor.crew_id not in await former_crew_ids(row["id"]):
            # never this crew's: reads exactly like no such work order (api.access)
            raise NotFoundError(f"work order {args.work_order} not found", field="work_order")
        raise ConflictError(f"{args.work_order} is no longer your crew's work", field="work_order")
    occurred_at, clock = clamp(args.occurred_at, row, ctx)
    await apply_status(
        ctx.actor,
        args.work_order,
        StatusChange(
            status=args.status,
            expected_status=args.expected_status,
            note=args.note,
            occurred_at=occurred_at,
        ),
        clock=clock,
    )
    return Outcome(args.work_order)


async def add_note(ctx: Context, args: AddNoteArgs) -> Outcome:
    row = await _work_order(args.work_order)
    occurred_at, clock = clamp(args.occurred_at, row, ctx)
    note = NoteCreate(body=args.body, occurred_at=occurred_at)
    await record_note(ctx.actor, args.work_order, note, clock=clock)
    return Outcome(args.work_order)


async def add_gps_fix(ctx: Context, args: GpsFixArgs) -> Outcome:
    row = await _work_order(args.work_order)
    occurred_at, clock = clamp(args.occurred_at, row, ctx)
    fix = GpsFix(lat=args.lat, lng=args.lng, accuracy_m=args.accuracy_m, occurred_at=occurred_at)
    await field.add_gps_fix(ctx.actor, args.work_order, fix, clock=clock)
    return Outcome(args.work_order)


async def set_location(ctx: Context, args: SetLocationArgs) -> Outcome:
    row = await _work_order(args.work_order)
    occurred_at, clock = clamp(args.occurred_at, row, ctx)
    location = LocationSet(lat=args.lat, lng=args.lng, note=args.note, occurred_at=occurred_at)
    await field.set_location(ctx.actor, args.work_order, location, clock=clock)
    return Outcome(args.work_order)


async def attach(ctx: Context, args: AttachPhotoArgs) -> Outcome:
    row = await _work_order(args.work_order)
    taken_at, clock = clamp(args.taken_at, row, ctx)
    photo = PhotoAttach(
        sha256=args.sha256,
        kind=args.kind,
        taken_at=taken_at if args.taken_at else None,
        lat=args.lat,
        lng=args.lng,
        client_id=args.client_id,
    )
    await attach_photo(ctx.actor, args.work_order, photo, clock=clock)
    return Outcome(args.work_order)


MUTATORS: dict[str, tuple[type, Callable[[Context, Any], Awaitable[Outcome]]]] = {
    "set_status": (SetStatusArgs, set_status),
    "complete": (CompleteArgs, complete),
    "add_note": (AddNoteArgs, add_note),
    "add_gps_fix": (GpsFixArgs, add_gps_fix),
    "set_location": (SetLocationArgs, set_location),
    "attach_photo": (AttachPhotoArgs, attach),
}


async def apply(ctx: Context, mutation: MutationIn) -> Outcome:
    """Apply one mutation; a DomainError means it can never apply (it is then rejected)."""
    if mutation.name not in MUTATORS:
        raise InputInvalidError(
            f"unknown mutation {mutation.name!r}; this server knows {', '.join(MUTATORS)}",
            field="name",
        )
    args_type, mutator = MUTATORS[mutation.name]
    try:
        args = msgspec.convert(mutation.args, args_type, strict=False)
    except msgspec.ValidationError as error:
        raise InputInvalidError(
            f"bad arguments for {mutation.name}: {error}", field="args"
        ) from None
    return await mutator(ctx, args)
