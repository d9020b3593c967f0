"""What a notification says: the payload a service worker turns into a notification.

Rendered when it is sent, not when it is queued, from the case as it is then: an "after" photo
uploaded a minute after the completion (photos travel separately from the tablet's sync) is in
the message. Every payload carries the notification's id as `tag`, so a browser that gets the
same notification twice (a retry after a lost answer) replaces it instead of showing two.

Plain words for the citizen: what, where, what happened; never the crew's names, never a note.
Links are paths on this server: the service worker shows them on its own origin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from api.cases.tables import Case
from api.notifications.schemas import NotificationKind
from api.workorders.schemas import RESOLUTION_CODES, WorkOrderStatus
from api.workorders.tables import WorkOrder
from media.schemas import PhotoKind, PhotoVariant
from media.service import public_url
from media.tables import Photo

MAX_PAYLOAD_BYTES = 3993  # 4096 less the aes128gcm record overhead (DESIGN §6)
MAX_BODY = 400

K = NotificationKind


@dataclass(frozen=True)
class Context:
    """The facts a message is made of, read when it is sent."""

    case_id: str
    tracking_token: str
    service: str
    address: str | None
    work_order: str | None = None
    resolution: str | None = None
    due_at: datetime | None = None
    photo_sha256: str | None = None  # the latest shareable "after" photo, once ready


async def load_context(case_id: int, work_order_id: int | None) -> Context:
    case = (
        await Case.select(
            Case.public_id,
            Case.tracking_token,
            Case.service_type.name,
            Case.place.address,
        )
        .where(Case.id == case_id)
        .first()
    )
    context = Context(
        case_id=case["public_id"],
        tracking_token=case["tracking_token"],
        service=case["service_type.name"],
        address=case["place.address"],
    )
    if work_order_id is None:
        return context
    work_order = (
        await WorkOrder.select(
            WorkOrder.number, WorkOrder.status, WorkOrder.resolution_code, WorkOrder.due_at
        )
        .where(WorkOrder.id == work_order_id)
        .first()
    )
    photo = (
        await Photo.select(Photo.sha256)
        .where(
            (Photo.work_order == work_order_id)
            & (Photo.kind == PhotoKind.AFTER.value)
            & (Photo.shareable.eq(True))
            & (Photo.status == "ready")
        )
        .order_by(Photo.id, ascending=False)
        .first()
    )
    codes = RESOLUTION_CODES.get(WorkOrderStatus(work_order["status"]), {})
    return replace(
        context,
        work_order=work_order["number"],
        resolution=codes.get(work_order["resolution_code"] or ""),
        due_at=work_order["due_at"],
        photo_sha256=photo["sha256"] if photo else None,
    )


def _where(context: Context) -> str:
    return f" at {context.address}" if context.address else ""


def render(notification_id: int, kind: NotificationKind, context: Context) -> dict[str, Any]:
    """The payload: title, body, link, optional image, and the tag that makes it one."""
    status_page = f"/track/{context.tracking_token}"
    image = None
    if kind is K.CASE_RECEIVED:
        title = "We got your report"
        body = (
            f"{context.service}{_where(context)}, case {context.case_id}. "
            "We will let you know when the work is done."
        )
    elif kind is K.WORK_SCHEDULED:
        title = "A crew is on it"
        body = f"{context.service}{_where(context)} (case {context.case_id}) is scheduled"
        body += f" for {context.due_at:%B} {context.due_at.day}." if context.due_at else "."
    elif kind is K.WORK_COMPLETED:
        title = f"Done: {context.service}"
        outcome = f" ({context.resolution.lower()})" if context.resolution else ""
        body = (
            f"{context.service}{_where(context)} is done{outcome}. "
            f"Thank you for reporting it. Case {context.case_id}."
        )
        if context.photo_sha256:
            image = public_url(context.tracking_token, context.photo_sha256, PhotoVariant.DISPLAY)
    elif kind is K.WORK_NOT_COMPLETED:
        title = "We could not finish the work yet"
        reason = f": {context.resolution.lower()}" if context.resolution else ""
        body = (
            f"{context.service}{_where(context)}{reason}. We will follow up; you can call 311 "
            f"about case {context.case_id}."
        )
    else:  # K.URGENT_WORK, for the crew
        title = f"Urgent: {context.service}"
        body = f"{context.work_order}{_where(context)}"
        body += f", due {context.due_at:%H:%M}" if context.due_at else ""
        status_page = f"/work-orders/{context.work_order}"
    payload: dict[str, Any] = {
        "id": notification_id,
        "tag": f"fieldloop-{notification_id}",
        "kind": kind.value,
        "title": title,
        "body": body[:MAX_BODY],
        "url": status_page,
        "case": context.case_id,
    }
    if image:
        payload["image"] = image
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    """JSON, within what one Web Push record can carry (the body is cut if need be)."""
    data = json.dumps(payload, separators=(",", ":")).encode()
    while len(data) > MAX_PAYLOAD_BYTES and len(payload["body"]) > 1:
        payload = payload | {"body": payload["body"][: len(payload["body"]) // 2] + "…"}
        data = json.dumps(payload, separators=(",", ":")).encode()
    return data
