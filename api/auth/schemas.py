"""Request and response shapes for login and user management, and the `Principal`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from api.types import DbId, Name, ShortText


class Role(StrEnum):
    ADVOCATE = "advocate"
    CREW = "crew"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Principal(msgspec.Struct, frozen=True):
    """Who is acting: what `can()` decides on. Built from the users row on every request."""

    id: int
    username: str
    role: Role
    crew_id: int | None = None
    display_name: str = ""


Username = Annotated[str, msgspec.Meta(min_length=2, max_length=80, pattern=r"^[a-z0-9_.-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: ShortText
    password: Password


class TokenResponse(msgspec.Struct):
    token: str
    user: UserOut


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=200, pattern=r"^[^\x00]*$")]
    role: Role
    display_name: Name = ""
    crew_id: DbId | None = None  # bounded: an id past int4 must not reach PostgreSQL


class UserOut(msgspec.Struct):
    id: int
    username: str
    role: Role
    display_name: str
    crew_id: int | None
    active: bool
