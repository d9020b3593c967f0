"""The delivery worker: takes due notifications from the outbox and sends them by Web Push.

1. Claim: in one short transaction, take up to `batch` due rows (pending, or sending with a
   lapsed lease) and mark them `sending` with a lease, this worker's name and the attempt's
   number. On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so several workers on
   several hosts share the outbox and never take the same row; SQLite has one writer anyway.
2. Send each (outside any transaction), with pywebpush's async path over one aiohttp session:
   the payload rendered now (`messages.py`), encrypted for the subscriber, VAPID-signed, with a
   TTL (an offline phone still gets it tomorrow), an urgency and a topic.
3. Record the batch's attempts and outcomes in one transaction, each only if the lease is still
   this worker's:
   201/202 sent; 404/410 the subscription is gone (deleted); 429, 5xx, timeouts and network
   errors retried with exponential backoff (longer if `Retry-After` says so) until
   `max_attempts`; other 4xx fail at once. The case timeline says "Citizen notified" or why not.

A worker killed between 1 and 3 leaves its rows `sending`; they are claimed again once the
lease runs out, so nothing is lost. A push service that accepted a message whose answer never
arrived gets it again: Web Push cannot be exactly-once over HTTP, so each message carries its
notification id as `tag` (and `Topic`), and the browser shows a repeat in place of the first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from time import perf_counter
from urllib.parse import urlsplit

import aiohttp
from py_vapid import Vapid
from pywebpush import WebPusher

from api.activities import service as activities
from api.activities.schemas import ActivityKind
from api.db import for_update_skip_locked, write_transaction
from api.notifications import messages
from api.notifications.schemas import KIND_WORDS, NotificationKind
from api.notifications.service import listen
from api.notifications.tables import DeliveryAttempt, Notification, PushSubscription
from api.notifications.vapid import load_vapid
from api.settings import Settings

log = logging.getLogger("fieldloop.notifications")

TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DeliveryConfig:
    vapid: Vapid
    subject: str
    lease: timedelta = timedelta(minutes=5)  # well beyond a batch of sends and their timeouts
    timeout: float = 10.0
    batch: int = 50
    concurrency: int = 10
    max_attempts: int = 10
    backoff: timedelta = timedelta(seconds=30)  # doubled each attempt
    backoff_max: timedelta = timedelta(hours=2)
    idle_poll: float = 1.0  # seconds between looks at an empty outbox (a commit wakes it)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> DeliveryConfig:
        return cls(vapid=load_vapid(settings), subject=settings.vapid_subject, **overrides)


@dataclass(frozen=True)
class Outcome:
    outcome: str  # sent | retry | gone | failed
    status_code: int | None
    detail: str
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class Attempt:
    """One send and what came of it, waiting to be recorded with the rest of its batch."""

    row: dict
    outcome: Outcome
    payload: dict
    started: datetime
    seconds: float


def backoff_for(attempt: int, config: DeliveryConfig, retry_after: timedelta | None) -> timedelta:
    """30 s, 1 min, 2 min, … (±20 %), at most `backoff_max`; never sooner than Retry-After."""
    delay = config.backoff * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
    delay = min(delay, config.backoff_max)
    if retry_after is not None:
        delay = max(delay, min(retry_after, config.backoff_max))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After`: seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    try:
        return max(parsedate_to_datetime(value) - now, timedelta(0))
    except (TypeError, ValueError):
        return None


def classify(status: int, retry_after: timedelta | None, body: str) -> Outcome:
    detail = f"push service answered {status}" + (f": {body[:200]}" if body.strip() else "")
    if status in (200, 201, 202):
        return Outcome("sent", status, "")
    if status in (404, 410):
        return Outcome("gone", status, "the browser's subscription has expired or was revoked")
    if status == 429 or status >= 500:
        return Outcome("retry", status, detail, retry_after)
    return Outcome("failed", status, detail)


class Worker:
    """Delivers the outbox; `run()` until stopped, or `run_once()` for one batch."""

    def __init__(self, config: DeliveryConfig, *, name: str | None = None) -> None:
        self.config = config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10_000}"
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Worker:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; sleep while the outbox is empty (a commit wakes it)."""
        stop_listening = listen(self.wake)
        try:
            while not stop.is_set():
                self._wake.clear()  # before looking: a commit during the look wakes the wait
                try:
                    done = await self.run_once()
                except Exception:  # the database went away a moment: keep the worker alive
                    log.exception("notification worker %s: a round failed", self.name)
                    done = 0
                if done:
                    continue
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    [waiter, stopper],
                    timeout=self.config.idle_poll,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
                stopper.cancel()
        finally:
            stop_listening()

    async def run_once(self) -> int:
        """Claim one batch and deliver it; how many notifications were attempted."""
        claimed = await self.claim()
        # one browser's messages in the order they were written ("scheduled" before "done"),
        # different browsers' side by side
        queues: dict[int | None, list[dict]] = {}
        for row in sorted(claimed, key=lambda row: row["id"]):
            queues.setdefault(row["subscription"], []).append(row)
        limit = asyncio.Semaphore(self.config.concurrency)
        attempts: list[Attempt] = []

        async def deliver_in_order(rows: list[dict]) -> None:
            async with limit:
                for row in rows:
                    attempts.append(await self.attempt(row))

        await asyncio.gather(*(deliver_in_order(rows) for rows in queues.values()))
        if attempts:
            # the batch's outcomes in one transaction: SQLite's one writer is taken once, not
            # once a message (a crash before this commit resends the batch: tags make it safe)
            async with write_transaction():
                for attempt in attempts:
                    await self.record(attempt)
        return len(claimed)

    def _due(self, now: datetime):
        return (
            Notification.status.is_in(["pending", "sending"])
            & (Notification.next_attempt_at <= now)
            & (Notification.locked_until.is_null() | (Notification.locked_until <= now))
        )

    async def claim(self) -> list[dict]:
        now = datetime.now(UTC)
        if not await Notification.exists().where(self._due(now)):
            return []  # a read: an idle worker never takes SQLite's write lock
        async with write_transaction():
            rows = await for_update_skip_locked(
                Notification.select(Notification.id, Notification.attempts)
                .where(self._due(now))
                .order_by(Notification.next_attempt_at)
                .limit(self.config.batch)
            )
            if not rows:
                return []
            ids = [row["id"] for row in rows]
            await Notification.update(
                {
                    Notification.status: "sending",
                    Notification.locked_until: now + self.config.lease,
                    Notification.claimed_by: self.name,
                    Notification.attempts: Notification.attempts + 1,
                }
            ).where(Notification.id.is_in(ids))
        return await Notification.select(
            Notification.all_columns(),
            Notification.subscription.endpoint,
            Notification.subscription.p256dh,
            Notification.subscription.auth,
        ).where(Notification.id.is_in(ids) & (Notification.claimed_by == self.name))

    async def attempt(self, row: dict) -> Attempt:
        """Render and send one notification; what happened, to be recorded."""
        started = datetime.now(UTC)
        clock = perf_counter()
        payload: dict = {}
        if row["subscription"] is None:  # the subscription went while the row waited
            outcome = Outcome("gone", None, "the browser's subscription is gone")
        else:
            kind = NotificationKind(row["kind"])
            context = await messages.load_context(row["case"], row["work_order"])
            payload = messages.render(row["id"], kind, context)
            outcome = await self.send(row, payload)
        return Attempt(row, outcome, payload, started, perf_counter() - clock)

    async def send(self, row: dict, payload: dict) -> Outcome:
        endpoint = row["subscription.endpoint"]
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
        claims = {  # a fresh dict each time: signing must not see another message's claims
            "sub": self.config.subject,
            "aud": origin,
            "exp": int(datetime.now(UTC).timestamp()) + 12 * 3600,
        }
        headers = self.config.vapid.sign(claims) | {
            "Urgency": "high" if row["audience"] == "crew" else "normal",
            "Topic": f"fieldloop-{row['id']}",
        }
        subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": row["subscription.p256dh"], "auth": row["subscription.auth"]},
        }
        assert self._session is not None, "use the worker as `async with Worker(...)`"
        try:
            response = await WebPusher(subscription, aiohttp_session=self._session).send_async(
                messages.encode(payload),
                headers,
                ttl=TTL_SECONDS,
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            return Outcome("retry", None, f"push service unreachable: {type(error).__name__}")
        text = await response.text()
        retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        return classify(response.status, retry_after, text)

    async def record(self, attempt_made: Attempt) -> None:
        row, outcome, payload = attempt_made.row, attempt_made.outcome, attempt_made.payload
        started, seconds = attempt_made.started, attempt_made.seconds
        attempt = row["attempts"]
        now = datetime.now(UTC)
        if outcome.outcome == "retry" and attempt >= self.config.max_attempts:
            outcome = Outcome(
                "failed",
                outcome.status_code,
                f"gave up after {attempt} attempts; last: {outcome.detail}",
            )
        values: dict = {Notification.locked_until: None, Notification.payload: payload}
        if outcome.outcome == "retry":
            delay = backoff_for(attempt, self.config, outcome.retry_after)
            values |= {
                Notification.status: "pending",
                Notification.next_attempt_at: now + delay,
                Notification.last_error: outcome.detail,
            }
        else:
            values |= {
                Notification.status: outcome.outcome,
                Notification.last_error: outcome.detail,
                Notification.sent_at: now if outcome.outcome == "sent" else None,
            }
        async with write_transaction():
            updated = (
                await Notification.update(values)
                .where(
                    (Notification.id == row["id"])
                    & (Notification.claimed_by == self.name)
                    & (Notification.attempts == attempt)
                    & (Notification.status == "sending")
                )
                .returning(Notification.id)
            )
            if not updated:  # the lease ran out and another worker took it over
                log.warning("notification %s: lease lost by %s", row["id"], self.name)
                return
            await DeliveryAttempt(
                notification=row["id"],
                number=attempt,
                worker=self.name,
                started_at=started,
                duration_ms=round(seconds * 1000),
                status_code=outcome.status_code,
                outcome=outcome.outcome,
                detail=outcome.detail,
            ).save()
            if outcome.outcome == "gone" and row["subscription"] is not None:
                await PushSubscription.delete().where(PushSubscription.id == row["subscription"])
            if outcome.outcome != "retry" and row["audience"] == "citizen":
                await _timeline(row, outcome, now)


async def _timeline(row: dict, outcome: Outcome, now: datetime) -> None:
    """What the advocate sees on the case: told, or not and why (so they can call)."""
    words = KIND_WORDS[NotificationKind(row["kind"])]
    if outcome.outcome == "sent":
        body = f"Citizen notified ({words})"
    else:
        body = f"Citizen not notified ({words}): {outcome.detail}"
    await activities.record(
        case_id=row["case"],
        work_order_id=row["work_order"],
        kind=ActivityKind.NOTIFICATION,
        body=body,
        occurred_at=now,
        data={"notification_id": row["id"], "kind": row["kind"], "outcome": outcome.outcome},
    )
