"""Photo metadata as a crew's tablet sends it (the bytes travel separately), and photos as the
API shows them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from api.types import Latitude, Longitude


class PhotoKind(StrEnum):
    BEFORE = "before"
    AFTER = "after"
    OTHER = "other"


class PhotoVariant(StrEnum):
    """The files a photo is served as: the original is for staff only."""

    DISPLAY = "display"
    THUMB = "thumb"
    ORIGINAL = "original"


Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
ClientId = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[^\x00]*$")]
WorkOrderNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[\w-]+$")]


class PhotoAttach(msgspec.Struct, forbid_unknown_fields=True):
    sha256: Sha256
    kind: PhotoKind
    taken_at: datetime | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    client_id: ClientId = ""


class UploadMetadata(PhotoAttach, kw_only=True):
    """What a tus upload's `Upload-Metadata` carries: the photo and where it belongs."""

    work_order: WorkOrderNumber

    def attach(self) -> PhotoAttach:
        return PhotoAttach(**{name: getattr(self, name) for name in PhotoAttach.__struct_fields__})


class PhotoUrls(msgspec.Struct):
    display: str
    thumb: str
    original: str | None = None  # staff only; absent where a citizen looks


class PhotoOut(msgspec.Struct):
    sha256: str
    kind: PhotoKind
    status: str  # pending (bytes not yet received) | ready
    taken_at: datetime | None
    lat: float | None
    lng: float | None
    shareable: bool = False
    width: int | None = None
    height: int | None = None
    urls: PhotoUrls | None = None  # once ready


class ShareChange(msgspec.Struct, forbid_unknown_fields=True):
    shareable: bool


class PublicPhoto(msgspec.Struct):
    """An "after" photo as the citizen's status page shows it: no place, no people."""

    sha256: str
    taken_at: datetime | None
    width: int
    height: int
    urls: PhotoUrls


class UploadCreated(msgspec.Struct):
    token: str
    location: str
    expires_at: datetime


class UploadState(msgspec.Struct):
    received: int
    length: int
    metadata: str
    expires_at: datetime
    status: str
