"""Queries for adult concerns, allegations, enquiries and advocacy, with who may see what."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdultConcernStatus, CapacityOutcome, PlanStatus
from app.adults.concerns import access
from app.core.auth import Principal
from app.core.filters import where_equal, where_flag
from app.core.pagination import PageParams, paginate
from app.core.readable import one
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Allegation,
    CapacityAssessment,
    ConcernInformation,
    Enquiry,
    SafeguardingPlan,
    Section42DecisionRecord,
)

AGGREGATE = "adult_concern"
OPEN_STATUSES = frozenset({AdultConcernStatus.RECEIVED})


async def get(
    session: AsyncSession, concern_id: uuid.UUID, *, for_update: bool = False
) -> AdultConcern | None:
    return await one(
        session, sa.select(AdultConcern).where(AdultConcern.id == concern_id), for_update=for_update
    )


async def allegations(session: AsyncSession, concern_id: uuid.UUID) -> Sequence[Allegation]:
    rows = await session.scalars(
        sa.select(Allegation).where(Allegation.concern_id == concern_id).order_by(Allegation.position)
    )
    return rows.all()


async def decision(session: AsyncSession, concern_id: uuid.UUID) -> Section42DecisionRecord | None:
    return await session.scalar(
        sa.select(Section42DecisionRecord).where(Section42DecisionRecord.concern_id == concern_id)
    )


async def enquiry_of(session: AsyncSession, concern_id: uuid.UUID) -> Enquiry | None:
    return await session.scalar(sa.select(Enquiry).where(Enquiry.concern_id == concern_id))


async def enquiry(
    session: AsyncSession, enquiry_id: uuid.UUID, *, for_update: bool = False
) -> Enquiry | None:
    return await one(session, sa.select(Enquiry).where(Enquiry.id == enquiry_id), for_update=for_update)


async def latest_advocacy(session: AsyncSession, concern_id: uuid.UUID) -> Advocacy | None:
    return await session.scalar(
        sa.select(Advocacy)
        .where(Advocacy.concern_id == concern_id)
        .order_by(Advocacy.recorded_at.desc(), Advocacy.id.desc())
        .limit(1)
    )


async def found_lacking_capacity(session: AsyncSession, concern_id: uuid.UUID) -> bool:
    stmt = sa.select(
        sa.exists().where(
            CapacityAssessment.concern_id == concern_id,
            CapacityAssessment.outcome == CapacityOutcome.LACKS_CAPACITY,
        )
    )
    return bool(await session.scalar(stmt))


async def has_active_plan(session: AsyncSession, concern_id: uuid.UUID) -> bool:
    stmt = sa.select(
        sa.exists().where(
            SafeguardingPlan.concern_id == concern_id, SafeguardingPlan.status == PlanStatus.ACTIVE
        )
    )
    return bool(await session.scalar(stmt))


@dataclass(frozen=True, slots=True)
class ConcernFilters:
    status: str | None = None
    overdue: bool | None = None
    person_id: uuid.UUID | None = None
    external_reference: str | None = None


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    # The deadline is the section 42 decision's: overdue while still undecided.
    return sa.and_(AdultConcern.decision_due_at < now, AdultConcern.status.in_(list(OPEN_STATUSES)))


async def list_visible(
    session: AsyncSession, principal: Principal, filters: ConcernFilters, params: PageParams, now: datetime
) -> tuple[list[AdultConcern], str | None]:
    stmt = sa.select(AdultConcern).where(access.listed(principal))
    stmt = where_equal(stmt, (access.status_clause(principal), filters.status))
    stmt = where_flag(stmt, filters.overdue, overdue_clause(now))
    stmt = where_equal(
        stmt,
        (AdultConcern.person_id, filters.person_id),
        (AdultConcern.external_reference, filters.external_reference),
    )
    return await paginate(session, stmt, [AdultConcern.received_at, AdultConcern.id], params)


async def additions(
    session: AsyncSession, concern_id: uuid.UUID, *, by_agency: str | None = None
) -> Sequence[ConcernInformation]:
    """Information added to the concern, oldest first; only one agency's when ``by_agency``."""
    stmt = sa.select(ConcernInformation).where(ConcernInformation.concern_id == concern_id)
    if by_agency is not None:
        stmt = stmt.where(ConcernInformation.added_by_agency == by_agency)
    rows = await session.scalars(stmt.order_by(ConcernInformation.added_at, ConcernInformation.id))
    return rows.all()
