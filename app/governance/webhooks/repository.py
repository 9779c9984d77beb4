"""Queries of subscriptions and their delivery log, narrowed to the caller's own (``access``)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.auth import Principal
from app.core.pagination import PageParams, paginate
from app.governance.webhooks.access import owned_by
from app.models.webhook import WebhookAttempt, WebhookSubscription


async def get_owned(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, for_update: bool = False
) -> WebhookSubscription | None:
    stmt = sa.select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id, owned_by(principal)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def list_owned(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[WebhookSubscription], str | None]:
    stmt = sa.select(WebhookSubscription).where(owned_by(principal))
    return await paginate(session, stmt, [WebhookSubscription.created_at, WebhookSubscription.id], params)


async def attempts(
    session: AsyncSession, subscription_id: uuid.UUID, params: PageParams
) -> tuple[list[WebhookAttempt], str | None]:
    stmt = (
        sa.select(WebhookAttempt)
        .where(WebhookAttempt.subscription_id == subscription_id)
        .options(selectinload(WebhookAttempt.delivery))
    )
    return await paginate(session, stmt, [WebhookAttempt.attempted_at, WebhookAttempt.id], params)
