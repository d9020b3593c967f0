"""Sync benchmark: what a crew tablet's pull and push cost, and whether an incremental pull costs
what the changes cost rather than what the town weighs.

On a `--scale 10` demo town (FIELDLOOP_BENCH_SCALE overrides), on SQLite and on PostgreSQL, for
the demo user crew1 with a registered device, it measures:

- the feed upkeep the first pull after seeding does (archiving finished work, a feed row each),
  run once on its own so the pulls below measure pulling only;
- (a) the first full pull of the crew's scope through `sync.pull.pull`, page after page (100 a
  page) until `has_more` is false;
- (b) an empty incremental pull (nothing changed since the cursor);
- (c) an incremental pull of 100 changes: two notes added through the service to each of 50 of
  the crew's work orders;
- (d) a push of 100 `add_note` mutations through `sync.push.push`, in one request and in 100
  requests of one;
- (e) the pulls of (b) and (c) again on a town ten times bigger, in a database of its own.

Every figure has a baseline from the same run: the bare driver (stdlib sqlite3, asyncpg) running
the statements that read or write the same rows. For a pull: the same device check, upkeep
probes, `last_seen_at` update and read snapshot, with the page's work orders (with their joins),
timelines, photos and address histories fetched one statement per table per page, where
Fieldloop runs a few statements per work order; so the ratio is what the services, the
per-work-order queries and building the response cost. For a push: the same reads and writes
(device lock, work-order lock, timeline entry, feed counter and row, mutation record, device
number) in one transaction per mutation.

The ten-times town takes about eleven times as long to seed (80-95 s on SQLite, 100-125 s on
PostgreSQL at scale 100 on a 2-core machine); if the main town's seeding projects to more than
three minutes for it, the comparison uses a town ten times *smaller* instead, and says so.
PostgreSQL gets ANALYZE after seeding and after the upkeep, as autovacuum would do; the bare
upkeep is rolled back so that Fieldloop's finds the same work to archive.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api import db
from api.activities.schemas import NoteCreate
from api.auth.schemas import Principal
from api.demo import seed_town
from api.settings import Settings, load_settings
from api.workorders.schemas import FINAL_STATUSES
from api.workorders.service import record_note
from api.workorders.tables import WorkOrder
from bench import ScratchDatabases, postgres_url
from bench.api_bench import RawDriver, Row, percentile, print_table, staff
from sync import feed
from sync.devices import register_device
from sync.pull import FINISHED, Position, SyncWindow, _in_scope, pull, upkeep
from sync.push import push
from sync.schemas import DeviceRegister, MutationIn, PullRequest, PushRequest
from sync.tables import Change

SCALE = float(os.environ.get("FIELDLOOP_BENCH_SCALE", "10"))
PAGE = 100  # the pull page size a tablet asks for
CHANGES = 100
CHANGED_WORK_ORDERS = 50  # the 100 changes are two notes on each of 50 of crew1's work orders
MUTATIONS = 100
FULL_PULL_RUNS = 3
EMPTY_PULL_RUNS = 50
CHANGES_PULL_RUNS = 10
BIG_SEED_BUDGET_S = 180.0  # the ten-times town is skipped for a ten-times smaller one beyond
SEED_GROWTH = 11.5  # seeding ten times the town took 11.3x as long on SQLite, 10.9x on PostgreSQL
DEVICE = "bench-tablet-0001"
RAW_DEVICE = "bench-tablet-raw1"

COUNTER = f"'{feed.FEED_COUNTER}'"  # the feed's counter row, for the bare SQL
FINAL = ", ".join(f"'{s.value}'" for s in sorted(FINAL_STATUSES))
DONE = ", ".join(f"'{s}'" for s in FINISHED)
SCOPE_SQL = (
    f"wo.crew = ? AND (wo.status NOT IN ({FINAL}) OR (wo.status IN ({DONE})"
    " AND wo.completed_at >= ? AND wo.archived_at IS NULL))"
)
DETAIL_SQL = """
SELECT wo.*, cr.name, st.code, st.name, c.public_id, c.description, c.channel, c.status,
       c.attributes, c.citizen, ci.name, ci.phone, ci.email, ci.contact_preference,
       p.address, p.lat, p.lng, p.asset_id, p.normalized_address
