"""Photo rules: a photo's row and its bytes meet in either order and the photo ends ready;
the camera's time and place fill in what the tablet did not send; tablets hear of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from media import service
from media.schemas import PhotoAttach, PhotoKind
from media.tables import Photo
from tests import factories
from tests.factories import Town

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def job(town: Town) -> str:
    return (await factories.make_work_order(town, crew_id=town.crew_a)).number


async def test_mutation_first_then_bytes(client: httpx.AsyncClient, town: Town, job: str) -> None:
    """A tablet syncs `attach_photo` while the photo is still uploading: the photo is pending
    on every tablet, then ready, and the tablet's pull says so."""
    data = factories.photo_jpeg(1200, 900)
    sha = factories.sha256_of(data)
    tablet = await factories.make_tablet(client, town)
    tablet.queue("attach_photo", work_order=job, sha256=sha, kind="after", client_id="p1")
    await tablet.sync()
    [photo] = tablet.pages[-1]["work_orders"][0]["photos"]
    assert (photo["status"], photo["urls"]) == ("pending", None)

    response = await factories.upload_photo(client, town.headers("crew_a"), job, data)
    assert response.status_code == 204
    await tablet.sync()
    [photo] = tablet.pages[-1]["work_orders"][0]["photos"]
    assert photo["status"] == "ready"
    assert photo["urls"]["display"] == f"/api/photos/{sha}/display"
    assert await Photo.count() == 1
    assert len(await factories.activities_of(job, "photo")) == 1


async def test_bytes_first_then_mutation_elsewhere(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    """Bytes already stored: attaching the same photo to another work order is ready at once."""
    data = factories.photo_jpeg(800, 600)
    await factories.upload_photo(client, town.headers("crew_a"), job, data, "before")
    second = (await factories.make_work_order(town, crew_id=town.crew_a)).number
    await service.attach_photo(
        town.users["crew_a"],
        second,
        PhotoAttach(sha256=factories.sha256_of(data), kind=PhotoKind.BEFORE),
    )
    rows = await Photo.select(Photo.work_order.number, Photo.status).order_by(Photo.id)
    assert rows == [
        {"work_order.number": job, "status": "ready"},
        {"work_order.number": second, "status": "ready"},
    ]


async def test_camera_metadata_fills_what_the_tablet_did_not_send(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    taken = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    data = factories.photo_jpeg(800, 600, gps=(35.7, -78.6), taken_at=taken)
    await factories.upload_photo(client, town.headers("crew_a"), job, data, "before")
    row = await Photo.select().first()
    assert row["taken_at"] == taken
    assert (row["lat"], row["lng"]) == (
        pytest.approx(35.7, abs=1e-5),
        pytest.approx(-78.6, abs=1e-5),
    )

    # what the tablet sent wins over the camera
    other = factories.photo_jpeg(800, 600, gps=(35.7, -78.6), taken_at=taken, color=(1, 2, 3))
    await factories.upload_photo(
        client,
        town.headers("crew_a"),
        job,
        other,
        "after",
        lat="35.5",
        lng="-78.5",
        taken_at="2026-12-01T08:00:00+00:00",
    )
    row = await Photo.select().where(Photo.sha256 == factories.sha256_of(other)).first()
    assert (row["lat"], row["lng"]) == (35.5, -78.5)
    assert row["taken_at"] == datetime(2026, 12, 1, 8, tzinfo=UTC)


async def test_after_photos_start_shareable_others_do_not(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    for kind, color in (("before", (9, 9, 9)), ("after", (200, 200, 9)), ("other", (9, 9, 200))):
        data = factories.photo_jpeg(320, 240, color=color)
        await factories.upload_photo(client, town.headers("crew_a"), job, data, kind)
    rows = await Photo.select(Photo.kind, Photo.shareable).order_by(Photo.id)
    assert [(r["kind"], r["shareable"]) for r in rows] == [
        ("before", False),
        ("after", True),
        ("other", False),
    ]


async def test_attach_and_upload_racing_end_ready(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    """An upload finishing for one work order while a tablet attaches the same photo to
    another, many times over: never left pending. (On PostgreSQL the two transactions truly
    run at once; the lock named after the hash orders them.)"""
    crew = town.users["crew_a"]
    second = (await factories.make_work_order(town, crew_id=town.crew_a)).number
    for round_ in range(6):
        data = factories.photo_jpeg(64, 48, color=(round_ * 40, 50, 50))
        sha = factories.sha256_of(data)
        uploaded, _ = await asyncio.gather(
            factories.upload_photo(client, town.headers("crew_a"), job, data, "other"),
            service.attach_photo(crew, second, PhotoAttach(sha256=sha, kind=PhotoKind.OTHER)),
        )
        assert uploaded.status_code == 204
        statuses = await Photo.select(Photo.status).where(Photo.sha256 == sha)
        assert statuses == [{"status": "ready"}] * 2, round_
