"""Threshold decisions: the Children in Need rules on a proposal, and approval by a second manager."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core import clock
from tests.fixtures.callers import Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, locs, patch_current
from tests.fixtures.referrals import (
    ask,
    child,
    child_decision,
    get_referral,
    proposal_body,
    propose,
    propose_and_approve,
    rate,
    rated_referral,
    referral_body,
    review,
)
from tests.fixtures.reports import sql_time
from tests.fixtures.values import Body, dt, sql_id, unique_family_name

NFA: dict[str, Any] = {
    "level": 1,
    "outcome": "no_further_action",
    "primary_need": None,
    "accepted_as_referral": False,
}
FACTORS_MOVED = "POST /v1/assessments/{id}/completion"

# Each proposal breaks one rule; the error names the field at fault.
INVALID_PROPOSALS: list[tuple[str, dict[str, Any], list[str | int]]] = [
    ("not NFA without a primary need", {"primary_need": None}, ["body", "primary_need"]),
    (
        "strategy discussion without a primary need",
        {"level": 4, "outcome": "strategy_discussion", "primary_need": None},
        ["body", "primary_need"],
    ),
    # Assessment factors belong to the assessment (contract 1.1): refused whatever they hold.
    ("assessment factors", {"assessment_factors": ["3A", "16A"]}, ["body", "assessment_factors"]),
    ("empty assessment factors", {"assessment_factors": []}, ["body", "assessment_factors"]),
    ("NFA with assessment factors", {**NFA, "assessment_factors": ["16A"]}, ["body", "assessment_factors"]),
    ("NFA outcome flagged not NFA", {**NFA, "nfa": False}, ["body", "nfa"]),
    (
        "universal services flagged not NFA",
        {**NFA, "outcome": "universal_services", "nfa": False, "accepted_as_referral": None},
        ["body", "nfa"],
    ),
    ("assessment flagged NFA", {"nfa": True}, ["body", "nfa"]),
    (
        "strategy discussion flagged NFA",
        {"level": 4, "outcome": "strategy_discussion", "nfa": True},
        ["body", "nfa"],
    ),
    ("strategy discussion at level 3", {"level": 3, "outcome": "strategy_discussion"}, ["body", "level"]),
    ("strategy discussion at level 1", {"level": 1, "outcome": "strategy_discussion"}, ["body", "level"]),
    (
        "level 4 with early help",
        {"level": 4, "outcome": "early_help", "primary_need": None},
        ["body", "outcome"],
    ),
    ("level 4 with no further action", {**NFA, "level": 4}, ["body", "outcome"]),
    # Whether the contact is accepted as a referral follows the outcome, and is asked for after NFA.
    (
        "no further action without saying whether accepted",
        {**NFA, "accepted_as_referral": None},
        ["body", "accepted_as_referral"],
    ),
    ("assessment not accepted", {"accepted_as_referral": False}, ["body", "accepted_as_referral"]),
    (
        "strategy discussion not accepted",
        {"level": 4, "outcome": "strategy_discussion", "accepted_as_referral": False},
        ["body", "accepted_as_referral"],
    ),
    (
        "early help accepted",
        {"level": 2, "outcome": "early_help", "primary_need": None, "accepted_as_referral": True},
        ["body", "accepted_as_referral"],
    ),
    (
        "universal services accepted",
        {**NFA, "outcome": "universal_services", "accepted_as_referral": True},
        ["body", "accepted_as_referral"],
    ),
    ("accepted not a boolean", {"accepted_as_referral": "perhaps"}, ["body", "accepted_as_referral"]),
    ("unknown primary need", {"primary_need": "N10"}, ["body", "primary_need"]),
    ("unknown outcome", {"outcome": "section_47"}, ["body", "outcome"]),
    ("level 0", {"level": 0}, ["body", "level"]),
    ("level 5", {"level": 5}, ["body", "level"]),
    ("level as text", {"level": "three"}, ["body", "level"]),
    ("empty rationale", {"rationale": ""}, ["body", "rationale"]),
    ("unknown field", {"reason_for_closure": "RC8"}, ["body", "reason_for_closure"]),
    # Per-child entries: the child's own decision keeps the same rules.
    (
        "a child not of this referral",
        {"children": [{"child_id": "00000000-0000-4000-8000-000000000000", "outcome": "early_help"}]},
        ["body", "children", 0, "child_id"],
    ),
    ("a child entry without a child", {"children": [{"level": 2}]}, ["body", "children", 0, "child_id"]),
    (
        "a child entry with an unknown field",
        {"children": [{"child_id": "00000000-0000-4000-8000-000000000000", "factors": ["3A"]}]},
        ["body", "children", 0, "factors"],
    ),
]


@pytest.mark.parametrize(
    ("fields", "loc"), [pytest.param(fields, loc, id=name) for name, fields, loc in INVALID_PROPOSALS]
)
async def test_a_proposal_breaking_a_cin_rule_is_refused(
    client: httpx.AsyncClient, who: Who, fields: dict[str, Any], loc: list[str | int]
) -> None:
    referral = await rated_referral(client, who)
    body = {k: v for k, v in proposal_body(**fields).items() if v is not None or k == "primary_need"}
    response = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions", json=body, headers=who["practitioner"]
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem), problem["errors"]
    if "assessment_factors" in fields:
        assert FACTORS_MOVED in problem["errors"][0]["msg"]
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "triaged"


VALID_PROPOSALS: list[tuple[str, dict[str, Any], bool, bool]] = [
    ("no further action, stays a contact", NFA, True, False),
    ("no further action after acceptance", {**NFA, "accepted_as_referral": True}, True, True),
    ("no further action, flag given", {**NFA, "nfa": True}, True, False),
    # The census does not forbid a primary need on an NFA referral.
    ("no further action with a primary need", {**NFA, "primary_need": "N9"}, True, False),
    (
        "universal services",
        {**NFA, "outcome": "universal_services", "accepted_as_referral": None},
        True,
        False,
    ),
    (
        "universal services, not accepted said",
        {**NFA, "outcome": "universal_services", "accepted_as_referral": False},
        True,
        False,
    ),
    ("early help", {**NFA, "level": 2, "outcome": "early_help", "accepted_as_referral": None}, True, False),
    (
        "early help with a primary need",
        {"level": 2, "outcome": "early_help", "primary_need": "N5"},
        True,
        False,
    ),
    ("assessment", {"nfa": False}, False, True),
    ("assessment, accepted said", {"accepted_as_referral": True}, False, True),
    ("level 4 assessment", {"level": 4, "primary_need": "N2"}, False, True),
    ("strategy discussion", {"level": 4, "outcome": "strategy_discussion"}, False, True),
]


@pytest.mark.parametrize(
    ("fields", "nfa", "accepted"),
    [pytest.param(fields, nfa, accepted, id=name) for name, fields, nfa, accepted in VALID_PROPOSALS],
)
async def test_a_valid_proposal_awaits_approval(
    client: httpx.AsyncClient, who: Who, fields: dict[str, Any], nfa: bool, accepted: bool
) -> None:
    referral = await rated_referral(client, who)
    body = {k: v for k, v in proposal_body(**fields).items() if v is not None or k == "primary_need"}
    response = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions", json=body, headers=who["practitioner"]
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert response.headers["location"] == f"/v1/threshold-decisions/{decision['id']}"
    assert decision["status"] == "proposed"
    assert (decision["nfa"], decision["accepted_as_referral"]) == (nfa, accepted)
    assert (decision["level"], decision["outcome"]) == (body["level"], body["outcome"])
    assert decision["primary_need"] == body["primary_need"]
    assert decision["assessment_factors"] == []
    # One referral-wide decision: every child takes it.
    assert decision["children"] == [
        {
            "child_id": c["id"],
            "level": body["level"],
            "outcome": body["outcome"],
            "primary_need": body["primary_need"],
            "nfa": nfa,
            "accepted_as_referral": accepted,
            "own_entry": False,
        }
        for c in referral["children"]
    ]
    assert (decision["proposed_by"], decision["reviewed_by"]) == ("practitioner-ann", None)
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "awaiting_approval"
    fetched = await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=who["practitioner"])
    assert fetched.json() == decision


async def test_a_second_proposal_cannot_be_made_while_one_awaits_approval(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    await propose(client, who["practitioner"], referral["id"])
    again = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions",
        json=proposal_body(),
        headers=who["practitioner2"],
    )
    assert_problem(again, 409, "invalid_transition")


async def test_concurrent_proposals_make_one_decision(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/threshold-decisions"
    responses = await asyncio.gather(
        client.post(url, json=proposal_body(), headers=who["practitioner"]),
        client.post(
            url, json=proposal_body(level=4, outcome="strategy_discussion"), headers=who["practitioner2"]
        ),
    )
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 409), 409, "invalid_transition")


# ---------------------------------------------------------------------------------------------------
# Approval


async def test_approval_decides_the_referral(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    decision = await propose(
        client, who["practitioner"], referral["id"], level=4, outcome="strategy_discussion"
    )
    approved = await review(client, who["manager"], decision["id"])
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["reviewed_by"], body["review_comment"]) == (
        "approved",
        "manager-bob",
        "Agreed.",
    )
    assert dt(body["reviewed_at"]) >= dt(body["proposed_at"])

    full = await get_referral(client, who["practitioner"], referral["id"])
    assert full["status"] == "decided"
    assert full["outcome"] == {
        "decision_id": decision["id"],
        "level": 4,
        "outcome": "strategy_discussion",
        "decided_at": body["reviewed_at"],
    }
    assert full["overdue"] is False
    police = await get_referral(client, who["police"], referral["id"])
    assert police["status"] == "decided"
    assert police["outcome"] == full["outcome"]
    # The referring agency sees the outcome, not the hub's reasoning.
    assert_problem(
        await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=who["police"]), 404, "not_found"
    )
    listed = (await client.get("/v1/referrals", params={"status": "decided"}, headers=who["police"])).json()
    assert [(r["id"], r["outcome"]["outcome"]) for r in listed["items"]] == [
        (referral["id"], "strategy_discussion")
    ]


async def test_nobody_approves_their_own_proposal(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    decision = await propose(client, who["manager"], referral["id"])
    for approved in (True, False):
        response = await review(client, who["manager"], decision["id"], approved=approved)
        assert_problem(response, 403, "self_approval")
    assert_problem(await review(client, who["practitioner2"], decision["id"]), 403, "insufficient_scope")
    assert_problem(await review(client, who["police"], decision["id"]), 403, "insufficient_scope")
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "awaiting_approval"
    assert (await review(client, who["manager2"], decision["id"])).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"approved": False}, id="no comment"),
        pytest.param({"approved": False, "comment": ""}, id="empty comment"),
        pytest.param({"approved": False, "comment": None}, id="null comment"),
        pytest.param({"comment": "Agreed."}, id="no verdict"),
        pytest.param({"approved": "perhaps", "comment": "Hmm."}, id="not a boolean"),
        pytest.param({"approved": True, "comment": "Agreed.", "level": 2}, id="unknown field"),
    ],
)
async def test_an_invalid_review_is_refused(client: httpx.AsyncClient, who: Who, body: Body) -> None:
    referral = await rated_referral(client, who)
    decision = await propose(client, who["practitioner"], referral["id"])
    response = await client.post(
        f"/v1/threshold-decisions/{decision['id']}/approval", json=body, headers=who["manager"]
    )
    assert_problem(response, 422, "validation_failed")
    fetched = await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=who["practitioner"])
    assert fetched.json()["status"] == "proposed"


@pytest.mark.parametrize(("agencies", "back_to"), [((), "triaged"), (("health",), "gathering_information")])
async def test_a_returned_decision_sends_the_referral_back_for_a_new_proposal(
    client: httpx.AsyncClient, who: Who, agencies: tuple[str, ...], back_to: str
) -> None:
    referral = await rated_referral(client, who)
    if agencies:
        await ask(client, who["practitioner"], referral["id"], *agencies)
    decision = await propose(client, who["practitioner"], referral["id"])
    returned = await review(client, who["manager"], decision["id"], approved=False)
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_comment"] == "Please obtain the school's view before deciding."
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert full["status"] == back_to
    assert full["outcome"] is None

    # The returned decision is settled: it cannot be approved or returned again.
    assert_problem(await review(client, who["manager2"], decision["id"]), 409, "invalid_transition")
    assert_problem(
        await review(client, who["manager2"], decision["id"], approved=False), 409, "invalid_transition"
    )
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == back_to

    # The referral can be re-rated, more agencies asked, and a new decision proposed and approved.
    await rate(client, who["practitioner"], referral["id"], "red")
    await ask(client, who["practitioner"], referral["id"], "education")
    second = await propose(
        client, who["practitioner"], referral["id"], level=4, outcome="strategy_discussion"
    )
    assert second["id"] != decision["id"]
    assert (await review(client, who["manager"], second["id"])).status_code == 200
    decided = await get_referral(client, who["practitioner"], referral["id"])
    assert (decided["status"], decided["outcome"]["decision_id"]) == ("decided", second["id"])

    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    decisions = [e["event_type"] for e in timeline.json()["items"] if e["event_type"].startswith("decision.")]
    assert decisions == ["decision.proposed", "decision.returned", "decision.proposed", "decision.approved"]


async def test_an_approved_decision_cannot_be_reviewed_again(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    decision = await propose_and_approve(client, who["practitioner"], who["manager"], referral["id"])
    assert_problem(
        await review(client, who["manager2"], decision["id"], approved=False), 409, "invalid_transition"
    )
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "decided"


async def test_two_managers_approving_at_once_decide_once(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    decision = await propose(client, who["practitioner"], referral["id"])
    responses = await asyncio.gather(
        review(client, who["manager"], decision["id"]), review(client, who["manager2"], decision["id"])
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    assert_problem(next(r for r in responses if r.status_code == 409), 409, "invalid_transition")

    fetched = (
        await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=who["practitioner"])
    ).json()
    assert (fetched["status"], fetched["reviewed_by"]) == ("approved", winner.json()["reviewed_by"])
    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    kinds = [e["event_type"] for e in timeline.json()["items"]]
    assert kinds.count("decision.approved") == kinds.count("referral.decided") == 1


async def test_approving_and_returning_at_once_settle_one_way(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    decision = await propose(client, who["practitioner"], referral["id"])
    approve, send_back = await asyncio.gather(
        review(client, who["manager"], decision["id"]),
        review(client, who["manager2"], decision["id"], approved=False),
    )
    assert sorted([approve.status_code, send_back.status_code]) == [200, 409]
    status = (await get_referral(client, who["practitioner"], referral["id"]))["status"]
    assert status == ("decided" if approve.status_code == 200 else "triaged")


async def test_decisions_are_for_the_hub_only(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    proposal = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions", json=proposal_body(), headers=who["police"]
    )
    assert_problem(proposal, 403, "insufficient_scope")
    missing = await client.get(f"/v1/threshold-decisions/{uuid.uuid4()}", headers=who["practitioner"])
    assert_problem(missing, 404, "not_found")
    nowhere = await client.post(
        f"/v1/referrals/{uuid.uuid4()}/threshold-decisions", json=proposal_body(), headers=who["practitioner"]
    )
    assert_problem(nowhere, 404, "not_found")


# ---------------------------------------------------------------------------------------------------
# Per-child decisions (contract 1.1)


def _siblings() -> Body:
    family = unique_family_name()
    return referral_body(
        child(given_name="Zara", family_name=family, date_of_birth="2012-05-01", gender="female"),
        child(given_name="Yann", family_name=family, date_of_birth="2016-07-02", gender="male"),
        child(given_name="Xena", family_name=family, date_of_birth="2020-09-03", gender="female"),
    )


async def test_siblings_decided_each_in_their_own_right(client: httpx.AsyncClient, who: Who) -> None:
    """Zara's assessment is the referral-wide decision; Yann goes to early help with his own primary
    need; Xena's referral is accepted and then closed with no further action. Approval applies them, the
    hub's referral shows each child's, and the referring police see only the referral's outcome."""
    referral = await rated_referral(client, who, body=_siblings())
    zara, yann, xena = (c["id"] for c in referral["children"])
    body = proposal_body(
        children=[
            {"child_id": yann, "level": 2, "outcome": "early_help", "primary_need": "N5"},
            {"child_id": xena, "level": 1, "outcome": "no_further_action", "accepted_as_referral": True},
        ]
    )
    response = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions", json=body, headers=who["practitioner"]
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    expected = [
        child_decision(zara),
        {
            "child_id": yann,
            "level": 2,
            "outcome": "early_help",
            "primary_need": "N5",
            "nfa": True,
            "accepted_as_referral": False,
            "own_entry": True,
        },
        {
            "child_id": xena,
            "level": 1,
            "outcome": "no_further_action",
            "primary_need": "N1",  # left out: the referral-wide one (an NFA referral may carry one)
            "nfa": True,
            "accepted_as_referral": True,
            "own_entry": True,
        },
    ]
    assert decision["children"] == expected
    assert (decision["outcome"], decision["accepted_as_referral"]) == ("child_and_family_assessment", True)

    approved = await review(client, who["manager"], decision["id"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["children"] == expected
    fetched = await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=who["manager2"])
    assert fetched.json()["children"] == expected

    full = await get_referral(client, who["practitioner"], referral["id"])
    assert [c["decision"] for c in full["children"]] == [
        {k: v for k, v in e.items() if k != "child_id"} for e in expected
    ]
    police = await get_referral(client, who["police"], referral["id"])
    assert police["outcome"]["outcome"] == "child_and_family_assessment"
    assert all("decision" not in c for c in police["children"])
    assert "N5" not in str(police) and "own_entry" not in str(police)
    events = (await client.get("/v1/events", params={"limit": 200}, headers=who["police"])).json()["items"]
    assert "own_entry" not in str(events) and "N5" not in str(events)
    # The hub's timeline: the proposal carries the children's own entries.
    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    [proposed] = [e for e in timeline.json()["items"] if e["event_type"] == "decision.proposed"]
    assert proposed["data"]["accepted_as_referral"] is True
    assert proposed["data"]["children"] == [
        {k: v for k, v in e.items() if k != "own_entry"} for e in expected if e["own_entry"]
    ]
    police_timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["police"])
    assert "N5" not in police_timeline.text and "accepted_as_referral" not in police_timeline.text


