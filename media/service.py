"""Photo rules: attaching a photo to a work order, the moment its bytes arrive, who may see it.

A photo is named by the sha256 of its original bytes. Its row and its bytes travel separately
(DESIGN §4.6) and may arrive in either order: `attach_photo` (a crew's mutation or an upload's
metadata) creates the row, `photo_stored` runs when the upload has passed the pipeline. Both
take a lock named after the hash first, so whichever comes second sees the other, and the photo
ends `ready` whatever the order. Every change writes the change feed, so tablets learn of it.

Who sees what: staff see a photo's display image, thumbnail and original when they may read
one of the work orders it is attached to. A citizen sees only "after" photos still marked
shareable, through their case's tracking token, and never the original (it carries GPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from api.access import Action, can
from api.activities import service as activities
from api.activities.schemas import ActivityKind
from api.auth.schemas import Principal
from api.cases.tables import Case
from api.db import lock_name, write_transaction
from api.errors import InputInvalidError, NotFoundError
from api.workorders.reach import WorkOrderRef, locked_row, readable
from api.workorders.tables import WorkOrder
from media.schemas import (
    PhotoAttach,
    PhotoKind,
    PhotoOut,
    PhotoUrls,
    PhotoVariant,
    PublicPhoto,
)
from media.tables import Photo, StoredPhoto
from sync import feed


def photo_lock(sha256: str) -> str:
    return f"photo:{sha256}"


async def attach_photo(
    actor: Principal, number: str, photo: PhotoAttach, *, clock: dict | None = None
) -> None:
    """Attach a photo (by content hash) to a work order; attaching it again changes nothing.

    The photo is `ready` at once when its bytes are already stored, `pending` until then."""
    now = datetime.now(UTC)
    async with write_transaction():
        row = await locked_row(actor, number, Action.WORK_ORDER_FIELD_RECORD)
        await lock_name(photo_lock(photo.sha256))
        if await Photo.exists().where(
            (Photo.work_order == row["id"]) & (Photo.sha256 == photo.sha256)
        ):
            return
        stored = await StoredPhoto.select().where(StoredPhoto.sha256 == photo.sha256).first()
        camera = stored or {}
        sent_place = photo.lat is not None and photo.lng is not None
        await Photo(
            sha256=photo.sha256,
            work_order=row["id"],
            kind=photo.kind.value,
            status="ready" if stored else "pending",
            taken_at=photo.taken_at or camera.get("taken_at"),
            lat=photo.lat if sent_place else camera.get("lat"),
            lng=photo.lng if sent_place else camera.get("lng"),
            client_id=photo.client_id,
            created_by=actor.id,
            created_at=now,
            shareable=photo.kind is PhotoKind.AFTER,
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


async def photo_stored(sha256: str) -> None:
    """The bytes of `sha256` passed the pipeline and are stored: every photo row waiting for
    them becomes ready, taking the camera's time and place where the device sent none."""
    async with write_transaction():
        await lock_name(photo_lock(sha256))
        stored = await StoredPhoto.select().where(StoredPhoto.sha256 == sha256).first()
        waiting = await Photo.select(
            Photo.id, Photo.work_order, Photo.work_order.crew, Photo.taken_at, Photo.lat
        ).where((Photo.sha256 == sha256) & (Photo.status == "pending"))
        if stored is None or not waiting:
            return
        for row in waiting:
            values: dict = {Photo.status: "ready"}
            if row["taken_at"] is None and stored["taken_at"] is not None:
                values[Photo.taken_at] = stored["taken_at"]
            if row["lat"] is None and stored["lat"] is not None:
                values[Photo.lat] = stored["lat"]
                values[Photo.lng] = stored["lng"]
            await Photo.update(values).where(Photo.id == row["id"])
        await feed.work_orders_changed(
            (row["work_order"], row["work_order.crew"]) for row in waiting
        )


async def set_shareable(actor: Principal, number: str, sha256: str, shareable: bool) -> PhotoOut:
    """Show an "after" photo on the citizen's status page, or withdraw it (office staff)."""
    async with write_transaction():
        row = await locked_row(actor, number, Action.PHOTO_SHARE)
        photo = (
            await Photo.select()
            .where((Photo.work_order == row["id"]) & (Photo.sha256 == sha256))
            .first()
        )
        if photo is None:
            raise NotFoundError(f"work order {number} has no photo {sha256[:12]}…")
        if photo["kind"] != PhotoKind.AFTER.value and shareable:
            raise InputInvalidError(
                f"only after photos are shown to the citizen; this is a {photo['kind']} photo",
                field="shareable",
            )
        if photo["shareable"] != shareable:
            await Photo.update({Photo.shareable: shareable}).where(Photo.id == photo["id"])
            await activities.record(
                case_id=row["case"],
                work_order_id=row["id"],
                kind=ActivityKind.PHOTO,
                body=(
                    "After photo shown to the citizen"
                    if shareable
                    else "After photo withdrawn from the citizen's page"
                ),
                actor_id=actor.id,
                data={"sha256": sha256, "shareable": shareable},
            )
            await feed.work_order_changed(row["id"], [row["crew"]])
    photos = (await photos_for([row["id"]]))[row["id"]]
    return next(photo for photo in photos if photo.sha256 == sha256)


def staff_url(sha256: str, variant: PhotoVariant) -> str:
    return f"/api/photos/{sha256}/{variant.value}"


def public_url(token: str, sha256: str, variant: PhotoVariant) -> str:
    return f"/api/track/{token}/photos/{sha256}/{variant.value}"


