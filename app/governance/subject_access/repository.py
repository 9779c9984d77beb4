"""Queries for subject access: the requests, and everything held about one person.

``holdings`` loads a person's whole record in a fixed number of queries (about twenty), however many
referrals, concerns or plans they have: each kind of record is fetched once for all of them, keyed by
a subquery on the person, never one query per record.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.filters import where_equal, where_flag
from app.core.pagination import PageParams, paginate
from app.core.readable import one
from app.documents import repository as documents
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Advocate,
    Allegation,
    BestInterestsDecision,
    CapacityAssessment,
    ConcernInformation,
    Enquiry,
    PlanAction,
    PlanReview,
    SafeguardingAdultsReview,
    SafeguardingPlan,
    Section42DecisionRecord,
)
from app.models.disclosure import Disclosure, SubjectAccessRequest
from app.models.document import Document
from app.models.person import PersonLink
from app.models.protection import Assessment, Section47Enquiry, StrategyDiscussion
from app.models.referral import (
    Communication,
    Contribution,
    ContributionResponse,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
    ReferralInformation,
    ThresholdDecision,
    ThresholdDecisionChild,
)
from app.people import access
from app.people.access import RecordSide
from app.people.disclosures import repository as disclosures

# ---------------------------------------------------------------------------------------------------
# Requests


def readable(principal: Principal) -> sa.Select[SubjectAccessRequest]:
    """Requests are about people: seen by whoever reads the register (``app.people.access``)."""
    return sa.select(SubjectAccessRequest).where(access.register_clause(principal))


async def get(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, for_update: bool = False
) -> SubjectAccessRequest | None:
    return await one(
        session, readable(principal).where(SubjectAccessRequest.id == request_id), for_update=for_update
    )


@dataclass(frozen=True, slots=True)
class RequestFilters:
    person_id: uuid.UUID | None = None
    status: str | None = None
    overdue: bool | None = None


def overdue_clause(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(SubjectAccessRequest.status == "open", SubjectAccessRequest.due_on < today)


async def list_requests(
    session: AsyncSession, principal: Principal, filters: RequestFilters, params: PageParams, today: date
) -> tuple[list[SubjectAccessRequest], str | None]:
    stmt = readable(principal)
    stmt = where_equal(
        stmt,
        (SubjectAccessRequest.person_id, filters.person_id),
        (SubjectAccessRequest.status, filters.status),
    )
    stmt = where_flag(stmt, filters.overdue, overdue_clause(today))
    return await paginate(session, stmt, [SubjectAccessRequest.created_at, SubjectAccessRequest.id], params)


# ---------------------------------------------------------------------------------------------------
# Everything held about a person


@dataclass
class ChildrensHoldings:
    named: dict[uuid.UUID, ReferralChild]  # referral id → the person as that referral named them
    referrals: Sequence[Referral]
    other_children: dict[uuid.UUID, int]  # referral id → how many other children it names
    household: dict[uuid.UUID, int]  # referral id → how many household members it names
    contributions: dict[uuid.UUID, list[Contribution]]
    answers: dict[uuid.UUID, list[ContributionResponse]]  # contribution id → versions, oldest first
    decisions: dict[uuid.UUID, list[ThresholdDecision]]
    communications: dict[uuid.UUID, list[Communication]]
    additions: dict[uuid.UUID, list[ReferralInformation]]
    # After the decision: the person's own assessments and section 47 enquiries, and the strategy
    # discussions of the referrals (the export keeps those about the person), by referral id.
    assessments: dict[uuid.UUID, list[Assessment]]
    discussions: dict[uuid.UUID, list[StrategyDiscussion]]
    enquiries: dict[uuid.UUID, list[Section47Enquiry]]
    # decision id → the decision on the person (not on the other children: theirs are third-party data)
    on_person: dict[uuid.UUID, list[ThresholdDecisionChild]] = field(default_factory=dict)


@dataclass
class AdultsHoldings:
    concerns: Sequence[AdultConcern]
    allegations: dict[uuid.UUID, list[Allegation]]
    decisions: dict[uuid.UUID, Section42DecisionRecord]
    enquiries: dict[uuid.UUID, Enquiry]
    advocacy: dict[uuid.UUID, list[tuple[Advocacy, Advocate | None]]]
    assessments: Sequence[CapacityAssessment]
    best_interests: dict[uuid.UUID, BestInterestsDecision]
    plans: Sequence[SafeguardingPlan]
    actions: dict[uuid.UUID, list[PlanAction]]
    reviews: dict[uuid.UUID, list[PlanReview]]
    concern_additions: dict[uuid.UUID, list[ConcernInformation]]
    safeguarding_adults_reviews: Sequence[SafeguardingAdultsReview] = ()


@dataclass
class Holdings:
    """What is held on the sides asked for; a side not asked for is None (not loaded at all)."""

    children: ChildrensHoldings | None
    adults: AdultsHoldings | None
    siblings: int  # linked by referrals: the children's side (0 when it is not asked for)
    disclosures: Sequence[Disclosure] = field(default_factory=list)  # of the sides asked for
    documents: Sequence[Document] = field(default_factory=list)  # on the records of the sides asked for


K = TypeVar("K")
V = TypeVar("V")


def _group(pairs: Sequence[tuple[K, V]]) -> dict[K, list[V]]:
    grouped: dict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return dict(grouped)


async def _rows(
    session: AsyncSession, key: Any, match: uuid.UUID | sa.Select[Any], order_by: tuple[Any, ...] = ()
) -> Sequence[Any]:
    """The rows of ``key``'s table whose ``key`` is ``match`` (an id, or one of a subquery's ids), in
    ``order_by`` order."""
    where = key.in_(match) if isinstance(match, sa.Select) else key == match
    return (await session.scalars(sa.select(key.class_).where(where).order_by(*order_by))).all()


async def _grouped(
    session: AsyncSession, key: Any, ids: sa.Select[Any], order_by: tuple[Any, ...]
) -> dict[uuid.UUID, list[Any]]:
    """``_rows`` of a subquery's ids, grouped by ``key``."""
    return _group([(getattr(row, key.key), row) for row in await _rows(session, key, ids, order_by)])