async def test_an_undecided_childs_view_has_no_decision(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert [c["decision"] for c in full["children"]] == [None]
    decision = await propose(client, who["practitioner"], referral["id"])
    # Proposed, not yet approved: the referral shows no decision on its children.
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert [c["decision"] for c in full["children"]] == [None]
    returned = await review(client, who["manager"], decision["id"], approved=False)
    assert returned.status_code == 200
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert [c["decision"] for c in full["children"]] == [None]


async def test_per_child_entries_follow_the_rules(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who, body=_siblings())
    zara, yann, _ = (c["id"] for c in referral["children"])
    url = f"/v1/referrals/{referral['id']}/threshold-decisions"
    cases: list[tuple[list[Body], list[str | int], str]] = [
        ([{"child_id": zara}, {"child_id": zara, "level": 2}], ["body", "children"], "once"),
        (
            [{"child_id": yann, "outcome": "early_help", "level": 2, "accepted_as_referral": True}],
            ["body", "children", 0, "accepted_as_referral"],
            "leaves the contact a contact",
        ),
        (
            [{"child_id": yann, "outcome": "no_further_action", "level": 1}],
            ["body", "children", 1 - 1, "accepted_as_referral"],
            "required for no_further_action",
        ),
        (
            [{"child_id": yann, "accepted_as_referral": False}],
            ["body", "children", 0, "accepted_as_referral"],
            "accepts the contact as a referral",
        ),
        (
            [{"child_id": yann, "primary_need": None}],
            ["body", "children", 0, "primary_need"],
            "primary need",
        ),
        (
            [{"child_id": yann, "outcome": "strategy_discussion"}],
            ["body", "children", 0, "level"],
            "level 4",
        ),
    ]
    for children, loc, says in cases:
        response = await client.post(url, json=proposal_body(children=children), headers=who["practitioner"])
        problem = assert_problem(response, 422, "validation_failed")
        assert loc in locs(problem), (children, problem["errors"])
        assert says in str(problem["errors"]), problem["errors"]
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "triaged"


async def test_a_child_of_another_referral_is_refused(client: httpx.AsyncClient, who: Who) -> None:
    other = await rated_referral(client, who)
    referral = await rated_referral(client, who)
    response = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions",
        json=proposal_body(children=[{"child_id": other["children"][0]["id"], "outcome": "early_help"}]),
        headers=who["practitioner"],
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert locs(problem) == [["body", "children", 0, "child_id"]]
    assert "not a child of this referral" in problem["errors"][0]["msg"]


async def test_an_unborn_child_due_too_far_after_the_referral_is_not_accepted(
    app: FastAPI, client: httpx.AsyncClient, who: Who
) -> None:
    """CIN census rule 8606: the referral date is at most 280 days before the expected date of birth.
    The referral (received 100 days ago) was made in time; the person record's expected date, corrected
    since, is a day too late for it. As a contact that stays a contact it is no census item: allowed."""
    received = clock.today() - timedelta(days=100)
    due = (clock.today() + timedelta(days=100)).isoformat()
    unborn = {"given_name": "Baby", "family_name": unique_family_name(), "expected_date_of_birth": due}
    referral = await rated_referral(client, who, body=referral_body(unborn))
    person_id = (await get_referral(client, who["practitioner"], referral["id"]))["children"][0]["person_id"]
    moved = sql_time(f"{received.isoformat()}T12:00:00+00:00")
    await run_sql(app, f"UPDATE referrals SET received_at = {moved} WHERE id = '{sql_id(referral['id'])}'")
    url = f"/v1/referrals/{referral['id']}/threshold-decisions"
    person = f"/v1/people/{person_id}"

    late = (received + timedelta(days=281)).isoformat()
    assert (
        await patch_current(client, who["practitioner"], person, {"expected_date_of_birth": late})
    ).is_success
    problem = assert_problem(
        await client.post(url, json=proposal_body(), headers=who["practitioner"]), 422, "validation_failed"
    )
    assert locs(problem) == [["body"]]
    assert "280 days" in problem["errors"][0]["msg"] and "8606" in problem["errors"][0]["msg"]
    early_help = proposal_body(level=2, outcome="early_help", primary_need=None)
    stays_contact = await client.post(url, json=early_help, headers=who["practitioner"])
    assert stays_contact.status_code == 201, stays_contact.text
    assert (await review(client, who["manager"], stays_contact.json()["id"], approved=False)).is_success

    in_time = (received + timedelta(days=280)).isoformat()
    assert (
        await patch_current(client, who["practitioner"], person, {"expected_date_of_birth": in_time})
    ).is_success
    response = await client.post(url, json=proposal_body(), headers=who["practitioner"])
    assert response.status_code == 201, response.text


async def test_an_unborn_childs_gender_is_not_known(client: httpx.AsyncClient, who: Who) -> None:
    """CIN census rule 8750: sex U for an unborn child. The referral could not record one; a person
    record edited since can, and the decision to accept the referral is refused until it is put right."""
    due = (clock.today() + timedelta(days=100)).isoformat()
    unborn = {"given_name": "Baby", "family_name": unique_family_name(), "expected_date_of_birth": due}
    referral = await rated_referral(client, who, body=referral_body(unborn))
    person_id = (await get_referral(client, who["practitioner"], referral["id"]))["children"][0]["person_id"]
    url = f"/v1/referrals/{referral['id']}/threshold-decisions"
    for gender in ("female", "other"):
        patched = await patch_current(
            client, who["practitioner"], f"/v1/people/{person_id}", {"gender": gender}
        )
        assert patched.status_code == 200, patched.text
        problem = assert_problem(
            await client.post(url, json=proposal_body(), headers=who["practitioner"]),
            422,
            "validation_failed",
        )
        assert "8750" in str(problem["errors"]) and "not_known" in str(problem["errors"])
    # Put right, the referral is accepted.
    patched = await patch_current(
        client, who["practitioner"], f"/v1/people/{person_id}", {"gender": "not_known"}
    )
    assert patched.status_code == 200, patched.text
    assert (await client.post(url, json=proposal_body(), headers=who["practitioner"])).status_code == 201
