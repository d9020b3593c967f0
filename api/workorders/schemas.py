"""Work-order states, resolution codes and the shapes the API sends and takes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from api.activities.schemas import ActivityOut
from api.citizens.schemas import PlaceOut
from api.types import Code, DbId, Latitude, Longitude, LongText


class WorkOrderStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANNOT_COMPLETE = "cannot_complete"
    CANCELLED = "cancelled"
    REOPENED = "reopened"


S = WorkOrderStatus
FINAL_STATUSES = frozenset({S.COMPLETED, S.CANNOT_COMPLETE, S.CANCELLED})

# The state machine (DESIGN §3). A crew may skip en_route (already on site), and may give up
# (cannot_complete) on the way: a closed road is a real answer. on_hold returns to any active
# state; cancelled is reachable from every non-final state; final states only reopen.
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    S.NEW: frozenset({S.ASSIGNED, S.ON_HOLD, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.ON_HOLD, S.CANNOT_COMPLETE, S.CANCELLED}),
    S.ON_SITE: frozenset({S.COMPLETED, S.CANNOT_COMPLETE, S.ON_HOLD, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.NEW, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.CANCELLED}),
    S.REOPENED: frozenset({S.ASSIGNED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.REOPENED}),
    S.CANNOT_COMPLETE: frozenset({S.REOPENED}),
    S.CANCELLED: frozenset({S.REOPENED}),
}

# timeline entries citizens may see, and the words each status change writes
PUBLIC_STATUSES = {S.EN_ROUTE, S.ON_SITE, S.COMPLETED, S.CANNOT_COMPLETE, S.CANCELLED}
STATUS_WORDS = {
    S.NEW: "Back in the queue",
    S.ASSIGNED: "Scheduled",
    S.EN_ROUTE: "Crew on the way",
    S.ON_SITE: "Crew on site",
    S.ON_HOLD: "On hold",
    S.COMPLETED: "Work completed",
    S.CANNOT_COMPLETE: "Could not be completed",
    S.CANCELLED: "Cancelled",
    S.REOPENED: "Reopened",
}

# What a crew records when it finishes (completed) or gives up (cannot_complete).
RESOLUTION_CODES: dict[WorkOrderStatus, dict[str, str]] = {
    S.COMPLETED: {
        "repaired": "Repaired",
        "replaced": "Replaced",
        "cleaned": "Cleaned up",
        "removed": "Removed",
        "temporary_fix": "Temporary fix made",
        "no_issue_found": "Checked: no issue found",
    },
    S.CANNOT_COMPLETE: {
        "no_access": "No access to the site",
        "needs_equipment": "Needs other equipment or materials",
        "unsafe": "Unsafe to work",
        "not_found": "Could not find the problem",
        "other_agency": "Belongs to another agency or owner",
    },
}


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class WorkOrderCreate(msgspec.Struct, forbid_unknown_fields=True):
    priority: Priority = Priority.NORMAL
    instructions: LongText = ""
    crew_id: DbId | None = None  # assign at once (supervisor)
    due_at: datetime | None = None  # default: now + the service type's SLA


class AssignRequest(msgspec.Struct, forbid_unknown_fields=True):
    crew_id: DbId


class StatusChange(msgspec.Struct, forbid_unknown_fields=True):
    status: WorkOrderStatus
    expected_status: WorkOrderStatus | None = None  # the status the client last saw
    resolution_code: Code | None = None  # required for completed and cannot_complete
    note: LongText = ""
    occurred_at: datetime | None = None  # field clock


class GpsFix(msgspec.Struct, forbid_unknown_fields=True):
    """Where the crew was (the tablet's position), for the record."""

    lat: Latitude
    lng: Longitude
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None
    occurred_at: datetime | None = None


class LocationSet(msgspec.Struct, forbid_unknown_fields=True):
    """Where the work really is, as the crew found it (the reported address may be off)."""

    lat: Latitude
    lng: Longitude
    note: LongText = ""
    occurred_at: datetime | None = None


class CrewRef(msgspec.Struct):
    id: int
    name: str


class WorkOrderListItem(msgspec.Struct):
    number: str
    status: WorkOrderStatus
    priority: Priority
    service_code: str
    service_name: str
    case_id: str
    crew: CrewRef | None
    address: str | None
    lat: float | None
    lng: float | None
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    updated_at: datetime
    distance_m: float | None = None


class WorkOrderPage(msgspec.Struct):
    items: list[WorkOrderListItem]
    next_offset: int | None


class CaseForCrew(msgspec.Struct):
    public_id: str
    description: str
    channel: str
    status: str
    attributes: dict[str, str | list[str]]


class ContactForCrew(msgspec.Struct):
    name: str
    phone: str | None
    email: str | None
    contact_preference: str


class WorkOrderOut(msgspec.Struct):
    number: str
    status: WorkOrderStatus
    priority: Priority
    instructions: str
    service_code: str
    service_name: str
    crew: CrewRef | None
    due_at: datetime | None
    overdue: bool
    case: CaseForCrew
    citizen: ContactForCrew | None
    place: PlaceOut | None
    resolution_code: str | None
    completed_at: datetime | None
    field_completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    allowed_transitions: list[WorkOrderStatus]
    timeline: list[ActivityOut]


WORK_ORDER_NUMBER_PATTERN = r"^WO-\d{4}-\d{6,}$"
WorkOrderNumber = Annotated[str, msgspec.Meta(pattern=WORK_ORDER_NUMBER_PATTERN)]
