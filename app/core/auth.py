"""Who is calling: the bearer token is verified, the client checked for revocation, scopes enforced.

Routes declare what they need with the aliases at the bottom, e.g. ``principal: AdminPrincipal``.
The scopes are declared through ``Security`` so FastAPI writes them into each operation's OpenAPI
security requirement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes

from app.core import db
from app.core.context import RequestContext
from app.core.db import apply_context
from app.core.errors import InsufficientScope, InvalidToken, Unauthenticated, sqlstate
from app.core.ratelimit import verified_claims
from app.core.scopes import COUNCIL_AGENCIES, SCOPE_DESCRIPTIONS, AgencyCode, Role, Scope
from app.core.tokens import TokenError, TokenService
from app.models.base import table_columns
from app.models.client import Client


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: one agency, one role, the scopes its token carries."""

    sub: str
    agency: AgencyCode
    role: Role
    scopes: frozenset[str]
    client_id: uuid.UUID | None = None
    token_id: str | None = None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    # Which side's records the caller's agency decides on. Visibility follows the agency, and a token's
    # role is valid only in the agencies the contract allows it (app.core.scopes.ROLE_AGENCIES).

    @property
    def is_childrens_hub(self) -> bool:
        """Children's social care: sees every referral and what hangs off it."""
        return self.agency == AgencyCode.CHILDRENS_SOCIAL_CARE

    @property
    def is_adults_hub(self) -> bool:
        """Adult social care: sees every adult concern, enquiry, assessment and plan."""
        return self.agency == AgencyCode.ADULT_SOCIAL_CARE

    @property
    def is_council_wide(self) -> bool:
        """Sees across every agency (child-level returns, every agency's audit events): the two lead
        agencies and the council's corporate side; a partner agency sees its own and aggregates."""
        return self.agency in COUNCIL_AGENCIES


async def authenticate(request: Request) -> Principal:
    """The caller of every operation that takes a token (``requires``, ``requires_any``, ``Authenticated``,
    ``idempotent(...)`` all depend on it); ``public`` marks the few that take none."""
    context = RequestContext.of(request)
    if context.principal is not None:
        return context.principal  # an operation with several authorised dependencies
    authorization = request.headers.get("Authorization")
    if not authorization:
        raise Unauthenticated("This operation requires an access token.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the access token as `Authorization: Bearer <token>`.")
    tokens: TokenService = request.app.state.tokens
    # The rate limiter has usually verified this token already, to know whose budget to count.
    claims = verified_claims(context, token.strip())
    if claims is None:
        try:
            claims = await tokens.verify(token.strip())
        except TokenError as exc:
            raise InvalidToken(f"Invalid access token: {exc}.") from exc
    principal = Principal(
        sub=claims.sub,
        agency=claims.agency,
        role=claims.role,
        scopes=claims.scopes,
        client_id=claims.client_id,
        token_id=claims.jti,
    )
    # Set first: the request's transactions carry the caller's database context (row-level security)
    # from their BEGIN, and on PostgreSQL the check of its client too (``app.core.db``), so a revoked
    # client's request fails at its first statement, before it has read or written anything.
    context.principal = principal
    if context.session is not None:
        await apply_context(context.session)  # a transaction begun before authentication (none today)
    engine = request.app.state.engine
    if claims.client_id is not None and not db.begins_with_client_check(engine, context.session):
        await confirm_client(request)
    return principal


# The SQLSTATE of ``mash_client_check`` (migration 20261206_client_check): the client is revoked.
REVOKED_SQLSTATE = "MA401"
REVOKED_DETAIL = "Invalid access token: the client has been revoked."
# SQLite's rule, built once (building it cost almost half as much CPU as running it); PostgreSQL's is
# ``mash_client_check`` (it raises REVOKED_SQLSTATE).
_CLIENTS = table_columns(Client)
_REVOKED_AT = sa.select(_CLIENTS.revoked_at).where(_CLIENTS.id == sa.bindparam("client_id"))


async def confirm_client(request: Request) -> None:
    """Refuse the request (``InvalidToken``) if its caller's client is revoked, unless that is known
    already. The route wrapper calls this before any answer leaves, so a request that sent no statement
    (``GET /v1/me``, or one refused before its first) is checked too."""
    if await client_confirmed(request):
        return
    context = RequestContext.of(request)
    assert context.principal is not None and context.principal.client_id is not None
    try:
        active = await _client_is_active(request, context.principal.client_id)
    except Exception as exc:
        refuse_if_revoked(request, exc)
        raise
    if not active:
        context.principal = None
        raise InvalidToken(REVOKED_DETAIL)
    context.client_confirmed = True