FROM work_orders wo
JOIN service_types st ON st.id = wo.service_type
JOIN cases c ON c.id = wo."case"
LEFT JOIN citizens ci ON ci.id = c.citizen
LEFT JOIN crews cr ON cr.id = wo.crew
LEFT JOIN places p ON p.id = wo.place
WHERE wo.id IN ({ids})
ORDER BY wo.id
"""
TIMELINE_SQL = """
SELECT a.id, a."case", a.kind, a.body, a.data, a.public, a.occurred_at, a.recorded_at,
       a.work_order, u.display_name, w.number
FROM activities a
LEFT JOIN users u ON u.id = a.actor
LEFT JOIN work_orders w ON w.id = a.work_order
WHERE a.work_order IN ({ids})
ORDER BY a.work_order, a.occurred_at, a.id
"""
HISTORY_SQL = """
SELECT wo.id, wo.number, wo.status, wo.priority, st.code, st.name, c.public_id, wo.crew,
       cr.name, p.address, p.lat, p.lng, wo.due_at, wo.created_at, wo.updated_at,
       p.normalized_address
FROM work_orders wo
JOIN service_types st ON st.id = wo.service_type
JOIN cases c ON c.id = wo."case"
LEFT JOIN crews cr ON cr.id = wo.crew
JOIN places p ON p.id = wo.place
WHERE p.normalized_address IN ({keys})
ORDER BY wo.id DESC
"""


def marks(values: list) -> str:
    return ", ".join("?" for _ in values)


def window_for(settings: Settings) -> SyncWindow:
    return SyncWindow(
        finished=timedelta(days=settings.sync_finished_days),
        tombstones=timedelta(days=settings.sync_tombstone_days),
    )


def p50_p95(samples: list[float]) -> str:
    return f"{statistics.median(samples):.1f} / {percentile(samples, 0.95):.1f} ms"


async def timed_runs(action: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    """Milliseconds of `runs` calls after one warm-up call."""
    await action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


class RawSync(RawDriver):
    """The statements a pull and a push run, on the bare driver."""

    def ts(self, value: datetime) -> object:
        """Piccolo stores SQLite timestamps as `str(datetime)`; asyncpg takes datetimes."""
        return value if self.pg else str(value)

    @asynccontextmanager
    async def rolled_back(self) -> AsyncIterator[None]:
        """A write transaction that is always rolled back (to time writes without keeping
        them)."""
        if self.pg:
            transaction = self.pg.transaction()
            await transaction.start()
            try:
                yield
            finally:
                await transaction.rollback()
            return
        assert self.sqlite is not None
        self.sqlite.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self.sqlite.execute("ROLLBACK")

    @asynccontextmanager
    async def transaction(self, *, snapshot: bool) -> AsyncIterator[None]:
        if self.pg:
            isolation = "repeatable_read" if snapshot else "read_committed"
            async with self.pg.transaction(isolation=isolation, readonly=snapshot):
                yield
            return
        assert self.sqlite is not None
        self.sqlite.execute("BEGIN" if snapshot else "BEGIN IMMEDIATE")
        try:
            yield
            self.sqlite.execute("COMMIT")
        except BaseException:
            self.sqlite.execute("ROLLBACK")
            raise

    def locking(self, sql: str) -> str:
        return f"{sql} FOR UPDATE" if self.pg else sql

    # --- pull ---------------------------------------------------------------------------------

    async def before_snapshot(self, device_id: str, now: datetime, window: SyncWindow) -> None:
        """Step 1 and 2 of a pull, and the device's last_seen_at: each its own statement."""
        await self.fetch("SELECT * FROM devices WHERE device_id = ?", device_id)
        await self.fetch(
            f"SELECT id FROM work_orders WHERE status IN ({DONE}) AND completed_at < ?"
            " AND archived_at IS NULL",
            self.ts(now - window.finished),
        )
        await self.fetch(
            "SELECT seq FROM changes WHERE changed_at < ? LIMIT 1",
            self.ts(now - window.tombstones),
        )
        await self.fetch(
            "UPDATE devices SET last_seen_at = ? WHERE device_id = ?", self.ts(now), device_id
        )

    async def bundles(self, ids: list[int]) -> int:
        """The page's work orders with everything a crew needs offline, by table."""
        if not ids:
            return 0
        rows = await self.fetch(DETAIL_SQL.format(ids=marks(ids)), *ids)
        await self.fetch(TIMELINE_SQL.format(ids=marks(ids)), *ids)
        await self.fetch(f"SELECT * FROM photos WHERE work_order IN ({marks(ids)})", *ids)
        keys = sorted({row[-1] for row in rows if row[-1]})
        if keys:
            history = await self.fetch(HISTORY_SQL.format(keys=marks(keys)), *keys)
            for row in rows:  # earlier work at the same place, newest first, five at most
                earlier = [h for h in history if h[-1] == row[-1] and h[0] < row[0]][:5]
                assert len(earlier) <= 5
        return len(rows)

    async def full_pull(self, device_id: str, crew_id: int, window: SyncWindow) -> int:
        """Every page of a first pull; returns how many work orders it sent."""
        after_id, sent, first = 0, 0, True
        while True:
            now = datetime.now(UTC)
            await self.before_snapshot(device_id, now, window)
            async with self.transaction(snapshot=True):
                await self.fetch(
                    "SELECT last_mutation_seq FROM devices WHERE device_id = ?", device_id
                )
                await self.fetch(
                    "SELECT value FROM counters WHERE name = ?", feed.TOMBSTONE_HORIZON
                )
                start = await self.fetch(
                    "SELECT value FROM counters WHERE name = ?", feed.FEED_COUNTER
                )
                rows = await self.fetch(
                    f"SELECT wo.id FROM work_orders wo WHERE {SCOPE_SQL} AND wo.id > ?"
                    " ORDER BY wo.id LIMIT ?",
                    crew_id,
                    self.ts(now - window.finished),
                    after_id,
                    PAGE + 1,
                )
                ids = [row[0] for row in rows[:PAGE]]
                if len(rows) <= PAGE:
                    await self.fetch(
                        "SELECT EXISTS (SELECT 1 FROM changes WHERE seq > ?"
                        " AND (crew = ? OR crew IS NULL))",
                        start[0][0] if start else 0,
                        crew_id,
                    )
                sent += await self.bundles(ids)
                if first:
                    await self.fetch("SELECT * FROM service_types WHERE active ORDER BY name")
                    first = False
            if len(rows) <= PAGE:
                return sent
            after_id = ids[-1]

    async def changes_pull(
        self, device_id: str, crew_id: int, window: SyncWindow, after_seq: int
    ) -> int:
        """Every page of an incremental pull from `after_seq`; returns the work orders sent."""
        sent = 0
        while True:
            now = datetime.now(UTC)
            await self.before_snapshot(device_id, now, window)
            async with self.transaction(snapshot=True):
                await self.fetch(
                    "SELECT last_mutation_seq FROM devices WHERE device_id = ?", device_id
                )
                await self.fetch(
                    "SELECT value FROM counters WHERE name = ?", feed.TOMBSTONE_HORIZON
                )
                await self.fetch("SELECT value FROM counters WHERE name = ?", feed.FEED_COUNTER)
                changes = await self.fetch(
                    "SELECT seq, work_order, kind FROM changes WHERE seq > ?"
                    " AND (crew = ? OR crew IS NULL) ORDER BY seq LIMIT ?",
                    after_seq,
                    crew_id,
                    PAGE + 1,
                )
                page = changes[:PAGE]
                touched = sorted({c[1] for c in page if c[1] is not None}) or [0]
                in_scope = [
                    row[0]
                    for row in await self.fetch(
                        f"SELECT wo.id FROM work_orders wo WHERE {SCOPE_SQL}"
                        f" AND wo.id IN ({marks(touched)})",
                        crew_id,
                        self.ts(now - window.finished),
                        *touched,
                    )
                ]
                removed = [i for i in touched if i not in set(in_scope)] or [0]
                await self.fetch(
                    f"SELECT number FROM work_orders WHERE id IN ({marks(removed)})", *removed
                )
                sent += await self.bundles(sorted(in_scope))
            if len(changes) <= PAGE:
                return sent
            after_seq = page[-1][0]

    # --- push ---------------------------------------------------------------------------------

    async def push_note(
        self, device_id: str, user: Principal, seq: int, mutation_id: str, number: str, body: str
    ) -> None:
        """One add_note mutation: one transaction, the statements `sync.push.apply_one` and
        `record_note` run."""
        now = datetime.now(UTC)
        async with self.transaction(snapshot=False):
            device = (
                await self.fetch(
                    self.locking("SELECT id, last_mutation_seq FROM devices WHERE device_id = ?"),
                    device_id,
                )
            )[0]
            assert device[1] + 1 == seq, (device, seq)
            await self.fetch("SELECT 1 FROM mutations WHERE mutation_id = ? LIMIT 1", mutation_id)
            await self.fetch("SELECT * FROM work_orders WHERE number = ?", number)
            await self.fetch("SAVEPOINT mutation")
            row = (
                await self.fetch(
                    self.locking('SELECT id, "case", crew FROM work_orders WHERE number = ?'),
                    number,
                )
            )[0]
            await self.fetch(
                'INSERT INTO activities ("case", work_order, kind, body, data, actor, public,'
                " occurred_at, recorded_at) VALUES (?, ?, 'note', ?, '{}', ?, ?, ?, ?)",
                row[1],
                row[0],
                body,
                user.id,
                False,
                self.ts(now),
                self.ts(now),
            )
            await self.fetch(
                "UPDATE work_orders SET updated_at = ? WHERE id = ?", self.ts(now), row[0]
            )
            await self.fetch(
                f"INSERT INTO counters (name, value) VALUES ({COUNTER}, 0)"
                " ON CONFLICT (name) DO NOTHING"
            )
            feed_seq = (
                await self.fetch(
                    f"UPDATE counters SET value = value + 1 WHERE name = {COUNTER} RETURNING value"
                )
            )[0][0]
            await self.fetch(
                "INSERT INTO changes (seq, work_order, crew, kind, changed_at)"
                " VALUES (?, ?, ?, 'work_order', ?)",
                feed_seq,
                row[0],
                row[2],
                self.ts(now),
            )
            await self.fetch("RELEASE SAVEPOINT mutation")
            result = {"seq": seq, "id": mutation_id, "status": "applied", "work_order": number}
            await self.fetch(
                "INSERT INTO mutations (device, seq, mutation_id, name, args, status, result,"
                " received_at) VALUES (?, ?, ?, 'add_note', ?, 'applied', ?, ?)",
                device[0],
                seq,
                mutation_id,
                json.dumps({"work_order": number, "body": body}),
                json.dumps(result),
                self.ts(now),
            )
            await self.fetch(
                "UPDATE devices SET last_mutation_seq = ?, last_seen_at = ? WHERE id = ?",
                seq,
                self.ts(now),
                device[0],
            )


