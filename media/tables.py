"""Photos, the files behind them, and uploads in progress.

- `Photo`: a photo attached to a work order, named by the sha256 of its original bytes. The row
  may exist before the bytes do (a crew's `attach_photo` mutation can arrive before the upload)
  and is `pending` until they arrive, then `ready`.
- `StoredPhoto`: one per distinct original that passed the pipeline: its format and size, what
  its camera recorded (time, GPS), and the content hashes of its display image and thumbnail.
  Two work orders showing the same photo share one StoredPhoto and one set of files.
- `Upload`: a tus upload in progress (docs/media.md). Its offset in the database is the truth;
  the spool file is cut back to it before every append.
"""

from piccolo.columns import (
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
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
    # "after" photos start shareable with the citizen; office staff may withdraw one
    shareable = Boolean(default=False)


class StoredPhoto(Table, tablename="stored_photos"):
    sha256 = Varchar(length=64, unique=True)
    format = Varchar(length=8)  # jpeg | png | webp | heic
    content_type = Varchar(length=32)
    size_bytes = Integer()
    width = Integer()  # after EXIF orientation
    height = Integer()
    taken_at = Timestamptz(null=True, default=None)  # what the camera recorded
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    display_sha256 = Varchar(length=64)
    display_width = Integer()
    display_height = Integer()
    display_size_bytes = Integer()
    thumb_sha256 = Varchar(length=64)
    thumb_width = Integer()
    thumb_height = Integer()
    thumb_size_bytes = Integer()
    created_at = Timestamptz()


class Upload(Table, tablename="uploads"):
    token = Varchar(length=43, unique=True)  # the {id} in /api/uploads/{id}: 256 random bits
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    work_order = ForeignKey(references=WorkOrder, on_delete=OnDelete.cascade, null=False)
    kind = Varchar(length=8)
    sha256 = Varchar(length=64)
    taken_at = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    client_id = Varchar(length=64, default="")
    metadata = Text(default="")  # Upload-Metadata as sent; HEAD gives it back
    length = Integer()
    received = Integer(default=0)  # bytes stored so far: the tus Upload-Offset
    status = Varchar(length=10, default="receiving")  # receiving | done | failed
    failure = Text(default="")  # why a failed upload was refused
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
