"""Photo metadata rules. The bytes (resumable upload, Pillow pipeline) arrive separately; a
photo's row may come first and stays `pending` until they do (DESIGN §4.6)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.access import Action
from api.activities import service as activities
from api.activities.schemas import ActivityKind
from api.auth.schemas import Principal
from api.db import write_transaction
from api.workorders.service import locked_row
from media.schemas import PhotoAttach, PhotoOut
from media.tables import Photo
from sync import feed


async def attach_photo(
    actor: Principal, number: str, photo: PhotoAttach, *, clock: dict | None = None
) -> None:
    """Attach a photo (by content hash) to a work order; attaching it again changes nothing."""
    now = datetime.now(UTC)
    async with write_transaction():
        row = await locked_row(actor, number, Action.WORK_ORDER_FIELD_RECORD)
        if await Photo.exists().where(
            (Photo.work_order == row["id"]) & (Photo.sha256 == photo.sha256)
        ):
            return
        await Photo(
            sha256=photo.sha256,
            work_order=row["id"],
            kind=photo.kind.value,
            status="pending",
            taken_at=photo.taken_at,
            lat=photo.lat,
            lng=photo.lng,
            client_id=photo.client_id,
            created_by=actor.id,
            created_at=now,
        ).save()
        await activities.record(
            case_id=row["case"],
            work_order_id=row["id"],
            kind=ActivityKind.PHOTO,
            body=f"{photo.kind.value.title()} photo",
            actor_id=actor.id,
            occurred_at=activities.field_time(photo.taken_at, now) if photo.taken_at else now,
            data={"sha256": photo.sha256, "kind": photo.kind.value} | (clock or {}),
        )
        await feed.work_order_changed(row["id"], [row["crew"]])


async def photos_for(work_order_ids: list[int]) -> dict[int, list[PhotoOut]]:
    """Photo metadata by work order, oldest first."""
    if not work_order_ids:
        return {}
    rows = await Photo.select().where(Photo.work_order.is_in(work_order_ids)).order_by(Photo.id)
    grouped: dict[int, list[PhotoOut]] = {}
    for row in rows:
        grouped.setdefault(row["work_order"], []).append(
            PhotoOut(
                sha256=row["sha256"],
                kind=row["kind"],
                status=row["status"],
                taken_at=row["taken_at"],
                lat=row["lat"],
                lng=row["lng"],
            )
        )
    return grouped
