"""Queries for referrals; who may see which is ``access``."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, NamedTuple

import sqlalchemy as sa
from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import FINAL_REFERRAL_STATUSES, ContributionStatus, ReferralStatus
from app.children.referrals import access
from app.core.allocation import AllocationQuery, unallocated, where_allocated
from app.core.auth import Principal
from app.core.codes import CaseSource, RagRating
from app.core.direct import DirectSelect
from app.core.filters import AnyOf, query, where_any, where_equal, where_flag
from app.core.grouped import ByParent, after_key, one_of, rows_by_parent
from app.core.pagination import PageParams, Sort, paginate, sorts
from app.core.readable import one
from app.core.schemas import ExternalReference, Instant
from app.core.scopes import AgencyCode
from app.models.base import table_columns, table_of
from app.models.event import CaseEvent
from app.models.referral import (
    Communication,
    Contribution,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
)

AGGREGATE = "referral"
_CHILD = table_columns(ReferralChild)
_REFERRAL = table_columns(Referral)


async def get(session: AsyncSession, referral_id: uuid.UUID, *, for_update: bool = False) -> Referral | None:
    return await one(session, sa.select(Referral).where(Referral.id == referral_id), for_update=for_update)


class ReferralRow(NamedTuple):
    """A referral read to be shown (a get): every column of its record, as a plain row read by asyncpg
    (``app.core.direct``), not an ORM record (loading one cost about four times the CPU). Read-only:
    what changes a referral loads its record (``access.for_hub``)."""

    id: uuid.UUID
    status: str
    version: int
    referring_agency: str
    referred_by: str
    referrer: dict[str, Any]
    referral_source: str
    external_reference: str | None
    from_public: bool
    concern_categories: list[str]
    concern_summary: str
    parents_informed: bool
    parents_consented: bool
    consent_reason: str | None
    consent_override_reason: str | None
    consent_override_basis: str | None
    consent_override_special_category: str | None
    consent_override_by: str | None
    consent_override_at: datetime | None
    do_not_inform_parents: bool
    do_not_inform_reason: str | None
    rag_rating: str | None
    rag_rationale: str | None
    rag_rated_by: str | None
    rag_rated_at: datetime | None
    received_at: datetime
    decision_due_at: datetime
    statutory_decision_due_at: datetime
    rag_due_at: datetime | None
    acknowledgement_due_at: datetime | None
    acknowledged_at: datetime | None
    outcome_level: int | None
    outcome: str | None
    decided_at: datetime | None
    decision_id: uuid.UUID | None
    allocated_worker: str | None
    allocated_team: str | None
    allocated_at: datetime | None
    allocated_by: str | None
    allocation_note: str | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str | None
    created_at: datetime
    updated_at: datetime | None


# A referral as its views show it: its record (a referral just made or changed) or a row read to show.
ShownReferral = Referral | ReferralRow


# The children of each referral, in order.
children = ByParent[uuid.UUID, ReferralChild](
    ReferralChild.referral_id,
    sa.select(ReferralChild.referral_id, ReferralChild).order_by(
        ReferralChild.referral_id, ReferralChild.position
    ),
)


class ListedChild(NamedTuple):
    """What the referral list shows of a child."""

    person_id: uuid.UUID | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None
    match_status: str


# The children of each referral, in order, as plain rows (read-only; as ORM records, children cost
# about twice the CPU to load).
listed_children: ByParent[uuid.UUID, ListedChild] = rows_by_parent(
    ListedChild, _CHILD.referral_id, _CHILD.referral_id, _CHILD.position
)


class NamedChild(NamedTuple):
    """A child as the referral named them, and the person record they were matched to: what the views
    of a referral and of a request for information show of its children, and name in their audit
    entries (all a ``ReferralChild`` holds but its referral and position)."""

    id: uuid.UUID
    person_id: uuid.UUID | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None
    nhs_number: str | None
    address_lines: list[str] | None
    postcode: str | None
    gender: str | None
    ethnicity: str | None
    match_status: str
    match_candidates: list[dict[str, Any]]


named_children: ByParent[uuid.UUID, NamedChild] = rows_by_parent(
    NamedChild, _CHILD.referral_id, _CHILD.referral_id, _CHILD.position
)
# A child as a view shows them: read back (``named_children``), or a new referral's own record.
ShownChild = ReferralChild | NamedChild


class HouseholdMember(NamedTuple):
    """A member of a referral's household as its views show them, read as plain columns (read-only)."""

    id: uuid.UUID
    given_name: str
    family_name: str
    relationship: str
    date_of_birth: date | None
    lives_with_children: bool | None
    parental_responsibility: bool | None


