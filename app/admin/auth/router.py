"""/oauth/token (client credentials grant) and /v1/me."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import Form, Request
from fastapi.responses import JSONResponse

from app.admin.auth.schemas import (
    MAX_OAUTH_DESCRIPTION,
    MAX_SECRET_LENGTH,
    Me,
    OAuthError,
    TokenRequest,
    TokenResponse,
)
from app.admin.auth.service import OAuthFailure, client_credentials_grant
from app.core.auth import PUBLIC, Authenticated
from app.core.db import DbSession
from app.core.openapi import problem_responses
from app.core.ratelimit import throttle_token_client
from app.core.routing import Router

router = Router()
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PARAMETERS = frozenset({"grant_type", "client_id", "client_secret", "scope"})


def _oauth_error(failure: OAuthFailure, *, basic_auth: bool) -> JSONResponse:
    headers = dict(_NO_STORE)
    if failure.status == 401 and basic_auth:
        headers["WWW-Authenticate"] = 'Basic realm="mash-api"'
    return JSONResponse(
        # Cut to the documented size: a repeated-parameter message names the caller's keys.
        {"error": failure.error, "error_description": failure.description[:MAX_OAUTH_DESCRIPTION]},
        status_code=failure.status,
        headers=headers,
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthFailure("invalid_client", "Malformed Basic credentials.", 401) from None
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before being joined.
    return unquote(client_id), unquote(secret)


@router.post(
    "/oauth/token",
    tags=["Authentication"],
    summary="Obtain an access token (OAuth 2.0 client credentials)",
    description=(
        "RFC 6749 section 4.4. Authenticate with `client_id` and `client_secret` form fields or with HTTP "
        "Basic. `scope` may ask for a subset of the client's role scopes. Errors use the OAuth error "
        "shape (`error`, `error_description`), not problem details, except the 429 `rate_limited` "
        "problem: this endpoint has two budgets per window, one per caller address and one per "
        "`client_id` asked about (whatever the address), and the `RateLimit-*` headers show the "
        "stricter."
    ),
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthError, "description": "invalid_request, unsupported_grant_type or invalid_scope"},
        401: {"model": OAuthError, "description": "invalid_client: unknown, wrong or revoked credentials"},
        **problem_responses(408, 413, 415),
    },
    dependencies=[PUBLIC],  # the token is what it hands out
)
async def issue_token(
    request: Request,
    session: DbSession,
    form: Annotated[TokenRequest, Form()],
) -> JSONResponse:
    basic = request.headers.get("authorization", "").lower().startswith("basic ")
    try:
        fields = await request.form()
        repeated = sorted({key for key, _ in fields.multi_items() if len(fields.getlist(key)) > 1})
        if repeated:
            # RFC 6749 section 3.2: parameters must not be included more than once. Only this grant's
            # own parameters are named: an error does not echo what the caller made up.
            named = [key for key in repeated if key in _PARAMETERS]
            detail = f"Repeated parameter(s): {', '.join(named)}." if named else "A parameter is repeated."
            raise OAuthFailure("invalid_request", detail)
        grant_type, client_id, client_secret = form.grant_type, form.client_id, form.client_secret
        if grant_type is None:
            raise OAuthFailure("invalid_request", "grant_type is required.")
        if grant_type != "client_credentials":
            raise OAuthFailure("unsupported_grant_type", "Only client_credentials is supported.")
        credentials = _basic_credentials(request)
        if credentials is not None and (client_id or client_secret):
            raise OAuthFailure("invalid_request", "Use either HTTP Basic or form credentials, not both.")
        if credentials is None:
            if not client_id or not client_secret:
                # RFC 6749 section 5.2: no client authentication at all is invalid_client.
                raise OAuthFailure("invalid_client", "Send client_id and client_secret, or HTTP Basic.", 401)
            credentials = (client_id, client_secret)
        refused = await throttle_token_client(request, credentials[0])
        if refused is not None:
            return refused  # 429: this client_id's budget is spent, whatever the caller's address
        if len(credentials[1]) > MAX_SECRET_LENGTH:
            # Longer than any secret this service issues: refused before argon2 spends time on it.
            raise OAuthFailure("invalid_client", "Client authentication failed.", 401)
        issued = await client_credentials_grant(
            session,
            request.app.state.hasher,
            request.app.state.tokens,
            credentials[0],
            credentials[1],
            form.scope,
        )
    except OAuthFailure as failure:
        return _oauth_error(failure, basic_auth=basic)
    body = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope)
    return JSONResponse(body.model_dump(), headers=_NO_STORE)


@router.get(
    "/v1/me",
    tags=["Authentication"],
    summary="Who the access token belongs to",
)
async def get_me(principal: Authenticated) -> Me:
    """The token's subject, agency, role and scopes, as the service reads them: a quick check that a token works."""
    return Me(
        sub=principal.sub, agency=principal.agency, role=principal.role, scopes=sorted(principal.scopes)
    )
