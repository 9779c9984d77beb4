"""Queries for adult concerns, allegations, enquiries and advocacy, with who may see what."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdultConcernStatus, CapacityOutcome, EnquiryStatus, PlanStatus
from app.adults.concerns import access
from app.core.allocation import AllocationFilter, where_allocated
from app.core.auth import Principal
from app.core.codes import CaseSource
from app.core.filters import where_any, where_equal, where_flag
from app.core.grouped import ByParent, rows_by_parent
from app.core.pagination import PageParams, Sort, paginate, sorts
from app.core.readable import one
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Allegation,
    AllegationChange,
    BestInterestsDecision,
    CapacityAssessment,
    Enquiry,
    SafeguardingPlan,
    Section42DecisionRecord,
)
from app.models.base import table_columns

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


async def allegation(
    session: AsyncSession, allegation_id: uuid.UUID, *, for_update: bool = False
) -> Allegation | None:
    return await one(
        session, sa.select(Allegation).where(Allegation.id == allegation_id), for_update=for_update
    )


async def allegation_changes(
    session: AsyncSession, allegation_ids: Collection[uuid.UUID]
) -> Sequence[AllegationChange]:
    """The corrections of these allegations, oldest first."""
    if not allegation_ids:
        return []
    rows = await session.scalars(
        sa.select(AllegationChange)
        .where(AllegationChange.allegation_id.in_(list(allegation_ids)))
        .order_by(AllegationChange.changed_at, AllegationChange.id)
    )
    return rows.all()


async def best_interests_person(session: AsyncSession, decision_id: uuid.UUID) -> uuid.UUID | None:
    """Whom a best interests decision is about (None: no such decision)."""
    found: uuid.UUID | None = await session.scalar(
        sa.select(CapacityAssessment.person_id)
        .join(BestInterestsDecision, BestInterestsDecision.assessment_id == CapacityAssessment.id)
        .where(BestInterestsDecision.id == decision_id)
    )
    return found


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
    """The concern list's filters: each a set of values meaning "any of", or None."""

    status: Collection[str] | None = None
    overdue: bool | None = None
    person_id: uuid.UUID | None = None
    source: Collection[CaseSource] | None = None
    allocation: AllocationFilter = field(default_factory=AllocationFilter)
    external_reference: str | None = None


CONCERN_SORTS = sorts(AdultConcern, "received_at", "decision_due_at")


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    # The deadline is the section 42 decision's: overdue while still undecided.
    return sa.and_(AdultConcern.decision_due_at < now, AdultConcern.status.in_(list(OPEN_STATUSES)))


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    filters: ConcernFilters,
    sort: Sort,
    params: PageParams,
    now: datetime,
) -> tuple[list[AdultConcern], str | None]:
    stmt = sa.select(AdultConcern).where(access.listed(principal))
    stmt = where_any(stmt, (access.status_clause(principal), filters.status))
    stmt = where_flag(stmt, filters.overdue, overdue_clause(now))
    stmt = where_equal(
        stmt,
        (AdultConcern.person_id, filters.person_id),
        (AdultConcern.external_reference, filters.external_reference),
    )
    if filters.source:
        stmt = stmt.where(access.from_sources(filters.source))
    stmt = where_allocated(stmt, AdultConcern, filters.allocation, principal, hub=access.is_hub(principal))
    return await paginate(session, stmt, sort, params)


async def enquiry_ids(
    session: AsyncSession, concern_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The enquiry of each concern that has one."""
    if not concern_ids:
        return {}
    found: dict[uuid.UUID, uuid.UUID] = {}
    stmt = sa.select(Enquiry.concern_id, Enquiry.id).where(Enquiry.concern_id.in_(list(concern_ids)))
    for concern_id, enquiry_id in await session.execute(stmt):
        found[concern_id] = enquiry_id
    return found


# ---------------------------------------------------------------------------------------------------
# The enquiry list


@dataclass(frozen=True, slots=True)
class EnquiryFilters:
    status: Collection[str] | None = None
    lead_agency: Collection[str] | None = None
    overdue: bool | None = None
    allocation: AllocationFilter = field(default_factory=AllocationFilter)


ENQUIRY_SORTS = sorts(Enquiry, "opened_at")
# The time the hub aims to conclude an enquiry in (a local target; the Care Act sets none): an open
# enquiry older than this is overdue.
ENQUIRY_TARGET = timedelta(days=28)


def enquiry_overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Enquiry.status == EnquiryStatus.OPEN, Enquiry.opened_at < now - ENQUIRY_TARGET)


class ListedEnquiry(NamedTuple):
    """An enquiry as the enquiry list shows it (read-only)."""

    id: uuid.UUID
    concern_id: uuid.UUID
    kind: str
    status: str
    lead_agency: str
    caused_to_agency: str | None
    objectives: list[str]
    opened_at: datetime
    allocated_worker: str | None
    allocated_team: str | None
    allocated_at: datetime | None
    allocated_by: str | None
    allocation_note: str | None


_ENQUIRY = table_columns(Enquiry)
_LISTED_ENQUIRIES = sa.select(*(_ENQUIRY[name] for name in ListedEnquiry._fields))


async def enquiries_visible(
    session: AsyncSession,
    principal: Principal,
    filters: EnquiryFilters,
    sort: Sort,
    params: PageParams,
    now: datetime,
) -> tuple[list[ListedEnquiry], str | None]:
    stmt = _LISTED_ENQUIRIES.where(access.enquiries_listed(principal))
    stmt = where_any(stmt, (Enquiry.status, filters.status), (Enquiry.lead_agency, filters.lead_agency))
    stmt = where_flag(stmt, filters.overdue, enquiry_overdue_clause(now))
    stmt = where_allocated(stmt, Enquiry, filters.allocation, principal, hub=access.is_hub(principal))
    return await paginate(session, stmt, sort, params, record=ListedEnquiry._make)


class ListedAdult(NamedTuple):
    """The adult an enquiry is about, as its concern named them and the enquiry list shows them
    (read-only)."""

    person_id: uuid.UUID | None
    given_name: str
    family_name: str
    date_of_birth: date | None


class AdvocacyNeed(NamedTuple):
    """An advocacy assessment as the enquiry list shows it (read-only)."""

    required: bool
    offer: str
    advocate_id: uuid.UUID | None


# The adult of each concern, and each concern's advocacy assessments, latest first: read as rows,
# built once (the list only shows them).
_CONCERN, _ADVOCACY = table_columns(AdultConcern), table_columns(Advocacy)
_adults: ByParent[uuid.UUID, ListedAdult] = rows_by_parent(ListedAdult, _CONCERN.id)
_advocacies: ByParent[uuid.UUID, AdvocacyNeed] = rows_by_parent(
    AdvocacyNeed,
    _ADVOCACY.concern_id,
    _ADVOCACY.concern_id,
    _ADVOCACY.recorded_at.desc(),
    _ADVOCACY.id.desc(),
)


async def adults(session: AsyncSession, concern_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ListedAdult]:
    """The adult each of these concerns is about, of those the caller may read."""
    return await _adults.first(session, concern_ids)


async def latest_advocacies(
    session: AsyncSession, concern_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, AdvocacyNeed]:
    """The latest advocacy assessment of each concern that has one, in one statement."""
    return await _advocacies.first(session, concern_ids)
