"""Who may call what: every operation of the app (checked against the OpenAPI document), against every
role in each kind of agency it may be in and in one it may not, generated from one table.

The expected status comes from three facts only (api.md, "Agencies, roles, scopes"): a role outside
the agencies the contract allows it makes the token invalid (401, wherever it was signed); the
contract's role → scopes table (403 when the caller's role lacks the endpoint's scope, or, where a rule
says so, its agency may not have what the scope gives); and which agencies may see the record (404
otherwise, never 403, so a hidden record's existence is not revealed). A caller let through also finds
what its agency may see in the answer (row checks), never another caller's stored idempotent answer
and, for a partner, no hub staff identity. Every caller has the same `sub`.

Each row prepares its own target where the call changes state, so rows do not depend on each other: a
fresh one for each caller let through, one shared by every caller refused (who cannot change it).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import httpx
import pytest

from app.core import clock
from tests.auth.test_roles import CONTRACT
from tests.conftest import ROOT, Databases
from tests.fixtures import adults as adult_bodies
from tests.fixtures.database import app_of_its_own
from tests.fixtures.http import etag_at
from tests.fixtures.tokens import assert_invalid_token, bearer, local_claims, local_token
from tests.security.test_role_agency import ALLOWED

# The callers under test: a label, a role and an agency. Every role, in each kind of agency the
# visibility rules tell apart, then in an agency the role may not be in.
CALLERS = {
    # Partners: the referrer (which owns a plan action), the agency asked about the referral (which
    # raised the adult concern), a plan action's owner with nothing to do with the referral, and a
    # partner with nothing to do with any record.
    "police": ("partner_referrer", "police"),
    "health": ("partner_referrer", "health"),
    "housing": ("partner_referrer", "housing"),
    "education": ("partner_referrer", "education"),
    "practitioner": ("mash_practitioner", "childrens_social_care"),
    "manager": ("mash_manager", "childrens_social_care"),
    "asc_practitioner": ("asc_practitioner", "adult_social_care"),
    "asc_manager": ("asc_manager", "adult_social_care"),
    # Auditors of both lead agencies, of the council and of a partner agency.
    "auditor": ("auditor", "childrens_social_care"),
    "asc_auditor": ("auditor", "adult_social_care"),
    "council_auditor": ("auditor", "council"),
    "police_auditor": ("auditor", "police"),
    "admin": ("admin", "childrens_social_care"),
    "police_admin": ("admin", "police"),
    "information_governance": ("information_governance", "council"),
    # Mismatched: each role where the contract does not allow it (tokens signed by hand, as the service
    # would never issue them): 401 on every operation. Auditors and administrators may be in any agency
    # of the hub, so theirs name an agency the hub does not have.
    "partner_referrer in childrens_social_care": ("partner_referrer", "childrens_social_care"),
    "partner_referrer in council": ("partner_referrer", "council"),
    "mash_practitioner in police": ("mash_practitioner", "police"),
    "mash_manager in adult_social_care": ("mash_manager", "adult_social_care"),
    "asc_practitioner in housing": ("asc_practitioner", "housing"),
    "asc_manager in childrens_social_care": ("asc_manager", "childrens_social_care"),
    "information_governance in childrens_social_care": ("information_governance", "childrens_social_care"),
    "auditor in home_office": ("auditor", "home_office"),
    "admin in fire_service": ("admin", "fire_service"),
}
# Who makes the World's records: callers of the same roles and agencies, each with a `sub` of its own.
# The referral under test is made by the police and health is asked about it. The adult concern under
# test is raised by health, and its plan has actions for the police and housing.
MAKERS = {
    label: CALLERS[label]
    for label in (
        "police",
        "health",
        "practitioner",
        "manager",
        "asc_practitioner",
        "asc_manager",
        "admin",
        "information_governance",
    )
}
# The hub staff among the makers, by `sub`.
HUB_STAFF = [f"{label}-user" for label, (role, _) in MAKERS.items() if role.startswith(("mash_", "asc_"))]
# One `sub` for every caller: anything keyed on `sub` alone (idempotency keys, caches, audit filters)
# would leak between them.
SHARED_SUB = "shared-user"
HUB = frozenset({"childrens_social_care"})
ASC = frozenset({"adult_social_care"})
PARTNERS = frozenset(ALLOWED["partner_referrer"])
# Which side of the subject access export each agency receives (api.md, "Subject access export").
EXPORT_SIDES = {"children": HUB | {"council"}, "adults": ASC | {"council"}}


def is_valid(caller: str) -> bool:
    role, agency = CALLERS[caller]
    return agency in ALLOWED[role]


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


# Raised by a member of the public (``app.public``): their name is what no partner may read.
PUBLIC_RAISER = "Jo Public-Raiser"
PUBLIC_ADULT = adult_bodies.public_concern_body(
    {"given_name": "Margaret", "family_name": "Publicly", "approximate_age": 84},
    {"relationship": "family", "name": PUBLIC_RAISER, "phone": "020 7946 0999"},
)
PUBLIC_CHILD = {
    "children": [{"given_name": "Milo", "family_name": "Publicly", "approximate_age": 6}],
    "what_happened": "Left alone at night.",
    "concern_categories": ["neglect"],
    "parents_know": "no",
    "raiser": {"relationship": "acquaintance", "name": PUBLIC_RAISER, "email": "jo@example.org"},
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

    async def accepted(self) -> dict[str, Any]:
        """A referral decided for a strategy discussion (which accepts its child); as the hub reads it."""
        referral_id = await self.referral(rated=True)
        body = {
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Disclosure of physical abuse.",
            "primary_need": "N1",
        }
        decision = await self.call(
            "POST", f"/v1/referrals/{referral_id}/threshold-decisions", "practitioner", 201, json=body
        )
        approval = {"approved": True, "comment": "Agreed."}
        await self.call(
            "POST", f"/v1/threshold-decisions/{decision['id']}/approval", "manager", 200, json=approval
        )
        referral: dict[str, Any] = await self.call("GET", f"/v1/referrals/{referral_id}", "practitioner", 200)
        return referral

    async def assessment_of_a_child(self) -> str:
        referral = await self.accepted()
        self.ids["child_assessment_referral"] = referral["id"]
        body = {
            "referral_id": referral["id"],
            "child_id": referral["children"][0]["id"],
            "started_on": clock.today().isoformat(),
        }
        assessment_id: str = (await self.call("POST", "/v1/assessments", "practitioner", 201, json=body))[
            "id"
        ]
        return assessment_id

    async def section_47_enquiry(self, *, icpc: bool = False) -> tuple[str, str]:
        """A strategy discussion starting a section 47 enquiry (with a conference called when ``icpc``):
        (the discussion's id, the enquiry's)."""
        discussion = await self.call(
            "POST",
            "/v1/strategy-discussions",
            "practitioner",
            201,
            json=_discussion_body(await self.accepted()),
        )
        enquiry_id: str = discussion["section_47_enquiries"][0]["id"]
        if icpc:
            body = {
                "concluded_on": clock.today().isoformat(),
                "outcome": "initial_child_protection_conference",
            }
            await self.call(
                "POST", f"/v1/section-47-enquiries/{enquiry_id}/outcome", "manager", 200, json=body
            )
        return discussion["id"], enquiry_id

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
            await self.call("POST", "/v1/adult-concerns", "health", 201, json=adult_bodies.concern_body())
        )["id"]
        if decided or enquiry:
            await self.call(
                "POST",
                f"/v1/adult-concerns/{concern_id}/section-42-decision",
                "asc_manager",
                201,
                json=adult_bodies.decision_body(),
            )
        if enquiry:
            opened = await self.call(
                "POST",
                f"/v1/adult-concerns/{concern_id}/enquiries",
                "asc_practitioner",
                201,
                json=adult_bodies.enquiry_body(),
            )
            self.ids[f"enquiry_of_{concern_id}"] = opened["id"]
        return concern_id

    async def person_of(self, concern_id: str) -> str:
        person_id: str = (
            await self.call("GET", f"/v1/adult-concerns/{concern_id}", "asc_practitioner", 200)
        )["adult"]["person_id"]
        return person_id

    async def allegation_of(self, concern_id: str) -> str:
        allegation_id: str = (
            await self.call("GET", f"/v1/adult-concerns/{concern_id}", "asc_practitioner", 200)
        )["allegations"][0]["id"]
        return allegation_id

    async def review(self, person_id: str) -> str:
        body = {"person_id": person_id, "referred_on": "2026-11-10", "adult_died": False}
        review_id: str = (
            await self.call("POST", "/v1/safeguarding-adults-reviews", "asc_manager", 201, json=body)
        )["id"]
        return review_id

    async def assessment(self, person_id: str) -> str:
        body = adult_bodies.assessment_body(person_id)
        assessment_id: str = (
            await self.call("POST", "/v1/capacity-assessments", "asc_practitioner", 201, json=body)
        )["id"]
        return assessment_id

    async def plan(self, person_id: str) -> dict[str, Any]:
        body = adult_bodies.plan_body(person_id)
        plan: dict[str, Any] = await self.call(
            "POST", "/v1/safeguarding-plans", "asc_practitioner", 201, json=body
        )
        return plan

    async def public(self, path: str, body: dict[str, Any]) -> str:
        """A record raised through the public's front door (no token), as the hub's API names it."""
        response = await self.client.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.headers["location"].rsplit("/", 1)[1]

    async def document(self) -> str:
        """A document the police attach to the world's referral."""
        url = f"/v1/referrals/{self.ids['referral']}/documents"
        files = {"file": ("statement.pdf", DOCUMENT_PDF)}
        document_id: str = (await self.call("POST", url, "police", 201, files=files))["id"]
        return document_id

    async def build(self) -> None:
        self.ids["public_concern"] = await self.public("/public/v1/adult-concerns", PUBLIC_ADULT)
        self.ids["public_referral"] = await self.public("/public/v1/child-concerns", PUBLIC_CHILD)
        self.ids["concern"] = await self.concern(enquiry=True)
        self.ids["enquiry"] = self.ids[f"enquiry_of_{self.ids['concern']}"]
        self.ids["adult"] = await self.person_of(self.ids["concern"])
        self.ids["allegation"] = await self.allegation_of(self.ids["concern"])
        self.ids["review"] = await self.review(self.ids["adult"])
        self.ids["assessment"] = await self.assessment(self.ids["adult"])
        advocate = await self.call(
            "POST", "/v1/advocates", "asc_practitioner", 201, json=adult_bodies.advocate_body()
        )
        self.ids["advocate"] = advocate["id"]
        plan = await self.plan(self.ids["adult"])
        self.ids["plan"] = plan["id"]
        self.ids["referral"] = await self.referral(rated=True)
        self.ids["contribution"] = await self.ask_health(self.ids["referral"])
        self.ids["referral_document"] = await self.document()
        subscription = await self.call(
            "POST", "/v1/webhook-subscriptions", "police_caller", 201, json=WORLD_SUBSCRIPTION
        )
        self.ids["subscription"] = subscription["id"]
        await self.call(
            "POST",
            f"/v1/contributions/{self.ids['contribution']}/response",
            "health",
            200,
            json={"information": "Known to the health visitor."},
        )
        self.ids["decision"] = await self.proposal(self.ids["referral"])
        self.ids["child_assessment"] = await self.assessment_of_a_child()
        self.ids["strategy_discussion"], self.ids["section_47_enquiry"] = await self.section_47_enquiry()
        self.ids["person"], _ = await self.person()
        referral = await self.call("GET", f"/v1/referrals/{self.ids['referral']}", "practitioner", 200)
        self.ids["child"] = referral["children"][0]["person_id"]
        self.ids["client"] = (await self.call("POST", "/v1/clients", "admin", 201, json=_CLIENT))["client_id"]
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
# A public address literal: accepted without a lookup (no worker runs here, nothing is sent).
WEBHOOK_SUBSCRIPTION = {"url": "https://93.184.215.14/hooks", "description": "Matrix receiver"}


