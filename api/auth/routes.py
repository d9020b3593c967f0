"""Login, who-am-I, and user management for admins."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import service
from api.auth.schemas import LoginRequest, Principal, TokenResponse, UserCreate, UserOut


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", exclude_from_auth=True, status_code=200)
    async def login(self, request: Request, data: JSONBody[LoginRequest]) -> TokenResponse:
        """Exchange a username and password for a bearer token (valid for one shift)."""
        row = await service.authenticate(data.username, data.password)
        settings = request.app.state.settings
        token = request.app.state.jwt_auth.create_token(
            identifier=str(row["id"]), token_expiration=timedelta(hours=settings.token_hours)
        )
        return TokenResponse(token=token, user=service.user_out(row))

    @get("/me")
    async def me(self, current_user: NamedDependency[Principal]) -> Principal:
        """The user this token belongs to, with role and crew."""
        return current_user


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]

    @get("/")
    async def list_users(self, current_user: NamedDependency[Principal]) -> list[UserOut]:
        """Every staff user (admins only)."""
        return await service.list_users(current_user)

    @post("/")
    async def create_user(
        self, current_user: NamedDependency[Principal], data: JSONBody[UserCreate]
    ) -> UserOut:
        """Create a staff user (admins only). Crew users need a crew_id."""
        return await service.create_user(data, current_user)
