"""The one factories module: builds rows for tests through the real services where they
exist, and directly only for reference data (departments, service types, crews, users) and for
putting a work order straight into a state (`set_work_order_status`, for state-machine tests).

Password hashing (argon2) is deliberately slow, so every factory user shares one hash of
`PASSWORD`, computed once per test session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from litestar import Litestar

from api.app import create_app
from api.auth.schemas import Principal, Role
from api.auth.service import hash_password
from api.auth.tables import User
from api.cases import service as cases
from api.cases.schemas import CaseCreate, CaseOut
from api.catalog.tables import Department, ServiceType
from api.citizens.schemas import CitizenIn, PlaceIn
from api.crews.tables import Crew
from api.db import write_transaction
from api.settings import Settings
from api.workorders import service as workorders
from api.workorders.schemas import WorkOrderCreate, WorkOrderOut, WorkOrderStatus
from api.workorders.tables import WorkOrder

PASSWORD = "correct horse battery"

POTHOLE_ATTRIBUTES = [
    {
        "code": "size",
        "description": "How big is it?",
        "datatype": "singlevaluelist",
        "required": True,
        "values": [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
    },
    {"code": "depth_cm", "description": "Depth in cm", "datatype": "number"},
]


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@cache
def shared_app(settings: Settings) -> Litestar:
    """One app per engine for a whole module of tests (building one costs ~50 ms).

    Safe because the app keeps nothing between requests: the `db` fixture binds each test's
    engine, and the test client never runs the app's lifespan. A module opts in with
    `def app(settings, db): return shared_app(settings)` as its `app` fixture.
    """
    return create_app(settings)


async def make_department(code: str = "pw", name: str = "Public Works") -> int:
    row = Department(code=code, name=name)
    await row.save()
    return row.id


async def make_service_type(
    department_id: int,
    code: str = "pothole",
    name: str = "Pothole",
    *,
    needs_work_order: bool = True,
    sla_hours: int = 72,
    attributes: list | None = None,
) -> int:
    row = ServiceType(
        code=code,
        name=name,
        description=f"{name} reported by a citizen",
        group_name="Streets",
        keywords="road,street",
        attributes=attributes or [],
        department=department_id,
        needs_work_order=needs_work_order,
        sla_hours=sla_hours,
    )
    await row.save()
    return row.id


async def make_crew(department_id: int, name: str) -> int:
    row = Crew(name=name, department=department_id, active=True)
    await row.save()
    return row.id


async def make_user(username: str, role: Role, crew_id: int | None = None) -> Principal:
    row = User(
        username=username,
        display_name=username.title(),
        password_hash=_password_hash(),
        role=role.value,
        crew=crew_id,
        active=True,
        created_at=datetime.now(UTC),
    )
    await row.save()
    return Principal(
        id=row.id, username=username, role=role, crew_id=crew_id, display_name=row.display_name
    )


def token_for(app: Litestar, user: Principal) -> str:
    return app.state.jwt_auth.create_token(
        identifier=str(user.id), token_expiration=timedelta(hours=1)
    )


def auth_headers(app: Litestar, user: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


@dataclass
class Town:
    app: Litestar
    department_id: int
    pothole_id: int
    question_id: int
    crew_a: int
    crew_b: int
    users: dict[str, Principal] = field(default_factory=dict)

    def headers(self, name: str) -> dict[str, str]:
        return auth_headers(self.app, self.users[name])

    @property
    def advocate(self) -> Principal:
        return self.users["advocate"]

    @property
    def supervisor(self) -> Principal:
        return self.users["supervisor"]


async def make_town(app: Litestar) -> Town:
    async with write_transaction():  # one connection for all of it: much faster on SQLite
        return await _make_town(app)


async def _make_town(app: Litestar) -> Town:
    department_id = await make_department()
    pothole_id = await make_service_type(department_id, attributes=POTHOLE_ATTRIBUTES)
    question_id = await make_service_type(
        department_id, "general_question", "General question", needs_work_order=False
    )
    crew_a = await make_crew(department_id, "Streets A")
    crew_b = await make_crew(department_id, "Streets B")
    town = Town(app, department_id, pothole_id, question_id, crew_a, crew_b)
    town.users = {
        "advocate": await make_user("advocate", Role.ADVOCATE),
        "supervisor": await make_user("supervisor", Role.SUPERVISOR),
        "admin": await make_user("admin", Role.ADMIN),
        "crew_a": await make_user("crew_a", Role.CREW, crew_a),
        "crew_b": await make_user("crew_b", Role.CREW, crew_b),
    }
    return town


async def make_case(
    town: Town,
    *,
    service_code: str = "pothole",
    phone: str = "919-555-0100",
    address: str | None = "12 Main St",
    lat: float | None = 35.7915,
    lng: float | None = -78.7811,
    description: str = "Deep pothole in the right lane",
    name: str = "Ada Caller",
    email: str = "",
    anonymous: bool = False,
    attributes: dict | None = None,
) -> CaseOut:
    """A case filed by the advocate; `anonymous` leaves the citizen out, `address=None` the
    place."""
    if attributes is None:
        attributes = {"size": "large"} if service_code == "pothole" else {}
    citizen = None if anonymous else CitizenIn(name=name, phone=phone, email=email)
    place = None if address is None else PlaceIn(address=address, lat=lat, lng=lng)
    async with write_transaction():  # the service joins it; one connection is faster on SQLite
        return await cases.create_case(
            town.advocate,
            CaseCreate(
                service_code=service_code,
                description=description,
                citizen=citizen,
                place=place,
                attributes=attributes,
            ),
        )


async def make_work_order(
    town: Town,
    case: CaseOut | None = None,
    *,
    crew_id: int | None = None,
    **kwargs: object,
) -> WorkOrderOut:
    """A work order on `case` (a new pothole case by default), created by the supervisor."""
    case = case or await make_case(town)
    async with write_transaction():
        return await workorders.create_work_order(
            town.supervisor, case.public_id, WorkOrderCreate(crew_id=crew_id, **kwargs)
        )


async def set_work_order_status(
    number: str, status: WorkOrderStatus, *, resolution_code: str | None = None
) -> None:
    """Put a work order straight into `status`, bypassing the state machine, so each
    transition can be tested from a known start."""
    await WorkOrder.update(
        {WorkOrder.status: status.value, WorkOrder.resolution_code: resolution_code}
    ).where(WorkOrder.number == number)


async def deactivate_user(user: Principal) -> None:
    await User.update({User.active: False}).where(User.id == user.id)


async def deactivate_crew(crew_id: int) -> None:
    await Crew.update({Crew.active: False}).where(Crew.id == crew_id)
