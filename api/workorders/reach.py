"""Who reaches a work order, and the lock that goes with changing one.

`can()` (api/access.py) decides; this module gives it what it needs about a work order: its
crew, and for append-only field records the crews that held it before. `locked_row` is how
every change starts: the row locked for the transaction, 404 when out of the user's reach.
Shared by the work-order service, field records (GPS, location), photos and sync.
"""

from __future__ import annotations

import json

from api.access import Action, authorize, can
from api.activities.schemas import ActivityKind
from api.activities.tables import Activity
from api.auth.schemas import Principal
from api.db import for_update
from api.errors import NotFoundError
from api.workorders.schemas import TRANSITIONS, WorkOrderStatus
from api.workorders.tables import WorkOrder

S = WorkOrderStatus


class WorkOrderRef:
    """What `can()` needs to know about a work order: whose crew it belongs to."""

    __slots__ = ("crew_id", "former_crew_ids", "number")

    def __init__(self, number: str, crew_id: int | None) -> None:
        self.number = number
        self.crew_id = crew_id
        self.former_crew_ids: frozenset[int] = frozenset()


def action_for(current: WorkOrderStatus, target: WorkOrderStatus) -> Action:
    """Which permission a transition needs: office decisions versus field progress."""
    if target is S.CANCELLED:
        return Action.WORK_ORDER_CANCEL
    if target is S.REOPENED:
        return Action.WORK_ORDER_REOPEN
    if target is S.ASSIGNED and current in (S.NEW, S.REOPENED):
        return Action.WORK_ORDER_ASSIGN
    return Action.WORK_ORDER_FIELD_STATUS


def allowed_transitions(actor: Principal, row: dict) -> list[WorkOrderStatus]:
    """The statuses this user could move this work order to now (for buttons in the UI)."""
    current = S(row["status"])
    ref = WorkOrderRef(row["number"], row["crew"])
    return sorted(
        (
            target
            for target in TRANSITIONS[current]
            if can(actor, action_for(current, target), ref)
            and not (target is S.ASSIGNED and row["crew"] is None)
        ),
        key=list(S).index,
    )


async def former_crew_ids(work_order_id: int) -> frozenset[int]:
    """Every crew the work order was ever assigned to (from its assignment entries)."""
    rows = await Activity.select(Activity.data).where(
        (Activity.work_order == work_order_id) & (Activity.kind == ActivityKind.ASSIGNED.value)
    )
    crews = set()
    for row in rows:
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        crews.update(c for c in (data.get("crew_id"), data.get("from_crew_id")) if c)
    return frozenset(crews)


async def locked_row(
    actor: Principal, number: str, action: Action = Action.WORK_ORDER_READ
) -> dict:
    """The work-order row, locked for this transaction; 404 when out of the user's reach.

    For append-only field actions a crew also reaches work its crew held before."""
    row = await for_update(WorkOrder.select().where(WorkOrder.number == number)).first()
    if row is None:
        raise NotFoundError(f"work order {number} not found")
    ref = WorkOrderRef(number, row["crew"])
    if actor.crew_id is not None and actor.crew_id != row["crew"]:
        ref.former_crew_ids = await former_crew_ids(row["id"])
    # out of reach reads exactly like "no such work order" (api.access)
    authorize(actor, action, ref, what=f"work order {number}")
    return row


def readable(actor: Principal, number: str, row: dict | None) -> dict:
    """`row` (with its `crew`) when the user may read the work order; out of reach reads
    exactly like "no such work order" (api.access)."""
    if row is None:
        raise NotFoundError(f"work order {number} not found")
    authorize(
        actor,
        Action.WORK_ORDER_READ,
        WorkOrderRef(number, row["crew"]),
        what=f"work order {number}",
    )
    return row
