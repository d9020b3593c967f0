"""Domain errors and the one place that turns them into HTTP answers.

Services raise `<Thing><Reason>Error`s that know nothing of HTTP; `exception_handlers` maps each
family to a status once. Every error body has the same shape, so clients (the crew app, the
Open311 layer) handle errors in one way:

    {"status_code": 409, "detail": "a human sentence", "field": "status" | null, "extra": {...}}

Anything unexpected becomes a logged 500 with no internals in the body; a client must never be
able to cause one, and the tests check that.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("fieldloop.errors")


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class InputInvalidError(DomainError):
    """The request is well-formed but a value makes no sense (unknown code, bad combination)."""

    status_code = 422


class NotAuthenticatedError(DomainError):
    """No valid credentials: wrong password, expired or missing token, inactive user."""

    status_code = 401


class PermissionDeniedError(DomainError):
    """The user is known and the object is in reach, but the role may not do this."""

    status_code = 403


class NotFoundError(DomainError):
    """No such object, or one the user may not know exists (both answer the same)."""

    status_code = 404


class ConflictError(DomainError):
    """The request clashes with the current state (duplicate, stale, illegal transition)."""

    status_code = 409


class TransitionNotAllowedError(ConflictError):
    """A work-order status change the state machine forbids; names both states."""


class ProtocolError(DomainError):
    """The request breaks the wire protocol (a malformed or missing tus header): 400."""

    status_code = 400


class TooManyRequestsError(DomainError):
    """The user holds too much of a limited thing at once (unfinished uploads)."""

    status_code = 429


class GoneError(DomainError):
    """The object existed but is gone for good (an expired or failed upload)."""

    status_code = 410


class PreconditionFailedError(DomainError):
    """A protocol precondition does not hold (an unsupported tus version)."""

    status_code = 412


class PayloadTooLargeError(DomainError):
    """The body, or the file it announces, is over a size limit; names the limit."""

    status_code = 413


class UnsupportedMediaTypeError(DomainError):
    """The bytes are not of a kind Fieldloop accepts; names what they looked like."""

    status_code = 415


class RangeNotSatisfiableError(DomainError):
    """A Range header asks for bytes the file does not have."""

    status_code = 416


class ChecksumMismatchError(DomainError):
    """The bytes do not match the checksum the client sent (tus answers 460)."""

    status_code = 460


def error_body(
    status_code: int, detail: str, field: str | None = None, extra: Any = None
) -> dict[str, Any]:
    return {"status_code": status_code, "detail": detail, "field": field, "extra": extra or {}}


def domain_error_response(error: DomainError, headers: dict[str, str] | None = None) -> Response:
    """The HTTP answer for a domain error; protocol routes (tus) add their own headers."""
    return Response(
        error_body(error.status_code, error.detail, error.field, error.extra),
        status_code=error.status_code,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _domain_error_response(_: Request, error: DomainError) -> Response:
    return domain_error_response(error)


_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")
_MSGSPEC_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def field_of(message: str, key: str | None) -> str | None:
    """The field a validation error is about, as a dotted path from the body's root.

    Litestar passes msgspec's location as `key` ("citizen", "data" for the body itself), and
    the message may name the field inside it ("Object contains unknown field `nickname`"), so
    the two together give 'citizen.nickname'. A message that still carries msgspec's own
    "- at `$.place`" suffix is read the same way."""
    path = _MSGSPEC_PATH.search(message)
    prefix = path.group(1) if path else (None if key in (None, "data") else key)
    if prefix:
        prefix = re.sub(r"\[(\d+)\]", r".\1", prefix.removeprefix("data."))
    named = _MSGSPEC_FIELD.search(message)
    if named:
        return f"{prefix}.{named.group(1)}" if prefix else named.group(1)
    return prefix or None


def _http_exception_response(_: Request, error: HTTPException) -> Response:
    """Litestar's own errors (bad JSON, validation, 404 route, 405) in our body shape."""
    field = None
    extra: Any = error.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        # msgspec validation: [{"message": "...", "key": "body.email", "source": "body"}]
        field = field_of(str(extra[0].get("message", "")), extra[0].get("key"))
        detail = f"{error.detail}: {extra[0].get('message', '')}".rstrip(": ")
        extra = {"errors": extra}
    else:
        detail = error.detail
        extra = extra if isinstance(extra, dict) else {}
    return Response(
        error_body(error.status_code, detail, field, extra),
        status_code=error.status_code,
        media_type=MediaType.JSON,
        headers=getattr(error, "headers", None),
    )


def _unexpected_error_response(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return Response(
        error_body(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; it has been logged"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MediaType.JSON,
    )


exception_handlers = {
    DomainError: _domain_error_response,
    HTTPException: _http_exception_response,
    HTTP_500_INTERNAL_SERVER_ERROR: _unexpected_error_response,
}
