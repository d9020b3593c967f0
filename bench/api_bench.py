"""Foundation benchmark: case intake throughput and work-order list latency.

On a `--scale 10` demo town (15,000 cases), on SQLite and on PostgreSQL, it measures:

- cases created per second through `api.cases.service.create_case` (what `POST /api/cases`
  runs: find-or-create citizen and place, number, insert, timeline entry, read back), beside the
  same writes done with the bare database driver in one transaction per case;
- work-order list latency for four dispatch queries through `list_work_orders` and through HTTP
  (in-process ASGI, with auth and JSON), beside the same SELECT run on the bare driver.

Every figure is printed next to its baseline from the same run, so the ratio is the overhead
Fieldloop adds, whatever the machine.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import asyncpg
import httpx
from piccolo.engine.base import Engine

from api import db
from api.app import create_app
from api.auth.schemas import Principal, Role
from api.auth.tables import User
from api.cases.schemas import CaseCreate
from api.cases.service import create_case
from api.citizens.schemas import CitizenIn, PlaceIn
from api.citizens.service import normalize_address
from api.demo import seed_town
from api.settings import Settings, load_settings
from api.workorders.queries import list_work_orders
from api.workorders.schemas import WorkOrderStatus
from bench import ScratchDatabases, postgres_url

SCALE = float(os.environ.get("FIELDLOOP_BENCH_SCALE", "10"))
CASES_TO_CREATE = 300
LIST_RUNS = 100
OPEN = [
    s.value
    for s in WorkOrderStatus
    if s.value in ("new", "assigned", "en_route", "on_site", "on_hold")
]

Row = tuple[str, str, str, str]  # engine, measure, Fieldloop's figure, the baseline's


@dataclass(frozen=True)
class ListScenario:
    name: str
    call: Callable[[], Awaitable[object]]  # through the service
    path: str  # through HTTP
    user: Principal
    raw_where: str  # the same filter for the bare-driver SELECT
    raw_args: tuple


LIST_SQL = """
SELECT wo.id, wo.number, wo.status, wo.priority, st.code, st.name, c.public_id, wo.crew,
       cr.name, p.address, p.lat, p.lng, wo.due_at, wo.created_at, wo.updated_at
