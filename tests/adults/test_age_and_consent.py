"""The statute's age and consent rules (issue 15): the Mental Capacity Act applies from 16 (a capacity
assessment of someone under 16 on its date is refused, the date taken in England); an appropriate person
(Care Act s68) needs the adult's consent, or a best interests decision about this adult when they lack
capacity to consent; a plan can close with feedback to the raiser withheld, with the reason."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures import adults as fx
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs
from tests.fixtures.values import Body, unique_family_name


async def person_born(client: httpx.AsyncClient, who: Who, born: str) -> str:
    response = await client.post(
        "/v1/people",
        json={"given_name": "Sam", "family_name": unique_family_name(), "date_of_birth": born},
        headers=who["worker"],
    )
    assert response.status_code == 201, response.text
    person_id: str = response.json()["id"]
    return person_id


# Assessed at 23:30 UTC on 9 June 2025: already 10 June in England (BST), the 16th birthday of someone born on
# 10 June 2009, and still the day before it in UTC.
ASSESSED_AT = "2025-06-09T23:30:00Z"


@pytest.mark.parametrize(
    ("born", "allowed"),
    [("2009-06-10", True), ("2009-06-11", False), ("2012-01-01", False), ("1990-01-01", True)],
    ids=["16 that day in London", "16 the next day", "13", "an adult"],
)
async def test_capacity_is_assessed_from_16(
    client: httpx.AsyncClient, who: Who, born: str, allowed: bool
) -> None:
    person_id = await person_born(client, who, born)
    response = await client.post(
        "/v1/capacity-assessments",
        json=fx.assessment_body(person_id, assessed_at=ASSESSED_AT),
        headers=who["worker"],
    )
    if allowed:
        assert response.status_code == 201, response.text
    else:
        problem = assert_problem(response, 422, "validation_failed")
        assert locs(problem) == [["body", "assessed_at"]]
        assert "from the age of 16" in problem["errors"][0]["msg"]


async def test_an_appropriate_person_needs_the_adults_consent(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "received")
    without = fx.advocacy_body(difficulty=True, appropriate_person=True, offer="not_required")
    del without["appropriate_person_consent"]
    refused = await fx.record_advocacy(client, who["worker"], case.id, without)
    problem = assert_problem(refused, 422, "validation_failed")
    assert "consent" in problem["errors"][0]["msg"]

    given = await fx.record_advocacy(
        client, who["worker"], case.id, {**without, "appropriate_person_consent": "given"}
    )
    assert given.status_code == 201, given.text
    assert (given.json()["appropriate_person_consent"], given.json()["required"]) == ("given", False)


async def test_or_a_best_interests_decision_about_this_adult(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "received")
    other = await fx.concern_in(client, who, "received")
    base = fx.advocacy_body(difficulty=True, appropriate_person=True, offer="not_required")
    best_interests: Body = {**base, "appropriate_person_consent": "lacks_capacity_best_interests"}
    # The decision must be named ...
    unnamed = await fx.record_advocacy(client, who["worker"], case.id, best_interests)
    assert_problem(unnamed, 422, "validation_failed")
    # ... and be about this adult.
    elsewhere = await fx.assess(client, who["worker"], fx.assessment_body(other.person_id))
    theirs = await fx.decide_best_interests(client, who["worker"], elsewhere["id"], fx.best_interests_body())
    wrong = await fx.record_advocacy(
        client, who["worker"], case.id, {**best_interests, "best_interests_decision_id": theirs["id"]}
    )
    assert locs(assert_problem(wrong, 422, "validation_failed")) == [["body", "best_interests_decision_id"]]
    assessment = await fx.assess(client, who["worker"], fx.assessment_body(case.person_id))
    decision = await fx.decide_best_interests(
        client, who["worker"], assessment["id"], fx.best_interests_body()
    )
    right = await fx.record_advocacy(
        client, who["worker"], case.id, {**best_interests, "best_interests_decision_id": decision["id"]}
    )
    assert right.status_code == 201, right.text
    assert right.json()["best_interests_decision_id"] == decision["id"]
    # No appropriate person: no consent to record.
    stray = fx.advocacy_body(difficulty=True, appropriate_person=False, appropriate_person_consent="given")
    assert_problem(await fx.record_advocacy(client, who["worker"], case.id, stray), 422, "validation_failed")


async def test_a_plan_closes_with_feedback_withheld_and_the_reason(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "enquiry_concluded")
    plan = await fx.make_plan(
        client, who["worker"], fx.plan_body(case.person_id, fx.action("police"), concern_id=case.id)
    )
    closure = fx.review_body("close")["closure"]
    withheld = {**closure, "feedback_given": False}
    no_reason = await fx.review_plan(
        client, who["worker"], plan["id"], fx.review_body("close", closure=withheld)
    )
    assert_problem(no_reason, 422, "validation_failed")
    reason = "A police investigation is under way: the GP is told nothing yet."
    both = {**closure, "feedback_withheld_reason": reason}
    assert_problem(
        await fx.review_plan(client, who["worker"], plan["id"], fx.review_body("close", closure=both)),
        422,
        "validation_failed",
    )
    closed = await fx.review_plan(
        client,
        who["worker"],
        plan["id"],
        fx.review_body("close", closure={**withheld, "feedback_withheld_reason": reason}),
    )
    assert closed.status_code == 201, closed.text
    found = (await client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=who["worker"])).json()
    assert found["status"] == "closed"
    assert (found["closure"]["feedback_given"], found["closure"]["feedback_withheld_reason"]) == (
        False,
        reason,
    )