async def client_confirmed(request: Request) -> bool:
    """Whether the caller needs no (further) check: no client, checked once in this request already,
    or checked by the BEGIN of the transaction the request has open. Sends no statement."""
    context = RequestContext.of(request)
    principal = context.principal
    if principal is None or principal.client_id is None or context.client_confirmed:
        return True
    return context.session is not None and await db.client_checked(context.session, principal.client_id)


async def _client_is_active(request: Request, client_id: uuid.UUID) -> bool:
    engine = request.app.state.engine
    if engine.dialect.name == "postgresql":
        # ``mash_client_check`` alone on a pooled connection (it raises for a revoked client): a
        # transaction this request has open either began with the check or is one to roll back.
        await db.check_client_alone(engine, client_id)
        return True
    row = (await db.request_session(request).execute(_REVOKED_AT, {"client_id": client_id})).first()
    return row is not None and row.revoked_at is None


def refuse_if_revoked(request: Request, exc: BaseException) -> None:
    """Raise ``InvalidToken`` in place of ``exc`` when it is the database refusing a revoked client."""
    if sqlstate(exc) == REVOKED_SQLSTATE:
        RequestContext.of(request).principal = None
        raise InvalidToken(REVOKED_DETAIL) from None


class _Authorization(OAuth2):
    """The bearer scheme and the check of an operation's scopes, as one dependency: FastAPI writes the
    scheme and each operation's scopes into OpenAPI because this is a security scheme, and solves one
    dependency per request for it (``authenticate`` reads the token)."""

    async def __call__(  # type: ignore[override]  # FastAPI reads this signature, not OAuth2's
        self,
        security_scopes: SecurityScopes,
        principal: Annotated[Principal, Depends(authenticate)],
    ) -> Principal:
        missing = [s for s in security_scopes.scopes if s not in principal.scopes]
        if missing:
            raise InsufficientScope(missing)
        return principal


authorize = _Authorization(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=dict(SCOPE_DESCRIPTIONS))
    ),
    scheme_name="oauth2",
    description=(
        "OAuth 2.0 client credentials. Exchange a client's id and secret at POST /oauth/token for a "
        "bearer JWT and send it as `Authorization: Bearer <token>`. Tokens from the configured "
        "identity provider (RS256/ES256, verified against its JWKS) are accepted the same way. "
        "Token handling follows RFC8725 (JSON Web Token Best Current Practices): the algorithm is fixed "
        "per key, never taken from the token; `iss`, `aud`, `exp`, `iat`, `sub` and `jti` are required "
        "and verified; `typ` must be `at+jwt` (RFC 9068; the identity provider's may say `JWT`); `jku`, "
        "`x5u`, `jwk`, `crit` and encrypted tokens are refused. `exp`, `iat` and `nbf` must be numbers, "
        "`iat` not ahead of the service's clock, and no token may live (`exp` - `iat`) longer than the "
        "service's cap (24 hours by default). Access tokens live `expires_in` seconds "
        "(one hour by default); client credentials issue no refresh tokens (RFC 6749 section 4.4.3): "
        "ask for a new token instead."
    ),
    auto_error=False,
)


def requires(*scopes: Scope) -> Any:
    return Security(authorize, scopes=[str(s) for s in scopes])


def requires_any(*scopes: Scope) -> Any:
    """A dependency accepting a caller with at least one of ``scopes``.

    OpenAPI writes alternatives as separate security requirements; FastAPI cannot infer them, so
    routes using this pass ``openapi_extra=any_of_security(...)`` with the same scopes. It depends on
    ``authenticate`` but not on ``authorize``, for which FastAPI would add an empty requirement
    (``{"oauth2": []}``: any token at all) beside those alternatives.
    """

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not any(scope in principal.scopes for scope in scopes):
            raise InsufficientScope([str(s) for s in scopes], any_of=True)
        return principal

    check.any_of_scopes = frozenset(str(s) for s in scopes)  # type: ignore[attr-defined]  # read by tests
    return Depends(check)


async def public() -> None:
    """Declares an operation that takes no token: health, readiness, metrics, the problem pages and the
    token endpoint itself. Every other operation depends on ``authenticate``; ``tests/core/test_routes.py``
    fails on an operation that does neither."""


# ``dependencies=[PUBLIC]`` on a route: public by declaration, never by omission.
PUBLIC = Depends(public)


def any_of_security(*scopes: Scope) -> dict[str, Any]:
    return {"security": [{authorize.scheme_name: [str(scope)]} for scope in scopes]}


Authenticated = Annotated[Principal, Security(authorize)]
AdminPrincipal = Annotated[Principal, requires(Scope.ADMIN)]
