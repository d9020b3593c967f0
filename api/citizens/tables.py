"""Citizens (who called) and places (where): the joins that make the record relational.

Phone numbers are stored as digits only and emails lower-cased, so "find the caller" is an
exact indexed match. A place's `normalized_address` is the key that gathers every case ever
filed at one location, which is how a crew sees what was done there before.
"""

from piccolo.columns import DoublePrecision, Timestamptz, Varchar
from piccolo.table import Table


class Citizen(Table, tablename="citizens"):
    name = Varchar(length=120, default="")
    phone = Varchar(length=20, null=True, default=None, index=True)
    email = Varchar(length=254, null=True, default=None, index=True)
    address = Varchar(length=300, default="")
    contact_preference = Varchar(length=10, default="phone")  # phone | email | sms | none
    created_at = Timestamptz()


class Place(Table, tablename="places"):
    address = Varchar(length=300)
    normalized_address = Varchar(length=300, index=True)
    lat = DoublePrecision(null=True, default=None, index=True)
    lng = DoublePrecision(null=True, default=None)
    asset_id = Varchar(length=80, null=True, default=None)
    created_at = Timestamptz()
