"""Photo endpoints: tus uploads, a work order's photos, and the files themselves.

- `/api/uploads`: the tus 1.0 resource (docs/media.md). Every answer, errors included, carries
  `Tus-Resumable`; the request body of a PATCH is read straight off the connection so that a
  cut connection keeps what arrived.
- `/api/work-orders/{number}/photos`: the photos of a work order, and sharing an "after" photo
  with the citizen.
- `/api/photos/{sha256}/{display|thumb|original}`: files for staff; `/api/track/{token}/photos`
  the "after" photos a citizen may see. Files are content-addressed, so they carry their hash
  as a strong ETag, are cached as immutable and answer range requests.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, Response, get, head, patch, post
from litestar import delete as delete_route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.response import Stream

from api.auth.schemas import Principal
from api.errors import (
    DomainError,
    NotFoundError,
    RangeNotSatisfiableError,
    domain_error_response,
    error_body,
)
from api.workorders.schemas import WORK_ORDER_NUMBER_PATTERN
from media import service, tus, uploads
from media.ranges import (
    etag_for,
    etag_matches,
    parse_range,
    range_applies,
    unsatisfied_content_range,
)
from media.schemas import PhotoOut, PhotoVariant, PublicPhoto, ShareChange
from media.service import ServedFile
from media.storage import BlobMissingError, BlobStorage, blob_key
from media.uploads import MediaConfig, StreamInterrupted

Token = Annotated[str, PathParameter(min_length=20, max_length=64, pattern=r"^[\w-]+$")]
Sha = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{64}$")]
Number = Annotated[str, PathParameter(pattern=WORK_ORDER_NUMBER_PATTERN)]

TUS_HEADERS = {"Tus-Resumable": tus.TUS_VERSION}
IMMUTABLE = "max-age=31536000, immutable"


def _media(state: State) -> MediaConfig:
    return state.media


def _tus_error(_: Request, error: Exception) -> Response:
    """Errors on the tus resource in the house body shape, with the tus headers."""
    if isinstance(error, DomainError):
        headers = dict(TUS_HEADERS)
        if error.status_code == 412:
            headers["Tus-Version"] = tus.TUS_VERSION
        return domain_error_response(error, headers)
    if isinstance(error, HTTPException):
        return Response(
            error_body(error.status_code, error.detail),
            status_code=error.status_code,
            headers={**TUS_HEADERS, **(error.headers or {})},
        )
    raise error


async def _body(request: Request) -> Any:
    """The request body as it arrives; `StreamInterrupted` if the client goes away."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise StreamInterrupted
        if message["type"] == "http.request":
            if message.get("body"):
                yield message["body"]
            if not message.get("more_body", False):
                return


def _discover(request: Request) -> Response | None:
    """tus discovery: OPTIONS says what this server supports (no login needed). Litestar
    answers OPTIONS itself; this hook answers first, with the tus headers."""
    if request.method != HttpMethod.OPTIONS:
        return None
    media: MediaConfig = request.app.state.media
    return Response(
        None,
        status_code=204,
        headers={
            **TUS_HEADERS,
            "Tus-Version": tus.TUS_VERSION,
            "Tus-Extension": ",".join(tus.EXTENSIONS),
            "Tus-Max-Size": str(media.max_bytes),
            "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUM_ALGORITHMS),
        },
    )


class UploadController(Controller):
    path = "/api/uploads"
    tags = ["photos"]
    dependencies = {"media": Provide(_media, sync_to_thread=False)}
    exception_handlers = {DomainError: _tus_error, HTTPException: _tus_error}
    before_request = _discover

    @post("/", status_code=201)
    async def create(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        media: NamedDependency[MediaConfig],
    ) -> Response[None]:
        """Start an upload: `Upload-Length` and `Upload-Metadata` (work_order, kind, sha256;
        optionally taken_at, lat, lng, client_id) → 201 with its `Location`."""
        tus.require_version(request.headers.get("tus-resumable"))
        created = await uploads.create_upload(
            current_user,
            media,
            request.headers.get("upload-length"),
            request.headers.get("upload-metadata"),
        )
        return Response(
            None,
            status_code=201,
            headers={
                **TUS_HEADERS,
                "Location": created.location,
                "Upload-Expires": tus.http_date(created.expires_at),
            },
        )

    @head("/{token:str}")
    async def state(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        media: NamedDependency[MediaConfig],
        token: Token,
    ) -> Response[None]:
        """How many bytes the server has: resume from `Upload-Offset`."""
        tus.require_version(request.headers.get("tus-resumable"))
        state = await uploads.upload_state(current_user, media, token)
        return Response(
            None,
            status_code=200,
            headers={
                **TUS_HEADERS,
                "Upload-Offset": str(state.received),
                "Upload-Length": str(state.length),
                "Upload-Metadata": state.metadata,
                "Upload-Expires": tus.http_date(state.expires_at),
                "Cache-Control": "no-store",
            },
        )

    @patch("/{token:str}", status_code=204, request_max_body_size=None)
    async def append(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        media: NamedDependency[MediaConfig],
        token: Token,
    ) -> Response[None]:
        """Send bytes from `Upload-Offset` (body `application/offset+octet-stream`, optional
        `Upload-Checksum: sha256 <base64>`). The last byte runs the photo pipeline; a refused
        photo answers 413/415/422 with the reason."""
        tus.require_version(request.headers.get("tus-resumable"))
        tus.require_offset_content_type(request.headers.get("content-type"))
        received = await uploads.receive(
            current_user,
            media,
            token,
            tus.parse_offset(request.headers.get("upload-offset")),
            tus.parse_checksum(request.headers.get("upload-checksum")),
            _body(request),
        )
        return Response(
            None,
            status_code=204,
            headers={
                **TUS_HEADERS,
                "Upload-Offset": str(received.received),
                "Upload-Expires": tus.http_date(received.expires_at),
            },
        )

    @delete_route("/{token:str}", status_code=204)
    async def terminate(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        media: NamedDependency[MediaConfig],
        token: Token,
    ) -> Response[None]:
        """Give up an upload; the bytes received so far are deleted."""
        tus.require_version(request.headers.get("tus-resumable"))
        await uploads.terminate(current_user, media, token)
        return Response(None, status_code=204, headers=TUS_HEADERS)


