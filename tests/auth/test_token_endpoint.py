"""POST /oauth/token: the OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

Errors here use the OAuth error shape ``{"error", "error_description"}``, not problem details.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core.config import Settings
from app.core.passwords import SecretHasher
from app.models.audit import AuditEvent
from tests.fixtures.clients import token_form as form

PARTNER_SCOPES = (
    "adult_concerns:create adult_concerns:read contributions:read contributions:write events:read "
    "referrals:create referrals:read"
)


@pytest.fixture
async def registered(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    """A police partner_referrer client registered through the API: its client_id and client_secret."""
    response = await client.post(
        "/v1/clients",
        headers=admin,
        json={"name": "Police PPU", "agency": "police", "role": "partner_referrer"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def basic(client_id: str, secret: str) -> dict[str, str]:
    # RFC 6749 section 2.3.1: each part is form-urlencoded before joining.
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def basic_request(
    client: httpx.AsyncClient, authorization: dict[str, str], data: dict[str, str] | None = None
) -> httpx.Response:
    """A token request authenticated by ``authorization`` (HTTP Basic), by default with only the grant type
    in the form."""
    return await client.post(
        "/oauth/token", headers=authorization, data=data or {"grant_type": "client_credentials"}
    )


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's header and claims, decoded without checking anything."""
    header, payload, _ = token.split(".")
    return _b64json(header), _b64json(payload)


def _b64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def assert_success(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    return body


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"  # not application/problem+json
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert set(body) == {"error", "error_description"}
    assert isinstance(body["error_description"], str)


# ---------------------------------------------------------------------------------------------------
# Success
# ---------------------------------------------------------------------------------------------------


async def test_form_credentials(
    client: httpx.AsyncClient, registered: dict[str, str], settings: Settings
) -> None:
    body = assert_success(await client.post("/oauth/token", data=form(registered)))
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert body["scope"] == PARTNER_SCOPES
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["sub"] == registered["client_id"]


async def test_http_basic_credentials(client: httpx.AsyncClient, registered: dict[str, str]) -> None:
    response = await basic_request(client, basic(registered["client_id"], registered["client_secret"]))
    body = assert_success(response)
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


async def test_issued_token_claims_and_header(
    client: httpx.AsyncClient, registered: dict[str, str], settings: Settings
) -> None:
    before = int(time.time())
    body = assert_success(await client.post("/oauth/token", data=form(registered)))
    header, claims = unverified(body["access_token"])

    assert header["typ"] == "at+jwt"
    assert header["alg"] == "HS256"
    assert header["kid"] == "mash-hs256"
    assert {"iss", "aud", "sub", "exp", "iat", "jti", "agency", "role", "scope", "client_id"} <= claims.keys()
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    assert claims["sub"] == registered["client_id"]
    assert claims["client_id"] == registered["client_id"]
    assert claims["agency"] == "police"
    assert claims["role"] == "partner_referrer"
    assert claims["scope"] == body["scope"]
    assert before - 5 <= claims["iat"] <= int(time.time()) + 5
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds == body["expires_in"]
    uuid.UUID(claims["jti"])


async def test_every_token_has_its_own_jti(client: httpx.AsyncClient, registered: dict[str, str]) -> None:
    first = assert_success(await client.post("/oauth/token", data=form(registered)))
    second = assert_success(await client.post("/oauth/token", data=form(registered)))
    assert unverified(first["access_token"])[1]["jti"] != unverified(second["access_token"])[1]["jti"]


async def test_issuing_a_token_is_audited(
    app: FastAPI, client: httpx.AsyncClient, registered: dict[str, str]
) -> None:
    body = assert_success(await client.post("/oauth/token", data=form(registered)))

    async with app.state.sessionmaker() as session:
        events = (
            await session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "issue_token"))
        ).all()
    assert len(events) == 1
    event = events[0]
    assert event.record_type == "client"
    assert event.record_id == registered["client_id"]
    assert event.actor_sub == registered["client_id"]
    assert event.actor_agency == "police"
    assert event.actor_role == "partner_referrer"
    assert event.details == {"scope": body["scope"]}
    stored = json.dumps(event.details)
    assert registered["client_secret"] not in stored
    assert body["access_token"] not in stored


async def test_failed_attempts_issue_nothing_and_audit_nothing(
    app: FastAPI, client: httpx.AsyncClient, registered: dict[str, str]
) -> None:
    response = await client.post("/oauth/token", data=form(registered, client_secret="wrong"))
    assert_oauth_error(response, 401, "invalid_client")
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "issue_token")
        )
    assert count == 0


# ---------------------------------------------------------------------------------------------------
# invalid_client (401)
# ---------------------------------------------------------------------------------------------------


