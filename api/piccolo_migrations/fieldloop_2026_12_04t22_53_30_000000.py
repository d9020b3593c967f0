from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T22:53:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "photos attached before: after photos start shareable"


class Photo(Table, tablename="photos", schema=None):
    pass


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="fieldloop", description=DESCRIPTION
    )

    async def after_photos_start_shareable():
        # the citizen's page shows "after" photos; rows from before the column existed
        await Photo.raw("UPDATE photos SET shareable = (kind = 'after')")

    manager.add_raw(after_photos_start_shareable)

    return manager
