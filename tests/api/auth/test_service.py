"""api/auth/service.py: login, the principal behind a token, and creating staff users."""

from __future__ import annotations

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.auth.schemas import Role, UserCreate
from api.auth.service import authenticate, create_user, list_users, load_principal
from api.auth.tables import User
from api.errors import (
    ConflictError,
    InputInvalidError,
    NotAuthenticatedError,
    PermissionDeniedError,
)
from api.settings import Settings
from tests.factories import PASSWORD, Town, deactivate_user, shared_app


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


async def test_login_checks_the_password_and_says_nothing_about_usernames(town: Town) -> None:
    row = await authenticate("  Advocate ", PASSWORD)
    assert (row["id"], row["role"]) == (town.advocate.id, "advocate")
    with pytest.raises(NotAuthenticatedError) as wrong_password:
        await authenticate("advocate", PASSWORD + "!")
    with pytest.raises(NotAuthenticatedError) as unknown_user:
        await authenticate("nobody", PASSWORD)
    assert wrong_password.value.detail == unknown_user.value.detail == "wrong username or password"
    assert wrong_password.value.status_code == 401


async def test_a_deactivated_user_cannot_log_in_or_use_a_token(town: Town) -> None:
    user = town.users["crew_a"]
    assert await load_principal(user.id) == user
    await deactivate_user(user)
    with pytest.raises(NotAuthenticatedError, match="deactivated"):
        await authenticate("crew_a", PASSWORD)
    assert await load_principal(user.id) is None
    assert await load_principal(9999) is None


@pytest.mark.parametrize(
    ("role", "crew", "field", "message"),
    [
        (Role.CREW, None, "crew_id", "a crew user needs a crew_id"),
        (Role.ADVOCATE, "crew_a", "crew_id", "only crew users belong to a crew"),
        (Role.SUPERVISOR, "crew_a", "crew_id", "only crew users belong to a crew"),
        (Role.CREW, 4242, "crew_id", "no crew with id 4242"),
    ],
)
async def test_create_user_checks_role_and_crew(
    town: Town, role: Role, crew: str | int | None, field: str, message: str
) -> None:
    crew_id = getattr(town, crew) if isinstance(crew, str) else crew
    data = UserCreate(username="newbie", password="long enough", role=role, crew_id=crew_id)
    with pytest.raises(InputInvalidError, match=message) as refused:
        await create_user(data, town.users["admin"])
    assert (refused.value.status_code, refused.value.field) == (422, field)
    assert not await User.exists().where(User.username == "newbie")


async def test_create_user(town: Town) -> None:
    data = UserCreate(username="dana", password="long enough", role=Role.CREW, crew_id=town.crew_b)
    for name in ("advocate", "crew_a", "supervisor"):
        with pytest.raises(PermissionDeniedError):
            await create_user(data, town.users[name])
    created = await create_user(data, town.users["admin"])
    assert (created.username, created.role, created.crew_id, created.active) == (
        "dana",
        Role.CREW,
        town.crew_b,
        True,
    )
    assert created.display_name == "dana"  # defaults to the username
    row = await User.select(User.password_hash).where(User.id == created.id).first()
    assert "long enough" not in row["password_hash"]
    assert row["password_hash"].startswith("$argon2id$")
    assert (await authenticate("dana", "long enough"))["id"] == created.id
    with pytest.raises(ConflictError) as taken:
        await create_user(data, None)  # the command line (no actor) follows the same rules
    assert (taken.value.status_code, taken.value.field) == (409, "username")
    assert await User.count().where(User.username == "dana") == 1


async def test_list_users_is_for_admins(town: Town) -> None:
    listed = await list_users(town.users["admin"])
    assert [u.username for u in listed] == ["admin", "advocate", "crew_a", "crew_b", "supervisor"]
    assert listed[2].crew_id == town.crew_a
    for name in ("advocate", "crew_a", "supervisor"):
        with pytest.raises(PermissionDeniedError):
            await list_users(town.users[name])
