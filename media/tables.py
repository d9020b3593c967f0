"""Photo metadata. A photo is named by the sha256 of its bytes; the row may exist before the
bytes do (a crew's `attach_photo` mutation can arrive before the upload), and is `pending`
until they arrive."""

from piccolo.columns import DoublePrecision, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.workorders.tables import WorkOrder


class Photo(Table, tablename="photos"):
    sha256 = Varchar(length=64, index=True)
    work_order = ForeignKey(
        references=WorkOrder, on_delete=OnDelete.restrict, null=False, index=True
    )
    kind = Varchar(length=8)  # before | after | other
    status = Varchar(length=10, default="pending")  # pending | ready
    taken_at = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    client_id = Varchar(length=64, default="")
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
