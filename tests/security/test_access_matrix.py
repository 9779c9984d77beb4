"""Who may call what: every endpoint of the children's front door, people and adults at risk, against
every role and agency, generated from one table.

The expected status comes from two facts only: the contract's role → scopes table (403 when the
caller's role lacks the endpoint's scope), and which agencies may see the record (404 otherwise, never
403, so a hidden record's existence is not revealed). Each row prepares its own target where the call
changes state, so rows do not depend on each other.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.auth.test_roles import CONTRACT
from tests.conftest import Databases, make_settings

# The callers: a label, a role and an agency. The referral under test is made by the police and
# health is asked about it; housing has nothing to do with it. The adult concern under test is raised
# by health, and its plan has actions for the police and housing.
CALLERS = {
    "police": ("partner_referrer", "police"),
    "health": ("partner_referrer", "health"),
    "housing": ("partner_referrer", "housing"),
    "practitioner": ("mash_practitioner", "childrens_social_care"),
    "manager": ("mash_manager", "childrens_social_care"),
    "asc_practitioner": ("asc_practitioner", "adult_social_care"),
    "asc_manager": ("asc_manager", "adult_social_care"),
    "auditor": ("auditor", "childrens_social_care"),
    "admin": ("admin", "childrens_social_care"),
}
HUB = frozenset({"practitioner", "manager"})
ASC = frozenset({"asc_practitioner", "asc_manager"})
_names = itertools.count()


def _referral_body(consented: bool = True, child: dict[str, Any] | None = None) -> dict[str, Any]:
    n = next(_names)
    return {
        "children": [
            child
            or {
                "given_name": f"Child{n}",
                "family_name": f"Family{n}",
                "date_of_birth": f"2019-05-0{1 + n % 9}",
            }
        ],
        "concern_categories": ["neglect"],
        "concern_summary": "Concern raised by an officer.",
        "referrer": {"name": "PC Dawson", "phone": "020 7946 0000"},
        "referral_source": "6",
        "parental_consent": {"informed": True, "consented": True}
        if consented
        else {"informed": False, "consented": False, "reason_not_informed": "Risk to the child."},
    }


def _concern_body() -> dict[str, Any]:
    n = next(_names)
    return {
        "adult": {
            "given_name": f"Adult{n}",
            "family_name": f"Family{n}",
            "date_of_birth": f"1950-03-0{1 + n % 9}",
        },
        "allegations": [
            {
                "type_of_risk": "financial_or_material",
                "location_of_risk": "own_home",
                "source_of_risk": "other_known_to_individual",
                "description": "Money missing.",
            }
        ],
        "concerns_about_capacity": False,
        "raised_by": {"name": "Dr Patel", "phone": "020 7946 0101"},
    }


_S42 = {
    "care_and_support_needs": {"met": True, "reason": "Care package."},
    "experiencing_or_at_risk": {"met": True, "reason": "Financial abuse."},
    "unable_to_protect_self": {"met": True, "reason": "Cannot manage money."},
    "decision": "section_42_enquiry",
    "rationale": "All three met.",
    "referrer_feedback": "Phone the GP.",
}
_ENQUIRY = {"lead_agency": "adult_social_care", "objectives": ["establish_facts"]}
_ASSESSMENT = {
    "decision": "Managing her money",
    "relevant_information": "The account and the options.",
    "support_provided": "Assessed at home.",
    "understand": {"able": True, "evidence": "Said what the account is for."},
    "retain": {"able": False, "evidence": "Could not recall the withdrawals."},
    "use_or_weigh": {"able": False, "evidence": "Could not weigh the risk."},
    "communicate": {"able": True, "evidence": "Clear wishes."},
    "impairment": "Dementia.",
    "causative_link": "The dementia is why she cannot retain or weigh.",
    "outcome": "lacks_capacity",
    "may_fluctuate": False,
    "assessed_at": "2026-01-05T10:00:00+00:00",
}
_BEST_INTERESTS = {
    "decision": "A deputy manages her money.",
    "options": [
        {"description": "No change.", "less_restrictive": False, "chosen": False},
        {"description": "Deputyship.", "less_restrictive": True, "chosen": True},
    ],
    "checklist": {
        "past_and_present_wishes": "Kept her own accounts.",
        "beliefs_and_values": "Independence.",
        "may_regain_capacity": False,
        "participation": "Explained twice.",
    },
    "consultees": [{"name": "Jane", "relationship": "family", "views": "Agrees."}],
    "imca_involved": False,
    "decision_maker": {"name": "A. Khan", "role": "Social worker"},
    "made_at": "2026-01-06T10:00:00+00:00",
}
_ADVOCATE = {
    "name": "Sam Okoye",
    "organisation": "Advocacy",
    "kind": "care_act",
    "contact": {"phone": "020 7946 0202"},
}
_PLAN = {
    "lead": {"name": "A. Khan", "agency": "adult_social_care"},
    "adult_wishes": "To stay at home.",
    "actions": [
        {"agency": "police", "description": "Investigate.", "due_date": "2099-01-01"},
        {"agency": "housing", "description": "Fit a key safe.", "due_date": "2099-01-01"},
    ],
    "contingency": "Call the duty team.",
    "review_due_on": "2099-01-01",
}


class World:
    """Records made through the API by the callers whose job it is to make them."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, dict[str, str]]) -> None:
        self.client = client
        self.h = headers
        self.ids: dict[str, str] = {}

    async def call(self, method: str, url: str, who: str, expect: int, **kwargs: Any) -> Any:
        response = await self.client.request(
            method, url, headers={**self.h[who], **kwargs.pop("headers", {})}, **kwargs
        )
        assert response.status_code == expect, f"setup {method} {url}: {response.status_code} {response.text}"
        return response.json()

    async def referral(
        self, *, rated: bool = False, consented: bool = True, child: dict[str, Any] | None = None
    ) -> str:
        referral_id: str = (
            await self.call("POST", "/v1/referrals", "police", 201, json=_referral_body(consented, child))
        )["id"]
        if rated:
            await self.call(
                "POST",
                f"/v1/referrals/{referral_id}/rag-rating",
                "practitioner",
                200,
                json={"rating": "amber", "rationale": "Needs checks."},
            )
        return referral_id

    async def ask_health(self, referral_id: str) -> str:
        body = {"agencies": ["health"], "question": "What do you know?"}
        created = await self.call(
            "POST", f"/v1/referrals/{referral_id}/contribution-requests", "practitioner", 201, json=body
        )
        contribution_id: str = created["items"][0]["id"]
        return contribution_id

    async def proposal(self, referral_id: str, proposer: str = "practitioner") -> str:
        body = {"level": 2, "outcome": "early_help", "rationale": "Additional needs."}
        decision_id: str = (
            await self.call(
                "POST", f"/v1/referrals/{referral_id}/threshold-decisions", proposer, 201, json=body
            )
        )["id"]
        return decision_id

    async def person(self) -> tuple[str, str]:
        n = next(_names)
        body = {"given_name": f"Person{n}", "family_name": "Example", "date_of_birth": "2015-01-01"}
        person = await self.call("POST", "/v1/people", "practitioner", 201, json=body)
        etag = (await self.client.get(f"/v1/people/{person['id']}", headers=self.h["practitioner"])).headers[
            "etag"
        ]
        return person["id"], etag

    async def concern(self, *, decided: bool = False, enquiry: bool = False) -> str:
        concern_id: str = (
            await self.call("POST", "/v1/adult-concerns", "health", 201, json=_concern_body())
        )["id"]
        if decided or enquiry:
            await self.call(
                "POST", f"/v1/adult-concerns/{concern_id}/section-42-decision", "asc_manager", 201, json=_S42
            )
        if enquiry:
            opened = await self.call(
                "POST", f"/v1/adult-concerns/{concern_id}/enquiries", "asc_practitioner", 201, json=_ENQUIRY
            )
            self.ids[f"enquiry_of_{concern_id}"] = opened["id"]
        return concern_id

    async def person_of(self, concern_id: str) -> str:
        person_id: str = (
            await self.call("GET", f"/v1/adult-concerns/{concern_id}", "asc_practitioner", 200)
        )["adult"]["person_id"]
        return person_id

    async def assessment(self, person_id: str) -> str:
        body = {**_ASSESSMENT, "person_id": person_id}
        assessment_id: str = (
            await self.call("POST", "/v1/capacity-assessments", "asc_practitioner", 201, json=body)
        )["id"]
        return assessment_id

    async def plan(self, person_id: str) -> dict[str, Any]:
        body = {**_PLAN, "person_id": person_id}
        plan: dict[str, Any] = await self.call(
            "POST", "/v1/safeguarding-plans", "asc_practitioner", 201, json=body
        )
        return plan

    async def build(self) -> None:
        self.ids["concern"] = await self.concern(enquiry=True)
        self.ids["enquiry"] = self.ids[f"enquiry_of_{self.ids['concern']}"]
        self.ids["adult"] = await self.person_of(self.ids["concern"])
        self.ids["assessment"] = await self.assessment(self.ids["adult"])
        advocate = await self.call("POST", "/v1/advocates", "asc_practitioner", 201, json=_ADVOCATE)
        self.ids["advocate"] = advocate["id"]
        plan = await self.plan(self.ids["adult"])
        self.ids["plan"] = plan["id"]
        self.ids["referral"] = await self.referral(rated=True)
        self.ids["contribution"] = await self.ask_health(self.ids["referral"])
        await self.call(
            "POST",
            f"/v1/contributions/{self.ids['contribution']}/response",
            "health",
            200,
            json={"information": "Known to the health visitor."},
        )
        self.ids["decision"] = await self.proposal(self.ids["referral"])
        self.ids["person"], _ = await self.person()
        # A known child, for a referral whose child only nearly matches (a pending match).
        self.ids["known_child"] = (
            await self.call(
                "POST",
                "/v1/people",
                "practitioner",
                201,
                json={
                    "given_name": "Jessica",
                    "family_name": "Pennington",
                    "date_of_birth": "2016-02-11",
                    "postcode": "E17 4UH",
                },
            )
        )["id"]


