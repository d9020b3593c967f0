"""Notification benchmark: how long a citizen waits for "work completed" after the crew's tablet
says so, and how many notifications a second the delivery worker gets through.

On SQLite and on PostgreSQL, each in a fresh, migrated database with a small town
(`tests.factories.make_town`), the app served by a real uvicorn server in this event loop with
its own in-process worker (FIELDLOOP_NOTIFY_WORKER=inprocess, woken after each commit), and the
fake Web Push service of the tests (`tests.factories.FakePushService`: real loopback HTTP, it
verifies the VAPID signature and decrypts every message before accepting it). It measures:

- (a) the loop-closing latency: N cases (200; FIELDLOOP_BENCH_NOTIFY_N overrides), each
  followed by a browser of the fake service through POST /api/track/{token}/subscriptions,
  each with a work order assigned to crew A and already on_site (the "report received" and
  "work scheduled" messages delivered before measuring). Then, one work order at a time, with
  the worker idle: t0, crew A's tablet pushes one `complete` mutation over HTTP, and the
  latency runs to the moment the fake service accepted that case's `work_completed` message.
  Each sample is split at the outbox row's `created_at`, at the commit (a listener registered
  with `notify.listen`, called after commit as the worker's own wake-up is) and at the delivery
  attempt's `started_at`: the push request until the row is written; the rest of the push
  transaction and its commit; the worker's wake-up and claim; rendering (reading the case),
  encrypting, signing and sending. The tablet's own answer is shown beside them.
- (b) notifications a second through the worker: 500 "report received" notifications queued
  at once (25 cases, 20 browsers each), the server stopped, then drained by one `Worker` in
  this process (default batch and concurrency), and on PostgreSQL by two side by side (they
  share the outbox with FOR UPDATE SKIP LOCKED). Both run on this one event loop, so the second
  worker shows what sharing the outbox costs, not what a second process would add.

Baselines from the same run, against the same fake service: for (a), the bare minimum any
server pays to tell one browser, one pywebpush `WebPusher(...).send_async` of the same plaintext
to the same subscriber with a fresh VAPID signature (one after each Fieldloop sample, so both
see the same machine); for (b), the same 500 plaintexts sent that way, as many at a time as the
workers send (10 for one worker, 20 for two). The fake service runs in this event loop, so its
decryption counts in both figures alike.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import httpx
import msgspec
from py_vapid import Vapid
from pywebpush import WebPusher

from api import db
from api.app import create_app
from api.db import write_transaction
from api.notifications import service as notify
from api.notifications.schemas import SubscriptionIn
from api.notifications.tables import DeliveryAttempt, Notification
from api.notifications.vapid import load_vapid
from api.notifications.worker import TTL_SECONDS, DeliveryConfig, Worker
from api.settings import Settings, load_settings
from bench import ScratchDatabases, postgres_url
from bench.api_bench import percentile
from tests import factories
from tests.factories import FakePushService, FakeSubscriber, PushMessage, Tablet, Town

N = int(os.environ.get("FIELDLOOP_BENCH_NOTIFY_N", "200"))
QUEUED = 500  # notifications drained for (b)
FOLLOWERS = notify.MAX_FOLLOWERS  # browsers per case for (b)
WORKER_CONCURRENCY = 10  # DeliveryConfig's default: sends in flight per worker
ARRIVAL_TIMEOUT_S = 10.0  # a message not accepted by then is counted as missing
QUIET_TIMEOUT_S = 60.0  # the longest wait for the outbox to empty (setup, between samples)
SETTLE_S = 0.02  # after the outbox is quiet, so the worker is back waiting for a wake-up
SECRET = "notify-bench-secret-key-that-is-long-enough-0123456789"

Row = tuple[str, str, str, str, str]  # engine, measure, n, Fieldloop's figure, the baseline's


@dataclass
class Work:
    """One case a browser follows, with its work order on crew A's tablet."""

    number: str
    subscriber: FakeSubscriber