WORLD_SUBSCRIPTION = {**WEBHOOK_SUBSCRIPTION, "description": "The police callers' receiver"}


def only_own_subscriptions(response: httpx.Response, caller: str) -> None:
    """A caller lists its own subscriptions only: the World's are the police callers'."""
    _, agency = CALLERS[caller]
    listed = WORLD_SUBSCRIPTION["description"] in {item["description"] for item in response.json()["items"]}
    assert listed == (agency == "police"), caller


def _own_subscription(action: str) -> Prepare:
    """A subscription of the police callers' own, made afresh: disabling, enabling or testing it
    changes it, so each caller let through acts on one of its own."""

    async def prepare(world: World) -> Request:
        made = await world.call(
            "POST", "/v1/webhook-subscriptions", "police_caller", 201, json=WORLD_SUBSCRIPTION
        )
        return {"url": f"/v1/webhook-subscriptions/{made['id']}/{action}"}

    return prepare


Prepare = Callable[[World], Awaitable[Request]]


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # the operation's path template, as the OpenAPI document writes it
    scope: str | tuple[str, ...] | None  # a tuple: any one of these scopes will do; None: any valid token
    success: int
    prepare: Prepare
    visible_to: frozenset[str] | None = None  # the agencies that see the record; None: no record, no 404
    refused: frozenset[str] = frozenset()  # agencies refused (403) whatever their scopes
    check: Check | None = None  # what a caller let through finds in the answer

    def fits(self, url: str) -> bool:
        """Whether ``url`` (the prepared request's) is a call of this row's operation."""
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(pattern, url.split("?", 1)[0]) is not None


def static(path: str, **kwargs: Any) -> Prepare:
    async def prepare(world: World) -> Request:
        return {"url": path.format(**world.ids), **kwargs}

    return prepare


async def _as_it_stands(world: World, maker: str, url: str, body: dict[str, Any]) -> Request:
    """A change to the record at ``url`` as it stands: ``If-Match`` its ETag, as ``maker`` reads it."""
    return {
        "url": url,
        "json": body,
        "headers": {"If-Match": await etag_at(world.client, world.h[maker], url)},
    }


async def _patch_referral(world: World) -> Request:
    url = f"/v1/referrals/{await world.referral()}"
    return await _as_it_stands(world, "practitioner", url, {"concern_summary": "Updated."})


async def _rate(world: World) -> Request:
    return {
        "url": f"/v1/referrals/{await world.referral()}/rag-rating",
        "json": {"rating": "green", "rationale": "Low."},
    }


ALLOCATION = {"worker": "practitioner-user", "team": "Front door"}


async def _allocate_referral(world: World) -> Request:
    return {"url": f"/v1/referrals/{await world.referral()}/allocation", "json": ALLOCATION}


async def _allocate_concern(world: World) -> Request:
    return {"url": f"/v1/adult-concerns/{await world.concern()}/allocation", "json": ALLOCATION}


async def _allocate_enquiry(world: World) -> Request:
    concern_id = await world.concern(enquiry=True)
    return {"url": f"/v1/enquiries/{world.ids[f'enquiry_of_{concern_id}']}/allocation", "json": ALLOCATION}


_LATER = {"information": "Learnt since it was sent."}
_WITHDRAW = {"reason": "Sent in error."}
SENDER_OR_HUB = ("referrals:create", "referrals:write")
RAISER_OR_ASC = ("adult_concerns:create", "adult_concerns:write")


async def _add_to_referral(world: World) -> Request:
    return {"url": f"/v1/referrals/{await world.referral()}/additional-information", "json": _LATER}


async def _withdraw_referral(world: World) -> Request:
    return {"url": f"/v1/referrals/{await world.referral()}/withdrawal", "json": _WITHDRAW}


async def _add_to_concern(world: World) -> Request:
    return {"url": f"/v1/adult-concerns/{await world.concern()}/additional-information", "json": _LATER}


