"""The register of independent advocates (not case data: advocates are professionals)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.advocates.schemas import AdvocateIn
from app.core import audit
from app.core.audit import Actor, AuditAction
from app.core.errors import NotFound
from app.core.pagination import PageParams, paginate
from app.models.adult import Advocate

RECORD_TYPE = "advocate"


async def create(session: AsyncSession, actor: Actor, body: AdvocateIn) -> Advocate:
    advocate = Advocate(
        id=uuid.uuid4(),
        **body.model_dump(exclude={"contact"}),
        contact=body.contact.model_dump(exclude_none=True),
        created_by=actor.sub,
    )
    session.add(advocate)
    await session.flush()
    audit.record(session, actor, AuditAction.CREATE, RECORD_TYPE, advocate.id)
    return advocate


async def list_(
    session: AsyncSession, actor: Actor, params: PageParams, *, kind: str | None
) -> tuple[list[Advocate], str | None]:
    stmt = sa.select(Advocate)
    if kind is not None:
        stmt = stmt.where(Advocate.kind == kind)
    found, next_cursor = await paginate(session, stmt, [Advocate.created_at, Advocate.id], params)
    # Read like any other record: who looked at whose contact details, and when.
    audit.record(
        session,
        actor,
        AuditAction.LIST,
        RECORD_TYPE,
        details={"advocate_ids": [str(a.id) for a in found], "kind": None if kind is None else str(kind)},
    )
    return found, next_cursor


async def get(session: AsyncSession, actor: Actor, advocate_id: uuid.UUID) -> Advocate:
    advocate = await session.get(Advocate, advocate_id)
    if advocate is None:
        raise NotFound("advocate", advocate_id)
    audit.record(session, actor, AuditAction.READ, RECORD_TYPE, advocate.id)
    return advocate
