"""Photo endpoints over HTTP: the tus resource, who may upload and see what, the bad-file
corpus refused with reasons, and file serving (ETags, ranges, the citizen's view)."""

from __future__ import annotations

import hashlib
import io

import httpx
import pytest
from litestar import Litestar
from PIL import Image

from media.tables import Photo, StoredPhoto, Upload
from tests import factories
from tests.factories import TUS, Town

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def job(town: Town) -> str:
    """A work order assigned to crew A."""
    return (await factories.make_work_order(town, crew_id=town.crew_a)).number


def media_root(app: Litestar):
    return app.state.settings.media_root


async def test_options_says_what_the_server_supports_without_a_login(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) >= {
        "creation",
        "checksum",
        "termination",
        "expiration",
    }
    assert response.headers["Tus-Max-Size"] == "25000000"
    assert "sha256" in response.headers["Tus-Checksum-Algorithm"].split(",")


async def test_upload_in_one_request_makes_a_ready_photo(
    client: httpx.AsyncClient, town: Town, job: str, app: Litestar
) -> None:
    data = factories.photo_jpeg(1600, 1200, gps=(35.78, -78.64))
    headers = town.headers("crew_a")
    created = await factories.tus_create(client, headers, job, data)
    assert created.status_code == 201
    assert created.headers["Tus-Resumable"] == "1.0.0"
    assert created.headers["Location"].startswith("/api/uploads/")
    assert "GMT" in created.headers["Upload-Expires"]
    location = created.headers["Location"]
    assert await factories.tus_offset(client, headers, location) == 0

    done = await factories.tus_patch(client, headers, location, 0, data)
    assert done.status_code == 204
    assert done.headers["Upload-Offset"] == str(len(data))
    assert await factories.tus_offset(client, headers, location) == len(data)

    photos = (await client.get(f"/api/work-orders/{job}/photos", headers=headers)).json()
    assert [(p["sha256"], p["kind"], p["status"]) for p in photos] == [
        (factories.sha256_of(data), "after", "ready")
    ]
    assert (photos[0]["width"], photos[0]["height"]) == (1600, 1200)
    assert photos[0]["lat"] == pytest.approx(35.78, abs=1e-4)  # from the camera's GPS
    display = await client.get(photos[0]["urls"]["display"], headers=headers)
    assert display.status_code == 200
    assert display.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(display.content)).size == (1600, 1200)
    assert display.headers["ETag"] == f'"{hashlib.sha256(display.content).hexdigest()}"'
    assert "immutable" in display.headers["Cache-Control"]
    # three files, each named by its own hash, and the spool is empty again
    names = {path.name for path in factories.stored_files(media_root(app))}
    assert factories.sha256_of(data) in names and len(names) == 3
    assert factories.stored_files(app.state.settings.upload_spool) == []


async def test_chunks_with_checksums_and_a_bad_chunk_retried(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    data = factories.photo_jpeg(800, 600)
    headers = town.headers("crew_a")
    location = (await factories.tus_create(client, headers, job, data)).headers["Location"]
    first = data[:5000]
    ok = await factories.tus_patch(client, headers, location, 0, first, checksum="sha256")
    assert ok.status_code == 204 and ok.headers["Upload-Offset"] == "5000"
    bad = await client.patch(
        location,
        content=data[5000:9000],
        headers=headers
        | TUS
        | {
            "Upload-Offset": "5000",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": "sha256 " + "A" * 43 + "=",
        },
    )
    assert bad.status_code == 460
    assert bad.json()["extra"]["reason"] == "checksum_mismatch"
    assert bad.headers["Tus-Resumable"] == "1.0.0"
    assert await factories.tus_offset(client, headers, location) == 5000  # dropped whole
    rest = await factories.tus_patch(client, headers, location, 5000, data[5000:], checksum="sha1")
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(data))
    assert await Photo.count().where(Photo.status == "ready") == 1


