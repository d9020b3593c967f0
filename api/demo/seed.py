"""The Faker town builder: plans every row of the demo town in memory, with its ids.

Deterministic: Faker and `random.Random` are seeded with `random_seed` and every time is an
offset from `now`, so the same seed and `now` give the same town (tracking tokens excepted: they
are secrets, from `new_tracking_token()`). The rows follow the services' rules, so the demo
shows what real use would leave behind: work orders move only along `TRANSITIONS`, timeline
entries are worded and flagged `public` as the services write them, a case's status is
`case_status_for` its work orders, and numbers run per year in creation order, continuing from
the counters given. Nothing here touches the database: `api.demo.seed_town` writes the plan.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from faker import Faker
from piccolo.table import Table

from api.activities.schemas import ActivityKind as Kind
from api.activities.tables import Activity
from api.auth.schemas import Role
from api.auth.tables import User
from api.cases.schemas import CASE_STATUS_WORDS, CaseStatus, Channel
from api.cases.service import case_status_for, new_tracking_token
from api.cases.tables import Case
from api.catalog.tables import Department, ServiceType
from api.citizens.service import normalize_address
from api.citizens.tables import Citizen, Place
from api.crews.tables import Crew
from api.demo import catalog
from api.demo.catalog import DemoServiceType
from api.workorders.schemas import PUBLIC_STATUSES, RESOLUTION_CODES, STATUS_WORDS
from api.workorders.schemas import WorkOrderStatus as S
from api.workorders.tables import WorkOrder

DEFAULT_RANDOM_SEED = 311
HISTORY = timedelta(days=90)
TOWN_SIZE = {"citizens": 500, "places": 1_200, "cases": 1_500}  # at scale 1
WORK_ORDER_SHARE = 0.40  # of all cases
TOWN_TABLES = (Department, ServiceType, Crew, User, Citizen, Place, Case, WorkOrder, Activity)
_EASTERN = timedelta(hours=-5)  # Cary's clock (standard time), for office hours
_OFFICE_CHANNELS = (Channel.PHONE, Channel.WALK_IN)
_CHANNELS = {Channel.PHONE: 55, Channel.WEB: 20, Channel.EMAIL: 12, Channel.WALK_IN: 8,
             Channel.OPEN311: 5}  # fmt: skip
# Work-order outcomes by the case's age in days: recent work is active, old work mostly done.
_OUTCOMES_BY_AGE = (
    (3, {S.NEW: 22, S.ASSIGNED: 25, S.EN_ROUTE: 12, S.ON_SITE: 10, S.ON_HOLD: 5,
         S.COMPLETED: 18, S.CANNOT_COMPLETE: 3, S.CANCELLED: 3, S.REOPENED: 2}),
    (21, {S.NEW: 4, S.ASSIGNED: 10, S.EN_ROUTE: 3, S.ON_SITE: 3, S.ON_HOLD: 8,
          S.COMPLETED: 58, S.CANNOT_COMPLETE: 6, S.CANCELLED: 5, S.REOPENED: 3}),
    (math.inf, {S.NEW: 1, S.ASSIGNED: 2, S.ON_HOLD: 3, S.COMPLETED: 80,
                S.CANNOT_COMPLETE: 7, S.CANCELLED: 6, S.REOPENED: 1}),
)  # fmt: skip
# The statuses a work order passes through after creation to reach each outcome.
_PATHS = {
    S.NEW: ((),),
    S.ASSIGNED: ((S.ASSIGNED,),),
    S.EN_ROUTE: ((S.ASSIGNED, S.EN_ROUTE),),
    S.ON_SITE: ((S.ASSIGNED, S.EN_ROUTE, S.ON_SITE), (S.ASSIGNED, S.ON_SITE)),
    S.ON_HOLD: ((S.ASSIGNED, S.ON_HOLD), (S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.ON_HOLD)),
    S.COMPLETED: ((S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.COMPLETED),
                  (S.ASSIGNED, S.ON_SITE, S.COMPLETED),
                  (S.ASSIGNED, S.ON_HOLD, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.COMPLETED)),
    S.CANNOT_COMPLETE: ((S.ASSIGNED, S.EN_ROUTE, S.CANNOT_COMPLETE),
                        (S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.CANNOT_COMPLETE)),
    S.CANCELLED: ((S.CANCELLED,), (S.ASSIGNED, S.CANCELLED)),
    S.REOPENED: ((S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.COMPLETED, S.REOPENED),),
}  # fmt: skip
# How long after the previous step each one comes: hours, or a share of the SLA hours.
_STEP_HOURS = {S.ON_SITE: (0.2, 1.0), S.COMPLETED: (0.3, 3.0), S.CANNOT_COMPLETE: (0.3, 2.0),
               S.ON_HOLD: (0.5, 3), S.CANCELLED: (0.5, 24), S.REOPENED: (4, 96)}  # fmt: skip
_STEP_SLA_SHARE = {S.ASSIGNED: (0.05, 0.3), S.EN_ROUTE: (0.02, 0.25)}
_NOTES_FOR = {S.ON_HOLD: catalog.HOLD_REASONS, S.CANCELLED: catalog.CANCEL_REASONS,
              S.REOPENED: catalog.REOPEN_REASONS, S.COMPLETED: catalog.FIELD_NOTES}  # fmt: skip
Row = dict[str, Any]
Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass
class TownPlan:
    rows: dict[type[Table], list[Row]]  # per table, parents first, each row with its id
    counters: dict[str, int]  # counter name → last number used


def plan_town(
    *,
    scale: float,
    random_seed: int,
    now: datetime,
    password_hash: str,
    counters: dict[str, int],
    progress: Progress | None = None,
) -> TownPlan:
    """Every row of a town `scale` times the standard size, for an empty database."""
    builder = _TownBuilder(scale, random_seed, now, password_hash, counters)
    builder.build(progress or (lambda step, done, total: None))
    return TownPlan(rows=builder.rows, counters=builder.counters)


@dataclass
class _WorkOrderPlan:
    case: Row
    service_type: DemoServiceType
    outcome: S
    created_at: datetime


class _TownBuilder:
    """Plans the rows; a row's id is its position in its table's list (the tables are empty)."""

    def __init__(
        self, scale: float, seed: int, now: datetime, password_hash: str, counters: dict[str, int]
    ) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.now, self.password_hash, self.counters = now, password_hash, dict(counters)
        self.size = {name: max(1, round(n * scale)) for name, n in TOWN_SIZE.items()}
        self.rows: dict[type[Table], list[Row]] = {table: [] for table in TOWN_TABLES}
        self.activities: list[Row] = []  # ids once sorted by the time they were recorded
        self.first_seen: dict[tuple[type[Table], int], datetime] = {}
        self.ids: dict[str, int] = {}  # service type code or crew name → id
        self.members: dict[str, list[int]] = {}  # crew name → user ids
        self.staff: dict[Role, int] = {}  # the demo login of each role
        self.homes: list[int] = []  # citizen id - 1 → home place id
        weight = {st.code: st.weight for st in catalog.SERVICE_TYPES}
        field_work = sum(weight[st.code] for st in catalog.SERVICE_TYPES if st.needs_work_order)
        self.work_order_chance = WORK_ORDER_SHARE * sum(weight.values()) / field_work

    def add(self, table: type[Table], **values: Any) -> Row:
        row = {"id": len(self.rows[table]) + 1, **values}
        self.rows[table].append(row)
        return row

    def next_number(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def build(self, report: Progress) -> None:
        steps = (self.catalogue_and_staff, self.places_and_citizens, self.cases, self.timeline)
        for done, step in enumerate(steps):
            report("Planning the town", done, len(steps))
            step()
        report("Planning the town", len(steps), len(steps))

    def catalogue_and_staff(self) -> None:
        departments = {}
        for code, name in catalog.DEPARTMENTS.items():
            departments[code] = self.add(Department, code=code, name=name)["id"]
        for st in catalog.SERVICE_TYPES:
            self.ids[st.code] = self.add(
                ServiceType, code=st.code, name=st.name, description=st.description,
                group_name=st.group, keywords=",".join(st.keywords),
                attributes=st.attribute_definitions(), department=departments[st.department],
                needs_work_order=st.needs_work_order, sla_hours=st.sla_hours, active=True,
            )["id"]  # fmt: skip
        for name, department in catalog.CREWS.items():
            self.ids[name] = self.add(Crew, name=name, department=departments[department])["id"]
        for login in catalog.DEMO_LOGINS:
            self.staff.setdefault(login.role, self.user(login.username, login.role, login.crew))
        taken = {login.username for login in catalog.DEMO_LOGINS}
        for crew in catalog.CREWS:
            for _ in range(self.rng.randint(1, 2)):  # with the demo login: 2 or 3 members
                first, last = self.fake.first_name(), self.fake.last_name()
                username = _slug(f"{first}.{last}")
                while username in taken:
                    username += str(self.rng.randint(0, 9))
                taken.add(username)
                self.user(username, Role.CREW, crew, f"{first} {last}")

    def user(self, username: str, role: Role, crew: str | None, name: str = "") -> int:
        row = self.add(
            User, username=username, display_name=name or self.fake.name(),
            password_hash=self.password_hash, role=role.value,
            crew=self.ids[crew] if crew else None, active=True,
            created_at=self.now - HISTORY - timedelta(days=30),
        )  # fmt: skip
        if crew:
            self.members.setdefault(crew, []).append(row["id"])
        return row["id"]

    def places_and_citizens(self) -> None:
        """Addresses along real Cary streets (each street in one part of town); the first
        places are the citizens' homes."""
        rng, radius = self.rng, catalog.TOWN_RADIUS_M - 1_500
        anchors = {street: _offset(*catalog.CARY_CENTRE, radius, rng) for street in catalog.STREETS}
        seen: set[str] = set()
        while len(self.rows[Place]) < self.size["places"]:
            street = rng.choice(catalog.STREETS)
            address = f"{rng.randint(100, 9999)} {street}"
            if (key := normalize_address(address)) in seen:
                continue
            seen.add(key)
            lat, lng = _offset(*anchors[street], 1_200, rng)
            self.add(
                Place, address=address, normalized_address=key, lat=lat, lng=lng, asset_id=None,
                created_at=self.now - HISTORY - timedelta(days=rng.uniform(1, 700)),
            )  # fmt: skip
        phones: set[str] = set()
        for index in range(self.size["citizens"]):
            home = self.rows[Place][index % len(self.rows[Place])]
            self.homes.append(home["id"])
            first, last = self.fake.first_name(), self.fake.last_name()
            phone = ""
            while not phone or phone in phones:  # digits only, as normalize_phone stores them
                area, exchange = rng.choice(("919", "984")), rng.randint(200, 999)
                phone = f"{area}{exchange}{rng.randint(0, 9999):04d}"
            phones.add(phone)
            domain = rng.choice(("com", "net", "org"))
            email = f"{_slug(f'{first}.{last}')}{index}@example.{domain}"
            email = email if rng.random() < 0.6 else None
            phone = phone if rng.random() < 0.92 or email is None else None
            preference = rng.choices(("phone", "sms", "email", "none"), (50, 15, 30, 5))[0]
            if preference != "none" and (preference == "email") != (phone is None):
                preference = "email" if phone is None else "phone"
            self.add(
                Citizen, name=f"{first} {last}", phone=phone, email=email,
                address=f"{home['address']}, Cary, NC {rng.choice(catalog.ZIP_CODES)}",
                contact_preference=preference,
                created_at=self.now - HISTORY - timedelta(days=rng.uniform(1, 700)),
            )  # fmt: skip

    def cases(self) -> None:
        """Every case in the order it came in, numbered per year; each is answered on the
        phone, left open or given a work order."""
        rng, services = self.rng, catalog.SERVICE_TYPES
        drafts = []
        for _ in range(self.size["cases"]):
            service = rng.choices(services, [st.weight for st in services])[0]
            channel = rng.choices(list(_CHANNELS), list(_CHANNELS.values()))[0]
            drafts.append((self.received_at(channel), service, channel))
        plans = []
        for created_at, service, channel in sorted(drafts, key=lambda draft: draft[0]):
            case = self.case(created_at, service, channel)
            if service.needs_work_order and rng.random() < self.work_order_chance:
                plans.append(self.work_order_plan(case, service))
            else:
                self.answer(case, service)
        self.work_orders(plans)

    def received_at(self, channel: Channel) -> datetime:
        """A time in the last 90 days; phone calls and visits come in Cary's office hours."""
        day = (self.now + _EASTERN).date() - timedelta(days=self.rng.randrange(HISTORY.days))
        office = channel in _OFFICE_CHANNELS
        hours = self.rng.uniform(7.5, 18.5) if office else self.rng.uniform(0, 24)
        moment = datetime.combine(day, time(tzinfo=UTC)) - _EASTERN + timedelta(hours=hours)
        return moment if moment < self.now else moment - timedelta(days=1)

    def case(self, created_at: datetime, service: DemoServiceType, channel: Channel) -> Row:
        rng, staff_channel = self.rng, channel not in (Channel.WEB, Channel.OPEN311)
        citizen = None
        if rng.random() >= (0.08 if staff_channel else 0.35):  # else anonymous
            citizen = int(len(self.homes) * rng.random() ** 1.6) + 1  # some call often
        place = rng.choice(self.rows[Place])["id"]
        if citizen and service.at_home and rng.random() < 0.85:
            place = self.homes[citizen - 1]
        if not service.needs_work_order and rng.random() < 0.5:
            place = None
        year = created_at.year
        case = self.add(
            Case, public_id=f"{year}-{self.next_number(f'case-{year}'):06d}",
            tracking_token=new_tracking_token(), citizen=citizen,
            service_type=self.ids[service.code], place=place,
            description=rng.choice(service.reports), channel=channel.value,
            attributes=self.answers(service), status=CaseStatus.OPEN.value, resolution=None,
            resolved_at=None, created_by=self.staff[Role.ADVOCATE] if staff_channel else None,
            created_at=created_at, updated_at=created_at,
        )  # fmt: skip
        for key in ((Citizen, citizen), (Place, place)):
            if key[1] is not None:
                self.first_seen.setdefault(key, created_at)  # cases come oldest first
        body = f"Request received by {channel.value.replace('_', '-')}: {service.name}"
        data = {"public_id": case["public_id"]}
        self.record(
            case, Kind.CASE_CREATED, created_at, case["created_by"], body, data, public=True
        )
        return case

    def answers(self, service: DemoServiceType) -> dict[str, str | list[str]]:
        """Valid answers to the service type's questions: every required one, some others."""
        answers: dict[str, str | list[str]] = {}
        for question in service.questions:
            if not question.required and self.rng.random() < 0.5:
                continue
            keys = [value.key for value in question.values]
            if question.datatype == "multivaluelist":
                answers[question.code] = self.rng.sample(keys, self.rng.randint(1, 2))
            elif keys:
                answers[question.code] = self.rng.choice(keys)
            else:
                answers[question.code] = self.rng.choice(catalog.SAMPLE_ANSWERS[question.code])
        return answers

    def answer(self, case: Row, service: DemoServiceType) -> None:
        """Most calls are resolved on the phone; the rest stay open, some with a note."""
        rng, age = self.rng, self.now - case["created_at"]
        advocate = self.staff[Role.ADVOCATE]
        if rng.random() < (0.6 if age < timedelta(days=1) else 0.9):
            quick = case["channel"] in _OFFICE_CHANNELS
            delay = timedelta(minutes=rng.uniform(2, 15) if quick else rng.uniform(30, 1_800))
            resolved_at = min(case["created_at"] + delay, self.now)
            resolution = rng.choice(service.phone_answers)
            case.update(status=CaseStatus.RESOLVED.value, resolution=resolution)
            case["resolved_at"] = resolved_at
            self.record(case, Kind.CASE_RESOLVED, resolved_at, advocate, resolution, public=True)
        elif rng.random() < 0.5:
            moment = case["created_at"] + age / 2
            self.record(case, Kind.NOTE, moment, advocate, rng.choice(catalog.OFFICE_NOTES))

    def work_order_plan(self, case: Row, service: DemoServiceType) -> _WorkOrderPlan:
        rng, age = self.rng, self.now - case["created_at"]
        days = age / timedelta(days=1)
        outcomes = next(weights for most, weights in _OUTCOMES_BY_AGE if days < most)
        outcome = rng.choices(list(outcomes), list(outcomes.values()))[0]
        quick = case["channel"] in _OFFICE_CHANNELS
        delay = timedelta(hours=rng.uniform(0.05, 0.5) if quick else rng.uniform(0.5, 8))
        return _WorkOrderPlan(case, service, outcome, case["created_at"] + min(delay, age / 2))

    def work_orders(self, plans: list[_WorkOrderPlan]) -> None:
        """Make sure every status has a work order, then play each story in creation order."""
        tally = Tally(plan.outcome for plan in plans)
        for status in S:
            spare = [plan for plan in plans if tally[plan.outcome] > 1]
            if tally[status] == 0 and spare:
                plan = self.rng.choice(spare)
                tally[plan.outcome] -= 1
                plan.outcome, tally[status] = status, 1
        for plan in sorted(plans, key=lambda plan: plan.created_at):
            self.play(plan)

    def play(self, plan: _WorkOrderPlan) -> None:
        """One work order from creation to its outcome, with the timeline the services write.

        Steps keep their natural pace unless that would run past now, then they are squeezed;
        the server records a crew's step a few minutes after the crew made it (sync)."""
        rng, case, sla, start = self.rng, plan.case, plan.service_type.sla_hours, plan.created_at
        path = rng.choice(_PATHS[plan.outcome])
        hours = [self.step_hours(status, sla) for status in path]
        room = (self.now - timedelta(minutes=5) - start) / timedelta(hours=1)
        squeeze = min(1.0, room * 0.95 / sum(hours)) if hours and room > 0 else 0.0
        supervisor, advocate = self.staff[Role.SUPERVISOR], self.staff[Role.ADVOCATE]
        creator = supervisor if rng.random() < 0.3 else advocate
        crew = rng.choice(plan.service_type.crews)
        worker, priority, year = rng.choice(self.members[crew]), _priority(sla, rng), start.year
        work_order = self.add(
            WorkOrder, number=f"WO-{year}-{self.next_number(f'work-order-{year}'):06d}",
            case=case["id"], service_type=case["service_type"], place=case["place"], crew=None,
            status=S.NEW.value, priority=priority, due_at=start + timedelta(hours=sla),
            instructions=rng.choice(catalog.INSTRUCTIONS) if rng.random() < 0.3 else "",
            resolution_code=None, completed_at=None, field_completed_at=None, completed_by=None,
            created_by=creator, created_at=start, updated_at=start,
        )  # fmt: skip
        body = f"Work order {work_order['number']} created ({priority} priority)"
        self.record(case, Kind.WORK_ORDER_CREATED, start, creator, body, work_order=work_order,
                    public=True)  # fmt: skip
        self.follow(case, S.NEW, start, creator)
        occurred = recorded = start
        for status, step in zip(path, hours, strict=True):
            dispatch = status is S.ASSIGNED and work_order["status"] == S.NEW
            in_field = not dispatch and status not in (S.CANCELLED, S.REOPENED)
            occurred += timedelta(hours=step * squeeze)
            lag = timedelta(hours=rng.uniform(0, 0.1) if in_field else 0)
            recorded = min(self.now, max(recorded, occurred + lag))
            actor = worker if in_field else supervisor
            if status is S.CANCELLED:
                actor = rng.choice((supervisor, advocate))
            if dispatch:
                work_order["crew"] = self.ids[crew]
                data = {"crew_id": self.ids[crew], "from_crew_id": None}
                self.record(case, Kind.ASSIGNED, recorded, actor, f"Assigned to {crew}", data,
                            work_order=work_order)  # fmt: skip
            else:
                self.change_status(case, work_order, status, (occurred, recorded), actor)
            work_order["status"] = status.value
            self.follow(case, status, recorded, actor)
        if work_order["status"] not in (S.NEW, S.CANCELLED) and rng.random() < 0.2:
            moment = recorded + (self.now - recorded) * rng.uniform(0.1, 0.9)
            self.record(case, Kind.CALL, moment, advocate, rng.choice(catalog.FOLLOW_UP_CALLS))

    def step_hours(self, status: S, sla_hours: int) -> float:
        if status in _STEP_SLA_SHARE:
            return self.rng.uniform(*_STEP_SLA_SHARE[status]) * sla_hours
        return self.rng.uniform(*_STEP_HOURS[status])

    def change_status(
        self, case: Row, work_order: Row, status: S, when: tuple[datetime, datetime], actor: int
    ) -> None:
        """What `api.workorders.service.change_status` writes; `when` is (occurred, recorded)."""
        (occurred, recorded), code, body = when, None, STATUS_WORDS[status]
        if status in RESOLUTION_CODES:
            code = self.rng.choice(list(RESOLUTION_CODES[status]))
            body += f": {RESOLUTION_CODES[status][code]}"
            work_order.update(resolution_code=code, completed_at=recorded, completed_by=actor)
            work_order["field_completed_at"] = occurred
        elif status is S.REOPENED:
            work_order.update(resolution_code=None, completed_at=None, completed_by=None)
            work_order["field_completed_at"] = None
        data = {"from": work_order["status"], "to": status.value, "resolution_code": code}
        self.record(case, Kind.STATUS_CHANGED, recorded, actor, body, data, work_order=work_order,
                    public=status in PUBLIC_STATUSES, occurred_at=occurred)  # fmt: skip
        if status in _NOTES_FOR and (status is not S.COMPLETED or self.rng.random() < 0.4):
            note = self.rng.choice(_NOTES_FOR[status])
            self.record(case, Kind.NOTE, recorded, actor, note, work_order=work_order,
                        occurred_at=occurred)  # fmt: skip

    def follow(self, case: Row, status: S, at: datetime, actor: int) -> None:
        """The case follows its (single) work order, as `refresh_case_status` makes it."""
        target = case_status_for({status})
        if case["status"] == target.value:
            return
        data, public = {"from": case["status"], "to": target.value}, target is not CaseStatus.OPEN
        self.record(
            case, Kind.CASE_STATUS, at, actor, CASE_STATUS_WORDS[target], data, public=public
        )
        resolved = target is CaseStatus.RESOLVED
        case.update(status=target.value, resolution="Field work completed" if resolved else None)
        case["resolved_at"] = at if resolved else None

    def record(
        self, case: Row, kind: Kind, at: datetime, actor: int | None, body: str,
        data: dict[str, Any] | None = None, *, work_order: Row | None = None,
        public: bool = False, occurred_at: datetime | None = None,
    ) -> None:  # fmt: skip
        """A timeline entry recorded at `at`; it touches its work order, or else its case."""
        self.activities.append(
            {"case": case["id"], "work_order": work_order["id"] if work_order else None,
             "kind": kind.value, "body": body, "data": data or {}, "actor": actor,
             "public": public, "occurred_at": occurred_at or at, "recorded_at": at}
        )  # fmt: skip
        touched = work_order if work_order is not None else case
        touched["updated_at"] = max(touched["updated_at"], at)

    def timeline(self) -> None:
        """Activity ids in the order the server recorded them; first contact dates."""
        self.activities.sort(key=lambda entry: entry["recorded_at"])  # stable: story order
        for number, entry in enumerate(self.activities, start=1):
            self.rows[Activity].append({"id": number, **entry})
        for table in (Citizen, Place):
            for row in self.rows[table]:
                row["created_at"] = self.first_seen.get((table, row["id"]), row["created_at"])


def _priority(sla_hours: int, rng: random.Random) -> str:
    if sla_hours <= 8:
        return "urgent" if rng.random() < 0.7 else "high"
    if sla_hours <= 24:
        return "high" if rng.random() < 0.5 else "normal"
    return rng.choices(("low", "normal", "high"), (10, 80, 10))[0]


def _offset(lat: float, lng: float, radius_m: float, rng: random.Random) -> tuple[float, float]:
    """A uniformly random point within `radius_m` of (lat, lng), to 6 decimals (~10 cm)."""
    distance, bearing = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    north, east = distance * math.cos(bearing), distance * math.sin(bearing)
    return (
        round(lat + north / 111_320, 6),
        round(lng + east / (111_320 * math.cos(math.radians(lat))), 6),
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", name.lower())
