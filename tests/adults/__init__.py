"""Tests of adults at risk, rule by rule, through HTTP only.

The helpers here build request bodies and walk a concern (and the records that hang off it: enquiry,
capacity assessments, advocacy, plans) to the state a test needs, the way a client would: every step
is an HTTP request and asserts its own success, so a failing step names itself instead of surfacing
as a confusing failure later on.

Who is who: health raises concerns (a GP's system); adult social care's practitioner ("worker") does
the casework and its manager makes the section 42 decision and concludes enquiries; the police and
housing are partners that may own actions in a plan.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.core import clock

Headers = dict[str, str]
Body = dict[str, Any]

# Valid NHS numbers (mod-11 check digit).
NHS_MARGARET = "9434765919"
NHS_OTHER = "4010232137"
NHS_BAD_CHECK_DIGIT = "9434765918"

# A timestamp long past, in a form both SQLite (text) and PostgreSQL (timestamptz) accept.
LONG_AGO = "2000-01-01 00:00:00.000000"
LONG_AGO_DATE = "2000-01-01"

ABILITIES = ("understand", "retain", "use_or_weigh", "communicate")
CRITERIA = ("care_and_support_needs", "experiencing_or_at_risk", "unable_to_protect_self")


def actors(auth: Callable[..., Headers]) -> dict[str, Headers]:
    """Everyone the tests need, each with a distinct ``sub``."""
    return {
        "health": auth("partner_referrer", "health", sub="gp-system"),
        "police": auth("partner_referrer", "police", sub="police-system"),
        "housing": auth("partner_referrer", "housing", sub="housing-system"),
        "education": auth("partner_referrer", "education", sub="school-system"),
        "worker": auth("asc_practitioner", sub="asc-worker"),
        "manager": auth("asc_manager", sub="asc-manager"),
    }


# ---------------------------------------------------------------------------------------------------
# Small values


def today() -> date:
    """Today in England, as the service sees it (the server's own zone may be a day behind)."""
    return clock.today()


def days_from_today(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def now() -> datetime:
    return datetime.now(UTC)


def instant(hours_from_now: float = 0) -> str:
    """An RFC 3339 timestamp with offset, ``hours_from_now`` away (negative: in the past)."""
    return (now() + timedelta(hours=hours_from_now)).isoformat()


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def sql_id(value: str | uuid.UUID) -> str:
    """A UUID literal for ``run_sql``: 32 hex digits, as SQLite stores it; PostgreSQL accepts it too."""
    return uuid.UUID(str(value)).hex


def locs(problem: Body) -> list[list[str | int]]:
    return [e["loc"] for e in problem.get("errors") or []]


def _letters(n: int) -> str:
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:n])


def unique_family_name() -> str:
    """A family name nobody else in the test has."""
    return "Q" + _letters(10)


def unique_identity() -> Body:
    """Names and a birth date nobody else in the test has, so that matching neither links two test
    adults nor offers one as a candidate for the other (same given name, birth date and postcode with
    another family name is a candidate: she may have married)."""
    born = date(1930, 1, 1) + timedelta(days=int(uuid.uuid4().hex[:6], 16) % 10_000)
    return {
        "given_name": "M" + _letters(8),
        "family_name": unique_family_name(),
        "date_of_birth": born.isoformat(),
    }


# ---------------------------------------------------------------------------------------------------
# Concerns


def adult(**fields: Any) -> Body:
    base: Body = {
        **unique_identity(),
        "postcode": "E17 5JW",
        "gender": "female",
        "primary_support_reason": "memory_and_cognition",
    }
    base.update(fields)
    return base


def allegation(**fields: Any) -> Body:
    base: Body = {
        "type_of_risk": "financial_or_material",
        "location_of_risk": "own_home",
        "source_of_risk": "other_known_to_individual",
        "description": "Her son has been withdrawing large sums from her account.",
    }
    base.update(fields)
    return base


NEGLECT = {
    "type_of_risk": "neglect_and_acts_of_omission",
    "location_of_risk": "own_home",
    "source_of_risk": "other_known_to_individual",
    "description": "Missed medication and no food in the house at the last two visits.",
}