Request = dict[str, Any]
Prepare = Callable[[World], Awaitable[Request]]


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    scope: str | tuple[str, ...]  # a tuple: any one of these scopes will do
    success: int
    prepare: Prepare
    visible_to: frozenset[str] | None = None  # None: no particular record, so no 404
    extra_allowed: frozenset[str] = field(default_factory=frozenset)


async def _get(path: str) -> Request:
    return {"url": path}


def static(path: str, **kwargs: Any) -> Prepare:
    async def prepare(world: World) -> Request:
        return {"url": path.format(**world.ids), **kwargs}

    return prepare


async def _patch_referral(world: World) -> Request:
    referral_id = await world.referral()
    etag = (await world.client.get(f"/v1/referrals/{referral_id}", headers=world.h["practitioner"])).headers[
        "etag"
    ]
    return {
        "url": f"/v1/referrals/{referral_id}",
        "json": {"concern_summary": "Updated."},
        "headers": {"If-Match": etag},
    }


async def _rate(world: World) -> Request:
    return {
        "url": f"/v1/referrals/{await world.referral()}/rag-rating",
        "json": {"rating": "green", "rationale": "Low."},
    }


async def _override(world: World) -> Request:
    referral_id = await world.referral(consented=False)
    body = {"reason": "Risk to the child.", "lawful_basis": "uk_gdpr_6_1_e_public_task"}
    return {"url": f"/v1/referrals/{referral_id}/consent-override", "json": body}


