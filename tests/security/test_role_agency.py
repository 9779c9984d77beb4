"""A role belongs to the agencies the contract allows it, and nowhere else (api.md, "Agencies, roles,
scopes"): hub roles only in their lead agency, ``information_governance`` only in the council, the
partner's role only in a partner agency. Visibility follows the agency, so a police token carrying
``mash_manager`` would list every person, export a child's record with health's answer and edit a
child. Such a token is invalid wherever it comes from: signed by this service, by the identity
provider, or issued to a client registered before the rule was enforced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.core.scopes import ROLE_SCOPES, AgencyCode, Role, role_allowed_in_agency
from tests.conftest import ROOT, TEST_SECRET
from tests.fixtures.clients import token_form
from tests.fixtures.database import run_sql
from tests.fixtures.tokens import (
    Idp,
    assert_invalid_token,
    bearer,
    idp_claims,
    local_claims,
    local_token,
)
from tests.fixtures.values import PARTNER_AGENCIES

# Every pairing the contract forbids, with the agency the role does belong to.
MISMATCHED = [
    (Role.MASH_MANAGER, AgencyCode.POLICE),
    (Role.MASH_PRACTITIONER, AgencyCode.HEALTH),
    (Role.MASH_PRACTITIONER, AgencyCode.ADULT_SOCIAL_CARE),
    (Role.ASC_MANAGER, AgencyCode.CHILDRENS_SOCIAL_CARE),
    (Role.ASC_PRACTITIONER, AgencyCode.HOUSING),
    (Role.PARTNER_REFERRER, AgencyCode.CHILDRENS_SOCIAL_CARE),
    (Role.PARTNER_REFERRER, AgencyCode.ADULT_SOCIAL_CARE),
    (Role.PARTNER_REFERRER, AgencyCode.COUNCIL),
    (Role.INFORMATION_GOVERNANCE, AgencyCode.CHILDRENS_SOCIAL_CARE),
    (Role.INFORMATION_GOVERNANCE, AgencyCode.POLICE),
]
# The contract's rule, written out here rather than imported, so a mistake in app.core.scopes fails.
ALLOWED = {
    "partner_referrer": set(PARTNER_AGENCIES),
    "mash_practitioner": {"childrens_social_care"},
    "mash_manager": {"childrens_social_care"},
    "asc_practitioner": {"adult_social_care"},
    "asc_manager": {"adult_social_care"},
    "information_governance": {"council"},
    "auditor": {code.value for code in AgencyCode},
    "admin": {code.value for code in AgencyCode},
}
PAIRS = [pytest.param(role, agency, id=f"{role}-in-{agency}") for role, agency in MISMATCHED]


def scopes_of(role: Role) -> str:
    return " ".join(sorted(ROLE_SCOPES[role]))


def test_the_rule_is_the_contracts() -> None:
    assert {role.value for role in Role} == set(ALLOWED)
    for role in Role:
        for agency in AgencyCode:
            assert role_allowed_in_agency(role, agency) == (agency.value in ALLOWED[role.value]), (
                role,
                agency,
            )


@pytest.mark.parametrize(("role", "agency"), PAIRS)
async def test_a_token_this_service_signed_is_refused(
    client: httpx.AsyncClient, settings: Settings, role: Role, agency: AgencyCode
) -> None:
    claims = local_claims(settings, agency=str(agency), role=str(role), scope=scopes_of(role))
    response = await client.get("/v1/me", headers=bearer(local_token(settings, claims)))
    assert_invalid_token(response)
    assert str(role) in response.json()["detail"]


async def test_a_police_mash_manager_reads_nothing(client: httpx.AsyncClient, settings: Settings) -> None:
    """The probe's token: it listed people and exported a child's record; now every call is a 401."""
    claims = local_claims(settings, agency="police", role="mash_manager", scope=scopes_of(Role.MASH_MANAGER))
    headers = bearer(local_token(settings, claims))
    for path in ("/v1/people", "/v1/referrals", "/v1/contributions", "/v1/events"):
        assert_invalid_token(await client.get(path, headers=headers))


@pytest.mark.parametrize(("role", "agency"), PAIRS)
async def test_a_token_from_the_identity_provider_is_refused(
    idp: Idp, idp_client: httpx.AsyncClient, role: Role, agency: AgencyCode
) -> None:
    claims = idp_claims(agency=str(agency), role=str(role), scope=scopes_of(role))
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(idp.rs256(claims))))
    # The same person in the right agency is let in: only the pairing is refused.
    right = next(iter(sorted(ALLOWED[str(role)])))
    good = idp_claims(agency=right, role=str(role), scope=scopes_of(role))
    response = await idp_client.get("/v1/me", headers=bearer(idp.rs256(good)))
    assert response.status_code == 200, response.text


async def test_a_client_registered_before_the_rule_gets_no_token(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    registered = await client.post(
        "/v1/clients", headers=admin, json={"name": "Old system", "agency": "police", "role": "auditor"}
    )
    assert registered.status_code == 201, registered.text
    credentials = registered.json()
    # As a row written before the rule existed would be.
    await run_sql(app, "UPDATE clients SET role = 'mash_manager' WHERE name = 'Old system'")
    response = await client.post("/oauth/token", data=token_form(credentials))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def _mash_token(*args: str) -> subprocess.CompletedProcess[str]:
    mash = str(Path(sys.executable).parent / "mash")
    env = {**os.environ, "MASH_JWT_SECRET": TEST_SECRET, "MASH_DATABASE_URL": "sqlite+aiosqlite:///unused.db"}
    return subprocess.run(
        [mash, "token", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_mash_token_refuses_a_role_outside_its_agency() -> None:
    refused = _mash_token("--agency", "police", "--role", "mash_manager")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "mash_manager" in refused.stderr and "childrens_social_care" in refused.stderr


def test_mash_token_lists_the_roles_when_one_is_unknown() -> None:
    refused = _mash_token("--agency", "police", "--role", "foo")
    assert refused.returncode == 2
    for role in Role:
        assert str(role) in refused.stderr


def test_mash_token_signs_an_allowed_pairing() -> None:
    issued = _mash_token("--agency", "council", "--role", "information_governance")
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.count(".") == 2  # header.claims.signature
