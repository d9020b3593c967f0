"""The tus resource behind a real HTTP server: a connection cut halfway through a PATCH
resumes from the server's offset, and a real tus client (tuspy) uploads a photo end to end."""

from __future__ import annotations

import asyncio
import io
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient import client as tus_client

from media.tables import Photo
from tests import factories
from tests.factories import TUS, Town

pytestmark = [pytest.mark.usefixtures("db"), pytest.mark.slow]


@pytest.fixture
async def job(town: Town) -> str:
    return (await factories.make_work_order(town, crew_id=town.crew_a)).number


async def _cut_patch(base: str, location: str, headers: dict[str, str], data: bytes) -> None:
    """Announce the whole file, send half of it, then drop the connection like a tablet
    driving out of coverage."""
    url = urlsplit(base)
    _, writer = await asyncio.open_connection(url.hostname, url.port)
    lines = [
        f"PATCH {location} HTTP/1.1",
        f"Host: {url.netloc}",
        f"Authorization: {headers['Authorization']}",
        "Tus-Resumable: 1.0.0",
        "Upload-Offset: 0",
        "Content-Type: application/offset+octet-stream",
        f"Content-Length: {len(data)}",
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data[: len(data) // 2])
    await writer.drain()
    await asyncio.sleep(0.3)  # let the server take in what was sent
    writer.transport.abort()


async def test_an_upload_cut_halfway_resumes_from_the_servers_offset(
    live_server: str, town: Town, job: str
) -> None:
    data = factories.photo_jpeg(2400, 1800)
    headers = town.headers("crew_a")
    async with httpx.AsyncClient(base_url=live_server) as http:
        location = (await factories.tus_create(http, headers, job, data)).headers["Location"]
        await _cut_patch(live_server, location, headers, data)
        offset = 0
        for _ in range(100):  # the server commits what it got once it sees the cut
            offset = await factories.tus_offset(http, headers, location)
            if offset:
                break
            await asyncio.sleep(0.05)
        assert 0 < offset <= len(data) // 2
        resumed = await factories.tus_patch(http, headers, location, offset, data[offset:])
        assert resumed.status_code == 204, resumed.text
        sha = factories.sha256_of(data)
        original = await http.get(f"/api/photos/{sha}/original", headers=headers)
    assert factories.sha256_of(original.content) == sha
    assert (await Photo.select(Photo.status).first()) == {"status": "ready"}


async def test_a_real_tus_client_uploads_a_photo(live_server: str, town: Town, job: str) -> None:
    data = factories.photo_jpeg(1600, 1200)
    client = tus_client.TusClient(f"{live_server}/api/uploads", headers=town.headers("crew_a"))
    uploader = client.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=64 * 1024,
        upload_checksum=True,
        metadata={
            "work_order": job,
            "sha256": factories.sha256_of(data),
            "kind": "after",
            "filename": "IMG_0042.JPG",
        },
    )
    await asyncio.to_thread(uploader.upload)
    assert uploader.offset == len(data)
    assert (await Photo.select(Photo.status, Photo.kind).first()) == {
        "status": "ready",
        "kind": "after",
    }
    async with httpx.AsyncClient(base_url=live_server) as http:
        head = await http.head(uploader.url, headers=town.headers("crew_a") | TUS)
    assert head.headers["Upload-Offset"] == str(len(data))
