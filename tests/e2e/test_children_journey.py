"""The children's front door, end to end, through HTTP only."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.fixtures.callers import CHILDREN_SIDE, Caller, cast
from tests.fixtures.http import assert_problem

REFERRAL = {
    "children": [
        {
            "given_name": "Amelia",
            "family_name": "Smith-Jones",
            "date_of_birth": "2018-03-14",
            "nhs_number": "943 476 5919",
            "address": {"lines": ["12 Forest Road", "London"], "postcode": "e17 4uh"},
            "gender": "female",
        },
        {"given_name": "Oliver", "family_name": "Smith-Jones", "date_of_birth": "2020-07-02"},
    ],
    "household": [
        {"given_name": "Sarah", "family_name": "Smith", "relationship": "mother", "lives_with_children": True}
    ],
    "concern_categories": ["domestic_abuse", "neglect"],
    "concern_summary": "Police attended a domestic incident overnight; both children were present.",
    "referrer": {"name": "PC Dawson", "role": "Public protection officer", "phone": "020 7946 0000"},
    "referral_source": "6",
    "parental_consent": {
        "informed": False,
        "consented": False,
        "reason_not_informed": "Informing the father would increase the risk to the children.",
    },
}


@pytest.fixture
def people(auth):
    """The children's side's callers (tests/fixtures/callers.py), the police's child protection unit
    referring, and Ann acting up as a manager."""
    return cast(
        auth,
        CHILDREN_SIDE,
        police=Caller("partner_referrer", "police", "police-ppu-system"),
        ann_acting_up=Caller("mash_manager", "childrens_social_care", "practitioner-ann"),
    )


async def test_a_police_referral_from_receipt_to_decision(client: httpx.AsyncClient, people) -> None:
    police, practitioner, manager = people["police"], people["practitioner"], people["manager"]

    # 1. The police system posts the referral, and retries it: one referral.
    headers = {**police, "Idempotency-Key": "ppu-incident-4471"}
    first = await client.post("/v1/referrals", json=REFERRAL, headers=headers)
    retry = await client.post("/v1/referrals", json=REFERRAL, headers=headers)
    assert first.status_code == retry.status_code == 201, first.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    referral = first.json()
    referral_id = referral["id"]
    assert first.headers["location"] == f"/v1/referrals/{referral_id}"
    assert referral["view"] == "referrer", "the police see their referral, not the hub's view of it"
    assert referral["status"] == "received"
    assert datetime.fromisoformat(referral["decision_due_at"]) > datetime.fromisoformat(
        referral["received_at"]
    )
    listed = (await client.get("/v1/referrals", headers=practitioner)).json()["items"]
    assert [r["id"] for r in listed] == [referral_id]

    # 2. The hub sees it whole: both children are new to the hub and linked as siblings.
    full = (await client.get(f"/v1/referrals/{referral_id}", headers=practitioner)).json()
    assert full["view"] == "full"
    amelia, oliver = full["children"]
    assert amelia["nhs_number"] == "9434765919"
    assert amelia["address"]["postcode"] == "E17 4UH"
    assert amelia["match"]["status"] == oliver["match"]["status"] == "new_person"
    assert [s["id"] for s in amelia["siblings"]] == [oliver["person_id"]]

    # 3. Rated red: the decision is due 4 clock hours after receipt.
    rated = await client.post(
        f"/v1/referrals/{referral_id}/rag-rating",
        json={"rating": "red", "rationale": "Children present at a violent incident."},
        headers=practitioner,
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["status"] == "triaged"
    received = datetime.fromisoformat(rated.json()["received_at"])
    assert (datetime.fromisoformat(rated.json()["decision_due_at"]) - received).total_seconds() == 4 * 3600

    # 4. No consent: agencies cannot be asked until a manager authorises it.
    ask = {"agencies": ["health", "education"], "question": "What do you know about these children?"}
    refused = await client.post(
        f"/v1/referrals/{referral_id}/contribution-requests", json=ask, headers=practitioner
    )
    assert_problem(refused, 409, "consent_override_required")
    override = await client.post(
        f"/v1/referrals/{referral_id}/consent-override",
        json={
            "reason": "Seeking consent would place the children at increased risk.",
            "lawful_basis": "uk_gdpr_6_1_e_public_task",
            "special_category_condition": "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18",
        },
        headers=manager,
    )
    assert override.status_code == 200, override.text
    assert override.json()["consent_override"]["authorised_by"] == "manager-bob"

    # 5. Health and education are asked; each answers from its own inbox.
    asked = await client.post(
        f"/v1/referrals/{referral_id}/contribution-requests", json=ask, headers=practitioner
    )
    assert asked.status_code == 201, asked.text
    requests = {c["agency"]: c for c in asked.json()["items"]}
    assert set(requests) == {"health", "education"}
    assert all(c["due_at"] == requests["health"]["due_at"] for c in requests.values())

    inbox = (await client.get("/v1/contributions?status=requested", headers=people["health"])).json()["items"]
    assert [c["id"] for c in inbox] == [requests["health"]["id"]]
    assert inbox[0]["question"] == ask["question"]
    assert [c["given_name"] for c in inbox[0]["children"]] == ["Amelia", "Oliver"]
    health_view = (await client.get(f"/v1/referrals/{referral_id}", headers=people["health"])).json()
    assert health_view["view"] == "asked_agency"
    assert "concern_summary" not in health_view

    health = await client.post(
        f"/v1/contributions/{requests['health']['id']}/response",
        json={
            "information": "Two missed immunisation appointments for Oliver.",
            "risk_indicators": ["missed_health_appointments"],
        },
        headers=people["health"],
    )
    assert health.status_code == 200, health.text
    education = await client.post(
        f"/v1/contributions/{requests['education']['id']}/response",
        json={
            "information": "Amelia disclosed fear of her father to a teacher.",
            "restricted": True,
            "restriction_reason": "Disclosure to the family would put the child at risk.",
        },
        headers=people["education"],
    )
    assert education.status_code == 200, education.text
    assert education.json()["restricted"] is True
    # Health cannot see education's answer, even knowing its id.
    peek = await client.get(f"/v1/contributions/{requests['education']['id']}", headers=people["health"])
    assert_problem(peek, 404, "not_found")

    # 6. A practitioner proposes level 4 / strategy discussion.
    proposal = await client.post(
        f"/v1/referrals/{referral_id}/threshold-decisions",
        json={
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Domestic abuse with the children present; a disclosure of fear at school.",
            "primary_need": "N1",
        },
        headers=practitioner,
    )
    assert proposal.status_code == 201, proposal.text
    decision = proposal.json()
    assert (decision["status"], decision["nfa"]) == ("proposed", False)

    # 7. The same person cannot approve it: not as a practitioner, nor when acting up as a manager.
    url = f"/v1/threshold-decisions/{decision['id']}/approval"
    approve = {"approved": True, "comment": "Agreed: strategy discussion today."}
    assert_problem(await client.post(url, json=approve, headers=practitioner), 403, "insufficient_scope")
    assert_problem(
        await client.post(url, json=approve, headers=people["ann_acting_up"]), 403, "self_approval"
    )
    approved = await client.post(url, json=approve, headers=manager)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["reviewed_by"]) == ("approved", "manager-bob")
    assert_problem(await client.post(url, json=approve, headers=manager), 409, "invalid_transition")

    # 8. The police see the outcome, but neither agency's answer.
    seen = (await client.get(f"/v1/referrals/{referral_id}", headers=police)).json()
    assert seen["view"] == "referrer"
    assert seen["status"] == "decided"
    assert seen["rag_rating"] == "red"
    assert (seen["outcome"]["level"], seen["outcome"]["outcome"]) == (4, "strategy_discussion")
    assert "rationale" not in str(seen)
    police_contributions = await client.get(f"/v1/referrals/{referral_id}/contributions", headers=police)
    assert police_contributions.json() == {"items": [], "next_cursor": None}
    for contribution in requests.values():
        assert_problem(
            await client.get(f"/v1/contributions/{contribution['id']}", headers=police), 404, "not_found"
        )
    assert_problem(
        await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=police), 404, "not_found"
    )

    # 9. The hub's timeline shows every step, in order, with who did it.
    timeline = (await client.get(f"/v1/referrals/{referral_id}/timeline", headers=practitioner)).json()[
        "items"
    ]
    steps = [(e["event_type"], e["actor"]["sub"]) for e in timeline]
    assert steps == [
        ("referral.received", "police-ppu-system"),
        ("child.new_person", "police-ppu-system"),
        ("child.new_person", "police-ppu-system"),
        ("referral.rated", "practitioner-ann"),
        ("referral.consent_overridden", "manager-bob"),
        ("contribution.requested", "practitioner-ann"),
        ("contribution.requested", "practitioner-ann"),
        ("contribution.submitted", "health-system"),
        ("contribution.submitted", "school-system"),
        ("decision.proposed", "practitioner-ann"),
        ("decision.approved", "manager-bob"),
        ("referral.decided", "manager-bob"),
    ]
    seqs = [e["seq"] for e in timeline]
    assert seqs == sorted(seqs)
    # The police timeline: receipt, status changes, rating and outcome, as the police feed shows them,
    # and not who at the hub did them nor which agencies were asked.
    police_timeline = (await client.get(f"/v1/referrals/{referral_id}/timeline", headers=police)).json()[
        "items"
    ]
    assert [(e["event_type"], e["actor"]["sub"], e["data"]) for e in police_timeline] == [
        ("referral.received", "police-ppu-system", {"referral_source": "6", "children": 2}),
        ("referral.rated", None, {"rating": "red"}),
        ("contribution.requested", None, {}),
        ("decision.proposed", None, {}),
        ("referral.decided", None, {"level": 4, "outcome": "strategy_discussion"}),
    ]
