"""Queries for referrals; who may see which is ``access``."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import FINAL_REFERRAL_STATUSES
from app.children.referrals import access
from app.core.auth import Principal
from app.core.filters import where_equal, where_flag
from app.core.pagination import PageParams, paginate
from app.core.readable import one
from app.models.event import CaseEvent
from app.models.referral import (
    Communication,
    Contribution,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
    ReferralInformation,
)

AGGREGATE = "referral"


async def get(session: AsyncSession, referral_id: uuid.UUID, *, for_update: bool = False) -> Referral | None:
    return await one(session, sa.select(Referral).where(Referral.id == referral_id), for_update=for_update)


async def children(
    session: AsyncSession, referral_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[ReferralChild]]:
    found: dict[uuid.UUID, list[ReferralChild]] = {rid: [] for rid in referral_ids}
    if referral_ids:
        rows = await session.scalars(
            sa.select(ReferralChild)
            .where(ReferralChild.referral_id.in_(list(referral_ids)))
            .order_by(ReferralChild.referral_id, ReferralChild.position)
        )
        for child in rows:
            found[child.referral_id].append(child)
    return found


async def household(session: AsyncSession, referral_id: uuid.UUID) -> Sequence[ReferralHouseholdMember]:
    rows = await session.scalars(
        sa.select(ReferralHouseholdMember)
        .where(ReferralHouseholdMember.referral_id == referral_id)
        .order_by(ReferralHouseholdMember.position)
    )
    return rows.all()


async def other_referrals_of(
    session: AsyncSession, person_ids: Collection[uuid.UUID], referral_id: uuid.UUID
) -> dict[uuid.UUID, list[Referral]]:
    """Every other referral naming each person, oldest first."""
    found: dict[uuid.UUID, list[Referral]] = {pid: [] for pid in person_ids}
    if person_ids:
        rows = await session.execute(
            sa.select(ReferralChild.person_id, Referral)
            .join(Referral, Referral.id == ReferralChild.referral_id)
            .where(ReferralChild.person_id.in_(list(person_ids)), Referral.id != referral_id)
            .order_by(Referral.received_at)
        )
        for person_id, referral in rows:
            if person_id is not None:  # excluded by the IN above; narrows the type
                found[person_id].append(referral)
    return found


@dataclass(frozen=True, slots=True)
class ReferralFilters:
    status: str | None = None
    rag: str | None = None
    referring_agency: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    overdue: bool | None = None
    person_id: uuid.UUID | None = None
    external_reference: str | None = None


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Referral.decision_due_at < now, Referral.status.not_in(list(FINAL_REFERRAL_STATUSES)))


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    filters: ReferralFilters,
    params: PageParams,
    now: datetime,
) -> tuple[list[Referral], str | None]:
    stmt = sa.select(Referral).where(access.listed(principal))
    stmt = where_equal(
        stmt,
        (Referral.status, filters.status),
        (Referral.rag_rating, filters.rag),
        (Referral.referring_agency, filters.referring_agency),
        (Referral.external_reference, filters.external_reference),
    )
    if filters.received_from is not None:
        stmt = stmt.where(Referral.received_at >= filters.received_from)
    if filters.received_to is not None:
        stmt = stmt.where(Referral.received_at < filters.received_to)
    stmt = where_flag(stmt, filters.overdue, overdue_clause(now))
    if filters.person_id is not None:
        stmt = stmt.where(
            sa.exists().where(
                ReferralChild.referral_id == Referral.id, ReferralChild.person_id == filters.person_id
            )
        )
    return await paginate(session, stmt, [Referral.received_at, Referral.id], params)


async def requests_to(session: AsyncSession, referral_id: uuid.UUID, agency: str) -> Sequence[Contribution]:
    rows = await session.scalars(
        sa.select(Contribution)
        .where(Contribution.referral_id == referral_id, Contribution.agency == agency)
        .order_by(Contribution.requested_at, Contribution.id)
    )
    return rows.all()


async def has_contributions(session: AsyncSession, referral_id: uuid.UUID) -> bool:
    return bool(await session.scalar(sa.select(sa.exists().where(Contribution.referral_id == referral_id))))


async def events(session: AsyncSession, referral_id: uuid.UUID) -> Sequence[CaseEvent]:
    rows = await session.scalars(
        sa.select(CaseEvent)
        .where(CaseEvent.aggregate_type == AGGREGATE, CaseEvent.aggregate_id == referral_id)
        .order_by(CaseEvent.seq)
    )
    return rows.all()


async def communications(
    session: AsyncSession, referral_id: uuid.UUID, params: PageParams
) -> tuple[list[Communication], str | None]:
    """A page of the contacts recorded on the referral, in the order they happened."""
    stmt = sa.select(Communication).where(Communication.referral_id == referral_id)
    return await paginate(
        session, stmt, [Communication.occurred_at, Communication.id], params, descending=False
    )


async def additions(
    session: AsyncSession, referral_id: uuid.UUID, *, by_agency: str | None = None
) -> Sequence[ReferralInformation]:
    """Information added to the referral, oldest first; only one agency's when ``by_agency``."""
    stmt = sa.select(ReferralInformation).where(ReferralInformation.referral_id == referral_id)
    if by_agency is not None:
        stmt = stmt.where(ReferralInformation.added_by_agency == by_agency)
    rows = await session.scalars(stmt.order_by(ReferralInformation.added_at, ReferralInformation.id))
    return rows.all()
