"""Enquiries: opened after a decision to enquire, once; caused to another agency, which then sees the
enquiry but not the rest of the case; concluded once, with a result for every allegation (SAC SG2c),
a risk outcome exactly where risk was identified (SG2e), and the Making Safeguarding Personal and
capacity answers (SG3, SG4) consistent with each other."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures.adults import (
    HAS_CAPACITY,
    Case,
    assess,
    assessment_body,
    concern_body,
    concern_in,
    conclude,
    conclusion_body,
    enquiry_body,
    get_concern,
    get_enquiry,
    open_enquiry,
)
from tests.fixtures.callers import Who
from tests.fixtures.changes import BodyChange, changed, without
from tests.fixtures.http import assert_not_found, assert_problem, locs
from tests.fixtures.values import Body, dt


def _url(concern_id: str) -> str:
    return f"/v1/adult-concerns/{concern_id}/enquiries"


async def _open_case(client: httpx.AsyncClient, who: Who, **fields: Any) -> Case:
    case = await concern_in(client, who, "enquiry_open", **fields)
    assert case.enquiry_id is not None
    return case


RISK_IDENTIFIED = ["risk_identified_and_action_taken", "risk_identified_and_no_action_taken"]
NO_RISK_IDENTIFIED = [
    "risk_assessment_inconclusive_and_action_taken",
    "risk_assessment_inconclusive_and_no_action_taken",
    "no_risk_identified_and_action_taken",
    "no_risk_identified_and_no_action_taken",
    "enquiry_ceased_at_individuals_request_and_no_action_taken",
]


# ---------------------------------------------------------------------------------------------------
# 1. Opening


@pytest.mark.parametrize(
    ("state", "kind"), [("decided_s42", "section_42_enquiry"), ("decided_other", "other_enquiry")]
)
async def test_an_enquiry_opens_after_a_decision_to_enquire(
    client: httpx.AsyncClient, who: Who, state: str, kind: str
) -> None:
    case = await concern_in(client, who, state)
    body = enquiry_body(objectives=["establish_facts", "protect"])
    response = await client.post(_url(case.id), json=body, headers=who["worker"])
    assert response.status_code == 201, response.text
    enquiry = response.json()
    assert response.headers["location"] == f"/v1/enquiries/{enquiry['id']}"
    assert (enquiry["kind"], enquiry["status"], enquiry["concern_id"]) == (kind, "open", case.id)
    assert (enquiry["lead_agency"], enquiry["caused_to_agency"]) == ("adult_social_care", None)
    assert enquiry["objectives"] == ["establish_facts", "protect"]
    assert (enquiry["opened_by"], enquiry["concluded_at"]) == ("asc-worker", None)
    full = await get_concern(client, who["worker"], case.id)
    assert (full["status"], full["enquiry_id"]) == ("enquiry_open", enquiry["id"])
    assert (await get_enquiry(client, who["worker"], enquiry["id"]))["id"] == enquiry["id"]


@pytest.mark.parametrize(
    "state",
    [
        pytest.param("received", id="before a decision"),
        pytest.param("decided_nfa", id="after no further action"),
        pytest.param("enquiry_open", id="twice"),
        pytest.param("enquiry_concluded", id="after the enquiry concluded"),
        pytest.param("closed", id="after the concern closed"),
    ],
)
async def test_an_enquiry_cannot_be_opened(client: httpx.AsyncClient, who: Who, state: str) -> None:
    case = await concern_in(client, who, state)
    response = await client.post(_url(case.id), json=enquiry_body(), headers=who["worker"])
    assert_problem(response, 409, "invalid_transition")
    assert await get_concern(client, who["worker"], case.id) == case.full


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        pytest.param(
            {"caused_to_agency": "adult_social_care"}, ["body", "caused_to_agency"], id="caused to the lead"
        ),
        pytest.param(
            {"lead_agency": "health", "caused_to_agency": "health"},
            ["body", "caused_to_agency"],
            id="caused to the lead (health)",
        ),
        pytest.param(
            {"objectives": ["establish_facts", "protect", "establish_facts"]},
            ["body", "objectives"],
            id="repeated objective",
        ),
        pytest.param(
            {"objectives": ["establish_facts", "punish"]}, ["body", "objectives", 1], id="unknown objective"
        ),
        pytest.param({"objectives": []}, ["body", "objectives"], id="no objectives"),
        pytest.param({"lead_agency": "social_services"}, ["body", "lead_agency"], id="unknown lead agency"),
        pytest.param(
            {"caused_to_agency": "nhs"}, ["body", "caused_to_agency"], id="unknown caused-to agency"
        ),
        pytest.param({"deadline": "2030-01-01"}, ["body", "deadline"], id="unknown field"),
    ],
)
async def test_an_invalid_enquiry_is_refused(
    client: httpx.AsyncClient, who: Who, fields: Body, loc: list[Any]
) -> None:
    case = await concern_in(client, who, "decided_s42")
    response = await client.post(_url(case.id), json=enquiry_body(**fields), headers=who["worker"])
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem)
    assert (await get_concern(client, who["worker"], case.id))["status"] == "decided"


async def test_partners_cannot_open_an_enquiry(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "decided_s42")
    assert_problem(
        await client.post(_url(case.id), json=enquiry_body(), headers=who["health"]),
        403,
        "insufficient_scope",
    )
    unknown = await client.post(_url(str(uuid.uuid4())), json=enquiry_body(), headers=who["worker"])
    assert_problem(unknown, 404, "not_found")


async def test_the_agency_the_enquiry_is_caused_to_sees_the_enquiry_not_the_concern(
    client: httpx.AsyncClient, who: Who
) -> None:
    # The police raise the concern; the enquiry is caused to health; housing has nothing to do with it.
    case = await concern_in(client, who, "decided_s42", raiser="police")
    enquiry = await open_enquiry(client, who["worker"], case.id, caused_to_agency="health")
    assert enquiry["caused_to_agency"] == "health"

    seen = await get_enquiry(client, who["health"], enquiry["id"])
    assert (seen["id"], seen["caused_to_agency"], seen["status"]) == (enquiry["id"], "health", "open")
    assert [a["id"] for a in seen["allegations"]] == case.allegation_ids
    assert_problem(await client.get(f"/v1/adult-concerns/{case.id}", headers=who["health"]), 404, "not_found")
    health_list = await client.get("/v1/adult-concerns", headers=who["health"])
    assert health_list.json()["items"] == []

    for outsider in ("housing", "police"):
        await assert_not_found(client, who[outsider], f"/v1/enquiries/{enquiry['id']}")
    # The raiser still sees its concern and its status.
    assert (await get_concern(client, who["police"], case.id))["status"] == "enquiry_open"
    await assert_not_found(client, who["worker"], f"/v1/enquiries/{uuid.uuid4()}")


# ---------------------------------------------------------------------------------------------------
# 2. Concluding


async def test_the_conclusion_stores_a_result_per_allegation(client: httpx.AsyncClient, who: Who) -> None:
    case = await _open_case(client, who)
    assert case.enquiry_id is not None
    first, second = case.allegation_ids
    body = conclusion_body(
        [],
        allegations=[
            {"allegation_id": second, "result": "no_risk_identified_and_action_taken"},
            {
                "allegation_id": first,
                "result": "risk_identified_and_action_taken",
                "risk_outcome": "risk_reduced",
            },
        ],
        msp_asked="yes_outcomes_expressed",
        msp_outcomes_achieved="partially",
        lacked_capacity="yes",
        advocate_support=True,
        summary="Deputyship applied for; care package increased.",
    )
    response = await conclude(client, who["manager"], case.enquiry_id, body)
    assert response.status_code == 200, response.text
    concluded = response.json()
    assert (concluded["status"], concluded["concluded_by"]) == ("concluded", "asc-manager")
    assert dt(concluded["concluded_at"]) >= dt(concluded["opened_at"])

    stored = await get_enquiry(client, who["worker"], case.enquiry_id)
    assert stored == concluded
    assert [(a["id"], a["result"], a["risk_outcome"]) for a in stored["allegations"]] == [
        (first, "risk_identified_and_action_taken", "risk_reduced"),
        (second, "no_risk_identified_and_action_taken", None),
    ]
    assert (stored["msp_asked"], stored["msp_outcomes_achieved"]) == ("yes_outcomes_expressed", "partially")
    assert (stored["lacked_capacity"], stored["advocate_support"]) == ("yes", True)
    assert stored["conclusion_summary"] == "Deputyship applied for; care package increased."
    full = await get_concern(client, who["worker"], case.id)
    assert full["status"] == "enquiry_concluded"
    assert {a["id"]: a["result"] for a in full["allegations"]} == {
        first: "risk_identified_and_action_taken",
        second: "no_risk_identified_and_action_taken",
    }


async def test_every_allegation_needs_a_result(client: httpx.AsyncClient, who: Who) -> None:
    third = {
        "type_of_risk": "psychological",
        "location_of_risk": "own_home",
        "source_of_risk": "other_known_to_individual",
        "description": "Shouted at and threatened.",
    }
    base = concern_body()
    case = await _open_case(client, who, body=concern_body(*base["allegations"], third, adult=base["adult"]))
    assert case.enquiry_id is not None
    first, second, last = case.allegation_ids
    response = await conclude(client, who["manager"], case.enquiry_id, conclusion_body([second]))
    problem = assert_problem(response, 422, "allegation_results_missing")
    assert problem["errors"] == [
        {"loc": ["body", "allegations"], "msg": f"no result for allegation {first}"},
        {"loc": ["body", "allegations"], "msg": f"no result for allegation {last}"},
    ]
    stored = await get_enquiry(client, who["worker"], case.enquiry_id)
    assert stored["status"] == "open"
    assert [a["result"] for a in stored["allegations"]] == [None, None, None]


async def test_a_result_for_an_allegation_of_another_concern_is_refused(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await _open_case(client, who)
    other = await _open_case(client, who)
    assert case.enquiry_id is not None
    for stranger in (other.allegation_ids[0], str(uuid.uuid4())):
        body = conclusion_body([*case.allegation_ids, stranger])
        response = await conclude(client, who["manager"], case.enquiry_id, body)
        problem = assert_problem(response, 422, "validation_failed")
        # Pointed at by its position in the body; the id sent is not echoed back.
        assert locs(problem) == [["body", "allegations", len(case.allegation_ids), "allegation_id"]]
        assert stranger not in response.text
    assert (await get_enquiry(client, who["worker"], other.enquiry_id or ""))["allegations"][0][
        "result"
    ] is None


def _twice(body: Body) -> None:
    body["allegations"].append(dict(body["allegations"][0]))


INVALID_CONCLUSIONS = [
    pytest.param(_twice, ["body"], id="the same allegation twice"),
    pytest.param(changed(allegations=[]), ["body", "allegations"], id="no allegations"),
    *[
        pytest.param(
            changed("allegations", 0, result=result),
            ["body", "allegations", 0],
            id=f"{result} without a risk outcome",
        )
        for result in RISK_IDENTIFIED
    ],
    *[
        pytest.param(
            changed("allegations", 0, result=result, risk_outcome="risk_reduced"),
            ["body", "allegations", 0],
            id=f"{result} with a risk outcome",
        )
        for result in NO_RISK_IDENTIFIED
    ],
    pytest.param(
        changed("allegations", 0, result="substantiated"),
        ["body", "allegations", 0, "result"],
        id="unknown result",
    ),
    pytest.param(
        changed("allegations", 0, result="risk_identified_and_action_taken", risk_outcome="risk_gone"),
        ["body", "allegations", 0, "risk_outcome"],
        id="unknown risk outcome",
    ),
    pytest.param(
        changed(msp_asked="yes_outcomes_expressed"), ["body"], id="outcomes expressed without achievement"
    ),
    *[
        pytest.param(
            changed(msp_asked=asked, msp_outcomes_achieved="fully"),
            ["body"],
            id=f"achievement when msp_asked is {asked}",
        )
        for asked in ("yes_no_outcomes_expressed", "no", "dont_know", "not_recorded")
    ],
    pytest.param(
        changed(msp_asked="yes_outcomes_expressed", msp_outcomes_achieved="mostly"),
        ["body", "msp_outcomes_achieved"],
        id="unknown achievement",
    ),
    pytest.param(changed(msp_asked="maybe"), ["body", "msp_asked"], id="unknown msp answer"),
    pytest.param(without("msp_asked"), ["body", "msp_asked"], id="msp not answered"),
    pytest.param(changed(lacked_capacity="yes"), ["body"], id="lacked capacity without advocate_support"),
    *[
        pytest.param(
            changed(lacked_capacity=lacked, advocate_support=support),
            ["body"],
            id=f"advocate_support {support} when lacked_capacity is {lacked}",
        )
        for lacked in ("no", "dont_know", "not_recorded")
        for support in (True, False)
    ],
    pytest.param(without("lacked_capacity"), ["body", "lacked_capacity"], id="capacity not answered"),
    pytest.param(changed(outcome="closed"), ["body", "outcome"], id="unknown field"),
]


@pytest.mark.parametrize(("change", "loc"), INVALID_CONCLUSIONS)
async def test_an_inconsistent_conclusion_is_refused(
    client: httpx.AsyncClient, who: Who, change: BodyChange, loc: list[Any]
) -> None:
    case = await _open_case(client, who)
    assert case.enquiry_id is not None
    body = conclusion_body(case.allegation_ids)
    change(body)
    problem = assert_problem(
        await conclude(client, who["manager"], case.enquiry_id, body), 422, "validation_failed"
    )
    assert loc in locs(problem)
    assert (await get_enquiry(client, who["worker"], case.enquiry_id))["status"] == "open"


VALID_CONCLUSIONS = [
    *[
        pytest.param(
            changed("allegations", 0, result=result, risk_outcome=outcome), id=f"{result} with {outcome}"
        )
        for result in RISK_IDENTIFIED
        for outcome in ("risk_remained", "risk_reduced", "risk_removed")
    ],
    *[pytest.param(changed("allegations", 0, result=result), id=result) for result in NO_RISK_IDENTIFIED],
    *[
        pytest.param(
            changed(msp_asked="yes_outcomes_expressed", msp_outcomes_achieved=achieved),
            id=f"outcomes {achieved}",
        )
        for achieved in ("fully", "partially", "not_achieved")
    ],
    *[
        pytest.param(changed(msp_asked=asked), id=f"msp_asked {asked}")
        for asked in ("yes_no_outcomes_expressed", "dont_know", "not_recorded")
    ],
    *[
        pytest.param(
            changed(lacked_capacity="yes", advocate_support=support),
            id=f"lacked capacity, supported {support}",
        )
        for support in (True, False)
    ],
    *[
        pytest.param(changed(lacked_capacity=lacked), id=f"lacked_capacity {lacked}")
        for lacked in ("dont_know", "not_recorded")
    ],
]


@pytest.mark.parametrize("change", VALID_CONCLUSIONS)
async def test_a_consistent_conclusion_is_accepted(
    client: httpx.AsyncClient, who: Who, change: BodyChange
) -> None:
    case = await _open_case(client, who)
    assert case.enquiry_id is not None
    body = conclusion_body(case.allegation_ids)
    change(body)
    response = await conclude(client, who["manager"], case.enquiry_id, body)
    assert response.status_code == 200, response.text
    concluded = response.json()
    first = concluded["allegations"][0]
    assert (first["result"], first["risk_outcome"]) == (
        body["allegations"][0]["result"],
        body["allegations"][0].get("risk_outcome"),
    )
    for key in ("msp_asked", "lacked_capacity"):
        assert concluded[key] == body[key]
    for key in ("msp_outcomes_achieved", "advocate_support"):
        assert concluded[key] == body.get(key)


async def test_an_enquiry_concludes_once(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "enquiry_concluded")
    assert case.enquiry_id is not None
    before = await get_enquiry(client, who["worker"], case.enquiry_id)
    body = conclusion_body(case.allegation_ids, lacked_capacity="dont_know")
    again = await conclude(client, who["manager"], case.enquiry_id, body)
    assert_problem(again, 409, "invalid_transition")
    assert await get_enquiry(client, who["worker"], case.enquiry_id) == before


@pytest.mark.parametrize("caller", ["worker", "health"])
async def test_only_a_manager_concludes(client: httpx.AsyncClient, who: Who, caller: str) -> None:
    case = await concern_in(client, who, "decided_s42")
    await open_enquiry(client, who["worker"], case.id, caused_to_agency="health")
    full = await get_concern(client, who["worker"], case.id)
    response = await conclude(client, who[caller], full["enquiry_id"], conclusion_body(case.allegation_ids))
    assert_problem(response, 403, "insufficient_scope")
    assert (await get_enquiry(client, who["worker"], full["enquiry_id"]))["status"] == "open"


async def test_the_capacity_answer_cannot_contradict_an_assessment_on_the_concern(
    client: httpx.AsyncClient, who: Who
) -> None:
    """SAC SG4 asks whether the adult lacked capacity; an assessment recorded on this concern that
    found a lack of capacity answers it, so "no" is refused while "yes" is accepted."""
    case = await _open_case(client, who)
    assert case.enquiry_id is not None
    await assess(client, who["worker"], assessment_body(case.person_id, concern_id=case.id))
    refused = await conclude(
        client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids, lacked_capacity="no")
    )
    problem = assert_problem(refused, 422, "validation_failed")
    assert locs(problem) == [["body", "lacked_capacity"]]
    assert (await get_enquiry(client, who["worker"], case.enquiry_id))["status"] == "open"

    body = conclusion_body(case.allegation_ids, lacked_capacity="yes", advocate_support=True)
    accepted = await conclude(client, who["manager"], case.enquiry_id, body)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["lacked_capacity"] == "yes"


async def test_an_assessment_finding_capacity_allows_the_answer_no(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await _open_case(client, who)
    assert case.enquiry_id is not None
    await assess(client, who["worker"], assessment_body(case.person_id, concern_id=case.id, **HAS_CAPACITY))
    response = await conclude(client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids))
    assert response.status_code == 200, response.text
    assert response.json()["lacked_capacity"] == "no"
