"""Open311 GeoReport v2 conformance of GET Service Requests and GET Service Request, from the
specification's text: every field in order with absent values present, W3C datetimes with an
offset, the filters and defaults, Fieldloop's page and extensions parameters, media_url as the
shared "after" photo, the request's life as the crew works it, citizens' personal data kept
out, and XML carrying exactly the data JSON carries for every endpoint.

A request is a case, so most are made the way the office makes them (`factories.make_case`)
and moved in time by writing `created_at`, as the API cannot backdate. The reading machinery
(`call`, `from_xml`, the error checks) is in test_conformance.py.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.cases.tables import Case
from api.db import write_transaction
from api.open311.keys import create_api_key
from tests import factories
from tests.factories import Town
from tests.open311.test_conformance import (
    DATETIME_FIELDS,
    FORMATS,
    REQUEST_FIELDS,
    assert_error,
    assert_root,
    assert_same_data,
    call,
    moment,
    post_request,
    pothole_form,
    staff_case,
    submit,
)

pytestmark = pytest.mark.usefixtures("db")

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
async def api_key(town: Town) -> str:
    return await create_api_key("test-app")


async def requests_of(
    client: httpx.AsyncClient, fmt: str, path: str = "requests", **params: str
) -> list[dict[str, Any]]:
    """The requests an answer lists (200, `<service_requests><request>…`)."""
    answer = await call(client, fmt, path, params=params or None)
    assert answer.status == 200, answer.response.text
    assert_root(answer, "service_requests")
    assert isinstance(answer.data, list), answer.data
    return answer.data


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["service_request_id"] for item in items]


async def set_requested(public_id: str, when: datetime) -> None:
    """Move a case back in time (when it was requested and last changed)."""
    await Case.update({Case.created_at: when, Case.updated_at: when}).where(
        Case.public_id == public_id
    )


async def ago(town: Town, **delta: float) -> str:
    """A pothole case requested `delta` ago; its public id."""
    case = await factories.make_case(town)
    await set_requested(case.public_id, datetime.now(UTC) - timedelta(**delta))
    return case.public_id


async def dispatch(client: httpx.AsyncClient, town: Town, public_id: str) -> str:
    """The supervisor sends crew A; the work order's number."""
    response = await client.post(
        f"/api/cases/{public_id}/work-orders",
        json={"crew_id": town.crew_a},
        headers=town.headers("supervisor"),
    )
    assert response.status_code == 201, response.text
    return response.json()["number"]


async def crew_status(
    client: httpx.AsyncClient, town: Town, number: str, status: str, **extra: str
) -> None:
    response = await client.post(
        f"/api/work-orders/{number}/status",
        json={"status": status, **extra},
        headers=town.headers("crew_a"),
    )
    assert response.status_code == 200, response.text


async def upload(
    client: httpx.AsyncClient, town: Town, number: str, data: bytes, kind: str
) -> None:
    response = await factories.upload_photo(client, town.headers("crew_a"), number, data, kind)
    assert response.status_code == 204, response.text


