"""Strategy discussions (police, health and children's social care present), the section 47 enquiries
they start, one per child, and the initial child protection conference due 15 working days after the
discussion, its lateness kept across bank holidays; children's social care only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs, ok
from tests.fixtures.pathway import (
    ATTENDEES,
    STRATEGY,
    accepted_referral,
    conclude,
    conference,
    discussion_body,
    hold_discussion,
)
from tests.fixtures.values import Body

RECEIVED = "2025-12-10T09:30:00Z"
# Friday 12 December 2025: 15 working days later, with 25 and 26 December and 1 January skipped, is
# Wednesday 7 January 2026.
HELD_AT = "2025-12-12T11:00:00Z"
ICPC_DUE = "2026-01-07"
ICPC = {"concluded_on": "2025-12-19", "outcome": "initial_child_protection_conference"}
PLAN = {"outcome": "child_protection_plan", "category_of_abuse": "physical"}


async def _enquiry(client: httpx.AsyncClient, app: FastAPI, who: Who, *, called: bool = False) -> Body:
    referral = await accepted_referral(client, app, who, RECEIVED, STRATEGY)
    discussion = await hold_discussion(client, who["practitioner"], discussion_body(referral, HELD_AT))
    enquiry: Body = discussion["section_47_enquiries"][0]
    if called:
        ok(await conclude(client, who["manager"], enquiry["id"], ICPC))
    return enquiry


async def test_a_strategy_discussion_starts_one_section_47_enquiry_per_child(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED, STRATEGY, children=2)
    response = await client.post(
        "/v1/strategy-discussions", json=discussion_body(referral, HELD_AT), headers=who["practitioner"]
    )
    discussion = ok(response, 201)
    assert response.headers["location"] == f"/v1/strategy-discussions/{discussion['id']}"
    assert response.headers["etag"]
    children = [child["id"] for child in referral["children"]]
    assert (discussion["child_ids"], discussion["held_on"], discussion["decision"]) == (
        children,
        "2025-12-12",
        "section_47_enquiry",
    )
    assert discussion["attendees"] == ATTENDEES
    enquiries = discussion["section_47_enquiries"]
    assert [(e["child_id"], e["status"], e["icpc_due_on"]) for e in enquiries] == [
        (child, "open", ICPC_DUE) for child in children
    ]
    assert ok(await client.get(response.headers["location"], headers=who["manager"])) == discussion

    enquiry = ok(
        await client.get(f"/v1/section-47-enquiries/{enquiries[1]['id']}", headers=who["practitioner"])
    )
    assert enquiry == {
        "id": enquiries[1]["id"],
        "strategy_discussion_id": discussion["id"],
        "referral_id": referral["id"],
        "child_id": children[1],
        "person_id": referral["children"][1]["person_id"],
        "status": "open",
        "started_on": "2025-12-12",
        "icpc_due_on": ICPC_DUE,
        "outcome": None,
        "conference": None,
    }


async def test_no_section_47_starts_no_enquiry(client: httpx.AsyncClient, app: FastAPI, who: Who) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED, STRATEGY)
    body = discussion_body(referral, HELD_AT, decision="no_section_47")
    discussion = await hold_discussion(client, who["practitioner"], body)
    assert (discussion["decision"], discussion["section_47_enquiries"]) == ("no_section_47", [])


@pytest.mark.parametrize(
    ("absent", "named"),
    [
        ({"health"}, "health"),
        ({"police", "health"}, "police, health"),
        ({"childrens_social_care"}, "childrens_social_care"),
    ],
    ids=["health", "police and health", "children's social care"],
)
async def test_a_strategy_discussion_without_police_health_and_social_care_is_refused(
    client: httpx.AsyncClient, app: FastAPI, who: Who, absent: set[str], named: str
) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED, STRATEGY)
    attendees = [a for a in ATTENDEES if a["agency"] not in absent] + [
        {"agency": "education", "name": "Ms Patel", "role": "Designated safeguarding lead"}
    ]
    response = await client.post(
        "/v1/strategy-discussions",
        json=discussion_body(referral, HELD_AT, attendees=attendees),
        headers=who["practitioner"],
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert locs(problem) == [["body", "attendees"]]
    assert problem["errors"][0]["msg"].endswith(f"missing: {named}.")


async def test_a_strategy_discussion_is_about_accepted_children_after_the_referral(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED, STRATEGY)
    before = await client.post(
        "/v1/strategy-discussions",
        json=discussion_body(referral, "2025-12-09T12:00:00Z"),
        headers=who["practitioner"],
    )
    assert locs(assert_problem(before, 422, "validation_failed")) == [["body", "held_at"]]
    nfa = await accepted_referral(
        client,
        app,
        who,
        RECEIVED,
        {"level": 1, "outcome": "no_further_action", "primary_need": None, "accepted_as_referral": False},
    )
    refused = await client.post(
        "/v1/strategy-discussions", json=discussion_body(nfa, HELD_AT), headers=who["practitioner"]
    )
    assert_problem(refused, 409, "invalid_transition")


async def test_an_icpc_held_after_the_bank_holidays_is_late(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    enquiry = await _enquiry(client, app, who, called=True)
    held = await conference(client, who["practitioner"], enquiry["id"], {"held_on": "2026-01-08", **PLAN})
    found = ok(held)
    assert found["status"] == "conference_held"
    assert found["conference"] | {"recorded_at": None} == {
        "held_on": "2026-01-08",
        "outcome": "child_protection_plan",
        "category_of_abuse": "physical",
        "timeliness": {"working_days": 16, "late": True},
        "recorded_by": "practitioner-ann",
        "recorded_at": None,
    }
    assert found["outcome"]["outcome"] == "initial_child_protection_conference"
    again = await conference(client, who["practitioner"], enquiry["id"], {"held_on": "2026-01-08", **PLAN})
    assert_problem(again, 409, "invalid_transition")


async def test_an_icpc_held_on_its_due_date_is_on_time(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    enquiry = await _enquiry(client, app, who, called=True)
    held = ok(
        await conference(
            client, who["practitioner"], enquiry["id"], {"held_on": ICPC_DUE, "outcome": "no_plan"}
        )
    )
    assert (held["conference"]["timeliness"], held["conference"]["category_of_abuse"]) == (
        {"working_days": 15, "late": False},
        None,
    )


async def test_december_2026_skips_christmas_and_the_substitute_boxing_day(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    # Friday 4 December 2026: 25 December is a Friday and Boxing Day's holiday moves to Monday 28.
    referral = await accepted_referral(client, app, who, "2026-12-01T10:00:00Z", STRATEGY)
    discussion = await hold_discussion(
        client, who["practitioner"], discussion_body(referral, "2026-12-04T15:00:00Z")
    )
    assert discussion["section_47_enquiries"][0]["icpc_due_on"] == "2026-12-29"


async def test_a_conference_needs_an_outcome_that_calls_one(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    enquiry = await _enquiry(client, app, who)
    early = await conference(client, who["practitioner"], enquiry["id"], {"held_on": "2025-12-22", **PLAN})
    assert "record the enquiry's outcome" in assert_problem(early, 409, "invalid_transition")["detail"]

    ok(
        await conclude(
            client,
            who["manager"],
            enquiry["id"],
            {"concluded_on": "2025-12-19", "outcome": "child_in_need_plan"},
        )
    )
    after_plan = await conference(
        client, who["practitioner"], enquiry["id"], {"held_on": "2025-12-22", **PLAN}
    )
    assert (
        "without an initial child protection conference"
        in assert_problem(after_plan, 409, "invalid_transition")["detail"]
    )
    twice = await conclude(client, who["manager"], enquiry["id"], ICPC)
    assert_problem(twice, 409, "invalid_transition")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"held_on": "2025-12-22", "outcome": "child_protection_plan"}, ["body", "category_of_abuse"]),
        (
            {"held_on": "2025-12-22", "outcome": "no_plan", "category_of_abuse": "neglect"},
            ["body", "category_of_abuse"],
        ),
        ({"held_on": "2025-12-22", **PLAN, "category_of_abuse": "financial"}, ["body", "category_of_abuse"]),
        ({"held_on": "2025-12-11", **PLAN}, ["body", "held_on"]),
    ],
    ids=["a plan without a category", "no plan with a category", "not a category", "before the discussion"],
)
async def test_a_conference_that_breaks_a_rule_is_refused(
    client: httpx.AsyncClient, app: FastAPI, who: Who, body: dict[str, Any], loc: list[str]
) -> None:
    enquiry = await _enquiry(client, app, who, called=True)
    problem = assert_problem(
        await conference(client, who["practitioner"], enquiry["id"], body), 422, "validation_failed"
    )
    assert locs(problem)[0][:2] == loc


async def test_an_outcome_is_a_managers_and_a_category_goes_with_a_conference(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    enquiry = await _enquiry(client, app, who)
    assert_problem(
        await conclude(client, who["practitioner"], enquiry["id"], ICPC), 403, "insufficient_scope"
    )
    body = {"concluded_on": "2025-12-19", "outcome": "no_further_action", "category_of_abuse": "neglect"}
    problem = assert_problem(
        await conclude(client, who["manager"], enquiry["id"], body), 422, "validation_failed"
    )
    assert locs(problem) == [["body", "category_of_abuse"]]
    called = ok(
        await conclude(client, who["manager"], enquiry["id"], {**ICPC, "category_of_abuse": "neglect"})
    )
    assert (called["status"], called["outcome"]["category_of_abuse"], called["outcome"]["concluded_by"]) == (
        "awaiting_conference",
        "neglect",
        "manager-bob",
    )


async def test_a_referrals_strategy_discussions_are_listed_with_their_enquiries(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    referral = await accepted_referral(client, app, who, RECEIVED, STRATEGY)
    first = await hold_discussion(
        client, who["practitioner"], discussion_body(referral, HELD_AT, decision="no_section_47")
    )
    second = await hold_discussion(
        client, who["practitioner"], discussion_body(referral, "2025-12-15T09:00:00Z")
    )
    other = await accepted_referral(client, app, who, RECEIVED, STRATEGY)
    await hold_discussion(client, who["practitioner"], discussion_body(other, HELD_AT))

    page = ok(
        await client.get(
            "/v1/strategy-discussions", params={"referral_id": referral["id"]}, headers=who["manager"]
        )
    )
    assert page == {"items": [second, first], "next_cursor": None}
    police = ok(await client.get("/v1/strategy-discussions", headers=who["police"]))
    assert police == {"items": [], "next_cursor": None}
