"""The case (an Open311 service request) and the counters that number cases and work orders.

`public_id` (2026-000123) is what people read out on the phone; `tracking_token` is the secret
(192 random bits) a citizen holds to follow the case without an account. Counters are rows
updated in the write transaction, so numbers are gap-free per year and never handed out twice,
on SQLite and on PostgreSQL alike.
"""

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.catalog.tables import ServiceType
from api.citizens.tables import Citizen, Place


class Counter(Table, tablename="counters"):
    name = Varchar(length=40, unique=True)
    value = Integer(default=0)


class Case(Table, tablename="cases"):
    public_id = Varchar(length=20, unique=True)
    tracking_token = Varchar(length=64, unique=True)
    citizen = ForeignKey(
        references=Citizen, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    service_type = ForeignKey(references=ServiceType, on_delete=OnDelete.restrict, null=False)
    place = ForeignKey(
        references=Place, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    description = Text(default="")
    channel = Varchar(length=10)  # phone | web | open311 | walk_in | email
    attributes = JSON(default={})
    status = Varchar(length=12, default="open", index=True)  # open | in_progress | resolved
    resolution = Text(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(index=True)
    updated_at = Timestamptz()