def concern_body(*allegations: Body, **fields: Any) -> Body:
    """A valid concern about a new adult with two allegations; ``fields`` replace top-level fields."""
    body: Body = {
        "adult": adult(),
        "allegations": list(allegations) or [allegation(), dict(NEGLECT)],
        "adult_views": "She does not want her son to get into trouble.",
        "desired_outcomes": "To stay at home and keep her money safe.",
        "consent_to_share": True,
        "concerns_about_capacity": True,
        "raised_by": {"name": "Dr Patel", "role": "GP", "phone": "020 7946 0101"},
    }
    body.update(copy.deepcopy(fields))
    return body


async def raise_concern(http: httpx.AsyncClient, headers: Headers, body: Body | None = None) -> Body:
    response = await http.post("/v1/adult-concerns", json=body or concern_body(), headers=headers)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


async def get_concern(http: httpx.AsyncClient, headers: Headers, concern_id: str) -> Body:
    response = await http.get(f"/v1/adult-concerns/{concern_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: Body = response.json()
    return found


async def concern_etag(http: httpx.AsyncClient, headers: Headers, concern_id: str) -> str:
    response = await http.get(f"/v1/adult-concerns/{concern_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def patch_concern(
    http: httpx.AsyncClient, headers: Headers, concern_id: str, body: Body
) -> httpx.Response:
    etag = await concern_etag(http, headers, concern_id)
    return await http.patch(
        f"/v1/adult-concerns/{concern_id}", json=body, headers={**headers, "If-Match": etag}
    )


CLOSE = {"status": "closed", "closure_reason": "Enquiry concluded; nothing further to do."}


# ---------------------------------------------------------------------------------------------------
# The section 42 decision, the enquiry and its conclusion


def criteria(a: bool = True, b: bool = True, c: bool = True) -> Body:
    return {
        "care_and_support_needs": {"met": a, "reason": "Dementia; daily care package."},
        "experiencing_or_at_risk": {"met": b, "reason": "Evidence of financial abuse and neglect."},
        "unable_to_protect_self": {"met": c, "reason": "Cannot manage her money or challenge her son."},
    }


def decision_body(
    decision: str = "section_42_enquiry", met: tuple[bool, bool, bool] = (True, True, True), **fields: Any
) -> Body:
    """A decision; no further action gets an alternative route unless ``fields`` say otherwise."""
    body: Body = {
        **criteria(*met),
        "decision": decision,
        "rationale": "Recorded against each criterion.",
        "referrer_feedback": "Phone Dr Patel with the outcome.",
    }
    if decision == "no_further_action":
        body["alternative_route"] = "needs_assessment"
    body.update(fields)
    return body


NFA_MET = (True, False, False)  # a decision of no further action needs a criterion unmet
OTHER_MET = (True, True, False)


async def decide(
    http: httpx.AsyncClient, headers: Headers, concern_id: str, body: Body | None = None
) -> Body:
    response = await http.post(
        f"/v1/adult-concerns/{concern_id}/section-42-decision", json=body or decision_body(), headers=headers
    )
    assert response.status_code == 201, response.text
    decided: Body = response.json()
    return decided


def enquiry_body(**fields: Any) -> Body:
    body: Body = {
        "lead_agency": "adult_social_care",
        "objectives": ["establish_facts", "ascertain_views_and_wishes", "protect"],
    }
    body.update(fields)
    return body


async def open_enquiry(http: httpx.AsyncClient, headers: Headers, concern_id: str, **fields: Any) -> Body:
    response = await http.post(
        f"/v1/adult-concerns/{concern_id}/enquiries", json=enquiry_body(**fields), headers=headers
    )
    assert response.status_code == 201, response.text
    opened: Body = response.json()
    return opened


def conclusion_body(allegation_ids: list[str], **fields: Any) -> Body:
    """No risk found for every allegation; the adult was not asked and did not lack capacity."""
    body: Body = {
        "allegations": [
            {"allegation_id": a, "result": "no_risk_identified_and_no_action_taken"} for a in allegation_ids
        ],
        "msp_asked": "no",
        "lacked_capacity": "no",
    }
    body.update(fields)
    return body


async def conclude(http: httpx.AsyncClient, headers: Headers, enquiry_id: str, body: Body) -> httpx.Response:
    return await http.post(f"/v1/enquiries/{enquiry_id}/conclusion", json=body, headers=headers)


class Case:
    """A concern walked to a status, with what the tests need to know about it."""

    def __init__(self, full: Body) -> None:
        self.id: str = full["id"]
        self.person_id: str = full["adult"]["person_id"]
        self.allegation_ids: list[str] = [a["id"] for a in full["allegations"]]
        self.enquiry_id: str | None = full["enquiry_id"]
        self.status: str = full["status"]
        self.full = full


STATUSES = ("received", "decided_s42", "decided_other", "decided_nfa", "enquiry_open", "enquiry_concluded")


async def concern_in(
    http: httpx.AsyncClient,
    who: dict[str, Headers],
    state: str = "received",
    body: Body | None = None,
    raiser: str = "health",
    advocacy_assessed: bool = True,
) -> Case:
    """A concern raised by ``raiser`` and walked to ``state``: one of ``STATUSES`` or ``closed``
    (closed after an enquiry concluded). A section 42 enquiry comes with an advocacy assessment
    finding no advocate is needed, as the Care Act requires before it concludes, unless
    ``advocacy_assessed`` is false."""
    concern = await raise_concern(http, who[raiser], body)
    concern_id = concern["id"]
    if state in ("decided_s42", "enquiry_open", "enquiry_concluded", "closed"):
        await decide(http, who["manager"], concern_id)
    elif state == "decided_other":
        await decide(http, who["manager"], concern_id, decision_body("other_enquiry", OTHER_MET))
    elif state == "decided_nfa":
        await decide(http, who["manager"], concern_id, decision_body("no_further_action", NFA_MET))
    if state in ("enquiry_open", "enquiry_concluded", "closed"):
        await open_enquiry(http, who["worker"], concern_id)
        if advocacy_assessed:
            assessed = await record_advocacy(
                http, who["worker"], concern_id, advocacy_body(difficulty=False, offer="not_required")
            )
            assert assessed.status_code == 201, assessed.text
    full = await get_concern(http, who["worker"], concern_id)
    # A new person each time: a pending match would leave the adult without a person record.
    assert full["match"]["status"] == "new_person", full["match"]
    if state in ("enquiry_concluded", "closed"):
        case = Case(full)
        assert case.enquiry_id is not None
        concluded = await conclude(
            http, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids)
        )
        assert concluded.status_code == 200, concluded.text
    if state == "closed":
        closed = await patch_concern(http, who["worker"], concern_id, CLOSE)
        assert closed.status_code == 200, closed.text
    full = await get_concern(http, who["worker"], concern_id)
    return Case(full)