async def send_file(
    request: Request, storage: BlobStorage, served: ServedFile, *, public: bool = False
) -> Response:
    """A stored file with a strong ETag, immutable caching and single-range support; shared
    caches may keep it only when it is `public` (Open311's open data)."""
    etag = etag_for(served.sha256)
    headers = {
        "ETag": etag,
        "Cache-Control": f"{'public' if public else 'private'}, {IMMUTABLE}",
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(None, status_code=304, headers=headers)
    key = blob_key(served.sha256)
    try:
        size = await storage.size(key)
    except BlobMissingError:
        raise NotFoundError("the photo's file is missing from storage") from None
    wanted = None
    if range_applies(request.headers.get("if-range"), etag):
        try:
            wanted = parse_range(request.headers.get("range"), size)
        except RangeNotSatisfiableError as error:
            return domain_error_response(
                error, headers | {"Content-Range": unsatisfied_content_range(size)}
            )
    if wanted is None:
        return Stream(
            storage.read(key),
            status_code=200,
            media_type=served.content_type,
            headers=headers | {"Content-Length": str(size)},
        )
    return Stream(
        storage.read(key, wanted.start, wanted.end),
        status_code=206,
        media_type=served.content_type,
        headers=headers
        | {"Content-Length": str(wanted.length), "Content-Range": wanted.content_range(size)},
    )


class PhotoController(Controller):
    path = "/api"
    tags = ["photos"]
    dependencies = {"media": Provide(_media, sync_to_thread=False)}

    @get("/work-orders/{number:str}/photos")
    async def list_photos(
        self, current_user: NamedDependency[Principal], number: Number
    ) -> list[PhotoOut]:
        """A work order's photos, oldest first; `urls` once the bytes have arrived."""
        return await service.work_order_photos(current_user, number)

    @patch("/work-orders/{number:str}/photos/{sha256:str}")
    async def share(
        self,
        current_user: NamedDependency[Principal],
        number: Number,
        sha256: Sha,
        data: JSONBody[ShareChange],
    ) -> PhotoOut:
        """Show an "after" photo on the citizen's status page, or withdraw it."""
        return await service.set_shareable(current_user, number, sha256, data.shareable)

    @get("/photos/{sha256:str}/{variant:str}")
    async def file(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        media: NamedDependency[MediaConfig],
        sha256: Sha,
        variant: FromPath[PhotoVariant],
    ) -> Response:
        """A photo's display image (≤ 2048 px), thumbnail (≤ 320 px) or original, for staff
        who may read a work order showing it. Derivatives carry no metadata."""
        served = await service.file_for_staff(current_user, sha256, variant)
        return await send_file(request, media.storage, served)


class TrackingPhotoController(Controller):
    """What a citizen's tracking link shows: no login, the token is the key."""

    path = "/api/track/{token:str}"
    tags = ["citizens"]
    dependencies = {"media": Provide(_media, sync_to_thread=False)}
    opt = {"exclude_from_auth": True}

    @get("/photos")
    async def list_photos(self, token: Token) -> list[PublicPhoto]:
        """The "after" photos of the case's work, as shown to the citizen."""
        return await service.public_photos(token)

    @get("/photos/{sha256:str}/{variant:str}")
    async def file(
        self,
        request: Request,
        media: NamedDependency[MediaConfig],
        token: Token,
        sha256: Sha,
        variant: FromPath[PhotoVariant],
    ) -> Response:
        """An "after" photo's display image or thumbnail; never the original."""
        served = await service.file_for_citizen(token, sha256, variant)
        return await send_file(request, media.storage, served)
