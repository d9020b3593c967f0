"""Resumable photo uploads: the tus resource's life, from creation to a stored photo.

An upload is created for one photo of one work order (its metadata says which), receives its
bytes in one or more PATCH requests, and is finished when the last byte arrives:

1. The bytes of each PATCH go to a part file first. A chunk whose `Upload-Checksum` fails is
   dropped whole; a connection cut mid-chunk keeps what arrived (tus core), unless a checksum
   was promised, which half a chunk cannot keep.
2. The part joins the spool file under the upload's row lock: the row's `received` is the
   truth, the spool is cut back to it first, so a crash between the two never corrupts.
3. At the last byte: the whole file's sha256 must be the one the metadata named; bytes already
   stored under that hash are not processed or stored again; otherwise the Pillow pipeline
   (off the event loop) checks them and makes the derivatives, and all three files go to
   storage before the StoredPhoto row says they exist.
4. The photo is attached to its work order and every row waiting for these bytes turns ready
   (media.service), in one transaction.

A refused file fails the upload for good (410 afterwards, with the reason) and leaves nothing
behind. Nothing here knows HTTP: `media/routes.py` turns requests into these calls.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread

from api.access import Action
from api.auth.schemas import Principal
from api.db import for_update, lock_name, write_transaction
from api.errors import (
    ConflictError,
    DomainError,
    GoneError,
    InputInvalidError,
    NotFoundError,
    PayloadTooLargeError,
    TooManyRequestsError,
)
from api.settings import Settings
from api.workorders.reach import locked_row
from api.workorders.tables import WorkOrder
from media import tus
from media.pipeline import ProcessedPhoto, process_photo
from media.schemas import UploadCreated, UploadState
from media.service import attach_photo, photo_lock, photo_stored
from media.storage import BlobStorage, blob_key, storage_for
from media.tables import StoredPhoto, Upload

log = logging.getLogger("fieldloop.media")

MAX_OPEN_UPLOADS = 20  # unfinished uploads one user may hold at once
PRUNE_BATCH = 50


class StreamInterrupted(Exception):
    """The client went away in the middle of a request body."""


@dataclass(frozen=True)
class MediaConfig:
    """What the upload service needs from the settings, in one object the app keeps."""

    spool: Path
    storage: BlobStorage
    max_bytes: int
    expiry: timedelta
    zone: tzinfo

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaConfig:
        return cls(
            spool=settings.upload_spool,
            storage=storage_for(settings),
            max_bytes=settings.upload_max_bytes,
            expiry=timedelta(hours=settings.upload_expiry_hours),
            zone=settings.zone,
        )

    def spool_file(self, token: str) -> Path:
        return self.spool / token


@dataclass(frozen=True)
class Received:
    """After a PATCH: how many bytes the server has, until when it keeps them."""

    received: int
    expires_at: datetime
    finished: bool


async def create_upload(
    actor: Principal, config: MediaConfig, length: str | None, metadata: str | None
) -> UploadCreated:
    """A new upload for one photo of a work order the user may add field records to."""
    size = tus.parse_length(length, config.max_bytes)
    meta = tus.read_metadata(tus.parse_metadata_header(metadata))
    await prune_expired(config)
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    await anyio.Path(config.spool).mkdir(parents=True, exist_ok=True)
    async with write_transaction():
        work_order = await locked_row(actor, meta.work_order, Action.WORK_ORDER_FIELD_RECORD)
        open_uploads = await Upload.count().where(
            (Upload.user == actor.id) & (Upload.status == "receiving") & (Upload.expires_at > now)
        )
        if open_uploads >= MAX_OPEN_UPLOADS:
            raise TooManyRequestsError(
                f"you have {open_uploads} unfinished uploads; finish or delete one first",
                reason="too_many_uploads",
            )
        expires_at = now + config.expiry
        await Upload(
            token=token,
            user=actor.id,
            work_order=work_order["id"],
            kind=meta.kind.value,
            sha256=meta.sha256,
            taken_at=meta.taken_at,
            lat=meta.lat,
            lng=meta.lng,
            client_id=meta.client_id,
            metadata=metadata or "",
            length=size,
            received=0,
            status="receiving",
            created_at=now,
            expires_at=expires_at,
        ).save()
        await anyio.Path(config.spool_file(token)).touch()
    return UploadCreated(token=token, location=f"/api/uploads/{token}", expires_at=expires_at)


async def _own_upload(actor: Principal, token: str) -> dict:
    """The user's own upload, usable; another user's reads as missing."""
    row = await Upload.select().where((Upload.token == token) & (Upload.user == actor.id)).first()
    if row is None:
        raise NotFoundError("no such upload")
    if row["status"] == "failed":
        raise GoneError(f"this upload was refused: {row['failure']}", reason="refused")
    if row["status"] == "receiving" and row["expires_at"] <= datetime.now(UTC):
        raise GoneError("this upload expired; start a new one", reason="expired")
    return row


async def upload_state(actor: Principal, config: MediaConfig, token: str) -> UploadState:
    """Where an upload stands (tus HEAD). An upload whose last byte arrived but whose
    finishing was cut short (a crash) is finished now, so a client resuming sees the truth."""
    row = await _own_upload(actor, token)
    if row["status"] == "receiving" and row["received"] == row["length"]:
        await _finish(actor, config, row)
        row = await _own_upload(actor, token)
    return UploadState(
        received=row["received"],
        length=row["length"],
        metadata=row["metadata"],
        expires_at=row["expires_at"],
        status=row["status"],
    )


async def receive(
    actor: Principal,
    config: MediaConfig,
    token: str,
    offset: int,
    checksum: tus.Checksum | None,
    chunks: AsyncIterator[bytes],
) -> Received:
    """Store the bytes of one PATCH at `offset`; finish the upload at its last byte."""
    row = await _own_upload(actor, token)
    if offset != row["received"]:
        raise ConflictError(
            f"Upload-Offset is {offset} but the server has {row['received']} bytes; "
            "resume from there",
            field="Upload-Offset",
            reason="offset_mismatch",
            offset=row["received"],
        )
    if row["status"] == "done":
        return Received(row["received"], row["expires_at"], finished=True)
    part = config.spool / f"{token}.{secrets.token_hex(8)}.part"
    try:
        count = await _write_part(part, chunks, row["length"] - offset, checksum)
        if count:
            row = await _append(config, token, part, offset, count)
    finally:
        await anyio.Path(part).unlink(missing_ok=True)
    finished = row["received"] == row["length"]
    if finished:
        await _finish(actor, config, row)
    return Received(row["received"], row["expires_at"], finished)


async def _write_part(
    part: Path, chunks: AsyncIterator[bytes], room: int, checksum: tus.Checksum | None
) -> int:
    """Write the request body to `part`; the number of bytes worth keeping."""
    hasher = checksum.hasher() if checksum else None
    count = 0
    async with await anyio.open_file(part, "wb") as out:
        try:
            async for chunk in chunks:
                count += len(chunk)
                if count > room:
                    raise PayloadTooLargeError(
                        f"the body goes {count - room} bytes past Upload-Length",
                        reason="past_length",
                    )
                if hasher:
                    hasher.update(chunk)
                await out.write(chunk)
        except StreamInterrupted:
            # tus core keeps what arrived; a chunk promised under a checksum is all or nothing
            return 0 if checksum else count
    if checksum and hasher:
        checksum.check(hasher)
    return count


async def _append(config: MediaConfig, token: str, part: Path, offset: int, count: int) -> dict:
    """Join a part to the spool file under the upload's row lock; the new row."""
    async with write_transaction():
        row = await for_update(Upload.select().where(Upload.token == token)).first()
        if row is None or row["received"] != offset or row["status"] != "receiving":
            raise ConflictError(
                "another request changed this upload meanwhile; ask where it stands (HEAD)",
                reason="offset_mismatch",
                offset=row["received"] if row else 0,
            )
        await anyio.to_thread.run_sync(_join, config.spool_file(token), part, offset)
        expires_at = datetime.now(UTC) + config.expiry
        await Upload.update({Upload.received: offset + count, Upload.expires_at: expires_at}).where(
            Upload.id == row["id"]
        )
    return row | {"received": offset + count, "expires_at": expires_at}