async def _withdraw_concern(world: World) -> Request:
    return {"url": f"/v1/adult-concerns/{await world.concern()}/withdrawal", "json": _WITHDRAW}


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
    body = {
        "level": 1,
        "outcome": "no_further_action",
        "rationale": "No additional needs.",
        "accepted_as_referral": False,
    }
    return {"url": f"/v1/referrals/{referral_id}/threshold-decisions", "json": body}


async def _approve(world: World) -> Request:
    decision_id = await world.proposal(await world.referral(rated=True), proposer="practitioner")
    return {
        "url": f"/v1/threshold-decisions/{decision_id}/approval",
        "json": {"approved": True, "comment": "Agreed."},
    }


def _discussion_body(referral: dict[str, Any]) -> dict[str, Any]:
    return {
        "referral_id": referral["id"],
        "child_ids": [child["id"] for child in referral["children"]],
        "held_at": clock.now().isoformat(),
        "attendees": [
            {"agency": agency, "name": "A. Person", "role": "Safeguarding lead"}
            for agency in ("childrens_social_care", "police", "health")
        ],
        "decision": "section_47_enquiry",
        "rationale": "Disclosure of physical abuse.",
    }


async def _start_assessment(world: World) -> Request:
    referral = await world.accepted()
    body = {
        "referral_id": referral["id"],
        "child_id": referral["children"][0]["id"],
        "started_on": clock.today().isoformat(),
    }
    return {"url": "/v1/assessments", "json": body}


async def _complete_assessment(world: World) -> Request:
    body = {"completed_on": clock.today().isoformat(), "factors": ["21"], "outcome": "no_further_action"}
    return {"url": f"/v1/assessments/{await world.assessment_of_a_child()}/completion", "json": body}


async def _strategy_discussion(world: World) -> Request:
    return {"url": "/v1/strategy-discussions", "json": _discussion_body(await world.accepted())}


async def _section_47_outcome(world: World) -> Request:
    _, enquiry_id = await world.section_47_enquiry()
    body = {"concluded_on": clock.today().isoformat(), "outcome": "child_in_need_plan"}
    return {"url": f"/v1/section-47-enquiries/{enquiry_id}/outcome", "json": body}


async def _conference(world: World) -> Request:
    _, enquiry_id = await world.section_47_enquiry(icpc=True)
    body = {
        "held_on": clock.today().isoformat(),
        "outcome": "child_protection_plan",
        "category_of_abuse": "neglect",
    }
    return {"url": f"/v1/section-47-enquiries/{enquiry_id}/conference", "json": body}


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
    body = {**adult_bodies.concern_body(), "adult": {**known, "postcode": "N1 9GU"}}
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
    body = {**_SAR, "received_on": clock.today().isoformat()}
    return {"url": f"/v1/people/{world.ids['adult']}/subject-access-requests", "json": body}


async def _get_sar(world: World) -> Request:
    body = {**_SAR, "received_on": clock.today().isoformat()}
    url = f"/v1/people/{world.ids['adult']}/subject-access-requests"
    created = await world.call("POST", url, "asc_practitioner", 201, json=body)
    return {"url": f"/v1/subject-access-requests/{created['id']}"}


async def _patch_concern(world: World) -> Request:
    url = f"/v1/adult-concerns/{await world.concern()}"
    return await _as_it_stands(world, "asc_practitioner", url, {"adult_views": "Wants to stay home."})


async def _decide_s42(world: World) -> Request:
    url = f"/v1/adult-concerns/{await world.concern()}/section-42-decision"
    return {"url": url, "json": adult_bodies.decision_body()}


async def _open_enquiry(world: World) -> Request:
    url = f"/v1/adult-concerns/{await world.concern(decided=True)}/enquiries"
    return {"url": url, "json": adult_bodies.enquiry_body()}


async def _conclude(world: World) -> Request:
    concern_id = await world.concern(enquiry=True)
    # The Care Act asks for advocacy to be considered before a section 42 enquiry concludes.
    assessed = adult_bodies.advocacy_body(difficulty=False, appropriate_person=True, offer="not_required")
    await world.call(
        "POST", f"/v1/adult-concerns/{concern_id}/advocacy", "asc_practitioner", 201, json=assessed
    )
    full = await world.call("GET", f"/v1/adult-concerns/{concern_id}", "asc_practitioner", 200)
    body = adult_bodies.conclusion_body([a["id"] for a in full["allegations"]])
    return {"url": f"/v1/enquiries/{world.ids[f'enquiry_of_{concern_id}']}/conclusion", "json": body}


async def _add_allegation(world: World) -> Request:
    concern_id = await world.concern(enquiry=True)
    url = f"/v1/enquiries/{world.ids[f'enquiry_of_{concern_id}']}/allegations"
    return {"url": url, "json": adult_bodies.allegation(type_of_risk="psychological")}


async def _correct_allegation(world: World) -> Request:
    concern_id = await world.concern(enquiry=True)
    url = f"/v1/allegations/{await world.allegation_of(concern_id)}"
    return await _as_it_stands(
        world, "asc_practitioner", url, {"type_of_risk": "physical", "reason": "Found."}
    )


async def _refer_review(world: World) -> Request:
    body = {"person_id": world.ids["adult"], "referred_on": "2026-11-10", "adult_died": True}
    return {"url": "/v1/safeguarding-adults-reviews", "json": body}


async def _decide_review(world: World) -> Request:
    url = f"/v1/safeguarding-adults-reviews/{await world.review(world.ids['adult'])}"
    body = {
        "criteria": "not_met",
        "decision_on": "2026-11-20",
        "rationale": "No harm.",
        "commissioned": False,
    }
    return await _as_it_stands(world, "asc_practitioner", url, body)


async def _advocacy(world: World) -> Request:
    body = adult_bodies.advocacy_body(difficulty=False, appropriate_person=True, offer="not_required")
    return {"url": f"/v1/adult-concerns/{await world.concern()}/advocacy", "json": body}


async def _assess(world: World) -> Request:
    return {"url": "/v1/capacity-assessments", "json": adult_bodies.assessment_body(world.ids["adult"])}


async def _best_interests(world: World) -> Request:
    assessment_id = await world.assessment(world.ids["adult"])
    return {
        "url": f"/v1/capacity-assessments/{assessment_id}/best-interests-decision",
        "json": adult_bodies.best_interests_body(),
    }


async def _new_plan(world: World) -> Request:
    return {"url": "/v1/safeguarding-plans", "json": adult_bodies.plan_body(world.ids["adult"])}


async def _patch_plan(world: World) -> Request:
    plan = await world.plan(world.ids["adult"])
    url = f"/v1/safeguarding-plans/{plan['id']}"
    return await _as_it_stands(world, "asc_practitioner", url, {"contingency": "Call 999."})


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
        "held_on": clock.today().isoformat(),  # not before the plan was made
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


_CLIENT = {"name": "Police PPU case system", "agency": "police", "role": "partner_referrer"}


async def _rename_client(world: World) -> Request:
    client_id = (await world.call("POST", "/v1/clients", "admin", 201, json=_CLIENT))["client_id"]
    got = await world.client.get(f"/v1/clients/{client_id}", headers=world.h["admin"])
    return {
        "url": f"/v1/clients/{client_id}",
        "json": {"name": "Police PPU case system (v2)"},
        "headers": {"If-Match": got.headers["etag"]},
    }


async def _revoke_client(world: World) -> Request:
    client_id = (await world.call("POST", "/v1/clients", "admin", 201, json=_CLIENT))["client_id"]
    return {"url": f"/v1/clients/{client_id}/revocation", "json": {"reason": "Secret exposed."}}


_HOLD = {"reason": "Civil claim notified."}


async def _place_hold(world: World) -> Request:
    return {
        "url": "/v1/legal-holds",
        "json": {**_HOLD, "record_type": "referral", "record_id": await world.referral()},
    }


async def _hold(world: World) -> str:
    hold = await world.call("POST", **await _place_hold(world), who="information_governance", expect=201)
    hold_id: str = hold["id"]
    return hold_id


async def _get_hold(world: World) -> Request:
    return {"url": f"/v1/legal-holds/{await _hold(world)}"}