async def test_wrong_secret(client: httpx.AsyncClient, registered: dict[str, str]) -> None:
    response = await client.post(
        "/oauth/token", data=form(registered, client_secret=registered["client_secret"] + "x")
    )
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "change",
    [
        # The spec says client_secret is at most 256 characters; a longer one is refused the OAuth way.
        pytest.param({"client_secret": "s" * 257}, id="a secret longer than documented"),
        pytest.param({"client_id": str(uuid.uuid4())}, id="unknown client_id"),
        *[
            pytest.param({"client_id": client_id}, id=f"malformed client_id {n}")
            for n, client_id in enumerate(["not-a-uuid", "' OR 1=1 --", "0" * 1000])
        ],
    ],
)
async def test_credentials_that_name_no_client_are_invalid_client(
    client: httpx.AsyncClient, registered: dict[str, str], change: dict[str, str]
) -> None:
    response = await client.post("/oauth/token", data=form(registered, **change))
    assert_oauth_error(response, 401, "invalid_client")


async def test_revoked_client(
    client: httpx.AsyncClient, admin: dict[str, str], registered: dict[str, str]
) -> None:
    assert_success(await client.post("/oauth/token", data=form(registered)))
    revoked = await client.post(
        f"/v1/clients/{registered['client_id']}/revocation", headers=admin, json={"reason": "decommissioned"}
    )
    assert revoked.status_code == 200, revoked.text
    response = await client.post("/oauth/token", data=form(registered))
    assert_oauth_error(response, 401, "invalid_client")


async def test_wrong_basic_credentials_get_a_basic_challenge(
    client: httpx.AsyncClient, registered: dict[str, str]
) -> None:
    response = await basic_request(client, basic(registered["client_id"], "wrong"))
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_malformed_basic_credentials(client: httpx.AsyncClient) -> None:
    response = await basic_request(client, {"Authorization": "Basic %%%not-base64"})
    assert_oauth_error(response, 401, "invalid_client")


# ---------------------------------------------------------------------------------------------------
# invalid_request / unsupported_grant_type (400)
# ---------------------------------------------------------------------------------------------------


async def test_missing_grant_type(client: httpx.AsyncClient, registered: dict[str, str]) -> None:
    data = form(registered)
    del data["grant_type"]
    assert_oauth_error(await client.post("/oauth/token", data=data), 400, "invalid_request")


@pytest.mark.parametrize(
    "grant_type", ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"]
)
async def test_unsupported_grant_type(
    client: httpx.AsyncClient, registered: dict[str, str], grant_type: str
) -> None:
    response = await client.post("/oauth/token", data=form(registered, grant_type=grant_type))
    assert_oauth_error(response, 400, "unsupported_grant_type")


async def test_basic_and_form_credentials_together(
    client: httpx.AsyncClient, registered: dict[str, str]
) -> None:
    credentials = basic(registered["client_id"], registered["client_secret"])
    response = await basic_request(client, credentials, form(registered))
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_json_body_is_not_a_token_request(
    client: httpx.AsyncClient, registered: dict[str, str]
) -> None:
    # RFC 6749 section 4.4.2: the parameters are form-encoded; a JSON body carries none of them.
    response = await client.post("/oauth/token", json=form(registered))
    assert_oauth_error(response, 400, "invalid_request")


async def test_no_client_authentication_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("repeated", "description"),
    [
        (b"grant_type=password", "Repeated parameter(s): grant_type."),
        # One of the caller's own making is not named: an error does not echo what the caller sent.
        (b"jane_doe_1970=a&jane_doe_1970=b", "A parameter is repeated."),
    ],
)
async def test_a_repeated_parameter_is_an_invalid_request(
    client: httpx.AsyncClient, repeated: bytes, description: str
) -> None:
    response = await client.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&client_id=x&client_secret=y&" + repeated,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


async def test_no_connection_is_held_while_the_secret_is_verified(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # argon2 takes tens of milliseconds of CPU; a pooled connection (or SQLite's write lock) held
    # through it starves other requests. Record how many connections are out during each check.
    pool = app.state.engine.sync_engine.pool
    checked_out: list[int] = []

    class Watched(SecretHasher):
        async def verify(self, secret_hash: str | None, secret: str) -> bool:
            checked_out.append(pool.checkedout())
            return await super().verify(secret_hash, secret)

    app.state.hasher.__class__ = Watched
    created = await client.post(
        "/v1/clients", json={"name": "Police", "agency": "police", "role": "partner_referrer"}, headers=admin
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": created.json()["client_id"],
        "client_secret": created.json()["client_secret"],
    }
    # One at a time, so that the count is this request's own.
    for _ in range(3):
        assert (await client.post("/oauth/token", data=form)).status_code == 200
    assert checked_out == [0, 0, 0]