def _join(spool: Path, part: Path, offset: int) -> None:
    with open(spool, "r+b") as out, open(part, "rb") as source:
        out.truncate(offset)  # whatever lies past the recorded offset was never committed
        out.seek(offset)
        while block := source.read(1 << 20):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())


async def _finish(actor: Principal, config: MediaConfig, row: dict) -> None:
    """The last byte is in: check the bytes, store them once, attach the photo."""
    spool = config.spool_file(row["token"])
    meta = tus.read_metadata(tus.parse_metadata_header(row["metadata"]))
    try:
        data = await anyio.Path(spool).read_bytes()
    except FileNotFoundError:
        await _fail(config, row, "its bytes were lost on the server; upload it again")
        raise GoneError("the upload's bytes were lost; upload it again", reason="lost") from None
    digest = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
    try:
        if digest != row["sha256"]:
            raise InputInvalidError(
                f"the file's sha256 is {digest}, not the {row['sha256']} its metadata named",
                field="metadata.sha256",
                reason="sha256_mismatch",
            )
        if not await StoredPhoto.exists().where(StoredPhoto.sha256 == digest):
            processed = await anyio.to_thread.run_sync(
                partial(process_photo, data, zone=config.zone, max_bytes=config.max_bytes)
            )
            await _store(config, digest, spool, processed)
    except DomainError as error:
        await _fail(config, row, error.detail)
        raise
    async with write_transaction():
        await Upload.update({Upload.status: "done"}).where(Upload.id == row["id"])
        number = (
            await WorkOrder.select(WorkOrder.number)
            .where(WorkOrder.id == row["work_order"])
            .first()
        )
        await attach_photo(actor, number["number"], meta.attach())
        await photo_stored(digest)
    await anyio.Path(spool).unlink(missing_ok=True)
    log.info("photo %s stored for %s", digest[:12], number["number"])


