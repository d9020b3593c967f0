"""Pull: a crew tablet fetches its offline scope, by cursor, in pages (docs/sync-protocol.md).

The steps, numbered as in the protocol document:

1. The device must be the user's own and not revoked.
2. Feed upkeep, before the snapshot and only when there is work: finished work older than the
   window is archived (a feed entry tells its crew to drop it), and feed entries older than the
   tombstone retention are pruned, raising the horizon.
3. One read snapshot for the whole page.
4. The cursor: none → a full pull from the start; `v2.f.<crew>.<S>.<id>` → a full pull
   continuing after work order <id>, the feed position fixed at S when it started;
   `v2.c.<crew>.<seq>` → changes after <seq>. A position below the horizon answers `reset`,
   and so does one beyond the feed's head (a database restored from a backup: the tablet
   knows newer changes), and one walking another crew's scope than the user's now (the user
   was moved to another crew). Cursors of the older form `v1.…` carry no crew and are read
   as before.
5. Full pull: the next `limit` work orders in scope, by id. When they run out, the cursor
   becomes `v1.c.<S>`: changes made meanwhile come from the feed, none are lost.
6. Changes: the next `limit` feed entries for this crew (or for everyone); each work order
   they name is sent whole if it is in scope now, or listed as removed if not. The last page
   moves the cursor to the feed's head, past other crews' entries too.
7. Reference data (service types, resolution codes) with the first page of a full pull and
   whenever the feed says it changed.

Scope: the crew's work that is not final, and its completed or cannot-complete work finished
within the window and not archived. Pages are idempotent: applying one twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.auth.schemas import Principal
from api.cases.tables import Counter
from api.catalog.service import list_service_types
from api.db import read_snapshot, write_transaction
from api.errors import InputInvalidError
from api.workorders.queries import list_item, list_query
from api.workorders.schemas import FINAL_STATUSES, RESOLUTION_CODES, WorkOrderStatus
from api.workorders.service import get_work_order
from api.workorders.tables import WorkOrder
from media.service import photos_for
from sync import feed
from sync.devices import device_for_sync
from sync.schemas import PullRequest, PullResponse, ReferenceData, WorkOrderBundle
from sync.tables import Change, Device

S = WorkOrderStatus
FINISHED = [S.COMPLETED.value, S.CANNOT_COMPLETE.value]
HISTORY_LENGTH = 5
MAX_SEQ = 2**63 - 1  # feed sequence numbers are BIGINT
MAX_ID = 2**31 - 1  # work-order ids are INTEGER


@dataclass(frozen=True)
class SyncWindow:
    finished: timedelta  # finished work stays on tablets this long
    tombstones: timedelta  # removals are kept this long for tablets that were offline


@dataclass(frozen=True)
class Position:
    full: bool
    seq: int  # S for a full pull, the last seq seen for changes
    after_id: int = 0
    crew: int | None = None  # whose scope the cursor walks; None in the older v1 cursors

    def encode(self) -> str:
        kind = "f" if self.full else "c"
        head = f"v1.{kind}" if self.crew is None else f"v2.{kind}.{self.crew}"
        return f"{head}.{self.seq}.{self.after_id}" if self.full else f"{head}.{self.seq}"

    @staticmethod
    def decode(cursor: str | None) -> Position | None:
        if not cursor:
            return None
        parts = cursor.split(".")
        numbers = [int(part) for part in parts[2:] if part.isdigit()]
        # bounded: a number past the columns' range is a 422, never a database error
        if len(numbers) == len(parts) - 2 and all(n <= MAX_SEQ for n in numbers):
            kind, crew = parts[:2], None
            if kind[0] == "v2" and numbers and numbers[0] <= MAX_ID:
                kind, crew, numbers = ["v1", kind[1]], numbers[0], numbers[1:]
            if kind == ["v1", "f"] and len(numbers) == 2 and numbers[1] <= MAX_ID:
                return Position(True, numbers[0], numbers[1], crew)
            if kind == ["v1", "c"] and len(numbers) == 1:
                return Position(False, numbers[0], crew=crew)
        raise InputInvalidError("not a cursor this server issued", field="cursor")


def _in_scope(crew_id: int, cutoff: datetime):
    finished_recently = (
        WorkOrder.status.is_in(FINISHED)
        & (WorkOrder.completed_at >= cutoff)
        & WorkOrder.archived_at.is_null()
    )
    return (WorkOrder.crew == crew_id) & (
        WorkOrder.status.not_in([s.value for s in FINAL_STATUSES]) | finished_recently
    )


async def upkeep(now: datetime, window: SyncWindow) -> None:
    """Step 2: archive work finished before the window; prune tombstones past retention."""
    cutoff = now - window.finished
    stale = WorkOrder.status.is_in(FINISHED) & (WorkOrder.completed_at < cutoff)
    to_archive = await WorkOrder.select(WorkOrder.id).where(stale & WorkOrder.archived_at.is_null())
    prune_before = now - window.tombstones
    old = await Change.select(Change.seq).where(Change.changed_at < prune_before).limit(1)
    if not to_archive and not old:
        return
    async with write_transaction():
        archived = await (
            WorkOrder.update({WorkOrder.archived_at: now})
            .where(stale & WorkOrder.archived_at.is_null())
            .returning(WorkOrder.id, WorkOrder.crew)
        )
        if old:
            newest_old = (
                await Change.select(Change.seq)
                .where(Change.changed_at < prune_before)
                .order_by(Change.seq, ascending=False)
                .first()
            )
            await Change.delete().where(Change.seq <= newest_old["seq"])
            await Counter.insert(Counter(name=feed.TOMBSTONE_HORIZON, value=0)).on_conflict(
                target=Counter.name, action="DO NOTHING"
            )
            await Counter.update({Counter.value: newest_old["seq"]}).where(
                (Counter.name == feed.TOMBSTONE_HORIZON) & (Counter.value < newest_old["seq"])
            )
        # feed last: it takes the feed lock (sync.feed); one statement for the whole backlog
        await feed.work_orders_changed((row["id"], row["crew"]) for row in archived)


async def _counter(name: str) -> int:
    row = await Counter.select(Counter.value).where(Counter.name == name).first()
    return row["value"] if row else 0


async def _bundles(actor: Principal, ids: list[int]) -> list[WorkOrderBundle]:
    if not ids:
        return []
    rows = (
        await WorkOrder.select(WorkOrder.id, WorkOrder.number, WorkOrder.place.normalized_address)
        .where(WorkOrder.id.is_in(ids))
        .order_by(WorkOrder.id)
    )
    photos = await photos_for(ids)
    now = datetime.now(UTC)
    bundles = []
    for row in rows:
        history = []
        if row["place.normalized_address"]:
            earlier = await (
                list_query()
                .where(
                    (WorkOrder.place.normalized_address == row["place.normalized_address"])
                    & (WorkOrder.id < row["id"])
                )
                .order_by(WorkOrder.id, ascending=False)
                .limit(HISTORY_LENGTH)
            )
            history = [list_item(item, now) for item in earlier]
        bundles.append(
            WorkOrderBundle(
                work_order=await get_work_order(actor, row["number"]),
                photos=photos.get(row["id"], []),
                history=history,
            )
        )
    return bundles


async def _reference(actor: Principal) -> ReferenceData:
    return ReferenceData(
        service_types=await list_service_types(actor),
        resolution_codes={status.value: codes for status, codes in RESOLUTION_CODES.items()},
    )


OFFLINE_TOO_LONG = (
    "this tablet was offline longer than the server keeps removals: push everything pending, "
    "then discard local work orders and pull from the start"
)
CREW_CHANGED = (
    "this tablet's user now works for another crew: push everything pending, then discard "
    "local work orders and pull from the start"
)
AHEAD_OF_FEED = (
    "this cursor is ahead of the server's change feed (was the database restored from a "
    "backup?): push everything pending, then discard local work orders and pull from the start"
)


def _reset(device: dict, now: datetime, reason: str) -> PullResponse:
    return PullResponse(
        cursor=None,
        has_more=False,
        reset=True,
        last_mutation_seq=device["last_mutation_seq"],
        work_orders=[],
        removed=[],
        reference=None,
        server_time=now,
        reason=reason,
    )


async def pull(actor: Principal, request: PullRequest, window: SyncWindow) -> PullResponse:
    now = datetime.now(UTC)
    await device_for_sync(actor, request.device_id, lock=False)  # 1
    crew_id = actor.crew_id or 0
    await upkeep(now, window)  # 2
    await Device.update({Device.last_seen_at: now}).where(Device.device_id == request.device_id)
    position = Position.decode(request.cursor)
    async with read_snapshot():  # 3
        device = (
            await Device.select(Device.last_mutation_seq)
            .where(Device.device_id == request.device_id)
            .first()
        )
        horizon = await _counter(feed.TOMBSTONE_HORIZON)
        # every feed entry up to `head` is committed and visible in this snapshot: the
        # counter row's lock serialises feed writers (sync.feed)
        head = await _counter(feed.FEED_COUNTER)
        if position is not None and position.seq < horizon:  # 4
            return _reset(device, now, OFFLINE_TOO_LONG)
        if position is not None and position.seq > head:
            return _reset(device, now, AHEAD_OF_FEED)
        if position is not None and position.crew is not None and position.crew != crew_id:
            return _reset(device, now, CREW_CHANGED)
        if position is None or position.full:  # 5
            start = position or Position(True, head, 0, crew_id)
            rows = await (
                WorkOrder.select(WorkOrder.id)
                .where(_in_scope(crew_id, now - window.finished) & (WorkOrder.id > start.after_id))
                .order_by(WorkOrder.id)
                .limit(request.limit + 1)
            )
            ids = [row["id"] for row in rows[: request.limit]]
            if len(rows) > request.limit:
                next_position = Position(True, start.seq, ids[-1], crew_id)
                has_more = True
            else:
                next_position = Position(False, start.seq, crew=crew_id)
                has_more = await Change.exists().where(
                    (Change.seq > start.seq) & ((Change.crew == crew_id) | Change.crew.is_null())
                )
            return PullResponse(
                cursor=next_position.encode(),
                has_more=has_more,
                reset=False,
                last_mutation_seq=device["last_mutation_seq"],
                work_orders=await _bundles(actor, ids),
                removed=[],
                reference=await _reference(actor) if position is None else None,
                server_time=now,
            )
        changes = await (  # 6
            Change.select(Change.seq, Change.work_order, Change.kind)
            .where((Change.seq > position.seq) & ((Change.crew == crew_id) | Change.crew.is_null()))
            .order_by(Change.seq)
            .limit(request.limit + 1)
        )
        page = changes[: request.limit]
        touched = sorted({c["work_order"] for c in page if c["work_order"] is not None})
        in_scope = {
            row["id"]
            for row in await WorkOrder.select(WorkOrder.id).where(
                _in_scope(crew_id, now - window.finished) & WorkOrder.id.is_in(touched or [0])
            )
        }
        removed_ids = [i for i in touched if i not in in_scope]
        removed = [
            row["number"]
            for row in await WorkOrder.select(WorkOrder.number).where(
                WorkOrder.id.is_in(removed_ids or [0])
            )
        ]
        has_more = len(changes) > request.limit
        # On the last page this crew has seen the whole feed up to `head`, its own entries and
        # everyone else's: the cursor moves there, so a crew whose work was quiet while others'
        # was busy is not taken for a tablet that was offline when old entries are pruned.
        return PullResponse(
            cursor=Position(False, page[-1]["seq"] if has_more else head, crew=crew_id).encode(),
            has_more=has_more,
            reset=False,
            last_mutation_seq=device["last_mutation_seq"],
            work_orders=await _bundles(actor, sorted(in_scope)),
            removed=sorted(removed),
            reference=await _reference(actor)
            if any(c["kind"] == "reference" for c in page)
            else None,
            server_time=now,
        )
