"""Bearer tokens: every way a token can be missing, malformed, forged or out of bounds is a 401.

Tokens are built by hand (``hmac``/``cryptography``, see ``test_jwks.py``), so the tests can produce
headers and claims that python-jose would refuse to create. A hand-built token with good claims is
accepted first (``test_a_hand_built_token_with_good_claims_is_accepted``): every rejection below is
then caused by the one thing each test changes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.core.scopes import AgencyCode, Role
from app.core.tokens import VERIFIED_TOKENS_KEPT, TokenService
from app.main import create_app
from tests.conftest import TEST_SECRET, make_settings
from tests.fixtures.callers import TokenFactory
from tests.fixtures.cli import mash
from tests.fixtures.clients import token_form
from tests.fixtures.http import assert_problem
from tests.fixtures.tokens import (
    IDP_ISSUER,
    LOCAL_HEADER,
    Idp,
    assert_invalid_token,
    assert_police_partner,
    b64url,
    bearer,
    http_for,
    idp_claims,
    local_claims,
    local_token,
    new_rsa_key,
    public_pem,
    sign_hs256,
    sign_rs256,
    unsigned,
)


def assert_not_authenticated(response: httpx.Response) -> None:
    """No usable credentials at all: RFC 6750 section 3.1 says no error code in the challenge."""
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == 'Bearer realm="mash-api"'


# ---------------------------------------------------------------------------------------------------
# Baseline
# ---------------------------------------------------------------------------------------------------


async def test_a_hand_built_token_with_good_claims_is_accepted(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/v1/me", headers=bearer(local_token(settings)))
    assert_police_partner(response, "user-1")


async def test_an_issued_token_is_accepted(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.get("/v1/me", headers=auth(Role.AUDITOR, AgencyCode.HEALTH, sub="auditor-9"))
    assert response.status_code == 200
    assert response.json()["sub"] == "auditor-9"


# ---------------------------------------------------------------------------------------------------
# No usable credentials
# ---------------------------------------------------------------------------------------------------


async def test_no_authorization_header(client: httpx.AsyncClient) -> None:
    assert_not_authenticated(await client.get("/v1/me"))


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Token abc.def.ghi", id="token"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer    ", id="bearer-blank"),
        pytest.param("", id="empty"),
    ],
)
async def test_not_a_bearer_token(client: httpx.AsyncClient, authorization: str) -> None:
    assert_not_authenticated(await client.get("/v1/me", headers={"Authorization": authorization}))


# ---------------------------------------------------------------------------------------------------
# Not a JWT, or not signed by us
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJIUzI1NiJ9",
        b64url(b"[1,2]") + "." + b64url(b"{}") + ".sig",  # header is not an object
        b64url(b'{"alg":"HS256","typ":"at+jwt"}') + "." + b64url(b"[]") + ".sig",  # payload not an object
    ],
)
async def test_garbage_is_rejected(client: httpx.AsyncClient, token: str) -> None:
    assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


async def test_wrong_signature(client: httpx.AsyncClient, settings: Settings) -> None:
    forged = sign_hs256(
        LOCAL_HEADER, local_claims(settings), b"another-secret-that-is-long-enough-0123456789"
    )
    assert_invalid_token(await client.get("/v1/me", headers=bearer(forged)))


async def test_tampered_payload(client: httpx.AsyncClient, settings: Settings) -> None:
    header, _, signature = local_token(settings).split(".")
    elevated = local_token(settings, local_claims(settings, role="admin", scope="admin")).split(".")[1]
    assert_invalid_token(await client.get("/v1/me", headers=bearer(f"{header}.{elevated}.{signature}")))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
@pytest.mark.parametrize("kid", [None, "mash-hs256"])
async def test_alg_none(client: httpx.AsyncClient, settings: Settings, alg: str, kid: str | None) -> None:
    header = {"alg": alg, "typ": "at+jwt"} | ({"kid": kid} if kid else {})
    assert_invalid_token(await client.get("/v1/me", headers=bearer(unsigned(header, local_claims(settings)))))


@pytest.mark.parametrize("kid", [None, "idp-rsa-1", "mash-hs256"])
async def test_hs_rs_algorithm_swap(
    idp_client: httpx.AsyncClient, settings: Settings, idp: Idp, kid: str | None
) -> None:
    # The classic confusion attack: HMAC-sign with the IdP's *public* key as the secret, hoping the
    # verifier picks the key by kid and the algorithm from the header. Claims are the IdP's.
    assert (await idp_client.get("/v1/me", headers=bearer(idp.rs256()))).status_code == 200
    header = {"alg": "HS256", "typ": "at+jwt"} | ({"kid": kid} if kid else {})
    for claims in (idp_claims(), local_claims(settings)):
        forged = sign_hs256(header, claims, public_pem(idp.rsa_key))
        assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(forged)))


async def test_rs256_without_a_configured_jwks(client: httpx.AsyncClient, settings: Settings) -> None:
    head = {"alg": "RS256", "typ": "at+jwt", "kid": "mash-hs256"}
    for claims in (local_claims(settings), idp_claims()):
        token = sign_rs256(head, claims, new_rsa_key())
        assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


async def test_rs256_signed_by_an_attacker_with_the_idps_kid(idp_client: httpx.AsyncClient, idp: Idp) -> None:
    forged = sign_rs256({"alg": "RS256", "typ": "at+jwt", "kid": idp.rsa_kid}, idp_claims(), new_rsa_key())
    assert_invalid_token(await idp_client.get("/v1/me", headers=bearer(forged)))


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "PS256", "ES256"])
async def test_other_algorithms_with_our_kid(client: httpx.AsyncClient, settings: Settings, alg: str) -> None:
    # Even HMAC with our own secret: the algorithm is fixed per key, never taken from the header.
    head = {"alg": alg, "typ": "at+jwt", "kid": "mash-hs256"}
    data = unsigned(head, local_claims(settings)).rstrip(".")
    digest = hashlib.sha512 if alg == "HS512" else hashlib.sha384
    mac = hmac.new(settings.jwt_secret.get_secret_value().encode(), data.encode(), digest).digest()
    assert_invalid_token(await client.get("/v1/me", headers=bearer(f"{data}.{b64url(mac)}")))


# ---------------------------------------------------------------------------------------------------
# Correctly signed, wrong claims
# ---------------------------------------------------------------------------------------------------


async def test_wrong_audience(client: httpx.AsyncClient, settings: Settings) -> None:
    for aud in ("another-api", ["another-api"], ""):
        token = local_token(settings, local_claims(settings, aud=aud))
        assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


async def test_wrong_issuer(client: httpx.AsyncClient, settings: Settings) -> None:
    for iss in ("someone-else", IDP_ISSUER, ""):
        token = local_token(settings, local_claims(settings, iss=iss))
        assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


async def test_expired_beyond_the_leeway(client: httpx.AsyncClient, settings: Settings) -> None:
    now = int(time.time())
    expired = local_claims(settings, iat=now - 900, nbf=now - 900, exp=now - settings.jwt_leeway_seconds - 60)
    assert_invalid_token(await client.get("/v1/me", headers=bearer(local_token(settings, expired))))


async def test_expired_within_the_leeway_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    # Clock skew between servers: a token expired a few seconds ago (less than jwt_leeway_seconds) is fine.
    assert settings.jwt_leeway_seconds >= 20
    now = int(time.time())
    token = local_token(settings, local_claims(settings, iat=now - 900, nbf=now - 900, exp=now - 5))
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 200


async def test_a_token_used_before_stops_working_when_it_expires(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # Each service process remembers the tokens it has verified; expiry must still be checked each time.
    now = int(time.time())
    token = local_token(
        settings,
        local_claims(settings, iat=now - 900, nbf=now - 900, exp=now - settings.jwt_leeway_seconds + 2),
    )
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 200
    await asyncio.sleep(now + 3 - time.time())  # into the second after the leeway ends
    response = await client.get("/v1/me", headers=bearer(token))
    assert_invalid_token(response)
    assert "expired" in response.json()["detail"]


async def test_the_tokens_a_process_remembers_are_bounded(settings: Settings) -> None:
    tokens = TokenService(settings)
    issued = [
        tokens.issue(sub=f"user-{n}", agency=AgencyCode.POLICE, role=Role.PARTNER_REFERRER).access_token
        for n in range(VERIFIED_TOKENS_KEPT + 10)
    ]
    for token in issued:
        assert (await tokens.verify(token)).sub.startswith("user-")
    # The oldest were forgotten (and verify in full again); the newest are still remembered.
    assert len(tokens._verified) == VERIFIED_TOKENS_KEPT
    assert issued[0] not in tokens._verified and issued[-1] in tokens._verified
    assert (await tokens.verify(issued[0])).sub == "user-0"


async def test_not_yet_valid(client: httpx.AsyncClient, settings: Settings) -> None:
    later = int(time.time()) + 3600
    token = local_token(settings, local_claims(settings, nbf=later, iat=later, exp=later + 600))
    assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


@pytest.mark.parametrize("claim", ["jti", "sub", "exp", "iat", "aud", "iss"])
async def test_missing_required_claim(client: httpx.AsyncClient, settings: Settings, claim: str) -> None:
    token = local_token(settings, local_claims(settings, **{claim: None}))
    assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": ""}, id="empty-sub"),
        pytest.param({"jti": ""}, id="empty-jti"),
        pytest.param({"sub": 42}, id="numeric-sub"),
        # Wider than the column that records who acted: refused at the door, not a 500 on the first write.
        pytest.param({"sub": "s" * 256}, id="sub-too-long"),
        pytest.param({"sub": "user\n1"}, id="sub-with-a-line-break"),
        pytest.param({"exp": "tomorrow"}, id="exp-not-a-number"),
        pytest.param({"exp": float("inf")}, id="exp-infinite"),
        pytest.param({"scope": ["referrals:read"]}, id="scope-not-a-string"),
        pytest.param({"client_id": "not-a-uuid"}, id="client-id-not-a-uuid"),
        pytest.param({"client_id": str(uuid.uuid4())}, id="client-id-not-registered"),
    ],
)
async def test_malformed_claims(
    client: httpx.AsyncClient, settings: Settings, claims: dict[str, Any]
) -> None:
    token = local_token(settings, local_claims(settings, **claims))
    assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


# ---------------------------------------------------------------------------------------------------
# Time claims: numbers, not issued ahead of our clock, and no longer-lived than MASH_MAX_TOKEN_LIFETIME
# ---------------------------------------------------------------------------------------------------

YEAR = 365 * 24 * 3600
# The time claims of a test's token, made from "now" when the test runs (not when it is collected:
# a long run would otherwise turn "five minutes ahead" into the past).
Times = Callable[[int], dict[str, Any]]


def issued(now: int, **overrides: Any) -> dict[str, Any]:
    """exp, iat and nbf of a token issued ``now`` for ten minutes, with ``overrides``."""
    return {"iat": now, "nbf": now, "exp": now + 600, **overrides}


BAD_TIMES = [
    pytest.param(lambda now: issued(now, exp=str(now + 600)), "must be numbers", id="exp-a-numeric-string"),
    pytest.param(
        lambda now: issued(now, exp="9999999999"), "must be numbers", id="exp-9999999999-as-a-string"
    ),
    pytest.param(lambda now: issued(now, iat=str(now)), "must be numbers", id="iat-a-numeric-string"),
    pytest.param(lambda now: issued(now, nbf=str(now)), "must be numbers", id="nbf-a-numeric-string"),
    pytest.param(lambda now: issued(now, nbf=True), "must be numbers", id="nbf-a-boolean"),
    pytest.param(
        lambda now: issued(now, iat=now + YEAR, nbf=None, exp=now + YEAR + 600),
        "in the future",
        id="iat-a-year-ahead",
    ),
    pytest.param(
        lambda now: issued(now, iat=now + 300, nbf=None, exp=now + 900),
        "in the future",
        id="iat-five-minutes-ahead",
    ),
    pytest.param(lambda now: issued(now, exp=now + 10 * YEAR), "lifetime", id="ten-year-lifetime"),
    pytest.param(lambda now: issued(now, exp=now + 86_401), "lifetime", id="a-day-and-a-second"),
    pytest.param(
        lambda now: issued(now, iat=now - 2 * YEAR, nbf=None, exp=now + 600),
        "lifetime",
        id="issued-two-years-ago-still-valid",
    ),
]


@pytest.mark.parametrize(("times", "said"), BAD_TIMES)
async def test_time_claims_that_are_not_numbers_ahead_or_too_long_lived(
    client: httpx.AsyncClient, settings: Settings, times: Times, said: str
) -> None:
    token = local_token(settings, local_claims(settings, **times(int(time.time()))))
    response = await client.get("/v1/me", headers=bearer(token))
    assert_invalid_token(response)
    assert said in response.json()["detail"]


@pytest.mark.parametrize(
    "times",
    [
        pytest.param(lambda now: issued(now, iat=now + 10, nbf=None), id="iat-ahead-within-the-leeway"),
        pytest.param(lambda now: issued(now, exp=now + 86_400), id="lifetime-exactly-the-cap"),
        pytest.param(lambda now: issued(now, iat=now + 0.5, exp=now + 600.5), id="fractional-seconds"),
    ],
)
async def test_time_claims_within_the_bounds_are_accepted(
    client: httpx.AsyncClient, settings: Settings, times: Times
) -> None:
    token = local_token(settings, local_claims(settings, **times(int(time.time()))))
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 200


async def test_the_lifetime_cap_is_a_setting(database_url: str) -> None:
    settings = make_settings(database_url, max_token_lifetime=900, access_token_ttl_seconds=900)
    application = create_app(settings)
    async with http_for(application) as http:
        now = int(time.time())
        short = local_token(settings, local_claims(settings, **issued(now, exp=now + 900)))
        assert (await http.get("/v1/me", headers=bearer(short))).status_code == 200
        longer = local_token(settings, local_claims(settings, **issued(now, exp=now + 901)))
        response = await http.get("/v1/me", headers=bearer(longer))
        assert_invalid_token(response)
        assert "900 seconds" in response.json()["detail"]
    await application.state.engine.dispose()


def test_issued_tokens_cannot_outlive_the_cap(database_url: str) -> None:
    with pytest.raises(ValueError, match="MASH_MAX_TOKEN_LIFETIME"):
        make_settings(database_url, max_token_lifetime=600, access_token_ttl_seconds=3600)


def test_mash_token_refuses_a_ttl_above_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_JWT_SECRET", TEST_SECRET)
    refused = mash("token", "--agency", "police", "--role", "partner_referrer", "--ttl", "86401")
    assert refused.exit_code == 2
    assert "MASH_MAX_TOKEN_LIFETIME (86400 seconds)" in refused.stderr
    assert not refused.stdout

    monkeypatch.setenv("MASH_MAX_TOKEN_LIFETIME", "7200")
    assert mash("token", "--agency", "police", "--role", "partner_referrer", "--ttl", "7201").exit_code == 2
    issued = mash("token", "--agency", "police", "--role", "partner_referrer", "--ttl", "7200")
    assert issued.exit_code == 0, issued.stderr
    payload = issued.stdout.strip().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - claims["iat"] == 7200


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "id+jwt", "at+jwt "])
async def test_typ_must_be_at_jwt(client: httpx.AsyncClient, settings: Settings, typ: str | None) -> None:
    assert_invalid_token(await client.get("/v1/me", headers=bearer(local_token(settings, typ=typ))))


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("partner_referrer", "referrals:create admin"),
        ("partner_referrer", "referrals:write"),
        ("admin", "admin referrals:read"),
        ("auditor", "audit:read reports:read people:read"),
        ("mash_practitioner", "decisions:approve"),
    ],
)
async def test_scope_beyond_the_role(
    client: httpx.AsyncClient, settings: Settings, role: str, scope: str
) -> None:
    claims = local_claims(settings, agency="childrens_social_care", role=role, scope=scope)
    assert_invalid_token(await client.get("/v1/me", headers=bearer(local_token(settings, claims))))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"role": "superuser"}, id="unknown-role"),
        pytest.param({"role": None}, id="no-role"),
        pytest.param({"role": "ADMIN", "scope": "admin"}, id="role-wrong-case"),
        pytest.param({"agency": "mi6"}, id="unknown-agency"),
        pytest.param({"agency": None}, id="no-agency"),
        pytest.param({"agency": ["police"]}, id="agency-list"),
    ],
)
async def test_unknown_role_or_agency(
    client: httpx.AsyncClient, settings: Settings, claims: dict[str, Any]
) -> None:
    token = local_token(settings, local_claims(settings, **claims))
    assert_invalid_token(await client.get("/v1/me", headers=bearer(token)))


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"jku": "https://evil.example.test/jwks"}, id="jku"),
        pytest.param({"x5u": "https://evil.example.test/cert.pem"}, id="x5u"),
        pytest.param({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}, id="jwk"),
        pytest.param({"x5c": ["MIIB"]}, id="x5c"),
        pytest.param({"crit": ["exp"]}, id="crit"),
        pytest.param({"enc": "A256GCM"}, id="enc"),
        pytest.param({"zip": "DEF"}, id="zip"),
    ],
)
async def test_header_parameters_that_are_refused(
    client: httpx.AsyncClient, settings: Settings, extra: dict[str, Any]
) -> None:
    # Correctly signed with our secret: the header itself is the reason for the 401.
    assert_invalid_token(await client.get("/v1/me", headers=bearer(local_token(settings, **extra))))


@pytest.mark.parametrize("kid", ["other-key", "idp-rsa-1"])
async def test_hs256_with_an_unknown_kid(client: httpx.AsyncClient, settings: Settings, kid: str) -> None:
    assert_invalid_token(await client.get("/v1/me", headers=bearer(local_token(settings, kid=kid))))


# ---------------------------------------------------------------------------------------------------
# Revocation
# ---------------------------------------------------------------------------------------------------


async def test_a_revoked_clients_token_stops_working_at_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/v1/clients",
        headers=admin,
        json={"name": "Police PPU", "agency": "police", "role": "partner_referrer"},
    )
    assert created.status_code == 201, created.text
    credentials = created.json()
    issued = await client.post("/oauth/token", data=token_form(credentials))
    assert issued.status_code == 200, issued.text
    token = bearer(issued.json()["access_token"])
    assert (await client.get("/v1/me", headers=token)).status_code == 200

    revoked = await client.post(
        f"/v1/clients/{credentials['client_id']}/revocation", headers=admin, json={"reason": "secret leaked"}
    )
    assert revoked.status_code == 200, revoked.text

    response = await client.get("/v1/me", headers=token)
    assert_invalid_token(response)
    assert "revoked" in response.json()["detail"]