@dataclass
class Sample:
    """One work order's completion, on the perf_counter clock (wall: time.time() at t0)."""

    t0: float
    wall0: float
    answered: float  # the push's HTTP answer came back
    committed: float | None  # the push's transaction committed (the workers were woken)
    message: PushMessage
    bare: float  # the bare pywebpush send of the same plaintext, seconds

    @property
    def latency(self) -> float:
        return self.message.received_at - self.t0

    def clock(self, when: datetime) -> float:
        """A database timestamp on the perf_counter clock."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return self.t0 + (when.timestamp() - self.wall0)


@dataclass
class Phases:
    """Where the median latency went, in seconds per sample."""

    to_row: list[float] = field(default_factory=list)
    to_commit: list[float] = field(default_factory=list)
    to_start: list[float] = field(default_factory=list)
    sending: list[float] = field(default_factory=list)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def p50_p95(seconds: list[float]) -> str:
    return f"{ms(statistics.median(seconds))} / {ms(percentile(seconds, 0.95))}"


def ratio(ours: float, bare: float) -> str:
    return f"(fieldloop takes {ours / bare:.1f}x)" if bare > 0 else ""


def settings_for(database_url: str, var_dir: Path) -> Settings:
    var_dir.mkdir(parents=True, exist_ok=True)
    return load_settings(
        {
            "FIELDLOOP_DATABASE_URL": database_url,
            "FIELDLOOP_VAR_DIR": str(var_dir),
            "FIELDLOOP_SECRET_KEY": SECRET,
            "FIELDLOOP_PUSH_SERVICES": "127.0.0.1",
            "FIELDLOOP_NOTIFY_WORKER": "inprocess",
            "FIELDLOOP_LOG_LEVEL": "WARNING",
        }
    )


async def arrival(
    service: FakePushService, start: int, subscriber: FakeSubscriber, kind: str | None
) -> PushMessage | None:
    """The first message for `subscriber` (of `kind`) accepted from index `start` on."""
    deadline = time.perf_counter() + ARRIVAL_TIMEOUT_S
    seen = start
    while True:
        received = service.received
        for message in received[seen:]:
            if message.subscriber_id == subscriber.id and (
                kind is None or message.json().get("kind") == kind
            ):
                return message
        seen = len(received)
        if time.perf_counter() >= deadline:
            return None
        await asyncio.sleep(0.002)


async def outbox_quiet() -> bool:
    """Wait until no notification is pending or being sent, then a moment more."""
    deadline = time.perf_counter() + QUIET_TIMEOUT_S
    busy = Notification.status.is_in(["pending", "sending"])
    while await Notification.exists().where(busy):
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(0.005)
    await asyncio.sleep(SETTLE_S)
    return True


async def bare_send(
    session: aiohttp.ClientSession, vapid: Vapid, subscriber: FakeSubscriber, data: bytes, tag: str
) -> int:
    """What any Web Push sender does for one message: sign, encrypt, POST (as the worker)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(subscriber.endpoint))
    claims = {"sub": "mailto:311@localhost", "aud": origin, "exp": int(time.time()) + 12 * 3600}
    headers = vapid.sign(claims) | {"Urgency": "normal", "Topic": tag}
    response = await WebPusher(subscriber.subscription_info(), aiohttp_session=session).send_async(
        data, headers, ttl=TTL_SECONDS, timeout=aiohttp.ClientTimeout(total=10.0)
    )
    await response.text()
    return response.status


# --- (a) the loop-closing latency -----------------------------------------------------------


async def prepare(
    label: str, town: Town, client: httpx.AsyncClient, service: FakePushService
) -> tuple[list[Work], Tablet]:
    """N followed cases with work orders on site for crew A, their earlier messages sent."""
    started = time.perf_counter()
    tablet = await factories.make_tablet(client, town, "crew_a", "bench-notify-tablet")
    start = len(service.received)
    work: list[Work] = []
    refused = 0
    for i in range(N):
        case = await factories.make_case(
            town,
            phone=f"919-555-{i:04d}",
            address=f"{100 + i} Bench Street",
            description=f"Benchmark pothole {i}",
        )
        subscriber = service.subscriber()
        if (await factories.follow_case(client, case, subscriber)).status_code != 201:
            refused += 1
        number = (await factories.make_work_order(town, case, crew_id=town.crew_a)).number
        work.append(Work(number, subscriber))
    for chunk in range(0, N, 50):  # on site, from the tablet, 50 mutations a request
        for item in work[chunk : chunk + 50]:
            tablet.queue(
                "set_status", work_order=item.number, status="on_site", expected_status="assigned"
            )
        response = await tablet.push()
        if response.status_code == 200:
            tablet.acknowledge(response.json()["last_mutation_seq"])
    for _ in range(round(QUIET_TIMEOUT_S / 0.01)):  # case_received, work_scheduled: 2 each
        if len(service.received) - start >= 2 * N:
            break
        await asyncio.sleep(0.01)
    quiet = await outbox_quiet()
    earlier = len(service.received) - start
    print(
        f"  {label}: {N} followed cases on site in {time.perf_counter() - started:.1f} s; "
        f"{earlier} of {2 * N} earlier messages delivered"
        + ("" if quiet else "; the outbox did not empty")
        + (f"; {refused} follows refused" if refused else "")
        + ("" if tablet.outbox == [] else f"; {len(tablet.outbox)} on_site mutations unacked"),
        flush=True,
    )
    return work, tablet


