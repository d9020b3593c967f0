"""Sync endpoints for crew tablets: register a device, pull, push; supervisors revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter

from api.auth.schemas import Principal
from sync import devices
from sync.pull import SyncWindow, pull
from sync.push import push
from sync.schemas import (
    DeviceOut,
    DeviceRegister,
    DeviceRevoke,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
)

DeviceIdPath = Annotated[
    str, PathParameter(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/devices", status_code=200)
    async def register(
        self, current_user: NamedDependency[Principal], data: JSONBody[DeviceRegister]
    ) -> DeviceOut:
        """Register this tablet (a device id it chose, e.g. a UUID) under the crew user.
        Registering again updates its name and app version."""
        return await devices.register_device(current_user, data)

    @get("/devices")
    async def list_devices(self, current_user: NamedDependency[Principal]) -> list[DeviceOut]:
        """Supervisors and admins: every device. Crew users: their own."""
        return await devices.list_devices(current_user)

    @post("/devices/{device_id:str}/revoke", status_code=200)
    async def revoke(
        self,
        current_user: NamedDependency[Principal],
        device_id: FromPath[DeviceIdPath],
        data: JSONBody[DeviceRevoke],
    ) -> DeviceOut:
        """Revoke a lost or retired tablet: its pulls and pushes are refused from now on."""
        return await devices.revoke_device(current_user, device_id, data.reason)

    @post("/pull", status_code=200)
    async def pull(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        data: JSONBody[PullRequest],
    ) -> PullResponse:
        """The crew's work, by cursor, a page at a time (docs/sync-protocol.md)."""
        settings = request.app.state.settings
        window = SyncWindow(
            finished=timedelta(days=settings.sync_finished_days),
            tombstones=timedelta(days=settings.sync_tombstone_days),
        )
        return await pull(current_user, data, window)

    @post("/push", status_code=200)
    async def push(
        self, current_user: NamedDependency[Principal], data: JSONBody[PushRequest]
    ) -> PushResponse:
        """Apply queued mutations in order, exactly once each (docs/sync-protocol.md)."""
        return await push(current_user, data)