@dataclass
class Town:
    """A seeded, connected town with crew1's device registered and the feed upkeep done."""

    label: str
    window: SyncWindow
    crew: Principal
    raw: RawSync
    seed_s: float


async def open_town(label: str, settings: Settings, scale: float) -> tuple[Town, list[Row]]:
    """Connect, migrate, seed and run the first upkeep; the caller disconnects."""
    await db.connect(settings)
    await db.migrate()
    started = time.perf_counter()
    summary = await seed_town(scale=scale)
    seed_s = time.perf_counter() - started
    print(
        f"  {label}: seeded scale {scale:g} in {seed_s:.1f} s ({summary.counts['cases']:,} cases,"
        f" {summary.counts['work orders']:,} work orders)",
        flush=True,
    )
    _, _, crew = await staff()
    for device_id in (DEVICE, RAW_DEVICE):
        await register_device(crew, DeviceRegister(device_id=device_id, name="bench"))
    raw = RawSync(settings)
    await raw.open()
    town = Town(label, window_for(settings), crew, raw, seed_s)
    await analyze(town)
    rows = [await bench_upkeep(town)]
    await analyze(town)
    return town, rows


async def analyze(town: Town) -> None:
    """PostgreSQL: fresh planner statistics, as autovacuum would gather them after a bulk load
    (without them, plans for the ten-times town are several times slower; SQLite keeps none
    unless told to, and Fieldloop never tells it)."""
    if town.raw.pg:
        await town.raw.pg.execute("ANALYZE")


