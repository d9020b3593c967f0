"""api/open311/keys.py: keys are kept as hashes, refused when unknown or revoked, and limited
per key per minute with the count on the key's row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.auth.tables import User
from api.errors import PermissionDeniedError, TooManyRequestsError
from api.open311.keys import authenticate, create_api_key, revoke_api_key
from api.open311.tables import ApiKey
from tests.factories import Town

pytestmark = pytest.mark.usefixtures("db")


async def test_only_the_hash_is_kept_and_the_app_has_its_own_user() -> None:
    key = await create_api_key("citizen-app")
    row = await ApiKey.select().first()
    assert key not in str(row.values()) and len(row["key_sha256"]) == 64
    user = await User.select().where(User.id == row["user"]).first()
    assert (user["username"], user["active"], user["password_hash"]) == (
        "open311-citizen-app",
        False,
        "!",
    )
    who = await authenticate(key, per_minute=60)
    assert who.user.username == "open311-citizen-app" and who.key_id == row["id"]


@pytest.mark.parametrize("key", [None, "", "o311_not-a-key"])
async def test_missing_or_unknown_keys_are_refused(key: str | None) -> None:
    await create_api_key("citizen-app")
    with pytest.raises(PermissionDeniedError):
        await authenticate(key, per_minute=60)


async def test_a_revoked_key_stops_at_once() -> None:
    key = await create_api_key("citizen-app")
    await revoke_api_key("citizen-app")
    with pytest.raises(PermissionDeniedError):
        await authenticate(key, per_minute=60)


async def test_the_limit_is_per_key_per_minute() -> None:
    key = await create_api_key("busy-app")
    other = await create_api_key("quiet-app")
    for _ in range(3):
        await authenticate(key, per_minute=3)
    with pytest.raises(TooManyRequestsError) as refused:
        await authenticate(key, per_minute=3)
    assert 1 <= refused.value.extra["retry_after"] <= 61
    await authenticate(other, per_minute=3)  # another key has its own minute
    await ApiKey.update({ApiKey.window_start: datetime.now(UTC) - timedelta(seconds=61)}).where(
        ApiKey.name == "busy-app"
    )
    await authenticate(key, per_minute=3)  # a new minute


async def test_over_the_limit_is_a_429_in_open311_form(
    client: httpx.AsyncClient, town: Town, app
) -> None:
    key = await create_api_key("busy-app")
    limit = app.state.settings.open311_rate_per_minute
    for _ in range(limit):  # refused submissions count too: they cost the server as much
        await client.post("/open311/v2/requests.json", data={"api_key": key})
    response = await client.post("/open311/v2/requests.xml", data={"api_key": key})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert b"<code>429</code>" in response.content
