"""/v1/agencies and /v1/clients: the reference list of agencies, and partner-system clients."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request

from app.admin.clients import repository, service
from app.admin.clients.schemas import (
    AgencyOut,
    ClientCreate,
    ClientCreated,
    ClientOut,
    ClientRevocation,
    ClientUpdate,
)
from app.core.auth import AdminPrincipal, Authenticated, Principal, requires
from app.core.concurrency import Conditional, Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.idempotency import idempotent
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.routing import Router
from app.core.scopes import Scope

# The secret is never stored: a replay answers it as null.
AdminPrincipalOnce = Annotated[Principal, idempotent(requires(Scope.ADMIN), redact=("client_secret",))]
ActiveFilter = Annotated[bool | None, Query(description="Only active (true) or revoked (false) clients.")]
router = Router(prefix="/v1")


@router.get(
    "/agencies",
    tags=["Administration"],
    summary="List the agencies of the hub",
)
async def list_agencies(_: Authenticated, session: DbSession, paging: Paging) -> Page[AgencyOut]:
    """The agencies of the hub and their codes, as used in tokens, referrals and information requests."""
    agencies, next_cursor = await repository.list_agencies(session, paging.params)
    return paging.page([AgencyOut.model_validate(a) for a in agencies], next_cursor)


@router.post(
    "/clients",
    tags=["Administration"],
    summary="Register a partner system client",
    description=(
        "Registers a system that will obtain tokens with the client credentials grant. The secret is "
        "returned in this response only; the service keeps only an argon2id hash of it. The "
        "API registers partner systems (`partner_referrer`, in a partner agency) and auditors only: hub, "
        "adult social care and information governance staff sign in through the council's identity "
        "provider, or are registered on the server with `mash clients create` (audited), so an "
        "administrator cannot mint case access for itself. An idempotent replay returns the "
        "same client with `client_secret: null`, because the secret is never stored: if the first "
        "response was lost, revoke that client and register a new one."
    ),
)
async def create_client(
    request: Request,
    created: Created,
    answer: Versioned,
    principal: AdminPrincipalOnce,
    session: DbSession,
    body: ClientCreate,
) -> ClientCreated:
    client, secret = await service.create_client(session, principal, body, request.app.state.hasher)
    out = ClientCreated(**service.client_out(client).model_dump(), client_secret=secret)
    return created.at(f"/v1/clients/{client.id}", answer.tagged(client.version, out))


@router.get(
    "/clients",
    tags=["Administration"],
    summary="List partner system clients (never their secrets)",
)
async def list_clients(
    _: AdminPrincipal, session: DbSession, paging: Paging, active: ActiveFilter = None
) -> Page[ClientOut]:
    """The registered partner system clients, active and revoked, keyset-paginated. Secrets are never shown: only their hashes are stored."""
    clients, next_cursor = await repository.list_clients(session, paging.params, active=active)
    return paging.page([service.client_out(c) for c in clients], next_cursor)


@router.get(
    "/clients/{client_id}",
    tags=["Administration"],
    summary="Get one client",
)
async def get_client(
    client_id: uuid.UUID, answer: Versioned, _: AdminPrincipal, session: DbSession
) -> ClientOut:
    """One registered client, with who registered it and whether it has been revoked."""
    client = await service.get_client(session, client_id)
    return answer.tagged(client.version, service.client_out(client))


@router.patch(
    "/clients/{client_id}",
    tags=["Administration"],
    summary="Rename a client",
)
async def update_client(
    client_id: uuid.UUID,
    change: Conditional,
    principal: AdminPrincipal,
    session: DbSession,
    body: ClientUpdate,
) -> ClientOut:
    """Rename a client. Send the ETag of your last GET in `If-Match`: missing is 428, stale is 412."""
    client = await service.rename_client(session, principal, client_id, body, change.if_match)
    return change.tagged(client.version, service.client_out(client))


@router.post(
    "/clients/{client_id}/revocation",
    tags=["Administration"],
    summary="Revoke a client: its tokens stop working at once",
    responses=problem_responses(409, codes={409: ["already_revoked"]}),
)
async def revoke_client(
    client_id: uuid.UUID, principal: AdminPrincipal, session: DbSession, body: ClientRevocation
) -> ClientOut:
    """Revoke a client, with the reason: tokens already issued to it are refused from the next request, and it cannot get new ones. Nothing is deleted."""
    client = await service.revoke_client(session, principal, client_id, body.reason)
    return service.client_out(client)
