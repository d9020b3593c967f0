"""A minimal tus client for tests, over any httpx client (the app in-process or a live
server), and what a test needs to see what an upload left behind."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx

from media import tus
from tests.factories.images import photo_jpeg

TUS = {"Tus-Resumable": "1.0.0"}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tiny_jpeg() -> bytes:
    """A small valid photo: cheap to push through the whole pipeline."""
    return photo_jpeg(64, 48)


def checksum_header(chunk: bytes, algorithm: str = "sha256") -> str:
    """An `Upload-Checksum` header for `chunk`."""
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()}"


def upload_metadata(number: str, data: bytes, kind: str = "after", **extra: str) -> str:
    """An `Upload-Metadata` header for a photo of work order `number`."""
    return tus.encode_metadata(
        {"work_order": number, "sha256": sha256_of(data), "kind": kind, **extra}
    )


async def tus_create(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    number: str,
    data: bytes,
    kind: str = "after",
    *,
    length: int | None = None,
    **extra: str,
) -> httpx.Response:
    return await client.post(
        "/api/uploads",
        headers=headers
        | TUS
        | {
            "Upload-Length": str(len(data) if length is None else length),
            "Upload-Metadata": upload_metadata(number, data, kind, **extra),
        },
    )


async def tus_patch(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    location: str,
    offset: int,
    chunk: bytes,
    *,
    checksum: str | None = None,
) -> httpx.Response:
    """One PATCH; `checksum="sha256"` adds an Upload-Checksum of the chunk."""
    extra = {"Upload-Checksum": checksum_header(chunk, checksum)} if checksum else {}
    return await client.patch(
        location,
        content=chunk,
        headers=headers
        | TUS
        | extra
        | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
    )


async def tus_offset(client: httpx.AsyncClient, headers: dict[str, str], location: str) -> int:
    response = await client.head(location, headers=headers | TUS)
    assert response.status_code == 200, response.status_code
    return int(response.headers["Upload-Offset"])


async def upload_photo(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    number: str,
    data: bytes,
    kind: str = "after",
    *,
    chunk_size: int | None = None,
    **extra: str,
) -> httpx.Response:
    """A whole upload, in chunks of `chunk_size` (one PATCH by default); the last answer."""
    created = await tus_create(client, headers, number, data, kind, **extra)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    step = chunk_size or len(data)
    response = created
    for offset in range(0, len(data), step):
        response = await tus_patch(client, headers, location, offset, data[offset : offset + step])
        if response.status_code != 204:
            return response
    return response


def stored_files(root: Path) -> list[Path]:
    """Every file under a media directory (what a test stored)."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
