"""Open311 GeoReport v2 rules: the service catalogue, submitting a request, reading requests.

A submitted request is an ordinary case (channel `open311`) filed through `cases.create_case`
as the key's service user, so it is checked, numbered and shown to advocates like any other;
its `service_request_id` is the case's public id. Parameters arrive as the specification
names them (form fields, query strings); an empty parameter counts as absent, and every
problem with them is reported together, as Open311 clients expect.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from api.cases.schemas import CaseCreate, Channel
from api.cases.service import create_case
from api.cases.tables import Case
from api.catalog.service import attribute_definitions, service_type_by_code
from api.catalog.tables import ServiceType
from api.citizens.schemas import CitizenIn, PlaceIn
from api.db import write_transaction
from api.errors import DomainError
from api.open311 import queries
from api.open311.keys import authenticate
from api.open311.tables import Submission
from api.settings import Settings

MAX_DESCRIPTION = 4000
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")

Params = dict[str, list[str]]


class RequestRefusedError(DomainError):
    """One or more problems with an Open311 call, answered together in the error list."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(problems[0][1])
        self.status_code = problems[0][0]
        self.problems = problems


def clean(params: Params) -> Params:
    """Drop empty values: in Open311 an empty parameter counts as absent."""
    kept = {key: [v for v in values if v.strip()] for key, values in params.items()}
    return {key: values for key, values in kept.items() if values}


def one(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1].strip() if values else None


# --- the catalogue --------------------------------------------------------------------------


def _service(row: dict) -> dict[str, Any]:
    return {
        "service_code": row["code"],
        "service_name": row["name"],
        "description": row["description"],
        "metadata": bool(attribute_definitions(row["attributes"])),
        "type": "realtime",  # a request becomes a case at once
        "keywords": ", ".join(k.strip() for k in row["keywords"].split(",") if k.strip()),
        "group": row["group_name"],
    }


async def list_services() -> list[dict[str, Any]]:
    rows = await ServiceType.select().where(ServiceType.active.eq(True)).order_by(ServiceType.name)
    return [_service(row) for row in rows]


async def service_definition(code: str) -> dict[str, Any]:
    row = (
        await ServiceType.select()
        .where((ServiceType.code == code) & ServiceType.active.eq(True))
        .first()
    )
    if row is None:
        raise RequestRefusedError([(404, f"no service with service_code {code!r}")])
    definitions = sorted(attribute_definitions(row["attributes"]), key=lambda d: d.order)
    if not definitions:
        raise RequestRefusedError([(404, f"service {code!r} has no definition (metadata false)")])
    return {
        "service_code": row["code"],
        "attributes": [
            {
                "variable": d.variable,
                "code": d.code,
                "datatype": d.datatype.value,
                "required": d.required,
                "datatype_description": d.datatype_description or None,
                "order": d.order or position,  # 1 is shown first
                "description": d.description,
                "values": [{"key": v.key, "name": v.name} for v in d.values],
            }
            for position, d in enumerate(definitions, start=1)
        ],
    }


# --- submitting -----------------------------------------------------------------------------


def _attributes(params: Params) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {}
    for key, values in params.items():
        match = _ATTRIBUTE.match(key)
        if match:
            code = match.group(1)
            answers[code] = values if match.group(2) or len(values) > 1 else values[0]
    return answers