_MEMBER = table_columns(ReferralHouseholdMember)
_HOUSEHOLD = DirectSelect(
    sa.select(*(_MEMBER[name] for name in HouseholdMember._fields))
    .where(_MEMBER.referral_id == sa.bindparam("referral_id"))
    .order_by(_MEMBER.position)
)


async def household(session: AsyncSession, referral_id: uuid.UUID) -> list[HouseholdMember]:
    return [
        HouseholdMember._make(row) for row in await _HOUSEHOLD.rows(session, {"referral_id": referral_id})
    ]


class EarlierReferral(NamedTuple):
    """A referral that named a child before this one did, as the hub's view lists it (read-only)."""

    id: uuid.UUID
    received_at: datetime
    status: str
    outcome: str | None


# The referrals naming each person received before a time, oldest first, as ``EarlierReferral``:
# ``await earlier_referrals(session, person_ids, before=referral.received_at)``.
earlier_referrals = ByParent[uuid.UUID, EarlierReferral](
    _CHILD.person_id,
    sa.select(_CHILD.person_id, _REFERRAL.id, _REFERRAL.received_at, _REFERRAL.status, _REFERRAL.outcome)
    .select_from(table_of(ReferralChild).join(table_of(Referral), _REFERRAL.id == _CHILD.referral_id))
    .where(_REFERRAL.received_at < sa.bindparam("before"))
    .order_by(_REFERRAL.received_at),
    after_key(EarlierReferral._make),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralFilters:
    """The list's filters (and the counts'), each a set of values meaning "any of", or None: declared
    once, as the query parameters of both (the class is their FastAPI dependency)."""

    status: Annotated[
        AnyOf[ReferralStatus] | None, Query(description="Any of these statuses (`a,b` or repeated).")
    ] = None
    rag: Annotated[
        AnyOf[RagRating] | None, Query(description="Any of these RAG ratings (`red,amber` or repeated).")
    ] = None
    referring_agency: Annotated[
        AnyOf[AgencyCode] | None, Query(description="Made by any of these agencies (`a,b` or repeated).")
    ] = None
    source: Annotated[
        AnyOf[CaseSource] | None,
        Query(
            description=(
                "Came from any of: `partner` (made by another agency), `hub` (made by children's social "
                "care), `public` (made by a member of the public through `POST /public/v1/child-concerns`)."
            )
        ),
    ] = None
    # Aware only: a time without an offset cannot be compared with UTC timestamps (it was a 500).
    received_from: Annotated[Instant | None, Query(description="Received at or after (RFC 3339).")] = None
    received_to: Annotated[Instant | None, Query(description="Received before (RFC 3339).")] = None
    overdue: Annotated[
        bool | None,
        Query(description="Only undecided referrals past (true) or within (false) their decision deadline."),
    ] = None
    person_id: Annotated[uuid.UUID | None, Query(description="Only referrals naming this person.")] = None
    external_reference: Annotated[
        ExternalReference | None, Query(description="Only referrals with this `external_reference` (exact).")
    ] = None
    allocation: AllocationQuery


# The list's query parameters (its counts take them too), as one parameter of each handler.
ReferralQuery = Annotated[ReferralFilters, Depends(query(ReferralFilters))]


SORTS = sorts(Referral, "received_at", "decision_due_at")


def open_clause() -> sa.ColumnElement[bool]:
    """Not decided nor withdrawn. The statuses are written into the SQL, not bound: so PostgreSQL can
    tell the clause is the predicate of the partial index of open referrals (a bound list, in a
    generic plan, could be anything) and read the triage queue from it."""
    final: sa.BindParameter[list[str]] = sa.bindparam(
        "final_statuses", sorted(FINAL_REFERRAL_STATUSES), expanding=True, literal_execute=True
    )
    return Referral.status.not_in(final)


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Referral.decision_due_at < now, open_clause())


