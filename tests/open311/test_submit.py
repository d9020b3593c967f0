"""Open311 GeoReport v2 conformance of POST Service Request and of GET service_request_id from a
token, from the specification's text (http://wiki.open311.org/GeoReport_v2): the created
entry's fields, api_key (403), service_code (404), the kinds of location, attribute answers
(required, singlevaluelist, number, multivaluelist), the 4,000-character description, the
per-key rate limit (429) and the error list reporting every problem at once.

A posted request becomes an ordinary case, so besides the answer each test checks what was
filed (or that nothing was), through the staff API.
"""

from __future__ import annotations

import httpx
import pytest

from api.cases.tables import Case
from api.open311.keys import create_api_key, revoke_api_key
from tests import factories
from tests.factories import Town
from tests.open311.conformance import (
    CASE_ID,
    CREATED_FIELDS,
    FORMATS,
    assert_error,
    assert_root,
    call,
    post_request,
    pothole_form,
    staff_case,
    submit,
)

pytestmark = pytest.mark.usefixtures("db")


# --- POST Service Request -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_creates_an_ordinary_case_and_answers_its_id(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """POST Service Request answers "service_request_id" ("The unique ID of the service
    request created"), "service_notice", "account_id" and "token"; the request is an ordinary
    case the advocates see, by channel open311, with its answers and place."""
    answer = await post_request(
        client,
        fmt,
        pothole_form(
            api_key,
            **{"attribute[depth_cm]": "12"},
            device_id="device-42",
            account_id="acct-7",
            media_url="https://photos.example.org/pothole.jpg",
        ),
    )
    assert answer.status == 201, answer.response.text
    assert_root(answer, "service_requests")
    [created] = answer.data
    assert list(created) == CREATED_FIELDS
    assert CASE_ID.match(created["service_request_id"]), created
    assert isinstance(created["token"], str) and created["token"]
    assert created["service_notice"] is None or isinstance(created["service_notice"], str)

    case = await staff_case(client, town, created["service_request_id"])
    assert case["channel"] == "open311"
    assert case["service_code"] == "pothole"
    assert case["description"] == "Deep pothole in the right lane"
    assert case["attributes"]["size"] == "large"
    assert float(case["attributes"]["depth_cm"]) == 12
    assert case["place"]["address"] == "12 Main St, Cary, NC 27511"
    assert case["place"]["lat"] == pytest.approx(35.7915)
    assert case["place"]["lng"] == pytest.approx(-78.7811)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("problem", ["missing", "empty", "unknown", "revoked"])
async def test_post_without_a_valid_api_key_is_403(
    client: httpx.AsyncClient, api_key: str, fmt: str, problem: str
) -> None:
    """ "403 - api_key was not provided or is invalid": missing, empty, unknown or revoked.
    Nothing is filed."""
    key: str | None = {"missing": None, "empty": "", "unknown": "not-a-key", "revoked": api_key}[
        problem
    ]
    if problem == "revoked":
        await revoke_api_key("test-app")
    assert_error(await post_request(client, fmt, pothole_form(key)), 403)
    assert await Case.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_for_an_unknown_service_is_404(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    """service_code must be "The unique identifier for the service request type" of GET
    Service List; an unknown one is not found (404), and nothing is filed."""
    answer = await post_request(client, fmt, pothole_form(api_key, service_code="no_such"))
    assert_error(answer, 404)
    assert await Case.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_reports_every_problem_at_once(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    """ "400 - Various errors such as missing or invalid parameters": errors are a list, so a
    request missing both its service_code and its location hears of both."""
    form = pothole_form(api_key, service_code=None, lat=None, long=None, address_string=None)
    errors = assert_error(await post_request(client, fmt, form), 400)
    assert len(errors) >= 2, errors
    assert len({error["description"] for error in errors}) == len(errors), errors
    assert await Case.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "location",
    [
        {"lat": "35.7915", "long": "-78.7811", "address_string": None},
        {"lat": None, "long": None, "address_string": "12 Main St, Cary, NC 27511"},
        {"lat": None, "long": None, "address_string": None, "address_id": "ADDR-00042"},
    ],
    ids=["lat_long", "address_string", "address_id"],
)
async def test_post_accepts_each_kind_of_location(
    client: httpx.AsyncClient, api_key: str, fmt: str, location: dict[str, str | None]
) -> None:
    """ "location: lat & long both required, or address_string, or address_id"."""
    answer = await post_request(client, fmt, pothole_form(api_key, **location))
    assert answer.status == 201, answer.response.text


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "location",
    [
        {"lat": "35.7915", "long": None, "address_string": None},
        {"lat": None, "long": "-78.7811", "address_string": None},
        {"lat": "", "long": "", "address_string": None},
        {"lat": "", "long": "", "address_string": "", "address_id": ""},
        {"lat": "91", "long": "-78.7811", "address_string": None},
        {"lat": "35.7915", "long": "-181", "address_string": None},
        {"lat": "north", "long": "west", "address_string": None},
    ],
    ids=["lat_only", "long_only", "empty", "all_empty", "lat_91", "long_-181", "words"],
)
async def test_post_without_a_usable_location_is_400(
    client: httpx.AsyncClient, api_key: str, fmt: str, location: dict[str, str | None]
) -> None:
    """ "lat & long both required, or address_string, or address_id" ("lat: latitude using
    the (WGS84) projection"); an empty parameter counts as absent."""
    assert_error(await post_request(client, fmt, pothole_form(api_key, **location)), 400)
    assert await Case.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_with_an_empty_service_code_is_400(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    """service_code is required; an empty parameter counts as absent (400, not 404)."""
    assert_error(await post_request(client, fmt, pothole_form(api_key, service_code="")), 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_description_is_limited_to_4000_characters(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """ "description: A full description of the request or report being submitted. This may
    contain line breaks, but not html or code. Otherwise, this is free form text limited to
    4,000 characters." Characters, not bytes."""
    longest = "é" * 4000
    created = await submit(client, api_key, fmt, description=longest)
    assert (await staff_case(client, town, created["service_request_id"]))["description"] == (
        longest
    )
    too_long = pothole_form(api_key, description="é" * 4001)
    assert_error(await post_request(client, fmt, too_long), 400)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "answers",
    [
        {"attribute[size]": None},
        {"attribute[size]": ""},
        {"attribute[size]": "huge"},
        {"attribute[depth_cm]": "deep"},
    ],
    ids=["required_missing", "required_empty", "not_a_value", "not_a_number"],
)
async def test_post_with_bad_attribute_answers_is_400(
    client: httpx.AsyncClient, api_key: str, fmt: str, answers: dict[str, str | None]
) -> None:
    """ "required: true means that the value is required to submit service request"; a
    singlevaluelist answer is one of its "values" keys; a number is a number. Otherwise "400 -
    Various errors such as missing or invalid parameters"."""
    assert_error(await post_request(client, fmt, pothole_form(api_key, **answers)), 400)
    assert await Case.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_takes_several_values_for_a_multivaluelist(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """ "attribute: This takes the form of attribute[code]=value where multiple code/value
    pairs can be specified as well as multiple values for the same code in the case of a
    multivaluelist datatype (attribute[code1][]=value1&attribute[code1][]=value2...)"."""
    kinds = [{"key": key, "name": key.title()} for key in ("bottles", "cans", "bags")]
    await factories.make_service_type(
        town.department_id,
        "litter",
        "Litter",
        attributes=[
            {
                "code": "kinds",
                "description": "What is there?",
                "datatype": "multivaluelist",
                "values": kinds,
            },
            {"code": "where", "description": "Where exactly?", "datatype": "string"},
        ],
    )
    form = pothole_form(
        api_key,
        service_code="litter",
        **{
            "attribute[size]": None,
            "attribute[kinds][]": ["bottles", "cans"],
            "attribute[where]": "by the bus stop",
        },
    )
    answer = await post_request(client, fmt, form)
    assert answer.status == 201, answer.response.text
    case = await staff_case(client, town, answer.data[0]["service_request_id"])
    assert case["attributes"] == {"kinds": ["bottles", "cans"], "where": "by the bus stop"}
    bad = pothole_form(
        api_key, service_code="litter", **{"attribute[size]": None, "attribute[kinds][]": "tyres"}
    )
    assert_error(await post_request(client, fmt, bad), 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_more_than_60_posts_a_minute_from_one_key_is_429(
    client: httpx.AsyncClient, town: Town, api_key: str, fmt: str
) -> None:
    """A key may submit 60 requests a minute; the 61st is refused (429) in the error format,
    files nothing, and another key is not held back."""
    for _ in range(60):
        await submit(client, api_key)
    assert_error(await post_request(client, fmt, pothole_form(api_key)), 429)
    assert await Case.count() == 60
    other = await create_api_key("other-app")
    await submit(client, other, fmt)
    assert await Case.count() == 61


# --- GET service_request_id from a token --------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_token_gives_the_service_request_id(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    """GET service_request_id from a token: "token" and "service_request_id" of the request
    the token was answered for; an unknown token is not found."""
    created = await submit(client, api_key)
    answer = await call(client, fmt, f"tokens/{created['token']}")
    assert answer.status == 200, answer.response.text
    assert_root(answer, "service_requests")
    assert answer.data == [
        {"service_request_id": created["service_request_id"], "token": created["token"]}
    ] or answer.data == [
        {"token": created["token"], "service_request_id": created["service_request_id"]}
    ]
    assert_error(await call(client, fmt, f"tokens/{'x' * len(created['token'])}"), 404)
    assert_error(await call(client, fmt, "tokens/nope"), 404)
