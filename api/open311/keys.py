"""Open311 API keys: made and revoked by an admin (`fieldloop apikey`), checked on every
submission, and rate limited per key.

A key is `o311_` and 43 random URL-safe characters; only its sha256 is kept, so a leaked
database does not leak working keys. Each key acts as its own service user, `open311-<name>`,
an advocate who cannot log in (inactive, no password), so every case it files says which app
filed it. The rate limit is a fixed one-minute window kept on the key's row and counted under
its row lock: it holds across API processes and hosts, with nothing in process memory.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.auth.schemas import Principal, Role
from api.auth.tables import User
from api.db import for_update, write_transaction
from api.errors import (
    ConflictError,
    InputInvalidError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from api.open311.tables import ApiKey

KEY_PREFIX = "o311_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,59}$")
WINDOW = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


async def create_api_key(name: str) -> str:
    """A new key for the app `name`; the key is returned once and never stored."""
    if not _NAME.match(name):
        raise InputInvalidError(
            "an API key's name is 2-60 lower-case letters, digits, '.', '_' or '-'",
            field="name",
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with write_transaction():
        if await ApiKey.exists().where(ApiKey.name == name):
            raise ConflictError(f"an API key named {name!r} exists already", field="name")
        username = f"open311-{name}"
        if await User.exists().where(User.username == username):
            raise ConflictError(f"a user named {username!r} exists already", field="name")
        user = User(
            username=username,
            display_name=f"Open311: {name}",
            password_hash="!",  # matches no password: this user cannot log in
            role=Role.ADVOCATE.value,
            active=False,
            created_at=now,
        )
        await user.save()
        await ApiKey(name=name, key_sha256=_digest(key), user=user.id, created_at=now).save()
    return key


async def revoke_api_key(name: str) -> None:
    async with write_transaction():
        revoked = (
            await ApiKey.update({ApiKey.revoked_at: datetime.now(UTC)})
            .where((ApiKey.name == name) & ApiKey.revoked_at.is_null())
            .returning(ApiKey.id)
        )
        if not revoked:
            if await ApiKey.exists().where(ApiKey.name == name):
                raise ConflictError(f"the API key {name!r} is revoked already")
            raise NotFoundError(f"no API key named {name!r}")


async def list_api_keys() -> list[KeyInfo]:
    rows = await ApiKey.select().order_by(ApiKey.name)
    return [
        KeyInfo(row["name"], row["created_at"], row["revoked_at"], row["last_used_at"])
        for row in rows
    ]


@dataclass(frozen=True)
class KeyUser:
    """Who submits: the key's service user, and the key."""

    user: Principal
    key_id: int


async def authenticate(key: str | None, per_minute: int) -> KeyUser:
    """The acting service user for a submission's `api_key`: 403 when missing, unknown or
    revoked; 429 past `per_minute` submissions in the key's current minute. Every attempt
    counts, refused ones too (committed here, before the submission is checked)."""
    if not key:
        raise PermissionDeniedError("api_key is required to submit a request", field="api_key")
    async with write_transaction():
        return await _count_use(key, per_minute)


async def _count_use(key: str, per_minute: int) -> KeyUser:
    # the key's row alone: PostgreSQL locks no row across an outer join
    row = await for_update(ApiKey.select().where(ApiKey.key_sha256 == _digest(key))).first()
    if row is None or row["revoked_at"] is not None:
        raise PermissionDeniedError("invalid api_key", field="api_key")
    now = datetime.now(UTC)
    start = row["window_start"]
    if start is None or now - start >= WINDOW:
        start, count = now, 1
    else:
        count = row["window_count"] + 1
        if count > per_minute:
            wait = int((start + WINDOW - now).total_seconds()) + 1
            raise TooManyRequestsError(
                f"this api_key may submit {per_minute} requests a minute; try again in {wait} s",
                retry_after=wait,
            )
    await ApiKey.update(
        {ApiKey.window_start: start, ApiKey.window_count: count, ApiKey.last_used_at: now}
    ).where(ApiKey.id == row["id"])
    user = await User.select(User.username).where(User.id == row["user"]).first()
    return KeyUser(
        Principal(id=row["user"], username=user["username"], role=Role.ADVOCATE), row["id"]
    )
