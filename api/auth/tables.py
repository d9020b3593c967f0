"""Staff users. Citizens never log in: they hold a case's tracking token instead."""

from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.crews.tables import Crew


class User(Table, tablename="users"):
    username = Varchar(length=80, unique=True)
    display_name = Varchar(length=120, default="")
    password_hash = Varchar(length=200)
    role = Varchar(length=20)  # advocate | crew | supervisor | admin (auth.schemas.Role)
    crew = ForeignKey(
        references=Crew, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    active = Boolean(default=True)
    created_at = Timestamptz()