async def test_wrong_offset_is_a_409_that_says_where_to_resume(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    data = factories.photo_jpeg(640, 480)
    headers = town.headers("crew_a")
    location = (await factories.tus_create(client, headers, job, data)).headers["Location"]
    await factories.tus_patch(client, headers, location, 0, data[:100])
    response = await factories.tus_patch(client, headers, location, 50, data[50:200])
    assert response.status_code == 409
    assert response.json()["extra"]["offset"] == 100
    assert response.json()["field"] == "Upload-Offset"


async def test_protocol_errors(client: httpx.AsyncClient, town: Town, job: str) -> None:
    headers = town.headers("crew_a")
    data = factories.photo_jpeg(640, 480)
    no_version = await client.post(
        "/api/uploads",
        headers=headers
        | {"Upload-Length": "10", "Upload-Metadata": factories.upload_metadata(job, data)},
    )
    assert no_version.status_code == 412
    assert no_version.headers["Tus-Version"] == "1.0.0"
    location = (await factories.tus_create(client, headers, job, data)).headers["Location"]
    wrong_type = await client.patch(
        location,
        content=data,
        headers=headers | TUS | {"Upload-Offset": "0", "Content-Type": "image/jpeg"},
    )
    assert wrong_type.status_code == 415
    past_end = await factories.tus_patch(client, headers, location, 0, data + b"x")
    assert past_end.status_code == 413
    assert past_end.json()["extra"]["reason"] == "past_length"
    assert await factories.tus_offset(client, headers, location) == 0
    no_login = await client.head(location, headers=TUS)
    assert no_login.status_code == 401


async def test_who_may_upload(client: httpx.AsyncClient, town: Town, job: str) -> None:
    data = factories.photo_jpeg(640, 480)
    other_crew = await factories.tus_create(client, town.headers("crew_b"), job, data)
    assert other_crew.status_code == 404
    advocate = await factories.tus_create(client, town.headers("advocate"), job, data)
    assert advocate.status_code == 403
    supervisor = await factories.tus_create(client, town.headers("supervisor"), job, data)
    assert supervisor.status_code == 201
    # an upload belongs to its creator: anyone else reads it as missing
    location = (await factories.tus_create(client, town.headers("crew_a"), job, data)).headers[
        "Location"
    ]
    for name in ("crew_b", "supervisor"):
        assert (await client.head(location, headers=town.headers(name) | TUS)).status_code == 404
        sneaky = await factories.tus_patch(client, town.headers(name), location, 0, data)
        assert sneaky.status_code == 404
    assert await factories.tus_offset(client, town.headers("crew_a"), location) == 0


async def test_who_may_see_the_files(client: httpx.AsyncClient, town: Town, job: str) -> None:
    data = factories.photo_jpeg(1200, 900, gps=(35.7, -78.7))
    done = await factories.upload_photo(client, town.headers("crew_a"), job, data, "before")
    assert done.status_code == 204
    sha = factories.sha256_of(data)
    for name, status in [("crew_a", 200), ("advocate", 200), ("supervisor", 200), ("crew_b", 404)]:
        for variant in ("display", "thumb", "original"):
            response = await client.get(f"/api/photos/{sha}/{variant}", headers=town.headers(name))
            assert response.status_code == status, (name, variant)
    original = await client.get(f"/api/photos/{sha}/original", headers=town.headers("advocate"))
    assert original.content == data  # staff get the original as it was taken, GPS and all
    assert (await client.get(f"/api/photos/{sha}/display")).status_code == 401
    assert (
        await client.get(f"/api/photos/{sha}/poster", headers=town.headers("advocate"))
    ).status_code == 400
    unknown = "0" * 64
    response = await client.get(f"/api/photos/{unknown}/display", headers=town.headers("admin"))
    assert response.status_code == 404


async def test_the_same_photo_twice_is_stored_once(
    client: httpx.AsyncClient, town: Town, job: str, app: Litestar
) -> None:
    data = factories.photo_jpeg(1000, 750)
    second_job = (await factories.make_work_order(town, crew_id=town.crew_a)).number
    headers = town.headers("crew_a")
    assert (await factories.upload_photo(client, headers, job, data)).status_code == 204
    files = factories.stored_files(media_root(app))
    again = await factories.upload_photo(client, headers, job, data)
    other = await factories.upload_photo(client, headers, second_job, data, chunk_size=4096)
    assert again.status_code == other.status_code == 204
    assert factories.stored_files(media_root(app)) == files
    assert await StoredPhoto.count() == 1
    assert await Photo.count().where(Photo.work_order.number == job) == 1
    assert await Photo.count().where(Photo.status == "ready") == 2
    assert factories.stored_files(app.state.settings.upload_spool) == []


async def test_sha256_must_match_the_metadata(
    client: httpx.AsyncClient, town: Town, job: str, app: Litestar
) -> None:
    data = factories.photo_jpeg(640, 480)
    headers = town.headers("crew_a")
    created = await client.post(
        "/api/uploads",
        headers=headers
        | TUS
        | {
            "Upload-Length": str(len(data)),
            "Upload-Metadata": factories.upload_metadata(job, data[:-1]),
        },
    )
    response = await factories.tus_patch(client, headers, created.headers["Location"], 0, data)
    assert response.status_code == 422
    assert response.json()["extra"]["reason"] == "sha256_mismatch"
    assert response.json()["field"] == "metadata.sha256"
    assert factories.stored_files(media_root(app)) == []


@pytest.mark.parametrize("name", sorted(factories.BAD_FILES))
async def test_bad_files_are_refused_with_a_reason_and_nothing_is_kept(
    client: httpx.AsyncClient, town: Town, job: str, app: Litestar, name: str
) -> None:
    data, status, reason = factories.BAD_FILES[name]()
    headers = town.headers("crew_a")
    created = await factories.tus_create(client, headers, job, data)
    if created.status_code != 201:  # refused from Upload-Length alone: zero bytes, 30 MB
        response = created
    else:
        response = await factories.tus_patch(client, headers, created.headers["Location"], 0, data)
        gone = await client.head(created.headers["Location"], headers=headers | TUS)
        assert gone.status_code == 410  # refused for good, not resumable
    assert response.status_code == status, response.text
    body = response.json()
    assert body["extra"]["reason"] == reason
    assert len(body["detail"]) > 15
    assert factories.stored_files(media_root(app)) == []
    assert factories.stored_files(app.state.settings.upload_spool) == []
    assert await Photo.count() == 0 and await StoredPhoto.count() == 0
    assert (await client.get("/healthz")).status_code == 200


async def test_too_many_unfinished_uploads(client: httpx.AsyncClient, town: Town, job: str) -> None:
    headers = town.headers("crew_a")
    data = factories.photo_jpeg(64, 48)
    for _ in range(20):
        assert (await factories.tus_create(client, headers, job, data)).status_code == 201
    refused = await factories.tus_create(client, headers, job, data)
    assert refused.status_code == 429
    assert refused.json()["extra"]["reason"] == "too_many_uploads"


async def test_terminate(client: httpx.AsyncClient, town: Town, job: str, app: Litestar) -> None:
    headers = town.headers("crew_a")
    data = factories.photo_jpeg(640, 480)
    location = (await factories.tus_create(client, headers, job, data)).headers["Location"]
    await factories.tus_patch(client, headers, location, 0, data[:1000])
    assert (await client.delete(location, headers=headers | TUS)).status_code == 204
    assert (await client.head(location, headers=headers | TUS)).status_code == 404
    assert await Upload.count() == 0
    assert factories.stored_files(app.state.settings.upload_spool) == []


async def test_conditional_and_range_requests(
    client: httpx.AsyncClient, town: Town, job: str
) -> None:
    headers = town.headers("crew_a")
    data = factories.photo_jpeg(1200, 900)
    await factories.upload_photo(client, headers, job, data)
    url = f"/api/photos/{factories.sha256_of(data)}/original"
    whole = await client.get(url, headers=headers)
    etag = whole.headers["ETag"]
    assert etag == f'"{factories.sha256_of(data)}"'
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert int(whole.headers["Content-Length"]) == len(data)
    cached = await client.get(url, headers=headers | {"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    part = await client.get(url, headers=headers | {"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    tail = await client.get(url, headers=headers | {"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    stale = await client.get(url, headers=headers | {"Range": "bytes=0-9", "If-Range": '"x"'})
    assert stale.status_code == 200 and stale.content == data
    beyond = await client.get(url, headers=headers | {"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"


async def test_citizen_sees_shareable_after_photos_by_tracking_token_only(
    client: httpx.AsyncClient, town: Town
) -> None:
    case = await factories.make_case(town)
    job = (await factories.make_work_order(town, case, crew_id=town.crew_a)).number
    headers = town.headers("crew_a")
    before = factories.photo_jpeg(800, 600, color=(200, 30, 30))
    after = factories.photo_jpeg(800, 600, color=(30, 200, 30))
    await factories.upload_photo(client, headers, job, before, "before")
    await factories.upload_photo(client, headers, job, after, "after")
    token = case.tracking_token
    listed = (await client.get(f"/api/track/{token}/photos")).json()
    assert [p["sha256"] for p in listed] == [factories.sha256_of(after)]
    assert "original" not in listed[0]["urls"] or listed[0]["urls"]["original"] is None
    assert "lat" not in listed[0]
    shown = await client.get(listed[0]["urls"]["display"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    base = f"/api/track/{token}/photos"
    assert (await client.get(f"{base}/{factories.sha256_of(after)}/original")).status_code == 404
    assert (await client.get(f"{base}/{factories.sha256_of(before)}/display")).status_code == 404
    wrong = f"/api/track/{'x' * 32}/photos/{factories.sha256_of(after)}/display"
    assert (await client.get(wrong)).status_code == 404

    # the advocate withdraws it; a crew may not; a before photo cannot be shared
    path = f"/api/work-orders/{job}/photos/{factories.sha256_of(after)}"
    denied = await client.patch(path, json={"shareable": False}, headers=headers)
    assert denied.status_code == 403
    withdrawn = await client.patch(
        path, json={"shareable": False}, headers=town.headers("advocate")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["shareable"] is False
    assert (await client.get(f"/api/track/{token}/photos")).json() == []
    assert (await client.get(listed[0]["urls"]["display"])).status_code == 404
    before_path = f"/api/work-orders/{job}/photos/{factories.sha256_of(before)}"
    refused = await client.patch(
        before_path, json={"shareable": True}, headers=town.headers("advocate")
    )
    assert refused.status_code == 422 and refused.json()["field"] == "shareable"
