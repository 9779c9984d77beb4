"""Who may read a safeguarding adults review: adult social care alone, the one place that says it.

A review is the Safeguarding Adults Board's, arranged through adult social care; no partner agency
reads it through this service (404, never 403), and the raising agency of a concern it names is not
told of it. Row-level security says the same underneath, on PostgreSQL.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.concerns import access as concern_access
from app.core.auth import Principal
from app.core.errors import NotFound
from app.core.readable import one
from app.models.adult import SafeguardingAdultsReview

RESOURCE = "safeguarding adults review"


def is_hub(principal: Principal) -> bool:
    return concern_access.is_hub(principal)


def listed(principal: Principal) -> sa.ColumnElement[bool]:
    """What the caller's list holds: adult social care every review, anyone else none."""
    return sa.true() if is_hub(principal) else sa.false()


async def visible(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, *, for_update: bool = False
) -> SafeguardingAdultsReview:
    """The review, for adult social care (locked when ``for_update``); 404 to anyone else."""
    found = None
    if is_hub(principal):
        stmt = sa.select(SafeguardingAdultsReview).where(SafeguardingAdultsReview.id == review_id)
        found = await one(session, stmt, for_update=for_update)
    if found is None:
        raise NotFound(RESOURCE, review_id)
    return found
