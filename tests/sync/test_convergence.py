"""Convergence: random programs of offline edits, office decisions and an unreliable network
(answers lost after the server committed) must leave every tablet holding exactly what the
server says its crew should hold, and every mutation applied exactly once or rejected with a
reason (DESIGN §4).

Hypothesis draws the programs. The code under test is async and the `db`/`client` fixtures live
on the test's event loop, so the property runs in a worker thread (`asyncio.to_thread`) and
hands each example's scenario back to that loop (`run_coroutine_threadsafe`): one engine, one
pool, both databases, no event loop inside an event loop. Each example starts from empty tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar import Litestar
from piccolo.engine.base import Engine

from api.activities.tables import Activity
from api.settings import Settings
from api.workorders.schemas import FINAL_STATUSES, WorkOrderStatus
from api.workorders.tables import WorkOrder
from tests.conftest import _wipe
from tests.factories import (
    Tablet,
    Town,
    age_changes,
    crew_work,
    make_tablet,
    make_town,
    make_work_order,
    mutation_rows,
    office_assign,
    office_status,
    shared_app,
)

S = WorkOrderStatus
TABLETS = {"a1": "crew_a", "a2": "crew_a", "b1": "crew_b"}  # crew A's user has two tablets
NEXT_STEP = {
    "assigned": "en_route",
    "en_route": "on_site",
    "on_site": "on_hold",
    "on_hold": "on_site",
}
OUTCOME = {True: ("completed", "repaired"), False: ("cannot_complete", "no_access")}

tablet_names = st.sampled_from(sorted(TABLETS))
pick = st.integers(min_value=0, max_value=50)
network = st.one_of(
    st.tuples(st.just("push"), tablet_names, st.booleans(), st.integers(1, 4)),
    st.tuples(st.just("pull"), tablet_names, st.booleans(), st.integers(1, 3)),
    # one tablet pushes while another (or the same one, from a second tab) pulls
    st.tuples(st.just("at_once"), tablet_names, tablet_names),
)
operation = st.one_of(
    # a tablet's offline writes, on the work it holds (with its own pending changes on top)
    st.tuples(st.just("note"), tablet_names, pick),
    st.tuples(st.just("advance"), tablet_names, pick),
    st.tuples(st.just("complete"), tablet_names, pick, st.booleans()),
    # the office, on any work order
    st.tuples(st.just("reassign"), pick),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("reopen"), pick),
    st.tuples(st.just("create"), st.sampled_from(["crew_a", "crew_b"])),
    # time passes: finished work leaves the sync window; feed entries pass the tombstone horizon
    st.tuples(st.just("weeks_pass"), st.booleans()),
    # the network, drawn more often: (tablet, answer lost?, how many mutations or work orders)
    network,
    network,
    network,
)
programs = st.lists(operation, min_size=8, max_size=40)


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


def view(tablet: Tablet) -> dict[str, str]:
    """What the crew sees: the pulled store with its own pending changes on top."""
    statuses = tablet.statuses()
    for item in tablet.outbox:
        if item["name"] in ("set_status", "complete") and item["args"]["work_order"] in statuses:
            statuses[item["args"]["work_order"]] = item["args"]["status"]
    return statuses


class Scenario:
    def __init__(self, client: httpx.AsyncClient, town: Town, tablets: dict[str, Tablet]):
        self.client = client
        self.town = town
        self.tablets = tablets
        self.crews = {"crew_a": town.crew_a, "crew_b": town.crew_b}
        self.answers: dict[str, tuple[str, str | None]] = {}  # mutation id → first answer
        self.resets = 0

    async def step(self, op: tuple) -> None:
        kind = op[0]
        if kind in ("note", "advance", "complete"):
            self.offline_write(op)
        elif kind in ("reassign", "cancel", "reopen", "create"):
            await self.office(op)
        elif kind == "weeks_pass":
            await self.weeks_pass(tombstones=op[1])
        elif kind == "at_once":
            pusher, puller = self.tablets[op[1]], self.tablets[op[2]]
            await asyncio.gather(
                self.push(pusher, lost=False, count=len(pusher.outbox)),
                self.pull(puller, lost=False, limit=2),
            )
        elif kind == "push":
            await self.push(self.tablets[op[1]], lost=op[2], count=op[3])
        else:
            await self.pull(self.tablets[op[1]], lost=op[2], limit=op[3])

    def offline_write(self, op: tuple) -> None:
        tablet = self.tablets[op[1]]
        statuses = view(tablet)
        if not statuses:
            return
        number = sorted(statuses)[op[2] % len(statuses)]
        status = statuses[number]
        if op[0] == "note":
            tablet.queue(
                "add_note", work_order=number, body=f"{tablet.device_id} #{tablet.next_seq}"
            )
        elif op[0] == "advance" and status in NEXT_STEP:
            tablet.queue(
                "set_status", work_order=number, status=NEXT_STEP[status], expected_status=status
            )
        elif op[0] == "complete" and S(status) not in FINAL_STATUSES:
            outcome, code = OUTCOME[op[3]]
            tablet.queue("complete", work_order=number, status=outcome, resolution_code=code)

    async def office(self, op: tuple) -> None:
        if op[0] == "create":
            await make_work_order(self.town, crew_id=self.crews[op[1]])
            return
        rows = await WorkOrder.select(WorkOrder.number, WorkOrder.status, WorkOrder.crew).order_by(
            WorkOrder.id
        )
        row = rows[op[1] % len(rows)]
        final = S(row["status"]) in FINAL_STATUSES
        if op[0] == "reassign" and not final:
            other = self.town.crew_b if row["crew"] == self.town.crew_a else self.town.crew_a
            await office_assign(self.town, row["number"], other)
        elif op[0] == "cancel" and not final:
            await office_status(self.town, row["number"], S.CANCELLED)
        elif op[0] == "reopen" and final:
            await office_status(self.town, row["number"], S.REOPENED)

    async def weeks_pass(self, *, tombstones: bool) -> None:
        """Move the past back: finished work 8 days (past the 7-day window), and with
        `tombstones` every feed entry 31 days (past the 30-day retention)."""
        long_ago = datetime.now(UTC) - timedelta(days=8)
        await WorkOrder.update({WorkOrder.completed_at: long_ago}).where(
            WorkOrder.completed_at.is_not_null()
        )
        if tombstones:
            await age_changes(datetime.now(UTC) - timedelta(days=31))

    async def push(self, tablet: Tablet, *, lost: bool, count: int) -> None:
        if not tablet.outbox:
            return
        response = await tablet.push(tablet.outbox[:count])
        assert response.status_code == 200, response.text
        for result in response.json()["results"]:
            answer = (result["status"], result["reason"])
            assert answer[0] in ("applied", "rejected"), result
            # a replay answers exactly what the first delivery did
            assert self.answers.setdefault(result["id"], answer) == answer, result
        if not lost:
            tablet.acknowledge(response.json()["last_mutation_seq"])

    async def pull(self, tablet: Tablet, *, lost: bool, limit: int) -> None:
        response = await tablet.pull(limit)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["last_mutation_seq"] <= len(tablet.sent)
        if lost:
            return
        if page["reset"]:  # the outbox goes first, then the tablet forgets its work orders
            assert "offline longer" in page["reason"]
            self.resets += 1
            while tablet.outbox:
                await self.push(tablet, lost=False, count=len(tablet.outbox))
        tablet.apply(page)

    async def check(self) -> None:
        for tablet in self.tablets.values():  # everyone's outbox first: pushes change things
            while tablet.outbox:
                await self.push(tablet, lost=False, count=len(tablet.outbox))
        for tablet in self.tablets.values():
            await tablet.sync(limit=2)
        for name, tablet in self.tablets.items():
            user = TABLETS[name]
            assert tablet.statuses() == await crew_work(self.crews[user]), name
            for number, held in tablet.store.items():  # whole rows, timelines included
                current = await self.client.get(
                    f"/api/work-orders/{number}", headers=self.town.headers(user)
                )
                assert held == current.json(), (name, number)
            await self.check_mutations(tablet)

    async def check_mutations(self, tablet: Tablet) -> None:
        rows = await mutation_rows(tablet.device_id)
        assert [(r["seq"], r["mutation_id"]) for r in rows] == [
            (m["seq"], m["id"]) for m in tablet.sent
        ]
        for row, sent in zip(rows, tablet.sent, strict=True):
            assert row["status"] in ("applied", "rejected")
            if row["status"] == "rejected":
                assert row["result"]["reason"], row
            if sent["id"] in self.answers:
                assert self.answers[sent["id"]] == (row["status"], row["result"]["reason"])
            if sent["name"] == "add_note":  # applied exactly once, or not at all
                notes = await Activity.count().where(
                    (Activity.kind == "note") & (Activity.body == sent["args"]["body"])
                )
                assert notes == (1 if row["status"] == "applied" else 0), sent


async def scenario(db: Engine, app: Litestar, client: httpx.AsyncClient, program: list) -> None:
    await _wipe(db)
    town = await make_town(app)
    for crew_id in (town.crew_a, town.crew_a, town.crew_b):
        await make_work_order(town, crew_id=crew_id)
    tablets = {
        name: await make_tablet(client, town, user, f"tablet-{name}")
        for name, user in TABLETS.items()
    }
    for tablet in tablets.values():  # the start of the day: every tablet has its work
        await tablet.sync()
    run = Scenario(client, town, tablets)
    for op in program:
        await run.step(op)
    await run.check()


async def test_tablets_converge_whatever_the_network_does(
    db: Engine, app: Litestar, client: httpx.AsyncClient
) -> None:
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    @hypothesis_settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(programs)
    def converges(program: list) -> None:
        on_loop(scenario(db, app, client, program))

    await asyncio.to_thread(converges)
