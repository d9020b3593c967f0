"""Sync state, all of it in the database (nothing in process memory):

- `Device`: a tablet registered under a user; it numbers its own mutations, and the server
  keeps the last number it applied in the same transaction as the mutation's effects.
- `Mutation`: every mutation a device pushed, applied or rejected, with the answer it got, so a
  replay returns the original answer.
- `Change`: the change feed. One row per work order and crew whose view of it changed; `seq`
  comes from a counter row taken last in the writing transaction, which serialises feed
  writers, so sequence order is commit order and a reader following the cursor never skips.
"""

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.workorders.tables import WorkOrder


class Device(Table, tablename="devices"):
    device_id = Varchar(length=64, unique=True)  # chosen by the device (a UUID)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=120, default="")
    app_version = Varchar(length=40, default="")
    last_mutation_seq = Integer(default=0)
    registered_at = Timestamptz()
    last_seen_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    revoke_reason = Text(null=True, default=None)


class Mutation(Table, tablename="mutations"):
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    seq = Integer()
    mutation_id = Varchar(length=64, unique=True)
    name = Varchar(length=32)
    args = JSON(default={})
    status = Varchar(length=10)  # applied | rejected
    result = JSON(default={})
    received_at = Timestamptz()


class Change(Table, tablename="changes"):
    seq = BigInt(index=True)
    work_order = ForeignKey(
        references=WorkOrder, on_delete=OnDelete.restrict, null=True, default=None
    )
    crew = Integer(null=True, default=None, index=True)  # whose devices must hear of it
    kind = Varchar(length=12, default="work_order")  # work_order | reference
    changed_at = Timestamptz(index=True)
