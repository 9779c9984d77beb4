"""The section 42 decision (Care Act 2014 s42): the three criteria decide which decisions are open to
the manager, each recorded with its reason; the decision is made once, by a manager; and what the
agency that raised the concern is told depends on whether feedback is limited."""

from __future__ import annotations

import itertools
import uuid

import httpx
import pytest

from tests.fixtures.adults import (
    CRITERIA,
    NFA_MET,
    OTHER_MET,
    concern_in,
    decide,
    decision_body,
    get_concern,
    open_enquiry,
    raise_concern,
)
from tests.fixtures.callers import Who
from tests.fixtures.changes import BodyChange, changed, without
from tests.fixtures.http import assert_problem, locs
from tests.fixtures.values import dt


def _url(concern_id: str) -> str:
    return f"/v1/adult-concerns/{concern_id}/section-42-decision"


ALL_MET = (True, True, True)
NOT_ALL_MET = [met for met in itertools.product([True, False], repeat=3) if not all(met)]


def _label(met: tuple[bool, ...]) -> str:
    return "unmet: " + ", ".join(name for name, ok in zip(CRITERIA, met, strict=True) if not ok)


# ---------------------------------------------------------------------------------------------------
# 1. What the criteria allow


async def test_all_three_criteria_met_make_a_section_42_enquiry(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "received")
    body = decision_body()
    response = await client.post(_url(case.id), json=body, headers=who["manager"])
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/adult-concerns/{case.id}"
    decision = response.json()
    assert decision["decision"] == "section_42_enquiry"
    assert {name: decision[name] for name in CRITERIA} == {name: body[name] for name in CRITERIA}
    assert (decision["rationale"], decision["referrer_feedback"]) == (
        body["rationale"],
        body["referrer_feedback"],
    )
    assert (
        decision["alternative_route"],
        decision["feedback_limited"],
        decision["feedback_limited_reason"],
    ) == (
        None,
        False,
        None,
    )
    assert decision["decided_by"] == "asc-manager"
    assert dt(decision["decided_at"]).utcoffset() is not None

    full = await get_concern(client, who["worker"], case.id)
    assert full["status"] == "decided"
    assert full["section_42_decision"] == decision


@pytest.mark.parametrize("met", NOT_ALL_MET, ids=_label)
async def test_a_section_42_enquiry_needs_every_criterion_and_names_those_unmet(
    client: httpx.AsyncClient, who: Who, met: tuple[bool, bool, bool]
) -> None:
    case = await concern_in(client, who, "received")
    response = await client.post(_url(case.id), json=decision_body(met=met), headers=who["manager"])
    problem = assert_problem(response, 422, "section_42_criteria_not_met")
    unmet = [name for name, ok in zip(CRITERIA, met, strict=True) if not ok]
    assert problem["errors"] == [{"loc": ["body", name, "met"], "msg": "not met"} for name in unmet]
    for name in unmet:
        assert name in problem["detail"]
    full = await get_concern(client, who["worker"], case.id)
    assert (full["status"], full["section_42_decision"]) == ("received", None)


@pytest.mark.parametrize("decision", ["other_enquiry", "no_further_action"])
async def test_with_all_three_criteria_met_the_duty_to_enquire_applies(
    client: httpx.AsyncClient, who: Who, decision: str
) -> None:
    case = await concern_in(client, who, "received")
    response = await client.post(_url(case.id), json=decision_body(decision, ALL_MET), headers=who["manager"])
    problem = assert_problem(response, 422, "section_42_duty_applies")
    assert locs(problem) == [["body", "decision"]]
    assert (await get_concern(client, who["worker"], case.id))["status"] == "received"


@pytest.mark.parametrize("met", NOT_ALL_MET, ids=_label)
@pytest.mark.parametrize("decision", ["other_enquiry", "no_further_action"])
async def test_with_a_criterion_unmet_an_other_enquiry_or_no_further_action_is_made(
    client: httpx.AsyncClient, who: Who, decision: str, met: tuple[bool, bool, bool]
) -> None:
    case = await concern_in(client, who, "received")
    made = await decide(client, who["manager"], case.id, decision_body(decision, met))
    assert made["decision"] == decision
    assert [made[name]["met"] for name in CRITERIA] == list(met)
    assert made["alternative_route"] == ("needs_assessment" if decision == "no_further_action" else None)
    assert (await get_concern(client, who["worker"], case.id))["status"] == "decided"


