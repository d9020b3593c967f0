"""GET /api/service-types: the catalogue intake screens and crews choose from."""

from litestar import Controller, get
from litestar.di import NamedDependency

from api.auth.schemas import Principal
from api.catalog import service
from api.catalog.schemas import ServiceTypeOut


class CatalogController(Controller):
    path = "/api/service-types"
    tags = ["catalog"]

    @get("/")
    async def list_service_types(
        self, current_user: NamedDependency[Principal]
    ) -> list[ServiceTypeOut]:
        """Every active service type with its questions, department and target time."""
        return await service.list_service_types(current_user)
