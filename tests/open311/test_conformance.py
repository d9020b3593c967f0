"""Open311 GeoReport v2 conformance, from the specification's text
(http://wiki.open311.org/GeoReport_v2): service discovery, the service list, service
definitions, POST Service Request (keys, locations, attributes, limits, the error list) and
GET service_request_id from a token. GET Service Requests lives in
test_conformance_requests.py, which imports the machinery below.

Every answer is read as a strict third-party client reads it, because Open311 clients are
written against the specification and not against Fieldloop: the format is the path's suffix
and the Content-Type must say it (utf-8); XML must start with its declaration, parse with expat
and declare no DOCTYPE or entity; JSON must round-trip. `from_xml` turns an XML document into
the JSON shape (lists, booleans, numbers by the specification's field names), so that a test
asserts once for both formats and XML can be compared with JSON for the same call. Errors must
come in the specification's error format with `code` equal to the HTTP status.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from api.cases.tables import Case
from api.open311.keys import create_api_key, revoke_api_key
from tests import factories
from tests.factories import Town

pytestmark = pytest.mark.usefixtures("db")

BASE = "/open311/v2"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'

# XML list elements → the element each item is (None: any one name, not fixed by the contract)
LIST_ELEMENTS: dict[str, str | None] = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "notes": None,
    "photos": None,
}
BOOLEAN_ELEMENTS = frozenset({"metadata", "variable", "required"})
INTEGER_ELEMENTS = frozenset({"order"})
FLOAT_ELEMENTS = frozenset({"lat", "long"})

SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
CREATED_FIELDS = ["service_request_id", "service_notice", "account_id", "token"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
DATETIME_FIELDS = ("requested_datetime", "updated_datetime", "expected_datetime")
CASE_ID = re.compile(r"^\d{4}-\d{6,}$")
# W3C date-time (the profile of ISO 8601 the specification's examples use), offset required
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

Form = dict[str, str | list[str]]


# --- reading answers as a strict client does ----------------------------------------------------


@dataclass
class Answer:
    status: int
    data: Any  # the JSON document, or the XML one in the JSON shape
    root: str | None  # the XML document's root element (None for JSON)
    fmt: str
    response: httpx.Response


def from_xml(element: ElementTree.Element, parent: str = "") -> Any:
    """An XML answer in the JSON shape: list elements become lists, other elements with
    children objects (in document order), empty elements null; `true`/`false`, `order`,
    `lat`/`long` and an error's `code` take their JSON types."""
    tag = element.tag
    children = list(element)
    if tag in LIST_ELEMENTS:
        assert not (element.text or "").strip(), f"<{tag}> holds text: {element.text!r}"
        names = {child.tag for child in children}
        expected = LIST_ELEMENTS[tag]
        assert len(names) <= 1, f"<{tag}> mixes items {sorted(names)}"
        assert expected is None or names <= {expected}, f"<{tag}> holds {names}, not <{expected}>"
        return [from_xml(child, tag) for child in children]
    if children:
        names = [child.tag for child in children]
        assert len(set(names)) == len(names), f"<{tag}> repeats an element: {names}"
        return {child.tag: from_xml(child, tag) for child in children}
    text = element.text
    if not text:
        return None
    if tag in BOOLEAN_ELEMENTS:
        assert text in ("true", "false"), f"<{tag}>{text}</{tag}> is not an XML boolean"
        return text == "true"
    if tag in INTEGER_ELEMENTS or (tag == "code" and parent == "error"):
        return int(text)
    if tag in FLOAT_ELEMENTS:
        return float(text)
    return text


def parse(response: httpx.Response, fmt: str) -> tuple[Any, str | None]:
    """The document of an answer in `fmt`, checked as a strict client checks it."""
    content_type = response.headers.get("content-type", "")
    media_type, _, parameters = content_type.partition(";")
    assert media_type.strip().lower() == MEDIA_TYPES[fmt], (response.status_code, content_type)
    assert "charset=utf-8" in parameters.replace(" ", "").lower(), content_type
    body = response.content
    if fmt == "json":
        data = json.loads(body.decode("utf-8"))
        assert json.loads(json.dumps(data)) == data
        return data, None
    assert body.startswith(XML_DECLARATION), body[:80]
    lowered = body.lower()
    assert b"<!doctype" not in lowered and b"<!entity" not in lowered, body[:200]
    root = ElementTree.fromstring(body)  # expat: malformed XML raises
    return from_xml(root), root.tag