# ---------------------------------------------------------------------------------------------------
# 2. What a decision must say


INVALID_DECISIONS = [
    pytest.param(
        "no_further_action", NFA_MET, without("alternative_route"), ["body"], id="NFA without route"
    ),
    pytest.param(
        "no_further_action", NFA_MET, changed(alternative_route=None), ["body"], id="NFA with a null route"
    ),
    pytest.param(
        "section_42_enquiry",
        ALL_MET,
        changed(alternative_route="signposting"),
        ["body"],
        id="route on a section 42 enquiry",
    ),
    pytest.param(
        "other_enquiry",
        OTHER_MET,
        changed(alternative_route="complaint"),
        ["body"],
        id="route on an other enquiry",
    ),
    pytest.param(
        "no_further_action",
        NFA_MET,
        changed(alternative_route="police"),
        ["body", "alternative_route"],
        id="unknown route",
    ),
    pytest.param("nfa", NFA_MET, changed(), ["body", "decision"], id="unknown decision"),
    pytest.param(
        "section_42_enquiry",
        ALL_MET,
        without("unable_to_protect_self"),
        ["body", "unable_to_protect_self"],
        id="a criterion missing",
    ),
    pytest.param(
        "section_42_enquiry",
        ALL_MET,
        without("care_and_support_needs", "reason"),
        ["body", "care_and_support_needs", "reason"],
        id="a criterion without its reason",
    ),
    pytest.param(
        "section_42_enquiry",
        ALL_MET,
        changed(experiencing_or_at_risk={"met": True, "reason": ""}),
        ["body", "experiencing_or_at_risk", "reason"],
        id="a criterion with an empty reason",
    ),
    pytest.param(
        "section_42_enquiry", ALL_MET, without("rationale"), ["body", "rationale"], id="no rationale"
    ),
    pytest.param(
        "section_42_enquiry",
        ALL_MET,
        without("referrer_feedback"),
        ["body", "referrer_feedback"],
        id="no referrer feedback",
    ),
    pytest.param(
        "section_42_enquiry",
        ALL_MET,
        changed(feedback_limited_reason=""),
        ["body", "feedback_limited_reason"],
        id="an empty limit reason",
    ),
    pytest.param("section_42_enquiry", ALL_MET, changed(urgent=True), ["body", "urgent"], id="unknown field"),
]


@pytest.mark.parametrize(("decision", "met", "change", "loc"), INVALID_DECISIONS)
async def test_an_invalid_decision_is_refused(
    client: httpx.AsyncClient,
    who: Who,
    decision: str,
    met: tuple[bool, bool, bool],
    change: BodyChange,
    loc: list[str],
) -> None:
    case = await concern_in(client, who, "received")
    body = decision_body(decision, met)
    change(body)
    problem = assert_problem(
        await client.post(_url(case.id), json=body, headers=who["manager"]), 422, "validation_failed"
    )
    assert loc in locs(problem)
    assert (await get_concern(client, who["worker"], case.id))["status"] == "received"


# ---------------------------------------------------------------------------------------------------
# 3. Once, by a manager


@pytest.mark.parametrize(
    "state", ["decided_s42", "decided_other", "decided_nfa", "enquiry_open", "enquiry_concluded", "closed"]
)
async def test_a_decision_is_made_once(client: httpx.AsyncClient, who: Who, state: str) -> None:
    case = await concern_in(client, who, state)
    again = await client.post(_url(case.id), json=decision_body(), headers=who["manager"])
    assert_problem(again, 409, "invalid_transition")
    assert await get_concern(client, who["worker"], case.id) == case.full


