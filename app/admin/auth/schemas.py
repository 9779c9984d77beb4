from __future__ import annotations

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


class OAuthError(BaseModel):
    """RFC 6749 section 5.2 error body (the token endpoint does not use problem details)."""

    model_config = example({"error": "invalid_client", "error_description": "Client authentication failed."})

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope"]
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
