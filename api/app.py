"""`create_app()`: assembles the Litestar application from the domain routers.

The app owns its database connection unless one is handed in (tests and benchmarks bind their
own engine and pass it), and, unless told otherwise, delivers push notifications from its own
process (`notification_worker`). Authentication is a bearer token (JWT) on every route except
login, health, the OpenAPI schema, the push public key, tus discovery (OPTIONS), the citizen's
`/api/track/{token}/…` (the tracking token is the key) and Open311 (open data; submissions carry
an API key); the token's user is reloaded from the database on each request, so a deactivated
user is locked out at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.security.jwt import JWTAuth, Token
from piccolo.engine.base import Engine

from api import db
from api.auth.routes import AuthController, UserController
from api.auth.schemas import Principal
from api.auth.service import load_principal
from api.cases.routes import CaseController
from api.catalog.routes import CatalogController
from api.citizens.routes import CitizenController, PlaceController
from api.crews.routes import CrewController
from api.errors import exception_handlers
from api.health import healthz
from api.notifications.routes import (
    CaseNotificationController,
    PushController,
    TrackingPushController,
)
from api.notifications.vapid import load_vapid, public_key
from api.notifications.worker import DeliveryConfig, Worker
from api.open311.routes import Open311Controller
from api.request_log import outermost
from api.settings import Settings, load_settings
from api.workorders.routes import CaseWorkOrderController, WorkOrderController
from media.routes import PhotoController, TrackingPhotoController, UploadController
from media.uploads import MediaConfig
from sync.routes import SyncController

VERSION = "0.1.0"
_PUBLIC_PATHS = ["/healthz", "/schema", "/api/auth/login"]


async def _retrieve_principal(
    token: Token, _: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    try:
        user_id = int(token.sub)
    except ValueError:
        return None
    return await load_principal(user_id)


def _current_user(request: Request[Principal, Token, Any]) -> Principal:
    return request.user


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Litestar:
    """The Fieldloop API. With `engine`, use that (already bound) database connection."""
    settings = settings or load_settings()
    logging.getLogger("fieldloop").setLevel(settings.log_level)
    jwt_auth = JWTAuth[Principal](
        retrieve_user_handler=_retrieve_principal,
        token_secret=settings.secret_key,
        exclude=_PUBLIC_PATHS,
        exclude_http_methods=["OPTIONS"],  # HEAD is a tus request and needs its user
    )

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        if engine is not None:
            db.bind_engine(engine)
            yield
            return
        owned = await db.connect(settings)
        try:
            yield
        finally:
            await db.disconnect(owned)

    @asynccontextmanager
    async def notification_worker(app: Litestar) -> AsyncIterator[None]:
        """Deliver the notification outbox from this process, unless a separate `fieldloop
        worker` does (FIELDLOOP_NOTIFY_WORKER=off)."""
        if settings.notify_worker != "inprocess":
            yield
            return
        stop = asyncio.Event()
        async with Worker(DeliveryConfig(vapid=vapid, subject=settings.vapid_subject)) as worker:
            task = asyncio.create_task(worker.run(stop))
            try:
                yield
            finally:
                stop.set()
                await task

    vapid = load_vapid(settings)
    app = Litestar(
        route_handlers=[
            healthz,
            AuthController,
            UserController,
            CatalogController,
            CrewController,
            CitizenController,
            PlaceController,
            CaseController,
            CaseWorkOrderController,
            WorkOrderController,
            SyncController,
            UploadController,
            PhotoController,
            TrackingPhotoController,
            PushController,
            TrackingPushController,
            CaseNotificationController,
            Open311Controller,
        ],
        dependencies={"current_user": Provide(_current_user, sync_to_thread=False)},
        exception_handlers=exception_handlers,
        on_app_init=[jwt_auth.on_app_init, outermost],
        lifespan=[database, notification_worker],
        openapi_config=OpenAPIConfig(
            title="Fieldloop", version=VERSION, path="/schema", use_handler_docstrings=True
        ),
        request_max_body_size=1_000_000,
    )
    app.state.settings = settings
    app.state.media = MediaConfig.from_settings(settings)
    app.state.vapid_public_key = public_key(vapid)
    app.state.jwt_auth = jwt_auth
    return app
