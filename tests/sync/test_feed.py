"""sync/feed.py: a device following the change feed by cursor never skips an entry (DESIGN §4.3).

The reader here follows the cursor exactly as `sync.pull` does: in its own read snapshot,
`seq > cursor` for this crew (or everyone), by seq, a page at a time, moving the cursor to the
last seq of the page. Whatever the writers do, it must end up having seen every feed row exactly
once, in increasing order.

On PostgreSQL the writers are real concurrent transactions on their own pooled connections that
commit out of the order they started in. The negative control shows the reader *would* skip with
naive numbering (a SEQUENCE value taken when the transaction starts): the interleaving that
breaks it is driven by events, not by sleeps, so both outcomes are certain, not likely.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.activities import service as activities
from api.activities.schemas import ActivityKind
from api.cases.tables import Counter
from api.db import is_sqlite, read_snapshot, write_transaction
from api.settings import Settings
from api.workorders.tables import WorkOrder
from sync import feed
from sync.tables import Change
from tests.factories import Town, make_work_order, shared_app

PG_ONLY = (
    "PostgreSQL only: SQLite has a single writer (BEGIN IMMEDIATE), so two write transactions "
    "can never be open at once and cannot commit out of order"
)
DEADLINE = 10.0  # seconds; a scenario that hangs fails instead of stalling the suite


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


# --- the reader ------------------------------------------------------------------------------


@dataclass
class Follower:
    """One device of `crew_id` following the feed as `sync.pull` step 6 does: in one read
    snapshot, the next `page_size` entries after the cursor for this crew or for everyone (one
    more to know if there are more), by seq. The cursor moves to the page's last seq, or, with
    `to_head`, on the last page to the feed counter read in the same snapshot (past other
    crews' entries: pull.py trusts that every entry up to the counter is visible there)."""

    crew_id: int
    page_size: int = 3
    to_head: bool = False
    cursor: int = 0
    seen: list[int] = field(default_factory=list)

    async def pull_page(self) -> list[int]:
        async with read_snapshot():
            head = await feed_counter()
            rows = await (
                Change.select(Change.seq)
                .where(
                    (Change.seq > self.cursor)
                    & ((Change.crew == self.crew_id) | Change.crew.is_null())
                )
                .order_by(Change.seq)
                .limit(self.page_size + 1)
            )
        page = [row["seq"] for row in rows[: self.page_size]]
        more = len(rows) > self.page_size
        self.seen += page
        cursor = page[-1] if page and (more or not self.to_head) else self.cursor
        if self.to_head and not more:
            cursor = head
        assert cursor >= self.cursor, f"the cursor went back from {self.cursor} to {cursor}"
        self.cursor = cursor
        return page

    async def catch_up(self) -> None:
        while await self.pull_page():
            pass

    async def stored(self) -> list[int]:
        """Every feed row this crew should hear of, as the table holds them now."""
        rows = await (
            Change.select(Change.seq)
            .where((Change.crew == self.crew_id) | Change.crew.is_null())
            .order_by(Change.seq)
        )
        return [row["seq"] for row in rows]


def assert_saw_everything_once(follower: Follower, stored: list[int]) -> None:
    assert follower.seen == sorted(set(follower.seen)), "out of order or seen twice"
    missed = sorted(set(stored) - set(follower.seen))
    assert not missed, f"crew {follower.crew_id}'s reader skipped feed rows {missed}"
    assert follower.seen == stored


async def work_order_id(number: str) -> tuple[int, int]:
    row = await WorkOrder.select(WorkOrder.id, WorkOrder.case).where(WorkOrder.number == number)
    return row[0]["id"], row[0]["case"]


async def other_work(wo_id: int, case_id: int, actor_id: int, body: str) -> None:
    """What a real change does before it reaches the feed: a timeline entry, a row update."""
    await activities.record(
        case_id=case_id, work_order_id=wo_id, kind=ActivityKind.NOTE, body=body, actor_id=actor_id
    )
    await WorkOrder.update({WorkOrder.updated_at: datetime.now(UTC)}).where(WorkOrder.id == wo_id)


async def feed_counter() -> int:
    row = await Counter.select(Counter.value).where(Counter.name == feed.FEED_COUNTER).first()
    return row["value"] if row else 0


# --- what a feed write is, on both engines ---------------------------------------------------


async def test_work_order_changed_writes_one_row_per_crew_in_increasing_seq(town: Town) -> None:
    wo = await make_work_order(town, crew_id=town.crew_a)
    wo_id, _ = await work_order_id(wo.number)
    before = await feed_counter()
    async with write_transaction():
        await feed.work_order_changed(wo_id, [town.crew_b, None, town.crew_a, town.crew_b])
    rows = await Change.select().where(Change.seq > before).order_by(Change.seq)
    assert [(r["seq"], r["crew"]) for r in rows] == [
        (before + 1, min(town.crew_a, town.crew_b)),
        (before + 2, max(town.crew_a, town.crew_b)),
    ]
    assert {(r["work_order"], r["kind"]) for r in rows} == {(wo_id, "work_order")}
    assert all(r["changed_at"] is not None for r in rows)
    assert await feed_counter() == before + 2


async def test_a_work_order_without_a_crew_writes_nothing(town: Town) -> None:
    wo = await make_work_order(town)  # no crew yet: nobody's tablet holds it
    wo_id, _ = await work_order_id(wo.number)
    before = await Change.count()
    counter = await feed_counter()
    async with write_transaction():
        await feed.work_order_changed(wo_id, [None])
        await feed.work_order_changed(wo_id, [])
    assert await Change.count() == before
    assert await feed_counter() == counter


async def test_reference_changed_is_one_row_for_every_crew(town: Town) -> None:
    await make_work_order(town, crew_id=town.crew_a)
    a, b = Follower(town.crew_a), Follower(town.crew_b)
    await a.catch_up()
    await b.catch_up()
    async with write_transaction():
        await feed.reference_changed()
    [row] = await Change.select().where(Change.seq > a.cursor)
    assert (row["crew"], row["work_order"], row["kind"]) == (None, None, "reference")
    assert await a.pull_page() == [row["seq"]]
    assert await b.pull_page() == [row["seq"]]


async def test_feed_rows_roll_back_with_their_transaction(town: Town) -> None:
    wo = await make_work_order(town, crew_id=town.crew_a)
    wo_id, _ = await work_order_id(wo.number)
    counter = await feed_counter()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await feed.work_order_changed(wo_id, [town.crew_a])
            raise RuntimeError("the change failed after reaching the feed")
    assert await Change.count().where(Change.seq > counter) == 0
    assert await feed_counter() == counter  # the number goes back too: no gap, nothing unseen


# --- concurrent writers, one reader per crew -------------------------------------------------

WRITERS = 6  # + 4 readers: within the default pool of 10 connections
ROUNDS = 5


@dataclass
class Log:
    open_now: int = 0
    most_open: int = 0


async def test_concurrent_writers_never_make_a_reader_skip(db: Engine, town: Town) -> None:
    """Six writers, each on its own pooled connection, commit out of start order with random
    pauses inside their transactions (before and after taking the feed number); two readers
    per crew follow the cursor all the while (moving it to the last seq seen, or to the feed's
    head, as `sync.pull` does). Each sees its crew's every row once, in order.

    On PostgreSQL the first round also forces a bad case: all six transactions are open at
    once (a barrier) and take their feed numbers in reverse, writer 5 first, while the others
    still have work in flight. On SQLite the writers queue for the single write lock; the
    test still holds. (This test finds skips by opportunity; the event-driven pair below
    produces the skipping interleaving with certainty.)"""
    postgres = not is_sqlite(db)
    crews = [town.crew_a, town.crew_b]
    targets = []
    for i in range(WRITERS):
        wo = await make_work_order(town, crew_id=crews[i % 2])
        targets.append((*(await work_order_id(wo.number)), crews[i % 2]))
    actor_id = town.supervisor.id
    barrier = asyncio.Barrier(WRITERS)
    numbered = [asyncio.Event() for _ in range(WRITERS)]
    log = Log()
    done = asyncio.Event()

    async def writer(index: int) -> None:
        rng = random.Random(index)
        wo_id, case_id, crew = targets[index]
        other_crew = crews[(index + 1) % 2]
        for round_ in range(ROUNDS):
            async with write_transaction():
                log.open_now += 1
                log.most_open = max(log.most_open, log.open_now)
                if postgres and round_ == 0:
                    await barrier.wait()  # every writer's transaction is open
                    if index + 1 < WRITERS:
                        await numbered[index + 1].wait()  # started first, numbered last
                await asyncio.sleep(rng.uniform(0, 0.004))
                await other_work(wo_id, case_id, actor_id, f"writer {index} round {round_}")
                await asyncio.sleep(rng.uniform(0, 0.004))
                # every third change also concerns the other crew (a reassignment)
                holders = [crew, other_crew] if round_ % 3 == 2 else [crew]
                await feed.work_order_changed(wo_id, holders)
                numbered[index].set()
                await asyncio.sleep(rng.uniform(0, 0.004))  # still holding the feed number
                log.open_now -= 1

    async def reader(follower: Follower) -> None:
        while not done.is_set():
            if not await follower.pull_page():
                await asyncio.sleep(0.001)
        await follower.catch_up()  # whatever committed after the last page

    followers = [
        Follower(crew, page_size=2, to_head=to_head) for crew in crews for to_head in (False, True)
    ]
    readers = [asyncio.create_task(reader(f)) for f in followers]
    async with asyncio.timeout(DEADLINE):
        try:
            await asyncio.gather(*(writer(i) for i in range(WRITERS)))
        finally:
            done.set()
            await asyncio.gather(*readers)

    if postgres:
        assert log.most_open == WRITERS  # the overlap really happened
    for follower in followers:
        stored = await follower.stored()
        assert len(stored) >= WRITERS // 2 * ROUNDS
        assert_saw_everything_once(follower, stored)
    total = await Change.count()
    assert total == len({r["seq"] for r in await Change.select(Change.seq)})  # seqs are unique


# --- the interleaving that breaks naive numbering, driven by events (PostgreSQL) -------------

NAIVE_SEQUENCE = "naive_feed_seq"


@dataclass
class Interleaving:
    a_seq: int
    b_seq: int
    b_finished_before_a: bool  # when the reader read in between
    read_in_between: list[int]
    follower: Follower
    stored: list[int]


async def blocked_or_done(task: asyncio.Task) -> None:
    """Wait until `task` has finished or its transaction waits on a lock (PostgreSQL)."""
    sql = (
        "SELECT count(*) AS n FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while not task.done():
        if (await Change.raw(sql))[0]["n"]:
            return
        await asyncio.sleep(0.005)  # the lock table has no event to wait on


async def out_of_order_commit(town: Town, *, naive: bool, to_head: bool = False) -> Interleaving:
    """Writer A takes its feed number, then stalls before committing; writer B starts after A
    has its number, takes the next one and tries to commit straight away; the reader pulls while
    A is still open; then A commits. `naive` numbers with a SEQUENCE at transaction start,
    otherwise the real `sync.feed`."""
    crew = town.crew_a
    a_wo = await work_order_id((await make_work_order(town, crew_id=crew)).number)
    b_wo = await work_order_id((await make_work_order(town, crew_id=crew)).number)
    actor_id = town.supervisor.id
    follower = Follower(crew, to_head=to_head)
    await follower.catch_up()  # the rows creating the work orders wrote
    a_numbered, a_commit = asyncio.Event(), asyncio.Event()
    seqs: dict[str, int] = {}

    async def change(name: str, wo: tuple[int, int]) -> None:
        """One changing transaction; `seqs[name]` is the number its feed row got."""
        async with write_transaction():
            if naive:  # a number handed out at the start, before commit: DESIGN §4.3's trap
                seq = (await Change.raw(f"SELECT nextval('{NAIVE_SEQUENCE}') AS seq"))[0]["seq"]
            await other_work(*wo, actor_id, f"change {name}")
            if naive:
                await Change(
                    seq=seq, work_order=wo[0], crew=crew, changed_at=datetime.now(UTC)
                ).save()
            else:
                await feed.work_order_changed(wo[0], [crew])
                seq = await feed_counter()  # ours: we hold the counter row until commit
            seqs[name] = seq
            if name == "A":
                a_numbered.set()
                await a_commit.wait()

    async def change_b() -> None:
        await a_numbered.wait()
        await change("B", b_wo)

    if naive:
        await Change.raw(f"CREATE SEQUENCE {NAIVE_SEQUENCE} START {follower.cursor + 1}")
    try:
        async with asyncio.timeout(DEADLINE):
            a = asyncio.create_task(change("A", a_wo))
            b = asyncio.create_task(change_b())
            try:
                await a_numbered.wait()
                await blocked_or_done(b)  # B committed, or queues behind A's feed number
                b_finished_before_a = b.done()
                before = len(follower.seen)
                await follower.catch_up()  # the reader pulls while A is still open
                read_in_between = follower.seen[before:]
            finally:
                a_commit.set()
                await asyncio.gather(a, b)
            await follower.catch_up()
    finally:
        if naive:
            await Change.raw(f"DROP SEQUENCE IF EXISTS {NAIVE_SEQUENCE}")
    return Interleaving(
        a_seq=seqs["A"],
        b_seq=seqs["B"],
        b_finished_before_a=b_finished_before_a,
        read_in_between=read_in_between,
        follower=follower,
        stored=await follower.stored(),
    )


@pytest.mark.parametrize("to_head", [False, True], ids=["cursor-last-seen", "cursor-to-head"])
async def test_a_writer_committing_late_is_not_skipped(
    db: Engine, town: Town, to_head: bool
) -> None:
    if is_sqlite(db):
        pytest.skip(PG_ONLY)
    run = await out_of_order_commit(town, naive=False, to_head=to_head)
    assert not run.b_finished_before_a  # B could not number past A's uncommitted number …
    assert run.read_in_between == []  # … so the reader, reading meanwhile, saw neither
    assert run.a_seq < run.b_seq
    assert run.follower.seen[-2:] == [run.a_seq, run.b_seq]
    assert_saw_everything_once(run.follower, run.stored)


async def test_negative_control_naive_numbering_skips(db: Engine, town: Town) -> None:
    """The same interleaving with numbers taken at transaction start: B commits first, the
    reader moves its cursor past A's number, and A's row, committed later, is never seen. This
    is the failure the feed's counter lock exists to prevent, and the proof the test above
    would catch it."""
    if is_sqlite(db):
        pytest.skip(PG_ONLY)
    run = await out_of_order_commit(town, naive=True)
    assert run.b_finished_before_a
    assert run.a_seq < run.b_seq
    assert run.read_in_between == [run.b_seq]  # the cursor jumped past A's number
    assert run.a_seq in run.stored  # A's row is there …
    assert run.a_seq not in run.follower.seen  # … and the reader will never see it
    with pytest.raises(AssertionError, match="skipped feed rows"):
        assert_saw_everything_once(run.follower, run.stored)


async def test_many_changes_at_once_are_numbered_in_one_run(town: Town) -> None:
    """work_orders_changed: consecutive numbers after those taken, crewless pairs skipped."""
    crews = [town.crew_a, town.crew_b, town.crew_a]
    ids = [
        (await work_order_id((await make_work_order(town, crew_id=crew)).number))[0]
        for crew in crews
    ]
    already = await feed_counter()
    await feed.work_orders_changed([*zip(ids, crews, strict=True), (ids[0], None)])
    rows = (
        await Change.select(Change.seq, Change.work_order, Change.crew)
        .where(Change.seq > already)
        .order_by(Change.seq)
    )
    assert [row["seq"] for row in rows] == [already + 1, already + 2, already + 3]
    assert sorted((row["work_order"], row["crew"]) for row in rows) == sorted(
        zip(ids, crews, strict=True)
    )
    assert await feed_counter() == already + 3
