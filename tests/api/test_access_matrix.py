"""Access control over HTTP: every /api route for every role answers 2xx, 401, 403 or 404."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.activities.tables import Activity
from api.app import create_app
from api.cases.schemas import CaseOut
from api.notifications import service as notify
from api.notifications.schemas import SubscriptionIn
from api.settings import Settings
from api.workorders.schemas import WorkOrderOut, WorkOrderStatus
from media import uploads
from sync.devices import register_device
from sync.schemas import DeviceRegister
from tests.conftest import make_settings
from tests.factories import (
    TUS,
    Town,
    make_case,
    make_work_order,
    set_work_order_status,
    sha256_of,
    shared_app,
    tiny_jpeg,
    upload_metadata,
)

ROLES = ("advocate", "crew_own", "crew_other", "supervisor", "admin", "anonymous")
USER_OF_ROLE = {
    "advocate": "advocate",
    "crew_own": "crew_a",  # the crew of the scenario's work order
    "crew_other": "crew_b",
    "supervisor": "supervisor",
    "admin": "admin",
}
UNKNOWN_NUMBER = "WO-2001-999999"
CREW_A_TABLET = "tablet-crew-a-0001"
PHOTO = tiny_jpeg()
DEVICE = {  # a browser's PushSubscription.toJSON()
    "endpoint": "https://fcm.googleapis.com/fcm/send/device-0001",
    "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
}


@dataclass
class Scenario:
    """A pothole case with a work order assigned to crew_a; for rows that need one, also a
    question case with no work order (one that can be resolved on the phone)."""

    town: Town
    case: CaseOut
    work_order: WorkOrderOut
    question: CaseOut | None = None
    upload_token: str = ""  # crew_a's unfinished upload of a photo of the work order
    photo_sha: str = ""  # a stored "after" photo of the work order

    def fill(self, path: str, case: str) -> str:
        chosen = self.question if case == "question" and self.question else self.case
        path = path.replace("{case_id:str}", chosen.public_id)
        path = path.replace("{number:str}", self.number)
        path = path.replace("{device_id:str}", CREW_A_TABLET)
        path = path.replace("{token:str}", self.upload_token)
        path = path.replace("{sha256:str}", self.photo_sha).replace("{variant:str}", "display")
        if chosen.citizen is not None:
            path = path.replace("{citizen_id:int}", str(chosen.citizen.id))
        if chosen.place is not None:
            path = path.replace("{place_id:int}", str(chosen.place.id))
        return path

    @property
    def number(self) -> str:
        return self.work_order.number


Body = Callable[[Scenario], dict[str, Any]]
Check = Callable[[dict, Scenario, str], bool]  # (answer body, scenario, role)


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's own path, as Litestar spells it
    expect: dict[str, int]
    body: Body | None = None
    params: dict[str, str] = field(default_factory=dict)
    variant: str = ""
    case: str = "pothole"  # which case {case_id:str} is: "pothole" or "question"
    completed_first: bool = False  # complete the work order before the request
    check: Check | None = None  # on the allowed answer's body
    setup: str = ""  # "upload": crew_a starts an upload; "photo": crew_a uploads a photo
    headers: Callable[[Scenario], dict[str, str]] | None = None
    content: Callable[[Scenario], bytes] | None = None  # a raw body instead of JSON

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")


def outcomes(
    *, advocate: int, crew_own: int, crew_other: int, supervisor: int, admin: int
) -> dict[str, int]:
    return {
        "advocate": advocate,
        "crew_own": crew_own,
        "crew_other": crew_other,
        "supervisor": supervisor,
        "admin": admin,
        "anonymous": 401,
    }


def everyone(code: int) -> dict[str, int]:
    return outcomes(advocate=code, crew_own=code, crew_other=code, supervisor=code, admin=code)


def office(code: int) -> dict[str, int]:
    """Advocates, supervisors and admins; crews may not."""
    return outcomes(advocate=code, crew_own=403, crew_other=403, supervisor=code, admin=code)


def admin_only(code: int) -> dict[str, int]:
    return outcomes(advocate=403, crew_own=403, crew_other=403, supervisor=403, admin=code)


WO = "/api/work-orders/{number:str}"

TABLE: list[Row] = [
    Row(
        "GET",
        "/api/auth/me",
        everyone(200),
        check=lambda b, _, role: b["username"] == USER_OF_ROLE[role],  # who the token says
    ),
    Row("GET", "/api/users", admin_only(200), check=lambda b, *_: len(b) == 5),
    Row(
        "POST",
        "/api/users",
        admin_only(201),
        body=lambda s: {"username": "newbie", "password": "long enough", "role": "advocate"},
        check=lambda b, *_: b["username"] == "newbie" and b["role"] == "advocate",
    ),
    Row("GET", "/api/service-types", everyone(200), check=lambda b, *_: len(b) == 2),
    Row("GET", "/api/crews", everyone(200), check=lambda b, *_: len(b) == 2),
    Row(
        "GET",
        "/api/citizens",
        office(200),
        params={"q": "Ada"},
        check=lambda b, *_: [c["name"] for c in b] == ["Ada Caller"],
    ),
    Row(
        "GET",
        "/api/citizens/{citizen_id:int}",
        office(200),
        check=lambda b, s, _: [c["public_id"] for c in b["cases"]] == [s.case.public_id],
    ),
    Row(
        "GET",
        "/api/places/{place_id:int}",
        office(200),
        check=lambda b, s, _: [c["public_id"] for c in b["cases"]] == [s.case.public_id],
    ),
    Row(
        "POST",
        "/api/cases",
        office(201),
        body=lambda s: {"service_code": "general_question", "description": "Bin day?"},
        check=lambda b, *_: b["status"] == "open",
    ),
    Row(
        "GET",
        "/api/cases",
        office(200),
        check=lambda b, s, _: [c["public_id"] for c in b["items"]] == [s.case.public_id],
    ),
    Row(
        "GET",
        "/api/cases/{case_id:str}",
        office(200),
        check=lambda b, *_: b["status"] == "in_progress",
    ),
    Row(
        "POST",
        "/api/cases/{case_id:str}/resolve",
        office(200),
        body=lambda s: {"resolution": "Told the caller the bin day"},
        case="question",
        check=lambda b, *_: b["status"] == "resolved",
    ),
    Row(
        "POST",
        "/api/cases/{case_id:str}/notes",
        office(201),
        body=lambda s: {"body": "Called back"},
        check=lambda b, *_: b["timeline"][-1]["kind"] == "note",
    ),
    Row(
        "POST",
        "/api/cases/{case_id:str}/calls",
        office(201),
        body=lambda s: {"body": "Caller asked again"},
        check=lambda b, *_: b["timeline"][-1]["kind"] == "call",
    ),
    Row(
        "POST",
        "/api/cases/{case_id:str}/work-orders",
        office(201),
        body=lambda s: {"priority": "high"},
        check=lambda b, *_: b["status"] == "new" and b["crew"] is None,
    ),
    Row(
        "POST",
        "/api/cases/{case_id:str}/work-orders",
        outcomes(advocate=403, crew_own=403, crew_other=403, supervisor=201, admin=201),
        body=lambda s: {"crew_id": s.town.crew_b},
        variant="dispatched at once",
        check=lambda b, *_: b["status"] == "assigned" and b["crew"]["name"] == "Streets B",
    ),
    Row(
        "GET",
        "/api/work-orders",
        everyone(200),
        check=lambda b, s, role: (
            [i["number"] for i in b["items"]] == ([] if role == "crew_other" else [s.number])
        ),
    ),
    Row(
        "GET",
        WO,
        outcomes(advocate=200, crew_own=200, crew_other=404, supervisor=200, admin=200),
        check=lambda b, *_: b["crew"]["name"] == "Streets A",
    ),
    Row(
        "POST",
        WO + "/assign",
        outcomes(advocate=403, crew_own=403, crew_other=404, supervisor=200, admin=200),
        body=lambda s: {"crew_id": s.town.crew_b},
        check=lambda b, *_: b["crew"]["name"] == "Streets B" and b["status"] == "assigned",
    ),
    Row(
        "POST",
        WO + "/status",
        outcomes(advocate=403, crew_own=200, crew_other=404, supervisor=200, admin=200),
        body=lambda s: {"status": "en_route", "expected_status": "assigned"},
        variant="field progress",
        check=lambda b, *_: b["status"] == "en_route",
    ),
    Row(
        "POST",
        WO + "/status",
        outcomes(advocate=200, crew_own=403, crew_other=404, supervisor=200, admin=200),
        body=lambda s: {"status": "cancelled"},
        variant="cancel",
        check=lambda b, *_: b["status"] == "cancelled",
    ),
    Row(
        "POST",
        WO + "/status",
        outcomes(advocate=403, crew_own=403, crew_other=404, supervisor=200, admin=200),
        body=lambda s: {"status": "reopened"},
        variant="reopen",
        completed_first=True,
        check=lambda b, *_: b["status"] == "reopened" and b["resolution_code"] is None,
    ),
    Row(
        "POST",
        WO + "/notes",
        outcomes(advocate=201, crew_own=201, crew_other=404, supervisor=201, admin=201),
        body=lambda s: {"body": "Cones placed"},
        check=lambda b, *_: b["timeline"][-1]["body"] == "Cones placed",
    ),
    Row(
        "POST",
        "/api/sync/devices",
        outcomes(advocate=403, crew_own=200, crew_other=200, supervisor=403, admin=200),
        body=lambda s: {"device_id": "tablet-new-0001", "name": "Truck 4"},
        check=lambda b, _, role: b["username"] == USER_OF_ROLE[role] and b["name"] == "Truck 4",
    ),
    Row(
        "GET",
        "/api/sync/devices",
        outcomes(advocate=403, crew_own=200, crew_other=200, supervisor=200, admin=200),
        check=lambda b, _, role: (
            [d["device_id"] for d in b] == ([] if role == "crew_other" else [CREW_A_TABLET])
        ),
    ),
    Row(
        "POST",
        "/api/sync/devices/{device_id:str}/revoke",
        outcomes(advocate=403, crew_own=403, crew_other=403, supervisor=200, admin=200),
        body=lambda s: {"reason": "Tablet lost"},
        check=lambda b, *_: b["revoke_reason"] == "Tablet lost" and b["revoked_at"],
    ),
    Row(
        "POST",
        "/api/sync/pull",
        outcomes(advocate=403, crew_own=200, crew_other=404, supervisor=403, admin=404),
        body=lambda s: {"device_id": CREW_A_TABLET},
        check=lambda b, s, _: [w["work_order"]["number"] for w in b["work_orders"]] == [s.number],
    ),
    Row(
        "POST",
        "/api/sync/push",
        outcomes(advocate=403, crew_own=200, crew_other=404, supervisor=403, admin=404),
        body=lambda s: {
            "device_id": CREW_A_TABLET,
            "mutations": [
                {
                    "seq": 1,
                    "id": "mutation-0001",
                    "name": "add_note",
                    "args": {"work_order": s.number, "body": "Cones placed"},
                }
            ],
        },
        check=lambda b, *_: [r["status"] for r in b["results"]] == ["applied"],
    ),
    Row(
        "POST",
        "/api/uploads",
        outcomes(advocate=403, crew_own=201, crew_other=404, supervisor=201, admin=201),
        headers=lambda s: (
            TUS
            | {
                "Upload-Length": str(len(PHOTO)),
                "Upload-Metadata": upload_metadata(s.number, PHOTO),
            }
        ),
    ),
    Row(
        "PATCH",
        "/api/uploads/{token:str}",
        # an upload is its creator's alone: anyone else reads it as missing
        outcomes(advocate=404, crew_own=204, crew_other=404, supervisor=404, admin=404),
        setup="upload",
        headers=lambda s: (
            TUS | {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        ),
        content=lambda s: PHOTO[:100],
    ),
    Row(
        "DELETE",
        "/api/uploads/{token:str}",
        outcomes(advocate=404, crew_own=204, crew_other=404, supervisor=404, admin=404),
        setup="upload",
        headers=lambda s: TUS,
    ),
    Row(
        "GET",
        WO + "/photos",
        outcomes(advocate=200, crew_own=200, crew_other=404, supervisor=200, admin=200),
        setup="photo",
        check=lambda b, s, _: [(p["sha256"], p["status"]) for p in b] == [(s.photo_sha, "ready")],
    ),
    Row(
        "PATCH",
        WO + "/photos/{sha256:str}",
        outcomes(advocate=200, crew_own=403, crew_other=404, supervisor=200, admin=200),
        setup="photo",
        body=lambda s: {"shareable": False},
        check=lambda b, *_: b["shareable"] is False,
    ),
    Row(
        "POST",
        "/api/push/subscriptions",
        everyone(201),
        body=lambda s: DEVICE,
        check=lambda b, _, role: b["user"] == USER_OF_ROLE[role],
    ),
    Row(
        "POST",
        "/api/push/unsubscribe",
        # a device belongs to its user: anyone else's answer is "no device of yours"
        outcomes(advocate=404, crew_own=204, crew_other=404, supervisor=404, admin=404),
        setup="device",
        body=lambda s: {"endpoint": DEVICE["endpoint"]},
    ),
    Row(
        "GET",
        "/api/cases/{case_id:str}/notifications",
        office(200),
        check=lambda b, *_: b == [],
    ),
    Row(
        "GET",
        "/api/photos/{sha256:str}/{variant:str}",
        outcomes(advocate=200, crew_own=200, crew_other=404, supervisor=200, admin=200),
        setup="photo",
    ),
]
# /api/track/… is public by design (the case's secret tracking token is the key): its rules
# are tested in tests/media/test_routes.py and tests/notifications/test_routes.py; so is the
# push public key.
PUBLIC_PATHS = ("/api/auth/login", "/api/track/", "/api/push/key")


@pytest.fixture(scope="module")
def bare_app() -> Iterator[Litestar]:
    """The app with no database behind it: enough to list routes and to knock without a token
    (authentication answers before anything touches the database)."""
    with tempfile.TemporaryDirectory() as var_dir:
        yield create_app(make_settings(f"sqlite:///{Path(var_dir) / 'unused.sqlite3'}", var_dir))


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


def test_the_table_covers_every_route_and_role(bare_app: Litestar) -> None:
    served = {
        (method, route.path)
        for route in bare_app.routes
        for method in getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}
        if route.path.startswith("/api/") and not route.path.startswith(PUBLIC_PATHS)
    }
    assert {(row.method, row.path) for row in TABLE} == served
    for row in TABLE:
        assert set(row.expect) == set(ROLES), row.name
        assert row.expect["anonymous"] == 401, row.name


async def _scenario(town: Town, row: Row) -> Scenario:
    case = await make_case(town)
    scenario = Scenario(town, case, await make_work_order(town, case, crew_id=town.crew_a))
    await register_device(town.users["crew_a"], DeviceRegister(device_id=CREW_A_TABLET))
    if row.case == "question":
        scenario.question = await make_case(
            town, service_code="general_question", description="When is bin day?", address=None
        )
    if row.completed_first:
        await set_work_order_status(
            scenario.number, WorkOrderStatus.COMPLETED, resolution_code="repaired"
        )
    if row.setup == "device":
        await notify.register_device(
            town.users["crew_a"], msgspec.convert(DEVICE, SubscriptionIn), ("fcm.googleapis.com",)
        )
    elif row.setup:
        media = town.app.state.media
        crew = town.users["crew_a"]
        created = await uploads.create_upload(
            crew, media, str(len(PHOTO)), upload_metadata(scenario.number, PHOTO)
        )
        scenario.upload_token = created.token
        if row.setup == "photo":
            await uploads.receive(crew, media, created.token, 0, None, _once(PHOTO))
            scenario.photo_sha = sha256_of(PHOTO)
    return scenario


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _snapshot(number: str) -> list[dict]:
    """Everything a refused request must leave untouched, in one query."""
    return await Activity.raw(
        "SELECT (SELECT count(*) FROM activities) AS activities,"
        " (SELECT count(*) FROM users) AS users,"
        " (SELECT count(*) FROM cases) AS cases,"
        " (SELECT count(*) FROM work_orders) AS work_orders,"
        " (SELECT count(*) FROM devices) AS devices,"
        " (SELECT count(revoked_at) FROM devices) AS revoked,"
        " (SELECT max(last_seen_at) FROM devices) AS device_seen,"
        " (SELECT count(*) FROM mutations) AS mutations,"
        " (SELECT count(*) FROM uploads) AS uploads,"
        " (SELECT count(*) FROM push_subscriptions) AS devices_for_push,"
        " (SELECT coalesce(sum(received), 0) FROM uploads) AS received,"
        " (SELECT count(*) FROM photos WHERE shareable) AS shared,"
        " (SELECT status FROM work_orders WHERE number = {}) AS status,"
        " (SELECT crew FROM work_orders WHERE number = {}) AS crew",
        number,
        number,
    )


def _headers(town: Town, role: str) -> dict[str, str]:
    return town.headers(USER_OF_ROLE[role])


async def _request(
    client: httpx.AsyncClient, row: Row, path: str, scenario: Scenario, headers: dict[str, str]
) -> httpx.Response:
    extra = row.headers(scenario) if row.headers else {}
    if row.content:
        return await client.request(
            row.method, path, content=row.content(scenario), headers=headers | extra
        )
    body = row.body(scenario) if row.body else None
    return await client.request(
        row.method, path, json=body, params=row.params, headers=headers | extra
    )


@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
async def test_route_answers_no_token_with_401(bare_app: Litestar, row: Row) -> None:
    path = (
        row.path.replace("{case_id:str}", "2026-000001")
        .replace("{number:str}", "WO-2026-000001")
        .replace("{citizen_id:int}", "1")
        .replace("{place_id:int}", "1")
        .replace("{token:str}", "x" * 43)
        .replace("{sha256:str}", "0" * 64)
        .replace("{variant:str}", "display")
    )
    transport = httpx.ASGITransport(app=bare_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fieldloop.test") as client:
        body = {"body": "x"} if row.method == "POST" else None
        response = await client.request(row.method, path, json=body, params=row.params)
    assert response.status_code == row.expect["anonymous"] == 401, response.text
    assert response.json()["status_code"] == 401


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
async def test_route_answers_role(
    client: httpx.AsyncClient, town: Town, row: Row, role: str
) -> None:
    scenario = await _scenario(town, row)
    path = scenario.fill(row.path, row.case)
    before = await _snapshot(scenario.work_order.number)
    response = await _request(client, row, path, scenario, _headers(town, role))
    expected = row.expect[role]
    assert response.status_code == expected, response.text
    is_json = response.headers.get("content-type", "").startswith("application/json")
    body = response.json() if is_json else {}
    if expected < 300:
        if row.check is not None:
            assert row.check(body, scenario, role), body
        if row.method == "GET":
            assert await _snapshot(scenario.work_order.number) == before, "a read wrote"
        else:
            assert await _snapshot(scenario.work_order.number) != before, "nothing was written"
        return
    assert set(body) == {"status_code", "detail", "field", "extra"}
    assert body["status_code"] == expected
    assert await _snapshot(scenario.work_order.number) == before, "a refused request wrote"
    if expected == 404:
        # out of reach answers exactly as if the work order did not exist (the number may be
        # in the path or, for an upload, in its metadata)
        nowhere = replace(
            scenario, work_order=msgspec.structs.replace(scenario.work_order, number=UNKNOWN_NUMBER)
        )
        unknown = await _request(
            client,
            row,
            path.replace(scenario.work_order.number, UNKNOWN_NUMBER),
            nowhere,
            _headers(town, role),
        )
        assert unknown.status_code == 404
        assert unknown.json() == {
            **body,
            "detail": body["detail"].replace(scenario.work_order.number, UNKNOWN_NUMBER),
        }
    if expected == 403:
        user = town.users[USER_OF_ROLE[role]]
        assert body["detail"].startswith(f"a {user.role} may not")


async def test_crew_lists_hold_only_their_own_crews_work(
    client: httpx.AsyncClient, town: Town
) -> None:
    ours = [(await make_work_order(town, crew_id=town.crew_a)).number for _ in range(2)]
    theirs = (await make_work_order(town, crew_id=town.crew_b)).number
    await make_work_order(town)  # not dispatched: no crew sees it
    queries: list[dict[str, str]] = [
        {},
        {"crew_id": str(town.crew_a)},
        {"status": "assigned,new"},
        {"near": "35.7915,-78.7811", "radius_m": "5000"},
        {"service_code": "pothole", "limit": "1"},
    ]
    for params in queries:
        response = await client.get(
            "/api/work-orders", params=params, headers=town.headers("crew_b")
        )
        assert response.status_code == 200, response.text
        numbers = {item["number"] for item in response.json()["items"]}
        assert not numbers & set(ours), params
        assert numbers <= {theirs}, params
    response = await client.get("/api/work-orders", headers=town.headers("crew_b"))
    assert [item["number"] for item in response.json()["items"]] == [theirs]
    response = await client.get("/api/work-orders", headers=town.headers("crew_a"))
    assert sorted(item["number"] for item in response.json()["items"]) == sorted(ours)
    response = await client.get("/api/work-orders", headers=town.headers("supervisor"))
    assert len(response.json()["items"]) == 4