async def close_town(town: Town) -> None:
    await town.raw.close()
    await db.disconnect(db.current_engine())


def ratio(ours: float, bare: float) -> str:
    return f"(fieldloop takes {ours / bare:.1f}x)"


async def bench_upkeep(town: Town) -> Row:
    """The first pull after seeding archives every finished work order past the window, a feed
    row each. Baseline: the same rows written by three set-based statements (rolled back)."""
    now = datetime.now(UTC)
    cutoff = now - town.window.finished
    stale = WorkOrder.status.is_in(FINISHED) & (WorkOrder.completed_at < cutoff)
    count = await WorkOrder.count().where(stale & WorkOrder.archived_at.is_null())
    raw = town.raw
    async with raw.rolled_back():
        started = time.perf_counter()
        archived = await raw.fetch(
            f"UPDATE work_orders SET archived_at = ? WHERE status IN ({DONE})"
            " AND completed_at < ? AND archived_at IS NULL RETURNING id, crew",
            raw.ts(now),
            raw.ts(cutoff),
        )
        held = sum(1 for row in archived if row[1] is not None)
        await raw.fetch(
            f"INSERT INTO counters (name, value) VALUES ({COUNTER}, 0)"
            " ON CONFLICT (name) DO NOTHING"
        )
        last = (
            await raw.fetch(
                f"UPDATE counters SET value = value + ? WHERE name = {COUNTER} RETURNING value",
                held,
            )
        )[0][0]
        await raw.fetch(
            "INSERT INTO changes (seq, work_order, crew, kind, changed_at)"
            " SELECT ? + w.rn, w.id, w.crew, 'work_order', ? FROM (SELECT id, crew,"
            " ROW_NUMBER() OVER (ORDER BY id) AS rn FROM work_orders"
            " WHERE archived_at = ? AND crew IS NOT NULL) AS w",
            last - held,
            raw.ts(now),
            raw.ts(now),
        )
        bare = time.perf_counter() - started
    started = time.perf_counter()
    await upkeep(now, town.window)
    ours = time.perf_counter() - started
    return (
        town.label,
        f"first upkeep after seeding: archive {count:,} work orders",
        f"{ours * 1000:,.0f} ms (feed entries in one numbered batch)",
        f"{bare * 1000:,.0f} ms, set-based  {ratio(ours, bare)}",
    )


