"""Field records from crews: GPS fixes, location corrections, and field work that crossed an
office decision.

Split from `service.py` (the state machine) because these follow a different rule: field data
only ever adds to the record, so it is never thrown away (DESIGN §1, "field reality wins"). A
GPS fix or a late completion from a crew whose work was moved is still kept; a late completion
is recorded on the timeline and the work order is flagged for a supervisor instead of being
applied over the office's decision.
"""

from __future__ import annotations

from datetime import UTC, datetime

from api.access import Action
from api.activities import service as activities
from api.activities.schemas import ActivityKind
from api.auth.schemas import Principal
from api.citizens.tables import Place
from api.db import write_transaction
from api.workorders.reach import locked_row
from api.workorders.schemas import RESOLUTION_CODES, GpsFix, LocationSet, WorkOrderStatus
from api.workorders.tables import WorkOrder
from sync import feed


async def add_gps_fix(
    actor: Principal, number: str, fix: GpsFix, *, clock: dict | None = None
) -> None:
    """Record where the crew was (internal; append-only)."""
    now = datetime.now(UTC)
    occurred_at = activities.field_time(fix.occurred_at, now)
    async with write_transaction():
        row = await locked_row(actor, number, Action.WORK_ORDER_FIELD_RECORD)
        await activities.record(
            case_id=row["case"],
            work_order_id=row["id"],
            kind=ActivityKind.GPS_FIX,
            body=f"Position {fix.lat:.6f}, {fix.lng:.6f}",
            actor_id=actor.id,
            occurred_at=occurred_at,
            data={"lat": fix.lat, "lng": fix.lng, "accuracy_m": fix.accuracy_m} | (clock or {}),
        )
        await feed.work_order_changed(row["id"], [row["crew"]])


async def set_location(
    actor: Principal, number: str, location: LocationSet, *, clock: dict | None = None
) -> None:
    """Move the work to where the crew found it. The work order gets a place of its own at
    the corrected position; the case keeps the place the citizen reported."""
    now = datetime.now(UTC)
    occurred_at = activities.field_time(location.occurred_at, now)
    async with write_transaction():
        row = await locked_row(actor, number, Action.WORK_ORDER_FIELD_STATUS)
        old = await Place.select().where(Place.id == row["place"]).first() if row["place"] else None
        address = old["address"] if old else f"Work order {number}"
        place = Place(
            address=address,
            normalized_address=old["normalized_address"] if old else "",
            lat=location.lat,
            lng=location.lng,
            asset_id=old["asset_id"] if old else None,
            created_at=now,
        )
        await place.save()
        await WorkOrder.update({WorkOrder.place: place.id, WorkOrder.updated_at: now}).where(
            WorkOrder.id == row["id"]
        )
        await activities.record(
            case_id=row["case"],
            work_order_id=row["id"],
            kind=ActivityKind.LOCATION_SET,
            body=location.note.strip() or "Location corrected in the field",
            actor_id=actor.id,
            occurred_at=occurred_at,
            data={
                "lat": location.lat,
                "lng": location.lng,
                "from": {"lat": old["lat"], "lng": old["lng"]} if old else None,
            }
            | (clock or {}),
        )
        await feed.work_order_changed(row["id"], [row["crew"]])


async def record_field_conflict(
    actor: Principal,
    number: str,
    *,
    status: WorkOrderStatus,
    resolution_code: str | None,
    note: str,
    occurred_at: datetime,
    reason: str,
    clock: dict | None = None,
) -> None:
    """Keep field work the office's decision got in the way of, and flag it for review.

    Used when a crew completes (or gives up on) work offline that meanwhile was cancelled,
    given to another crew, or finished by someone else: the work order's status stays as the
    office left it, the crew's report goes on the timeline, and a supervisor sees the flag."""
    now = datetime.now(UTC)
    async with write_transaction():
        row = await locked_row(actor, number, Action.WORK_ORDER_FIELD_RECORD)
        label = RESOLUTION_CODES.get(status, {}).get(resolution_code or "", "")
        words = "Completed" if status is WorkOrderStatus.COMPLETED else "Could not complete"
        body = f"{words} in the field{f' ({label})' if label else ''}, but {reason}"
        await activities.record(
            case_id=row["case"],
            work_order_id=row["id"],
            kind=ActivityKind.FIELD_CONFLICT,
            body=body + (f". Crew note: {note.strip()}" if note.strip() else ""),
            actor_id=actor.id,
            occurred_at=occurred_at,
            data={"status": status.value, "resolution_code": resolution_code, "reason": reason}
            | (clock or {}),
        )
        await WorkOrder.update(
            {WorkOrder.flagged_at: now, WorkOrder.flag_reason: body, WorkOrder.updated_at: now}
        ).where(WorkOrder.id == row["id"])
        await feed.work_order_changed(row["id"], [row["crew"]])
