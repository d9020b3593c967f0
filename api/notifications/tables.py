"""Push subscriptions, what each one follows, and the notification outbox.

- `PushSubscription`: one browser's push endpoint and keys, stored once per endpoint. A staff
  user's device carries the user (alerts for their crew's urgent work); a citizen's browser
  follows cases through `CaseFollower`, each added with the case's tracking token.
- `Notification`: the outbox. A row is written in the same transaction as the change that
  causes it, so a change is never committed without its notification, nor the other way round.
  The worker claims due rows for a lease, sends, and records the outcome; a worker that dies
  mid-delivery leaves the row to be claimed again when the lease runs out.
- `DeliveryAttempt`: every attempt, with the push service's answer.
"""

from piccolo.columns import (
    JSON,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.cases.tables import Case
from api.workorders.tables import WorkOrder


class PushSubscription(Table, tablename="push_subscriptions"):
    endpoint = Varchar(length=1000, unique=True)
    p256dh = Varchar(length=100)
    auth = Varchar(length=40)
    user = ForeignKey(
        references=User, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CaseFollower(Table, tablename="case_followers"):
    subscription = ForeignKey(
        references=PushSubscription, on_delete=OnDelete.cascade, null=False, index=True
    )
    case = ForeignKey(references=Case, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()


class Notification(Table, tablename="notifications"):
    kind = Varchar(length=24)  # case_received | work_scheduled | work_completed | ...
    audience = Varchar(length=8)  # citizen | crew
    # kept when the subscription goes (404/410): the history stays
    subscription = ForeignKey(
        references=PushSubscription, on_delete=OnDelete.set_null, null=True, default=None
    )
    case = ForeignKey(references=Case, on_delete=OnDelete.cascade, null=False, index=True)
    work_order = ForeignKey(
        references=WorkOrder, on_delete=OnDelete.cascade, null=True, default=None
    )
    status = Varchar(length=8, default="pending")  # pending | sending | sent | failed | gone
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)  # a worker's lease while sending
    claimed_by = Varchar(length=64, default="")
    payload = JSON(default={})  # what was (last) sent
    last_error = Text(default="")
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table, tablename="delivery_attempts"):
    notification = ForeignKey(
        references=Notification, on_delete=OnDelete.cascade, null=False, index=True
    )
    number = Integer()  # 1 for the first attempt
    worker = Varchar(length=64)
    started_at = Timestamptz()
    duration_ms = Integer()
    status_code = Integer(null=True, default=None)  # the push service's answer; None: no answer
    outcome = Varchar(length=8)  # sent | retry | gone | failed
    detail = Text(default="")
