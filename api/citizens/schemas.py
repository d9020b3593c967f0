"""Citizens and places as intake sends them and as the 360° view shows them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from api.types import Address, Latitude, Longitude, Name


class ContactPreference(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    NONE = "none"


Phone = Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[0-9+().\- x]*$")]
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^$|^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
]


class CitizenIn(msgspec.Struct, forbid_unknown_fields=True):
    """Who is calling. Matched to an existing citizen by phone, then email."""

    name: Name = ""
    phone: Phone = ""
    email: Email = ""
    address: Address = ""
    contact_preference: ContactPreference = ContactPreference.PHONE


class PlaceIn(msgspec.Struct, forbid_unknown_fields=True):
    """Where the problem is. Matched to an existing place by normalised address."""

    address: Address
    lat: Latitude | None = None
    lng: Longitude | None = None
    asset_id: Annotated[str, msgspec.Meta(max_length=80, pattern=r"^[^\x00]*$")] | None = None


class CitizenOut(msgspec.Struct):
    id: int
    name: str
    phone: str | None
    email: str | None
    address: str
    contact_preference: str
    created_at: datetime


class PlaceOut(msgspec.Struct):
    id: int
    address: str
    lat: float | None
    lng: float | None
    asset_id: str | None
