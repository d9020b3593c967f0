"""One structured log line per request: method, path, status, duration, user.

Query strings and headers are never logged: they can carry bearer tokens. A citizen's
tracking token, which is a key in itself, is cut out of `/api/track/{token}/…` paths. The line
is key=value so log tools can parse it without a schema.
"""

from __future__ import annotations

import logging
import re
import time

from litestar.config.app import AppConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("fieldloop.request")
_TRACKING = re.compile(r"^/api/track/[^/]+")


def loggable_path(path: str) -> str:
    """The path without secrets: `/api/track/<token>/photos` → `/api/track/-/photos`."""
    return _TRACKING.sub("/api/track/-", path)


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_note_status)
        except Exception as error:
            # raised here, answered further out by Litestar's exception handling
            status = getattr(error, "status_code", 500)
            raise
        finally:
            user = scope.get("user")
            log.info(
                "method=%s path=%s status=%d ms=%.1f user=%s",
                scope["method"],
                loggable_path(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
                getattr(user, "id", "-"),
            )

    return middleware


def outermost(app_config: AppConfig) -> AppConfig:
    """An `on_app_init` hook putting the request log outside every other middleware (also
    outside authentication, whose 401s must be logged too). List it after the auth hook."""
    app_config.middleware.insert(0, request_log_middleware)
    return app_config
