"""Registers Fieldloop's tables and migrations with Piccolo (one app: `fieldloop`)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from api.activities.tables import Activity
from api.auth.tables import User
from api.cases.tables import Case, Counter
from api.catalog.tables import Department, ServiceType
from api.citizens.tables import Citizen, Place
from api.crews.tables import Crew
from api.notifications.tables import (
    CaseFollower,
    DeliveryAttempt,
    Notification,
    PushSubscription,
)
from api.open311.tables import ApiKey, Submission
from api.workorders.tables import WorkOrder
from media.tables import Photo, StoredPhoto, Upload
from sync.tables import Change, Device, Mutation

APP_CONFIG = AppConfig(
    app_name="fieldloop",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Department,
        ServiceType,
        Crew,
        User,
        Citizen,
        Place,
        Counter,
        Case,
        WorkOrder,
        Activity,
        Photo,
        StoredPhoto,
        Upload,
        Device,
        Mutation,
        Change,
        PushSubscription,
        CaseFollower,
        Notification,
        DeliveryAttempt,
        ApiKey,
        Submission,
    ],
    migration_dependencies=[],
    commands=[],
)
