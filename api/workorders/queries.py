"""The read side of work orders: the detail select and the filtered, paged list.

Kept apart from `service.py` (the rules that change work orders) because dispatch screens and
the benchmarks hammer these queries; each is one SELECT with its joins, no N+1.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from api.access import Action, authorize, crew_scope
from api.auth.schemas import Principal
from api.workorders.schemas import (
    FINAL_STATUSES,
    CrewRef,
    Priority,
    WorkOrderListItem,
    WorkOrderPage,
    WorkOrderStatus,
)
from api.workorders.tables import WorkOrder

_EARTH_RADIUS_M = 6_371_000
_NEAR_CANDIDATES_MAX = 5_000


def detail_query():
    return WorkOrder.select(
        *WorkOrder.all_columns(),
        WorkOrder.crew.name,
        WorkOrder.service_type.code,
        WorkOrder.service_type.name,
        WorkOrder.case.public_id,
        WorkOrder.case.description,
        WorkOrder.case.channel,
        WorkOrder.case.status,
        WorkOrder.case.attributes,
        WorkOrder.case.citizen,
        WorkOrder.case.citizen.name,
        WorkOrder.case.citizen.phone,
        WorkOrder.case.citizen.email,
        WorkOrder.case.citizen.contact_preference,
        WorkOrder.place.address,
        WorkOrder.place.lat,
        WorkOrder.place.lng,
        WorkOrder.place.asset_id,
    )


def list_query():
    return WorkOrder.select(
        WorkOrder.id,
        WorkOrder.number,
        WorkOrder.status,
        WorkOrder.priority,
        WorkOrder.service_type.code,
        WorkOrder.service_type.name,
        WorkOrder.case.public_id,
        WorkOrder.crew,
        WorkOrder.crew.name,
        WorkOrder.place.address,
        WorkOrder.place.lat,
        WorkOrder.place.lng,
        WorkOrder.due_at,
        WorkOrder.created_at,
        WorkOrder.updated_at,
    )


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))


def list_item(row: dict, now: datetime, distance: float | None = None) -> WorkOrderListItem:
    status = WorkOrderStatus(row["status"])
    due_at = row["due_at"]
    return WorkOrderListItem(
        number=row["number"],
        status=status,
        priority=Priority(row["priority"]),
        service_code=row["service_type.code"],
        service_name=row["service_type.name"],
        case_id=row["case.public_id"],
        crew=CrewRef(id=row["crew"], name=row["crew.name"]) if row["crew"] else None,
        address=row["place.address"],
        lat=row["place.lat"],
        lng=row["place.lng"],
        due_at=due_at,
        overdue=due_at is not None and due_at < now and status not in FINAL_STATUSES,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        distance_m=None if distance is None else round(distance, 1),
    )


async def list_work_orders(
    actor: Principal,
    *,
    statuses: list[WorkOrderStatus] | None = None,
    crew_id: int | None = None,
    service_code: str | None = None,
    priority: Priority | None = None,
    overdue: bool | None = None,
    near: tuple[float, float, float] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> WorkOrderPage:
    """Filtered work orders, soonest due first (nearest first with `near`).

    `near` is (lat, lng, radius in metres): a bounding box in SQL narrows the rows, then the
    exact distance filters and orders them. Crew users only ever see their own crew's work.
    """
    authorize(actor, Action.WORK_ORDER_READ)
    now = datetime.now(UTC)
    query = list_query()
    scope = crew_scope(actor)
    if scope is not None:
        query = query.where(WorkOrder.crew == scope)
    if crew_id is not None:
        query = query.where(WorkOrder.crew == crew_id)
    if statuses:
        query = query.where(WorkOrder.status.is_in([s.value for s in statuses]))
    if service_code:
        query = query.where(WorkOrder.service_type.code == service_code)
    if priority is not None:
        query = query.where(WorkOrder.priority == priority.value)
    final = [s.value for s in FINAL_STATUSES]
    if overdue is True:
        query = query.where((WorkOrder.due_at < now) & WorkOrder.status.not_in(final))
    elif overdue is False:
        query = query.where(
            WorkOrder.due_at.is_null() | (WorkOrder.due_at >= now) | WorkOrder.status.is_in(final)
        )
    if near is None:
        rows = await (
            query.order_by(WorkOrder.due_at).order_by(WorkOrder.id).limit(limit + 1).offset(offset)
        )
        more = len(rows) > limit
        return WorkOrderPage(
            items=[list_item(row, now) for row in rows[:limit]],
            next_offset=offset + limit if more else None,
        )
    lat, lng, radius = near
    dlat = math.degrees(radius / _EARTH_RADIUS_M)
    dlng = dlat / max(math.cos(math.radians(lat)), 1e-6)
    query = query.where(
        (WorkOrder.place.lat >= lat - dlat)
        & (WorkOrder.place.lat <= lat + dlat)
        & (WorkOrder.place.lng >= lng - dlng)
        & (WorkOrder.place.lng <= lng + dlng)
    )
    candidates = await query.limit(_NEAR_CANDIDATES_MAX)
    measured = sorted(
        (distance, row["id"], row)
        for row in candidates
        if (distance := distance_m(lat, lng, row["place.lat"], row["place.lng"])) <= radius
    )
    page = measured[offset : offset + limit]
    more = len(measured) > offset + limit
    return WorkOrderPage(
        items=[list_item(row, now, distance) for distance, _, row in page],
        next_offset=offset + limit if more else None,
    )
