"""Work-order endpoints: create from a case, list and filter, view, assign, status, notes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from api.activities.schemas import NoteCreate
from api.auth.schemas import Principal
from api.cases.schemas import CASE_ID_PATTERN
from api.workorders import queries, service
from api.workorders.schemas import (
    WORK_ORDER_NUMBER_PATTERN,
    AssignRequest,
    Priority,
    StatusChange,
    WorkOrderCreate,
    WorkOrderOut,
    WorkOrderPage,
    WorkOrderStatus,
)

# Litestar drops msgspec.Meta constraints (api.types) on path and query parameters and checks
# only its own, so parameters spell their limits here: an id past int4 or a NUL byte reaching
# PostgreSQL would be a 500.
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
Number = Annotated[str, PathParameter(pattern=WORK_ORDER_NUMBER_PATTERN)]
CaseId = Annotated[str, PathParameter(pattern=CASE_ID_PATTERN)]
CrewId = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
ServiceCode = Annotated[
    str | None, QueryParameter(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
]


def _bad_query(key: str, message: str) -> ValidationException:
    """A malformed query parameter: 400 naming it, like Litestar's own parameter checks."""
    return ValidationException(
        detail=f"Invalid query parameter {key}",
        extra=[{"message": message, "key": key, "source": "query"}],
    )


def parse_statuses(raw: str | None) -> list[WorkOrderStatus] | None:
    if not raw:
        return None
    try:
        return [WorkOrderStatus(part.strip()) for part in raw.split(",") if part.strip()]
    except ValueError:
        allowed = ", ".join(s.value for s in WorkOrderStatus)
        raise _bad_query("status", f"status must be among: {allowed}") from None


def parse_near(raw: str | None, radius_m: float) -> tuple[float, float, float] | None:
    """'35.79,-78.78' → (lat, lng, radius)."""
    if not raw:
        return None
    try:
        lat_text, lng_text = raw.split(",")
        lat, lng = float(lat_text), float(lng_text)
    except ValueError:
        raise _bad_query("near", "near must be 'lat,lng', e.g. 35.79,-78.78") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise _bad_query("near", "near is off the globe")
    return lat, lng, radius_m


class CaseWorkOrderController(Controller):
    path = "/api/cases/{case_id:str}/work-orders"
    tags = ["work orders"]

    @post("/")
    async def create(
        self,
        current_user: NamedDependency[Principal],
        case_id: CaseId,
        data: JSONBody[WorkOrderCreate],
    ) -> WorkOrderOut:
        """Create field work for a case. Due time defaults to the service type's SLA; with
        `crew_id` (supervisors) it is dispatched at once."""
        return await service.create_work_order(current_user, case_id, data)


class WorkOrderController(Controller):
    path = "/api/work-orders"
    tags = ["work orders"]

    @get("/")
    async def list_work_orders(
        self,
        current_user: NamedDependency[Principal],
        status: FromQuery[str | None] = None,
        crew_id: CrewId = None,
        service_code: ServiceCode = None,
        priority: FromQuery[Priority | None] = None,
        overdue: FromQuery[bool | None] = None,
        near: FromQuery[str | None] = None,
        radius_m: Annotated[float, QueryParameter(gt=0, le=50_000)] = 1_000,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> WorkOrderPage:
        """Work orders, soonest due first. `status` takes a comma-separated list; `near`
        ('lat,lng') with `radius_m` lists the nearest first. Crews see only their own."""
        return await queries.list_work_orders(
            current_user,
            statuses=parse_statuses(status),
            crew_id=crew_id,
            service_code=service_code,
            priority=priority,
            overdue=overdue,
            near=parse_near(near, radius_m),
            limit=limit,
            offset=offset,
        )

    @get("/{number:str}")
    async def view(self, current_user: NamedDependency[Principal], number: Number) -> WorkOrderOut:
        """The work order with its case, citizen contact, place, timeline, and the status
        changes this user may make now."""
        return await service.get_work_order(current_user, number)

    @post("/{number:str}/assign", status_code=200)
    async def assign(
        self,
        current_user: NamedDependency[Principal],
        number: Number,
        data: JSONBody[AssignRequest],
    ) -> WorkOrderOut:
        """Assign or reassign to a crew (supervisors). Reassigning restarts at `assigned`."""
        return await service.assign(current_user, number, data.crew_id)

    @post("/{number:str}/status", status_code=200)
    async def change_status(
        self,
        current_user: NamedDependency[Principal],
        number: Number,
        data: JSONBody[StatusChange],
    ) -> WorkOrderOut:
        """Move through the state machine. 409 names the current status and what is allowed;
        with `expected_status`, 409 also when someone else moved it first."""
        return await service.change_status(current_user, number, data)

    @post("/{number:str}/notes")
    async def add_note(
        self,
        current_user: NamedDependency[Principal],
        number: Number,
        data: JSONBody[NoteCreate],
    ) -> WorkOrderOut:
        """Append a note to the work order's timeline."""
        return await service.add_note(current_user, number, data)
