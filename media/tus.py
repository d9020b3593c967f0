"""The tus 1.0 resumable-upload protocol's wire format, as pure functions (https://tus.io/protocols/resumable-upload).

Fieldloop speaks tus core plus the creation, checksum, termination and expiration extensions
at `/api/uploads`. This module only reads and writes headers: what the values mean for a photo
(which work order, which user) is `media/uploads.py`'s business, and the HTTP plumbing is
`media/routes.py`'s. Errors name the header at fault, so a client author can fix their client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

import msgspec

from api.errors import (
    ChecksumMismatchError,
    InputInvalidError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ProtocolError,
    UnsupportedMediaTypeError,
)
from media.schemas import UploadMetadata

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "checksum", "termination", "expiration")
CHECKSUM_ALGORITHMS = ("sha256", "sha1")  # tus requires sha1; photos are named by sha256
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"

_KEY = re.compile(r"^[!#-+\--~]+$")  # printable ASCII without space and comma
_MAX_METADATA = 4096


@dataclass(frozen=True)
class Checksum:
    """An `Upload-Checksum` header: the algorithm and the digest the chunk must have."""

    algorithm: str
    digest: bytes

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)

    def check(self, hasher: hashlib._Hash) -> None:
        if hasher.digest() != self.digest:
            raise ChecksumMismatchError(
                f"the chunk's {self.algorithm} does not match Upload-Checksum; it was not "
                "stored, send it again",
                field="Upload-Checksum",
                reason="checksum_mismatch",
            )


def require_version(header: str | None) -> None:
    """Every request but OPTIONS must say `Tus-Resumable: 1.0.0` (412 otherwise, with the
    versions this server speaks in `Tus-Version`)."""
    if header != TUS_VERSION:
        raise PreconditionFailedError(
            f"Tus-Resumable must be {TUS_VERSION} (got {header or 'nothing'})",
            field="Tus-Resumable",
            reason="tus_version",
        )


def require_offset_content_type(header: str | None) -> None:
    """A PATCH body must be `application/offset+octet-stream` (tus core)."""
    if (header or "").split(";")[0].strip().lower() != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaTypeError(
            f"a PATCH body must be sent as {OFFSET_CONTENT_TYPE}",
            field="Content-Type",
            reason="content_type",
        )


def parse_length(header: str | None, limit: int) -> int:
    """`Upload-Length`: whole bytes, more than zero, at most `limit`."""
    if header is None:
        raise ProtocolError(
            "Upload-Length is required (deferred length is not supported)",
            field="Upload-Length",
            reason="length_missing",
        )
    if not header.isdigit() or len(header) > 15:
        raise ProtocolError("Upload-Length must be a whole number of bytes", field="Upload-Length")
    length = int(header)
    if length == 0:
        raise InputInvalidError(
            "the file is empty (Upload-Length: 0)", field="Upload-Length", reason="empty"
        )
    if length > limit:
        raise PayloadTooLargeError(
            f"the file is {length / 1e6:.1f} MB; photos may be at most {limit / 1e6:.0f} MB",
            field="Upload-Length",
            reason="too_large",
            limit=limit,
        )
    return length


def parse_offset(header: str | None) -> int:
    if header is None or not header.isdigit() or len(header) > 15:
        raise ProtocolError("Upload-Offset must be a whole number of bytes", field="Upload-Offset")
    return int(header)


def parse_checksum(header: str | None) -> Checksum | None:
    """`Upload-Checksum: sha256 <base64 digest>`, or None when the client sent none."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ProtocolError(
            f"Upload-Checksum algorithm {algorithm!r} is not supported; use "
            + " or ".join(CHECKSUM_ALGORITHMS),
            field="Upload-Checksum",
            reason="checksum_algorithm",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(
            "Upload-Checksum digest is not base64", field="Upload-Checksum"
        ) from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise ProtocolError(
            f"Upload-Checksum digest has the wrong length for {algorithm}",
            field="Upload-Checksum",
        )
    return Checksum(algorithm, digest)


def parse_metadata_header(header: str | None) -> dict[str, str]:
    """`Upload-Metadata: key base64,key2 base64,flag` → {key: decoded text}."""
    if not header:
        return {}
    if len(header) > _MAX_METADATA:
        raise ProtocolError(
            f"Upload-Metadata is over {_MAX_METADATA} characters", field="Upload-Metadata"
        )
    pairs: dict[str, str] = {}
    for item in header.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _KEY.match(key):
            raise ProtocolError(
                f"Upload-Metadata has a malformed key {key[:40]!r}", field="Upload-Metadata"
            )
        if key in pairs:
            raise ProtocolError(f"Upload-Metadata names {key!r} twice", field="Upload-Metadata")
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ProtocolError(
                f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text",
                field=f"Upload-Metadata.{key}",
            ) from None
    return pairs


def encode_metadata(pairs: dict[str, str]) -> str:
    """The inverse of `parse_metadata_header`, for clients and tests."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in pairs.items()
    )


_FIELDS = set(UploadMetadata.__struct_fields__)
_NUMBERS = {"lat", "lng"}


def read_metadata(pairs: dict[str, str]) -> UploadMetadata:
    """The photo's metadata from decoded pairs; keys Fieldloop does not know (tus clients add
    `filename`, `filetype`) are ignored, known ones are validated like a JSON body."""
    known: dict[str, object] = {}
    for key, value in pairs.items():
        if key not in _FIELDS or value == "":
            continue
        if key in _NUMBERS:
            try:
                known[key] = float(value)
            except ValueError:
                raise InputInvalidError(
                    f"{key} must be a number", field=f"metadata.{key}"
                ) from None
        else:
            known[key] = value
    try:
        return msgspec.convert(known, UploadMetadata)
    except msgspec.ValidationError as error:
        message = str(error)
        where = re.search(r"`\$\.(\w+)`", message) or re.search(r"field `(\w+)`", message)
        raise InputInvalidError(
            f"Upload-Metadata: {message}",
            field=f"metadata.{where.group(1)}" if where else "metadata",
        ) from None


def http_date(moment: datetime) -> str:
    """RFC 9110 date, as `Upload-Expires` wants it."""
    return format_datetime(moment, usegmt=True)