async def fieldloop_pull(town: Town, cursor: str | None) -> tuple[int, int, str | None]:
    """Pull every page from `cursor`: (work orders sent, pages, the cursor to carry on from)."""
    sent = pages = 0
    while True:
        page = await pull(
            town.crew, PullRequest(device_id=DEVICE, cursor=cursor, limit=PAGE), town.window
        )
        pages += 1
        sent += len(page.work_orders)
        cursor = page.cursor
        if not page.has_more:
            return sent, pages, cursor


async def bench_full_pull(town: Town) -> tuple[Row, str]:
    """(a): the first pull of crew1's whole scope; returns the row and the final cursor."""
    crew_id = town.crew.crew_id or 0
    ours, bare = [], []
    sent = pages = raw_sent = 0
    cursor: str | None = None
    for _ in range(FULL_PULL_RUNS):
        started = time.perf_counter()
        sent, pages, cursor = await fieldloop_pull(town, None)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        raw_sent = await town.raw.full_pull(RAW_DEVICE, crew_id, town.window)
        bare.append(time.perf_counter() - started)
    assert raw_sent == sent, (raw_sent, sent)
    assert cursor is not None
    mine, base = statistics.median(ours), statistics.median(bare)
    row = (
        town.label,
        f"(a) first full pull: {sent} work orders, {pages} page{'s' if pages > 1 else ''}",
        f"{mine * 1000:,.0f} ms ({mine * 1000 / max(sent, 1):.2f} ms a work order)",
        f"{base * 1000:,.0f} ms  {ratio(mine, base)}",
    )
    return row, cursor


@dataclass(frozen=True)
class PullTimes:
    ours: list[float]
    bare: list[float]
    sent: int


