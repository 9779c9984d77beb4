"""Queries for agencies and clients."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.models.agency import Agency
from app.models.client import Client


async def list_agencies(session: AsyncSession, params: PageParams) -> tuple[list[Agency], str | None]:
    return await paginate(session, sa.select(Agency), [Agency.code], params, descending=False)


async def list_clients(
    session: AsyncSession, params: PageParams, *, active: bool | None = None
) -> tuple[list[Client], str | None]:
    stmt = sa.select(Client)
    if active is not None:
        stmt = stmt.where(Client.revoked_at.is_(None) if active else Client.revoked_at.is_not(None))
    return await paginate(session, stmt, [Client.created_at, Client.id], params)


async def get_client(session: AsyncSession, client_id: uuid.UUID) -> Client | None:
    return await session.get(Client, client_id)
