"""Photo metadata as a crew's tablet sends it (the bytes travel separately)."""

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


Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class PhotoAttach(msgspec.Struct, forbid_unknown_fields=True):
    sha256: Sha256
    kind: PhotoKind
    taken_at: datetime | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    client_id: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[^\x00]*$")] = ""


class PhotoOut(msgspec.Struct):
    sha256: str
    kind: PhotoKind
    status: str  # pending (bytes not yet received) | ready
    taken_at: datetime | None
    lat: float | None
    lng: float | None
