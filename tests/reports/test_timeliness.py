"""GET /v1/reports/timeliness: open work against its stored deadline, on hand-built records.

Deadlines are set through ``run_sql`` relative to now (long past, in an hour or two, in two or three
days), so that what is overdue, due soon and due does not depend on working hours or on when the
test runs. Records no longer open (decided, withdrawn, answered, cancelled, closed) carry long-past
deadlines too: they must not count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.core import clock
from app.core.scopes import AgencyCode, Role
from app.governance.reports.periods import Period
from tests.conftest import Databases
from tests.fixtures.adults import (
    NFA_MET,
    concern_body,
    decision_body,
    make_plan,
    plan_body,
    review_body,
    review_plan,
)
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import (
    answer,
    ask,
    create_referral,
    propose,
    propose_and_approve,
    rate,
    referral_body,
    unique_child,
    withdraw,
)
from tests.fixtures.reports import Body, World, audit_entries, parse_csv, sql_id, world_on, year_to_date

LONG_AGO = "'2000-01-01 00:00:00.000000'"
# The period counted for work done, by default: the reporting year (from 1 April) to today.
TODAY = clock.today()
YEAR_TO_DATE = Period(date(TODAY.year if TODAY.month >= 4 else TODAY.year - 1, 4, 1), TODAY)


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("'%Y-%m-%d %H:%M:%S.%f'")


def due(due: int, due_soon: int, overdue: int) -> dict[str, int]:
    return {"due": due, "due_soon": due_soon, "overdue": overdue}


class Builder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.http = world.http
        self.police, self.health, self.practitioner, self.manager, self.worker, self.asc_manager = (
            world.callers("police", "gp", "practitioner", "mash_manager", "worker", "asc_manager")
        )
        self.sql: list[str] = []

    async def referral(self, deadline: str, rating: str | None = None) -> str:
        created = await create_referral(self.http, self.police, referral_body(unique_child()))
        if rating is not None:
            await rate(self.http, self.practitioner, created["id"], rating)
        self.sql.append(
            f"UPDATE referrals SET decision_due_at = {deadline} WHERE id = '{sql_id(created['id'])}'"
        )
        referral_id: str = created["id"]
        return referral_id

    async def ask(self, referral_id: str, agency: str, deadline: str) -> str:
        [request] = await ask(self.http, self.practitioner, referral_id, agency)
        self.sql.append(f"UPDATE contributions SET due_at = {deadline} WHERE id = '{sql_id(request['id'])}'")
        contribution_id: str = request["id"]
        return contribution_id

    async def concern(self, deadline: str) -> str:
        response = await self.http.post("/v1/adult-concerns", json=concern_body(), headers=self.health)
        assert response.status_code == 201, response.text
        concern_id: str = response.json()["id"]
        self.sql.append(
            f"UPDATE adult_concerns SET decision_due_at = {deadline} WHERE id = '{sql_id(concern_id)}'"
        )
        return concern_id

    async def plan(self, person_id: str, review_due_on: str) -> str:
        plan = await make_plan(self.http, self.worker, plan_body(person_id))
        self.sql.append(
            f"UPDATE safeguarding_plans SET review_due_on = '{review_due_on}' WHERE id = '{sql_id(plan['id'])}'"
        )
        plan_id: str = plan["id"]
        return plan_id

    async def build(self) -> None:
        # Referral decisions.
        red = await self.referral(LONG_AGO, "red")  # overdue, red
        amber = await self.referral(in_hours(2), "amber")  # due soon, amber
        await self.referral(in_hours(48), "green")  # due, green
        await self.referral(in_hours(2))  # due soon, unrated
        await self.referral(LONG_AGO)  # overdue, unrated
        awaiting = await self.referral(LONG_AGO, "amber")  # overdue, amber: still awaiting approval
        await propose(self.http, self.practitioner, awaiting)
        decided = await self.referral(LONG_AGO, "amber")
        await propose_and_approve(self.http, self.practitioner, self.manager, decided)
        withdrawn = await self.referral(LONG_AGO, "green")

        # Information requests.
        answered = await self.ask(red, "health", LONG_AGO)
        await answer(self.http, self.health, answered)
        await self.ask(red, "police", LONG_AGO)  # overdue: police, red
        await self.ask(amber, "education", in_hours(48))  # due: education, amber
        await self.ask(amber, "health", in_hours(1))  # due soon: health, amber
        await self.ask(withdrawn, "housing", LONG_AGO)  # cancelled with the referral
        assert (await withdraw(self.http, self.practitioner, withdrawn)).status_code == 200

        # Section 42 decisions.
        await self.concern(LONG_AGO)  # overdue
        await self.concern(in_hours(1))  # due soon
        await self.concern(in_hours(70))  # due
        decided_concern = await self.concern(LONG_AGO)
        response = await self.http.post(
            f"/v1/adult-concerns/{decided_concern}/section-42-decision",
            json=decision_body("no_further_action", NFA_MET),
            headers=self.asc_manager,
        )
        assert response.status_code == 201, response.text

        # Plan reviews, for the adult of the decided concern.
        concern = (await self.http.get(f"/v1/adult-concerns/{decided_concern}", headers=self.worker)).json()
        person_id = concern["adult"]["person_id"]
        today = clock.today()
        await self.plan(person_id, "2000-01-01")  # overdue
        await self.plan(person_id, today.isoformat())  # due today: due soon
        await self.plan(person_id, (today + timedelta(days=30)).isoformat())  # due
        closed = await self.plan(person_id, (today + timedelta(days=30)).isoformat())
        response = await review_plan(self.http, self.worker, closed, review_body("close"))
        assert response.status_code == 201, response.text
        self.sql.append(
            f"UPDATE safeguarding_plans SET review_due_on = '2000-01-01' WHERE id = '{sql_id(closed)}'"
        )

        await run_sql(self.world.app, *self.sql)


@pytest.fixture(scope="module")
async def world(databases: Databases) -> AsyncIterator[World]:
    async with world_on(databases) as built:
        await Builder(built).build()
        yield built


async def report(world: World, **params: Any) -> Body:
    before = datetime.now(UTC)
    response = await world.http.get("/v1/reports/timeliness", params=params, headers=world.auditor)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    assert before <= datetime.fromisoformat(body.pop("as_of")) <= datetime.now(UTC)
    return body


# Measured in tests/reports/test_decision_deadlines.py, on referrals built for them.
DEADLINE_SECTIONS = ("period", "referral_decision_deadlines", "referrer_acknowledgements")


async def test_due_and_overdue_counts(world: World) -> None:
    body = await report(world)
    for section in DEADLINE_SECTIONS:
        body.pop(section)
    assert body == {
        "due_soon_hours": 24,
        "referral_decisions": {
            "total": due(3, 2, 3),
            "by_rag": [
                {"rag": "red", **due(0, 0, 1)},
                {"rag": "amber", **due(1, 1, 1)},
                {"rag": "green", **due(1, 0, 0)},
                {"rag": "blue", **due(0, 0, 0)},
                {"rag": "unrated", **due(1, 1, 1)},
            ],
        },
        "adult_concern_decisions": due(2, 1, 1),
        "contribution_requests": {
            "total": due(2, 1, 1),
            "by_agency_and_rag": [
                {"agency": "education", "rag": "amber", **due(1, 0, 0)},
                {"agency": "health", "rag": "amber", **due(1, 1, 0)},
                {"agency": "police", "rag": "red", **due(0, 0, 1)},
            ],
        },
        "plan_reviews": due(2, 1, 1),
        # Eight contacts today: one withdrawn, one decided (an assessment: accepted as a referral).
        "contacts": {
            "received": 7,
            "decided": 1,
            "accepted_as_referrals": 1,
            "children_accepted": 1,
            "conversion_rate": 0.143,
        },
        # Nothing after a decision here: tests/reports/test_pathway_timeliness.py counts it.
        "assessments": {"open": due(0, 0, 0), "completed": {"on_time": 0, "late": 0}},
        "initial_child_protection_conferences": {"awaiting": due(0, 0, 0), "held": {"on_time": 0, "late": 0}},
    }


async def test_contacts_and_referrals_in_a_period(world: World) -> None:
    body = await report(world)
    assert body["period"] == year_to_date()
    today = clock.today()
    body = await report(world, **{"from": today.isoformat(), "to": today.isoformat()})
    assert body["period"] == {"from": today.isoformat(), "to": today.isoformat()}
    assert body["contacts"]["received"] == 7
    # Before today nothing was received: no rate.
    yesterday = (today - timedelta(days=1)).isoformat()
    body = await report(world, to=yesterday)
    assert body["period"]["to"] == yesterday
    assert body["contacts"] == {
        "received": 0,
        "decided": 0,
        "accepted_as_referrals": 0,
        "children_accepted": 0,
        "conversion_rate": None,
    }
    # A period before this reporting year starts on 1 April of its own.
    body = await report(world, to="2025-06-30")
    assert body["period"] == {"from": "2025-04-01", "to": "2025-06-30"}
    body = await report(world, **{"from": "2026-01-05"})
    assert body["period"] == {"from": "2026-01-05", "to": today.isoformat()}
    assert body["contacts"]["received"] == 7
    # Open work is counted now, whatever the period.
    assert body["referral_decisions"]["total"] == due(3, 2, 3)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-05-01", "to": "2026-04-30"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"from": "2026-13-01"},
    ],
    ids=["to before from", "over a year", "not a date"],
)
async def test_the_period_is_checked(world: World, params: Body) -> None:
    response = await world.http.get("/v1/reports/timeliness", params=params, headers=world.auditor)
    assert_problem(response, 422, "validation_failed")


async def test_a_wider_window_counts_more_as_due_soon(world: World) -> None:
    body = await report(world, due_soon_hours=72)
    assert body["due_soon_hours"] == 72
    assert body["referral_decisions"]["total"] == due(3, 3, 3)
    assert body["referral_decisions"]["by_rag"][2] == {"rag": "green", **due(1, 1, 0)}
    assert body["adult_concern_decisions"] == due(2, 2, 1)
    assert body["contribution_requests"]["by_agency_and_rag"][0] == {
        "agency": "education",
        "rag": "amber",
        **due(1, 1, 0),
    }
    assert body["plan_reviews"] == due(2, 1, 1)  # the next review is 30 days away


async def test_csv_lines(world: World) -> None:
    response = await world.http.get("/v1/reports/timeliness", headers={**world.auditor, "Accept": "text/csv"})
    rows = [tuple(row.values()) for row in parse_csv(response)]
    assert response.text.startswith("measure,agency,rag,due,due_soon,overdue,on_time,late\r\n")
    # The lines measured against both deadlines follow: tests/reports/test_decision_deadlines.py.
    assert [row[0] for row in rows[12:]] == [
        "referral_decisions_statutory",
        "referral_decisions_rag_target",
        "referrer_acknowledgements",
        "assessments",
        "initial_child_protection_conferences",
    ]
    assert {row[6:] for row in rows[:12]} == {("", "")}, "on time and late: not measured on these lines"
    assert [row[:6] for row in rows[:12]] == [
        ("referral_decisions", "", "", "3", "2", "3"),
        ("referral_decisions", "", "red", "0", "0", "1"),
        ("referral_decisions", "", "amber", "1", "1", "1"),
        ("referral_decisions", "", "green", "1", "0", "0"),
        ("referral_decisions", "", "blue", "0", "0", "0"),
        ("referral_decisions", "", "unrated", "1", "1", "1"),
        ("adult_concern_decisions", "", "", "2", "1", "1"),
        ("contribution_requests", "", "", "2", "1", "1"),
        ("contribution_requests", "education", "amber", "1", "0", "0"),
        ("contribution_requests", "health", "amber", "1", "1", "0"),
        ("contribution_requests", "police", "red", "0", "0", "1"),
        ("plan_reviews", "", "", "2", "1", "1"),
    ]


@pytest.mark.parametrize("hours", [0, 721, "a day"])
async def test_the_window_is_bounded(world: World, hours: Any) -> None:
    response = await world.http.get(
        "/v1/reports/timeliness", params={"due_soon_hours": hours}, headers=world.auditor
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [["query", "due_soon_hours"]]


async def test_audited(world: World) -> None:
    await report(world, due_soon_hours=48)
    entries = await audit_entries(world, "timeliness_report")
    assert entries[-1]["action"] == "read"
    assert entries[-1]["details"] == {
        "due_soon_hours": 48,
        "from": YEAR_TO_DATE.first_day.isoformat(),
        "to": YEAR_TO_DATE.last_day.isoformat(),
    }


async def test_only_the_auditor_role(world: World) -> None:
    for role, agency in (
        (Role.MASH_MANAGER, AgencyCode.CHILDRENS_SOCIAL_CARE),
        (Role.ASC_MANAGER, AgencyCode.ADULT_SOCIAL_CARE),
        (Role.ADMIN, AgencyCode.ADULT_SOCIAL_CARE),
    ):
        response = await world.http.get(
            "/v1/reports/timeliness", headers=world.headers(role, agency, f"x-{role}")
        )
        assert_problem(response, 403, "insufficient_scope")