def w3c(moment_: datetime) -> str:
    return moment_.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_request_carries_every_field_in_order(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """GET Service Requests: "service_request_id", "status" ("open: it has been reported"),
    "status_notes", "service_name", "service_code", "description", "agency_responsible",
    "service_notice", "requested_datetime" ("The date and time when the service request was
    made"), "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
    "lat", "long" ("using the (WGS84) projection"), "media_url"."""
    case = await factories.make_case(town)
    [item] = await requests_of(client, fmt)
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == case.public_id
    assert item["status"] == "open"
    assert item["service_code"] == "pothole" and item["service_name"] == "Pothole"
    assert item["address"] == "12 Main St"
    for name, value in (("lat", 35.7915), ("long", -78.7811)):
        assert isinstance(item[name], float), item[name]
        assert item[name] == pytest.approx(value)
    assert item["media_url"] is None  # no photo yet
    assert abs(moment(item["requested_datetime"]) - case.created_at) < timedelta(seconds=1)
    assert moment(item["updated_datetime"]) >= moment(item["requested_datetime"])


@pytest.mark.parametrize("fmt", FORMATS)
async def test_absent_values_are_null_and_every_field_is_still_there(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """A request with no place and no photo still carries every field: null in JSON, an empty
    element in XML."""
    await factories.make_case(town, anonymous=True, address=None)
    [item] = await requests_of(client, fmt)
    assert list(item) == REQUEST_FIELDS
    # nothing has happened to it yet, so there are no status notes either
    for name in ("status_notes", "address", "address_id", "zipcode", "lat", "long", "media_url"):
        assert item[name] is None, (name, item[name])
    if fmt == "json":  # absent is null, never an empty string
        assert "" not in item.values(), item


@pytest.mark.parametrize("fmt", FORMATS)
async def test_description_is_the_text_of_the_report(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """ "description: A full description of the request or report submitted." For a report
    the public wrote (Open311, web); an advocate's notes from a phone call stay in the 311
    center (docs/open311.md, "What is published"), so a phone case's description is absent."""
    posted = (await submit(client, api_key, description="Pothole by the school gate"))[
        "service_request_id"
    ]
    phoned = (await factories.make_case(town, description="Pothole outside the library")).public_id
    described = {
        item["service_request_id"]: item["description"] for item in await requests_of(client, fmt)
    }
    assert described == {
        posted: "Pothole by the school gate",
        phoned: None,
    }


@pytest.mark.parametrize("fmt", FORMATS)
async def test_datetimes_are_w3c_with_a_utc_offset(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """Datetimes as in the specification's examples (2010-04-14T06:37:38-08:00): W3C format
    with an offset, in every field and extension that has one."""
    public_id = (await submit(client, api_key))["service_request_id"]
    number = await dispatch(client, town, public_id)
    await upload(client, town, number, factories.photo_jpeg(320, 240), "after")
    [item] = await requests_of(client, fmt, extensions="true")
    for name in DATETIME_FIELDS:
        if name != "expected_datetime" or item[name] is not None:
            moment(item[name])
    extended = item["extended_attributes"]
    assert extended["notes"] and extended["photos"]
    for entry in extended["notes"] + extended["photos"]:
        moment(entry["datetime"])


# --- defaults and filters -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_default_is_the_last_90_days_newest_first(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "start_date ... When not specified, the range defaults to most recent 90 days"; newest
    first."""
    await ago(town, days=91)
    older = await ago(town, days=89)
    recent = await ago(town, days=2)
    newest = await ago(town, minutes=1)
    assert ids(await requests_of(client, fmt)) == [newest, recent, older]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_at_most_1000_requests_by_default(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """The default answer holds at most 1000 requests (the newest); the 1001st is on page 2."""
    now = datetime.now(UTC)
    rows = [
        Case(
            public_id=f"{now.year}-{500000 + index:06d}",
            tracking_token=secrets.token_urlsafe(24),
            service_type=town.pothole_id,
            description=f"Pothole {index}",
            channel="phone",
            attributes={"size": "large"},
            status="open",
            created_by=town.advocate.id,
            created_at=now - timedelta(minutes=index + 1),
            updated_at=now - timedelta(minutes=index + 1),
        )
        for index in range(1001)
    ]
    async with write_transaction():
        for start in range(0, len(rows), 100):
            await Case.insert(*rows[start : start + 100])
    listed = ids(await requests_of(client, fmt))
    assert len(listed) == 1000
    assert listed[0] == f"{now.year}-500000" and listed[-1] == f"{now.year}-500999"
    rest = await requests_of(client, fmt, page="2", page_size="1000")
    assert ids(rest) == [f"{now.year}-501000"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_service_request_id_overrides_every_other_filter(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "service_request_id: To call multiple Service Requests at once, multiple
    service_request_id can be declared; comma delimited. This overrides all other
    arguments." (Including the default 90 days.)"""
    recent = await ago(town, hours=1)
    old = await ago(town, days=200)
    await ago(town, hours=2)
    listed = await requests_of(
        client,
        fmt,
        service_request_id=f"{recent},{old}",
        service_code="general_question",
        status="closed",
        start_date=w3c(datetime.now(UTC) - timedelta(days=1)),
        end_date=w3c(datetime.now(UTC)),
    )
    assert sorted(ids(listed)) == sorted([recent, old])


@pytest.mark.parametrize("fmt", FORMATS)
async def test_service_code_filter_takes_a_comma_delimited_list(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "service_code: ... This defaults to all service codes when not declared; can be
    declared multiple times, comma delimited"."""
    pothole = (await factories.make_case(town)).public_id
    question = (await factories.make_case(town, service_code="general_question")).public_id
    assert ids(await requests_of(client, fmt, service_code="pothole")) == [pothole]
    assert ids(await requests_of(client, fmt, service_code="general_question")) == [question]
    both = await requests_of(client, fmt, service_code="pothole,general_question")
    assert sorted(ids(both)) == sorted([pothole, question])
    assert sorted(ids(await requests_of(client, fmt))) == sorted([pothole, question])


@pytest.mark.parametrize("fmt", FORMATS)
async def test_status_filter_open_and_closed(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "status: ... This defaults to all statuses; can be declared multiple times, comma
    delimited; Options: open, closed." A case answered on the phone is closed ("closed: it has
    been resolved"), one with field work under way still open."""
    waiting = (await factories.make_case(town)).public_id
    answered = (await factories.make_case(town, service_code="general_question")).public_id
    response = await client.post(
        f"/api/cases/{answered}/resolve",
        json={"resolution": "Told the caller the pickup day"},
        headers=town.headers("advocate"),
    )
    assert response.status_code == 200, response.text
    under_way = (await factories.make_case(town)).public_id
    await dispatch(client, town, under_way)

    assert sorted(ids(await requests_of(client, fmt, status="open"))) == sorted(
        [waiting, under_way]
    )
    [closed] = await requests_of(client, fmt, status="closed")
    assert closed["service_request_id"] == answered and closed["status"] == "closed"
    assert isinstance(closed["status_notes"], str) and closed["status_notes"].strip()
    assert len(await requests_of(client, fmt, status="open,closed")) == 3


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("status", ["resolved", "in_progress", "open,bogus"])
async def test_unknown_status_is_400(
    client: httpx.AsyncClient, town: Town, fmt: str, status: str
) -> None:
    """ "Options: open, closed"; anything else is an invalid parameter (400)."""
    assert_error(await call(client, fmt, "requests", params={"status": status}), 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_start_and_end_date_bound_the_requested_datetime(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "start_date: Earliest datetime to include in search. When provided with end_date,
    allows one to search for requests which have a requested_datetime that matches a given
    range"; "end_date: Latest datetime to include in search". W3C format, "eg
    2010-01-01T00:00:00Z", or with an offset."""
    now = datetime.now(UTC)
    ten = await ago(town, days=10)
    two = await ago(town, days=2)
    today = await ago(town, minutes=1)
    since_five = await requests_of(client, fmt, start_date=w3c(now - timedelta(days=5)))
    assert ids(since_five) == [today, two]
    window = await requests_of(
        client,
        fmt,
        start_date=w3c(now - timedelta(days=20)),
        end_date=w3c(now - timedelta(days=5)),
    )
    assert ids(window) == [ten]
    local = (now - timedelta(days=6)).astimezone(NEW_YORK).isoformat(timespec="seconds")
    middle = await requests_of(client, fmt, start_date=local, end_date=w3c(now - timedelta(days=1)))
    assert ids(middle) == [two]
    assert ids(await requests_of(client, fmt, end_date=w3c(now - timedelta(days=5)))) == [ten]
    assert len(await requests_of(client, fmt, start_date="", end_date="")) == 3  # = absent


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00Z"},
        {"start_date": "2026-02-30T00:00:00Z"},
        {"end_date": "12/04/2026"},
    ],
    ids=["words", "month_13", "feb_30", "us_date"],
)
async def test_a_date_that_is_not_w3c_is_400(
    client: httpx.AsyncClient, town: Town, fmt: str, params: dict[str, str]
) -> None:
    """start_date and end_date "Must use w3 format"; otherwise 400."""
    assert_error(await call(client, fmt, "requests", params=params), 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_pages_split_the_list_without_overlap(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """Fieldloop's extension: `page` (1-based) and `page_size` walk the same newest-first
    list."""
    made = [await ago(town, hours=hours) for hours in range(1, 6)]
    everything = ids(await requests_of(client, fmt))
    assert everything == made
    pages = [
        ids(await requests_of(client, fmt, page=str(page), page_size="2")) for page in (1, 2, 3, 4)
    ]
    assert pages == [made[0:2], made[2:4], made[4:5], []]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "two"},
        {"page_size": "0"},
        {"page_size": "1001"},
    ],
    ids=["page_0", "page_-1", "page_words", "size_0", "size_1001"],
)
async def test_bad_page_parameters_are_400(
    client: httpx.AsyncClient, town: Town, fmt: str, params: dict[str, str]
) -> None:
    """`page` counts from 1 and `page_size` is at most 1000; anything else is an invalid
    parameter (400)."""
    assert_error(await call(client, fmt, "requests", params=params), 400)


# --- GET Service Request ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_one_request_by_id_and_404_for_an_unknown_one(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """GET Service Request: "Query the current status of an individual request", a list of
    that one request, whenever it was made; an unknown id is not found."""
    recent = await ago(town, minutes=5)
    old = await ago(town, days=200)
    [listed] = await requests_of(client, fmt)
    assert await requests_of(client, fmt, f"requests/{recent}") == [listed]
    assert ids(await requests_of(client, fmt, f"requests/{old}")) == [old]
    for unknown in (f"{datetime.now(UTC).year}-999999", "not-a-request"):
        assert_error(await call(client, fmt, f"requests/{unknown}"), 404)


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
