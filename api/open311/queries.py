"""Cases as Open311 service requests: the query behind `GET requests` and how a case reads.

Open311 output is open data, so it carries the problem and never the person: no citizen name,
phone or email anywhere; the description only for requests the public wrote themselves (web
and Open311 channels; an advocate's notes from a phone call stay in the 311 center); photos
only the shareable "after" ones, by a public address that is not the citizen's tracking link.
A page of requests is read in four queries, whatever its size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from api.activities.schemas import ActivityKind
from api.activities.tables import Activity
from api.cases.schemas import CaseStatus, Channel
from api.cases.tables import Case
from api.workorders.schemas import FINAL_STATUSES
from api.workorders.tables import WorkOrder
from media.schemas import PhotoKind
from media.tables import Photo

MAX_RESULTS = 1000
DEFAULT_DAYS = 90
PUBLIC_AUTHORS = {Channel.WEB.value, Channel.OPEN311.value}
STATUS_KINDS = {
    ActivityKind.STATUS_CHANGED.value,
    ActivityKind.CASE_RESOLVED.value,
    ActivityKind.CASE_REOPENED.value,
}
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\s*$")

_COLUMNS = (
    Case.id,
    Case.public_id,
    Case.status,
    Case.description,
    Case.channel,
    Case.created_at,
    Case.updated_at,
    Case.service_type.code,
    Case.service_type.name,
    Case.service_type.sla_hours,
    Case.service_type.department.name,
    Case.place.address,
    Case.place.asset_id,
    Case.place.lat,
    Case.place.lng,
)


@dataclass(frozen=True)
class RequestFilter:
    ids: list[str] | None = None  # overrides everything else
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None  # open | closed
    page: int = 1
    page_size: int = MAX_RESULTS


def _where(wanted: RequestFilter, now: datetime):
    if wanted.ids is not None:
        return Case.public_id.is_in(wanted.ids or [""])
    end = wanted.end or now
    start = wanted.start or end - timedelta(days=DEFAULT_DAYS)
    where = (Case.created_at >= start) & (Case.created_at <= end)
    if wanted.service_codes:
        where &= Case.service_type.code.is_in(wanted.service_codes)
    if wanted.statuses and set(wanted.statuses) != {"open", "closed"}:
        resolved = Case.status == CaseStatus.RESOLVED.value
        where &= (
            resolved
            if wanted.statuses == ["closed"]
            else Case.status.not_in([CaseStatus.RESOLVED.value])
        )
    return where


async def find_requests(
    wanted: RequestFilter, now: datetime, zone: tzinfo, base_url: str, *, extended: bool
) -> list[dict[str, Any]]:
    rows = (
        await Case.select(*_COLUMNS)
        .where(_where(wanted, now))
        .order_by(Case.created_at, ascending=False)
        .order_by(Case.id, ascending=False)
        .limit(wanted.page_size)
        .offset((wanted.page - 1) * wanted.page_size)
    )
    return await requests_out(rows, zone, base_url, extended=extended)


async def requests_out(
    rows: list[dict], zone: tzinfo, base_url: str, *, extended: bool
) -> list[dict[str, Any]]:
    """The Open311 form of case rows (as `_COLUMNS` reads them)."""
    ids = [row["id"] for row in rows]
    timelines = await _public_timelines(ids)
    due = await _due_dates(ids)
    photos = await _after_photos(ids)
    out = []
    for row in rows:
        entries = timelines.get(row["id"], [])
        case_photos = photos.get(row["id"], [])
        item = request_out(row, entries, due.get(row["id"]), case_photos, zone, base_url)
        if extended:
            item["extended_attributes"] = {
                "channel": row["channel"],
                "notes": [
                    {"datetime": _local(e["occurred_at"], zone), "summary": e["body"]}
                    for e in entries
                ],
                "photos": [
                    {
                        "media_url": media_url(base_url, p["sha256"]),
                        "datetime": _local(p["created_at"], zone),
                    }
                    for p in case_photos
                ],
            }
        out.append(item)
    return out


def media_url(base_url: str, sha256: str) -> str:
    return f"{base_url}/open311/v2/media/{sha256}.jpg"


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return moment.astimezone(zone).replace(microsecond=0) if moment else None


def _status_notes(entries: list[dict]) -> str | None:
    for kinds in (STATUS_KINDS, {ActivityKind.CASE_STATUS.value}):
        for entry in reversed(entries):
            if entry["kind"] in kinds:
                return entry["body"]
    return None


def request_out(
    row: dict,
    entries: list[dict],
    due: datetime | None,
    photos: list[dict],
    zone: tzinfo,
    base_url: str,
) -> dict[str, Any]:
    created = row["created_at"]
    expected = due or created + timedelta(hours=row["service_type.sla_hours"])
    address = row["place.address"]
    zipcode = _ZIP.search(address) if address else None
    department = row["service_type.department.name"]
    return {
        "service_request_id": row["public_id"],
        "status": "closed" if row["status"] == CaseStatus.RESOLVED.value else "open",
        "status_notes": _status_notes(entries),
        "service_name": row["service_type.name"],
        "service_code": row["service_type.code"],
        "description": row["description"] if row["channel"] in PUBLIC_AUTHORS else None,
        "agency_responsible": department,
        "service_notice": service_notice(department, row["service_type.sla_hours"]),
        "requested_datetime": _local(created, zone),
        "updated_datetime": _local(row["updated_at"], zone),
        "expected_datetime": _local(expected, zone),
        "address": address,
        "address_id": row["place.asset_id"],
        "zipcode": zipcode.group(1) if zipcode else None,
        "lat": row["place.lat"],
        "long": row["place.lng"],
        "media_url": media_url(base_url, photos[-1]["sha256"]) if photos else None,
    }


def service_notice(department: str, sla_hours: int) -> str:
    days, hours = divmod(sla_hours, 24)
    span = f"{days} day{'s' * (days != 1)}" if not hours else f"{sla_hours} hours"
    return f"{department} aims to resolve this within {span}."


async def _public_timelines(case_ids: list[int]) -> dict[int, list[dict]]:
    if not case_ids:
        return {}
    rows = (
        await Activity.select(Activity.case, Activity.kind, Activity.body, Activity.occurred_at)
        .where(Activity.case.is_in(case_ids) & Activity.public.eq(True))
        .order_by(Activity.id)
    )
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["case"], []).append(row)
    return grouped


async def _due_dates(case_ids: list[int]) -> dict[int, datetime]:
    """The soonest due date of each case's unfinished work."""
    if not case_ids:
        return {}
    rows = await WorkOrder.select(WorkOrder.case, WorkOrder.due_at).where(
        WorkOrder.case.is_in(case_ids)
        & WorkOrder.status.not_in([s.value for s in FINAL_STATUSES])
        & WorkOrder.due_at.is_not_null()
    )
    due: dict[int, datetime] = {}
    for row in rows:
        if row["case"] not in due or row["due_at"] < due[row["case"]]:
            due[row["case"]] = row["due_at"]
    return due


async def _after_photos(case_ids: list[int]) -> dict[int, list[dict]]:
    """Each case's shareable "after" photos that have arrived, oldest first."""
    if not case_ids:
        return {}
    rows = (
        await Photo.select(Photo.work_order.case, Photo.sha256, Photo.created_at)
        .where(
            Photo.work_order.case.is_in(case_ids)
            & (Photo.kind == PhotoKind.AFTER.value)
            & Photo.shareable.eq(True)
            & (Photo.status == "ready")
        )
        .order_by(Photo.id)
    )
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["work_order.case"], []).append(row)
    return grouped