async def _release_hold(world: World) -> Request:
    return {"url": f"/v1/legal-holds/{await _hold(world)}/release", "json": {"reason": "Claim settled."}}


async def _anonymise_too_soon(world: World) -> Request:
    """A record of today: information governance is let through to the rule, which says not yet."""
    record = {"record_type": "referral", "record_id": await world.referral()}
    return {"url": "/v1/retention/anonymisations", "json": record}


async def _get_anonymisation(world: World) -> Request:
    request = await _anonymise_too_soon(world)
    then = clock.now() + timedelta(days=366 * 26)  # past the child's 25th birthday
    with patch.object(clock, "now", lambda: then):
        done = await world.call("POST", **request, who="information_governance", expect=201)
    return {"url": f"/v1/retention/anonymisations/{done['id']}"}


Check = Callable[[httpx.Response, str], None]


def export_shows(side: str) -> Check:
    """The export of a person whose records are all on ``side`` holds them for a caller who may read
    that side, and nothing for one who may not."""

    def check(response: httpx.Response, caller: str) -> None:
        _, agency = CALLERS[caller]
        body = response.json()
        # The export names the sides it covers; a side it does not cover is null, not empty.
        covered = [s for s in ("children", "adults") if agency in EXPORT_SIDES[s]]
        assert body["sides"] == covered, (caller, body["sides"])
        assert [s for s in ("children", "adults") if body[s] is not None] == covered
        children, adults = body["children"] or {}, body["adults"] or {}
        held = {
            "children": bool(children.get("referrals")),
            "adults": any(
                adults.get(kind) for kind in ("concerns", "capacity_assessments", "safeguarding_plans")
            ),
        }
        assert held == {s: s == side and s in covered for s in held}, (caller, held)

    return check


def public_raiser_seen_by_the_hub(response: httpx.Response, caller: str) -> None:
    """A record from the public's door: the hub reads who raised it (and where it came from)."""
    assert PUBLIC_RAISER in response.text, (caller, response.text)


def public_queue(response: httpx.Response, caller: str) -> None:
    """``source=public``: the hub's queue holds the public's record, with nobody's raiser details (a
    partner's holds nothing: it raised none of them)."""
    _, agency = CALLERS[caller]
    items = response.json()["items"]
    assert PUBLIC_RAISER not in response.text
    if agency in ASC | HUB:
        assert items and all(item["external_reference"].startswith("PUB-") for item in items), items
    else:
        assert items == [], items


def audit_events_of_whom_it_may(response: httpx.Response, caller: str) -> None:
    _, agency = CALLERS[caller]
    agencies = {event["actor"]["agency"] for event in response.json()["items"]}
    if agency in PARTNERS:
        assert agencies == {agency}, agencies
    else:
        assert {"police", "childrens_social_care"} <= agencies, agencies


def me_is_the_caller(response: httpx.Response, caller: str) -> None:
    role, agency = CALLERS[caller]
    assert response.json() == {
        "sub": SHARED_SUB,
        "agency": agency,
        "role": role,
        "scopes": sorted(CONTRACT[role][1].split()),
    }


def agencies_include_the_callers(response: httpx.Response, caller: str) -> None:
    _, agency = CALLERS[caller]
    assert {agency, "council"} <= {item["code"] for item in response.json()["items"]}


def own_items(agency_field: str, lead: frozenset[str]) -> Check:
    """A list whose items belong to agencies (``agency_field``): the ``lead`` agency reads every
    agency's (health's among them), any other agency its own only. Contributions are seen by children's
    social care and the agency that wrote them (the referrer sees its referral, not the answers); adult
    concerns by adult social care and the agency that raised them."""

    def check(response: httpx.Response, caller: str) -> None:
        _, agency = CALLERS[caller]
        agencies = {item[agency_field] for item in response.json()["items"]}
        if agency in lead:
            assert "health" in agencies, agencies
        else:
            assert agencies <= {agency}, agencies

    return check


def plans_of_whom_it_may(response: httpx.Response, caller: str) -> None:
    """Adult social care reads whole plans; an agency that owns an action reads the plan with its own
    actions only; nobody else reads it."""
    _, agency = CALLERS[caller]
    body = response.json()
    plans = body.get("items", [body])
    for plan in plans:
        agencies = {action["agency"] for action in plan["actions"]}
        if agency in ASC:
            assert plan["view"] == "full", plan
        else:
            assert (plan["view"], agencies) == ("action_owner", {agency}), plan
    if agency in ASC | {"police", "housing"}:
        assert plans, "the World's plan"


def hub_items(record_id: str) -> Check:
    """A list of the hub's own work: children's social care finds the World's record (``record_id``
    names it in ``World.ids``) among its items, any other caller an empty page."""

    def check(response: httpx.Response, caller: str) -> None:
        _, agency = CALLERS[caller]
        body = response.json()
        if agency in HUB:
            assert body["items"], response.text
        else:
            assert body == {"items": [], "next_cursor": None}, (caller, record_id)

    return check


def view(**views: str) -> Check:
    """The record comes in the view the caller's agency may see (``views``: agency → view)."""

    def check(response: httpx.Response, caller: str) -> None:
        _, agency = CALLERS[caller]
        assert response.json()["view"] == views[agency], response.text

    return check


def is_csv(response: httpx.Response, caller: str) -> None:
    assert response.headers["content-type"].startswith("text/csv"), response.headers


REFERRAL_SEERS = frozenset({"police", "health"}) | HUB  # the referrer, the asked agency, the hub
DOCUMENT_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _withdraw_document(world: World) -> Request:
    """A fresh document for each caller let through (a document is withdrawn once)."""
    document_id = await world.document()
    return {"url": f"/v1/documents/{document_id}/withdrawal", "json": {"reason": "Uploaded in error."}}


