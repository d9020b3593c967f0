"""Open311 GeoReport v2 at /open311/v2: the resource and the format are one path segment
(`requests.json`, `services/pothole.xml`), as the specification writes them.

No login: reads are open data, submissions carry an `api_key`. Every answer, errors included,
is in the format the path asked for; errors are Open311's list of code and description, with
the HTTP status of the first.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import PathParameter

from api.errors import DomainError
from api.open311 import formats, service
from api.open311.service import Params, RequestRefusedError
from media.routes import send_file
from media.service import file_for_anyone

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00Z"  # when this API last changed shape
KEY_SERVICE = "API keys are issued by the town's 311 administrator (fieldloop apikey create)."

Name = Annotated[str, PathParameter(min_length=1, max_length=200, pattern=r"^[^\x00/]+$")]
_SHA = re.compile(r"^[0-9a-f]{64}$")

# what a domain error's status means in Open311's vocabulary (400, 403, 404, 429)
_OPEN311_STATUS = {401: 403, 409: 400, 413: 400, 415: 400, 422: 400}


def _format_of(path: str) -> str:
    return formats.split_format(path.rsplit("/", 1)[-1])[1] or "json"


def _problems(error: Exception) -> list[tuple[int, str]]:
    if isinstance(error, RequestRefusedError):
        return error.problems
    if isinstance(error, DomainError):
        status = _OPEN311_STATUS.get(error.status_code, error.status_code)
        field = error.field or ""
        if field.startswith("attributes."):  # name it as the client sent it
            return [(status, f"attribute[{field.removeprefix('attributes.')}]: {error.detail}")]
        return [(status, error.detail)]
    if isinstance(error, HTTPException):
        return [(error.status_code, error.detail)]
    raise error


def open311_error(request: Request, error: Exception) -> Response:
    problems = _problems(error)
    body, content_type = formats.render(
        _format_of(request.url.path),
        "errors",
        [{"code": code, "description": description} for code, description in problems],
    )
    headers = {}
    extra = getattr(error, "extra", None)
    if isinstance(extra, dict) and (retry_after := extra.get("retry_after")):
        headers["Retry-After"] = str(retry_after)
    return Response(body, status_code=problems[0][0], media_type=content_type, headers=headers)


def _answer(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    body, content_type = formats.render(fmt, root, value)
    return Response(body, status_code=status, media_type=content_type)


def _split(name: str, resource: str | None = None) -> tuple[str, str]:
    """`requests.json` → ("requests", "json"); 404 for an unknown format or resource."""
    stem, fmt = formats.split_format(name)
    if fmt is None or (resource is not None and stem != resource):
        raise NotFoundException(f"no such Open311 resource: {name} (end it in .json or .xml)")
    return stem, fmt


def _params(pairs: Any) -> Params:
    params: Params = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value if isinstance(value, str) else "")
    return params


def _base_url(request: Request) -> str:
    return request.app.state.settings.public_url or str(request.base_url).rstrip("/")


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ["open311"]
    opt = {"exclude_from_auth": True}
    exception_handlers = {DomainError: open311_error, HTTPException: open311_error}

    @get("/{name:str}")
    async def top(self, request: Request, name: Name) -> Response:
        """`discovery`, `services` (the service list) or `requests` (with its filters)."""
        stem, fmt = _split(name)
        settings = request.app.state.settings
        if stem == "discovery":
            return _answer(fmt, "discovery", self._discovery(request))
        if stem == "services":
            return _answer(fmt, "services", await service.list_services())
        if stem == "requests":
            found = await service.list_requests(
                _params(request.query_params.multi_items()), settings, _base_url(request)
            )
            return _answer(fmt, "service_requests", found)
        raise NotFoundException(f"no such Open311 resource: {name}")

    def _discovery(self, request: Request) -> dict[str, Any]:
        return {
            "changeset": CHANGESET,
            "contact": request.app.state.settings.open311_contact,
            "key_service": KEY_SERVICE,
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": f"{_base_url(request)}/open311/v2",
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": list(formats.FORMATS.values()),
                }
            ],
        }

    @get(["/services", "/requests", "/tokens", "/media"])
    async def no_format(self, request: Request) -> Response:
        """Without a format suffix there is no such resource (the error in JSON)."""
        raise NotFoundException(
            f"no such Open311 resource: {request.url.path.rsplit('/', 1)[-1]} "
            "(end it in .json or .xml)"
        )

    @get("/services/{name:str}")
    async def definition(self, name: Name) -> Response:
        """A service's definition: its attributes (for services whose metadata is true)."""
        code, fmt = _split(name)
        return _answer(fmt, "service_definition", await service.service_definition(code))

    @post("/{name:str}")
    async def submit(self, request: Request, name: Name) -> Response:
        """Submit a service request (form-encoded; `api_key` required)."""
        _, fmt = _split(name, "requests")
        if request.content_type[0] not in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            raise RequestRefusedError(
                [(400, "send the request form-encoded (application/x-www-form-urlencoded)")]
            )
        form = await request.form()
        found = await service.submit(
            _params(form.multi_items()), request.app.state.settings, _base_url(request)
        )
        return _answer(fmt, "service_requests", found, status=201)

    @get("/requests/{name:str}")
    async def one_request(self, request: Request, name: Name) -> Response:
        """One service request by its id."""
        request_id, fmt = _split(name)
        found = await service.get_request(
            request_id,
            _params(request.query_params.multi_items()),
            request.app.state.settings,
            _base_url(request),
        )
        return _answer(fmt, "service_requests", found)

    @get("/tokens/{name:str}")
    async def token(self, name: Name) -> Response:
        """The service request a submission's token stands for."""
        token, fmt = _split(name)
        return _answer(fmt, "service_requests", await service.token_request(token))

    @get("/media/{name:str}")
    async def media(self, request: Request, name: Name) -> Response:
        """A request's shareable "after" photo (`media_url`): the display image, no metadata."""
        sha, _, suffix = name.partition(".")
        if suffix != "jpg" or not _SHA.match(sha):
            raise NotFoundException("no such photo")
        served = await file_for_anyone(sha)
        return await send_file(request, request.app.state.media.storage, served, public=True)
