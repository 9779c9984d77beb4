"""The timeliness report's assessments and initial child protection conferences: open work against the
due date stored with it (overdue the day after, due soon when it falls in the window, today included),
and, for a period, work done within its timescale or late by the lateness kept when it was done.

Records are made through the API; due dates are then moved with ``run_sql`` relative to today, so the
counts do not depend on the day the test runs."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.core import clock
from tests.fixtures import pathway
from tests.fixtures.callers import Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import ok
from tests.fixtures.values import Body, sql_id

TODAY = clock.today()


def _day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


async def _due_on(app: FastAPI, table: str, column: str, record_id: str, day: str) -> None:
    await run_sql(app, f"UPDATE {table} SET {column} = '{day}' WHERE id = '{sql_id(record_id)}'")


async def _assessments(client: httpx.AsyncClient, app: FastAPI, who: Who) -> None:
    """Open: one overdue, one due today (due soon), one due in 45 working days. Completed today: one
    within its timescale, one late."""
    referral = await pathway.accepted_referral(client, app, who, children=5)
    made = []
    for child_id in pathway.child_ids(referral):
        body = {"referral_id": referral["id"], "child_id": child_id, "started_on": TODAY.isoformat()}
        made.append((await pathway.start_assessment(client, who["practitioner"], body))["id"])
    overdue, due_today, _, within, late = made
    await _due_on(app, "assessments", "due_on", overdue, _day(-1))
    await _due_on(app, "assessments", "due_on", due_today, _day(0))
    await _due_on(app, "assessments", "due_on", late, "2000-01-03")
    for assessment_id in (within, late):
        ok(
            await pathway.complete_assessment(
                client, who["manager"], assessment_id, pathway.completion_body(TODAY.isoformat())
            )
        )


async def _enquiries(client: httpx.AsyncClient, app: FastAPI, who: Who) -> None:
    """Awaiting a conference: one open and due in 15 working days, one open and overdue, one with a
    conference called for today (due soon). Not awaiting: one concluded with a plan. Held today: one
    within 15 working days, one late."""
    referral = await pathway.accepted_referral(client, app, who, decision=pathway.STRATEGY, children=6)
    held_at = clock.now().isoformat()
    discussion = await pathway.hold_discussion(
        client, who["practitioner"], pathway.discussion_body(referral, held_at)
    )
    _, overdue, called, concluded, within, late = [e["id"] for e in discussion["section_47_enquiries"]]
    await _due_on(app, "section_47_enquiries", "icpc_due_on", overdue, _day(-3))
    await _due_on(app, "section_47_enquiries", "icpc_due_on", called, _day(0))
    await _due_on(app, "section_47_enquiries", "icpc_due_on", late, "2000-01-03")
    icpc = {"concluded_on": TODAY.isoformat(), "outcome": "initial_child_protection_conference"}
    for enquiry_id in (called, within, late):
        ok(await pathway.conclude(client, who["manager"], enquiry_id, icpc))
    plan = {"concluded_on": TODAY.isoformat(), "outcome": "child_in_need_plan"}
    ok(await pathway.conclude(client, who["manager"], concluded, plan))
    for enquiry_id in (within, late):
        body = {"held_on": TODAY.isoformat(), "outcome": "no_plan"}
        ok(await pathway.conference(client, who["practitioner"], enquiry_id, body))


async def _report(client: httpx.AsyncClient, who: Who, **params: str) -> Body:
    return ok(await client.get("/v1/reports/timeliness", params=params, headers=who["auditor"]))


async def test_assessments_and_conferences_against_their_due_dates(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    await _assessments(client, app, who)
    await _enquiries(client, app, who)
    report = await _report(client, who)
    assert report["assessments"] == {
        "open": {"due": 2, "due_soon": 1, "overdue": 1},
        "completed": {"on_time": 1, "late": 1},
    }
    assert report["initial_child_protection_conferences"] == {
        "awaiting": {"due": 2, "due_soon": 1, "overdue": 1},
        "held": {"on_time": 1, "late": 1},
    }
    start = TODAY.replace(month=4, day=1)
    start = start if start <= TODAY else start.replace(year=TODAY.year - 1)
    assert report["period"] == {"from": start.isoformat(), "to": TODAY.isoformat()}

    csv = await client.get("/v1/reports/timeliness", headers={**who["auditor"], "Accept": "text/csv"})
    assert csv.text.endswith(
        "assessments,,,2,1,1,1,1\r\ninitial_child_protection_conferences,,,2,1,1,1,1\r\n"
    )


async def test_work_done_is_counted_in_the_period_asked_for(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    await _assessments(client, app, who)
    await _enquiries(client, app, who)
    earlier = await _report(client, who, **{"from": _day(-365), "to": _day(-1)})
    assert earlier["period"] == {"from": _day(-365), "to": _day(-1)}
    assert earlier["assessments"]["completed"] == {"on_time": 0, "late": 0}
    assert earlier["initial_child_protection_conferences"]["held"] == {"on_time": 0, "late": 0}
    # Open work is counted now, whatever the period.
    assert earlier["assessments"]["open"] == {"due": 2, "due_soon": 1, "overdue": 1}
    today = await _report(client, who, **{"from": TODAY.isoformat(), "to": TODAY.isoformat()})
    assert today["assessments"]["completed"] == {"on_time": 1, "late": 1}
    assert today["initial_child_protection_conferences"]["held"] == {"on_time": 1, "late": 1}


async def test_a_period_that_ends_before_it_starts_is_refused(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.get(
        "/v1/reports/timeliness", params={"from": "2026-05-02", "to": "2026-05-01"}, headers=who["auditor"]
    )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "to"]]