ROWS = [
    # Who the caller is, and the agencies of the hub: any valid token.
    Row("who am I", "GET", "/v1/me", None, 200, static("/v1/me"), check=me_is_the_caller),
    Row(
        "list agencies",
        "GET",
        "/v1/agencies",
        None,
        200,
        static("/v1/agencies"),
        check=agencies_include_the_callers,
    ),
    # The children's front door.
    Row(
        "create referral",
        "POST",
        "/v1/referrals",
        "referrals:create",
        201,
        static("/v1/referrals", json=_referral_body()),
    ),
    Row("list referrals", "GET", "/v1/referrals", "referrals:read", 200, static("/v1/referrals")),
    Row(
        "get a contact made by the public",
        "GET",
        "/v1/referrals/{referral_id}",
        "referrals:read",
        200,
        static("/v1/referrals/{public_referral}"),
        HUB,
        check=public_raiser_seen_by_the_hub,
    ),
    Row(
        "list the contacts made by the public",
        "GET",
        "/v1/referrals",
        "referrals:read",
        200,
        static("/v1/referrals?source=public"),
        check=public_queue,
    ),
    Row(
        "count referrals",
        "GET",
        "/v1/referrals/counts",
        "referrals:read",
        200,
        static("/v1/referrals/counts"),
    ),
    Row(
        "allocate referral",
        "POST",
        "/v1/referrals/{referral_id}/allocation",
        "referrals:write",
        200,
        _allocate_referral,
        HUB,
    ),
    Row(
        "get referral",
        "GET",
        "/v1/referrals/{referral_id}",
        "referrals:read",
        200,
        static("/v1/referrals/{referral}"),
        REFERRAL_SEERS,
        check=view(childrens_social_care="full", police="referrer", health="asked_agency"),
    ),
    Row(
        "update referral",
        "PATCH",
        "/v1/referrals/{referral_id}",
        "referrals:write",
        200,
        _patch_referral,
        HUB,
    ),
    Row(
        "rate referral", "POST", "/v1/referrals/{referral_id}/rag-rating", "referrals:write", 200, _rate, HUB
    ),
    # The referring agency on its own referral (referrals:create), or the hub (referrals:write).
    Row(
        "add information to a referral",
        "POST",
        "/v1/referrals/{referral_id}/additional-information",
        SENDER_OR_HUB,
        201,
        _add_to_referral,
        HUB | {"police"},
    ),
    Row(
        "withdraw a referral",
        "POST",
        "/v1/referrals/{referral_id}/withdrawal",
        SENDER_OR_HUB,
        200,
        _withdraw_referral,
        HUB | {"police"},
        check=view(childrens_social_care="full", police="referrer"),
    ),
    Row(
        "override consent",
        "POST",
        "/v1/referrals/{referral_id}/consent-override",
        "consent:override",
        200,
        _override,
        HUB,
    ),
    Row(
        "ask agencies",
        "POST",
        "/v1/referrals/{referral_id}/contribution-requests",
        "contributions:request",
        201,
        _ask,
        HUB,
    ),
    Row(
        "referral contributions",
        "GET",
        "/v1/referrals/{referral_id}/contributions",
        "contributions:read",
        200,
        static("/v1/referrals/{referral}/contributions"),
        REFERRAL_SEERS,
        check=own_items("agency", HUB),
    ),
    Row(
        "contributions inbox",
        "GET",
        "/v1/contributions",
        "contributions:read",
        200,
        static("/v1/contributions"),
        check=own_items("agency", HUB),
    ),
    Row(
        "get contribution",
        "GET",
        "/v1/contributions/{contribution_id}",
        "contributions:read",
        200,
        static("/v1/contributions/{contribution}"),
        frozenset({"health"}) | HUB,
    ),
    Row(
        "answer contribution",
        "POST",
        "/v1/contributions/{contribution_id}/response",
        "contributions:write",
        200,
        _respond,
        frozenset({"health"}),
    ),
    Row(
        "propose decision",
        "POST",
        "/v1/referrals/{referral_id}/threshold-decisions",
        "decisions:propose",
        201,
        _propose,
        HUB,
    ),
    Row(
        "get decision",
        "GET",
        "/v1/threshold-decisions/{decision_id}",
        "referrals:read",
        200,
        static("/v1/threshold-decisions/{decision}"),
        HUB,
    ),
    Row(
        "approve decision",
        "POST",
        "/v1/threshold-decisions/{decision_id}/approval",
        "decisions:approve",
        200,
        _approve,
        HUB,
    ),
    # After the decision: the hub's own casework, nobody else's to see.
    Row("start assessment", "POST", "/v1/assessments", "referrals:write", 201, _start_assessment, HUB),
    Row(
        "list assessments",
        "GET",
        "/v1/assessments",
        "referrals:read",
        200,
        static("/v1/assessments?referral_id={child_assessment_referral}"),
        check=hub_items("child_assessment"),
    ),
    Row(
        "get assessment",
        "GET",
        "/v1/assessments/{assessment_id}",
        "referrals:read",
        200,
        static("/v1/assessments/{child_assessment}"),
        HUB,
    ),
    Row(
        "complete assessment",
        "POST",
        "/v1/assessments/{assessment_id}/completion",
        "decisions:approve",
        200,
        _complete_assessment,
        HUB,
    ),
    Row(
        "record strategy discussion",
        "POST",
        "/v1/strategy-discussions",
        "referrals:write",
        201,
        _strategy_discussion,
        HUB,
    ),
    Row(
        "list strategy discussions",
        "GET",
        "/v1/strategy-discussions",
        "referrals:read",
        200,
        static("/v1/strategy-discussions"),
        check=hub_items("strategy_discussion"),
    ),
    Row(
        "get strategy discussion",
        "GET",
        "/v1/strategy-discussions/{discussion_id}",
        "referrals:read",
        200,
        static("/v1/strategy-discussions/{strategy_discussion}"),
        HUB,
    ),
    Row(
        "get section 47 enquiry",
        "GET",
        "/v1/section-47-enquiries/{enquiry_id}",
        "referrals:read",
        200,
        static("/v1/section-47-enquiries/{section_47_enquiry}"),
        HUB,
    ),
    Row(
        "record section 47 outcome",
        "POST",
        "/v1/section-47-enquiries/{enquiry_id}/outcome",
        "decisions:approve",
        200,
        _section_47_outcome,
        HUB,
    ),
    Row(
        "record conference",
        "POST",
        "/v1/section-47-enquiries/{enquiry_id}/conference",
        "referrals:write",
        200,
        _conference,
        HUB,
    ),
    Row(
        "record communication",
        "POST",
        "/v1/referrals/{referral_id}/communications",
        "referrals:write",
        201,
        static(
            "/v1/referrals/{referral}/communications",
            json={"audience": "referrer", "method": "phone", "summary": "Update."},
        ),
        HUB,
    ),
    Row(
        "get communication",
        "GET",
        "/v1/referrals/{referral_id}/communications/{communication_id}",
        "referrals:read",
        200,
        _communication,
        HUB,
    ),
    Row(
        "list communications",
        "GET",
        "/v1/referrals/{referral_id}/communications",
        "referrals:read",
        200,
        static("/v1/referrals/{referral}/communications"),
        HUB,
    ),
    Row(
        "timeline",
        "GET",
        "/v1/referrals/{referral_id}/timeline",
        "referrals:read",
        200,
        static("/v1/referrals/{referral}/timeline"),
        frozenset({"police"}) | HUB,
    ),
    Row(
        "confirm child match",
        "POST",
        "/v1/referrals/{referral_id}/children/{child_id}/match-confirmation",
        "referrals:write",
        200,
        _confirm_match,
        HUB,
    ),
    # People.
    Row("create person", "POST", "/v1/people", "people:write", 201, _new_person),
    Row("list people", "GET", "/v1/people", "people:read", 200, static("/v1/people")),
    Row("get person", "GET", "/v1/people/{person_id}", "people:read", 200, static("/v1/people/{person}")),
    Row("update person", "PATCH", "/v1/people/{person_id}", "people:write", 200, _patch_person),
    Row(
        "match people",
        "POST",
        "/v1/people/matches",
        "people:read",
        200,
        static(
            "/v1/people/matches",
            json={"given_name": "Jessica", "family_name": "Pennington", "date_of_birth": "2016-02-11"},
        ),
    ),
    # Subject access requests and the disclosure log: whoever reads people (the lead agencies and the
    # council's information governance; partners, auditors and administrators have no people:read).
    Row(
        "list subject access requests",
        "GET",
        "/v1/subject-access-requests",
        "people:read",
        200,
        static("/v1/subject-access-requests"),
    ),
    Row(
        "get subject access request",
        "GET",
        "/v1/subject-access-requests/{request_id}",
        "people:read",
        200,
        _get_sar,
    ),
    Row(
        "person disclosures",
        "GET",
        "/v1/people/{person_id}/disclosures",
        ("people:read", "disclosures:read"),
        200,
        static("/v1/people/{adult}/disclosures"),
    ),
    # Adults at risk: adult social care sees everything; health raised the concern; the plan has
    # actions for the police and housing.
    Row(
        "raise concern",
        "POST",
        "/v1/adult-concerns",
        "adult_concerns:create",
        201,
        static("/v1/adult-concerns", json=adult_bodies.concern_body()),
    ),
    Row(
        "list concerns",
        "GET",
        "/v1/adult-concerns",
        "adult_concerns:read",
        200,
        static("/v1/adult-concerns"),
        check=own_items("raising_agency", ASC),
    ),
    Row(
        "get concern",
        "GET",
        "/v1/adult-concerns/{concern_id}",
        "adult_concerns:read",
        200,
        static("/v1/adult-concerns/{concern}"),
        ASC | {"health"},
        check=view(adult_social_care="full", health="raiser"),
    ),
    Row(
        "get a concern raised by the public",
        "GET",
        "/v1/adult-concerns/{concern_id}",
        "adult_concerns:read",
        200,
        static("/v1/adult-concerns/{public_concern}"),
        ASC,
        check=public_raiser_seen_by_the_hub,
    ),
    Row(
        "list the concerns raised by the public",
        "GET",
        "/v1/adult-concerns",
        "adult_concerns:read",
        200,
        static("/v1/adult-concerns?source=public"),
        check=public_queue,
    ),
    Row(
        "update concern",
        "PATCH",
        "/v1/adult-concerns/{concern_id}",
        "adult_concerns:write",
        200,
        _patch_concern,
        ASC,
    ),
    Row(
        "confirm adult match",
        "POST",
        "/v1/adult-concerns/{concern_id}/match-confirmation",
        "adult_concerns:write",
        200,
        _confirm_adult_match,
        ASC,
    ),
    Row(
        "add information to an adult concern",
        "POST",
        "/v1/adult-concerns/{concern_id}/additional-information",
        RAISER_OR_ASC,
        201,
        _add_to_concern,
        ASC | {"health"},
    ),
    Row(
        "withdraw an adult concern",
        "POST",
        "/v1/adult-concerns/{concern_id}/withdrawal",
        RAISER_OR_ASC,
        200,
        _withdraw_concern,
        ASC | {"health"},
        check=view(adult_social_care="full", health="raiser"),
    ),
    Row(
        "section 42 decision",
        "POST",
        "/v1/adult-concerns/{concern_id}/section-42-decision",
        "adult_concerns:decide",
        201,
        _decide_s42,
        ASC,
    ),
    Row(
        "open enquiry",
        "POST",
        "/v1/adult-concerns/{concern_id}/enquiries",
        "adult_concerns:write",
        201,
        _open_enquiry,
        ASC,
    ),
    Row(
        "allocate concern",
        "POST",
        "/v1/adult-concerns/{concern_id}/allocation",
        "adult_concerns:write",
        200,
        _allocate_concern,
        ASC,
    ),
    Row("list enquiries", "GET", "/v1/enquiries", "adult_concerns:read", 200, static("/v1/enquiries")),
    Row(
        "allocate enquiry",
        "POST",
        "/v1/enquiries/{enquiry_id}/allocation",
        "adult_concerns:write",
        200,
        _allocate_enquiry,
        ASC,
    ),
    Row(
        "get enquiry",
        "GET",
        "/v1/enquiries/{enquiry_id}",
        "adult_concerns:read",
        200,
        static("/v1/enquiries/{enquiry}"),
        ASC,
    ),
    Row(
        "conclude enquiry",
        "POST",
        "/v1/enquiries/{enquiry_id}/conclusion",
        "adult_concerns:decide",
        200,
        _conclude,
        ASC,
    ),
    Row(
        "record advocacy",
        "POST",
        "/v1/adult-concerns/{concern_id}/advocacy",
        "advocates:write",
        201,
        _advocacy,
        ASC,
    ),
    Row(
        "add allegation found",
        "POST",
        "/v1/enquiries/{enquiry_id}/allegations",
        "adult_concerns:write",
        201,
        _add_allegation,
        ASC,
    ),
    Row(
        "get allegation",
        "GET",
        "/v1/allegations/{allegation_id}",
        "adult_concerns:read",
        200,
        static("/v1/allegations/{allegation}"),
        ASC,
    ),
    Row(
        "correct allegation",
        "PATCH",
        "/v1/allegations/{allegation_id}",
        "adult_concerns:write",
        200,
        _correct_allegation,
        ASC,
    ),
    Row(
        "refer safeguarding adults review",
        "POST",
        "/v1/safeguarding-adults-reviews",
        "adult_concerns:decide",
        201,
        _refer_review,
    ),
    Row(
        "list safeguarding adults reviews",
        "GET",
        "/v1/safeguarding-adults-reviews",
        "adult_concerns:read",
        200,
        static("/v1/safeguarding-adults-reviews"),
    ),
    Row(
        "get safeguarding adults review",
        "GET",
        "/v1/safeguarding-adults-reviews/{review_id}",
        "adult_concerns:read",
        200,
        static("/v1/safeguarding-adults-reviews/{review}"),
        ASC,
    ),
    Row(
        "decide safeguarding adults review",
        "PATCH",
        "/v1/safeguarding-adults-reviews/{review_id}",
        "adult_concerns:decide",
        200,
        _decide_review,
        ASC,
    ),
    Row("assess capacity", "POST", "/v1/capacity-assessments", "capacity:write", 201, _assess, ASC),
    Row(
        "list capacity assessments",
        "GET",
        "/v1/capacity-assessments",
        "capacity:read",
        200,
        static("/v1/capacity-assessments?person_id={adult}"),
    ),
    Row(
        "get capacity assessment",
        "GET",
        "/v1/capacity-assessments/{assessment_id}",
        "capacity:read",
        200,
        static("/v1/capacity-assessments/{assessment}"),
        ASC,
    ),
    Row(
        "best interests decision",
        "POST",
        "/v1/capacity-assessments/{assessment_id}/best-interests-decision",
        "capacity:write",
        201,
        _best_interests,
        ASC,
    ),
    Row(
        "register advocate",
        "POST",
        "/v1/advocates",
        "advocates:write",
        201,
        static("/v1/advocates", json=adult_bodies.advocate_body()),
    ),
    Row("list advocates", "GET", "/v1/advocates", "advocates:read", 200, static("/v1/advocates")),
    Row(
        "get advocate",
        "GET",
        "/v1/advocates/{advocate_id}",
        "advocates:read",
        200,
        static("/v1/advocates/{advocate}"),
    ),
    Row("make plan", "POST", "/v1/safeguarding-plans", "plans:write", 201, _new_plan, ASC),
    Row(
        "list plans",
        "GET",
        "/v1/safeguarding-plans",
        ("plans:read", "adult_concerns:read"),
        200,
        static("/v1/safeguarding-plans"),
        check=plans_of_whom_it_may,
    ),
    Row(
        "get plan",
        "GET",
        "/v1/safeguarding-plans/{plan_id}",
        ("plans:read", "adult_concerns:read"),
        200,
        static("/v1/safeguarding-plans/{plan}"),
        ASC | {"police", "housing"},
        check=plans_of_whom_it_may,
    ),
    Row("amend plan", "PATCH", "/v1/safeguarding-plans/{plan_id}", "plans:write", 200, _patch_plan, ASC),
    Row(
        "update housing's plan action",
        "PATCH",
        "/v1/safeguarding-plans/{plan_id}/actions/{action_id}",
        ("plans:read", "adult_concerns:read"),
        200,
        _housing_action,
        ASC | {"housing"},
    ),
    Row(
        "review plan",
        "POST",
        "/v1/safeguarding-plans/{plan_id}/reviews",
        "plans:write",
        201,
        _review_plan,
        ASC,
    ),
    # Aggregate returns and timeliness (auditors and information governance, whatever their agency).
    Row("SAC report", "GET", "/v1/reports/sac", "reports:read", 200, static("/v1/reports/sac?year=2026")),
    Row(
        "timeliness report",
        "GET",
        "/v1/reports/timeliness",
        "reports:read",
        200,
        static("/v1/reports/timeliness"),
    ),
    # The audit trail's integrity (auditors and information governance, whatever their agency): a count
    # and the first broken link, no other agency's events.
    Row(
        "verify audit chain",
        "GET",
        "/v1/audit-events/verification",
        "audit:read",
        200,
        static("/v1/audit-events/verification"),
    ),
    # Administration (admins only, whatever their agency): the hub's timescales and partner clients.
    Row("get timescales", "GET", "/v1/settings/timescales", "admin", 200, static("/v1/settings/timescales")),
    Row("replace timescales", "PUT", "/v1/settings/timescales", "admin", 200, _put_timescales),
    Row("register client", "POST", "/v1/clients", "admin", 201, static("/v1/clients", json=_CLIENT)),
    Row("list clients", "GET", "/v1/clients", "admin", 200, static("/v1/clients")),
    Row("get client", "GET", "/v1/clients/{client_id}", "admin", 200, static("/v1/clients/{client}")),
    Row("rename client", "PATCH", "/v1/clients/{client_id}", "admin", 200, _rename_client),
    Row("revoke client", "POST", "/v1/clients/{client_id}/revocation", "admin", 200, _revoke_client),
    # Retention (records management): information governance alone (retention:manage).
    Row(
        "retention rules",
        "GET",
        "/v1/retention/rules",
        "retention:manage",
        200,
        static("/v1/retention/rules"),
    ),
    Row(
        "retention review list",
        "GET",
        "/v1/retention/review",
        "retention:manage",
        200,
        static("/v1/retention/review?record_type=referral"),
    ),
    Row("place legal hold", "POST", "/v1/legal-holds", "retention:manage", 201, _place_hold),
    Row("list legal holds", "GET", "/v1/legal-holds", "retention:manage", 200, static("/v1/legal-holds")),
    Row("get legal hold", "GET", "/v1/legal-holds/{hold_id}", "retention:manage", 200, _get_hold),
    Row(
        "release legal hold",
        "POST",
        "/v1/legal-holds/{hold_id}/release",
        "retention:manage",
        200,
        _release_hold,
    ),
    # A record made today is not past its rule: whoever is let through meets the rule (409).
    Row(
        "anonymise a record not past retention",
        "POST",
        "/v1/retention/anonymisations",
        "retention:manage",
        409,
        _anonymise_too_soon,
    ),
    Row(
        "get anonymisation",
        "GET",
        "/v1/retention/anonymisations/{anonymisation_id}",
        "retention:manage",
        200,
        _get_anonymisation,
    ),
    # The change feed: every agency polls it; what each sees in it is tested in tests/feed.
    Row("change feed", "GET", "/v1/events", "events:read", 200, static("/v1/events")),
    # -----------------------------------------------------------------------------------------------
    # Rules of api.md ("Agencies, roles, scopes") that a parallel branch is implementing: each
    # expectation here is this file's reading of the contract, to be checked when it is merged.
    #
    # Logging a subject access request: hub staff (people:write) and information governance
    # (subject_access:export), whose job it is.
    Row(
        "log subject access request",
        "POST",
        "/v1/people/{person_id}/subject-access-requests",
        ("people:write", "subject_access:export"),
        201,
        _log_sar,
    ),
    # The subject access export shows nobody more than they could read record by record: children's
    # social care the children's side, adult social care the adults' side, information governance
    # (subject_access:export, in the council) both. The person record itself is read by all three.
    Row(
        "export an adult's record",
        "GET",
        "/v1/people/{person_id}/record",
        ("people:read", "subject_access:export"),
        200,
        static("/v1/people/{adult}/record"),
        check=export_shows("adults"),
    ),
    Row(
        "export a child's record",
        "GET",
        "/v1/people/{person_id}/record",
        ("people:read", "subject_access:export"),
        200,
        static("/v1/people/{child}/record"),
        check=export_shows("children"),
    ),
    # Child-level report items (CIN) need an auditor of a lead agency or the council: a partner
    # agency's auditor is refused (403), though it has reports:read.
    Row(
        "CIN referrals report",
        "GET",
        "/v1/reports/cin-referrals",
        "reports:read",
        200,
        static("/v1/reports/cin-referrals?from=2026-04-01&to=2026-04-30"),
        refused=PARTNERS,
    ),
    Row(
        "CIN referrals report as CSV",
        "GET",
        "/v1/reports/cin-referrals",
        "reports:read",
        200,
        static("/v1/reports/cin-referrals?from=2026-04-01&to=2026-04-30", headers={"Accept": "text/csv"}),
        refused=PARTNERS,
        check=is_csv,
    ),
    Row(
        "CIN referrals validation",
        "GET",
        "/v1/reports/cin-referrals/validation",
        "reports:read",
        200,
        static("/v1/reports/cin-referrals/validation?from=2026-04-01&to=2026-04-30"),
        refused=PARTNERS,
    ),
    # A partner agency's auditor reads the audit events of its own agency's actions only; the others
    # read every agency's. The events about the referral's child: made by the police and the hub.
    Row(
        "read audit trail",
        "GET",
        "/v1/audit-events",
        "audit:read",
        200,
        static("/v1/audit-events?person_id={child}&limit=200"),
        check=audit_events_of_whom_it_may,
    ),
    # Documents (api.md "Documents"): each kind of parent's upload and list, and one document's
    # metadata, download and withdrawal (a referral's, uploaded by the police).
    Row(
        "upload referral document",
        "POST",
        "/v1/referrals/{referral_id}/documents",
        ("referrals:create", "referrals:write"),
        201,
        static("/v1/referrals/{referral}/documents", files={"file": ("statement.pdf", DOCUMENT_PDF)}),
        frozenset({"police"}) | HUB,
    ),
    Row(
        "list referral documents",
        "GET",
        "/v1/referrals/{referral_id}/documents",
        "referrals:read",
        200,
        static("/v1/referrals/{referral}/documents"),
        frozenset({"police"}) | HUB,
    ),
    Row(
        "upload contribution document",
        "POST",
        "/v1/contributions/{contribution_id}/documents",
        "contributions:write",
        201,
        static("/v1/contributions/{contribution}/documents", files={"file": ("notes.pdf", DOCUMENT_PDF)}),
        frozenset({"health"}),
    ),
    Row(
        "list contribution documents",
        "GET",
        "/v1/contributions/{contribution_id}/documents",
        "contributions:read",
        200,
        static("/v1/contributions/{contribution}/documents"),
        frozenset({"health"}) | HUB,
    ),
    Row(
        "upload adult concern document",
        "POST",
        "/v1/adult-concerns/{concern_id}/documents",
        ("adult_concerns:create", "adult_concerns:write"),
        201,
        static("/v1/adult-concerns/{concern}/documents", files={"file": ("letter.pdf", DOCUMENT_PDF)}),
        frozenset({"health"}) | ASC,
    ),
    Row(
        "list adult concern documents",
        "GET",
        "/v1/adult-concerns/{concern_id}/documents",
        "adult_concerns:read",
        200,
        static("/v1/adult-concerns/{concern}/documents"),
        frozenset({"health"}) | ASC,
    ),
    Row(
        "upload enquiry document",
        "POST",
        "/v1/enquiries/{enquiry_id}/documents",
        ("adult_concerns:create", "adult_concerns:write"),
        201,
        static("/v1/enquiries/{enquiry}/documents", files={"file": ("visit.pdf", DOCUMENT_PDF)}),
        ASC,
    ),
    Row(
        "list enquiry documents",
        "GET",
        "/v1/enquiries/{enquiry_id}/documents",
        "adult_concerns:read",
        200,
        static("/v1/enquiries/{enquiry}/documents"),
        ASC,
    ),
    Row(
        "get document",
        "GET",
        "/v1/documents/{document_id}",
        ("referrals:read", "contributions:read", "adult_concerns:read"),
        200,
        static("/v1/documents/{referral_document}"),
        frozenset({"police"}) | HUB,
    ),
    Row(
        "download document",
        "GET",
        "/v1/documents/{document_id}/content",
        ("referrals:read", "contributions:read", "adult_concerns:read"),
        200,
        static("/v1/documents/{referral_document}/content"),
        frozenset({"police"}) | HUB,
    ),
    Row(
        "withdraw document",
        "POST",
        "/v1/documents/{document_id}/withdrawal",
        (
            "referrals:create",
            "referrals:write",
            "contributions:write",
            "adult_concerns:create",
            "adult_concerns:write",
        ),
        200,
        _withdraw_document,
        frozenset({"police"}) | HUB,
    ),
    # Webhook subscriptions (api.md "Webhooks") belong to the client (or person, by `sub`) that made them,
    # in its agency: the World's are made as the police callers' own `sub`, so the police callers see
    # them and every other caller, the hub included, is told they do not exist.
    Row(
        "subscribe to webhooks",
        "POST",
        "/v1/webhook-subscriptions",
        "events:read",
        201,
        static("/v1/webhook-subscriptions", json=WEBHOOK_SUBSCRIPTION),
    ),
    Row(
        "list webhook subscriptions",
        "GET",
        "/v1/webhook-subscriptions",
        "events:read",
        200,
        static("/v1/webhook-subscriptions"),
        check=only_own_subscriptions,
    ),
    Row(
        "get webhook subscription",
        "GET",
        "/v1/webhook-subscriptions/{subscription_id}",
        "events:read",
        200,
        static("/v1/webhook-subscriptions/{subscription}"),
        frozenset({"police"}),
    ),
    Row(
        "disable webhook subscription",
        "POST",
        "/v1/webhook-subscriptions/{subscription_id}/disable",
        "events:read",
        200,
        _own_subscription("disable"),
        frozenset({"police"}),
    ),
    Row(
        "enable webhook subscription",
        "POST",
        "/v1/webhook-subscriptions/{subscription_id}/enable",
        "events:read",
        200,
        _own_subscription("enable"),
        frozenset({"police"}),
    ),
    Row(
        "send a test webhook",
        "POST",
        "/v1/webhook-subscriptions/{subscription_id}/test",
        "events:read",
        202,
        _own_subscription("test"),
        frozenset({"police"}),
    ),
    Row(
        "list webhook deliveries",
        "GET",
        "/v1/webhook-subscriptions/{subscription_id}/deliveries",
        "events:read",
        200,
        static("/v1/webhook-subscriptions/{subscription}/deliveries"),
        frozenset({"police"}),
    ),
]


