"""Devices: a tablet registers under its user; a supervisor can revoke it.

A revoked device is refused by pull and push with the reason and who revoked it, so the crew
knows to hand the tablet in rather than retry.
"""

from __future__ import annotations

from datetime import UTC, datetime

from api.access import Action, authorize
from api.auth.schemas import Principal
from api.db import for_update, write_transaction
from api.errors import ConflictError, NotFoundError, PermissionDeniedError
from sync.schemas import DeviceOut, DeviceRegister
from sync.tables import Device


def _out(row: dict) -> DeviceOut:
    return DeviceOut(
        device_id=row["device_id"],
        username=row["user.username"],
        name=row["name"],
        app_version=row["app_version"],
        last_mutation_seq=row["last_mutation_seq"],
        registered_at=row["registered_at"],
        last_seen_at=row["last_seen_at"],
        revoked_at=row["revoked_at"],
        revoke_reason=row["revoke_reason"],
    )


def _select():
    return Device.select(*Device.all_columns(), Device.user.username)


async def register_device(actor: Principal, data: DeviceRegister) -> DeviceOut:
    """Register this tablet under the user; registering again updates name and version."""
    authorize(actor, Action.DEVICE_SYNC)
    now = datetime.now(UTC)
    async with write_transaction():
        # Insert-or-nothing, then lock what is there: two registrations racing (a retry while
        # the first is still in flight) meet on the unique key instead of failing with a 500.
        await Device.insert(
            Device(
                device_id=data.device_id,
                user=actor.id,
                name=data.name,
                app_version=data.app_version,
                last_mutation_seq=0,
                registered_at=now,
                last_seen_at=now,
            )
        ).on_conflict(target=Device.device_id, action="DO NOTHING")
        row = await for_update(Device.select().where(Device.device_id == data.device_id)).first()
        if row["user"] != actor.id:
            raise ConflictError(
                "this device id is registered to another user; a tablet changing hands "
                "needs a fresh install (a new device id)",
                field="device_id",
            )
        refuse_if_revoked(row)
        await Device.update(
            {
                Device.name: data.name,
                Device.app_version: data.app_version,
                Device.last_seen_at: now,
            }
        ).where(Device.id == row["id"])
    return _out(await _select().where(Device.device_id == data.device_id).first())


def refuse_if_revoked(row: dict) -> None:
    if row["revoked_at"] is not None:
        raise PermissionDeniedError(
            f"this device was revoked on {row['revoked_at']:%Y-%m-%d %H:%M} UTC: "
            f"{row['revoke_reason']}; it can no longer sync",
            field="device_id",
            revoked=True,
        )


async def device_for_sync(actor: Principal, device_id: str, *, lock: bool) -> dict:
    """The actor's own, unrevoked device (locked for a push); 404 / 403 otherwise."""
    authorize(actor, Action.DEVICE_SYNC)
    query = Device.select().where(Device.device_id == device_id)
    row = await (for_update(query) if lock else query).first()
    if row is None or row["user"] != actor.id:
        raise NotFoundError(
            "device not registered for this user: register it (POST /api/sync/devices) first",
            field="device_id",
        )
    refuse_if_revoked(row)
    return row


async def list_devices(actor: Principal) -> list[DeviceOut]:
    """Supervisors and admins see every device; a crew user sees its own."""
    query = _select().order_by(Device.registered_at)
    if actor.role.value == "crew":
        authorize(actor, Action.DEVICE_SYNC)
        query = query.where(Device.user == actor.id)
    else:
        authorize(actor, Action.DEVICE_MANAGE)
    return [_out(row) for row in await query]


async def revoke_device(actor: Principal, device_id: str, reason: str) -> DeviceOut:
    authorize(actor, Action.DEVICE_MANAGE)
    async with write_transaction():
        row = await for_update(Device.select().where(Device.device_id == device_id)).first()
        if row is None:
            raise NotFoundError(f"no device {device_id}")
        if row["revoked_at"] is None:
            await Device.update(
                {
                    Device.revoked_at: datetime.now(UTC),
                    Device.revoked_by: actor.id,
                    Device.revoke_reason: reason.strip(),
                }
            ).where(Device.id == row["id"])
    return _out(await _select().where(Device.device_id == device_id).first())
