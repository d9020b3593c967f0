"""The upload service's failure cases: connections cut mid-chunk, crashes between the spool
and the database, two requests at once, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from api.errors import ConflictError, GoneError
from media import tus, uploads
from media.tables import Photo, Upload
from tests import factories
from tests.factories import Town

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def job(town: Town) -> str:
    return (await factories.make_work_order(town, crew_id=town.crew_a)).number


@pytest.fixture
def media(app: Litestar) -> uploads.MediaConfig:
    return app.state.media


async def _chunks(data: bytes, cut: bool = False, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
    if cut:
        raise uploads.StreamInterrupted


async def _create(town: Town, media: uploads.MediaConfig, job: str, data: bytes) -> str:
    created = await uploads.create_upload(
        town.users["crew_a"], media, str(len(data)), factories.upload_metadata(job, data)
    )
    return created.token


async def test_a_cut_connection_keeps_what_arrived(
    town: Town, media: uploads.MediaConfig, job: str
) -> None:
    data = factories.photo_jpeg(800, 600)
    crew = town.users["crew_a"]
    token = await _create(town, media, job, data)
    got = await uploads.receive(crew, media, token, 0, None, _chunks(data[:7000], cut=True))
    assert (got.received, got.finished) == (7000, False)
    done = await uploads.receive(crew, media, token, 7000, None, _chunks(data[7000:]))
    assert done.finished
    assert (await Photo.select(Photo.status).first()) == {"status": "ready"}


async def test_a_cut_chunk_under_a_checksum_is_dropped_whole(
    town: Town, media: uploads.MediaConfig, job: str
) -> None:
    data = factories.photo_jpeg(800, 600)
    crew = town.users["crew_a"]
    token = await _create(town, media, job, data)
    promised = tus.parse_checksum(factories.checksum_header(data[:7000]))
    got = await uploads.receive(crew, media, token, 0, promised, _chunks(data[:3000], cut=True))
    assert got.received == 0


async def test_bytes_past_the_recorded_offset_are_cut_before_appending(
    town: Town, media: uploads.MediaConfig, job: str
) -> None:
    """A crash after the spool grew but before the database said so: the junk is ignored."""
    data = factories.photo_jpeg(800, 600)
    crew = town.users["crew_a"]
    token = await _create(town, media, job, data)
    await uploads.receive(crew, media, token, 0, None, _chunks(data[:5000]))
    spool = media.spool_file(token)
    spool.write_bytes(spool.read_bytes() + b"junk that was never committed" * 100)
    done = await uploads.receive(crew, media, token, 5000, None, _chunks(data[5000:]))
    assert done.finished
    assert await Photo.count().where(Photo.status == "ready") == 1


async def test_head_finishes_an_upload_whose_finishing_was_cut_short(
    client: httpx.AsyncClient, town: Town, media: uploads.MediaConfig, job: str
) -> None:
    data = factories.photo_jpeg(800, 600)
    token = await _create(town, media, job, data)
    media.spool_file(token).write_bytes(data)  # the bytes were in, then the process died
    await Upload.update({Upload.received: len(data)}).where(Upload.token == token)
    assert await Photo.count() == 0
    offset = await factories.tus_offset(client, town.headers("crew_a"), f"/api/uploads/{token}")
    assert offset == len(data)
    assert (await Photo.select(Photo.status).first()) == {"status": "ready"}


async def test_two_requests_at_the_same_offset_one_wins(
    town: Town, media: uploads.MediaConfig, job: str
) -> None:
    data = factories.photo_jpeg(800, 600)
    crew = town.users["crew_a"]
    token = await _create(town, media, job, data)
    results = await asyncio.gather(
        uploads.receive(crew, media, token, 0, None, _chunks(data[:4000])),
        uploads.receive(crew, media, token, 0, None, _chunks(data[:4000])),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    accepted = [r for r in results if isinstance(r, uploads.Received)]
    assert len(accepted) == 1 and len(conflicts) == 1, results
    row = await Upload.select(Upload.received).first()
    assert row["received"] == 4000
    assert media.spool_file(token).stat().st_size == 4000


async def test_expired_uploads_are_gone_and_pruned(
    town: Town, media: uploads.MediaConfig, job: str
) -> None:
    data = factories.photo_jpeg(640, 480)
    crew = town.users["crew_a"]
    token = await _create(town, media, job, data)
    await uploads.receive(crew, media, token, 0, None, _chunks(data[:1000]))
    past = datetime.now(UTC) - timedelta(minutes=1)
    await Upload.update({Upload.expires_at: past}).where(Upload.token == token)
    with pytest.raises(GoneError) as gone:
        await uploads.upload_state(crew, media, token)
    assert gone.value.extra["reason"] == "expired"
    assert await uploads.prune_expired(media) == 1
    assert await Upload.count() == 0
    assert not media.spool_file(token).exists()


async def test_creating_an_upload_prunes_expired_ones(
    town: Town, media: uploads.MediaConfig, job: str
) -> None:
    data = factories.photo_jpeg(640, 480)
    old = await _create(town, media, job, data)
    await Upload.update({Upload.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Upload.token == old
    )
    await _create(town, media, job, data)
    assert [row["token"] for row in await Upload.select(Upload.token)] != [old]
    assert await Upload.count() == 1