def expected_status(row: Row, caller: str) -> int:
    _, agency = CALLERS[caller]
    if not is_valid(caller):
        return 401
    if row.scope is None:
        return row.success
    if lacks_scope(row, caller) or agency in row.refused:
        return 403
    if row.visible_to is not None and agency not in row.visible_to:
        return 404
    return row.success


def lacks_scope(row: Row, caller: str) -> bool:
    role, _ = CALLERS[caller]
    accepted = {row.scope} if isinstance(row.scope, str) else set(row.scope or ())
    return row.scope is not None and not accepted & set(CONTRACT[role][1].split())


CASES = [
    pytest.param(row, caller, expected_status(row, caller), id=f"{row.name} as {caller}")
    for row in ROWS
    for caller in CALLERS
]


@dataclass
class Matrix:
    world: World
    headers: dict[str, dict[str, str]]  # each caller's
    refused: dict[str, Request] = field(default_factory=dict)  # each row's request for those refused

    async def request_for(self, row: Row, *, fresh: bool) -> Request:
        """A caller who is let through gets a target of its own (the call changes it); a caller who is
        refused (401, 403, 404) cannot change anything, so one request per row serves them all."""
        if fresh:
            return await row.prepare(self.world)
        if row.name not in self.refused:
            self.refused[row.name] = await row.prepare(self.world)
        return copy.deepcopy(self.refused[row.name])


