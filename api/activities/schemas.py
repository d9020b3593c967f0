"""Timeline entries as clients see them, and the note a user adds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from api.types import LongText


class ActivityKind(StrEnum):
    CASE_CREATED = "case_created"
    CASE_RESOLVED = "case_resolved"
    CASE_REOPENED = "case_reopened"
    CASE_STATUS = "case_status"
    WORK_ORDER_CREATED = "work_order_created"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    NOTE = "note"
    CALL = "call"
    GPS_FIX = "gps_fix"
    LOCATION_SET = "location_set"
    PHOTO = "photo"
    FIELD_CONFLICT = "field_conflict"  # field work that crossed an office decision; flagged
    NOTIFICATION = "notification"  # a citizen told (or not, and why) by push


class NoteCreate(msgspec.Struct, forbid_unknown_fields=True):
    body: LongText
    public: bool = False
    occurred_at: datetime | None = None  # when it happened, by the writer's clock


class ActivityOut(msgspec.Struct):
    id: int
    kind: ActivityKind
    body: str
    data: dict[str, Any]
    public: bool
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None
    work_order: str | None
