"""Service types as Open311 describes them, plus Fieldloop's routing fields."""

from __future__ import annotations

from enum import StrEnum

import msgspec


class AttributeDatatype(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


class AttributeValue(msgspec.Struct):
    key: str
    name: str


class AttributeDefinition(msgspec.Struct):
    """One question intake asks for a service type (Open311 service definition attribute)."""

    code: str
    description: str
    datatype: AttributeDatatype = AttributeDatatype.STRING
    required: bool = False
    variable: bool = True
    order: int = 0
    datatype_description: str = ""
    values: list[AttributeValue] = []


class ServiceTypeOut(msgspec.Struct):
    code: str
    name: str
    description: str
    group: str
    keywords: list[str]
    department: str
    needs_work_order: bool
    sla_hours: int
    attributes: list[AttributeDefinition]
