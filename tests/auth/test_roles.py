"""Each role carries exactly the scopes of the API contract's table, end to end through the API.

The table is written out here from api.md ("Agencies, roles, scopes"), deliberately not imported from
``app.core.scopes``, so that a mistake there fails these tests.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.callers import TokenFactory
from tests.fixtures.clients import register_on_server, token_form
from tests.fixtures.http import assert_problem

_MASH_PRACTITIONER = (
    "referrals:create referrals:read referrals:write contributions:read contributions:request people:read "
    "people:write decisions:propose events:read"
)
_ASC_PRACTITIONER = (
    "adult_concerns:create adult_concerns:read adult_concerns:write people:read people:write capacity:read "
    "capacity:write advocates:read advocates:write plans:read plans:write events:read"
)

# role → (an agency the role may belong to, its scopes), copied from the contract.
CONTRACT = {
    "partner_referrer": (
        "police",
        "referrals:create referrals:read contributions:read contributions:write adult_concerns:create "
        "adult_concerns:read events:read",
    ),
    "mash_practitioner": ("childrens_social_care", _MASH_PRACTITIONER),
    "mash_manager": ("childrens_social_care", _MASH_PRACTITIONER + " decisions:approve consent:override"),
    "asc_practitioner": ("adult_social_care", _ASC_PRACTITIONER),
    "asc_manager": ("adult_social_care", _ASC_PRACTITIONER + " adult_concerns:decide"),
    "auditor": ("health", "audit:read reports:read"),
    "admin": ("childrens_social_care", "admin"),
    "information_governance": (
        "council",
        "people:read subject_access:export disclosures:read audit:read reports:read retention:manage",
    ),
}


async def register(app: FastAPI, role: str, agency: str) -> dict[str, str]:
    """A client of ``role``, registered on the server (the API registers partner systems and auditors
    only: tests/admin)."""
    return await register_on_server(app, role, agency)


async def token_request(
    client: httpx.AsyncClient, credentials: dict[str, str], scope: str | None = None
) -> httpx.Response:
    form = token_form(credentials) if scope is None else token_form(credentials, scope=scope)
    return await client.post("/oauth/token", data=form)


def test_the_contract_table_is_complete() -> None:
    assert len(CONTRACT) == 8
    # api.md's table, plus retention:manage for information governance (issue 17, records management).
    assert sum(len(scopes.split()) for _, scopes in CONTRACT.values()) == 7 + 9 + 11 + 12 + 13 + 2 + 1 + 6


@pytest.mark.parametrize("role", list(CONTRACT))
async def test_each_role_gets_exactly_its_contract_scopes(
    app: FastAPI, client: httpx.AsyncClient, role: str
) -> None:
    agency, scopes = CONTRACT[role]
    expected = sorted(scopes.split())
    credentials = await register(app, role, agency)

    issued = await token_request(client, credentials)
    assert issued.status_code == 200, issued.text
    assert sorted(issued.json()["scope"].split()) == expected

    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json() == {"sub": credentials["client_id"], "agency": agency, "role": role, "scopes": expected}


async def test_a_subset_scope_narrows_the_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    credentials = await register(app, "mash_manager", "childrens_social_care")
    issued = await token_request(client, credentials, scope="referrals:read  decisions:approve")
    assert issued.status_code == 200, issued.text
    assert sorted(issued.json()["scope"].split()) == ["decisions:approve", "referrals:read"]

    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.json()['access_token']}"})
    assert me.json()["scopes"] == ["decisions:approve", "referrals:read"]


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("referrals:read admin", id="another-roles-scope"),
        pytest.param("decisions:approve", id="managers-scope"),
        pytest.param("referrals:*", id="wildcard"),
        pytest.param("superpowers", id="unknown-scope"),
    ],
)
async def test_a_scope_outside_the_role_is_invalid_scope(
    app: FastAPI, client: httpx.AsyncClient, scope: str
) -> None:
    credentials = await register(app, "mash_practitioner", "childrens_social_care")
    response = await token_request(client, credentials, scope=scope)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_scope"
    assert set(body) == {"error", "error_description"}


async def test_partner_referrer_may_not_list_clients(app: FastAPI, client: httpx.AsyncClient) -> None:
    credentials = await register(app, "partner_referrer", "police")
    issued = await token_request(client, credentials)
    response = await client.get(
        "/v1/clients", headers={"Authorization": f"Bearer {issued.json()['access_token']}"}
    )
    assert_problem(response, 403, "insufficient_scope")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="admin"' in challenge


@pytest.mark.parametrize("role", [r for r in CONTRACT if r != "admin"])
async def test_only_admin_may_list_clients(
    client: httpx.AsyncClient, auth: TokenFactory, admin: dict[str, str], role: str
) -> None:
    response = await client.get("/v1/clients", headers=auth(role, CONTRACT[role][0]))
    assert_problem(response, 403, "insufficient_scope")
    assert (await client.get("/v1/clients", headers=admin)).status_code == 200
