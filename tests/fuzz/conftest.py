"""Schema-driven fuzzing (schemathesis) of the whole API, in process, against a seeded database.

The fuzz tests are marked ``fuzz``: ordinary ``make test`` deselects them, ``make fuzz`` runs them (on
PostgreSQL in CI). Every operation is called with a token of a role that holds its scopes, so the fuzzer
reaches the handlers instead of stopping at 401/403; path parameters are drawn partly from records seeded
here, so they reach real records instead of 404 only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from fastapi import FastAPI
from schemathesis.python import asgi

from app.core.scopes import ROLE_SCOPES, AgencyCode, Role
from app.main import create_app, openapi_document
from tests.conftest import Databases, make_settings
from tests.fixtures.adults import (
    action,
    adult,
    advocacy_body,
    advocate_body,
    assessment_body,
    best_interests_body,
    concern_body,
    decision_body,
    enquiry_body,
    plan_body,
)
from tests.fixtures.referrals import ask_body, child, proposal_body, referral_body

SPEC = openapi_document()
# Fixed identities: the seed, and so the whole run, is the same every time.
MARGARET = adult(given_name="Margaret", family_name="Hughes", date_of_birth="1941-06-02")

# The role each operation is called as: the first in this order that holds the scopes it needs. Hub
# practitioners come first (they see every record of their side), managers where only they may act.
ROLE_ORDER = (
    Role.MASH_PRACTITIONER,
    Role.MASH_MANAGER,
    Role.ASC_PRACTITIONER,
    Role.ASC_MANAGER,
    Role.PARTNER_REFERRER,
    Role.AUDITOR,
    Role.ADMIN,
    # Records management (retention:manage) is information governance's alone.
    Role.INFORMATION_GOVERNANCE,
)
AGENCY = {
    Role.MASH_PRACTITIONER: AgencyCode.CHILDRENS_SOCIAL_CARE,
    Role.MASH_MANAGER: AgencyCode.CHILDRENS_SOCIAL_CARE,
    Role.ASC_PRACTITIONER: AgencyCode.ADULT_SOCIAL_CARE,
    Role.ASC_MANAGER: AgencyCode.ADULT_SOCIAL_CARE,
    # The seeded referral asks the police for information: the police answer it.
    Role.PARTNER_REFERRER: AgencyCode.POLICE,
    Role.AUDITOR: AgencyCode.CHILDRENS_SOCIAL_CARE,
    Role.ADMIN: AgencyCode.CHILDRENS_SOCIAL_CARE,
    Role.INFORMATION_GOVERNANCE: AgencyCode.COUNCIL,
}

# Path parameter name → ids of seeded records. Filled by the ``fuzz_api`` fixture before any case is
# generated; the path-parameter hook of the fuzz tests draws from it.
KNOWN_IDS: dict[str, list[str]] = {}


def role_for(method: str, path: str) -> Role | None:
    """The role to call an operation as, from its security requirements (None: a public operation)."""
    requirements: list[dict[str, list[str]]] | None = SPEC["paths"][path][method].get("security")
    if not requirements:
        return None
    # "Any valid token" ([]) alongside named scopes: prefer a role holding the named ones, who sees more.
    named = [set(r.get("oauth2", [])) for r in requirements if r.get("oauth2")]
    for scopes in named or [set()]:
        for role in ROLE_ORDER:
            if scopes <= ROLE_SCOPES[role]:
                return role
    raise AssertionError(f"no role may call {method.upper()} {path}")


@dataclass
class FuzzApi:
    app: FastAPI
    headers: dict[Role, dict[str, str]] = field(default_factory=dict)

    def auth(self, method: str, path: str) -> dict[str, str]:
        role = role_for(method.lower(), path)
        return {} if role is None else dict(self.headers[role])

    def call_kwargs(self, method: str, path: str) -> dict[str, Any]:
        return {"app": self.app, "headers": self.auth(method, path)}

    def current_etag(self, url: str, path: str) -> str | None:
        """The ETag a GET of ``url`` returns now, as the role that may read ``path``."""
        if "get" not in SPEC["paths"][path]:
            return None
        with asgi.get_client(cast(Any, self.app)) as http:
            response = http.get(url, headers=self.auth("get", path))
        etag: str | None = response.headers.get("ETag")
        return etag


def _seed(api: FuzzApi) -> None:
    """A few records of every kind, made through the API as their users would."""
    known: dict[str, list[str]] = {}

    def post(role: Role, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = http.post(path, json=body, headers=api.headers[role])
        assert response.status_code == status, response.text
        created: dict[str, Any] = response.json()
        return created

    with asgi.get_client(cast(Any, api.app)) as http:
        police = api.headers[Role.PARTNER_REFERRER]
        response = http.post(
            "/v1/referrals",
            json=referral_body(
                child(nhs_number="9434765919", address={"lines": ["1 Forest Road"], "postcode": "E17 4UH"})
            ),
            headers=police,
        )
        assert response.status_code == 201, response.text
        referral = response.json()
        post(
            Role.MASH_PRACTITIONER,
            f"/v1/referrals/{referral['id']}/rag-rating",
            {"rating": "amber", "rationale": "Seeded."},
            200,
        )
        asked = post(
            Role.MASH_PRACTITIONER,
            f"/v1/referrals/{referral['id']}/contribution-requests",
            ask_body("police", "health"),
        )
        communication = post(
            Role.MASH_PRACTITIONER,
            f"/v1/referrals/{referral['id']}/communications",
            {"audience": "parent", "method": "phone", "summary": "Explained the referral to the mother."},
        )
        decision = post(
            Role.MASH_PRACTITIONER, f"/v1/referrals/{referral['id']}/threshold-decisions", proposal_body()
        )
        full = http.get(f"/v1/referrals/{referral['id']}", headers=api.headers[Role.MASH_PRACTITIONER]).json()
        person_id = full["children"][0]["person_id"]
        known["referral_id"] = [referral["id"]]
        known["child_id"] = [c["id"] for c in full["children"]]
        known["contribution_id"] = [c["id"] for c in asked["items"]]
        known["communication_id"] = [communication["id"]]
        known["decision_id"] = [decision["id"]]
        letter = http.post(
            f"/v1/referrals/{referral['id']}/documents",
            files={"file": ("letter.pdf", b"%PDF-1.4\ntrailer << >>\n%%EOF\n")},
            headers=api.headers[Role.MASH_PRACTITIONER],
        )
        assert letter.status_code == 201, letter.text
        known["document_id"] = [letter.json()["id"]]

        sar = post(
            Role.MASH_PRACTITIONER,
            f"/v1/people/{person_id}/subject-access-requests",
            {
                "received_on": "2026-01-05",
                "identity_verified": True,
                "authority_confirmed": True,
                "requester": {"name": "Sarah Smith-Jones", "relationship": "parent_or_guardian"},
            },
        )
        known["request_id"] = [sar["id"]]

        concern = post(Role.ASC_PRACTITIONER, "/v1/adult-concerns", concern_body(adult=MARGARET))
        concern_full = http.get(
            f"/v1/adult-concerns/{concern['id']}", headers=api.headers[Role.ASC_PRACTITIONER]
        ).json()
        adult_id = concern_full["adult"]["person_id"]
        known["person_id"] = [person_id, adult_id]
        known["concern_id"] = [concern["id"]]
        post(Role.ASC_MANAGER, f"/v1/adult-concerns/{concern['id']}/section-42-decision", decision_body())
        enquiry = post(Role.ASC_PRACTITIONER, f"/v1/adult-concerns/{concern['id']}/enquiries", enquiry_body())
        known["enquiry_id"] = [enquiry["id"]]
        assessment = post(Role.ASC_PRACTITIONER, "/v1/capacity-assessments", assessment_body(adult_id))
        post(
            Role.ASC_PRACTITIONER,
            f"/v1/capacity-assessments/{assessment['id']}/best-interests-decision",
            best_interests_body(),
        )
        known["assessment_id"] = [assessment["id"]]
        advocate = post(Role.ASC_PRACTITIONER, "/v1/advocates", advocate_body())
        known["advocate_id"] = [advocate["id"]]
        post(Role.ASC_PRACTITIONER, f"/v1/adult-concerns/{concern['id']}/advocacy", advocacy_body())
        plan = post(
            Role.ASC_PRACTITIONER,
            "/v1/safeguarding-plans",
            plan_body(adult_id, action("police"), concern_id=concern["id"]),
        )
        known["plan_id"] = [plan["id"]]
        known["action_id"] = [a["id"] for a in plan["actions"]]

        client = post(
            Role.ADMIN,
            "/v1/clients",
            {"name": "Fuzzed partner system", "agency": "police", "role": "partner_referrer"},
        )
        known["client_id"] = [client["client_id"]]
        # A public address literal: accepted without a lookup (no worker runs, nothing is sent).
        subscription = post(
            Role.MASH_PRACTITIONER,
            "/v1/webhook-subscriptions",
            {"url": "https://93.184.215.14/hooks", "description": "Fuzzed receiver"},
        )
        known["subscription_id"] = [subscription["id"]]
        hold = post(
            Role.INFORMATION_GOVERNANCE,
            "/v1/legal-holds",
            {"record_type": "referral", "record_id": referral["id"], "reason": "Seeded."},
        )
        known["hold_id"] = [hold["id"]]
        known["code"] = ["validation_failed", "invalid_transition"]
    KNOWN_IDS.clear()
    KNOWN_IDS.update(known)


@pytest.fixture(scope="session")
async def fuzz_api(databases: Databases) -> AsyncIterator[FuzzApi]:
    url = await databases.clone()
    app = create_app(make_settings(url))
    api = FuzzApi(app)
    for role in ROLE_ORDER:
        issued = app.state.tokens.issue(sub=f"fuzz:{role}", agency=AGENCY[role], role=role)
        api.headers[role] = {"Authorization": f"Bearer {issued.access_token}"}
    # Everything the app does runs on schemathesis' ASGI event loop (its own thread), seeding included,
    # so the engine's pooled connections never cross event loops.
    _seed(api)
    yield api
    asgi.shutdown_lifespans()  # the app's lifespan disposes of its engine, on that loop
    await databases.drop(url)
