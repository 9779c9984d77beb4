"""The register of independent advocates (not case data: advocates are professionals)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.advocates.schemas import AdvocateIn
from app.core import audit
from app.core.audit import Actor, AuditAction
from app.core.errors import NotFound
from app.core.pagination import PageParams, paginate
from app.models.adult import Advocate

RECORD_TYPE = "advocate"


async def create(session: AsyncSession, actor: Actor, body: AdvocateIn) -> Advocate:
    advocate = Advocate(
        id=uuid.uuid4(),
        name=body.name,
        organisation=body.organisation,
        kind=body.kind,
        contact=body.contact.model_dump(exclude_none=True),
        created_by=actor.sub,
    )
    session.add(advocate)
    await session.flush()
    audit.record(session, actor, AuditAction.CREATE, RECORD_TYPE, advocate.id)
    return advocate


async def list_(
    session: AsyncSession, params: PageParams, *, kind: str | None
) -> tuple[list[Advocate], str | None]:
    stmt = sa.select(Advocate)
    if kind is not None:
        stmt = stmt.where(Advocate.kind == kind)
    return await paginate(session, stmt, [Advocate.created_at, Advocate.id], params)


async def get(session: AsyncSession, advocate_id: uuid.UUID) -> Advocate:
    advocate = await session.get(Advocate, advocate_id)
    if advocate is None:
        raise NotFound("advocate", advocate_id)
    return advocate