async def _ask(world: World) -> Request:
    referral_id = await world.referral(rated=True)
    return {
        "url": f"/v1/referrals/{referral_id}/contribution-requests",
        "json": {"agencies": ["health"], "question": "Q?"},
    }


async def _respond(world: World) -> Request:
    contribution_id = await world.ask_health(await world.referral(rated=True))
    return {"url": f"/v1/contributions/{contribution_id}/response", "json": {"information": "Nothing known."}}


async def _propose(world: World) -> Request:
    referral_id = await world.referral(rated=True)
    body = {"level": 1, "outcome": "no_further_action", "rationale": "No additional needs."}
    return {"url": f"/v1/referrals/{referral_id}/threshold-decisions", "json": body}


async def _approve(world: World) -> Request:
    decision_id = await world.proposal(await world.referral(rated=True), proposer="practitioner")
    return {
        "url": f"/v1/threshold-decisions/{decision_id}/approval",
        "json": {"approved": True, "comment": "Agreed."},
    }


async def _communication(world: World) -> Request:
    url = f"/v1/referrals/{world.ids['referral']}/communications"
    body = {"audience": "child", "method": "in_person", "summary": "Spoke with the child at school."}
    created = await world.client.post(url, json=body, headers=world.h["practitioner"])
    assert created.status_code == 201, created.text
    return {"url": created.headers["location"]}