def _number(params: Params, name: str, low: float, high: float, problems: list) -> float | None:
    raw = one(params, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        problems.append((400, f"{name} must be a number in decimal degrees"))
        return None
    if not low <= value <= high:
        problems.append((400, f"{name} must be between {low:g} and {high:g}"))
        return None
    return value


def _place(params: Params, problems: list) -> PlaceIn | None:
    lat = _number(params, "lat", -90, 90, problems)
    lng = _number(params, "long", -180, 180, problems)
    address = one(params, "address_string")
    address_id = one(params, "address_id")
    if (lat is None) != (lng is None):
        if not problems:
            problems.append((400, "lat and long go together"))
        lat = lng = None
    if lat is None and address is None and address_id is None:
        problems.append((400, "a location is required: lat and long, address_string or address_id"))
        return None
    if address is None:
        address = address_id if lat is None else f"{lat:.6f}, {lng:.6f}"
    return PlaceIn(address=address[:300], lat=lat, lng=lng, asset_id=address_id)


def _citizen(params: Params) -> CitizenIn | None:
    name = " ".join(filter(None, (one(params, "first_name"), one(params, "last_name"))))
    phone, email = one(params, "phone") or "", one(params, "email") or ""
    if not (name or phone or email):
        return None
    return CitizenIn(
        name=name[:120], phone=phone, email=email, contact_preference="email" if email else "phone"
    )


async def submit(params: Params, settings: Settings, base_url: str) -> list[dict[str, Any]]:
    """POST requests: a new case filed for the key's app; its id, notice and token."""
    params = clean(params)
    app = await authenticate(one(params, "api_key"), settings.open311_rate_per_minute)
    problems: list[tuple[int, str]] = []
    code = one(params, "service_code")
    if code is None:
        problems.append((400, "service_code is required"))
    description = one(params, "description") or ""
    if len(description) > MAX_DESCRIPTION:
        problems.append((400, f"description is over {MAX_DESCRIPTION} characters"))
    place = _place(params, problems)
    if problems:
        raise RequestRefusedError(problems)
    try:
        service_type = await service_type_by_code(code or "")
    except DomainError:
        raise RequestRefusedError([(404, f"no service with service_code {code!r}")]) from None
    try:
        data = CaseCreate(
            service_code=code or "",
            description=description,
            channel=Channel.OPEN311,
            citizen=_citizen(params),
            place=place,
            attributes=_attributes(params),
        )
        data = msgspec.convert(msgspec.to_builtins(data), CaseCreate)  # runs the field checks
    except msgspec.ValidationError as error:
        raise RequestRefusedError([(400, f"bad parameter: {error}")]) from None
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        case = await create_case(app.user, data)
        case_row = await Case.select(Case.id).where(Case.public_id == case.public_id).first()
        await Submission(
            case=case_row["id"], api_key=app.key_id, token=token, created_at=datetime.now(UTC)
        ).save()
    department = service_type["department.name"]
    return [
        {
            "service_request_id": case.public_id,
            "service_notice": queries.service_notice(department, service_type["sla_hours"]),
            "account_id": one(params, "account_id"),
            "token": token,
        }
    ]


# --- reading --------------------------------------------------------------------------------


def _date(params: Params, name: str, problems: list) -> datetime | None:
    raw = one(params, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        problems.append((400, f"{name} must be an ISO 8601 date and time (W3C format)"))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(params: Params, name: str, default: int, high: int, problems: list) -> int:
    raw = one(params, name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        problems.append((400, f"{name} must be a whole number from 1 to {high}"))
        return default
    return int(raw)


def _list(params: Params, name: str) -> list[str] | None:
    raw = one(params, name)
    return [part.strip() for part in raw.split(",") if part.strip()] if raw else None


def read_filter(params: Params) -> queries.RequestFilter:
    params = clean(params)
    problems: list[tuple[int, str]] = []
    statuses = _list(params, "status")
    if statuses and not set(statuses) <= {"open", "closed"}:
        problems.append((400, "status must be open, closed, or both separated by a comma"))
    wanted = queries.RequestFilter(
        ids=_list(params, "service_request_id"),
        service_codes=_list(params, "service_code"),
        start=_date(params, "start_date", problems),
        end=_date(params, "end_date", problems),
        statuses=statuses,
        page=_positive(params, "page", 1, 1_000_000, problems),
        page_size=_positive(
            params, "page_size", queries.MAX_RESULTS, queries.MAX_RESULTS, problems
        ),
    )
    if wanted.start and wanted.end:
        if wanted.start > wanted.end:
            problems.append((400, "start_date is after end_date"))
        elif wanted.end - wanted.start > timedelta(days=queries.DEFAULT_DAYS):
            problems.append((400, "start_date to end_date may not span more than 90 days"))
    if problems:
        raise RequestRefusedError(problems)
    return wanted


def extended(params: Params) -> bool:
    return (one(clean(params), "extensions") or "").lower() == "true"


async def list_requests(params: Params, settings: Settings, base_url: str) -> list[dict]:
    return await queries.find_requests(
        read_filter(params), datetime.now(UTC), settings.zone, base_url, extended=extended(params)
    )


async def get_request(
    request_id: str, params: Params, settings: Settings, base_url: str
) -> list[dict]:
    found = await queries.find_requests(
        queries.RequestFilter(ids=[request_id]),
        datetime.now(UTC),
        settings.zone,
        base_url,
        extended=extended(params),
    )
    if not found:
        raise RequestRefusedError([(404, f"no service request {request_id!r}")])
    return found


async def token_request(token: str) -> list[dict[str, str]]:
    row = (
        await Submission.select(Submission.case.public_id).where(Submission.token == token).first()
    )
    if row is None:
        raise RequestRefusedError([(404, "no request has this token")])
    return [{"service_request_id": row["case.public_id"], "token": token}]
