"""The sync wire format (docs/sync-protocol.md is its specification)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from api.catalog.schemas import ServiceTypeOut
from api.types import Name
from api.workorders.schemas import WorkOrderListItem, WorkOrderOut
from media.schemas import PhotoOut

DeviceId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Cursor = Annotated[str, msgspec.Meta(max_length=80, pattern=r"^[a-z0-9.]*$")]
MAX_MUTATIONS_PER_PUSH = 500


class DeviceRegister(msgspec.Struct, forbid_unknown_fields=True):
    device_id: DeviceId
    name: Name = ""
    app_version: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[^\x00]*$")] = ""


class DeviceRevoke(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class DeviceOut(msgspec.Struct):
    device_id: str
    username: str
    name: str
    app_version: str
    last_mutation_seq: int
    registered_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None


class PullRequest(msgspec.Struct, forbid_unknown_fields=True):
    device_id: DeviceId
    cursor: Cursor | None = None  # None (or "") for a first, full pull
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100


class WorkOrderBundle(msgspec.Struct):
    """One work order with everything a crew needs offline."""

    work_order: WorkOrderOut  # with the transitions this device's user may make
    photos: list[PhotoOut]
    history: list[WorkOrderListItem]  # earlier work at the same place, newest first


class ReferenceData(msgspec.Struct):
    service_types: list[ServiceTypeOut]
    resolution_codes: dict[str, dict[str, str]]


class PullResponse(msgspec.Struct):
    cursor: str | None
    has_more: bool
    reset: bool
    last_mutation_seq: int
    work_orders: list[WorkOrderBundle]
    removed: list[str]
    reference: ReferenceData | None
    server_time: datetime
    reason: str | None = None


class MutationIn(msgspec.Struct, forbid_unknown_fields=True):
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    id: Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    # any name a client may send (an older or newer app): one this server does not know is
    # rejected on its own and the queue moves on, so only absurd lengths are refused here
    name: Annotated[str, msgspec.Meta(max_length=200)]
    args: dict[str, Any] = {}


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    device_id: DeviceId
    mutations: Annotated[list[MutationIn], msgspec.Meta(max_length=MAX_MUTATIONS_PER_PUSH)]
    app_version: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[^\x00]*$")] = ""


class MutationResult(msgspec.Struct):
    seq: int
    id: str
    status: str  # applied | rejected
    reason: str | None = None
    flagged: bool = False
    work_order: str | None = None
    replayed: bool = False


class PushResponse(msgspec.Struct):
    results: list[MutationResult]
    last_mutation_seq: int
