"""Notification rules: who subscribes, which changes notify whom, and the outbox rows.

The event functions (`work_assigned`, `work_finished`) are called by the work-order service
inside the transaction of the change itself: the outbox row commits with the change or not at
all (a transactional outbox). They only write rows; the worker (`worker.py`) sends them, and is
woken once the transaction has committed.

Citizens follow a case through its tracking token; following it queues a "report received"
message to that browser at once. Staff register their devices to get their crew's urgent work.
When a case has nobody to tell, the timeline says so, so the advocate can call instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from api.access import Action, authorize
from api.activities import service as activities
from api.activities.schemas import ActivityKind
from api.auth.schemas import Principal
from api.auth.tables import User
from api.cases.service import case_row
from api.cases.tables import Case
from api.db import after_commit, write_transaction
from api.errors import InputInvalidError, NotFoundError, TooManyRequestsError
from api.notifications.schemas import (
    KIND_WORDS,
    NotificationKind,
    NotificationOut,
    SubscriptionIn,
    SubscriptionOut,
)
from api.notifications.tables import CaseFollower, Notification, PushSubscription
from api.workorders.schemas import Priority, WorkOrderStatus
from api.workorders.tables import WorkOrder

K = NotificationKind
MAX_FOLLOWERS = 20  # browsers following one case

_listeners: set[Callable[[], None]] = set()  # in-process workers, woken after a commit


def listen(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` whenever notifications were committed; returns the way to stop."""
    _listeners.add(callback)
    return lambda: _listeners.discard(callback)


def _wake_workers() -> None:
    for callback in list(_listeners):
        callback()


def check_endpoint(endpoint: str, allowed_hosts: tuple[str, ...]) -> None:
    """A push endpoint must be an https URL of a known push service: the worker POSTs to it,
    so an arbitrary URL would let anyone aim the server at internal addresses."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = any(host == known or host.endswith(f".{known}") for known in allowed_hosts)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if not allowed or (parts.scheme != "https" and not (loopback and parts.scheme == "http")):
        raise InputInvalidError(
            f"the endpoint must be an https address of a push service "
            f"({', '.join(allowed_hosts) or 'none configured'})",
            field="endpoint",
        )


async def _upsert(data: SubscriptionIn, user_id: int | None, *, claim: bool) -> int:
    """The subscription row for this endpoint, created or given the browser's current keys."""
    now = datetime.now(UTC)
    row = (
        await PushSubscription.select(PushSubscription.id)
        .where(PushSubscription.endpoint == data.endpoint)
        .first()
    )
    values = {
        PushSubscription.p256dh: data.keys.p256dh,
        PushSubscription.auth: data.keys.auth,
        PushSubscription.updated_at: now,
    }
    if row:
        if claim:
            values[PushSubscription.user] = user_id
        await PushSubscription.update(values).where(PushSubscription.id == row["id"])
        return row["id"]
    created = PushSubscription(
        endpoint=data.endpoint,
        p256dh=data.keys.p256dh,
        auth=data.keys.auth,
        user=user_id,
        created_at=now,
        updated_at=now,
    )
    await created.save()
    return created.id


async def _subscription_out(subscription_id: int) -> SubscriptionOut:
    row = (
        await PushSubscription.select(
            PushSubscription.id, PushSubscription.endpoint, PushSubscription.user.username
        )
        .where(PushSubscription.id == subscription_id)
        .first()
    )
    follows = await CaseFollower.select(CaseFollower.case.public_id).where(
        CaseFollower.subscription == subscription_id
    )
    return SubscriptionOut(
        id=row["id"],
        endpoint=row["endpoint"],
        following=sorted(f["case.public_id"] for f in follows),
        user=row["user.username"],
    )


async def _case_by_token(token: str) -> dict:
    case = await Case.select(Case.id, Case.public_id).where(Case.tracking_token == token).first()
    if case is None:
        raise NotFoundError("no case has this tracking link")
    return case


async def follow_case(
    token: str, data: SubscriptionIn, allowed_hosts: tuple[str, ...]
) -> SubscriptionOut:
    """A citizen's browser follows their case; the first time, "report received" is queued."""
    check_endpoint(data.endpoint, allowed_hosts)
    async with write_transaction():
        case = await _case_by_token(token)
        subscription_id = await _upsert(data, None, claim=False)
        if not await CaseFollower.exists().where(
            (CaseFollower.subscription == subscription_id) & (CaseFollower.case == case["id"])
        ):
            if await CaseFollower.count().where(CaseFollower.case == case["id"]) >= MAX_FOLLOWERS:
                raise TooManyRequestsError(
                    f"{MAX_FOLLOWERS} browsers already follow this case",
                    reason="too_many_followers",
                )
            now = datetime.now(UTC)
            await CaseFollower(subscription=subscription_id, case=case["id"], created_at=now).save()
            await _queue(K.CASE_RECEIVED, "citizen", [subscription_id], case["id"], None, now)
    return await _subscription_out(subscription_id)


