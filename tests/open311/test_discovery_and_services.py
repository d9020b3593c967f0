"""Open311 GeoReport v2 conformance of the calls a client makes before it submits anything, from
the specification's text (http://wiki.open311.org/GeoReport_v2): Service Discovery, GET Service
List and GET Service Definition (attributes, their datatypes, order and values, and 404 for a
service that has no definition).

A client learns the endpoint, the formats and the services from these answers alone, so each
is checked field by field and in both formats, read as a strict client reads it
(conformance.py).
"""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Town
from tests.open311.conformance import (
    ATTRIBUTE_FIELDS,
    DATATYPES,
    FORMATS,
    SERVICE_FIELDS,
    SPEC_URL,
    assert_error,
    assert_root,
    call,
)

pytestmark = pytest.mark.usefixtures("db")


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
