"""Activity rows: the shared, append-only story of a case and its work orders.

Every entry belongs to a case (so the case timeline shows its work orders' entries too) and
optionally to one work order. `occurred_at` is when it happened by the clock of whoever did it
(a tablet may be hours offline); `recorded_at` is when the server stored it. `public` entries may
be shown to the citizen; the rest are internal.
"""

from piccolo.columns import JSON, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.cases.tables import Case
from api.workorders.tables import WorkOrder


class Activity(Table, tablename="activities"):
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, null=False, index=True)
    work_order = ForeignKey(
        references=WorkOrder, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    kind = Varchar(length=24)  # see activities.schemas.ActivityKind
    body = Text(default="")
    data = JSON(default={})
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    public = Boolean(default=False)
    occurred_at = Timestamptz()
    recorded_at = Timestamptz(index=True)
