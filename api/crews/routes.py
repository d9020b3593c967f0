"""GET /api/crews: who can take work, for dispatch."""

from litestar import Controller, get
from litestar.di import NamedDependency

from api.auth.schemas import Principal
from api.crews import service
from api.crews.schemas import CrewOut


class CrewController(Controller):
    path = "/api/crews"
    tags = ["crews"]

    @get("/")
    async def list_crews(self, current_user: NamedDependency[Principal]) -> list[CrewOut]:
        """Every crew with its department and active members."""
        return await service.list_crews(current_user)