async def time_incremental(town: Town, cursor: str, runs: int) -> PullTimes:
    """The incremental pull from `cursor`, repeated (a pull only reads, bar last_seen_at)."""
    position = Position.decode(cursor)
    assert position is not None and not position.full
    sent, _, _ = await fieldloop_pull(town, cursor)
    raw_sent = await town.raw.changes_pull(
        RAW_DEVICE, town.crew.crew_id or 0, town.window, position.seq
    )
    assert raw_sent == sent, (raw_sent, sent)
    ours = await timed_runs(lambda: fieldloop_pull(town, cursor), runs)
    bare = await timed_runs(
        lambda: town.raw.changes_pull(
            RAW_DEVICE, town.crew.crew_id or 0, town.window, position.seq
        ),
        runs,
    )
    return PullTimes(ours, bare, sent)


async def crew_work(town: Town, count: int) -> list[str]:
    """`count` numbers of crew1's work in scope: `CHANGED_WORK_ORDERS` of them (or as many as
    it has), round and round."""
    rows = await (
        WorkOrder.select(WorkOrder.number)
        .where(_in_scope(town.crew.crew_id or 0, datetime.now(UTC) - town.window.finished))
        .order_by(WorkOrder.id)
        .limit(CHANGED_WORK_ORDERS)
    )
    numbers = [row["number"] for row in rows]
    return [numbers[i % len(numbers)] for i in range(count)]


async def feed_position(town: Town) -> str:
    """The cursor of crew1's device that has seen the whole feed so far."""
    last = await Change.select(Change.seq).order_by(Change.seq, ascending=False).first()
    return Position(False, last["seq"] if last else 0, crew=town.crew.crew_id or 0).encode()


async def make_changes(town: Town) -> str:
    """(c): 100 notes on crew1's work through the service; returns the cursor before them."""
    cursor = await feed_position(town)
    for i, number in enumerate(await crew_work(town, CHANGES)):
        await record_note(town.crew, number, NoteCreate(body=f"Bench change {i}"))
    return cursor


def pull_row(town: Town, measure: str, times: PullTimes, main: PullTimes | None = None) -> Row:
    """A pull's p50 / p95 beside the bare driver's; with `main`, also against the main town."""
    mine, base = statistics.median(times.ours), statistics.median(times.bare)
    versus = ""
    if main is not None and main.sent != times.sent:
        versus = f"; scale {SCALE:g}: {main.sent} work orders"
    elif main is not None:
        versus = f"; {mine / statistics.median(main.ours):.2f}x scale {SCALE:g}'s"
    return (
        town.label,
        measure,
        f"{p50_p95(times.ours)}{versus}",
        f"{p50_p95(times.bare)}  {ratio(mine, base)}",
    )


async def bench_push(town: Town, numbers: list[str]) -> list[Row]:
    """(d): 100 add_note mutations in one push, in 100 pushes of one, and on the bare driver."""

    def mutation(seq: int, tag: str) -> MutationIn:
        args = {"work_order": numbers[seq % len(numbers)], "body": f"Pushed note {seq}"}
        return MutationIn(seq=seq, id=f"bench-{tag}-{seq:06d}", name="add_note", args=args)

    started = time.perf_counter()
    response = await push(
        town.crew,
        PushRequest(
            device_id=DEVICE, mutations=[mutation(s, "b") for s in range(1, MUTATIONS + 1)]
        ),
    )
    batch = time.perf_counter() - started
    assert [r.status for r in response.results] == ["applied"] * MUTATIONS
    started = time.perf_counter()
    for seq in range(MUTATIONS + 1, 2 * MUTATIONS + 1):
        response = await push(
            town.crew, PushRequest(device_id=DEVICE, mutations=[mutation(seq, "s")])
        )
        assert response.results[0].status == "applied"
    single = time.perf_counter() - started
    started = time.perf_counter()
    for seq in range(1, MUTATIONS + 1):
        m = mutation(seq, "r")
        await town.raw.push_note(
            RAW_DEVICE, town.crew, seq, m.id, m.args["work_order"], m.args["body"]
        )
        await town.raw.fetch("SELECT * FROM devices WHERE device_id = ?", RAW_DEVICE)
    bare = time.perf_counter() - started

    def each(total: float) -> str:
        return f"{total * 1000:,.0f} ms, {total * 1000 / MUTATIONS:.1f} ms a mutation"

    return [
        (
            town.label,
            "(d) push 100 add_note: one request",
            each(batch),
            f"{each(bare)}  {ratio(batch, bare)}",
        ),
        (
            town.label,
            "(d) push 100 add_note: 100 requests of one",
            each(single),
            f"{each(bare)}  {ratio(single, bare)}",
        ),
    ]


