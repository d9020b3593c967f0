"""`can(user, action, obj)`: the one place that decides who may do what.

Two questions, asked in this order:

1. Is the object in the user's reach? A crew user reaches only its own crew's work orders.
   Out of reach answers 404, so nobody learns what exists beyond their reach.
2. May the user's role do this action? If not, 403.

Services call `authorize()` (which raises) before acting; list queries narrow themselves with
`crew_scope()`, the query form of the same reach rule. Nothing else checks roles.
"""

from __future__ import annotations

from enum import StrEnum

from api.auth.schemas import Principal, Role
from api.errors import NotFoundError, PermissionDeniedError


class Action(StrEnum):
    CATALOG_READ = "catalog.read"
    CREW_READ = "crew.read"
    CITIZEN_READ = "citizen.read"
    PLACE_READ = "place.read"
    CASE_CREATE = "case.create"
    CASE_READ = "case.read"
    CASE_RESOLVE = "case.resolve"
    CASE_NOTE = "case.note"
    WORK_ORDER_CREATE = "work_order.create"
    WORK_ORDER_READ = "work_order.read"
    WORK_ORDER_ASSIGN = "work_order.assign"
    WORK_ORDER_FIELD_STATUS = "work_order.field_status"
    WORK_ORDER_CANCEL = "work_order.cancel"
    WORK_ORDER_REOPEN = "work_order.reopen"
    WORK_ORDER_NOTE = "work_order.note"
    WORK_ORDER_FIELD_RECORD = "work_order.field_record"  # append-only field data: GPS, photos
    PHOTO_SHARE = "photo.share"  # show an "after" photo to the citizen, or withdraw it
    USER_MANAGE = "user.manage"
    DEVICE_SYNC = "device.sync"  # register one's own tablet, pull and push
    DEVICE_MANAGE = "device.manage"  # see and revoke anyone's tablets


# Field data that only ever adds to the record (notes, GPS fixes, photos) never conflicts, so
# a crew may still append it to work its crew held before the office moved it (DESIGN §4).
APPEND_ONLY_FIELD_ACTIONS = frozenset({Action.WORK_ORDER_NOTE, Action.WORK_ORDER_FIELD_RECORD})


_EVERYONE = {Action.CATALOG_READ, Action.CREW_READ, Action.WORK_ORDER_READ, Action.WORK_ORDER_NOTE}
_OFFICE = _EVERYONE | {
    Action.CITIZEN_READ,
    Action.PLACE_READ,
    Action.CASE_CREATE,
    Action.CASE_READ,
    Action.CASE_RESOLVE,
    Action.CASE_NOTE,
    Action.WORK_ORDER_CREATE,
    Action.WORK_ORDER_CANCEL,
    Action.PHOTO_SHARE,
}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADVOCATE: frozenset(_OFFICE),
    Role.CREW: frozenset(
        _EVERYONE
        | {Action.WORK_ORDER_FIELD_STATUS, Action.WORK_ORDER_FIELD_RECORD, Action.DEVICE_SYNC}
    ),
    Role.SUPERVISOR: frozenset(
        _OFFICE
        | {
            Action.WORK_ORDER_ASSIGN,
            Action.WORK_ORDER_FIELD_STATUS,
            Action.WORK_ORDER_FIELD_RECORD,
            Action.WORK_ORDER_REOPEN,
            Action.DEVICE_MANAGE,
        }
    ),
    Role.ADMIN: frozenset(Action),
}


def in_reach(user: Principal, obj: object | None, action: Action | None = None) -> bool:
    """A crew user reaches its own crew's work; for append-only field data, also work its crew
    held before (`obj.former_crew_ids`). Office roles reach everything."""
    if obj is None or user.role is not Role.CREW:
        return True
    crew_id = getattr(obj, "crew_id", None)
    if crew_id is not None and crew_id == user.crew_id:
        return True
    if action in APPEND_ONLY_FIELD_ACTIONS and user.crew_id is not None:
        return user.crew_id in getattr(obj, "former_crew_ids", ())
    return False  # a crew user reaches nothing but its own crew's work


def can(user: Principal, action: Action, obj: object | None = None) -> bool:
    """True when `user` may do `action` (to `obj`, when given)."""
    return action in ROLE_ACTIONS[user.role] and in_reach(user, obj, action)


def authorize(
    user: Principal, action: Action, obj: object | None = None, *, what: str = ""
) -> None:
    """Raise 404 when `obj` is out of reach, 403 when the role may not do `action`."""
    if not in_reach(user, obj, action):
        raise NotFoundError(f"{what or 'object'} not found")
    if not can(user, action, obj):
        raise PermissionDeniedError(f"a {user.role} may not {action.value.replace('.', ' ')}")


def crew_scope(user: Principal) -> int | None:
    """The crew a user's lists must be narrowed to, or None for office roles.

    A crew user not yet placed in a crew gets 0, which matches no crew: they see nothing.
    """
    if user.role is not Role.CREW:
        return None
    return user.crew_id or 0
