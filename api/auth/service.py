"""Passwords, login and user management.

Passwords are hashed with argon2id (argon2-cffi's defaults). Login answers the same error for an
unknown user and a wrong password, and still spends one hash on an unknown user, so neither the
answer nor its timing says which usernames exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.access import Action, authorize
from api.auth.schemas import Principal, Role, UserCreate, UserOut
from api.auth.tables import User
from api.crews.tables import Crew
from api.db import write_transaction
from api.errors import ConflictError, InputInvalidError, NotAuthenticatedError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("fieldloop-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def principal_from_row(row: dict) -> Principal:
    return Principal(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        crew_id=row["crew"],
        display_name=row["display_name"],
    )


def user_out(row: dict) -> UserOut:
    return UserOut(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        crew_id=row["crew"],
        active=row["active"],
    )


async def authenticate(username: str, password: str) -> dict:
    """The users row for these credentials, or `NotAuthenticatedError`."""
    row = await User.select().where(User.username == username.strip().lower()).first()
    if row is None:
        password_matches(_DUMMY_HASH, password)
        raise NotAuthenticatedError("wrong username or password")
    if not password_matches(row["password_hash"], password):
        raise NotAuthenticatedError("wrong username or password")
    if not row["active"]:
        raise NotAuthenticatedError("this account is deactivated; ask an administrator")
    return row


async def load_principal(user_id: int) -> Principal | None:
    """The active user with this id, as a Principal; None if gone or deactivated."""
    row = await User.select().where((User.id == user_id) & (User.active.eq(True))).first()
    return principal_from_row(row) if row else None


async def create_user(data: UserCreate, actor: Principal | None = None) -> UserOut:
    """Create a staff user. `actor` None means the command line (trusted operator)."""
    if actor is not None:
        authorize(actor, Action.USER_MANAGE)
    if data.role is Role.CREW and data.crew_id is None:
        raise InputInvalidError("a crew user needs a crew_id", field="crew_id")
    if data.role is not Role.CREW and data.crew_id is not None:
        raise InputInvalidError("only crew users belong to a crew", field="crew_id")
    async with write_transaction():
        if data.crew_id is not None and not await Crew.exists().where(Crew.id == data.crew_id):
            raise InputInvalidError(f"no crew with id {data.crew_id}", field="crew_id")
        if await User.exists().where(User.username == data.username):
            raise ConflictError(f"username {data.username!r} is taken", field="username")
        row = User(
            username=data.username,
            display_name=data.display_name or data.username,
            password_hash=hash_password(data.password),
            role=data.role.value,
            crew=data.crew_id,
            active=True,
            created_at=datetime.now(UTC),
        )
        await row.save()
    return user_out(row.to_dict())


async def list_users(actor: Principal) -> list[UserOut]:
    authorize(actor, Action.USER_MANAGE)
    rows = await User.select().order_by(User.username)
    return [user_out(row) for row in rows]
