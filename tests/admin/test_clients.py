"""/v1/clients: registering, listing, reading and revoking partner-system clients (scope ``admin``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI

from app.core.errors import ValidationFailed
from app.models.audit import AuditEvent
from app.models.client import Client
from tests.fixtures.callers import TokenFactory
from tests.fixtures.clients import register_on_server
from tests.fixtures.http import assert_problem

POLICE_REFERRER = {"name": "Police PPU case system", "agency": "police", "role": "partner_referrer"}
CLIENT_FIELDS = {
    "client_id",
    "name",
    "agency",
    "role",
    "created_at",
    "created_by",
    "updated_at",
    "active",
    "revoked_at",
    "revoked_by",
    "revocation_reason",
}


async def create(client: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/clients", headers=admin, json={**POLICE_REFERRER, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_validation_error(response: httpx.Response, loc: list[str]) -> dict[str, Any]:
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"loc", "msg"}  # no "input": it could echo personal data back
        assert isinstance(error["msg"], str)
        assert error["msg"]
    assert loc in [error["loc"] for error in body["errors"]], body["errors"]
    return body


# ---------------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------------


async def test_create_returns_201_location_and_the_secret_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/v1/clients", headers=admin, json=POLICE_REFERRER)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == CLIENT_FIELDS | {"client_secret"}
    assert body["name"] == POLICE_REFERRER["name"]
    assert body["agency"] == "police"
    assert body["role"] == "partner_referrer"
    assert body["active"] is True
    assert body["created_by"] == "admin@test"
    assert body["revoked_at"] is None
    assert isinstance(body["client_secret"], str)
    assert len(body["client_secret"]) >= 32
    client_id = uuid.UUID(body["client_id"])
    assert response.headers["location"].endswith(f"/v1/clients/{client_id}")

    fetched = await client.get(response.headers["location"], headers=admin)
    assert fetched.status_code == 200
    assert "client_secret" not in fetched.json()
    assert body["client_secret"] not in fetched.text
    assert fetched.json() == {k: v for k, v in body.items() if k != "client_secret"}


async def test_every_client_gets_its_own_secret(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    first, second = await create(client, admin), await create(client, admin)
    assert first["client_id"] != second["client_id"]
    assert first["client_secret"] != second["client_secret"]


async def test_list_and_get_never_include_secrets_or_hashes(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = [await create(client, admin, name=f"system {i}") for i in range(3)]
    async with app.state.sessionmaker() as session:
        hashes = list(await session.scalars(sa.select(Client.secret_hash)))

    listed = await client.get("/v1/clients", headers=admin)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {item["client_id"] for item in items} == {c["client_id"] for c in created}
    responses = [listed]
    for item in items:
        assert set(item) == CLIENT_FIELDS
        responses.append(await client.get(f"/v1/clients/{item['client_id']}", headers=admin))
    for response in responses:
        assert response.status_code == 200
        assert "$argon2" not in response.text
        assert "secret" not in response.text
        for c in created:
            assert c["client_secret"] not in response.text
        for h in hashes:
            assert h not in response.text


async def test_the_stored_secret_is_an_argon2id_hash(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create(client, admin)
    async with app.state.sessionmaker() as session:
        stored = await session.scalar(
            sa.select(Client.secret_hash).where(Client.id == uuid.UUID(created["client_id"]))
        )
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert created["client_secret"] not in stored
    assert PasswordHasher().verify(stored, created["client_secret"])


async def test_creating_a_client_is_audited_without_its_secret(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create(client, admin)
    async with app.state.sessionmaker() as session:
        event = (
            await session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "create", AuditEvent.record_type == "client")
            )
        ).one()
    assert event.record_id == created["client_id"]
    assert event.actor_sub == "admin@test"
    assert created["client_secret"] not in json.dumps(event.details)


# ---------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({**POLICE_REFERRER, "agency": "mi6"}, ["body", "agency"], id="unknown-agency"),
        pytest.param({**POLICE_REFERRER, "role": "superuser"}, ["body", "role"], id="unknown-role"),
        pytest.param({**POLICE_REFERRER, "scopes": "admin"}, ["body", "scopes"], id="extra-field"),
        pytest.param(
            {**POLICE_REFERRER, "secret_hash": "x"}, ["body", "secret_hash"], id="extra-secret-hash"
        ),
        pytest.param({**POLICE_REFERRER, "name": ""}, ["body", "name"], id="empty-name"),
        pytest.param({**POLICE_REFERRER, "name": "x" * 201}, ["body", "name"], id="long-name"),
        pytest.param({"agency": "police", "role": "partner_referrer"}, ["body", "name"], id="no-name"),
        pytest.param({"name": "n", "role": "partner_referrer"}, ["body", "agency"], id="no-agency"),
    ],
)
async def test_invalid_body(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any], loc: list[str]
) -> None:
    assert_validation_error(await client.post("/v1/clients", headers=admin, json=body), loc)


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("mash_manager", "childrens_social_care"),
        ("mash_practitioner", "childrens_social_care"),
        ("asc_manager", "adult_social_care"),
        ("asc_practitioner", "adult_social_care"),
        ("information_governance", "council"),
        ("admin", "childrens_social_care"),
    ],
)
async def test_an_admin_cannot_mint_case_access_through_the_api(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], role: str, agency: str
) -> None:
    """The probe: an admin registered a mash_manager client for itself and read exports. Through the
    API only partner systems and auditors are registered; staff come from the identity provider."""
    response = await client.post(
        "/v1/clients", headers=admin, json={"name": "n", "agency": agency, "role": role}
    )
    body = assert_validation_error(response, ["body", "role"])
    assert "partner_referrer" in body["errors"][0]["msg"] and "auditor" in body["errors"][0]["msg"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


@pytest.mark.parametrize("agency", ["childrens_social_care", "adult_social_care", "council"])
async def test_a_partner_system_belongs_to_a_partner_agency(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], agency: str
) -> None:
    """A partner_referrer of children's social care would see every referral (visibility follows the
    agency)."""
    response = await client.post(
        "/v1/clients", headers=admin, json={"name": "n", "agency": agency, "role": "partner_referrer"}
    )
    body = assert_validation_error(response, ["body", "role"])
    assert agency in body["errors"][0]["msg"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("mash_manager", "police"),
        ("asc_practitioner", "childrens_social_care"),
        ("information_governance", "health"),
    ],
)
async def test_the_server_command_refuses_a_role_outside_its_agency(
    app: FastAPI, role: str, agency: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await register_on_server(app, role, agency)
    assert role in refused.value.detail
    async with app.state.sessionmaker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


async def test_the_server_command_registers_hub_staff(app: FastAPI, client: httpx.AsyncClient) -> None:
    credentials = await register_on_server(app, "mash_manager", "childrens_social_care")
    issued = await client.post("/oauth/token", data={"grant_type": "client_credentials", **credentials})
    assert issued.status_code == 200, issued.text


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("partner_referrer", "health"),
        ("partner_referrer", "victim_support"),
        ("auditor", "police"),
        ("auditor", "council"),
    ],
)
async def test_allowed_role_and_agency_pairs(
    client: httpx.AsyncClient, admin: dict[str, str], role: str, agency: str
) -> None:
    created = await create(client, admin, agency=agency, role=role)
    assert (created["agency"], created["role"]) == (agency, role)


# ---------------------------------------------------------------------------------------------------
# Revocation
# ---------------------------------------------------------------------------------------------------


async def test_revocation_records_who_when_and_why(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create(client, admin)
    url = f"/v1/clients/{created['client_id']}"
    response = await client.post(
        f"{url}/revocation", headers=admin, json={"reason": "Secret exposed in a ticket"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CLIENT_FIELDS
    assert body["active"] is False
    assert body["revoked_by"] == "admin@test"
    assert body["revocation_reason"] == "Secret exposed in a ticket"
    assert body["revoked_at"] is not None
    assert body["revoked_at"] >= body["created_at"]

    fetched = await client.get(url, headers=admin)
    assert fetched.json() == body
    async with app.state.sessionmaker() as session:
        row = await session.get(Client, uuid.UUID(created["client_id"]))
        assert row is not None
        assert (row.revoked_by, row.revocation_reason) == ("admin@test", "Secret exposed in a ticket")
        assert row.revoked_at is not None
        revoke_events = (
            await session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "revoke"))
        ).all()
    assert [e.record_id for e in revoke_events] == [created["client_id"]]


async def test_revoked_clients_are_listed_as_inactive(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    active, revoked = await create(client, admin, name="a"), await create(client, admin, name="r")
    await client.post(
        f"/v1/clients/{revoked['client_id']}/revocation", headers=admin, json={"reason": "done"}
    )
    only_active = (await client.get("/v1/clients?active=true", headers=admin)).json()["items"]
    only_revoked = (await client.get("/v1/clients?active=false", headers=admin)).json()["items"]
    assert [c["client_id"] for c in only_active] == [active["client_id"]]
    assert [c["client_id"] for c in only_revoked] == [revoked["client_id"]]


async def test_revoking_twice_is_a_conflict(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await create(client, admin)
    url = f"/v1/clients/{created['client_id']}/revocation"
    first = await client.post(url, headers=admin, json={"reason": "first"})
    assert first.status_code == 200
    assert_problem(await client.post(url, headers=admin, json={"reason": "second"}), 409, "already_revoked")
    fetched = await client.get(f"/v1/clients/{created['client_id']}", headers=admin)
    assert fetched.json()["revocation_reason"] == "first"  # the first revocation stands


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "r", "by": "someone"}]
)
async def test_revocation_needs_a_reason(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    created = await create(client, admin)
    response = await client.post(f"/v1/clients/{created['client_id']}/revocation", headers=admin, json=body)
    assert_problem(response, 422, "validation_failed")
    assert (await client.get(f"/v1/clients/{created['client_id']}", headers=admin)).json()["active"] is True


async def test_unknown_client_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    url = f"/v1/clients/{uuid.uuid4()}"
    assert_problem(await client.get(url, headers=admin), 404, "not_found")
    assert_problem(
        await client.post(f"{url}/revocation", headers=admin, json={"reason": "r"}), 404, "not_found"
    )


async def test_malformed_client_id_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert_validation_error(await client.get("/v1/clients/not-a-uuid", headers=admin), ["path", "client_id"])


# ---------------------------------------------------------------------------------------------------
# Who may call
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    ["partner_referrer", "mash_practitioner", "mash_manager", "asc_practitioner", "asc_manager", "auditor"],
)
async def test_non_admins_get_403(
    client: httpx.AsyncClient, admin: dict[str, str], auth: TokenFactory, role: str
) -> None:
    created = await create(client, admin)
    url = f"/v1/clients/{created['client_id']}"
    headers = auth(role)
    for response in (
        await client.post("/v1/clients", headers=headers, json=POLICE_REFERRER),
        await client.get("/v1/clients", headers=headers),
        await client.get(url, headers=headers),
        await client.post(f"{url}/revocation", headers=headers, json={"reason": "r"}),
    ):
        assert_problem(response, 403, "insufficient_scope")
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert (await client.get(url, headers=admin)).json()["active"] is True


async def test_anonymous_callers_get_401(client: httpx.AsyncClient) -> None:
    for response in (
        await client.post("/v1/clients", json=POLICE_REFERRER),
        await client.get("/v1/clients"),
        await client.post(f"/v1/clients/{uuid.uuid4()}/revocation", json={"reason": "r"}),
    ):
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer ")
