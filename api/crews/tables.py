"""Crews belong to a department; crew users belong to one crew and see only its work."""

from piccolo.columns import Boolean, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.catalog.tables import Department


class Crew(Table, tablename="crews"):
    name = Varchar(length=120, unique=True)
    department = ForeignKey(references=Department, on_delete=OnDelete.restrict, null=False)
    active = Boolean(default=True)
