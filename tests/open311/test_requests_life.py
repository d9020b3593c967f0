"""Open311 GeoReport v2 conformance of a request as it lives on, from the specification's text
(http://wiki.open311.org/GeoReport_v2): Fieldloop's extensions (channel, public notes, shared
photos), media_url as the shared "after" photo, the request closing as the crew completes the
work, citizens' personal data kept out of every answer, and XML carrying exactly the data JSON
carries for every endpoint, even with characters XML 1.0 cannot hold.

Here the office and the crew work the request through the staff API (notes, work orders,
photos, status) and the public answers are checked after each step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.factories import Town
from tests.open311.conformance import (
    FORMATS,
    REQUEST_FIELDS,
    assert_same_data,
    call,
    crew_status,
    dispatch,
    moment,
    post_request,
    pothole_form,
    requests_of,
    set_requested,
    staff_case,
    submit,
    upload,
)

pytestmark = pytest.mark.usefixtures("db")


# --- extensions, photos and the request's life --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_extensions_add_channel_public_notes_and_photos(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """`extensions=true` adds `extended_attributes`: the channel, the public timeline (never
    an internal note) and the shared "after" photos (never a "before" one). Without it the
    request has exactly the specification's fields."""
    public_id = (await submit(client, api_key))["service_request_id"]
    advocate = town.headers("advocate")
    for body, public in (("Crew booked for Tuesday", True), ("Caller was rude", False)):
        response = await client.post(
            f"/api/cases/{public_id}/notes", json={"body": body, "public": public}, headers=advocate
        )
        assert response.status_code in (200, 201), response.text
    number = await dispatch(client, town, public_id)
    await upload(
        client, town, number, factories.photo_jpeg(320, 240, color=(200, 30, 30)), "before"
    )
    await upload(client, town, number, factories.photo_jpeg(320, 240, color=(30, 200, 30)), "after")

    [plain] = await requests_of(client, fmt, f"requests/{public_id}")
    assert list(plain) == REQUEST_FIELDS
    for path in (f"requests/{public_id}", "requests"):
        [item] = await requests_of(client, fmt, path, extensions="true")
        assert list(item) == [*REQUEST_FIELDS, "extended_attributes"]
        extended = item["extended_attributes"]
        assert {"channel", "notes", "photos"} <= set(extended), extended
        assert extended["channel"] == "open311"
        for note in extended["notes"]:
            assert list(note) == ["datetime", "summary"], note
        summaries = [note["summary"] for note in extended["notes"]]
        assert "Crew booked for Tuesday" in summaries, summaries
        assert not any("rude" in summary for summary in summaries), summaries
        [photo] = extended["photos"]
        assert list(photo) == ["media_url", "datetime"], photo
        assert photo["media_url"] == item["media_url"]
        shown = await client.get(photo["media_url"])
        assert shown.status_code == 200
        assert shown.headers["content-type"].split(";")[0] == "image/jpeg"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_media_url_is_the_shared_after_photo_for_anyone(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "media_url: A URL to media associated with the request, eg an image": an absolute URL
    of the shared "after" photo, fetched without a login; none before there is one, and none
    once it is withdrawn (nor is the file served any more). The citizen's tracking token, the
    key to their status page, is not part of it."""
    case = await factories.make_case(town)
    number = (await factories.make_work_order(town, case, crew_id=town.crew_a)).number
    before = factories.photo_jpeg(320, 240, color=(200, 30, 30))
    after = factories.photo_jpeg(320, 240, color=(30, 200, 30))
    await upload(client, town, number, before, "before")
    [item] = await requests_of(client, fmt, f"requests/{case.public_id}")
    assert item["media_url"] is None

    await upload(client, town, number, after, "after")
    [item] = await requests_of(client, fmt, f"requests/{case.public_id}")
    url = item["media_url"]
    assert isinstance(url, str) and url.startswith(("http://", "https://")), url
    assert case.tracking_token not in url
    shown = await client.get(url)  # no Authorization header
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"].split(";")[0] == "image/jpeg"
    after_sha, before_sha = factories.sha256_of(after), factories.sha256_of(before)
    if after_sha in url:  # the same URL cannot fetch the "before" photo
        assert (await client.get(url.replace(after_sha, before_sha))).status_code == 404

    response = await client.patch(
        f"/api/work-orders/{number}/photos/{after_sha}",
        json={"shareable": False},
        headers=town.headers("advocate"),
    )
    assert response.status_code == 200, response.text
    [item] = await requests_of(client, fmt, f"requests/{case.public_id}")
    assert item["media_url"] is None
    assert (await client.get(url)).status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
async def test_completed_work_closes_the_request(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """ "status: closed: it has been resolved"; "status_notes: Explanation of why status was
    changed to current state"; "updated_datetime: ... For requests with status=closed, this
    will be the date the request was closed." A request posted through Open311 is worked like
    any case; the crew completing the work closes it."""
    public_id = (await submit(client, api_key, fmt))["service_request_id"]
    await set_requested(public_id, datetime.now(UTC) - timedelta(hours=1))
    [reported] = await requests_of(client, fmt, f"requests/{public_id}")
    assert reported["status"] == "open"

    number = await dispatch(client, town, public_id)
    await crew_status(client, town, number, "on_site")
    [working] = await requests_of(client, fmt, f"requests/{public_id}")
    assert working["status"] == "open"
    await crew_status(client, town, number, "completed", resolution_code="repaired")

    [closed] = await requests_of(client, fmt, f"requests/{public_id}")
    assert closed["status"] == "closed"
    assert isinstance(closed["status_notes"], str) and closed["status_notes"].strip()
    updated = moment(closed["updated_datetime"])
    assert updated > moment(reported["updated_datetime"])
    case = await staff_case(client, town, public_id)
    assert case["status"] == "resolved" and case["channel"] == "open311"
    resolved_at = datetime.fromisoformat(case["resolved_at"])
    assert abs(updated - resolved_at) < timedelta(seconds=1)


# --- privacy and the two formats ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_citizens_personal_data_never_appears(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """first_name, last_name, email and phone are taken ("email", "first_name", "last_name",
    "phone" of POST Service Request) but Open311 is public: no answer ever shows them, nor a
    caller's name, phone or email taken by an advocate."""
    posted = await post_request(
        client,
        fmt,
        pothole_form(
            api_key,
            first_name="Grace",
            last_name="Hopperfield",
            email="grace.hopperfield@example.org",
            phone="919-555-0187",
        ),
    )
    assert posted.status == 201, posted.response.text
    created = posted.data[0]
    await factories.make_case(
        town, name="Augusta Byronking", phone="(919) 555-0123", email="augusta@example.net"
    )
    secret_words = [
        "Grace",
        "Hopperfield",
        "grace.hopperfield",
        "555-0187",
        "5550187",
        "Augusta",
        "Byronking",
        "augusta@",
        "555-0123",
        "5550123",
    ]
    bodies = [posted.response.text]
    for path, params in (
        ("requests", {}),
        ("requests", {"extensions": "true"}),
        (f"requests/{created['service_request_id']}", {"extensions": "true"}),
        (f"tokens/{created['token']}", {}),
        ("services", {}),
        ("discovery", {}),
    ):
        answer = await call(client, fmt, path, params=params or None)
        assert answer.status == 200, answer.response.text
        bodies.append(answer.response.text)
    for body in bodies:
        for word in secret_words:
            assert word.lower() not in body.lower(), (word, body)


async def test_xml_and_json_carry_the_same_data_for_every_call(
    client: httpx.AsyncClient, town: Town, api_key: str
) -> None:
    """XML and JSON are two spellings of one answer: for the same call both carry the same
    fields, in the same order, with the same values (an empty XML element for null), errors
    included. The description has what XML must escape, non-ASCII text and a form's CRLF line
    break ("This may contain line breaks")."""
    description = "Café ☕ <b>bold</b> & \"quoted\" 'apostrophe' ]]> done\r\nsecond line"
    created = await submit(client, api_key, description=description)
    public_id = created["service_request_id"]
    number = await dispatch(client, town, public_id)
    await upload(client, town, number, factories.photo_jpeg(320, 240), "after")
    response = await client.post(
        f"/api/cases/{public_id}/notes",
        json={"body": 'Crew booked <soon> & "fast"', "public": True},
        headers=town.headers("advocate"),
    )
    assert response.status_code in (200, 201), response.text
    await factories.make_case(town, anonymous=True, address=None, service_code="general_question")

    [item] = (await call(client, "json", f"requests/{public_id}")).data
    assert item["description"].replace("\r\n", "\n") == description.replace("\r\n", "\n")
    calls: list[tuple[str, dict[str, str]]] = [
        ("discovery", {}),
        ("services", {}),
        ("services/pothole", {}),
        ("requests", {}),
        ("requests", {"extensions": "true"}),
        (f"requests/{public_id}", {"extensions": "true"}),
        (f"tokens/{created['token']}", {}),
        ("services/no_such", {}),
        ("requests/2000-999999", {}),
        ("requests", {"status": "bogus"}),
    ]
    for path, params in calls:
        as_json = await call(client, "json", path, params=params or None)
        as_xml = await call(client, "xml", path, params=params or None)
        assert as_json.status == as_xml.status, (path, as_json.status, as_xml.status)
        assert_same_data(as_json.data, as_xml.data, f"{path} {params}")
    bad = pothole_form(api_key, service_code=None, lat=None, long=None, address_string=None)
    as_json, as_xml = (
        await post_request(client, "json", bad),
        await post_request(client, "xml", bad),
    )
    assert as_json.status == as_xml.status == 400
    assert_same_data(as_json.data, as_xml.data, "POST requests (refused)")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_answers_stay_well_formed_with_control_characters(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """Text typed into the office (an address, a public note) or posted (a description) may
    hold characters XML 1.0 cannot carry; the XML must still parse (with expat) and the JSON
    round-trip, whatever is done with them."""
    odd = "Bell\x07 vertical\x0btab form\x0cfeed escape\x1b[0m end"
    case = await factories.make_case(town, address=f"12 Main St {odd}")
    response = await client.post(
        f"/api/cases/{case.public_id}/notes",
        json={"body": f"Note {odd}", "public": True},
        headers=town.headers("advocate"),
    )
    assert response.status_code in (200, 201), response.text
    posted = await post_request(client, fmt, pothole_form(api_key, description=odd))
    assert posted.status in (201, 400), posted.response.text
    listed = {
        item["service_request_id"]: item
        for item in await requests_of(client, fmt, extensions="true")
    }
    assert len(listed) == (2 if posted.status == 201 else 1)
    item = listed[case.public_id]
    assert "Bell" in item["address"] and "end" in item["address"]
    notes = [note["summary"] for note in item["extended_attributes"]["notes"]]
    assert any("Bell" in note and "end" in note for note in notes), notes
    if posted.status == 201:
        description = listed[posted.data[0]["service_request_id"]]["description"]
        assert "Bell" in description and "end" in description
