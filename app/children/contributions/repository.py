"""Queries for contributions; who may read which is ``access``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ContributionStatus
from app.children.contributions import access
from app.core.auth import Principal
from app.core.filters import where_equal, where_flag
from app.core.grouped import ByParent, rows_by_parent
from app.core.pagination import PageParams, paginate
from app.core.readable import one
from app.models.base import table_columns
from app.models.referral import Contribution, ContributionResponse


async def get(
    session: AsyncSession, contribution_id: uuid.UUID, *, for_update: bool = False
) -> Contribution | None:
    return await one(
        session, sa.select(Contribution).where(Contribution.id == contribution_id), for_update=for_update
    )


async def for_referral(
    session: AsyncSession, referral_id: uuid.UUID, principal: Principal, params: PageParams
) -> tuple[list[Contribution], str | None]:
    """A page of the requests on the referral that the caller may read, oldest first."""
    stmt = sa.select(Contribution).where(Contribution.referral_id == referral_id, access.readable(principal))
    return await paginate(
        session, stmt, [Contribution.requested_at, Contribution.id], params, descending=False
    )


@dataclass(frozen=True, slots=True)
class InboxFilters:
    status: str | None = None
    overdue: bool | None = None
    agency: str | None = None
    referral_id: uuid.UUID | None = None


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Contribution.status == ContributionStatus.REQUESTED, Contribution.due_at < now)


async def inbox(
    session: AsyncSession, principal: Principal, filters: InboxFilters, params: PageParams, now: datetime
) -> tuple[list[Contribution], str | None]:
    stmt = sa.select(Contribution).where(access.readable(principal))
    stmt = where_equal(
        stmt,
        (Contribution.agency, filters.agency),
        (Contribution.status, filters.status),
        (Contribution.referral_id, filters.referral_id),
    )
    stmt = where_flag(stmt, filters.overdue, overdue_clause(now))
    return await paginate(session, stmt, [Contribution.requested_at, Contribution.id], params)


class Version(NamedTuple):
    """One version of an answer, as it is shown (``schemas.ResponseVersion``), never changed: plain
    columns, read by asyncpg (``app.core.direct``), not ORM records."""

    version_number: int
    information: str
    risk_indicators: list[str]
    restricted: bool
    restriction_reason: str | None
    correction_reason: str | None
    submitted_by: str
    submitted_at: datetime


# Every version of each answer, newest first.
_RESPONSE = table_columns(ContributionResponse)
versions: ByParent[uuid.UUID, Version] = rows_by_parent(
    Version, _RESPONSE.contribution_id, _RESPONSE.contribution_id, _RESPONSE.version_number.desc()
)
