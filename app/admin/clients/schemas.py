from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.core.schemas import MULTI_LINE, Line200, RequestModel, ResponseModel, Sub, example
from app.core.scopes import AgencyCode, Role

Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=MULTI_LINE)]


class AgencyOut(ResponseModel):
    model_config = example({"code": "police", "name": "Police public protection"})

    code: AgencyCode
    name: Line200


class RegistrableRole(StrEnum):
    """The roles an administrator may give a client through the API. Hub, adult social care and
    information governance staff come from the identity provider, or from ``mash clients create`` on
    the server: an administrator cannot mint case access for itself."""

    PARTNER_REFERRER = Role.PARTNER_REFERRER.value
    AUDITOR = Role.AUDITOR.value


class ClientCreate(RequestModel):
    model_config = example({"name": "Police PPU case system", "agency": "police", "role": "partner_referrer"})

    name: Line200 = Field(description="What the partner system is.")
    agency: AgencyCode = Field(description="The agency the system acts for.")
    role: RegistrableRole = Field(
        description=(
            "The role its tokens carry; it decides their scopes. Through the API only `partner_referrer` "
            "(a partner agency's system) and `auditor`; other roles are registered on the server with "
            "`mash clients create`."
        )
    )


class ClientRegistration(RequestModel):
    """A client as the server's own command line registers it: any role its agency allows."""

    name: Line200
    agency: AgencyCode
    role: Role


class ClientUpdate(RequestModel):
    model_config = example({"name": "Police PPU case system (v2)"})

    name: Line200


class ClientRevocation(RequestModel):
    model_config = example({"reason": "Secret exposed in a support ticket"})

    reason: Reason = Field(description="Why the client is revoked.")


_CLIENT_EXAMPLE = {
    "client_id": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
    "name": "Police PPU case system",
    "agency": "police",
    "role": "partner_referrer",
    "created_at": "2026-11-23T09:30:00Z",
    "created_by": "admin@childrens_social_care",
    "updated_at": None,
    "active": True,
    "revoked_at": None,
    "revoked_by": None,
    "revocation_reason": None,
}


class ClientOut(ResponseModel):
    model_config = example(_CLIENT_EXAMPLE)

    client_id: uuid.UUID
    name: Line200
    agency: AgencyCode
    role: Role
    created_at: datetime
    created_by: Sub
    updated_at: datetime | None
    active: bool
    revoked_at: datetime | None
    revoked_by: Sub | None
    revocation_reason: Reason | None


class ClientCreated(ClientOut):
    model_config = example(
        {**_CLIENT_EXAMPLE, "client_secret": "mash_cs_9HkR2n0Qv7yXz-8bLq3Wm1sT4uVp6aEeF5gHjKcDdNo"}
    )

    client_secret: str | None = Field(
        max_length=128,
        pattern=r"^mash_cs_[A-Za-z0-9_-]+$",
        description=(
            "Shown only in this response; only a hash is stored. Keep it in a secret store. "
            "Null in an idempotent replay."
        ),
    )
