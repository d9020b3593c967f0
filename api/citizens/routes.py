"""Citizen search, the citizen 360° view, and the history of a place."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from api.auth.schemas import Principal
from api.cases import service as cases
from api.cases.schemas import Citizen360, PlaceHistory
from api.citizens import service
from api.citizens.schemas import CitizenOut

# Litestar checks only its own parameter constraints (not msgspec.Meta from api.types): an id
# past int4 would reach PostgreSQL and fail there.
Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class CitizenController(Controller):
    path = "/api/citizens"
    tags = ["citizens"]

    @get("/")
    async def search(
        self,
        current_user: NamedDependency[Principal],
        q: Annotated[str, QueryParameter(min_length=2, max_length=200, pattern=r"^[^\x00]*$")],
    ) -> list[CitizenOut]:
        """Find callers by phone (any formatting), email or part of the name."""
        return await service.search_citizens(current_user, q)

    @get("/{citizen_id:int}")
    async def view_360(
        self, current_user: NamedDependency[Principal], citizen_id: Id
    ) -> Citizen360:
        """Everything about this citizen: every case with its work and timeline, and what
        else happened at each place involved."""
        return await cases.citizen_360(current_user, citizen_id)


class PlaceController(Controller):
    path = "/api/places"
    tags = ["citizens"]

    @get("/{place_id:int}")
    async def history(self, current_user: NamedDependency[Principal], place_id: Id) -> PlaceHistory:
        """Every case ever filed at this place, newest first, with its work orders."""
        return await cases.place_history(current_user, place_id)