async def measure_latency(
    work: list[Work],
    tablet: Tablet,
    service: FakePushService,
    session: aiohttp.ClientSession,
    vapid: Vapid,
) -> tuple[list[Sample], int, list[str]]:
    """(a), one work order at a time: (samples, missing messages, pushes not applied)."""
    samples: list[Sample] = []
    refusals: list[str] = []
    missing = 0
    commits: list[float] = []  # a listener like the worker's: called after each commit
    stop_listening = notify.listen(lambda: commits.append(time.perf_counter()))
    try:
        for item in work:
            sample = await complete_one(item, tablet, service, session, vapid, commits)
            if sample is None:
                missing += 1
            elif isinstance(sample, Sample):
                samples.append(sample)
            else:
                refusals.append(sample)
    finally:
        stop_listening()
    return samples, missing, refusals


async def complete_one(
    item: Work,
    tablet: Tablet,
    service: FakePushService,
    session: aiohttp.ClientSession,
    vapid: Vapid,
    commits: list[float],
) -> Sample | str | None:
    """One completion, then one bare send; None if the message never came, a string if the
    push was not applied."""
    await outbox_quiet()
    start, commit_mark = len(service.received), len(commits)
    tablet.queue("complete", work_order=item.number, resolution_code="repaired")
    wall0, t0 = time.time(), time.perf_counter()
    response = await tablet.push()
    answered = time.perf_counter()
    if response.status_code != 200:
        return f"{response.status_code}: {response.text[:200]}"
    body = response.json()
    tablet.acknowledge(body["last_mutation_seq"])
    if body["results"][0]["status"] != "applied":
        return str(body["results"][0])
    message = await arrival(service, start, item.subscriber, "work_completed")
    if message is None:
        return None
    committed = commits[commit_mark] if len(commits) > commit_mark else None
    await outbox_quiet()  # the worker recorded the outcome and is idle again
    start = len(service.received)
    bare_t0 = time.perf_counter()
    await bare_send(session, vapid, item.subscriber, message.payload, "bench-bare")
    bare = await arrival(service, start, item.subscriber, None)
    bare_s = bare.received_at - bare_t0 if bare else 0.0
    return Sample(t0, wall0, answered, committed, message, bare_s)


async def phases_of(samples: list[Sample]) -> Phases:
    """Each sample split at its outbox row's created_at and its delivery's started_at."""
    ids = [sample.message.json()["id"] for sample in samples]
    created = {
        row["id"]: row["created_at"]
        for row in await Notification.select(Notification.id, Notification.created_at).where(
            Notification.id.is_in(ids)
        )
    }
    started = {
        row["notification"]: row["started_at"]
        for row in await DeliveryAttempt.select(
            DeliveryAttempt.notification, DeliveryAttempt.started_at
        ).where(DeliveryAttempt.notification.is_in(ids) & (DeliveryAttempt.outcome == "sent"))
    }
    phases = Phases()
    for notification_id, sample in zip(ids, samples, strict=True):
        if notification_id not in created or notification_id not in started:
            continue
        if sample.committed is None:
            continue
        row_at = sample.clock(created[notification_id])
        start_at = sample.clock(started[notification_id])
        phases.to_row.append(row_at - sample.t0)
        phases.to_commit.append(sample.committed - row_at)
        phases.to_start.append(start_at - sample.committed)
        phases.sending.append(sample.message.received_at - start_at)
    return phases