async def _confirm_match(world: World) -> Request:
    near_miss = {"given_name": "Jesica", "family_name": "Pennington", "date_of_birth": "2016-02-11"}
    referral_id = await world.referral(child=near_miss)
    full = await world.call("GET", f"/v1/referrals/{referral_id}", "practitioner", 200)
    child = full["children"][0]
    assert child["match"]["status"] == "pending", child["match"]
    url = f"/v1/referrals/{referral_id}/children/{child['id']}/match-confirmation"
    return {"url": url, "json": {"person_id": world.ids["known_child"]}}


async def _confirm_adult_match(world: World) -> Request:
    n = next(_names)
    known = {"given_name": f"Adult{n}", "family_name": f"Near{n}", "date_of_birth": "1948-05-05"}
    person = await world.call(
        "POST", "/v1/people", "practitioner", 201, json={**known, "postcode": "E17 5JW"}
    )
    body = {**_concern_body(), "adult": {**known, "postcode": "N1 9GU"}}
    concern_id = (await world.call("POST", "/v1/adult-concerns", "health", 201, json=body))["id"]
    full = await world.call("GET", f"/v1/adult-concerns/{concern_id}", "asc_practitioner", 200)
    assert full["match"]["status"] == "pending", full["match"]
    return {"url": f"/v1/adult-concerns/{concern_id}/match-confirmation", "json": {"person_id": person["id"]}}


async def _new_person(world: World) -> Request:
    n = next(_names)
    return {
        "url": "/v1/people",
        "json": {"given_name": f"New{n}", "family_name": "Person", "date_of_birth": "2014-02-02"},
    }


async def _patch_person(world: World) -> Request:
    person_id, etag = await world.person()
    return {"url": f"/v1/people/{person_id}", "json": {"postcode": "E17 9QA"}, "headers": {"If-Match": etag}}


_SAR = {"requester": {"name": "The person", "relationship": "data_subject"}, "identity_verified": True}


async def _log_sar(world: World) -> Request:
    body = {**_SAR, "received_on": date.today().isoformat()}
    return {"url": f"/v1/people/{world.ids['adult']}/subject-access-requests", "json": body}


async def _get_sar(world: World) -> Request:
    body = {**_SAR, "received_on": date.today().isoformat()}
    url = f"/v1/people/{world.ids['adult']}/subject-access-requests"
    created = await world.call("POST", url, "asc_practitioner", 201, json=body)
    return {"url": f"/v1/subject-access-requests/{created['id']}"}


async def _patch_concern(world: World) -> Request:
    concern_id = await world.concern()
    etag = (
        await world.client.get(f"/v1/adult-concerns/{concern_id}", headers=world.h["asc_practitioner"])
    ).headers["etag"]
    return {
        "url": f"/v1/adult-concerns/{concern_id}",
        "json": {"adult_views": "Wants to stay home."},
        "headers": {"If-Match": etag},
    }


async def _decide_s42(world: World) -> Request:
    return {"url": f"/v1/adult-concerns/{await world.concern()}/section-42-decision", "json": _S42}


async def _open_enquiry(world: World) -> Request:
    return {"url": f"/v1/adult-concerns/{await world.concern(decided=True)}/enquiries", "json": _ENQUIRY}


async def _conclude(world: World) -> Request:
    concern_id = await world.concern(enquiry=True)
    # The Care Act asks for advocacy to be considered before a section 42 enquiry concludes.
    assessed = {
        "substantial_difficulty": False,
        "appropriate_person_available": True,
        "offer": "not_required",
    }
    await world.call(
        "POST", f"/v1/adult-concerns/{concern_id}/advocacy", "asc_practitioner", 201, json=assessed
    )
    full = await world.call("GET", f"/v1/adult-concerns/{concern_id}", "asc_practitioner", 200)
    body = {
        "allegations": [
            {"allegation_id": a["id"], "result": "no_risk_identified_and_no_action_taken"}
            for a in full["allegations"]
        ],
        "msp_asked": "no",
        "lacked_capacity": "no",
    }
    return {"url": f"/v1/enquiries/{world.ids[f'enquiry_of_{concern_id}']}/conclusion", "json": body}


