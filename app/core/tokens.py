"""Every line of JWT handling lives here, so the library (python-jose) can be swapped in one place.

Hardening, because JWT libraries trust too much by default:
- the algorithm is fixed per key and never read from the token to choose a key type: our own tokens
  are HS256 with the configured secret, an identity provider's are RS256/ES256 with a key from its
  JWKS, matched by ``kid`` and by the key's own type;
- ``aud``, ``iss``, ``exp``, ``iat``, ``sub`` and ``jti`` are required and verified; ``typ`` must be
  ``at+jwt`` (RFC 9068), so an ID token or other JWT cannot be replayed as an access token;
- the time claims must be JSON numbers (python-jose takes ``int()`` of a string), ``iat`` may not be
  ahead of our clock by more than the leeway, and ``exp - iat`` may not exceed
  ``MASH_MAX_TOKEN_LIFETIME``: a careless identity provider cannot mint a ten-year token;
- header parameters that point at keys (``jku``, ``x5u``, ``jwk``) and ``crit`` extensions are
  refused rather than ignored; encrypted tokens (JWE) are not accepted.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from jose import jwk, jwt
from jose.exceptions import JOSEError

from app.core.config import Settings
from app.core.schemas import MAX_SUB_LENGTH, SINGLE_LINE
from app.core.scopes import ROLE_SCOPES, AgencyCode, Role, role_agency_problem

ACCESS_TOKEN_TYPE = "at+jwt"
EXTERNAL_TOKEN_TYPES = frozenset({"at+jwt", "JWT"})
LOCAL_ALGORITHM = "HS256"
LOCAL_KEY_ID = "mash-hs256"
# The only asymmetric algorithms accepted, each bound to the key type that can verify it.
_KEY_TYPE_ALGORITHMS = {("RSA", None): "RS256", ("EC", "P-256"): "ES256"}
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit", "enc", "zip"})
_REQUIRED = {f"require_{claim}": True for claim in ("aud", "iss", "exp", "iat", "sub", "jti")}
# How many of our own tokens a process remembers as verified (see TokenService.verify); about 2 MB.
VERIFIED_TOKENS_KEPT = 4096
_EXPIRED = "the token has expired"


class TokenError(Exception):
    """The token cannot be trusted. The message is safe to show to the caller."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    sub: str
    agency: AgencyCode
    role: Role
    scopes: frozenset[str]
    jti: str
    client_id: uuid.UUID | None
    expires_at: int
    external: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class TokenService:
    def __init__(self, settings: Settings, jwks: JwksCache | None = None) -> None:
        self._settings = settings
        self._secret = settings.jwt_secret.get_secret_value()
        self._jwks = jwks
        # Our own tokens that verified, by their exact text, oldest first.
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self,
        *,
        sub: str,
        agency: AgencyCode,
        role: Role,
        scopes: frozenset[str] | None = None,
        client_id: uuid.UUID | None = None,
        ttl_seconds: int | None = None,
    ) -> IssuedToken:
        mismatch = role_agency_problem(role, agency)
        if mismatch is not None:
            raise ValueError(mismatch)
        granted = ROLE_SCOPES[role] if scopes is None else scopes
        if not granted <= ROLE_SCOPES[role]:
            raise ValueError("scopes must be a subset of the role's scopes")
        ttl = ttl_seconds or self._settings.access_token_ttl_seconds
        if ttl > self._settings.max_token_lifetime:
            raise ValueError(f"the lifetime must be at most {self._settings.max_token_lifetime} seconds")
        now = int(time.time())
        scope = " ".join(sorted(granted))
        claims: dict[str, Any] = {
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
            "agency": str(agency),
            "role": str(role),
            "scope": scope,
        }
        if client_id is not None:
            claims["client_id"] = str(client_id)
        token = jwt.encode(
            claims,
            self._secret,
            algorithm=LOCAL_ALGORITHM,
            headers={"typ": ACCESS_TOKEN_TYPE, "kid": LOCAL_KEY_ID},
        )
        return IssuedToken(token, ttl, scope)

    async def verify(self, token: str) -> TokenClaims:
        """The claims of a token that can be trusted now; TokenError (safe to show) otherwise.

        A client sends the same token for its whole life, and verifying it (python-jose) was a third of
        ``GET /v1/me``'s CPU in process. So our own tokens are remembered by their exact text once verified:
        every check but expiry gives the same answer for the same text (the signature, the claims;
        ``iat`` and ``nbf`` only become more true), and expiry is checked on each use, as python-jose
        does it. Revocation is not a property of the token: ``app.core.auth`` asks the database on every
        request. An identity provider's tokens are verified each time: their key can leave its JWKS.
        """
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at >= int(time.time()) - self._settings.jwt_leeway_seconds:
                return known
            del self._verified[token]
            raise TokenError(_EXPIRED)
        claims = await self._verify(token)
        if not claims.external:
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = claims
        return claims

    async def _verify(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise TokenError("the token is not a well-formed JWT") from exc
        if _FORBIDDEN_HEADERS & header.keys():
            raise TokenError("the token header carries parameters this service does not accept")
        if any(not isinstance(header.get(name, ""), str) for name in ("alg", "kid", "typ")):
            # Compared with sets and used as dict keys below: a list here must be a 401, not a 500.
            raise TokenError("the token header's alg, kid and typ must be strings")
        alg = header.get("alg")
        kid = header.get("kid")
        if alg == LOCAL_ALGORITHM and kid in (None, LOCAL_KEY_ID):
            if header.get("typ") != ACCESS_TOKEN_TYPE:
                raise TokenError(f"the token type must be {ACCESS_TOKEN_TYPE}")
            key: Any = self._secret
            algorithm, issuer, external = LOCAL_ALGORITHM, self._settings.jwt_issuer, False
        elif self._jwks is not None and kid is not None and alg in _KEY_TYPE_ALGORITHMS.values():
            if header.get("typ") not in EXTERNAL_TOKEN_TYPES:
                raise TokenError("the token type is not an access token")
            key, algorithm = await self._jwks.key_for(kid)
            if alg != algorithm:
                raise TokenError("the token algorithm does not match its key")
            issuer, external = self._jwks.issuer, True
        else:
            raise TokenError("the token is signed with an algorithm or key this service does not accept")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._settings.jwt_audience,
                issuer=issuer,
                options={**_REQUIRED, "leeway": self._settings.jwt_leeway_seconds},
            )
        except JOSEError as exc:
            raise TokenError(_describe(exc)) from exc
        except (OverflowError, ValueError, TypeError) as exc:
            # e.g. an infinite exp in a correctly signed token: still not a token we can trust.
            raise TokenError("the token's time claims are not valid numbers") from exc
        _check_times(claims, self._settings)
        return _claims(claims, external=external)


