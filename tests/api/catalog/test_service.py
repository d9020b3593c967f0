"""api/catalog/service.py: checking a caller's answers, and listing the service catalogue."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.catalog.schemas import AttributeDatatype
from api.catalog.service import check_attributes, list_service_types, service_type_by_code
from api.catalog.tables import ServiceType
from api.errors import InputInvalidError
from api.settings import Settings
from tests.factories import POTHOLE_ATTRIBUTES, Town, make_service_type, shared_app

QUESTIONS = [
    *POTHOLE_ATTRIBUTES,  # size: required singlevaluelist (small, large); depth_cm: number
    {
        "code": "surfaces",
        "description": "What is painted?",
        "datatype": "multivaluelist",
        "values": [{"key": "wall", "name": "Wall"}, {"key": "fence", "name": "Fence"}],
    },
    {"code": "seen_at", "description": "When did you see it?", "datatype": "datetime"},
    {"code": "details", "description": "Anything else?", "datatype": "text"},
    {"code": "inspector", "description": "Filled in by staff", "variable": False},
]
SERVICE = {"code": "pothole", "attributes": QUESTIONS}


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"size": "small"}, {"size": "small"}),
        ({"size": ["large"]}, {"size": "large"}),
        ({"size": "small", "depth_cm": "12"}, {"size": "small", "depth_cm": "12"}),
        ({"size": "small", "depth_cm": "-3.5"}, {"size": "small", "depth_cm": "-3.5"}),
        ({"size": "small", "depth_cm": "1e3"}, {"size": "small", "depth_cm": "1e3"}),
        ({"size": "small", "depth_cm": ""}, {"size": "small"}),  # unanswered optional
        ({"size": "small", "surfaces": "wall"}, {"size": "small", "surfaces": ["wall"]}),
        (
            {"size": "small", "surfaces": ["wall", "fence"]},
            {"size": "small", "surfaces": ["wall", "fence"]},
        ),
        ({"size": "small", "surfaces": []}, {"size": "small"}),
        (
            {"size": "small", "seen_at": "2026-03-01T10:00:00-05:00"},
            {"size": "small", "seen_at": "2026-03-01T10:00:00-05:00"},
        ),
        ({"size": "small", "details": "x" * 4000}, {"size": "small", "details": "x" * 4000}),
    ],
)
def test_good_answers_pass_in_their_shape(answers: dict, expected: dict) -> None:
    assert check_attributes(SERVICE, answers) == expected


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({}, "attributes.size", "required: How big is it?"),
        ({"size": ""}, "attributes.size", "required"),
        ({"size": []}, "attributes.size", "required"),
        ({"size": "huge"}, "attributes.size", "'huge' is not an allowed value"),
        ({"size": "Small"}, "attributes.size", "not an allowed value"),
        ({"size": ["small", "large"]}, "attributes.size", "expects a single value"),
        ({"size": "small", "colour": "red"}, "attributes.colour", "asks no question 'colour'"),
        ({"size": "small", "inspector": "me"}, "attributes.inspector", "asks no question"),
        ({"size": "small", "depth_cm": "deep"}, "attributes.depth_cm", "expects a number"),
        ({"size": "small", "depth_cm": "nan"}, "attributes.depth_cm", "expects a number"),
        ({"size": "small", "depth_cm": "-inf"}, "attributes.depth_cm", "expects a number"),
        ({"size": "small", "surfaces": ["wall", "roof"]}, "attributes.surfaces", "'roof'"),
        ({"size": "small", "seen_at": "yesterday"}, "attributes.seen_at", "ISO 8601"),
        ({"size": "small", "details": "x" * 4001}, "attributes.details", "longer than"),
    ],
)
def test_bad_answers_are_422_naming_the_question(answers: dict, field: str, message: str) -> None:
    with pytest.raises(InputInvalidError, match=message) as refused:
        check_attributes(SERVICE, answers)
    assert refused.value.status_code == 422
    assert refused.value.field == field


def test_questions_stored_as_json_text_are_read_too() -> None:
    """SQLite hands JSON columns back as text."""
    stored = {"code": "pothole", "attributes": json.dumps(QUESTIONS)}
    assert check_attributes(stored, {"size": "large"}) == {"size": "large"}
    with pytest.raises(InputInvalidError):
        check_attributes(stored, {})


def test_a_service_without_questions_takes_no_answers() -> None:
    assert check_attributes({"code": "q", "attributes": []}, {}) == {}
    with pytest.raises(InputInvalidError, match="asks no question 'size'"):
        check_attributes({"code": "q", "attributes": []}, {"size": "small"})


async def test_list_service_types(town: Town) -> None:
    retired = await make_service_type(town.department_id, "old_thing", "Abandoned bicycle")
    await ServiceType.update({ServiceType.active: False}).where(ServiceType.id == retired)
    listed = await list_service_types(town.users["crew_a"])  # every role may read it
    assert [s.code for s in listed] == ["general_question", "pothole"]  # by name
    question, pothole = listed
    assert (question.needs_work_order, pothole.needs_work_order) == (False, True)
    assert pothole.department == "Public Works"
    assert pothole.group == "Streets"
    assert pothole.keywords == ["road", "street"]
    assert pothole.sla_hours == 72
    assert [a.code for a in pothole.attributes] == ["size", "depth_cm"]
    size = pothole.attributes[0]
    assert (size.datatype, size.required) == (AttributeDatatype.SINGLEVALUELIST, True)
    assert [v.key for v in size.values] == ["small", "large"]
    assert question.attributes == []


async def test_service_type_by_code(town: Town) -> None:
    row = await service_type_by_code("pothole")
    assert (row["code"], row["department.name"]) == ("pothole", "Public Works")
    with pytest.raises(InputInvalidError) as refused:
        await service_type_by_code("nope")
    assert refused.value.field == "service_code"