async def unfollow_case(token: str, endpoint: str) -> None:
    async with write_transaction():
        case = await _case_by_token(token)
        subscription = (
            await PushSubscription.select(PushSubscription.id)
            .where(PushSubscription.endpoint == endpoint)
            .first()
        )
        if subscription is None:
            raise NotFoundError("this browser does not follow the case")
        await CaseFollower.delete().where(
            (CaseFollower.subscription == subscription["id"]) & (CaseFollower.case == case["id"])
        )


async def register_device(
    actor: Principal, data: SubscriptionIn, allowed_hosts: tuple[str, ...]
) -> SubscriptionOut:
    """A staff user's device gets their crew's alerts (a device changing hands follows its
    new user)."""
    check_endpoint(data.endpoint, allowed_hosts)
    async with write_transaction():
        subscription_id = await _upsert(data, actor.id, claim=True)
    return await _subscription_out(subscription_id)


async def unregister_device(actor: Principal, endpoint: str) -> None:
    async with write_transaction():
        deleted = (
            await PushSubscription.delete()
            .where((PushSubscription.endpoint == endpoint) & (PushSubscription.user == actor.id))
            .returning(PushSubscription.id)
        )
        if not deleted:
            raise NotFoundError("no device of yours has this endpoint")


# --- events: called in the transaction of the change --------------------------------------


async def _queue(
    kind: NotificationKind,
    audience: str,
    subscription_ids: list[int],
    case_id: int,
    work_order_id: int | None,
    now: datetime,
) -> None:
    for subscription_id in subscription_ids:
        await Notification(
            kind=kind.value,
            audience=audience,
            subscription=subscription_id,
            case=case_id,
            work_order=work_order_id,
            status="pending",
            next_attempt_at=now,
            created_at=now,
        ).save()
    if subscription_ids:
        after_commit(_wake_workers)


async def _tell_citizen(kind: NotificationKind, case_id: int, work_order_id: int) -> None:
    now = datetime.now(UTC)
    followers = await CaseFollower.select(CaseFollower.subscription).where(
        CaseFollower.case == case_id
    )
    await _queue(
        kind, "citizen", [f["subscription"] for f in followers], case_id, work_order_id, now
    )
    if not followers and kind in (K.WORK_COMPLETED, K.WORK_NOT_COMPLETED):
        await activities.record(
            case_id=case_id,
            work_order_id=work_order_id,
            kind=ActivityKind.NOTIFICATION,
            body=f"Citizen not notified ({KIND_WORDS[kind]}): no browser follows this case",
            data={"kind": kind.value, "outcome": "no_subscription"},
        )


async def work_assigned(work_order_id: int, crew_id: int, *, first: bool) -> None:
    """A crew got the work: the citizen hears it is scheduled (the first time), and urgent
    work reaches the crew's devices at once."""
    work_order = (
        await WorkOrder.select(WorkOrder.case, WorkOrder.priority)
        .where(WorkOrder.id == work_order_id)
        .first()
    )
    if first:
        await _tell_citizen(K.WORK_SCHEDULED, work_order["case"], work_order_id)
    if work_order["priority"] == Priority.URGENT.value:
        devices = await PushSubscription.select(PushSubscription.id).where(
            PushSubscription.user.is_in(
                User.select(User.id).where((User.crew == crew_id) & (User.active.eq(True)))
            )
        )
        await _queue(
            K.URGENT_WORK,
            "crew",
            [d["id"] for d in devices],
            work_order["case"],
            work_order_id,
            datetime.now(UTC),
        )


async def work_finished(work_order_id: int, case_id: int, status: WorkOrderStatus) -> None:
    """Completed, or could not be completed: the citizen hears it (with the photo, the
    reason)."""
    kind = K.WORK_COMPLETED if status is WorkOrderStatus.COMPLETED else K.WORK_NOT_COMPLETED
    await _tell_citizen(kind, case_id, work_order_id)


# --- what the office sees ------------------------------------------------------------------


async def case_notifications(actor: Principal, public_id: str) -> list[NotificationOut]:
    """Every notification about a case, newest first, with how its delivery went."""
    authorize(actor, Action.CASE_READ)
    case = await case_row(public_id)
    rows = (
        await Notification.select(
            Notification.all_columns(exclude=[Notification.payload]),
            Notification.work_order.number,
        )
        .where(Notification.case == case["id"])
        .order_by(Notification.id, ascending=False)
    )
    return [
        NotificationOut(
            id=row["id"],
            kind=K(row["kind"]),
            audience=row["audience"],
            status=row["status"],
            attempts=row["attempts"],
            created_at=row["created_at"],
            sent_at=row["sent_at"],
            next_attempt_at=row["next_attempt_at"]
            if row["status"] in ("pending", "sending")
            else None,
            last_error=row["last_error"],
            work_order=row["work_order.number"],
        )
        for row in rows
    ]