async def _advocacy(world: World) -> Request:
    body = {"substantial_difficulty": False, "appropriate_person_available": True, "offer": "not_required"}
    return {"url": f"/v1/adult-concerns/{await world.concern()}/advocacy", "json": body}


async def _assess(world: World) -> Request:
    return {"url": "/v1/capacity-assessments", "json": {**_ASSESSMENT, "person_id": world.ids["adult"]}}


async def _best_interests(world: World) -> Request:
    assessment_id = await world.assessment(world.ids["adult"])
    return {
        "url": f"/v1/capacity-assessments/{assessment_id}/best-interests-decision",
        "json": _BEST_INTERESTS,
    }


async def _new_plan(world: World) -> Request:
    return {"url": "/v1/safeguarding-plans", "json": {**_PLAN, "person_id": world.ids["adult"]}}


async def _patch_plan(world: World) -> Request:
    plan = await world.plan(world.ids["adult"])
    etag = (
        await world.client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=world.h["asc_practitioner"])
    ).headers["etag"]
    return {
        "url": f"/v1/safeguarding-plans/{plan['id']}",
        "json": {"contingency": "Call 999."},
        "headers": {"If-Match": etag},
    }


async def _housing_action(world: World) -> Request:
    plan = await world.plan(world.ids["adult"])
    action = next(a for a in plan["actions"] if a["agency"] == "housing")
    return {
        "url": f"/v1/safeguarding-plans/{plan['id']}/actions/{action['id']}",
        "json": {"status": "in_progress"},
        "headers": {"If-Match": action["etag"]},
    }


async def _review_plan(world: World) -> Request:
    plan = await world.plan(world.ids["adult"])
    body = {
        "held_on": date.today().isoformat(),  # not before the plan was made
        "findings": "Going well.",
        "decision": "continue",
        "next_review_due_on": "2099-02-01",
    }
    return {"url": f"/v1/safeguarding-plans/{plan['id']}/reviews", "json": body}


async def _put_timescales(world: World) -> Request:
    # The same timescales again, with a fresh ETag: a real change would move other rows' deadlines.
    response = await world.client.get("/v1/settings/timescales", headers=world.h["admin"])
    assert response.status_code == 200, response.text
    read_only = {"source", "version", "updated_at", "updated_by"}
    body = {k: v for k, v in response.json().items() if k not in read_only}
    return {"url": "/v1/settings/timescales", "json": body, "headers": {"If-Match": response.headers["etag"]}}


