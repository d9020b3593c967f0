"""Writing the change feed: "work order N changed for crew C", in the changing transaction.

The feed never carries data, only what changed and for whom; a pull reads the current rows in
its own snapshot. Sequence numbers come from one counter row (`next_number(FEED_COUNTER)`),
whose row lock each writer holds until it commits. So a writer can only take number N+1 after
the writer holding N has committed: sequence order is commit order, on PostgreSQL as on
SQLite, and a reader that has seen N+1 has seen everything up to it (DESIGN §4.3).

Call these LAST in a write transaction, after every row lock the transaction takes, so all
writers take locks in the same order (rows, then the feed counter) and never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from api.cases.service import next_number
from api.cases.tables import Counter
from sync.tables import Change

FEED_COUNTER = "change-feed"
TOMBSTONE_HORIZON = "change-feed-horizon"  # highest seq pruned from the feed


async def work_order_changed(work_order_id: int, crew_ids: Iterable[int | None]) -> None:
    """Tell every crew in `crew_ids` (the holder before and after) that the work changed."""
    now = datetime.now(UTC)
    for crew_id in sorted({crew for crew in crew_ids if crew is not None}):
        seq = await next_number(FEED_COUNTER)
        await Change(seq=seq, work_order=work_order_id, crew=crew_id, changed_at=now).save()


async def work_orders_changed(pairs: Iterable[tuple[int, int | None]]) -> None:
    """Many (work order, crew) entries at once, numbered with one counter update: archiving a
    backlog of finished work must not hold the feed lock for a row-by-row loop."""
    rows = sorted({(work_order, crew) for work_order, crew in pairs if crew is not None})
    if not rows:
        return
    await Counter.insert(Counter(name=FEED_COUNTER, value=0)).on_conflict(
        target=Counter.name, action="DO NOTHING"
    )
    [taken] = await (
        Counter.update({Counter.value: Counter.value + len(rows)})
        .where(Counter.name == FEED_COUNTER)
        .returning(Counter.value)
    )
    first, now = taken["value"] - len(rows) + 1, datetime.now(UTC)
    for start in range(0, len(rows), 1000):  # SQLite bounds the variables in one statement
        await Change.insert(
            *(
                Change(seq=first + start + i, work_order=work_order, crew=crew, changed_at=now)
                for i, (work_order, crew) in enumerate(rows[start : start + 1000])
            )
        )


async def reference_changed() -> None:
    """Service types or resolution codes changed: every device refetches reference data."""
    seq = await next_number(FEED_COUNTER)
    await Change(seq=seq, kind="reference", changed_at=datetime.now(UTC)).save()
