"""Tests of the children's front door, rule by rule, through HTTP only.

The helpers here build request bodies and walk a referral to the status a test needs, the way a
client would: every step is an HTTP request and each asserts its own success, so a failing step
names itself instead of surfacing as a confusing failure later on.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

Headers = dict[str, str]
Body = dict[str, Any]

# A timestamp long past, in a form both SQLite (text) and PostgreSQL (timestamptz) accept.
LONG_AGO = "2000-01-01 00:00:00.000000"

# Valid NHS numbers (mod-11 check digit); a referral naming one of them twice matches the same person.
NHS_AMELIA = "9434765919"
NHS_OTHER = "4010232137"

CONSENTED = {"informed": True, "consented": True}
NOT_CONSENTED = {
    "informed": False,
    "consented": False,
    "reason_not_informed": "Informing the father would increase the risk to the child.",
}


def child(**fields: Any) -> Body:
    base: Body = {"given_name": "Amelia", "family_name": "Smith-Jones", "date_of_birth": "2018-03-14"}
    base.update(fields)
    return base


def referral_body(*children: Body, **fields: Any) -> Body:
    """A valid referral made with the parents' consent; ``fields`` replace top-level fields."""
    body: Body = {
        "children": list(children) or [child()],
        "concern_categories": ["domestic_abuse", "neglect"],
        "concern_summary": "Police attended a domestic incident overnight; the child was present.",
        "referrer": {"name": "PC Dawson", "role": "Public protection officer", "phone": "020 7946 0000"},
        "referral_source": "6",
        "parental_consent": dict(CONSENTED),
    }
    body.update(copy.deepcopy(fields))
    return body


def unique_child(**fields: Any) -> Body:
    """A child nobody else in the test is: a random family name, so matching never links it."""
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])
    return child(given_name="Zara", family_name=f"Q{letters}", **fields)


def actors(auth: Callable[..., Headers]) -> dict[str, Headers]:
    """Everyone the tests need, each with a distinct ``sub``."""
    return {
        "police": auth("partner_referrer", "police", sub="police-system"),
        "health": auth("partner_referrer", "health", sub="health-system"),
        "education": auth("partner_referrer", "education", sub="school-system"),
        "housing": auth("partner_referrer", "housing", sub="housing-system"),
        "practitioner": auth("mash_practitioner", sub="practitioner-ann"),
        "practitioner2": auth("mash_practitioner", sub="practitioner-cat"),
        "manager": auth("mash_manager", sub="manager-bob"),
        "manager2": auth("mash_manager", sub="manager-dee"),
    }


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def sql_id(value: str | uuid.UUID) -> str:
    """A UUID literal for ``run_sql``: 32 hex digits, which is how SQLite stores it and PostgreSQL
    also accepts."""
    return uuid.UUID(str(value)).hex


def locs(problem: Body) -> list[list[str | int]]:
    return [e["loc"] for e in problem.get("errors", [])]


# ---------------------------------------------------------------------------------------------------
# Walking a referral through its statuses


async def create_referral(http: httpx.AsyncClient, headers: Headers, body: Body | None = None) -> Body:
    response = await http.post("/v1/referrals", json=body or referral_body(), headers=headers)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


async def get_referral(http: httpx.AsyncClient, headers: Headers, referral_id: str) -> Body:
    response = await http.get(f"/v1/referrals/{referral_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: Body = response.json()
    return found


async def etag_of(http: httpx.AsyncClient, headers: Headers, referral_id: str) -> str:
    response = await http.get(f"/v1/referrals/{referral_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def rate(http: httpx.AsyncClient, headers: Headers, referral_id: str, rating: str = "amber") -> Body:
    response = await http.post(
        f"/v1/referrals/{referral_id}/rag-rating",
        json={"rating": rating, "rationale": f"Rated {rating} on what the referral says."},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    rated: Body = response.json()
    return rated


def ask_body(*agencies: str) -> Body:
    return {"agencies": list(agencies), "question": "What do you know about this child and family?"}


async def ask(http: httpx.AsyncClient, headers: Headers, referral_id: str, *agencies: str) -> list[Body]:
    response = await http.post(
        f"/v1/referrals/{referral_id}/contribution-requests", json=ask_body(*agencies), headers=headers
    )
    assert response.status_code == 201, response.text
    items: list[Body] = response.json()["items"]
    return items


def answer_body(**fields: Any) -> Body:
    body: Body = {"information": "Known to us; nothing of concern recorded this year.", "risk_indicators": []}
    body.update(fields)
    return body


async def answer(http: httpx.AsyncClient, headers: Headers, contribution_id: str, **fields: Any) -> Body:
    response = await http.post(
        f"/v1/contributions/{contribution_id}/response", json=answer_body(**fields), headers=headers
    )
    assert response.status_code == 200, response.text
    answered: Body = response.json()
    return answered


def proposal_body(**fields: Any) -> Body:
    body: Body = {
        "level": 3,
        "outcome": "child_and_family_assessment",
        "rationale": "Repeated domestic abuse with the child present; needs a section 17 assessment.",
        "primary_need": "N1",
        "assessment_factors": ["3A", "3B"],
    }
    body.update(fields)
    return body


async def propose(http: httpx.AsyncClient, headers: Headers, referral_id: str, **fields: Any) -> Body:
    response = await http.post(
        f"/v1/referrals/{referral_id}/threshold-decisions", json=proposal_body(**fields), headers=headers
    )
    assert response.status_code == 201, response.text
    proposed: Body = response.json()
    return proposed


async def review(
    http: httpx.AsyncClient, headers: Headers, decision_id: str, *, approved: bool = True
) -> httpx.Response:
    comment = "Agreed." if approved else "Please obtain the school's view before deciding."
    return await http.post(
        f"/v1/threshold-decisions/{decision_id}/approval",
        json={"approved": approved, "comment": comment},
        headers=headers,
    )


async def decided_referral(
    http: httpx.AsyncClient, who: dict[str, Headers], body: Body | None = None
) -> Body:
    """A referral made by the police, rated, decided and approved; returns the referral (full view)."""
    referral = await create_referral(http, who["police"], body)
    await rate(http, who["practitioner"], referral["id"])
    decision = await propose(http, who["practitioner"], referral["id"])
    approved = await review(http, who["manager"], decision["id"])
    assert approved.status_code == 200, approved.text
    return await get_referral(http, who["practitioner"], referral["id"])


async def withdraw(http: httpx.AsyncClient, headers: Headers, referral_id: str) -> httpx.Response:
    return await http.patch(
        f"/v1/referrals/{referral_id}",
        json={"status": "withdrawn", "withdrawal_reason": "Referred in error: wrong family."},
        headers={**headers, "If-Match": await etag_of(http, headers, referral_id)},
    )