FROM work_orders wo
JOIN service_types st ON st.id = wo.service_type
JOIN cases c ON c.id = wo."case"
LEFT JOIN crews cr ON cr.id = wo.crew
LEFT JOIN places p ON p.id = wo.place
WHERE {where}
ORDER BY wo.due_at, wo.id
LIMIT 51
"""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def timed(action: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    await action()  # warm caches and connections
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def intake_payloads(count: int) -> list[CaseCreate]:
    """Calls like a busy morning: half from citizens already known, half new."""
    payloads = []
    for i in range(count):
        known = i % 2 == 0
        payloads.append(
            CaseCreate(
                service_code="streetlight-out" if i % 3 else "missed-trash",
                description=f"Benchmark call {i}",
                citizen=CitizenIn(
                    name=f"Bench Caller {i}",
                    phone=f"919555{(i // 2 if known else 5000 + i):04d}",
                ),
                place=PlaceIn(address=f"{100 + i % 40} Bench Street", lat=35.79, lng=-78.78),
                attributes={"problem": "out"} if i % 3 else {"cart_out": "yes"},
            )
        )
    return payloads


def numbered_placeholders(sql: str) -> str:
    """SQLite's `?` placeholders as PostgreSQL's `$1, $2, …`."""
    parts = sql.split("?")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


class RawDriver:
    """The same statements Fieldloop's intake and list run, on the bare driver."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sqlite: sqlite3.Connection | None = None
        self.pg: asyncpg.Connection | None = None

    async def open(self) -> None:
        if self.settings.is_postgres:
            self.pg = await asyncpg.connect(self.settings.database_url)
        else:
            path = db.sqlite_path(self.settings.database_url)
            self.sqlite = sqlite3.connect(path, isolation_level=None)

    async def close(self) -> None:
        if self.pg:
            await self.pg.close()
        if self.sqlite:
            self.sqlite.close()

    async def fetch(self, sql: str, *args: object) -> list:
        if self.pg:
            return await self.pg.fetch(numbered_placeholders(sql), *args)
        assert self.sqlite is not None
        return self.sqlite.execute(sql, args).fetchall()

    async def create_case(self, payload: CaseCreate, user_id: int, service_type_id: int) -> None:
        now = datetime.now(UTC)
        phone = "".join(ch for ch in payload.citizen.phone if ch.isdigit())
        key = normalize_address(payload.place.address)
        if self.pg:
            async with self.pg.transaction():
                await self._intake(payload, user_id, service_type_id, now, phone, key)
            return
        assert self.sqlite is not None
        self.sqlite.execute("BEGIN IMMEDIATE")
        try:
            await self._intake(payload, user_id, service_type_id, now, phone, key)
            self.sqlite.execute("COMMIT")
        except BaseException:
            self.sqlite.execute("ROLLBACK")
            raise

    async def _intake(
        self,
        payload: CaseCreate,
        user_id: int,
        service_type_id: int,
        now: datetime,
        phone: str,
        key: str,
    ) -> None:
        ts = now if self.pg else now.isoformat()
        rows = await self.fetch(
            "SELECT id FROM citizens WHERE phone = ? ORDER BY id LIMIT 1", phone
        )
        if rows:
            citizen_id = rows[0][0]
        else:
            citizen_id = (
                await self.fetch(
                    "INSERT INTO citizens (name, phone, email, address, contact_preference,"
                    " created_at) VALUES (?, ?, NULL, '', 'phone', ?) RETURNING id",
                    payload.citizen.name,
                    phone,
                    ts,
                )
            )[0][0]
        rows = await self.fetch(
            "SELECT id FROM places WHERE normalized_address = ? ORDER BY id LIMIT 1", key
        )
        if rows:
            place_id = rows[0][0]
        else:
            place_id = (
                await self.fetch(
                    "INSERT INTO places (address, normalized_address, lat, lng, asset_id,"
                    " created_at) VALUES (?, ?, ?, ?, NULL, ?) RETURNING id",
                    payload.place.address,
                    key,
                    payload.place.lat,
                    payload.place.lng,
                    ts,
                )
            )[0][0]
        await self.fetch(
            "INSERT INTO counters (name, value) VALUES ('bench', 0) ON CONFLICT (name) DO NOTHING"
        )
        number = (
            await self.fetch(
                "UPDATE counters SET value = value + 1 WHERE name = 'bench' RETURNING value"
            )
        )[0][0]
        case_id = (
            await self.fetch(
                "INSERT INTO cases (public_id, tracking_token, citizen, service_type, place,"
                " description, channel, attributes, status, resolution, resolved_at, created_by,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'phone', '{}', 'open', NULL,"
                " NULL, ?, ?, ?) RETURNING id",
                f"B-{number:07d}",
                secrets.token_urlsafe(24),
                citizen_id,
                service_type_id,
                place_id,
                payload.description,
                user_id,
                ts,
                ts,
            )
        )[0][0]
        await self.fetch(
            'INSERT INTO activities ("case", work_order, kind, body, data, actor, public,'
            " occurred_at, recorded_at) VALUES (?, NULL, 'case_created', 'Request received', '{}',"
            " ?, ?, ?, ?)",
            case_id,
            user_id,
            True,
            ts,
            ts,
        )
        # read back what the API returns: the case row and its timeline
        await self.fetch("SELECT * FROM cases WHERE id = ?", case_id)
        await self.fetch('SELECT * FROM activities WHERE "case" = ? ORDER BY occurred_at', case_id)


async def staff() -> tuple[Principal, Principal, Principal]:
    """The demo advocate, supervisor and crew1 as the services see them."""
    rows = {
        row["username"]: row
        for row in await User.select().where(
            User.username.is_in(["advocate", "supervisor", "crew1"])
        )
    }
    return (
        Principal(id=rows["advocate"]["id"], username="advocate", role=Role.ADVOCATE),
        Principal(id=rows["supervisor"]["id"], username="supervisor", role=Role.SUPERVISOR),
        Principal(
            id=rows["crew1"]["id"], username="crew1", role=Role.CREW, crew_id=rows["crew1"]["crew"]
        ),
    )


def list_scenarios(supervisor: Principal, crew_user: Principal) -> list[ListScenario]:
    now = datetime.now(UTC)
    lat, lng, radius = 35.7915, -78.7811, 2000.0
    dlat = radius / 111_195  # metres per degree of latitude
    dlng = dlat / math.cos(math.radians(lat))
    return [
        ListScenario(
            "open work, dispatch view",
            lambda: list_work_orders(supervisor, statuses=[WorkOrderStatus(s) for s in OPEN]),
            "/api/work-orders?status=" + ",".join(OPEN),
            supervisor,
            "wo.status IN ({})".format(", ".join(f"'{s}'" for s in OPEN)),
            (),
        ),
        ListScenario(
            "one crew's own work (crew login)",
            lambda: list_work_orders(crew_user),
            "/api/work-orders",
            crew_user,
            "wo.crew = ?",
            (crew_user.crew_id,),
        ),
        ListScenario(
            "overdue",
            lambda: list_work_orders(supervisor, overdue=True),
            "/api/work-orders?overdue=true",
            supervisor,
            "wo.due_at < ? AND wo.status NOT IN ('completed', 'cannot_complete', 'cancelled')",
            (now,),
        ),
        ListScenario(
            "near a point, 2 km",
            lambda: list_work_orders(supervisor, near=(lat, lng, radius)),
            f"/api/work-orders?near={lat},{lng}&radius_m={radius}",
            supervisor,
            "p.lat BETWEEN ? AND ? AND p.lng BETWEEN ? AND ?",
            (lat - dlat, lat + dlat, lng - dlng, lng + dlng),
        ),
    ]


