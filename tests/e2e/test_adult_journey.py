"""An adult at risk, from the concern to its closing, through HTTP only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.core import clock
from tests.fixtures.adults import assessment_body, best_interests_body
from tests.fixtures.http import assert_problem

CONCERN = {
    "adult": {
        "given_name": "Margaret",
        "family_name": "Hughes",
        "date_of_birth": "1941-06-02",
        "postcode": "E17 5JW",
        "gender": "female",
        "primary_support_reason": "memory_and_cognition",
    },
    "allegations": [
        {
            "type_of_risk": "financial_or_material",
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "description": "Her son has been withdrawing large sums from her account.",
            "alleged_person": {"relationship": "son", "lives_with_adult": True, "is_adult_at_risk": False},
        },
        {
            "type_of_risk": "neglect_and_acts_of_omission",
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "description": "Missed medication and no food in the house at the last two visits.",
        },
    ],
    "adult_views": "She does not want her son to get into trouble.",
    "desired_outcomes": "To stay at home and keep her money safe.",
    "consent_to_share": True,
    "concerns_about_capacity": True,
    "raised_by": {
        "name": "Dr Patel",
        "role": "GP",
        "organisation": "Hoe Street Surgery",
        "phone": "020 7946 0101",
    },
}


def criteria(met_c: bool = True) -> dict[str, object]:
    return {
        "care_and_support_needs": {"met": True, "reason": "Dementia; daily care package."},
        "experiencing_or_at_risk": {"met": True, "reason": "Evidence of financial abuse and neglect."},
        "unable_to_protect_self": {"met": met_c, "reason": "Cannot manage her money or challenge her son."},
    }


@pytest.fixture
def who(adult_who):
    """The adults' side's callers (tests/fixtures/callers.py): health is a GP's system."""
    return adult_who


