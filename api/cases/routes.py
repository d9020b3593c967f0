"""Advocate endpoints for cases: intake, search, the case view, notes, calls, resolution."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from api.activities.schemas import NoteCreate
from api.auth.schemas import Principal
from api.cases import service
from api.cases.schemas import (
    CASE_ID_PATTERN,
    CaseCreate,
    CaseOut,
    CasePage,
    CaseResolve,
    CaseStatus,
)

# Litestar drops msgspec.Meta constraints (api.types) on path and query parameters and checks
# only its own, so parameters spell their limits here: an id past int4 or a NUL byte reaching
# PostgreSQL would be a 500.
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
CaseId = Annotated[str, PathParameter(pattern=CASE_ID_PATTERN)]
SearchText = Annotated[str | None, QueryParameter(max_length=200, pattern=r"^[^\x00]*$")]
CitizenId = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
ServiceCode = Annotated[
    str | None, QueryParameter(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
]


class CaseController(Controller):
    path = "/api/cases"
    tags = ["cases"]

    @post("/")
    async def create(
        self, current_user: NamedDependency[Principal], data: JSONBody[CaseCreate]
    ) -> CaseOut:
        """Log a contact as a case, finding or creating the citizen (by phone, then email) and
        the place (by address). Leave `citizen` out for an anonymous report."""
        return await service.create_case(current_user, data)

    @get("/")
    async def search(
        self,
        current_user: NamedDependency[Principal],
        q: SearchText = None,
        status: FromQuery[CaseStatus | None] = None,
        citizen_id: CitizenId = None,
        service_code: ServiceCode = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CasePage:
        """Cases newest first; `q` matches a case id exactly or description/address text."""
        return await service.search_cases(
            current_user,
            q=q,
            status=status,
            citizen_id=citizen_id,
            service_code=service_code,
            limit=limit,
            offset=offset,
        )

    @get("/{case_id:str}")
    async def view(self, current_user: NamedDependency[Principal], case_id: CaseId) -> CaseOut:
        """The whole case: citizen, place, answers, work orders and timeline."""
        return await service.get_case(current_user, case_id)

    @post("/{case_id:str}/resolve", status_code=200)
    async def resolve(
        self,
        current_user: NamedDependency[Principal],
        case_id: CaseId,
        data: JSONBody[CaseResolve],
    ) -> CaseOut:
        """Resolve without field work (the common case: the caller only needed an answer).
        409 while a work order of the case is still open."""
        return await service.resolve_case(current_user, case_id, data)

    @post("/{case_id:str}/notes")
    async def add_note(
        self,
        current_user: NamedDependency[Principal],
        case_id: CaseId,
        data: JSONBody[NoteCreate],
    ) -> CaseOut:
        """Add a note to the case timeline (internal unless `public`)."""
        return await service.add_case_note(current_user, case_id, data)

    @post("/{case_id:str}/calls")
    async def log_call(
        self,
        current_user: NamedDependency[Principal],
        case_id: CaseId,
        data: JSONBody[NoteCreate],
    ) -> CaseOut:
        """Record that the citizen called about this case again, and what was said."""
        return await service.add_case_note(current_user, case_id, data, call=True)
