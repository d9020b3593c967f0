"""Finding callers and places, and the history advocates see when they pick up the phone.

Matching is deliberately simple and exact: phone digits, then lower-cased email, for citizens;
normalised address text for places. A false merge shows one person another's history, so
Fieldloop never guesses beyond that; advocates can see near matches through search.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from piccolo.columns import Column
from piccolo.columns.combination import Where

from api.access import Action, authorize
from api.auth.schemas import Principal
from api.citizens.schemas import CitizenIn, CitizenOut, PlaceIn, PlaceOut
from api.citizens.tables import Citizen, Place
from api.db import is_sqlite
from api.errors import InputInvalidError, NotFoundError

_STREET_WORDS = {
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "dr": "drive",
    "ln": "lane",
    "blvd": "boulevard",
    "ct": "court",
    "pl": "place",
    "pkwy": "parkway",
    "hwy": "highway",
    "cir": "circle",
    "ter": "terrace",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}


def normalize_phone(raw: str) -> str | None:
    """Digits only, with a leading + kept; None when empty. 7 to 15 digits (E.164)."""
    raw = raw.strip()
    if not raw:
        return None
    raw = re.split(r"\s*x", raw)[0]  # drop an extension
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        raise InputInvalidError("a phone number has 7 to 15 digits", field="citizen.phone")
    return ("+" if raw.startswith("+") else "") + digits


def normalize_email(raw: str) -> str | None:
    raw = raw.strip().lower()
    return raw or None


def normalize_address(raw: str) -> str:
    """'12 N. Main St.,  Apt 4' → '12 north main street apt 4': the key that joins history."""
    words = re.sub(r"[^\w\s]", " ", raw.lower()).split()
    return " ".join(_STREET_WORDS.get(word, word) for word in words)


def citizen_out(row: dict) -> CitizenOut:
    return CitizenOut(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        address=row["address"],
        contact_preference=row["contact_preference"],
        created_at=row["created_at"],
    )


def place_out(row: dict) -> PlaceOut:
    return PlaceOut(
        id=row["id"],
        address=row["address"],
        lat=row["lat"],
        lng=row["lng"],
        asset_id=row["asset_id"],
    )


async def find_or_create_citizen(data: CitizenIn | None) -> int | None:
    """The id of the citizen these details describe, creating one if new; None if anonymous.

    Blank details on the stored citizen are filled in from the call; stored ones are never
    overwritten by a call (a caller may give a neighbour's email).
    """
    if data is None:
        return None
    phone, email = normalize_phone(data.phone), normalize_email(data.email)
    if not (phone or email or data.name.strip()):
        return None
    row = None
    if phone:
        row = await Citizen.select().where(Citizen.phone == phone).order_by(Citizen.id).first()
    if row is None and email:
        row = await Citizen.select().where(Citizen.email == email).order_by(Citizen.id).first()
    if row is None:
        citizen = Citizen(
            name=data.name.strip(),
            phone=phone,
            email=email,
            address=data.address.strip(),
            contact_preference=data.contact_preference.value,
            created_at=datetime.now(UTC),
        )
        await citizen.save()
        return citizen.id
    fill = {
        Citizen.name: data.name.strip() if not row["name"] else None,
        Citizen.phone: phone if not row["phone"] else None,
        Citizen.email: email if not row["email"] else None,
        Citizen.address: data.address.strip() if not row["address"] else None,
    }
    fill = {column: value for column, value in fill.items() if value}
    if fill:
        await Citizen.update(fill).where(Citizen.id == row["id"])
    return row["id"]


async def find_or_create_place(data: PlaceIn | None) -> int | None:
    if data is None or not data.address.strip():
        return None
    key = normalize_address(data.address)
    row = await Place.select().where(Place.normalized_address == key).order_by(Place.id).first()
    if row is None:
        place = Place(
            address=data.address.strip(),
            normalized_address=key,
            lat=data.lat,
            lng=data.lng,
            asset_id=data.asset_id,
            created_at=datetime.now(UTC),
        )
        await place.save()
        return place.id
    if row["lat"] is None and data.lat is not None and data.lng is not None:
        await Place.update({Place.lat: data.lat, Place.lng: data.lng}).where(Place.id == row["id"])
    return row["id"]


async def search_citizens(actor: Principal, q: str, limit: int = 20) -> list[CitizenOut]:
    """Citizens whose phone, email or name matches `q` (phone by digits, name by substring)."""
    authorize(actor, Action.CITIZEN_READ)
    q = q.strip()
    if len(q) < 2:
        raise InputInvalidError("search needs at least 2 characters", field="q")
    digits = re.sub(r"\D", "", q)
    condition = contains_text(Citizen.name, q) | contains_text(Citizen.email, q.lower())
    if len(digits) >= 4 and len(digits) >= len(q.replace(" ", "")) - 4:
        condition = condition | Citizen.phone.like(f"%{digits}%")
    rows = await Citizen.select().where(condition).order_by(Citizen.name).limit(limit)
    return [citizen_out(row) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("%", "").replace("_", " ")


def contains_text(column: Column, text: str) -> Where:
    """Case-insensitive "column contains text". PostgreSQL needs ILIKE; SQLite's LIKE already
    ignores (ASCII) case, and Piccolo warns on every ILIKE it has to rewrite there."""
    pattern = f"%{_escape_like(text)}%"
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


async def get_citizen(actor: Principal, citizen_id: int) -> CitizenOut:
    authorize(actor, Action.CITIZEN_READ)
    row = await Citizen.select().where(Citizen.id == citizen_id).first()
    if row is None:
        raise NotFoundError(f"no citizen {citizen_id}")
    return citizen_out(row)


async def get_place(actor: Principal, place_id: int) -> PlaceOut:
    authorize(actor, Action.PLACE_READ)
    row = await Place.select().where(Place.id == place_id).first()
    if row is None:
        raise NotFoundError(f"no place {place_id}")
    return place_out(row)