# ---------------------------------------------------------------------------------------------------
# People


def person_body(**fields: Any) -> Body:
    body: Body = unique_identity()
    body.update(fields)
    return body


async def create_person(http: httpx.AsyncClient, headers: Headers, body: Body | None = None) -> Body:
    response = await http.post("/v1/people", json=body or person_body(), headers=headers)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


# ---------------------------------------------------------------------------------------------------
# Mental capacity


def ability(able: bool = True) -> Body:
    return {"able": able, "evidence": "Observed over a forty-minute conversation." if able else "Could not."}


def assessment_body(person_id: str, outcome: str = "lacks_capacity", **fields: Any) -> Body:
    """By default an assessment that consistently finds a lack of capacity (retain, weigh unmet)."""
    body: Body = {
        "person_id": person_id,
        "decision": "Whether to let her son manage her bank account",
        "relevant_information": "What the account holds, the withdrawals, the options of an attorney or deputy.",
        "support_provided": "At home in the morning, large-print statements, her daughter present.",
        "understand": ability(True),
        "retain": ability(False),
        "use_or_weigh": ability(False),
        "communicate": ability(True),
        "impairment": "Alzheimer's disease.",
        "causative_link": "Her memory impairment is why she cannot retain or weigh the information.",
        "outcome": outcome,
        "may_fluctuate": False,
        "assessed_at": instant(-2),
    }
    body.update(fields)
    return body


