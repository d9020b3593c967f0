"""GET /healthz: 200 only when the database answers and photos can be stored, for load
balancers and Docker."""

from litestar import Request, Response, get
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.db import DatabaseUnavailableError, current_engine, ping


@get("/healthz", exclude_from_auth=True, tags=["health"])
async def healthz(request: Request) -> Response[dict[str, str]]:
    """200 with the engine name when the database answers a query and the photo store takes a
    write; 503 with the reason if not."""
    engine = current_engine().engine_type
    try:
        await ping()
    except DatabaseUnavailableError as error:
        request.logger.warning("health check failed: %s", error)
        return Response(
            {"status": "unavailable", "database": engine, "detail": "database did not answer"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    try:
        await request.app.state.media.storage.ping()
    except OSError as error:
        request.logger.warning("health check failed: photo storage: %s", error)
        return Response(
            {"status": "unavailable", "database": engine, "detail": "photo storage not writable"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response({"status": "ok", "database": engine})
