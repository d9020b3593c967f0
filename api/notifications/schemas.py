"""Push subscriptions as browsers send them, and notifications as the office sees them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

_B64URL = r"^[A-Za-z0-9_-]+=*$"
PublicKeyText = Annotated[str, msgspec.Meta(min_length=80, max_length=100, pattern=_B64URL)]
AuthText = Annotated[str, msgspec.Meta(min_length=16, max_length=40, pattern=_B64URL)]


class NotificationKind(StrEnum):
    CASE_RECEIVED = "case_received"  # a citizen started following their case
    WORK_SCHEDULED = "work_scheduled"  # the case's work went to a crew
    WORK_COMPLETED = "work_completed"  # with the shareable "after" photo
    WORK_NOT_COMPLETED = "work_not_completed"  # with the reason
    URGENT_WORK = "urgent_work"  # to the crew's devices


KIND_WORDS = {
    NotificationKind.CASE_RECEIVED: "report received",
    NotificationKind.WORK_SCHEDULED: "work scheduled",
    NotificationKind.WORK_COMPLETED: "work completed",
    NotificationKind.WORK_NOT_COMPLETED: "work could not be completed",
    NotificationKind.URGENT_WORK: "urgent work",
}


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: PublicKeyText  # the browser's P-256 public key, 65 bytes
    auth: AuthText  # the 16-byte auth secret


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    """What `PushSubscription.toJSON()` gives in a browser."""

    endpoint: Annotated[str, msgspec.Meta(min_length=12, max_length=1000)]
    keys: SubscriptionKeys
    expirationTime: int | float | None = None  # the browser's own name for it


class Unsubscribe(msgspec.Struct, forbid_unknown_fields=True):
    endpoint: Annotated[str, msgspec.Meta(min_length=12, max_length=1000)]


class SubscriptionOut(msgspec.Struct):
    id: int
    endpoint: str
    following: list[str]  # case ids this browser follows (citizens)
    user: str | None  # the staff user whose device it is


class PublicKey(msgspec.Struct):
    public_key: str  # base64url: the applicationServerKey for pushManager.subscribe()


class NotificationOut(msgspec.Struct):
    id: int
    kind: NotificationKind
    audience: str
    status: str  # pending | sending | sent | failed | gone
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str
    work_order: str | None