async def _counts(session: AsyncSession, stmt: sa.Select[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """``stmt`` selects (referral id, count) pairs."""
    return {row[0]: int(row[1]) for row in await session.execute(stmt)}


# The records read for all of a person's referrals, concerns or plans at once, a query each:
# (the holdings' field, [whose records,] the column naming the referral, person, concern or plan,
# the order they are kept in).
_OF_REFERRALS = (
    ("contributions", Contribution.referral_id, (Contribution.requested_at, Contribution.id)),
    ("decisions", ThresholdDecision.referral_id, (ThresholdDecision.proposed_at, ThresholdDecision.id)),
    ("communications", Communication.referral_id, (Communication.occurred_at, Communication.id)),
    ("additions", ReferralInformation.referral_id, (ReferralInformation.added_at, ReferralInformation.id)),
    ("discussions", StrategyDiscussion.referral_id, (StrategyDiscussion.held_at, StrategyDiscussion.id)),
)
# The records about one child of a referral (the person as the referral named them), a query each.
_OF_NAMED_CHILD = (
    ("assessments", Assessment.child_id, (Assessment.started_on, Assessment.id)),
    ("enquiries", Section47Enquiry.child_id, (Section47Enquiry.started_on, Section47Enquiry.id)),
)
_OF_ADULT = (
    ("concerns", AdultConcern.person_id, (AdultConcern.received_at, AdultConcern.id)),
    ("assessments", CapacityAssessment.person_id, (CapacityAssessment.assessed_at, CapacityAssessment.id)),
    ("plans", SafeguardingPlan.person_id, (SafeguardingPlan.created_at, SafeguardingPlan.id)),
    (
        "safeguarding_adults_reviews",
        SafeguardingAdultsReview.person_id,
        (SafeguardingAdultsReview.created_at, SafeguardingAdultsReview.id),
    ),
)
_OF_CONCERNS_AND_PLANS = (
    ("allegations", "concerns", Allegation.concern_id, (Allegation.concern_id, Allegation.position)),
    ("actions", "plans", PlanAction.plan_id, (PlanAction.plan_id, PlanAction.position)),
    ("reviews", "plans", PlanReview.plan_id, (PlanReview.held_on, PlanReview.recorded_at, PlanReview.id)),
    (
        "concern_additions",
        "concerns",
        ConcernInformation.concern_id,
        (ConcernInformation.added_at, ConcernInformation.id),
    ),
)


async def childrens_holdings(session: AsyncSession, person_id: uuid.UUID) -> ChildrensHoldings:
    named_rows = await _rows(session, ReferralChild.person_id, person_id)
    named = {row.referral_id: row for row in named_rows}
    referral_ids = sa.select(ReferralChild.referral_id).where(ReferralChild.person_id == person_id)
    referrals = await _rows(session, Referral.id, referral_ids, (Referral.received_at, Referral.id))
    other_children = await _counts(
        session,
        sa.select(ReferralChild.referral_id, sa.func.count())
        .where(
            ReferralChild.referral_id.in_(referral_ids),
            sa.or_(ReferralChild.person_id.is_(None), ReferralChild.person_id != person_id),
        )
        .group_by(ReferralChild.referral_id),
    )
    household = await _counts(
        session,
        sa.select(ReferralHouseholdMember.referral_id, sa.func.count())
        .where(ReferralHouseholdMember.referral_id.in_(referral_ids))
        .group_by(ReferralHouseholdMember.referral_id),
    )
    answers = (
        await session.scalars(
            sa.select(ContributionResponse)
            .join(Contribution, Contribution.id == ContributionResponse.contribution_id)
            .where(Contribution.referral_id.in_(referral_ids))
            .order_by(ContributionResponse.contribution_id, ContributionResponse.version_number)
        )
    ).all()
    by_referral: dict[str, Any] = {
        field: await _grouped(session, key, referral_ids, order_by) for field, key, order_by in _OF_REFERRALS
    }
    named_ids = sa.select(ReferralChild.id).where(ReferralChild.person_id == person_id)
    on_person = await _rows(session, ThresholdDecisionChild.referral_child_id, named_ids)
    by_referral["on_person"] = _group([(e.decision_id, e) for e in on_person])
    for name, key, order_by in _OF_NAMED_CHILD:
        by_referral[name] = _group(
            [(row.referral_id, row) for row in await _rows(session, key, named_ids, order_by)]
        )
    return ChildrensHoldings(
        named=named,
        referrals=referrals,
        other_children=other_children,
        household=household,
        answers=_group([(a.contribution_id, a) for a in answers]),
        **by_referral,
    )


async def adults_holdings(session: AsyncSession, person_id: uuid.UUID) -> AdultsHoldings:
    of_person: dict[str, Any] = {
        field: await _rows(session, key, person_id, order_by) for field, key, order_by in _OF_ADULT
    }
    concern_ids = sa.select(AdultConcern.id).where(AdultConcern.person_id == person_id)
    plan_ids = sa.select(SafeguardingPlan.id).where(SafeguardingPlan.person_id == person_id)
    owners = {"concerns": concern_ids, "plans": plan_ids}
    grouped: dict[str, Any] = {
        field: await _grouped(session, key, owners[owner], order_by)
        for field, owner, key, order_by in _OF_CONCERNS_AND_PLANS
    }
    decisions = await _rows(session, Section42DecisionRecord.concern_id, concern_ids)
    enquiries = await _rows(session, Enquiry.concern_id, concern_ids)
    advocacy = (
        await session.execute(
            sa.select(Advocacy, Advocate)
            .outerjoin(Advocate, Advocate.id == Advocacy.advocate_id)
            .where(Advocacy.concern_id.in_(concern_ids))
            .order_by(Advocacy.recorded_at, Advocacy.id)
        )
    ).all()
    best_interests = (
        await session.scalars(
            sa.select(BestInterestsDecision)
            .join(CapacityAssessment, CapacityAssessment.id == BestInterestsDecision.assessment_id)
            .where(CapacityAssessment.person_id == person_id)
        )
    ).all()
    return AdultsHoldings(
        decisions={d.concern_id: d for d in decisions},
        enquiries={e.concern_id: e for e in enquiries},
        advocacy=_group([(a.concern_id, (a, advocate)) for a, advocate in advocacy]),
        best_interests={b.assessment_id: b for b in best_interests},
        **of_person,
        **grouped,
    )


async def holdings(session: AsyncSession, person_id: uuid.UUID, sides: frozenset[RecordSide]) -> Holdings:
    """Everything held about the person on ``sides``; the other side is not read at all."""
    children = RecordSide.CHILDREN in sides
    siblings = 0
    if children:
        siblings = (
            await session.scalar(
                sa.select(sa.func.count()).where(
                    PersonLink.person_id == person_id, PersonLink.relationship == "sibling"
                )
            )
            or 0
        )
    held_children = await childrens_holdings(session, person_id) if children else None
    held_adults = await adults_holdings(session, person_id) if RecordSide.ADULTS in sides else None
    return Holdings(
        children=held_children,
        adults=held_adults,
        siblings=int(siblings),
        disclosures=await disclosures.all_for_person(session, person_id, sides),
        documents=await _documents(session, held_children, held_adults),
    )


async def _documents(
    session: AsyncSession, children: ChildrensHoldings | None, adults: AdultsHoldings | None
) -> Sequence[Document]:
    """The documents on the records held (the sides read only)."""
    return await documents.of_parents(
        session,
        referral_ids=[r.id for r in children.referrals] if children else [],
        contribution_ids=[c.id for cs in children.contributions.values() for c in cs] if children else [],
        concern_ids=[c.id for c in adults.concerns] if adults else [],
        enquiry_ids=[e.id for e in adults.enquiries.values()] if adults else [],
    )