def _check_times(claims: dict[str, Any], settings: Settings) -> None:
    """What python-jose leaves unchecked about ``exp``, ``iat`` and ``nbf`` (it accepts any value
    ``int()`` takes, and an ``iat`` of any age or in the future)."""
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TokenError("the token's exp, iat and nbf claims must be numbers of seconds since the epoch")
    if claims["iat"] > time.time() + settings.jwt_leeway_seconds:
        raise TokenError("the token's issue time (iat) is in the future")
    if claims["exp"] - claims["iat"] > settings.max_token_lifetime:
        raise TokenError(
            f"the token's lifetime (exp - iat) is longer than the {settings.max_token_lifetime} seconds "
            "this service accepts"
        )


def _describe(exc: JOSEError) -> str:
    name = type(exc).__name__
    if name == "ExpiredSignatureError":
        return _EXPIRED
    if name == "JWTClaimsError":
        return "the token's audience, issuer or required claims are not valid for this service"
    return "the token signature is not valid"


def _claims(claims: dict[str, Any], *, external: bool) -> TokenClaims:
    try:
        agency = AgencyCode(claims["agency"])
        role = Role(claims["role"])
    except (KeyError, ValueError) as exc:
        raise TokenError("the token does not carry a known agency and role") from exc
    mismatch = role_agency_problem(role, agency)
    if mismatch is not None:
        # Visibility follows the agency: a hub role in a partner agency (or a partner's role in a lead
        # agency) would read one side's records with another's rights. Invalid whoever signed it.
        raise TokenError(mismatch)
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise TokenError("the token's scope claim must be a space-separated string")
    scopes = frozenset(scope.split())
    if not scopes <= ROLE_SCOPES[role]:
        raise TokenError("the token claims scopes its role does not carry")
    client_id = None
    # Only our own tokens name one of our clients (checked for revocation on every request). An
    # identity provider's client_id (required by RFC 9068) names a client registered there, not here.
    if not external and "client_id" in claims:
        try:
            client_id = uuid.UUID(str(claims["client_id"]))
        except ValueError as exc:
            raise TokenError("the token's client_id is not valid") from exc
    sub, jti = claims["sub"], claims["jti"]
    if not isinstance(sub, str) or not sub or not isinstance(jti, str) or not jti:
        raise TokenError("the token's sub and jti must be non-empty strings")
    if len(sub) > MAX_SUB_LENGTH or re.fullmatch(SINGLE_LINE, sub) is None:
        # Every record keeps who acted in a column of this width, and logs show it: refuse here
        # rather than fail there (or let a control character into a log line).
        raise TokenError("the token's sub is too long or holds control characters")
    return TokenClaims(
        sub=sub,
        agency=agency,
        role=role,
        scopes=scopes,
        jti=jti,
        client_id=client_id,
        expires_at=int(claims["exp"]),
        external=external,
    )


