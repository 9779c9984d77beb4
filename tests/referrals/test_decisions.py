"""Threshold decisions: the Children in Need rules on a proposal, and approval by a second manager."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs
from tests.fixtures.referrals import (
    ask,
    get_referral,
    proposal_body,
    propose,
    propose_and_approve,
    rate,
    rated_referral,
    review,
)
from tests.fixtures.values import Body, dt

NFA: dict[str, Any] = {
    "level": 1,
    "outcome": "no_further_action",
    "primary_need": None,
    "assessment_factors": [],
}

# Each proposal breaks one rule; the error names the field at fault.
INVALID_PROPOSALS: list[tuple[str, dict[str, Any], list[str | int]]] = [
    ("not NFA without a primary need", {"primary_need": None}, ["body", "primary_need"]),
    (
        "strategy discussion without a primary need",
        {"level": 4, "outcome": "strategy_discussion", "primary_need": None},
        ["body", "primary_need"],
    ),
    ("NFA with a primary need", {**NFA, "primary_need": "N9"}, ["body", "primary_need"]),
    ("NFA with assessment factors", {**NFA, "assessment_factors": ["16A"]}, ["body", "assessment_factors"]),
    (
        "early help with assessment factors",
        {"level": 2, "outcome": "early_help", "primary_need": None, "assessment_factors": ["3A"]},
        ["body", "assessment_factors"],
    ),
    ("NFA outcome flagged not NFA", {**NFA, "nfa": False}, ["body", "nfa"]),
    (
        "universal services flagged not NFA",
        {**NFA, "outcome": "universal_services", "nfa": False},
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
        {"level": 4, "outcome": "early_help", "primary_need": None, "assessment_factors": []},
        ["body", "outcome"],
    ),
    ("level 4 with no further action", {**NFA, "level": 4}, ["body", "outcome"]),
    (
        "21 (no factors) with another factor",
        {"assessment_factors": ["21", "3A"]},
        ["body", "assessment_factors"],
    ),
    ("another factor with 21", {"assessment_factors": ["16A", "21"]}, ["body", "assessment_factors"]),
    ("repeated factor", {"assessment_factors": ["3A", "3B", "3A"]}, ["body", "assessment_factors"]),
    ("unknown factor", {"assessment_factors": ["3D"]}, ["body", "assessment_factors", 0]),
    ("unknown primary need", {"primary_need": "N10"}, ["body", "primary_need"]),
    ("unknown outcome", {"outcome": "section_47"}, ["body", "outcome"]),
    ("level 0", {"level": 0}, ["body", "level"]),
    ("level 5", {"level": 5}, ["body", "level"]),
    ("level as text", {"level": "three"}, ["body", "level"]),
    ("empty rationale", {"rationale": ""}, ["body", "rationale"]),
    ("unknown field", {"reason_for_closure": "RC8"}, ["body", "reason_for_closure"]),
]


@pytest.mark.parametrize(
    ("fields", "loc"), [pytest.param(fields, loc, id=name) for name, fields, loc in INVALID_PROPOSALS]
)
async def test_a_proposal_breaking_a_cin_rule_is_refused(
    client: httpx.AsyncClient, who: Who, fields: dict[str, Any], loc: list[str | int]
) -> None:
    referral = await rated_referral(client, who)
    response = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions",
        json=proposal_body(**fields),
        headers=who["practitioner"],
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem), problem["errors"]
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "triaged"


VALID_PROPOSALS: list[tuple[str, dict[str, Any], bool]] = [
    ("no further action", NFA, True),
    ("no further action, flag given", {**NFA, "nfa": True}, True),
    ("universal services", {**NFA, "outcome": "universal_services"}, True),
    ("early help", {**NFA, "level": 2, "outcome": "early_help"}, True),
    ("assessment with no factors", {"assessment_factors": ["21"], "nfa": False}, False),
    ("assessment without factors", {"assessment_factors": []}, False),
    ("level 4 assessment", {"level": 4, "primary_need": "N2"}, False),
    (
        "strategy discussion",
        {"level": 4, "outcome": "strategy_discussion", "assessment_factors": ["19C"]},
        False,
    ),
]


@pytest.mark.parametrize(
    ("fields", "nfa"), [pytest.param(fields, nfa, id=name) for name, fields, nfa in VALID_PROPOSALS]
)
async def test_a_valid_proposal_awaits_approval(
    client: httpx.AsyncClient, who: Who, fields: dict[str, Any], nfa: bool
) -> None:
    referral = await rated_referral(client, who)
    body = proposal_body(**fields)
    response = await client.post(
        f"/v1/referrals/{referral['id']}/threshold-decisions", json=body, headers=who["practitioner"]
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert response.headers["location"] == f"/v1/threshold-decisions/{decision['id']}"
    assert decision["status"] == "proposed"
    assert decision["nfa"] is nfa
    assert (decision["level"], decision["outcome"]) == (body["level"], body["outcome"])
    assert decision["primary_need"] == body["primary_need"]
    assert decision["assessment_factors"] == body["assessment_factors"]
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