def filtered(principal: Principal, filters: ReferralFilters, now: datetime, *columns: Any) -> sa.Select[Any]:
    """``SELECT columns`` of the referrals the caller lists that match ``filters``: the one statement
    the list and its counts both narrow, so the counts are of what the list shows."""
    stmt = sa.select(*columns).where(access.listed(principal))
    stmt = where_any(
        stmt,
        (Referral.status, filters.status),
        (Referral.rag_rating, filters.rag),
        (Referral.referring_agency, filters.referring_agency),
    )
    stmt = where_equal(stmt, (Referral.external_reference, filters.external_reference))
    if filters.source:
        stmt = stmt.where(access.from_sources(filters.source))
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
    return where_allocated(stmt, Referral, filters.allocation, principal, hub=access.is_hub(principal))


class ListedReferral(NamedTuple):
    """A referral as the referral list shows it (read-only)."""

    id: uuid.UUID
    status: str
    referring_agency: str
    from_public: bool
    external_reference: str | None
    received_at: datetime
    rag_rating: str | None
    decision_due_at: datetime
    statutory_decision_due_at: datetime
    concern_categories: list[str]
    decision_id: uuid.UUID | None
    outcome: str | None
    outcome_level: int | None
    decided_at: datetime | None
    allocated_worker: str | None
    allocated_team: str | None
    allocated_at: datetime | None
    allocated_by: str | None
    allocation_note: str | None


_LISTED = [_REFERRAL[name] for name in ListedReferral._fields]


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    filters: ReferralFilters,
    sort: Sort,
    params: PageParams,
    now: datetime,
) -> tuple[list[ListedReferral], str | None]:
    # Rows, not ORM records: the list only shows them, and a page of records cost twice the CPU.
    stmt = filtered(principal, filters, now, *_LISTED)
    return await paginate(session, stmt, sort, params, record=ListedReferral._make)


@dataclass(frozen=True, slots=True)
class CountRow:
    status: str
    rag_rating: str | None
    total: int
    overdue: int
    unallocated: int


async def counts(
    session: AsyncSession, principal: Principal, filters: ReferralFilters, now: datetime
) -> list[CountRow]:
    """The listed referrals counted by status and RAG rating, with how many are overdue and
    unallocated, in one statement."""
    stmt = filtered(
        principal,
        filters,
        now,
        Referral.status,
        Referral.rag_rating,
        sa.func.count(),
        sa.func.count(sa.case((overdue_clause(now), 1))),
        sa.func.count(sa.case((unallocated(Referral), 1))),
    ).group_by(Referral.status, Referral.rag_rating)
    return [CountRow(*row) for row in (await session.execute(stmt)).all()]


class OutstandingCheck(NamedTuple):
    """A request to an agency not yet answered, as the referral list shows it (read-only)."""

    id: uuid.UUID
    agency: str
    due_at: datetime


# The requests to agencies not yet answered, on each referral, soonest due first.
_CONTRIBUTION = table_columns(Contribution)
outstanding_checks: ByParent[uuid.UUID, OutstandingCheck] = rows_by_parent(
    OutstandingCheck,
    _CONTRIBUTION.referral_id,
    _CONTRIBUTION.referral_id,
    _CONTRIBUTION.due_at,
    _CONTRIBUTION.id,
    where=_CONTRIBUTION.status == ContributionStatus.REQUESTED,
)


def _earlier_referral_counts() -> sa.Select[uuid.UUID, int]:
    child, other = table_of(ReferralChild).alias(), table_of(ReferralChild).alias()
    this, earlier = table_of(Referral).alias(), table_of(Referral).alias()
    return (
        sa.select(child.c.referral_id, sa.func.count(sa.distinct(earlier.c.id)))
        .join(this, this.c.id == child.c.referral_id)
        .join(
            other, sa.and_(other.c.person_id == child.c.person_id, other.c.referral_id != child.c.referral_id)
        )
        .join(earlier, earlier.c.id == other.c.referral_id)
        .where(
            one_of(child.c.referral_id, "ids"),
            earlier.c.received_at < this.c.received_at,
        )
        .group_by(child.c.referral_id)
    )


# Built once: building it (four aliases, three joins) cost more CPU than running it, on every page.
EARLIER_REFERRAL_COUNTS = _earlier_referral_counts()


async def earlier_referral_counts(
    session: AsyncSession, referral_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """For each referral, how many referrals received before it named any of its children (as
    matched to the person register), in one statement."""
    if not referral_ids:
        return {}
    found = dict.fromkeys(referral_ids, 0)
    for referral_id, n in await session.execute(EARLIER_REFERRAL_COUNTS, {"ids": list(referral_ids)}):
        found[referral_id] = n
    return found


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
