"""The work order: the unit a crew receives, works offline and completes.

It keeps its own place (a crew may correct where the work really is) and records completion
twice over: `completed_at` is when the server learned of it, `field_completed_at` when the crew
says it happened (their clock, kept for the record).
"""

from piccolo.columns import ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.cases.tables import Case
from api.catalog.tables import ServiceType
from api.citizens.tables import Place
from api.crews.tables import Crew


class WorkOrder(Table, tablename="work_orders"):
    number = Varchar(length=20, unique=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, null=False, index=True)
    service_type = ForeignKey(references=ServiceType, on_delete=OnDelete.restrict, null=False)
    place = ForeignKey(
        references=Place, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    crew = ForeignKey(
        references=Crew, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    status = Varchar(length=16, default="new", index=True)
    priority = Varchar(length=8, default="normal", index=True)  # low | normal | high | urgent
    instructions = Text(default="")
    due_at = Timestamptz(null=True, default=None, index=True)
    resolution_code = Varchar(length=40, null=True, default=None)
    completed_at = Timestamptz(null=True, default=None, index=True)
    field_completed_at = Timestamptz(null=True, default=None)
    completed_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz(index=True)
    # left the crews' offline scope (finished longer ago than the sync window); cleared on reopen
    archived_at = Timestamptz(null=True, default=None)
    # needs a supervisor's eye: field work that crossed an office decision (sync conflict rules)
    flagged_at = Timestamptz(null=True, default=None)
    flag_reason = Text(null=True, default=None)
