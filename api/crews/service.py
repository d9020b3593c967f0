"""Reading crews and checking that a crew can take work."""

from __future__ import annotations

from api.access import Action, authorize
from api.auth.schemas import Principal
from api.auth.tables import User
from api.crews.schemas import CrewOut
from api.crews.tables import Crew
from api.errors import InputInvalidError


async def list_crews(actor: Principal) -> list[CrewOut]:
    authorize(actor, Action.CREW_READ)
    crews = await Crew.select(Crew.id, Crew.name, Crew.active, Crew.department.name).order_by(
        Crew.name
    )
    members = await User.select(User.crew, User.display_name).where(
        User.crew.is_not_null() & User.active.eq(True)
    )
    by_crew: dict[int, list[str]] = {}
    for member in members:
        by_crew.setdefault(member["crew"], []).append(member["display_name"])
    return [
        CrewOut(
            id=row["id"],
            name=row["name"],
            department=row["department.name"],
            active=row["active"],
            members=sorted(by_crew.get(row["id"], [])),
        )
        for row in crews
    ]


async def active_crew(crew_id: int) -> dict:
    """The crew row, or a 422 when there is no such active crew."""
    row = await Crew.select().where((Crew.id == crew_id) & Crew.active.eq(True)).first()
    if row is None:
        raise InputInvalidError(f"no active crew with id {crew_id}", field="crew_id")
    return row
