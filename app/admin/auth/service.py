"""The client credentials grant: authenticate a client, then issue it a token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.audit import AuditAction
from app.core.db import release
from app.core.passwords import SecretHasher
from app.core.scopes import ROLE_SCOPES, AgencyCode, Role, role_agency_problem
from app.core.tokens import IssuedToken, TokenService
from app.models.client import Client


class OAuthFailure(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True, slots=True)
class _ClientActor:
    sub: str
    agency: str
    role: str


async def client_credentials_grant(
    session: AsyncSession,
    hasher: SecretHasher,
    tokens: TokenService,
    client_id: str,
    client_secret: str,
    requested_scope: str | None,
) -> IssuedToken:
    client = await _find_client(session, client_id)
    # Keep what the grant needs, then give the connection back: argon2 takes tens of milliseconds of
    # CPU, and holding a pooled connection (or SQLite's write lock) through it starves other requests.
    found = None if client is None else _ClientActor(str(client.id), client.agency_code, client.role)
    secret_hash = None if client is None else client.secret_hash
    active = client is not None and client.revoked_at is None
    await release(session)
    # Always run one argon2 verification, so an unknown id and a wrong secret look alike.
    valid = await hasher.verify(secret_hash, client_secret)
    if found is None or not valid or not active:
        raise OAuthFailure("invalid_client", "Client authentication failed.", 401)
    role, agency = Role(found.role), AgencyCode(found.agency)
    if role_agency_problem(role, agency) is not None:
        # Registered before the rule was enforced: its tokens would be refused anyway.
        raise OAuthFailure("invalid_client", "The client's role cannot belong to its agency.", 401)
    allowed: frozenset[str] = ROLE_SCOPES[role]
    scopes: frozenset[str]
    if requested_scope is None or not requested_scope.strip():
        scopes = allowed
    else:
        scopes = frozenset(requested_scope.split())
        if not scopes <= allowed:
            raise OAuthFailure("invalid_scope", "The requested scope exceeds the client's role.")
    issued = tokens.issue(
        sub=found.sub,
        agency=agency,
        role=role,
        scopes=scopes,
        client_id=uuid.UUID(found.sub),
    )
    audit.record(
        session, found, AuditAction.ISSUE_TOKEN, "client", found.sub, details={"scope": issued.scope}
    )
    return issued


async def _find_client(session: AsyncSession, client_id: str) -> Client | None:
    try:
        parsed = uuid.UUID(client_id)
    except ValueError:
        return None
    return await session.scalar(sa.select(Client).where(Client.id == parsed))