@pytest.mark.parametrize("caller", ["worker", "health", "police"])
async def test_only_a_manager_decides(client: httpx.AsyncClient, who: Who, caller: str) -> None:
    case = await concern_in(client, who, "received")
    response = await client.post(_url(case.id), json=decision_body(), headers=who[caller])
    assert_problem(response, 403, "insufficient_scope")
    assert (await get_concern(client, who["worker"], case.id))["status"] == "received"


async def test_deciding_on_an_unknown_concern_is_404(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.post(_url(str(uuid.uuid4())), json=decision_body(), headers=who["manager"])
    assert_problem(response, 404, "not_found")


# ---------------------------------------------------------------------------------------------------
# 4. What the raiser is told


@pytest.mark.parametrize(
    ("decision", "met"),
    [("section_42_enquiry", ALL_MET), ("other_enquiry", OTHER_MET), ("no_further_action", NFA_MET)],
)
async def test_the_raiser_sees_the_decision_and_the_feedback(
    client: httpx.AsyncClient, who: Who, decision: str, met: tuple[bool, bool, bool]
) -> None:
    case = await concern_in(client, who, "received")
    made = await decide(
        client,
        who["manager"],
        case.id,
        decision_body(decision, met, referrer_feedback="Letter to the surgery."),
    )
    raiser = await get_concern(client, who["health"], case.id)
    assert (raiser["view"], raiser["status"], raiser["feedback_limited"]) == ("raiser", "decided", False)
    assert raiser["feedback"] == {
        "decision": decision,
        "feedback": "Letter to the surgery.",
        "decided_at": made["decided_at"],
    }
    # Only the outcome and the feedback: not the criteria, the reasons or the rationale.
    assert "section_42_decision" not in raiser
    assert "Recorded against each criterion." not in str(raiser)


async def test_limited_feedback_withholds_the_outcome_from_the_raiser(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await concern_in(client, who, "received")
    reason = "A police investigation of the son is under way."
    made = await decide(client, who["manager"], case.id, decision_body(feedback_limited_reason=reason))
    assert (made["feedback_limited"], made["feedback_limited_reason"]) == (True, reason)

    raiser = await get_concern(client, who["health"], case.id)
    assert (raiser["status"], raiser["feedback"], raiser["feedback_limited"]) == ("decided", None, True)
    assert "section_42_enquiry" not in str(raiser)
    assert reason not in str(raiser)

    full = await get_concern(client, who["worker"], case.id)
    assert full["section_42_decision"]["feedback_limited"] is True
    assert full["section_42_decision"]["feedback_limited_reason"] == reason


async def test_limited_feedback_keeps_the_enquiry_from_the_raisers_status(
    client: httpx.AsyncClient, who: Who
) -> None:
    """The probe: with feedback limited the raising agency still saw `enquiry_open`. It sees
    `decided` while the hub sees the enquiry open or concluded, in the record, the list, a status
    filter and the feed alike; `closed` at the end."""
    reason = "A police investigation of the son is under way."
    concern = await raise_concern(client, who["health"])
    await decide(client, who["manager"], concern["id"], decision_body(feedback_limited_reason=reason))
    await open_enquiry(client, who["worker"], concern["id"])
    hub = await get_concern(client, who["worker"], concern["id"])
    assert hub["status"] == "enquiry_open"

    raiser = await get_concern(client, who["health"], concern["id"])
    assert raiser["status"] == "decided"
    assert "enquiry" not in str(raiser)

    async def listed(**params: str) -> list[str]:
        response = await client.get("/v1/adult-concerns", params=params, headers=who["health"])
        assert response.status_code == 200, response.text
        return [c["status"] for c in response.json()["items"] if c["id"] == concern["id"]]

    assert await listed() == ["decided"]
    assert await listed(status="decided") == ["decided"]
    assert await listed(status="enquiry_open") == []

    feed = await client.get("/v1/events", headers=who["health"])
    told = [
        (e["event_type"], e["status"], e["data"])
        for e in feed.json()["items"]
        if e["record_id"] == concern["id"]
    ]
    assert told == [
        ("adult_concern.received", "received", told[0][2]),
        ("adult_concern.decided", "decided", {}),
    ]