async def test_an_adult_at_risk_from_concern_to_closing(client: httpx.AsyncClient, who) -> None:
    worker, manager = who["worker"], who["manager"]

    # 1. A health system raises a concern with two allegations (retried: one concern).
    headers = {**who["health"], "Idempotency-Key": "gp-concern-0192"}
    raised = await client.post("/v1/adult-concerns", json=CONCERN, headers=headers)
    again = await client.post("/v1/adult-concerns", json=CONCERN, headers=headers)
    assert raised.status_code == again.status_code == 201, raised.text
    assert again.json() == raised.json()
    concern = raised.json()
    concern_id = concern["id"]
    assert (concern["view"], concern["status"]) == ("raiser", "received")
    assert datetime.fromisoformat(concern["decision_due_at"]) > datetime.fromisoformat(concern["received_at"])
    full = (await client.get(f"/v1/adult-concerns/{concern_id}", headers=worker)).json()
    assert full["view"] == "full"
    person_id = full["adult"]["person_id"]
    assert person_id is not None
    assert full["match"]["status"] == "new_person"
    allegation_ids = [a["id"] for a in full["allegations"]]
    assert len(allegation_ids) == 2

    # 2. A manager decides section 42: refused while a criterion is unmet, then made.
    decision = {
        "decision": "section_42_enquiry",
        "rationale": "All three criteria are met.",
        "referrer_feedback": "Phone Dr Patel to say an enquiry is under way.",
    }
    unmet = await client.post(
        f"/v1/adult-concerns/{concern_id}/section-42-decision",
        json={**criteria(False), **decision},
        headers=manager,
    )
    body = assert_problem(unmet, 422, "section_42_criteria_not_met")
    assert body["errors"] == [{"loc": ["body", "unable_to_protect_self", "met"], "msg": "not met"}]
    decided = await client.post(
        f"/v1/adult-concerns/{concern_id}/section-42-decision",
        json={**criteria(), **decision},
        headers=manager,
    )
    assert decided.status_code == 201, decided.text
    enquiry = await client.post(
        f"/v1/adult-concerns/{concern_id}/enquiries",
        json={
            "lead_agency": "adult_social_care",
            "objectives": ["establish_facts", "ascertain_views_and_wishes", "protect"],
        },
        headers=worker,
    )
    assert enquiry.status_code == 201, enquiry.text
    enquiry_id = enquiry.json()["id"]

    # 3. She lacks capacity for the decision about her money; a best interests decision follows.
    assessed_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assessment = await client.post(
        "/v1/capacity-assessments",
        # Whether to let her son manage her bank account; Alzheimer's disease is why she cannot decide.
        json=assessment_body(
            person_id,
            concern_id=concern_id,
            understand={"able": True, "evidence": "Could say what the account is for."},
            retain={"able": False, "evidence": "Could not recall the withdrawals ten minutes later."},
            use_or_weigh={"able": False, "evidence": "Could not weigh the risk of further losses."},
            communicate={"able": True, "evidence": "Expressed a clear wish to avoid conflict."},
            assessed_at=assessed_at,
        ),
        headers=worker,
    )
    assert assessment.status_code == 201, assessment.text
    best_interests = await client.post(
        f"/v1/capacity-assessments/{assessment.json()['id']}/best-interests-decision",
        # Her daughter as deputy, the less restrictive option, after consulting the family.
        json=best_interests_body(made_at=datetime.now(UTC).isoformat()),
        headers=worker,
    )
    assert best_interests.status_code == 201, best_interests.text

    # 4. The service requires an advocate: the enquiry cannot conclude until one is appointed.
    advocacy = await client.post(
        f"/v1/adult-concerns/{concern_id}/advocacy",
        json={"substantial_difficulty": True, "appropriate_person_available": False, "offer": "offered"},
        headers=worker,
    )
    assert advocacy.status_code == 201, advocacy.text
    assert advocacy.json()["required"] is True
    conclusion = {
        "allegations": [
            {
                "allegation_id": allegation_ids[0],
                "result": "risk_identified_and_action_taken",
                "risk_outcome": "risk_reduced",
            },
            {"allegation_id": allegation_ids[1], "result": "no_risk_identified_and_action_taken"},
        ],
        "msp_asked": "yes_outcomes_expressed",
        "msp_outcomes_achieved": "fully",
        "lacked_capacity": "yes",
        "advocate_support": True,
        "summary": "Deputyship applied for; care package increased.",
    }
    blocked = await client.post(f"/v1/enquiries/{enquiry_id}/conclusion", json=conclusion, headers=manager)
    assert_problem(blocked, 409, "advocate_required")
    advocate = await client.post(
        "/v1/advocates",
        json={
            "name": "Sam Okoye",
            "organisation": "Advocacy Service",
            "kind": "care_act",
            "contact": {"phone": "020 7946 0202"},
        },
        headers=worker,
    )
    appointed = await client.post(
        f"/v1/adult-concerns/{concern_id}/advocacy",
        json={
            "substantial_difficulty": True,
            "appropriate_person_available": False,
            "offer": "accepted",
            "advocate_id": advocate.json()["id"],
        },
        headers=worker,
    )
    assert appointed.status_code == 201, appointed.text

    # 5. The enquiry concludes with a result for each allegation.
    concluded = await client.post(f"/v1/enquiries/{enquiry_id}/conclusion", json=conclusion, headers=manager)
    assert concluded.status_code == 200, concluded.text
    results = {a["id"]: (a["result"], a["risk_outcome"]) for a in concluded.json()["allegations"]}
    assert results == {
        allegation_ids[0]: ("risk_identified_and_action_taken", "risk_reduced"),
        allegation_ids[1]: ("no_risk_identified_and_action_taken", None),
    }

    # 6. A plan with actions for the police and housing.
    plan = await client.post(
        "/v1/safeguarding-plans",
        json={
            "person_id": person_id,
            "concern_id": concern_id,
            "lead": {"name": "A. Khan", "role": "Social worker", "agency": "adult_social_care"},
            "adult_wishes": "To stay at home and keep her money safe.",
            "actions": [
                {
                    "agency": "police",
                    "description": "Investigate the withdrawals.",
                    "due_date": str(clock.today() + timedelta(days=20)),
                },
                {
                    "agency": "housing",
                    "description": "Fit a key safe.",
                    "due_date": str(clock.today() + timedelta(days=10)),
                },
            ],
            "contingency": "If her son returns, her daughter calls the police and the duty team.",
            "review_due_on": str(clock.today() + timedelta(days=30)),
        },
        headers=worker,
    )
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    actions = {a["agency"]: a for a in plan.json()["actions"]}

    # 7. Housing updates its action, and sees nothing else.
    seen = await client.get(f"/v1/safeguarding-plans/{plan_id}", headers=who["housing"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["view"] == "action_owner"
    assert [a["agency"] for a in seen.json()["actions"]] == ["housing"]
    assert "adult_wishes" not in seen.json()
    housing_action = seen.json()["actions"][0]
    updated = await client.patch(
        f"/v1/safeguarding-plans/{plan_id}/actions/{housing_action['id']}",
        json={"status": "completed", "note": "Key safe fitted."},
        headers={**who["housing"], "If-Match": housing_action["etag"]},
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["status"], updated.json()["updated_by"]) == ("completed", "housing-system")
    not_its_own = await client.patch(
        f"/v1/safeguarding-plans/{plan_id}/actions/{actions['police']['id']}",
        json={"status": "completed"},
        headers={**who["housing"], "If-Match": actions["police"]["etag"]},
    )
    assert_problem(not_its_own, 404, "not_found")
    for url in (
        f"/v1/adult-concerns/{concern_id}",
        f"/v1/enquiries/{enquiry_id}",
    ):
        assert_problem(await client.get(url, headers=who["housing"]), 404, "not_found")
    capacity = await client.get(f"/v1/capacity-assessments/{assessment.json()['id']}", headers=who["housing"])
    assert_problem(capacity, 403, "insufficient_scope")

    # 8. A review closes the plan; then the concern closes.
    review = await client.post(
        f"/v1/safeguarding-plans/{plan_id}/reviews",
        json={
            "held_on": str(clock.today()),
            "findings": "Actions complete; no further withdrawals; she feels safe.",
            "decision": "close",
            "closure": {
                "reason": "Risk reduced and her outcomes achieved.",
                "adult_view": "Happy for the plan to end.",
                "feedback_given": True,
                "sar_considered": True,
            },
        },
        headers=worker,
    )
    assert review.status_code == 201, review.text
    closed_plan = (await client.get(f"/v1/safeguarding-plans/{plan_id}", headers=worker)).json()
    assert closed_plan["status"] == "closed"
    assert closed_plan["closure"]["sar_considered"] is True

    etag = (await client.get(f"/v1/adult-concerns/{concern_id}", headers=worker)).headers["etag"]
    closed = await client.patch(
        f"/v1/adult-concerns/{concern_id}",
        json={"status": "closed", "closure_reason": "Enquiry concluded; plan completed and closed."},
        headers={**worker, "If-Match": etag},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"

    # The GP's system sees the status and the feedback it was promised.
    raiser = (await client.get(f"/v1/adult-concerns/{concern_id}", headers=who["health"])).json()
    assert (raiser["view"], raiser["status"]) == ("raiser", "closed")
    assert raiser["feedback"]["decision"] == "section_42_enquiry"
    assert raiser["feedback"]["feedback"] == "Phone Dr Patel to say an enquiry is under way."
