"""Cases as intake creates them and as advocates see them (with their work and timeline)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from api.activities.schemas import ActivityOut
from api.citizens.schemas import CitizenIn, CitizenOut, PlaceIn, PlaceOut
from api.types import Code, LongText


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    OPEN311 = "open311"
    WALK_IN = "walk_in"
    EMAIL = "email"


class CaseStatus(StrEnum):
    OPEN = "open"  # received; no field work under way (or none succeeded)
    IN_PROGRESS = "in_progress"  # a work order is not yet final
    RESOLVED = "resolved"  # answered on the phone, or a work order completed


# what the timeline says when a case's status follows its work orders
CASE_STATUS_WORDS = {
    CaseStatus.RESOLVED: "Resolved: the field work is complete",
    CaseStatus.IN_PROGRESS: "Field work under way",
    CaseStatus.OPEN: "No field work succeeded: needs follow-up",
}


AttributeAnswer = Annotated[str, msgspec.Meta(max_length=4000, pattern=r"^[^\x00]*$")]


class CaseCreate(msgspec.Struct, forbid_unknown_fields=True):
    service_code: Code
    description: LongText = ""
    channel: Channel = Channel.PHONE
    citizen: CitizenIn | None = None  # None or blank: anonymous
    place: PlaceIn | None = None
    attributes: dict[Code, AttributeAnswer | list[AttributeAnswer]] = {}


class CaseResolve(msgspec.Struct, forbid_unknown_fields=True):
    resolution: Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]


class WorkOrderBrief(msgspec.Struct):
    number: str
    status: str
    priority: str
    crew: str | None
    due_at: datetime | None
    resolution_code: str | None
    updated_at: datetime


class CaseSummary(msgspec.Struct):
    public_id: str
    status: CaseStatus
    service_code: str
    service_name: str
    description: str
    channel: Channel
    address: str | None
    citizen_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    work_orders: list[WorkOrderBrief]


class CaseOut(msgspec.Struct):
    public_id: str
    tracking_token: str
    status: CaseStatus
    service_code: str
    service_name: str
    department: str
    description: str
    channel: Channel
    attributes: dict[str, str | list[str]]
    citizen: CitizenOut | None
    place: PlaceOut | None
    resolution: str | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    work_orders: list[WorkOrderBrief]
    timeline: list[ActivityOut]


class CasePage(msgspec.Struct):
    items: list[CaseSummary]
    next_offset: int | None


class PlaceHistory(msgspec.Struct):
    place: PlaceOut
    cases: list[CaseSummary]


class Citizen360(msgspec.Struct):
    """Everything an advocate needs when this citizen calls: every case, its work and story,
    and what else happened at each place involved."""

    citizen: CitizenOut
    cases: list[CaseSummary]
    timeline: list[ActivityOut]
    places: list[PlaceHistory]


CASE_ID_PATTERN = r"^\d{4}-\d{6,}$"
CasePublicId = Annotated[str, msgspec.Meta(pattern=CASE_ID_PATTERN)]
