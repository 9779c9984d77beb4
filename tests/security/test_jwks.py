"""Tokens from an external identity provider, verified against its JWKS served over real HTTP.

The JWKS server, key generation and hand-rolled JWS signing are in ``tests.fixtures.tokens``: tokens are
signed with ``cryptography`` directly, not with python-jose, so a mistake in how the service uses the
library cannot be mirrored by the tests.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.scopes import AgencyCode, Role
from tests.fixtures.http import serving
from tests.fixtures.servers import free_port
from tests.fixtures.tokens import (
    Idp,
    assert_invalid_token,
    assert_police_partner,
    b64url,
    bearer,
    ec_jwk,
    http_for,
    idp_claims,
    new_ec_key,
    new_rsa_key,
    rsa_jwk,
    sign_es256,
    sign_rs256,
    trusting,
)


@pytest.fixture
async def fast_refresh_client(database_url: str, idp: Idp) -> AsyncIterator[httpx.AsyncClient]:
    """The API trusting ``idp``, allowed to refresh the JWKS once a second."""
    async with serving(trusting(database_url, idp.server.url, jwks_min_refresh_seconds=1)) as http:
        yield http


# ---------------------------------------------------------------------------------------------------
# Accepted
# ---------------------------------------------------------------------------------------------------


async def test_rs256_token_from_the_idp_is_accepted(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    response = await idp_client.get("/v1/me", headers=bearer(idp.rs256()))
    assert_police_partner(response, "idp-user-42")


async def test_es256_token_from_the_idp_is_accepted(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    claims = idp_claims(
        sub="asc-worker-7", agency="adult_social_care", role="asc_manager", scope="adult_concerns:decide"
    )
    response = await idp_client.get("/v1/me", headers=bearer(idp.es256(claims)))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sub": "asc-worker-7",
        "agency": "adult_social_care",
        "role": "asc_manager",
        "scopes": ["adult_concerns:decide"],
    }


async def test_idp_token_with_an_rfc9068_client_id_is_accepted(
    idp: Idp, idp_client: httpx.AsyncClient
) -> None:
    # RFC 9068 requires client_id in access tokens; it names the IdP's client, not one registered here.
    for client_id in ("partner-portal", str(uuid.uuid4())):
        response = await idp_client.get("/v1/me", headers=bearer(idp.rs256(idp_claims(client_id=client_id))))
        assert response.status_code == 200, response.text


async def test_keys_are_cached_not_fetched_per_request(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await idp_client.get("/v1/me", headers=bearer(idp.rs256()))).status_code == 200
        assert (await idp_client.get("/v1/me", headers=bearer(idp.es256()))).status_code == 200
    assert idp.server.hits == 1


# ---------------------------------------------------------------------------------------------------
# Rejected
# ---------------------------------------------------------------------------------------------------


async def test_unknown_kid_is_rejected(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    response = await idp_client.get("/v1/me", headers=bearer(idp.rs256(kid="not-published")))
    assert_invalid_token(response)


async def test_unknown_kids_do_not_hammer_the_idp(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    for _ in range(5):
        response = await idp_client.get("/v1/me", headers=bearer(idp.rs256(kid=f"made-up-{uuid.uuid4()}")))
        assert_invalid_token(response)
    assert idp.server.hits == 1  # the first fetch; then at most one per jwks_min_refresh_seconds


async def test_token_signed_by_another_key_with_the_idps_kid_is_rejected(
    idp: Idp, idp_client: httpx.AsyncClient
) -> None:
    forged = sign_rs256({"alg": "RS256", "typ": "at+jwt", "kid": idp.rsa_kid}, idp_claims(), new_rsa_key())
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(forged)))
    forged = sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": idp.ec_kid}, idp_claims(), new_ec_key())
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(forged)))


async def test_algorithm_must_match_the_published_key_type(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    # An RSA signature under the EC key's kid (and the other way round) is refused before verifying.
    rsa_under_ec_kid = sign_rs256(
        {"alg": "RS256", "typ": "at+jwt", "kid": idp.ec_kid}, idp_claims(), idp.rsa_key
    )
    es_under_rsa_kid = sign_es256(
        {"alg": "ES256", "typ": "at+jwt", "kid": idp.rsa_kid}, idp_claims(), idp.ec_key
    )
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(rsa_under_ec_kid)))
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(es_under_rsa_kid)))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iss": "mash-api"}, id="our-own-issuer"),
        pytest.param({"iss": "https://evil.example.test"}, id="wrong-iss"),
        pytest.param({"aud": "another-api"}, id="wrong-aud"),
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
        pytest.param({"jti": None}, id="no-jti"),
        pytest.param({"role": "superuser"}, id="unknown-role"),
        pytest.param({"scope": "referrals:create admin"}, id="scope-beyond-role"),
    ],
)
async def test_idp_token_with_bad_claims_is_rejected(
    idp: Idp, idp_client: httpx.AsyncClient, claims: dict[str, Any]
) -> None:
    response = await idp_client.get("/v1/me", headers=bearer(idp.rs256(idp_claims(**claims))))
    assert_invalid_token(response)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
@pytest.mark.parametrize(
    ("claims", "said"),
    [
        pytest.param({"exp": "9999999999"}, "must be numbers", id="exp-a-string"),
        pytest.param({"iat": str(int(time.time()))}, "must be numbers", id="iat-a-string"),
        pytest.param({"nbf": str(int(time.time()))}, "must be numbers", id="nbf-a-string"),
        pytest.param(
            {"iat": int(time.time()) + 365 * 86400, "exp": int(time.time()) + 366 * 86400},
            "in the future",
            id="iat-a-year-ahead",
        ),
        pytest.param({"exp": int(time.time()) + 10 * 365 * 86400}, "lifetime", id="ten-year-lifetime"),
    ],
)
async def test_idp_token_with_bad_time_claims_is_rejected(
    idp: Idp, idp_client: httpx.AsyncClient, alg: str, claims: dict[str, Any], said: str
) -> None:
    sign = idp.rs256 if alg == "RS256" else idp.es256
    response = await idp_client.get("/v1/me", headers=bearer(sign(idp_claims(**claims))))
    assert_invalid_token(response)
    assert said in response.json()["detail"]


@pytest.mark.parametrize("typ", [None, "id+jwt", "secevent+jwt"])
async def test_idp_token_must_be_an_access_token(
    idp: Idp, idp_client: httpx.AsyncClient, typ: str | None
) -> None:
    head = {"alg": "RS256", "kid": idp.rsa_kid} | ({} if typ is None else {"typ": typ})
    token = sign_rs256(head, idp_claims(), idp.rsa_key)
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(token)))


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"kid": ["idp-rsa-1"]}, id="kid-list"),
        pytest.param({"typ": ["at+jwt"]}, id="typ-list"),
        pytest.param({"kid": {"id": 1}}, id="kid-object"),
    ],
)
async def test_malformed_header_values_are_a_401_not_a_500(
    idp: Idp, idp_client: httpx.AsyncClient, header: dict[str, Any]
) -> None:
    # A good token first, so the keys are cached and the malformed header reaches the cache lookup.
    assert (await idp_client.get("/v1/me", headers=bearer(idp.rs256()))).status_code == 200
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(idp.rs256(**header))))


# ---------------------------------------------------------------------------------------------------
# Rotation and outages
# ---------------------------------------------------------------------------------------------------


async def test_key_rotation_is_picked_up_after_the_min_refresh_interval(
    idp: Idp, fast_refresh_client: httpx.AsyncClient
) -> None:
    http = fast_refresh_client
    assert (await http.get("/v1/me", headers=bearer(idp.rs256()))).status_code == 200

    new_key = new_rsa_key()
    idp.server.document = {"keys": [rsa_jwk(new_key, "idp-rsa-2")]}
    await asyncio.sleep(1.2)  # past jwks_min_refresh_seconds=1

    rotated = sign_rs256({"alg": "RS256", "typ": "at+jwt", "kid": "idp-rsa-2"}, idp_claims(), new_key)
    response = await http.get("/v1/me", headers=bearer(rotated))
    assert response.status_code == 200, response.text
    assert idp.server.hits == 2
    # The withdrawn key is no longer trusted once the new set has been fetched.
    assert_invalid_token(await http.get("/v1/me", headers=bearer(idp.rs256())))


async def test_jwks_server_down_at_first_use_is_a_401(database_url: str) -> None:
    app = trusting(database_url, f"http://127.0.0.1:{free_port()}/jwks")
    try:
        async with http_for(app) as http:
            token = sign_rs256({"alg": "RS256", "typ": "at+jwt", "kid": "k"}, idp_claims(), new_rsa_key())
            assert_invalid_token(await http.get("/v1/me", headers=bearer(token)))
            # Our own tokens do not depend on the identity provider.
            issued = app.state.tokens.issue(sub="u", agency=AgencyCode.POLICE, role=Role.PARTNER_REFERRER)
            assert (await http.get("/v1/me", headers=bearer(issued.access_token))).status_code == 200
    finally:
        await app.state.engine.dispose()


@pytest.mark.parametrize(
    ("status", "document"),
    [
        pytest.param(500, {"error": "boom"}, id="http-500"),
        pytest.param(200, "not a jwks", id="not-an-object"),
        pytest.param(200, {"keys": 5}, id="keys-not-a-list"),
        pytest.param(
            200, {"keys": [{"kid": "idp-rsa-1", "kty": "RSA", "n": 5, "e": "AQAB"}]}, id="bad-modulus"
        ),
        pytest.param(200, {"keys": [{"kid": "idp-rsa-1", "kty": ["RSA"]}]}, id="kty-list"),
        pytest.param(
            200,
            {"keys": [{"kid": "idp-ec-1", "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AQAB"}]},
            id="off-curve",
        ),
    ],
)
async def test_broken_jwks_documents_are_a_401_not_a_500(
    idp: Idp, idp_client: httpx.AsyncClient, status: int, document: Any
) -> None:
    idp.server.status, idp.server.document = status, document
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(idp.rs256())))
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(idp.es256())))


async def test_unusable_jwks_entries_are_skipped(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    good = rsa_jwk(idp.rsa_key, idp.rsa_kid)
    idp.server.document = {
        "keys": [
            "junk",
            {"kid": "enc", **{k: v for k, v in good.items() if k != "kid"}, "use": "enc"},
            {**ec_jwk(idp.ec_key, idp.ec_kid), "alg": "ES512"},  # declared algorithm not the allowed one
            {"kid": "sym", "kty": "oct", "k": b64url(b"secret")},
            good,
        ]
    }
    assert (await idp_client.get("/v1/me", headers=bearer(idp.rs256()))).status_code == 200
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(idp.es256())))


async def test_failed_fetches_are_rate_limited(idp: Idp, idp_client: httpx.AsyncClient) -> None:
    idp.server.status = 503
    for _ in range(3):
        assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(idp.rs256())))
    assert idp.server.hits == 1  # an outage does not turn every request into a fetch (and its timeout)


async def test_tokens_are_accepted_once_the_idp_recovers(
    idp: Idp, fast_refresh_client: httpx.AsyncClient
) -> None:
    idp.server.status = 503
    assert_invalid_token(await fast_refresh_client.get("/v1/me", headers=bearer(idp.rs256())))

    idp.server.status = 200
    await asyncio.sleep(1.2)  # past jwks_min_refresh_seconds=1
    response = await fast_refresh_client.get("/v1/me", headers=bearer(idp.rs256()))
    assert response.status_code == 200, response.text
