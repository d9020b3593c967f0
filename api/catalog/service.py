"""Reading the catalogue and checking a case's answers against its service type's questions."""

from __future__ import annotations

import json
import math
from datetime import datetime

import msgspec

from api.access import Action, authorize
from api.auth.schemas import Principal
from api.catalog.schemas import AttributeDatatype, AttributeDefinition, ServiceTypeOut
from api.catalog.tables import ServiceType
from api.errors import InputInvalidError

AttributeAnswers = dict[str, str | list[str]]


def attribute_definitions(raw: str | list) -> list[AttributeDefinition]:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return msgspec.convert(data, list[AttributeDefinition])


def _out(row: dict) -> ServiceTypeOut:
    return ServiceTypeOut(
        code=row["code"],
        name=row["name"],
        description=row["description"],
        group=row["group_name"],
        keywords=[k.strip() for k in row["keywords"].split(",") if k.strip()],
        department=row["department.name"],
        needs_work_order=row["needs_work_order"],
        sla_hours=row["sla_hours"],
        attributes=attribute_definitions(row["attributes"]),
    )


def _select():
    return ServiceType.select(
        *ServiceType.all_columns(exclude=["department"]), ServiceType.department.name
    )


async def list_service_types(actor: Principal) -> list[ServiceTypeOut]:
    authorize(actor, Action.CATALOG_READ)
    rows = await _select().where(ServiceType.active.eq(True)).order_by(ServiceType.name)
    return [_out(row) for row in rows]


async def service_type_by_code(code: str) -> dict:
    """The active service type row for `code`, or a 422 naming `service_code`."""
    row = await _select().where((ServiceType.code == code) & ServiceType.active.eq(True)).first()
    if row is None:
        raise InputInvalidError(f"unknown service_code {code!r}", field="service_code")
    return row


def _check_answer(definition: AttributeDefinition, answer: str | list[str]) -> str | list[str]:
    field = f"attributes.{definition.code}"
    allowed = {value.key for value in definition.values}
    kind = definition.datatype
    if kind is AttributeDatatype.MULTIVALUELIST:
        values = answer if isinstance(answer, list) else [answer]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise InputInvalidError(f"{unknown[0]!r} is not an allowed value", field=field)
        return values
    if isinstance(answer, list):
        if len(answer) != 1:
            raise InputInvalidError("expects a single value", field=field)
        answer = answer[0]
    if kind is AttributeDatatype.SINGLEVALUELIST and answer not in allowed:
        raise InputInvalidError(f"{answer!r} is not an allowed value", field=field)
    if kind is AttributeDatatype.NUMBER:
        try:
            number = float(answer)
        except ValueError:
            raise InputInvalidError("expects a number", field=field) from None
        if not math.isfinite(number):  # float() also reads "nan" and "inf"
            raise InputInvalidError("expects a number", field=field)
    if kind is AttributeDatatype.DATETIME:
        try:
            datetime.fromisoformat(answer)
        except ValueError:
            raise InputInvalidError("expects an ISO 8601 date and time", field=field) from None
    if len(answer) > 4000:
        raise InputInvalidError("is longer than 4,000 characters", field=field)
    return answer


def check_attributes(service_type: dict, answers: AttributeAnswers) -> AttributeAnswers:
    """Answers validated against the service type's questions; unknown codes are refused."""
    definitions = {
        d.code: d for d in attribute_definitions(service_type["attributes"]) if d.variable
    }
    unknown = sorted(set(answers) - set(definitions))
    if unknown:
        raise InputInvalidError(
            f"service {service_type['code']!r} asks no question {unknown[0]!r}",
            field=f"attributes.{unknown[0]}",
        )
    checked: AttributeAnswers = {}
    for code, definition in definitions.items():
        answer = answers.get(code)
        if answer in (None, "", []):
            if definition.required:
                raise InputInvalidError(
                    f"required: {definition.description}", field=f"attributes.{code}"
                )
            continue
        checked[code] = _check_answer(definition, answer)
    return checked