async def bench_main_town(
    label: str, settings: Settings
) -> tuple[list[Row], float, PullTimes, PullTimes]:
    """(a) to (d) on the main town; returns the rows, the seeding time and the (b) and (c)
    timings for (e) to compare with."""
    town, rows = await open_town(label, settings, SCALE)
    try:
        row, cursor = await bench_full_pull(town)
        rows.append(row)
        empty = await time_incremental(town, cursor, EMPTY_PULL_RUNS)
        assert empty.sent == 0
        rows.append(pull_row(town, "(b) empty incremental pull, p50 / p95", empty))
        changes = await time_incremental(town, await make_changes(town), CHANGES_PULL_RUNS)
        measure = f"(c) pull of {CHANGES} changes to {changes.sent} work orders, p50 / p95"
        rows.append(pull_row(town, measure, changes))
        rows += await bench_push(town, await crew_work(town, MUTATIONS))
    finally:
        await close_town(town)
    return rows, town.seed_s, empty, changes


async def bench_other_town(
    label: str, settings: Settings, scale: float, main_empty: PullTimes, main_changes: PullTimes
) -> list[Row]:
    """(e): the pulls of (b) and (c) on a town of another size, in a database of its own."""
    town, rows = await open_town(label, settings, scale)
    try:
        empty = await time_incremental(town, await feed_position(town), EMPTY_PULL_RUNS)
        rows.append(
            pull_row(
                town, f"(e) scale {scale:g}: empty incremental pull, p50 / p95", empty, main_empty
            )
        )
        changes = await time_incremental(town, await make_changes(town), CHANGES_PULL_RUNS)
        measure = f"(e) scale {scale:g}: pull of {CHANGES} changes to {changes.sent} work orders"
        rows.append(pull_row(town, measure, changes, main_changes))
    finally:
        await close_town(town)
    return rows


def other_scale(seed_s: float) -> tuple[float, str]:
    """Ten times the town if seeding it fits the budget, else a tenth of it."""
    projected = seed_s * SEED_GROWTH
    if projected <= BIG_SEED_BUDGET_S:
        return SCALE * 10, f"seeding scale {SCALE * 10:g} projects to {projected:.0f} s"
    return SCALE / 10, (
        f"seeding scale {SCALE * 10:g} projects to {projected:.0f} s, over "
        f"{BIG_SEED_BUDGET_S:.0f} s: comparing with scale {SCALE / 10:g} instead"
    )


async def bench_engine(label: str, new_database: Callable[[str], Awaitable[Settings]]) -> list[Row]:
    rows, seed_s, empty, changes = await bench_main_town(label, await new_database("main"))
    scale, why = other_scale(seed_s)
    print(f"  {label}: {why}", flush=True)
    rows += await bench_other_town(label, await new_database("other"), scale, empty, changes)
    return rows


async def bench_postgres(url: str, var_dir: Path) -> list[Row]:
    async with ScratchDatabases(url) as databases:

        async def new_database(tag: str) -> Settings:
            name = f"fieldloop_syncbench_{os.getpid()}_{tag}"
            return load_settings(
                {
                    "FIELDLOOP_DATABASE_URL": await databases.new(name),
                    "FIELDLOOP_VAR_DIR": str(var_dir),
                }
            )

        return await bench_engine("postgres", new_database)


async def main() -> None:
    print(f"Sync benchmark: a --scale {SCALE:g} demo town, demo user crew1", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        var_dir = Path(scratch)

        async def new_sqlite(tag: str) -> Settings:
            return load_settings(
                {
                    "FIELDLOOP_DATABASE_URL": f"sqlite:///{var_dir}/sync-{tag}.sqlite3",
                    "FIELDLOOP_VAR_DIR": str(var_dir),
                }
            )

        rows += await bench_engine("sqlite", new_sqlite)
        if pg_url := postgres_url():
            rows += await bench_postgres(pg_url, var_dir)
    print_table(rows)


if __name__ == "__main__":
    asyncio.run(main())
