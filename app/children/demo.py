"""Demo casework for ``mash seed-demo``: what comes after a threshold decision, to walk through.

The police refer two siblings; the hub rates the referral and decides on a strategy discussion (which
accepts both children as a referral); the elder child's child and family assessment starts; a strategy
discussion with police, health and children's social care starts a section 47 enquiry for each child.
Everything is made through the API in process, by demo callers of the right roles, so every rule,
event and audit entry applies as it would for real work. It is made once: a referral carrying
``DEMO_REFERENCE`` marks it as there.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.core import clock

DEMO_REFERENCE = "DEMO-PATHWAY-1"
CALLERS = {
    "police": ("demo-police-system", "police", "partner_referrer"),
    "practitioner": ("demo-practitioner", "childrens_social_care", "mash_practitioner"),
    "manager": ("demo-manager", "childrens_social_care", "mash_manager"),
}
REFERRAL = {
    "children": [
        {"given_name": "Lily", "family_name": "Demo-Carter", "date_of_birth": "2016-06-02"},
        {"given_name": "Noah", "family_name": "Demo-Carter", "date_of_birth": "2019-09-14"},
    ],
    "concern_categories": ["physical_abuse", "domestic_abuse"],
    "concern_summary": "Officers attended a domestic incident; Lily had a bruise to her arm she said her "
    "stepfather caused. Noah was present.",
    "referrer": {"name": "PC Dawson", "role": "Public protection officer", "phone": "020 7946 0000"},
    "referral_source": "6",
    "parental_consent": {
        "informed": False,
        "consented": False,
        "reason_not_informed": "Informing the stepfather would increase the risk to the children.",
    },
    "external_reference": DEMO_REFERENCE,
}
ATTENDEES = [
    {"agency": "childrens_social_care", "name": "Sam Okafor", "role": "Team manager"},
    {"agency": "police", "name": "DS Rao", "role": "Public protection unit"},
    {"agency": "health", "name": "Dr Evans", "role": "Named doctor for safeguarding"},
]


class _Demo:
    def __init__(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers = {
            name: {
                "Authorization": f"Bearer {app.state.tokens.issue(sub=sub, agency=agency, role=role).access_token}"
            }
            for name, (sub, agency, role) in CALLERS.items()
        }

    async def call(self, who: str, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.request(method, url, json=body, headers=self.headers[who])
        if response.status_code not in (200, 201):
            raise RuntimeError(f"demo: {method} {url} answered {response.status_code}: {response.text}")
        return response.json()


async def seed(app: FastAPI) -> dict[str, str] | None:
    """Make the demo casework; the ids made, or None when it is there already."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
        demo = _Demo(app, http)
        found = await demo.call("practitioner", "GET", f"/v1/referrals?external_reference={DEMO_REFERENCE}")
        if found["items"]:
            return None
        referral = await demo.call("police", "POST", "/v1/referrals", REFERRAL)
        url = f"/v1/referrals/{referral['id']}"
        rating = {"rating": "red", "rationale": "Injury to a child disclosed; stepfather still in the home."}
        await demo.call("practitioner", "POST", f"{url}/rag-rating", rating)
        override = {
            "reason": "Seeking consent would place the children at increased risk of significant harm.",
            "lawful_basis": "uk_gdpr_6_1_e_public_task",
        }
        await demo.call("manager", "POST", f"{url}/consent-override", override)
        proposal = {
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Disclosed physical harm by a carer, with domestic abuse in the home: section 47.",
            "primary_need": "N1",
        }
        decision = await demo.call("practitioner", "POST", f"{url}/threshold-decisions", proposal)
        approval = {"approved": True, "comment": "Agreed: convene a strategy discussion today."}
        await demo.call("manager", "POST", f"/v1/threshold-decisions/{decision['id']}/approval", approval)
        children = (await demo.call("practitioner", "GET", url))["children"]
        today = clock.today().isoformat()
        assessment = await demo.call(
            "practitioner",
            "POST",
            "/v1/assessments",
            {"referral_id": referral["id"], "child_id": children[0]["id"], "started_on": today},
        )
        discussion = await demo.call(
            "practitioner",
            "POST",
            "/v1/strategy-discussions",
            {
                "referral_id": referral["id"],
                "child_ids": [child["id"] for child in children],
                "held_at": clock.now().isoformat(),
                "attendees": ATTENDEES,
                "decision": "section_47_enquiry",
                "rationale": "Lily's disclosure and the injury seen by the school nurse meet the threshold.",
            },
        )
    return {
        "referral_id": referral["id"],
        "assessment_id": assessment["id"],
        "strategy_discussion_id": discussion["id"],
        "section_47_enquiry_ids": ",".join(e["id"] for e in discussion["section_47_enquiries"]),
    }