async def photos_for(work_order_ids: list[int]) -> dict[int, list[PhotoOut]]:
    """Photos by work order, oldest first, with the addresses staff fetch them from."""
    if not work_order_ids:
        return {}
    rows = await Photo.select().where(Photo.work_order.is_in(work_order_ids)).order_by(Photo.id)
    sizes = await _sizes({row["sha256"] for row in rows if row["status"] == "ready"})
    grouped: dict[int, list[PhotoOut]] = {}
    for row in rows:
        size = sizes.get(row["sha256"])
        grouped.setdefault(row["work_order"], []).append(
            PhotoOut(
                sha256=row["sha256"],
                kind=row["kind"],
                status=row["status"],
                taken_at=row["taken_at"],
                lat=row["lat"],
                lng=row["lng"],
                shareable=row["shareable"],
                width=size[0] if size else None,
                height=size[1] if size else None,
                urls=PhotoUrls(
                    display=staff_url(row["sha256"], PhotoVariant.DISPLAY),
                    thumb=staff_url(row["sha256"], PhotoVariant.THUMB),
                    original=staff_url(row["sha256"], PhotoVariant.ORIGINAL),
                )
                if size
                else None,
            )
        )
    return grouped


async def _sizes(hashes: set[str]) -> dict[str, tuple[int, int]]:
    if not hashes:
        return {}
    rows = await StoredPhoto.select(
        StoredPhoto.sha256, StoredPhoto.width, StoredPhoto.height
    ).where(StoredPhoto.sha256.is_in(list(hashes)))
    return {row["sha256"]: (row["width"], row["height"]) for row in rows}


async def work_order_photos(actor: Principal, number: str) -> list[PhotoOut]:
    """A work order's photos, for anyone who may read the work order."""
    query = WorkOrder.select(WorkOrder.id, WorkOrder.crew).where(WorkOrder.number == number)
    row = readable(actor, number, await query.first())
    return (await photos_for([row["id"]])).get(row["id"], [])


@dataclass(frozen=True)
class ServedFile:
    """A stored file to send: its content hash names it and is its strong ETag."""

    sha256: str
    content_type: str
    size: int


def _file_of(stored: dict, variant: PhotoVariant) -> ServedFile:
    if variant is PhotoVariant.ORIGINAL:
        return ServedFile(stored["sha256"], stored["content_type"], stored["size_bytes"])
    prefix = variant.value
    return ServedFile(stored[f"{prefix}_sha256"], "image/jpeg", stored[f"{prefix}_size_bytes"])


async def file_for_staff(actor: Principal, sha256: str, variant: PhotoVariant) -> ServedFile:
    """The file behind a photo, for a user who may read a work order showing it; else 404."""
    attached = await Photo.select(Photo.work_order.number, Photo.work_order.crew).where(
        Photo.sha256 == sha256
    )
    if not any(
        can(
            actor,
            Action.WORK_ORDER_READ,
            WorkOrderRef(row["work_order.number"], row["work_order.crew"]),
        )
        for row in attached
    ):
        raise NotFoundError("photo not found")
    stored = await StoredPhoto.select().where(StoredPhoto.sha256 == sha256).first()
    if stored is None:
        raise NotFoundError("photo not uploaded yet", reason="pending")
    return _file_of(stored, variant)


async def _case_id(token: str) -> int:
    case = await Case.select(Case.id).where(Case.tracking_token == token).first()
    if case is None:
        raise NotFoundError("no case has this tracking link")
    return case["id"]


def _shared_with_citizen(case_id: int):
    return (
        (Photo.work_order.case == case_id)
        & (Photo.kind == PhotoKind.AFTER.value)
        & (Photo.shareable.eq(True))
        & (Photo.status == "ready")
    )


async def public_photos(token: str) -> list[PublicPhoto]:
    """The "after" photos a citizen may see on their case's status page."""
    case_id = await _case_id(token)
    rows = (
        await Photo.select(Photo.sha256, Photo.taken_at)
        .where(_shared_with_citizen(case_id))
        .order_by(Photo.id)
    )
    sizes = await _sizes({row["sha256"] for row in rows})
    seen: set[str] = set()
    photos = []
    for row in rows:
        if row["sha256"] in seen or row["sha256"] not in sizes:
            continue
        seen.add(row["sha256"])
        width, height = sizes[row["sha256"]]
        photos.append(
            PublicPhoto(
                sha256=row["sha256"],
                taken_at=row["taken_at"],
                width=width,
                height=height,
                urls=PhotoUrls(
                    display=public_url(token, row["sha256"], PhotoVariant.DISPLAY),
                    thumb=public_url(token, row["sha256"], PhotoVariant.THUMB),
                ),
            )
        )
    return photos


async def file_for_anyone(sha256: str) -> ServedFile:
    """A shareable "after" photo's display image, for Open311's `media_url` (open data: the
    image carries no metadata and the address names no case)."""
    if not await Photo.exists().where(
        (Photo.sha256 == sha256)
        & (Photo.kind == PhotoKind.AFTER.value)
        & Photo.shareable.eq(True)
        & (Photo.status == "ready")
    ):
        raise NotFoundError("photo not found")
    stored = await StoredPhoto.select().where(StoredPhoto.sha256 == sha256).first()
    if stored is None:
        raise NotFoundError("photo not found")
    return _file_of(stored, PhotoVariant.DISPLAY)


async def file_for_citizen(token: str, sha256: str, variant: PhotoVariant) -> ServedFile:
    """A shareable "after" photo's display image or thumbnail, by the case's tracking token."""
    case_id = await _case_id(token)
    if variant is PhotoVariant.ORIGINAL or not await Photo.exists().where(
        _shared_with_citizen(case_id) & (Photo.sha256 == sha256)
    ):
        raise NotFoundError("photo not found")
    stored = await StoredPhoto.select().where(StoredPhoto.sha256 == sha256).first()
    if stored is None:
        raise NotFoundError("photo not found")
    return _file_of(stored, variant)