class JwksCache:
    """Public keys of an external identity provider, fetched from its JWKS URL and cached.

    An unknown ``kid`` triggers a refresh (keys rotate), but at most once per
    ``jwks_min_refresh_seconds``, so tokens with made-up key ids cannot hammer the provider.
    """

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        if not (settings.jwks_url and settings.jwks_issuer):
            raise ValueError("a JWKS cache needs jwks_url and jwks_issuer")
        self.url = settings.jwks_url
        self.issuer = settings.jwks_issuer
        self._ttl = settings.jwks_cache_seconds
        self._min_refresh = settings.jwks_min_refresh_seconds
        self._http = http
        self._keys: dict[str, tuple[Any, str]] = {}
        self._fetched_at = float("-inf")  # last successful fetch: the cache's age
        self._attempted_at = float("-inf")  # last fetch, successful or not: the refresh rate limit
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> tuple[Any, str]:
        now = time.monotonic()
        stale = now - self._fetched_at > self._ttl
        may_refresh = now - self._attempted_at > self._min_refresh
        if may_refresh and (stale or kid not in self._keys):
            await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenError("the token's key id is not published by the identity provider") from None

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._attempted_at <= self._min_refresh:
                return  # another request refreshed (or tried to) while we waited
            # Failures count too: while the provider is down or slow, requests must not queue up
            # behind one fetch (and its timeout) each.
            self._attempted_at = time.monotonic()
            try:
                if self._http is None:
                    async with httpx.AsyncClient(timeout=5.0) as http:
                        response = await http.get(self.url)
                else:
                    response = await self._http.get(self.url)
                response.raise_for_status()
                document = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                if self._keys:
                    return  # keep serving the keys we have; the provider may be briefly down
                raise TokenError("the identity provider's keys are unavailable") from exc
            self._keys = dict(_parse_jwks(document))
            self._fetched_at = time.monotonic()


def _parse_jwks(document: Any) -> list[tuple[str, tuple[Any, str]]]:
    """The usable signing keys of a JWKS document; anything malformed is skipped, never raised."""
    entries = document.get("keys") if isinstance(document, dict) else None
    keys = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        kty, crv = entry.get("kty"), entry.get("crv")
        if not isinstance(kty, str) or not isinstance(crv, str | None) or entry.get("use", "sig") != "sig":
            continue
        algorithm = _KEY_TYPE_ALGORITHMS.get((kty, crv))
        if algorithm is None or entry.get("alg", algorithm) != algorithm:
            continue  # unknown key type, or the key's declared algorithm is not the allowed one
        try:
            keys.append((entry["kid"], (jwk.construct(entry, algorithm), algorithm)))
        except (JOSEError, ValueError, TypeError, AttributeError):
            continue  # e.g. a missing or non-base64 modulus, or a point not on the curve
    return keys