async def bench_latency(
    label: str,
    town: Town,
    client: httpx.AsyncClient,
    service: FakePushService,
    session: aiohttp.ClientSession,
    vapid: Vapid,
) -> tuple[list[Row], list[str]]:
    work, tablet = await prepare(label, town, client, service)
    started = time.perf_counter()
    samples, missing, refusals = await measure_latency(work, tablet, service, session, vapid)
    print(
        f"  {label}: {len(samples)} completions measured in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    if not samples:
        return [(label, "(a) loop-closing latency", "0", "no message arrived", "-")], []
    latency = [s.latency for s in samples]
    bare = [s.bare for s in samples if s.bare > 0]
    answered = [s.answered - s.t0 for s in samples]
    phases = await phases_of(samples)
    n = str(len(samples))
    bare_median = statistics.median(bare) if bare else 0.0
    rows: list[Row] = [
        (
            label,
            "(a) loop-closing latency, median / p95",
            n,
            p50_p95(latency),
            f"{p50_p95(bare)}  {ratio(statistics.median(latency), bare_median)}" if bare else "-",
        ),
        (label, "    the tablet's push answered", n, p50_p95(answered), "-"),
    ]
    notes = []
    if phases.to_row:
        steps = [
            ("push sent -> outbox row written", phases.to_row, "the push request up to the row"),
            ("row written -> push committed", phases.to_commit, "the rest of the push transaction"),
            ("committed -> worker starts delivery", phases.to_start, "the wake-up and claim"),
            ("render, encrypt, sign, POST", phases.sending, "rendering and sending the message"),
        ]
        for measure, values, _ in steps:
            baseline = "-"
            if values is phases.sending and bare:
                baseline = f"{p50_p95(bare)}  {ratio(statistics.median(values), bare_median)}"
            rows.append((label, f"    {measure}", str(len(values)), p50_p95(values), baseline))
        medians = [(statistics.median(values), words) for _, values, words in steps]
        whole = statistics.median(latency)
        top, words = max(medians)
        verdict = (
            f"{words} dominates ({top / whole:.0%})"
            if top / whole >= 0.4
            else f"no one part dominates (the largest, {words}, is {top / whole:.0%})"
        )
        push_part = medians[0][0] + medians[1][0]
        notes.append(
            f"{label}: of the {ms(whole)} median, {ms(push_part)} ({push_part / whole:.0%}) is the"
            f" push itself up to its commit (mostly what a push costs anyway);"
            f" the notification's own path is {ms(medians[2][0])} for the worker's wake-up and"
            f" claim and {ms(medians[3][0])} to read the case, render, encrypt, sign and send"
            f" (a bare send: {ms(bare_median)}); {verdict} (medians of each part)."
        )
    slow = sum(1 for value in latency if value > 0.5)
    if slow or missing or refusals:
        notes.append(
            f"{label}: {slow} latencies over 500 ms, {missing} messages never arrived, "
            f"{len(refusals)} complete mutations not applied"
            + (f" (first: {refusals[0]})" if refusals else "")
        )
    return rows, notes


# --- (b) notifications a second --------------------------------------------------------------


async def queue_followers(
    settings: Settings, town: Town, service: FakePushService, batch: int
) -> tuple[int, dict[str, FakeSubscriber]]:
    """QUEUED browsers follow FOLLOWERS to a case: a "report received" each, in the outbox.
    Returns how many notifications were queued, and the browsers by id."""
    before = await Notification.count()
    browsers: dict[str, FakeSubscriber] = {}
    async with write_transaction():  # one commit; nothing is listening (the server is down)
        for first in range(0, QUEUED, FOLLOWERS):
            case = await factories.make_case(
                town, phone=f"919-556-{batch}{first:03d}", address=f"{first} Queue Street"
            )
            for _ in range(min(FOLLOWERS, QUEUED - first)):
                browser = service.subscriber()
                browsers[browser.id] = browser
                data = msgspec.convert(browser.as_request(), SubscriptionIn)
                await notify.follow_case(case.tracking_token, data, settings.push_services)
    return await Notification.count() - before, browsers


async def bench_drain(
    label: str,
    settings: Settings,
    town: Town,
    service: FakePushService,
    session: aiohttp.ClientSession,
    vapid: Vapid,
    workers: int,
) -> Row:
    queued, browsers = await queue_followers(settings, town, service, workers)
    start = len(service.received)
    config = DeliveryConfig.from_settings(settings)

    async def drain(worker: Worker) -> None:
        while await worker.run_once():
            pass

    async with running(config, workers) as team:
        started = time.perf_counter()
        await asyncio.gather(*(drain(worker) for worker in team))
        ours = time.perf_counter() - started
    delivered = service.received[start:]

    # the baseline: the same plaintexts to the same browsers, as many at a time
    limit = asyncio.Semaphore(WORKER_CONCURRENCY * workers)

    async def send(message: PushMessage) -> None:
        async with limit:
            await bare_send(session, vapid, browsers[message.subscriber_id], message.payload, "b")

    start = len(service.received)
    started = time.perf_counter()
    await asyncio.gather(*(send(message) for message in delivered))
    bare = time.perf_counter() - started
    bare_count = len(service.received) - start
    measure = f"(b) drain {queued} queued, {workers} worker{'s' if workers > 1 else ''}"
    extra = "" if len(delivered) == queued else f", {len(delivered)} accepted"
    print(f"  {label}: {measure}: {len(delivered)} accepted in {ours:.2f} s", flush=True)
    return (
        label,
        measure,
        str(queued),
        f"{len(delivered) / ours:,.0f}/s ({ours:.2f} s{extra})",
        f"{bare_count / bare:,.0f}/s ({bare:.2f} s, {WORKER_CONCURRENCY * workers} at a time)  "
        f"{ratio(bare_count / bare, len(delivered) / ours)}",
    )


@asynccontextmanager
async def running(config: DeliveryConfig, count: int) -> AsyncIterator[list[Worker]]:
    """`count` workers, each with its own HTTP session, as separate processes would have."""
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(Worker(config, name=f"bench-worker-{i + 1}"))
            for i in range(count)
        ]