HAS_CAPACITY: Body = {
    "understand": ability(True),
    "retain": ability(True),
    "use_or_weigh": ability(True),
    "communicate": ability(True),
    "impairment": None,
    "causative_link": None,
    "outcome": "has_capacity",
}


async def assess(http: httpx.AsyncClient, headers: Headers, body: Body) -> Body:
    response = await http.post("/v1/capacity-assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


def best_interests_body(**fields: Any) -> Body:
    body: Body = {
        "decision": "Her daughter applies to be deputy for her property and affairs.",
        "options": [
            {"description": "Leave things as they are.", "less_restrictive": False, "chosen": False},
            {
                "description": "Daughter as deputy; son's card cancelled.",
                "less_restrictive": True,
                "chosen": True,
            },
        ],
        "checklist": {
            "past_and_present_wishes": "Always kept her own accounts; wants family peace.",
            "beliefs_and_values": "Values independence and her home.",
            "may_regain_capacity": False,
            "participation": "Options explained over two visits with her daughter.",
        },
        "consultees": [
            {"name": "Jane Hughes", "relationship": "family", "views": "Supports the deputyship."}
        ],
        "imca_involved": False,
        "decision_maker": {"name": "A. Khan", "role": "Social worker"},
        "made_at": instant(-1),
    }
    body.update(fields)
    return body


# ---------------------------------------------------------------------------------------------------
# Advocacy


def advocate_body(**fields: Any) -> Body:
    body: Body = {
        "name": "Sam Okoye",
        "organisation": "Waltham Forest Advocacy Service",
        "kind": "care_act",
        "contact": {"phone": "020 7946 0202"},
    }
    body.update(fields)
    return body


async def register_advocate(http: httpx.AsyncClient, headers: Headers, **fields: Any) -> Body:
    response = await http.post("/v1/advocates", json=advocate_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


def advocacy_body(
    difficulty: bool = True, appropriate_person: bool = False, offer: str = "offered", **fields: Any
) -> Body:
    body: Body = {
        "substantial_difficulty": difficulty,
        "appropriate_person_available": appropriate_person,
        "offer": offer,
    }
    body.update(fields)
    return body


async def record_advocacy(
    http: httpx.AsyncClient, headers: Headers, concern_id: str, body: Body
) -> httpx.Response:
    return await http.post(f"/v1/adult-concerns/{concern_id}/advocacy", json=body, headers=headers)


# ---------------------------------------------------------------------------------------------------
# Safeguarding plans


def action(agency: str, **fields: Any) -> Body:
    body: Body = {
        "agency": agency,
        "description": f"An action for {agency}.",
        "due_date": days_from_today(14),
    }
    body.update(fields)
    return body


def plan_body(person_id: str, *actions: Body, **fields: Any) -> Body:
    body: Body = {
        "person_id": person_id,
        "lead": {"name": "A. Khan", "role": "Social worker", "agency": "adult_social_care"},
        "adult_wishes": "To stay at home and keep her money safe.",
        "protective_people": "Her daughter Jane.",
        "actions": list(actions) or [action("police"), action("housing")],
        "contingency": "If her son returns, her daughter calls the police and the duty team.",
        "review_due_on": days_from_today(30),
    }
    body.update(fields)
    return body


async def make_plan(http: httpx.AsyncClient, headers: Headers, body: Body) -> Body:
    response = await http.post("/v1/safeguarding-plans", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


async def plan_etag(http: httpx.AsyncClient, headers: Headers, plan_id: str) -> str:
    response = await http.get(f"/v1/safeguarding-plans/{plan_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def review_body(decision: str = "continue", **fields: Any) -> Body:
    body: Body = {"held_on": today().isoformat(), "findings": "Actions on track.", "decision": decision}
    if decision == "close":
        body["closure"] = {
            "reason": "Risk removed and her outcomes achieved.",
            "adult_view": "Happy for the plan to end.",
            "feedback_given": True,
            "sar_considered": True,
        }
    else:
        body["next_review_due_on"] = days_from_today(30)
    body.update(fields)
    return body


async def review_plan(http: httpx.AsyncClient, headers: Headers, plan_id: str, body: Body) -> httpx.Response:
    return await http.post(f"/v1/safeguarding-plans/{plan_id}/reviews", json=body, headers=headers)
