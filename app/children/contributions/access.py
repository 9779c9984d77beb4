"""Who may read a request for information and its answers: children's social care, which asks, and
the agency asked, which answers. Nobody else, the referring agency included (api.md: a referrer does
not see other agencies' contributions)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals import access as referral_access
from app.core.auth import Principal
from app.core.errors import NotFound
from app.core.readable import one
from app.models.referral import Contribution


def readable(principal: Principal) -> sa.ColumnElement[bool]:
    """The requests the caller may read: all for the hub, else those made of its agency."""
    if referral_access.is_hub(principal):
        return sa.true()
    return Contribution.agency == str(principal.agency)


def answers(principal: Principal, contribution: Contribution) -> bool:
    """Only the agency asked answers (the hub reads, it does not answer for another agency)."""
    return contribution.agency == principal.agency


async def visible(
    session: AsyncSession, principal: Principal, contribution_id: uuid.UUID, *, for_update: bool = False
) -> Contribution:
    stmt = sa.select(Contribution).where(Contribution.id == contribution_id, readable(principal))
    contribution = await one(session, stmt, for_update=for_update)
    if contribution is None:
        raise NotFound("contribution", contribution_id)
    return contribution