# --- per engine ------------------------------------------------------------------------------


async def bench_engine(label: str, settings: Settings) -> tuple[list[Row], list[str]]:
    for name in ("httpx", "piccolo"):  # Litestar's default logging puts the root at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    engine = await db.connect(settings)
    try:
        await db.migrate()
        app = create_app(settings, engine=engine)
        town = await factories.make_town(app)
        vapid = load_vapid(settings)  # the app's key: the fake service takes no other
        async with (
            FakePushService(vapid_public_key=app.state.vapid_public_key) as service,
            aiohttp.ClientSession() as session,
        ):
            async with (
                factories.serving(app) as base_url,
                httpx.AsyncClient(base_url=base_url, timeout=30.0) as client,
            ):
                rows, notes = await bench_latency(label, town, client, service, session, vapid)
            # the server and its worker have stopped: the outbox is left to the workers below
            rows.append(await bench_drain(label, settings, town, service, session, vapid, 1))
            if settings.is_postgres:
                rows.append(await bench_drain(label, settings, town, service, session, vapid, 2))
    finally:
        await db.disconnect(engine)
    return rows, notes


async def bench_postgres(url: str, var_dir: Path) -> tuple[list[Row], list[str]]:
    async with ScratchDatabases(url) as databases:
        database = await databases.new(f"fieldloop_notifybench_{os.getpid()}")
        return await bench_engine("postgres", settings_for(database, var_dir / "postgres"))


def print_table(rows: list[Row]) -> None:
    width = max(len(row[1]) for row in rows) + 2
    print()
    print(f"{'engine':10}{'measure':{width}}{'n':>5}  {'fieldloop':30}baseline: bare pywebpush")
    for engine, measure, n, ours, baseline in rows:
        print(f"{engine:10}{measure:{width}}{n:>5}  {ours:30}{baseline}")


async def main() -> None:
    print(
        f"Notification benchmark: {N} work orders completed from a tablet, "
        f"{QUEUED} queued notifications drained",
        flush=True,
    )
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        var_dir = Path(scratch)
        settings = settings_for(f"sqlite:///{var_dir}/notify.sqlite3", var_dir / "sqlite")
        more, said = await bench_engine("sqlite", settings)
        rows += more
        notes += said
        if pg_url := postgres_url():
            more, said = await bench_postgres(pg_url, var_dir)
            rows += more
            notes += said
    print_table(rows)
    if notes:
        print()
        for note in notes:
            print(note)


if __name__ == "__main__":
    asyncio.run(main())
