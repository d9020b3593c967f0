"""Shared machinery of the Open311 GeoReport v2 conformance tests (test_discovery_and_services,
test_submit, test_requests, test_requests_life), from the specification's text
(http://wiki.open311.org/GeoReport_v2). Not a test module: it holds no tests.

Every answer is read as a strict third-party client reads it, because Open311 clients are
written against the specification and not against Fieldloop: the format is the path's suffix
and the Content-Type must say it (utf-8); XML must start with its declaration, parse with expat
and declare no DOCTYPE or entity; JSON must round-trip. `from_xml` turns an XML document into
the JSON shape (lists, booleans, numbers by the specification's field names), so that a test
asserts once for both formats and XML can be compared with JSON for the same call. Errors must
come in the specification's error format with `code` equal to the HTTP status.

Besides reading (`call`, `parse`, `from_xml`, `assert_error`, `assert_same_data`, `moment`) it
submits (`pothole_form`, `post_request`, `submit`) and works requests as the office and the crew
do (`requests_of`, `ago`, `set_requested`, `dispatch`, `crew_status`, `upload`). A request is a
case, so most are made the way the office makes them (`factories.make_case`) and moved in time
by writing `created_at`, as the API cannot backdate. tests/open311/conftest.py has pytest
rewrite this module's asserts, as it does a test module's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import httpx

from api.cases.tables import Case
from tests import factories
from tests.factories import Town

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


# --- listing requests and working them as the office and the crew do ---------------------------


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