REFERRAL_SEERS = frozenset({"police", "health"}) | HUB  # the referrer, the asked agency, the hub
ROWS = [
    Row("create referral", "POST", "referrals:create", 201, static("/v1/referrals", json=_referral_body())),
    Row("list referrals", "GET", "referrals:read", 200, static("/v1/referrals")),
    Row("get referral", "GET", "referrals:read", 200, static("/v1/referrals/{referral}"), REFERRAL_SEERS),
    Row("update referral", "PATCH", "referrals:write", 200, _patch_referral, HUB),
    Row("rate referral", "POST", "referrals:write", 200, _rate, HUB),
    Row("override consent", "POST", "consent:override", 200, _override, HUB),
    Row("ask agencies", "POST", "contributions:request", 201, _ask, HUB),
    Row(
        "referral contributions",
        "GET",
        "contributions:read",
        200,
        static("/v1/referrals/{referral}/contributions"),
        REFERRAL_SEERS,
    ),
    Row("contributions inbox", "GET", "contributions:read", 200, static("/v1/contributions")),
    Row(
        "get contribution",
        "GET",
        "contributions:read",
        200,
        static("/v1/contributions/{contribution}"),
        frozenset({"health"}) | HUB,
    ),
    Row("answer contribution", "POST", "contributions:write", 200, _respond, frozenset({"health"})),
    Row("propose decision", "POST", "decisions:propose", 201, _propose, HUB),
    Row("get decision", "GET", "referrals:read", 200, static("/v1/threshold-decisions/{decision}"), HUB),
    Row("approve decision", "POST", "decisions:approve", 200, _approve, HUB),
    Row(
        "record communication",
        "POST",
        "referrals:write",
        201,
        static(
            "/v1/referrals/{referral}/communications",
            json={"audience": "referrer", "method": "phone", "summary": "Update."},
        ),
        HUB,
    ),
    Row("get communication", "GET", "referrals:read", 200, _communication, HUB),
    Row(
        "list communications",
        "GET",
        "referrals:read",
        200,
        static("/v1/referrals/{referral}/communications"),
        HUB,
    ),
    Row(
        "timeline",
        "GET",
        "referrals:read",
        200,
        static("/v1/referrals/{referral}/timeline"),
        frozenset({"police"}) | HUB,
    ),
    Row("confirm child match", "POST", "referrals:write", 200, _confirm_match, HUB),
    Row("create person", "POST", "people:write", 201, _new_person),
    Row("list people", "GET", "people:read", 200, static("/v1/people")),
    Row("get person", "GET", "people:read", 200, static("/v1/people/{person}")),
    Row("update person", "PATCH", "people:write", 200, _patch_person),
    Row(
        "match people",
        "POST",
        "people:read",
        200,
        static(
            "/v1/people/matches",
            json={"given_name": "Jessica", "family_name": "Pennington", "date_of_birth": "2016-02-11"},
        ),
    ),
    # Subject access and the disclosure log: hub staff of either lead agency, about anyone, each given
    # its own side only (a children's practitioner exporting an adult gets an empty children's side:
    # tests/governance/test_subject_access.py); information governance both sides. Partners and
    # auditors have none of these scopes.
    Row("log subject access request", "POST", ("people:write", "subject_access:export"), 201, _log_sar),
    Row("list subject access requests", "GET", "people:read", 200, static("/v1/subject-access-requests")),
    Row("get subject access request", "GET", "people:read", 200, _get_sar),
    Row(
        "export an adult's record",
        "GET",
        ("people:read", "subject_access:export"),
        200,
        static("/v1/people/{adult}/record"),
    ),
    Row(
        "export a child's record",
        "GET",
        ("people:read", "subject_access:export"),
        200,
        static("/v1/people/{person}/record"),
    ),
    Row(
        "person disclosures",
        "GET",
        ("people:read", "disclosures:read"),
        200,
        static("/v1/people/{adult}/disclosures"),
    ),
    # Adults at risk: adult social care sees everything; health raised the concern; the plan has
    # actions for the police and housing.
    Row(
        "raise concern",
        "POST",
        "adult_concerns:create",
        201,
        static("/v1/adult-concerns", json=_concern_body()),
    ),
    Row("list concerns", "GET", "adult_concerns:read", 200, static("/v1/adult-concerns")),
    Row(
        "get concern",
        "GET",
        "adult_concerns:read",
        200,
        static("/v1/adult-concerns/{concern}"),
        ASC | {"health"},
    ),
    Row("update concern", "PATCH", "adult_concerns:write", 200, _patch_concern, ASC),
    Row("confirm adult match", "POST", "adult_concerns:write", 200, _confirm_adult_match, ASC),
    Row("section 42 decision", "POST", "adult_concerns:decide", 201, _decide_s42, ASC),
    Row("open enquiry", "POST", "adult_concerns:write", 201, _open_enquiry, ASC),
    Row("get enquiry", "GET", "adult_concerns:read", 200, static("/v1/enquiries/{enquiry}"), ASC),
    Row("conclude enquiry", "POST", "adult_concerns:decide", 200, _conclude, ASC),
    Row("record advocacy", "POST", "advocates:write", 201, _advocacy, ASC),
    Row("assess capacity", "POST", "capacity:write", 201, _assess, ASC),
    Row(
        "list capacity assessments",
        "GET",
        "capacity:read",
        200,
        static("/v1/capacity-assessments?person_id={adult}"),
    ),
    Row(
        "get capacity assessment",
        "GET",
        "capacity:read",
        200,
        static("/v1/capacity-assessments/{assessment}"),
        ASC,
    ),
    Row("best interests decision", "POST", "capacity:write", 201, _best_interests, ASC),
    Row("register advocate", "POST", "advocates:write", 201, static("/v1/advocates", json=_ADVOCATE)),
    Row("list advocates", "GET", "advocates:read", 200, static("/v1/advocates")),
    Row("get advocate", "GET", "advocates:read", 200, static("/v1/advocates/{advocate}")),
    Row("make plan", "POST", "plans:write", 201, _new_plan, ASC),
    Row("list plans", "GET", ("plans:read", "adult_concerns:read"), 200, static("/v1/safeguarding-plans")),
    Row(
        "get plan",
        "GET",
        ("plans:read", "adult_concerns:read"),
        200,
        static("/v1/safeguarding-plans/{plan}"),
        ASC | {"police", "housing"},
    ),
    Row("amend plan", "PATCH", "plans:write", 200, _patch_plan, ASC),
    Row(
        "update housing's plan action",
        "PATCH",
        ("plans:read", "adult_concerns:read"),
        200,
        _housing_action,
        ASC | {"housing"},
    ),
    Row("review plan", "POST", "plans:write", 201, _review_plan, ASC),
    # Statutory returns and timeliness (auditors, whatever their agency; the CIN items only those of the
    # lead agencies and the council, tests/reports/test_cin_referrals.py: the auditor here is the hub's).
    Row(
        "CIN referrals report",
        "GET",
        "reports:read",
        200,
        static("/v1/reports/cin-referrals?from=2026-04-01&to=2026-04-30"),
    ),
    Row("SAC report", "GET", "reports:read", 200, static("/v1/reports/sac?year=2026")),
    Row("timeliness report", "GET", "reports:read", 200, static("/v1/reports/timeliness")),
    # The audit trail (auditors, whatever their agency; a partner's sees its own agency's entries,
    # tests/governance/test_audit_api.py) and the hub's timescales (admins only).
    Row("read audit trail", "GET", "audit:read", 200, static("/v1/audit-events")),
    Row("verify audit chain", "GET", "audit:read", 200, static("/v1/audit-events/verification")),
    Row("get timescales", "GET", "admin", 200, static("/v1/settings/timescales")),
    Row("replace timescales", "PUT", "admin", 200, _put_timescales),
    # The change feed: every agency polls it; what each sees in it is tested in tests/feed.
    Row("change feed", "GET", "events:read", 200, static("/v1/events")),
]


