"""The one factories module: builds rows for tests through the real services where they
exist, and directly only for reference data (departments, service types, crews, users) and for
putting a work order straight into a state (`set_work_order_status`, for state-machine tests)
or back in time (`set_completed_at`, `age_changes`, for the sync window and tombstones).
`Tablet` simulates a crew tablet's side of sync (outbox, cursor, local store) over HTTP.

Password hashing (argon2) is deliberately slow, so every factory user shares one hash of
`PASSWORD`, computed once per test session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from uuid import uuid4

import httpx
import uvicorn
from litestar import Litestar

from api.activities.tables import Activity
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
from api.workorders.schemas import StatusChange, WorkOrderCreate, WorkOrderOut, WorkOrderStatus
from api.workorders.tables import WorkOrder
from sync.tables import Change, Device, Mutation

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


# --- sync: simulated crew tablets -------------------------------------------------------------

OWN_CURSOR = "own"  # `Tablet.pull(cursor=OWN_CURSOR)`: the tablet's own cursor


def mutation(seq: int, name: str, mutation_id: str | None = None, **args: object) -> dict:
    """One mutation as a tablet pushes it, numbered by hand; a fresh id unless given."""
    return {
        "seq": seq,
        "id": mutation_id or f"m-{seq:04d}-{uuid4().hex[:8]}",
        "name": name,
        "args": args,
    }


@dataclass
class Tablet:
    """A simulated crew tablet, the client side of the sync protocol over the test's HTTP
    client: it numbers its own mutations and keeps them in an outbox until the server
    acknowledges them, and keeps the work orders it pulled in `store` (server state only:
    optimistic changes live in the outbox, as in Replicache).

    Nothing here changes on a request whose answer is "lost": call `push`/`pull` and simply
    ignore the response, then retry later with the same mutations (never renumbered)."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    device_id: str
    next_seq: int = 1
    outbox: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)  # every mutation ever queued, in order
    cursor: str | None = None
    store: dict[str, dict] = field(default_factory=dict)  # number → work order as pulled
    pages: list[dict] = field(default_factory=list)  # every pull answer applied

    async def register(self, name: str = "Tablet") -> httpx.Response:
        return await self.client.post(
            "/api/sync/devices",
            json={"device_id": self.device_id, "name": name},
            headers=self.headers,
        )

    def queue(self, name: str, **args: object) -> dict:
        """An offline write: the next mutation, numbered and put in the outbox."""
        item = {"seq": self.next_seq, "id": f"m-{uuid4().hex}", "name": name, "args": args}
        self.next_seq += 1
        self.outbox.append(item)
        self.sent.append(item)
        return item

    async def push(self, mutations: list[dict] | None = None) -> httpx.Response:
        """POST the mutations (default: the whole outbox); the outbox is left as it was."""
        body = {
            "device_id": self.device_id,
            "mutations": self.outbox if mutations is None else mutations,
        }
        return await self.client.post("/api/sync/push", json=body, headers=self.headers)

    def acknowledge(self, last_mutation_seq: int) -> None:
        self.outbox = [m for m in self.outbox if m["seq"] > last_mutation_seq]

    async def pull(self, limit: int = 100, cursor: str | None = OWN_CURSOR) -> httpx.Response:
        """POST a pull from `cursor` (default: this tablet's own); nothing is applied."""
        body = {
            "device_id": self.device_id,
            "limit": limit,
            "cursor": self.cursor if cursor == OWN_CURSOR else cursor,
        }
        return await self.client.post("/api/sync/pull", json=body, headers=self.headers)

    def apply(self, page: dict) -> None:
        """Apply one pull answer to the local store, as the tablet does."""
        self.pages.append(page)
        if page["reset"]:
            self.store.clear()
            self.cursor = None
            return
        for bundle in page["work_orders"]:
            self.store[bundle["work_order"]["number"]] = bundle["work_order"]
        for number in page["removed"]:
            self.store.pop(number, None)
        self.cursor = page["cursor"]
        self.acknowledge(page["last_mutation_seq"])

    async def sync(self, limit: int = 100) -> None:
        """Push the outbox until it is empty, then pull until there is no more (a full sync
        after a reset too)."""
        while self.outbox:
            response = await self.push()
            assert response.status_code == 200, response.text
            self.acknowledge(response.json()["last_mutation_seq"])
        for _ in range(1000):
            response = await self.pull(limit)
            assert response.status_code == 200, response.text
            page = response.json()
            self.apply(page)
            if not page["has_more"] and not page["reset"]:
                return
        raise AssertionError("pull never ran out of pages")

    def statuses(self) -> dict[str, str]:
        return {number: wo["status"] for number, wo in self.store.items()}


