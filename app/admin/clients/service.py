"""Registering, renaming and revoking partner-system clients. Every change is audited."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.admin.clients import repository
from app.admin.clients.schemas import ClientCreate, ClientOut, ClientRegistration, ClientUpdate
from app.core import audit
from app.core.audit import Actor, AuditAction
from app.core.concurrency import check_if_match
from app.core.errors import AppError, NotFound, ValidationFailed
from app.core.passwords import SecretHasher, new_client_secret
from app.core.scopes import AgencyCode, Role, role_agency_problem
from app.models.base import utcnow
from app.models.client import Client

RECORD_TYPE = "client"


def client_out(client: Client) -> ClientOut:
    return ClientOut(
        client_id=client.id,
        name=client.name,
        agency=AgencyCode(client.agency_code),
        role=Role(client.role),
        created_at=client.created_at,
        created_by=client.created_by,
        updated_at=client.updated_at,
        active=client.revoked_at is None,
        revoked_at=client.revoked_at,
        revoked_by=client.revoked_by,
        revocation_reason=client.revocation_reason,
    )


async def create_client(
    session: AsyncSession, actor: Actor, data: ClientCreate | ClientRegistration, hasher: SecretHasher
) -> tuple[Client, str]:
    """Register a client; returns it with its secret, which is never stored or shown again."""
    role = Role(data.role)
    mismatch = role_agency_problem(role, data.agency)
    if mismatch is not None:
        raise ValidationFailed(["body", "role"], mismatch[0].upper() + mismatch[1:] + ".")
    secret = new_client_secret()
    client = Client(
        id=uuid.uuid4(),
        name=data.name,
        agency_code=data.agency,
        role=role,
        secret_hash=await hasher.hash_async(secret),
        created_by=actor.sub,
    )
    session.add(client)
    await session.flush()
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        RECORD_TYPE,
        client.id,
        details={"agency": str(data.agency), "role": str(role)},
    )
    return client, secret


async def get_client(session: AsyncSession, client_id: uuid.UUID) -> Client:
    client = await repository.get_client(session, client_id)
    if client is None:
        raise NotFound("client", client_id)
    return client


async def rename_client(
    session: AsyncSession, actor: Actor, client_id: uuid.UUID, data: ClientUpdate, if_match: str | None
) -> Client:
    client = await get_client(session, client_id)
    check_if_match(if_match, client.version)
    client.name = data.name
    client.updated_at = utcnow()
    await session.flush()
    audit.record(session, actor, AuditAction.UPDATE, RECORD_TYPE, client.id, details={"fields": ["name"]})
    return client


async def revoke_client(session: AsyncSession, actor: Actor, client_id: uuid.UUID, reason: str) -> Client:
    client = await get_client(session, client_id)
    if client.revoked_at is not None:
        raise AppError(code="already_revoked")
    client.revoked_at = utcnow()
    client.revoked_by = actor.sub
    client.revocation_reason = reason
    await session.flush()
    audit.record(session, actor, AuditAction.REVOKE, RECORD_TYPE, client.id)
    return client
