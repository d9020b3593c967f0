"""Push endpoints: the server's public key, subscribing (citizens by tracking token, staff by
login), and a case's notifications for the office."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from api.auth.schemas import Principal
from api.cases.schemas import CASE_ID_PATTERN
from api.notifications import service
from api.notifications.schemas import (
    NotificationOut,
    PublicKey,
    SubscriptionIn,
    SubscriptionOut,
    Unsubscribe,
)

Token = Annotated[str, PathParameter(min_length=20, max_length=64, pattern=r"^[\w-]+$")]
CaseId = Annotated[str, PathParameter(pattern=CASE_ID_PATTERN)]


def _hosts(request: Request) -> tuple[str, ...]:
    return request.app.state.settings.push_services


class PushController(Controller):
    path = "/api/push"
    tags = ["notifications"]

    @get("/key", exclude_from_auth=True)
    async def key(self, request: Request) -> PublicKey:
        """The `applicationServerKey` browsers subscribe with (no login needed)."""
        return PublicKey(public_key=request.app.state.vapid_public_key)

    @post("/subscriptions", status_code=201)
    async def register(
        self,
        request: Request,
        current_user: NamedDependency[Principal],
        data: JSONBody[SubscriptionIn],
    ) -> SubscriptionOut:
        """This device gets its user's alerts: urgent work for their crew."""
        return await service.register_device(current_user, data, _hosts(request))

    @post("/unsubscribe", status_code=204)
    async def unregister(
        self, current_user: NamedDependency[Principal], data: JSONBody[Unsubscribe]
    ) -> None:
        """This device stops getting alerts."""
        await service.unregister_device(current_user, data.endpoint)


class TrackingPushController(Controller):
    """A citizen follows their case by push, with the case's tracking link as the key."""

    path = "/api/track/{token:str}"
    tags = ["citizens"]
    opt = {"exclude_from_auth": True}

    @post("/subscriptions", status_code=201)
    async def follow(
        self, request: Request, token: Token, data: JSONBody[SubscriptionIn]
    ) -> SubscriptionOut:
        """Tell this browser about the case: "report received" at once, then when the work is
        scheduled and when it is done (with the "after" photo) or could not be done."""
        return await service.follow_case(token, data, _hosts(request))

    @post("/unsubscribe", status_code=204)
    async def unfollow(self, token: Token, data: JSONBody[Unsubscribe]) -> None:
        """Stop telling this browser about the case."""
        await service.unfollow_case(token, data.endpoint)


class CaseNotificationController(Controller):
    path = "/api/cases/{case_id:str}/notifications"
    tags = ["cases"]

    @get("/")
    async def list_notifications(
        self, current_user: NamedDependency[Principal], case_id: CaseId
    ) -> list[NotificationOut]:
        """Every push notification about the case, newest first: sent when, or why not yet."""
        return await service.case_notifications(current_user, case_id)
