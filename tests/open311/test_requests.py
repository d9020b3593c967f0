"""Open311 GeoReport v2 conformance of GET Service Requests and GET Service Request, from the
specification's text (http://wiki.open311.org/GeoReport_v2): every field in order with absent
values present, the description, W3C datetimes with an offset, the defaults (90 days, newest
first, at most 1000), the filters (service_request_id, service_code, status, start_date,
end_date), Fieldloop's page and page_size extension and one request by its id.

These are what a client reading the public list relies on, so each filter is checked with
requests on both sides of it; requests are moved in time by writing `created_at`
(conformance.py's `ago`), as the API cannot backdate.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.cases.tables import Case
from api.db import write_transaction
from tests import factories
from tests.factories import Town
from tests.open311.conformance import (
    DATETIME_FIELDS,
    FORMATS,
    REQUEST_FIELDS,
    ago,
    assert_error,
    call,
    dispatch,
    ids,
    moment,
    requests_of,
    submit,
    upload,
    w3c,
)

pytestmark = pytest.mark.usefixtures("db")

NEW_YORK = ZoneInfo("America/New_York")


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
