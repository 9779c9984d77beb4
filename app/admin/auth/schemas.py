from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from app.core.schemas import Sub, example
from app.core.scopes import AgencyCode, Role, Scope

# Every scope, space-separated, fits several times over.
MAX_SCOPE_LENGTH = 1_024
MAX_OAUTH_DESCRIPTION = 500
# Issued secrets are about 50 characters (app/core/passwords.py).
MAX_SECRET_LENGTH = 256


class TokenResponse(BaseModel):
    model_config = example(
        {
            "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6Im1hc2gtaHMyNTYiLCJ0eXAiOiJhdCtqd3QifQ...",
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "adult_concerns:create adult_concerns:read contributions:read",
        }
    )

    access_token: str = Field(max_length=4_096, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(ge=60, le=86_400, description="Seconds until the token expires.")
    scope: str = Field(
        max_length=MAX_SCOPE_LENGTH,
        pattern=r"^[a-z_:]+( [a-z_:]+)*$",
        description="The granted scopes, space-separated.",
    )


class TokenRequest(BaseModel):
    """The token request's form fields (`application/x-www-form-urlencoded`). Lengths are documented,
    not validated here: a value past them gets the OAuth error it earns (RFC 6749 section 5.2), never a
    problem+json 422."""

    grant_type: str | None = Field(None, examples=["client_credentials"], json_schema_extra={"maxLength": 64})
    client_id: str | None = Field(None, json_schema_extra={"maxLength": 64})
    client_secret: str | None = Field(None, json_schema_extra={"maxLength": MAX_SECRET_LENGTH})
    scope: str | None = Field(
        None,
        description="Space-separated subset of the role's scopes",
        json_schema_extra={"maxLength": MAX_SCOPE_LENGTH},
    )


class OAuthErrorCode(StrEnum):
    """RFC 6749 section 5.2 error codes the token endpoint answers."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INVALID_SCOPE = "invalid_scope"


class OAuthError(BaseModel):
    """RFC 6749 section 5.2 error body (the token endpoint does not use problem details)."""

    model_config = example({"error": "invalid_client", "error_description": "Client authentication failed."})

    error: OAuthErrorCode
    error_description: str = Field(max_length=MAX_OAUTH_DESCRIPTION)


class Me(BaseModel):
    model_config = example(
        {
            "sub": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
            "agency": "police",
            "role": "partner_referrer",
            "scopes": ["adult_concerns:create", "adult_concerns:read", "referrals:create"],
        }
    )

    sub: Sub
    agency: AgencyCode
    role: Role
    scopes: list[Scope] = Field(max_length=len(Scope))
