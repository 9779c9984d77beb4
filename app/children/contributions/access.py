"""Who may read a request for information and its answers: children's social care, which asks, and
the agency asked, which answers. Nobody else, the referring agency included (api.md: a referrer does
not see other agencies' contributions)."""

from __future__ import annotations

import uuid
from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals import access as referral_access
from app.core.auth import Principal
from app.core.errors import NotFound
from app.models.referral import Contribution


def readable(principal: Principal) -> sa.ColumnElement[bool]:
    """The requests the caller may read: all for the hub, else those made of its agency."""
    return _readable_by(_reader(principal))


def _reader(principal: Principal) -> str | None:
    """The agency whose requests the caller reads; None for the hub (every request)."""
    return None if referral_access.is_hub(principal) else str(principal.agency)


def _readable_by(agency: str | None) -> sa.ColumnElement[bool]:
    return sa.true() if agency is None else Contribution.agency == agency


def answers(principal: Principal, contribution: Contribution) -> bool:
    """Only the agency asked answers (the hub reads, it does not answer for another agency)."""
    return contribution.agency == principal.agency


async def visible(
    session: AsyncSession, principal: Principal, contribution_id: uuid.UUID, *, for_update: bool = False
) -> Contribution:
    stmt = _one_readable(_reader(principal), for_update)
    contribution = await session.scalar(stmt, {"contribution_id": contribution_id})
    if contribution is None:
        raise NotFound("contribution", contribution_id)
    return contribution


@cache
def _one_readable(agency: str | None, for_update: bool) -> sa.Select[Contribution]:
    """The request ``contribution_id`` if ``agency`` (None: the hub) may read it; locked until the
    transaction ends when ``for_update`` (as ``app.core.readable.one``). Built once for each, run with
    each request's id, as ``app.core.readable.Viewed`` builds its statements: building one (and its
    cache key) cost more CPU than running it."""
    stmt = sa.select(Contribution).where(
        Contribution.id == sa.bindparam("contribution_id"), _readable_by(agency)
    )
    return stmt.with_for_update() if for_update else stmt