async def _store(config: MediaConfig, sha256: str, spool: Path, photo: ProcessedPhoto) -> None:
    """Files first, then the row that says they exist: a crash in between leaves files
    nobody points at, never a row pointing at nothing."""
    storage = config.storage
    await storage.put(blob_key(photo.display.sha256), photo.display.data)
    await storage.put(blob_key(photo.thumb.sha256), photo.thumb.data)
    size = (await anyio.Path(spool).stat()).st_size
    await storage.put_file(blob_key(sha256), spool)
    async with write_transaction():
        await lock_name(photo_lock(sha256))
        if await StoredPhoto.exists().where(StoredPhoto.sha256 == sha256):
            return  # the same bytes finished in another upload meanwhile
        await StoredPhoto(
            sha256=sha256,
            format=photo.format,
            content_type=photo.content_type,
            size_bytes=size,
            width=photo.width,
            height=photo.height,
            taken_at=photo.taken_at,
            lat=photo.lat,
            lng=photo.lng,
            display_sha256=photo.display.sha256,
            display_width=photo.display.width,
            display_height=photo.display.height,
            display_size_bytes=len(photo.display.data),
            thumb_sha256=photo.thumb.sha256,
            thumb_width=photo.thumb.width,
            thumb_height=photo.thumb.height,
            thumb_size_bytes=len(photo.thumb.data),
            created_at=datetime.now(UTC),
        ).save()


async def _fail(config: MediaConfig, row: dict, reason: str) -> None:
    async with write_transaction():
        await Upload.update({Upload.status: "failed", Upload.failure: reason}).where(
            Upload.id == row["id"]
        )
    await anyio.Path(config.spool_file(row["token"])).unlink(missing_ok=True)
    log.info("upload %s… refused: %s", row["token"][:8], reason)


async def terminate(actor: Principal, config: MediaConfig, token: str) -> None:
    """tus termination: the client gives up; its bytes are deleted (a finished photo stays)."""
    row = await Upload.select().where((Upload.token == token) & (Upload.user == actor.id)).first()
    if row is None:
        raise NotFoundError("no such upload")
    await Upload.delete().where(Upload.id == row["id"])
    await anyio.Path(config.spool_file(token)).unlink(missing_ok=True)


async def prune_expired(config: MediaConfig, now: datetime | None = None) -> int:
    """Delete uploads past their expiry, with their bytes; a batch at a time."""
    now = now or datetime.now(UTC)
    rows = (
        await Upload.select(Upload.id, Upload.token)
        .where(Upload.expires_at <= now)
        .limit(PRUNE_BATCH)
    )
    if not rows:
        return 0
    await Upload.delete().where(Upload.id.is_in([row["id"] for row in rows]))
    for row in rows:
        await anyio.Path(config.spool_file(row["token"])).unlink(missing_ok=True)
    return len(rows)