async def call(
    client: httpx.AsyncClient,
    fmt: str,
    path: str,
    *,
    method: str = "GET",
    params: dict[str, str] | None = None,
    form: Form | None = None,
) -> Answer:
    """One Open311 call, `path` without its format suffix (`services/pothole`)."""
    response = await client.request(method, f"{BASE}/{path}.{fmt}", params=params, data=form)
    data, root = parse(response, fmt)
    return Answer(response.status_code, data, root, fmt, response)


def assert_error(answer: Answer, status: int) -> list[dict[str, Any]]:
    """Errors: "<errors><error><code>…</code><description>…</description></error></errors>",
    in JSON `[{"code": …, "description": "…"}]`, `code` being the HTTP status."""
    assert answer.status == status, (answer.status, answer.response.text)
    if answer.fmt == "xml":
        assert answer.root == "errors", answer.root
    errors = answer.data
    assert isinstance(errors, list) and errors, errors
    for error in errors:
        assert list(error) == ["code", "description"], error
        assert type(error["code"]) is int and error["code"] == status, error
        assert isinstance(error["description"], str) and error["description"].strip(), error
    return errors


def assert_root(answer: Answer, root: str) -> None:
    if answer.fmt == "xml":
        assert answer.root == root, answer.root


def blank_to_none(value: Any) -> Any:
    """JSON as XML can carry it: an empty string and null are both an empty element."""
    if isinstance(value, dict):
        return {key: blank_to_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [blank_to_none(item) for item in value]
    return None if value == "" else value


def assert_same_data(json_data: Any, xml_data: Any, where: str = "$") -> None:
    """The JSON and the XML document of one call carry the same data, fields in one order."""
    json_data, xml_data = blank_to_none(json_data), blank_to_none(xml_data)
    if isinstance(json_data, dict):
        assert isinstance(xml_data, dict), (where, json_data, xml_data)
        assert list(json_data) == list(xml_data), (where, list(json_data), list(xml_data))
        for key in json_data:
            assert_same_data(json_data[key], xml_data[key], f"{where}.{key}")
    elif isinstance(json_data, list):
        assert isinstance(xml_data, list), (where, json_data, xml_data)
        assert len(json_data) == len(xml_data), (where, json_data, xml_data)
        for index, (one, other) in enumerate(zip(json_data, xml_data, strict=True)):
            assert_same_data(one, other, f"{where}[{index}]")
    else:
        assert json_data == xml_data, (where, json_data, xml_data)


def moment(value: Any) -> datetime:
    """A datetime field: W3C format with a UTC offset."""
    assert isinstance(value, str) and W3C_DATETIME.match(value), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None, value
    return parsed


# --- submitting ---------------------------------------------------------------------------------


@pytest.fixture
async def api_key(town: Town) -> str:
    """A key for a third-party app, in a town with its service types."""
    return await create_api_key("test-app")


def pothole_form(api_key: str | None, **fields: str | list[str] | None) -> Form:
    """A valid pothole report; a field given as None is left out."""
    form: dict[str, str | list[str] | None] = {
        "api_key": api_key,
        "service_code": "pothole",
        "lat": "35.7915",
        "long": "-78.7811",
        "address_string": "12 Main St, Cary, NC 27511",
        "attribute[size]": "large",
        "description": "Deep pothole in the right lane",
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


async def post_request(client: httpx.AsyncClient, fmt: str, form: Form) -> Answer:
    return await call(client, fmt, "requests", method="POST", form=form)


async def submit(
    client: httpx.AsyncClient, api_key: str, fmt: str = "json", **fields: str | list[str] | None
) -> dict[str, Any]:
    """POST a valid pothole report (with `fields` changed); its one created entry."""
    answer = await post_request(client, fmt, pothole_form(api_key, **fields))
    assert answer.status == 201, answer.response.text
    [created] = answer.data
    return created


async def staff_case(client: httpx.AsyncClient, town: Town, public_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/cases/{public_id}", headers=town.headers("advocate"))
    assert response.status_code == 200, response.text
    return response.json()


# --- service discovery --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_discovery_names_this_endpoint_its_specification_and_formats(
    client: httpx.AsyncClient, fmt: str
) -> None:
    """Service Discovery: "changeset", "contact", "key_service" and "endpoints", each endpoint
    with "specification", "url", "changeset", "type" and "formats" ("Array of mime types of
    formats available"); the url is this endpoint, usable as the base of every call."""
    answer = await call(client, fmt, "discovery")
    assert answer.status == 200, answer.response.text
    assert_root(answer, "discovery")
    document = answer.data
    assert list(document) == ["changeset", "contact", "key_service", "endpoints"]
    for name in ("changeset", "contact", "key_service"):
        assert isinstance(document[name], str) and document[name].strip(), name
    [endpoint] = document["endpoints"]
    assert list(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert endpoint["specification"] == SPEC_URL
    assert endpoint["url"].startswith(("http://", "https://"))
    assert endpoint["url"].endswith("/open311/v2"), endpoint["url"]
    assert isinstance(endpoint["changeset"], str) and endpoint["changeset"].strip()
    assert endpoint["type"] == "production"
    # a list of what is available: its order means nothing
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]
    path = httpx.URL(endpoint["url"]).path
    assert (await client.get(f"{path}/services.{fmt}")).status_code == 200


# --- GET Service List ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_service_list_describes_each_service(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """GET Service List: "service_code", "service_name", "description", "metadata" ("true: This
    service request type requires additional metadata so the client will need to make a call to
    the Service Definition method"), "type" ("realtime: The service request ID will be returned
    immediately after the service request is submitted"), "keywords" ("A comma separated list of
    tags or keywords") and "group". No login is needed."""
    answer = await call(client, fmt, "services")
    assert answer.status == 200, answer.response.text
    assert_root(answer, "services")
    services = {service["service_code"]: service for service in answer.data}
    assert set(services) == {"pothole", "general_question"}
    for service in services.values():
        assert list(service) == SERVICE_FIELDS, service
        assert service["type"] == "realtime"
    pothole, question = services["pothole"], services["general_question"]
    assert pothole["service_name"] == "Pothole"
    assert pothole["description"] == "Pothole reported by a citizen"
    assert pothole["group"] == "Streets"
    assert isinstance(pothole["keywords"], str)
    assert [word.strip() for word in pothole["keywords"].split(",")] == ["road", "street"]
    assert pothole["metadata"] is True  # it has attributes
    assert question["metadata"] is False  # it has none
    assert question["service_name"] == "General question"


# --- GET Service Definition ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_service_definition_lists_the_attributes(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """GET Service Definition: "service_code" and "attributes", each with "variable", "code",
    "datatype" (string, number, datetime, text, singlevaluelist, multivaluelist), "required"
    ("true means that the value is required to submit service request"),
    "datatype_description", "order", "description" and "values" ("key", "name")."""
    answer = await call(client, fmt, "services/pothole")
    assert answer.status == 200, answer.response.text
    assert_root(answer, "service_definition")
    definition = answer.data
    assert list(definition) == ["service_code", "attributes"]
    assert definition["service_code"] == "pothole"
    attributes = {attribute["code"]: attribute for attribute in definition["attributes"]}
    assert set(attributes) == {"size", "depth_cm"}
    for attribute in attributes.values():
        assert set(attribute) == ATTRIBUTE_FIELDS, attribute
        assert attribute["datatype"] in DATATYPES
        assert attribute["variable"] is True
        assert isinstance(attribute["required"], bool)
        assert attribute["datatype_description"] is None or isinstance(
            attribute["datatype_description"], str
        )
    size, depth = attributes["size"], attributes["depth_cm"]
    assert size["datatype"] == "singlevaluelist" and size["required"] is True
    assert size["description"] == "How big is it?"
    assert size["values"] == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]
    assert depth["datatype"] == "number" and depth["required"] is False
    assert depth["description"] == "Depth in cm"
    assert depth["values"] == []


@pytest.mark.parametrize("fmt", FORMATS)
async def test_attribute_order_counts_from_one_in_document_order(
    client: httpx.AsyncClient, town: Town, fmt: str
) -> None:
    """ "order: The sort order that the attributes will be presented to the user. 1 is shown
    first in the list." (The town's attributes were defined without an order.)"""
    answer = await call(client, fmt, "services/pothole")
    orders = [attribute["order"] for attribute in answer.data["attributes"]]
    assert all(type(order) is int for order in orders), orders
    assert orders == sorted(orders), orders
    assert min(orders) == 1, orders


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["no_such_service", "general_question"])
async def test_service_definition_of_unknown_or_attribute_free_service_is_404(
    client: httpx.AsyncClient, town: Town, fmt: str, code: str
) -> None:
    """ "404 - service_code provided does not exist"; a service whose metadata is false has no
    definition to call for ("This call is only necessary if the Service selected has metadata
    set as true")."""
    assert_error(await call(client, fmt, f"services/{code}"), 404)


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
