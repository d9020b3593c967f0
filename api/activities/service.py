"""Writing and reading the append-only timeline.

Entries are only ever inserted. `record` is called inside the caller's write transaction, so a
state change and the entry that explains it commit together or not at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from api.activities.schemas import ActivityKind, ActivityOut
from api.activities.tables import Activity
from api.errors import InputInvalidError

# a field clock may be off; an entry claiming to happen later than this after the server
# received it is refused rather than recorded with an impossible time
_FUTURE_TOLERANCE = timedelta(minutes=5)


def field_time(occurred_at: datetime | None, now: datetime) -> datetime:
    """When something happened, by the client's clock when it says so (aware, not future)."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise InputInvalidError(
            "occurred_at needs a time zone (ISO 8601 with Z or an offset)", field="occurred_at"
        )
    try:
        occurred_at = occurred_at.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the first representable instant
        raise InputInvalidError("occurred_at is out of range", field="occurred_at") from None
    if occurred_at > now + _FUTURE_TOLERANCE:
        raise InputInvalidError("occurred_at is in the future", field="occurred_at")
    return occurred_at


async def record(
    *,
    case_id: int,
    kind: ActivityKind,
    body: str = "",
    actor_id: int | None = None,
    work_order_id: int | None = None,
    public: bool = False,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> int:
    now = datetime.now(UTC)
    row = Activity(
        case=case_id,
        work_order=work_order_id,
        kind=kind.value,
        body=body,
        data=data or {},
        actor=actor_id,
        public=public,
        occurred_at=occurred_at or now,
        recorded_at=now,
    )
    await row.save()
    return row.id


def _out(row: dict) -> ActivityOut:
    data = row["data"]
    return ActivityOut(
        id=row["id"],
        kind=ActivityKind(row["kind"]),
        body=row["body"],
        data=json.loads(data) if isinstance(data, str) else data,
        public=row["public"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        actor=row["actor.display_name"],
        work_order=row["work_order.number"],
    )


async def timeline(
    *,
    case_ids: list[int] | None = None,
    work_order_id: int | None = None,
    public_only: bool = False,
) -> dict[int, list[ActivityOut]]:
    """Entries grouped by case id, oldest first: of these cases, or of one work order."""
    query = Activity.select(
        *Activity.all_columns(exclude=["actor", "work_order"]),
        Activity.actor.display_name,
        Activity.work_order.number,
    )
    if work_order_id is not None:
        query = query.where(Activity.work_order == work_order_id)
    elif case_ids:
        query = query.where(Activity.case.is_in(case_ids))
    else:
        return {}
    if public_only:
        query = query.where(Activity.public.eq(True))
    grouped: dict[int, list[ActivityOut]] = {}
    for row in await query.order_by(Activity.occurred_at).order_by(Activity.id):
        grouped.setdefault(row["case"], []).append(_out(row))
    return grouped
