"""Queries for adult concerns, allegations, enquiries and advocacy, with who may see what."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdultConcernStatus, CapacityOutcome, PlanStatus
from app.core.pagination import PageParams, paginate
from app.core.scopes import AgencyCode
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Allegation,
    CapacityAssessment,
    Enquiry,
    SafeguardingPlan,
    Section42DecisionRecord,
)

AGGREGATE = "adult_concern"
LEAD = AgencyCode.ADULT_SOCIAL_CARE
OPEN_STATUSES = frozenset({AdultConcernStatus.RECEIVED})


class View(StrEnum):
    FULL = "full"
    RAISER = "raiser"


# While the feedback to the raising agency is limited (e.g. a police investigation is under way), it is
# not told that an enquiry is open or concluded: it sees `decided` (api.md, "Feedback limited"). The
# feed withholds the enquiry's events to match (app.governance.feed.rules).
HIDDEN_WHILE_LIMITED = frozenset({AdultConcernStatus.ENQUIRY_OPEN, AdultConcernStatus.ENQUIRY_CONCLUDED})


def status_told(status: str, *, feedback_limited: bool) -> str:
    """The concern's status as the raising agency is told it."""
    return AdultConcernStatus.DECIDED if feedback_limited and status in HIDDEN_WHILE_LIMITED else status


def _feedback_limited() -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Section42DecisionRecord.concern_id == AdultConcern.id,
        Section42DecisionRecord.feedback_limited_reason.is_not(None),
    )


def status_told_clause() -> sa.ColumnElement[str]:
    """``status_told`` in SQL, so that a raiser's status filter matches what it is shown."""
    hidden = sa.and_(AdultConcern.status.in_(list(HIDDEN_WHILE_LIMITED)), _feedback_limited())
    told: sa.ColumnElement[str] = sa.case(
        (hidden, AdultConcernStatus.DECIDED.value), else_=AdultConcern.status
    )
    return told


async def feedback_limited(session: AsyncSession, concern_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these concerns have their raiser's feedback limited."""
    if not concern_ids:
        return set()
    rows = await session.scalars(
        sa.select(Section42DecisionRecord.concern_id).where(
            Section42DecisionRecord.concern_id.in_(list(concern_ids)),
            Section42DecisionRecord.feedback_limited_reason.is_not(None),
        )
    )
    return set(rows)


def view_for(agency: str, concern: AdultConcern) -> View | None:
    """What ``agency`` may see of ``concern`` (deny by default)."""
    if agency == LEAD:
        return View.FULL
    if concern.raising_agency == agency:
        return View.RAISER
    return None


async def get(
    session: AsyncSession, concern_id: uuid.UUID, *, for_update: bool = False
) -> AdultConcern | None:
    stmt = sa.select(AdultConcern).where(AdultConcern.id == concern_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


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
    stmt = sa.select(Enquiry).where(Enquiry.id == enquiry_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


def can_see_enquiry(agency: str, enquiry: Enquiry) -> bool:
    # The council stays accountable (adult social care sees every enquiry); an agency leading it or
    # asked to carry it out sees that enquiry, not the rest of the case.
    return agency in (LEAD, enquiry.lead_agency, enquiry.caused_to_agency)


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


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    # The deadline is the section 42 decision's: overdue while still undecided.
    return sa.and_(AdultConcern.decision_due_at < now, AdultConcern.status.in_(list(OPEN_STATUSES)))


async def list_visible(
    session: AsyncSession, agency: str, filters: ConcernFilters, params: PageParams, now: datetime
) -> tuple[list[AdultConcern], str | None]:
    stmt = sa.select(AdultConcern)
    if agency != LEAD:
        stmt = stmt.where(AdultConcern.raising_agency == agency)
    if filters.status is not None:
        status = AdultConcern.status if agency == LEAD else status_told_clause()
        stmt = stmt.where(status == filters.status)
    if filters.overdue is not None:
        clause = overdue_clause(now)
        stmt = stmt.where(clause if filters.overdue else sa.not_(clause))
    if filters.person_id is not None:
        stmt = stmt.where(AdultConcern.person_id == filters.person_id)
    return await paginate(session, stmt, [AdultConcern.received_at, AdultConcern.id], params)