async def bench_intake(label: str, raw: RawDriver, advocate: Principal) -> Row:
    service_type_id = (
        await raw.fetch("SELECT id FROM service_types WHERE code = ?", "streetlight-out")
    )[0][0]
    payloads = intake_payloads(CASES_TO_CREATE)
    started = time.perf_counter()
    for payload in payloads:
        await create_case(advocate, payload)
    ours = CASES_TO_CREATE / (time.perf_counter() - started)
    started = time.perf_counter()
    for payload in payloads:
        await raw.create_case(payload, advocate.id, service_type_id)
    bare = CASES_TO_CREATE / (time.perf_counter() - started)
    return (
        label,
        "cases created per second (one at a time)",
        f"{ours:,.0f}/s",
        f"{bare:,.0f}/s  (bare is {bare / ours:.1f}x)",
    )


async def bench_lists(
    label: str, settings: Settings, engine: Engine, raw: RawDriver, users: list[Principal]
) -> list[Row]:
    _, supervisor, crew_user = users
    app = create_app(settings, engine=engine)
    rows: list[Row] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for scenario in list_scenarios(supervisor, crew_user):
            token = app.state.jwt_auth.create_token(
                identifier=str(scenario.user.id), token_expiration=timedelta(hours=1)
            )
            headers = {"Authorization": f"Bearer {token}"}
            args = tuple(
                value.isoformat() if isinstance(value, datetime) and raw.sqlite else value
                for value in scenario.raw_args
            )
            sql = LIST_SQL.format(where=scenario.raw_where)
            service = await timed(scenario.call, LIST_RUNS)
            http = await timed(partial(client.get, scenario.path, headers=headers), LIST_RUNS)
            bare = await timed(partial(raw.fetch, sql, *args), LIST_RUNS)
            rows.append(
                (
                    label,
                    f"work-order list: {scenario.name}, p50 / p95",
                    f"{statistics.median(service):.2f} / {percentile(service, 0.95):.2f} ms;"
                    f" HTTP {statistics.median(http):.2f} ms",
                    f"{statistics.median(bare):.2f} / {percentile(bare, 0.95):.2f} ms",
                )
            )
    return rows


async def bench_engine(label: str, settings: Settings) -> list[Row]:
    engine = await db.connect(settings)
    raw = RawDriver(settings)
    try:
        await db.migrate()
        started = time.perf_counter()
        summary = await seed_town(scale=SCALE)
        print(
            f"  {label}: seeded scale {SCALE:g} in {time.perf_counter() - started:.1f} s "
            f"({summary.counts['cases']:,} cases, {summary.counts['work orders']:,} work orders)",
            flush=True,
        )
        users = await staff()
        await raw.open()
        rows = [await bench_intake(label, raw, users[0])]
        rows += await bench_lists(label, settings, engine, raw, list(users))
    finally:
        await raw.close()
        await db.disconnect(engine)
    return rows


async def bench_postgres(url: str, var_dir: Path) -> list[Row]:
    async with ScratchDatabases(url) as databases:
        settings = load_settings(
            {
                "FIELDLOOP_DATABASE_URL": await databases.new(f"fieldloop_bench_{os.getpid()}"),
                "FIELDLOOP_VAR_DIR": str(var_dir),
            }
        )
        return await bench_engine("postgres", settings)


def print_table(rows: list[Row]) -> None:
    width = max(len(row[1]) for row in rows) + 2
    print()
    print(f"{'engine':10}{'measure':{width}}{'fieldloop':46}baseline: bare driver, same run")
    for engine, measure, ours, baseline in rows:
        print(f"{engine:10}{measure:{width}}{ours:46}{baseline}")


async def main() -> None:
    print(f"Foundation benchmark: a --scale {SCALE:g} demo town", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        var_dir = Path(scratch)
        sqlite_settings = load_settings(
            {
                "FIELDLOOP_DATABASE_URL": f"sqlite:///{var_dir}/bench.sqlite3",
                "FIELDLOOP_VAR_DIR": str(var_dir),
            }
        )
        rows += await bench_engine("sqlite", sqlite_settings)
        if pg_url := postgres_url():
            rows += await bench_postgres(pg_url, var_dir)
    print_table(rows)


if __name__ == "__main__":
    asyncio.run(main())
