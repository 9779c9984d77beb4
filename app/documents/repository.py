"""Queries for documents; who may see which is ``access`` (through the parent record)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.core.readable import one
from app.models.document import Document


async def get(session: AsyncSession, document_id: uuid.UUID, *, for_update: bool = False) -> Document | None:
    return await one(session, sa.select(Document).where(Document.id == document_id), for_update=for_update)


async def for_parent(
    session: AsyncSession, keys: dict[str, uuid.UUID], params: PageParams
) -> tuple[list[Document], str | None]:
    """A page of the parent's documents, oldest first (withdrawn ones included, marked)."""
    [(column, value)] = keys.items()
    stmt = sa.select(Document).where(getattr(Document, column) == value)
    return await paginate(session, stmt, [Document.uploaded_at, Document.id], params, descending=False)


async def insert(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(Document).values(**values))


async def update(session: AsyncSession, document_id: uuid.UUID, **values: Any) -> None:
    await session.execute(sa.update(Document).where(Document.id == document_id).values(**values))


async def of_parents(
    session: AsyncSession,
    *,
    referral_ids: Collection[uuid.UUID] = (),
    contribution_ids: Collection[uuid.UUID] = (),
    concern_ids: Collection[uuid.UUID] = (),
    enquiry_ids: Collection[uuid.UUID] = (),
) -> Sequence[Document]:
    """Every document on any of these records, oldest first (for subject access exports)."""
    conditions = [
        column.in_(list(ids))
        for column, ids in (
            (Document.referral_id, referral_ids),
            (Document.contribution_id, contribution_ids),
            (Document.concern_id, concern_ids),
            (Document.enquiry_id, enquiry_ids),
        )
        if ids
    ]
    if not conditions:
        return []
    stmt = sa.select(Document).where(sa.or_(*conditions)).order_by(Document.uploaded_at, Document.id)
    return (await session.scalars(stmt)).all()