@pytest.fixture(scope="module")
async def matrix(databases: Databases) -> AsyncIterator[Matrix]:
    async with app_of_its_own(databases) as (app, client):
        settings = app.state.settings
        makers = {
            label: bearer(app.state.tokens.issue(sub=f"{label}-user", agency=agency, role=role).access_token)
            for label, (role, agency) in MAKERS.items()
        }
        # The police callers' own identity, for records that are theirs alone (webhook subscriptions).
        makers["police_caller"] = bearer(
            app.state.tokens.issue(sub=SHARED_SUB, agency="police", role="partner_referrer").access_token
        )
        callers = {}
        for label, (role, agency) in CALLERS.items():
            if is_valid(label):
                callers[label] = bearer(
                    app.state.tokens.issue(sub=SHARED_SUB, agency=agency, role=role).access_token
                )
            else:  # the service refuses to issue these: signed by hand, with every scope of the role
                claims = local_claims(
                    settings, sub=SHARED_SUB, agency=agency, role=role, scope=CONTRACT[role][1]
                )
                callers[label] = bearer(local_token(settings, claims))
        world = World(client, makers)
        await world.build()
        yield Matrix(world, callers)


def test_every_caller_and_every_endpoint_is_covered() -> None:
    assert {c.values[1] for c in CASES} == set(CALLERS)
    valid = {role for label, (role, _) in CALLERS.items() if is_valid(label)}
    mismatched = {role for label, (role, _) in CALLERS.items() if not is_valid(label)}
    assert set(CONTRACT) == valid == mismatched, "every role of the contract, where it may and may not be"
    # Each row lets someone through and keeps someone out: a row that every caller passes or every
    # caller fails would test nothing. A row open to any valid token keeps out exactly the invalid ones.
    valid_callers = [caller for caller in CALLERS if is_valid(caller)]
    agencies = {CALLERS[caller][1] for caller in valid_callers}
    for row in ROWS:
        statuses = {expected_status(row, caller) for caller in valid_callers}
        assert row.success in statuses, row.name
        assert (statuses == {row.success}) == (row.scope is None), row.name
        # The agencies that see a row's record are callers' (a misspelt one would test nothing), and a
        # refusal whatever the scopes is tried on a caller with them.
        assert (row.visible_to or frozenset()) <= agencies, row.name
        assert not row.refused or [
            c for c in valid_callers if CALLERS[c][1] in row.refused and not lacks_scope(row, c)
        ], row.name


