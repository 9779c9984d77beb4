"""Child and family assessments: only for a child accepted as a referral, due 45 working days after the
referral (across Christmas here), completed once with the CIN factors, an outcome and the census's
reason for closure; children's social care only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.callers import Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, locs, ok
from tests.fixtures.pathway import (
    ASSESSMENT,
    EARLY_HELP,
    accepted_referral,
    assessment_body,
    child_ids,
    complete_assessment,
    completion_body,
    referral_received,
    start_assessment,
)
from tests.fixtures.referrals import get_referral, propose_and_approve
from tests.fixtures.values import Body, sql_id

# Received on Monday 10 November 2025: 45 working days later, with Christmas Day, Boxing Day and New
# Year's Day skipped, is Thursday 15 January 2026 (Monday 12 January without the bank holidays).
RECEIVED = "2025-11-10T10:00:00Z"
DUE = "2026-01-15"


async def _assessment(client: httpx.AsyncClient, app: FastAPI, who: Who) -> Body:
    referral = await accepted_referral(client, app, who, RECEIVED)
    return await start_assessment(client, who["practitioner"], assessment_body(referral, "2025-11-12"))


async def test_an_assessment_is_due_45_working_days_after_the_referral(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED)
    response = await client.post(
        "/v1/assessments", json=assessment_body(referral, "2025-11-12"), headers=who["practitioner"]
    )
    created = ok(response, 201)
    assert response.headers["location"] == f"/v1/assessments/{created['id']}"
    assert response.headers["etag"]
    child = referral["children"][0]
    assert created | {"id": None} == {
        "id": None,
        "referral_id": referral["id"],
        "child_id": child["id"],
        "person_id": child["person_id"],
        "status": "open",
        "referral_received_on": "2025-11-10",
        "started_on": "2025-11-12",
        "due_on": DUE,
        "started_by": "practitioner-ann",
        "completed_on": None,
        "factors": [],
        "outcome": None,
        "closure_reason": None,
        "timeliness": None,
        "completed_by": None,
        "completed_at": None,
    }
    read = await client.get(f"/v1/assessments/{created['id']}", headers=who["manager"])
    assert ok(read) == created and read.headers["etag"] == response.headers["etag"]


async def test_an_assessment_completed_after_christmas_is_late_by_working_days(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    on_time = await _assessment(client, app, who)
    late = await _assessment(client, app, who)

    done = ok(await complete_assessment(client, who["manager"], on_time["id"], completion_body(DUE)))
    assert (done["status"], done["timeliness"]) == ("completed", {"working_days": 45, "late": False})
    done = ok(await complete_assessment(client, who["manager"], late["id"], completion_body("2026-01-16")))
    assert done["timeliness"] == {"working_days": 46, "late": True}
    assert (done["completed_by"], done["factors"], done["outcome"]) == (
        "manager-bob",
        ["3A", "16A"],
        "child_in_need_plan",
    )
    # Completed once.
    again = await complete_assessment(client, who["manager"], late["id"], completion_body("2026-01-16"))
    assert "already completed" in assert_problem(again, 409, "invalid_transition")["detail"]


@pytest.mark.parametrize(
    ("fields", "closure"),
    [
        ({"factors": ["21"], "outcome": "no_further_action"}, "RC8"),
        ({"factors": ["21"], "outcome": "no_further_action", "closure_reason": "RC8"}, "RC8"),
        ({"factors": ["3B"], "outcome": "early_help"}, "RC9"),
        ({"factors": ["3B"], "outcome": "early_help", "closure_reason": "RC9"}, "RC9"),
        ({"factors": ["4B"], "outcome": "no_further_action", "closure_reason": "RC5"}, "RC5"),
        ({"factors": ["16A"], "outcome": "strategy_discussion"}, None),
    ],
    ids=["NFA closes RC8", "RC8 given", "early help closes RC9", "RC9 given", "transferred", "stays open"],
)
async def test_the_reason_for_closure_follows_the_outcome(
    client: httpx.AsyncClient, app: FastAPI, who: Who, fields: dict[str, Any], closure: str | None
) -> None:
    assessment = await _assessment(client, app, who)
    done = ok(
        await complete_assessment(
            client, who["manager"], assessment["id"], completion_body("2025-12-01", **fields)
        )
    )
    assert (done["outcome"], done["closure_reason"], done["factors"]) == (
        fields["outcome"],
        closure,
        fields["factors"],
    )


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"factors": ["21", "3A"]}, ["body", "factors"]),
        ({"factors": []}, ["body", "factors"]),
        ({"factors": ["3A", "3A"]}, ["body", "factors"]),
        ({"outcome": "no_further_action", "closure_reason": "RC9"}, ["body", "closure_reason"]),
        ({"outcome": "early_help", "closure_reason": "RC8"}, ["body", "closure_reason"]),
        ({"outcome": "child_in_need_plan", "closure_reason": "RC8"}, ["body", "closure_reason"]),
        ({"closure_reason": "RC10"}, ["body", "closure_reason"]),
        ({"completed_on": "2025-11-11"}, ["body", "completed_on"]),
        ({"completed_on": "2999-01-01"}, ["body", "completed_on"]),
    ],
    ids=[
        "21 with others",
        "no factors",
        "a factor twice",
        "NFA with RC9",
        "early help with RC8",
        "a plan with a reason",
        "not a reason",
        "before it started",
        "in the future",
    ],
)
async def test_a_completion_that_breaks_a_census_rule_is_refused(
    client: httpx.AsyncClient, app: FastAPI, who: Who, fields: dict[str, Any], loc: list[str]
) -> None:
    assessment = await _assessment(client, app, who)
    body = {**completion_body("2025-12-01"), **fields}
    problem = assert_problem(
        await complete_assessment(client, who["manager"], assessment["id"], body), 422, "validation_failed"
    )
    assert locs(problem)[0][:2] == loc
    if fields.get("factors") == ["21", "3A"]:
        assert '"21"' in problem["errors"][0]["msg"]
    still = ok(await client.get(f"/v1/assessments/{assessment['id']}", headers=who["practitioner"]))
    assert still["status"] == "open"


async def test_only_a_child_accepted_as_a_referral_is_assessed(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    undecided = await referral_received(client, app, who)
    undecided = await get_referral(client, who["practitioner"], undecided["id"])
    refused = await client.post(
        "/v1/assessments", json=assessment_body(undecided, "2025-11-12"), headers=who["practitioner"]
    )
    assert "approved" in assert_problem(refused, 409, "invalid_transition")["detail"]

    early_help = await referral_received(client, app, who)
    await propose_and_approve(client, who["practitioner"], who["manager"], early_help["id"], **EARLY_HELP)
    early_help = await get_referral(client, who["practitioner"], early_help["id"])
    refused = await client.post(
        "/v1/assessments", json=assessment_body(early_help, "2025-11-12"), headers=who["practitioner"]
    )
    assert "early_help" in assert_problem(refused, 409, "invalid_transition")["detail"]

    accepted = await accepted_referral(client, app, who, RECEIVED)
    other_child = undecided["children"][0]["id"]
    refused = await client.post(
        "/v1/assessments",
        json=assessment_body(accepted, "2025-11-12", child_id=other_child),
        headers=who["practitioner"],
    )
    assert locs(assert_problem(refused, 422, "validation_failed")) == [["body", "child_id"]]
    refused = await client.post(
        "/v1/assessments", json=assessment_body(accepted, "2025-11-07"), headers=who["practitioner"]
    )
    assert locs(assert_problem(refused, 422, "validation_failed")) == [["body", "started_on"]]

    await start_assessment(client, who["practitioner"], assessment_body(accepted, "2025-11-12"))
    second = await client.post(
        "/v1/assessments", json=assessment_body(accepted, "2025-11-13"), headers=who["practitioner"]
    )
    assert "already has an open assessment" in assert_problem(second, 409, "invalid_transition")["detail"]


async def test_siblings_decided_differently_one_is_assessed_the_other_stays_a_contact(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    """The decision's entry for each child answers: the first child goes to assessment, the second (its own
    entry: early help) stays a contact, so only the first may be assessed."""
    referral = await referral_received(client, app, who, RECEIVED, children=2)
    referral = await get_referral(client, who["practitioner"], referral["id"])
    first, second = child_ids(referral)
    await propose_and_approve(
        client,
        who["practitioner"],
        who["manager"],
        referral["id"],
        **ASSESSMENT,
        children=[{"child_id": second, "level": 2, "outcome": "early_help", "primary_need": "N5"}],
    )
    refused = await client.post(
        "/v1/assessments",
        json=assessment_body(referral, "2025-11-12", child_id=second),
        headers=who["practitioner"],
    )
    assert (
        "(early_help) did not accept this child"
        in assert_problem(refused, 409, "invalid_transition")["detail"]
    )
    started = await start_assessment(
        client, who["practitioner"], assessment_body(referral, "2025-11-12", child_id=first)
    )
    assert started["child_id"] == first


async def test_a_practitioner_starts_and_a_manager_completes(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    assessment = await _assessment(client, app, who)
    refused = await complete_assessment(
        client, who["practitioner"], assessment["id"], completion_body("2025-12-01")
    )
    assert_problem(refused, 403, "insufficient_scope")


async def test_the_assessment_queue_lists_the_soonest_due_first(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED, children=3)
    made = []
    for child in referral["children"]:
        body = assessment_body(referral, "2025-11-12", child_id=child["id"])
        made.append((await start_assessment(client, who["practitioner"], body))["id"])
    late, soon, done = made
    for assessment_id, day in ((late, "2025-12-01"), (soon, "2099-12-01")):
        sql = f"UPDATE assessments SET due_on = '{day}' WHERE id = '{sql_id(assessment_id)}'"
        await run_sql(app, sql)
    ok(await complete_assessment(client, who["manager"], done, completion_body("2025-12-01")))

    async def listed(headers: dict[str, str], **params: str) -> list[str]:
        page = ok(
            await client.get(
                "/v1/assessments", params={"referral_id": referral["id"], **params}, headers=headers
            )
        )
        return [item["id"] for item in page["items"]]

    assert await listed(who["practitioner"]) == [late, done, soon]
    assert await listed(who["practitioner"], status="open") == [late, soon]
    assert await listed(who["practitioner"], status="open,completed") == [late, done, soon]
    assert await listed(who["practitioner"], overdue="true") == [late]
    assert await listed(who["practitioner"], overdue="false") == [done, soon]
    assert await listed(who["police"]) == []
    assert_problem(
        await client.get("/v1/assessments", params={"status": "closed"}, headers=who["practitioner"]),
        422,
        "validation_failed",
    )