async def make_tablet(
    client: httpx.AsyncClient, town: Town, user: str = "crew_a", device_id: str | None = None
) -> Tablet:
    """A registered tablet for one of the town's users."""
    tablet = Tablet(client, town.headers(user), device_id or f"tablet-{uuid4().hex[:12]}")
    response = await tablet.register()
    assert response.status_code == 200, response.text
    return tablet


async def office_assign(town: Town, number: str, crew_id: int) -> None:
    """The supervisor gives the work order to `crew_id` (a reassignment if it had a crew)."""
    await workorders.assign(town.supervisor, number, crew_id)


async def office_status(
    town: Town, number: str, status: WorkOrderStatus, *, resolution_code: str | None = None
) -> None:
    """The supervisor moves the work order through the state machine (cancel, reopen, …)."""
    await workorders.apply_status(
        town.supervisor, number, StatusChange(status=status, resolution_code=resolution_code)
    )


async def set_completed_at(number: str, when: datetime) -> None:
    """Move a finished work order's completion back in time (to test the sync window)."""
    await WorkOrder.update({WorkOrder.completed_at: when}).where(WorkOrder.number == number)


async def age_changes(before: datetime) -> None:
    """Make every change-feed entry look as old as `before` (to pass the tombstone horizon)."""
    await Change.update({Change.changed_at: before}).where(Change.id > 0)


async def activities_of(number: str, kind: str | None = None) -> list[dict]:
    """A work order's timeline entries, oldest first (`data` decoded), optionally one kind."""
    query = Activity.select(
        Activity.kind, Activity.body, Activity.data, Activity.occurred_at, Activity.actor
    ).where(Activity.work_order.number == number)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    return await query.order_by(Activity.id).output(load_json=True)


async def mutation_rows(device_id: str) -> list[dict]:
    """The server's record of a tablet's mutations, by number (`result` decoded)."""
    return (
        await Mutation.select()
        .where(Mutation.device.device_id == device_id)
        .order_by(Mutation.seq)
        .output(load_json=True)
    )


async def work_order_row(number: str) -> dict:
    return await WorkOrder.select().where(WorkOrder.number == number).first()


async def device_seq(device_id: str) -> int:
    row = await Device.select(Device.last_mutation_seq).where(Device.device_id == device_id).first()
    return row["last_mutation_seq"]


async def crew_work(crew_id: int, finished_days: int = 7) -> dict[str, str]:
    """What a crew's tablets should hold, number → status, worked out independently of
    sync.pull: the crew's open work, and its finished work of the last `finished_days` that
    was not archived. Cancelled work is gone from tablets."""
    cutoff = datetime.now(UTC) - timedelta(days=finished_days)
    rows = await WorkOrder.select(
        WorkOrder.number, WorkOrder.status, WorkOrder.completed_at, WorkOrder.archived_at
    ).where(WorkOrder.crew == crew_id)
    finished = {WorkOrderStatus.COMPLETED.value, WorkOrderStatus.CANNOT_COMPLETE.value}
    return {
        row["number"]: row["status"]
        for row in rows
        if row["status"] not in finished | {WorkOrderStatus.CANCELLED.value}
        or (
            row["status"] in finished
            and row["archived_at"] is None
            and row["completed_at"] is not None
            and row["completed_at"] >= cutoff
        )
    }


# Photos, uploads and the fake push service live in their own modules, re-exported so that
# tests keep one import.
from tests.factories.images import *  # noqa: E402, F403
from tests.factories.push import *  # noqa: E402, F403
from tests.factories.uploads import *  # noqa: E402, F403


async def follow_case(
    client: httpx.AsyncClient,
    case: CaseOut,
    subscriber: FakeSubscriber,  # noqa: F405
) -> httpx.Response:
    """A citizen's browser follows `case` through its tracking link."""
    return await client.post(
        f"/api/track/{case.tracking_token}/subscriptions", json=subscriber.as_request()
    )


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[str]:
    """The app behind a real uvicorn server on a free loopback port, in this event loop (so it
    shares the caller's database connection); yields its base URL. Its lifespan runs, so an
    in-process notification worker starts when the settings ask for one."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped the server
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