# The operations no caller of the hub makes with a bearer token: each is tested where it lives.
EXEMPT = {
    ("POST", "/oauth/token"): "takes client credentials, not a token (tests/auth/test_token_endpoint.py)",
    ("GET", "/healthz"): "liveness for the load balancer, no caller (tests/ops/test_health.py)",
    ("GET", "/readyz"): "readiness for the load balancer, no caller (tests/ops/test_health.py)",
    ("GET", "/metrics"): "Prometheus scrapes it without a token (tests/ops)",
    ("GET", "/problems"): "public documentation of the problem codes (tests/test_openapi.py)",
    ("GET", "/problems/{code}"): "public documentation of the problem codes (tests/test_openapi.py)",
    ("POST", "/public/v1/adult-concerns"): "the public's door takes no token (tests/public/)",
    ("POST", "/public/v1/child-concerns"): "the public's door takes no token (tests/public/)",
}


def test_every_operation_of_the_app_is_a_row() -> None:
    # The committed document, which tests/test_openapi.py keeps identical to the app's own.
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    operations = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {(row.method, row.path) for row in ROWS}
    assert sorted(operations - covered - EXEMPT.keys()) == [], "operations no row calls"
    assert sorted((covered | EXEMPT.keys()) - operations) == [], "rows or exemptions of no operation"
    assert not covered & EXEMPT.keys(), "an exempt operation has a row"


@pytest.mark.parametrize(("row", "caller", "expected"), CASES)
async def test_access(matrix: Matrix, row: Row, caller: str, expected: int) -> None:
    world = matrix.world
    request = await matrix.request_for(row, fresh=expected == row.success)
    url = request.pop("url")
    assert row.fits(url), f"{row.name}: {url} is not a call of {row.method} {row.path}"
    headers = {**matrix.headers[caller], **request.pop("headers", {})}
    if row.method == "POST":
        # One key per row for every caller: a key is its caller's own (agency, role and sub), so none of
        # them may receive another's stored answer, nor be told that the key is taken.
        headers["Idempotency-Key"] = f"matrix-{row.name.replace(' ', '-')}"
    response = await world.client.request(row.method, url, headers=headers, **request)
    assert response.status_code == expected, f"{row.name} as {caller}: {response.status_code} {response.text}"
    if expected == 401:
        assert_invalid_token(response)
    elif expected in (403, 404):
        problem = response.json()
        assert problem["status"] == expected
        assert "items" not in problem
        # The refusal names no record: not even the ids the caller asked for.
        assert not [
            part for part in url.split("?")[0].split("/") if len(part) == 36 and part in response.text
        ]
        if expected == 404:
            assert problem["code"] == "not_found"
        elif lacks_scope(row, caller):
            assert problem["code"] == "insufficient_scope"
    else:
        assert "idempotent-replayed" not in response.headers, "another caller's stored answer"
        if CALLERS[caller][0] == "partner_referrer":
            # Partner views never carry hub staff identities.
            assert not [sub for sub in HUB_STAFF if sub in response.text], response.text
        if row.check is not None:
            row.check(response, caller)
