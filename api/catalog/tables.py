"""Departments and service types, the catalogue every case is filed against.

A service type is an Open311 "service": code, name, description, group, keywords and the
attribute definitions (the questions intake asks). Fieldloop adds whether it normally needs field
work and its target time (SLA), from which a work order's due time is computed.
"""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Department(Table, tablename="departments"):
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120, unique=True)


class ServiceType(Table, tablename="service_types"):
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    description = Text(default="")
    group_name = Varchar(length=120, default="")
    keywords = Text(default="")  # comma-separated, as Open311 publishes them
    attributes = JSON(default=[])  # Open311 attribute definitions, see schemas.AttributeDefinition
    department = ForeignKey(references=Department, on_delete=OnDelete.restrict, null=False)
    needs_work_order = Boolean(default=False)
    sla_hours = Integer(default=72)
    active = Boolean(default=True)