def expected_status(row: Row, caller: str) -> int:
    role, _ = CALLERS[caller]
    accepted = (row.scope,) if isinstance(row.scope, str) else row.scope
    if not set(accepted) & set(CONTRACT[role][1].split()):
        return 403
    if row.visible_to is not None and caller not in row.visible_to:
        return 404
    return row.success


CASES = [
    pytest.param(row, caller, expected_status(row, caller), id=f"{row.name} as {caller}")
    for row in ROWS
    for caller in CALLERS
]


@pytest.fixture(scope="module")
async def matrix(databases: Databases) -> AsyncIterator[World]:
    url = await databases.clone()
    app: FastAPI = create_app(make_settings(url))
    headers = {}
    for label, (role, agency) in CALLERS.items():
        issued = app.state.tokens.issue(sub=f"{label}-user", agency=agency, role=role)
        headers[label] = {"Authorization": f"Bearer {issued.access_token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        world = World(client, headers)
        await world.build()
        yield world
    await app.state.engine.dispose()
    await databases.drop(url)


def test_every_caller_and_every_endpoint_is_covered() -> None:
    assert {c.values[1] for c in CASES} == set(CALLERS)
    assert set(CONTRACT) == {role for role, _ in CALLERS.values()}, "every role of the contract is a caller"
    # Each row lets someone through and keeps someone out: a row that every caller passes or every
    # caller fails would test nothing.
    for row in ROWS:
        statuses = {expected_status(row, caller) for caller in CALLERS}
        assert row.success in statuses and statuses - {row.success}, row.name


@pytest.mark.parametrize(("row", "caller", "expected"), CASES)
async def test_access(matrix: World, row: Row, caller: str, expected: int) -> None:
    request = await row.prepare(matrix)
    url = request.pop("url")
    headers = {**matrix.h[caller], **request.pop("headers", {})}
    response = await matrix.client.request(row.method, url, headers=headers, **request)
    assert response.status_code == expected, f"{row.name} as {caller}: {response.status_code} {response.text}"
    if expected in (403, 404):
        code = "insufficient_scope" if expected == 403 else "not_found"
        assert response.json()["code"] == code
