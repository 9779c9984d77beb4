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
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.pagination import PageParams, paginate
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Advocate,
    Allegation,
    BestInterestsDecision,
    CapacityAssessment,
    Enquiry,
    PlanAction,
    PlanReview,
    SafeguardingPlan,
    Section42DecisionRecord,
)
from app.models.disclosure import Disclosure, SubjectAccessRequest
from app.models.person import PersonLink
from app.models.referral import (
    Communication,
    Contribution,
    ContributionResponse,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
    ThresholdDecision,
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
    stmt = readable(principal).where(SubjectAccessRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


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
    if filters.person_id is not None:
        stmt = stmt.where(SubjectAccessRequest.person_id == filters.person_id)
    if filters.status is not None:
        stmt = stmt.where(SubjectAccessRequest.status == filters.status)
    if filters.overdue is not None:
        clause = overdue_clause(today)
        stmt = stmt.where(clause if filters.overdue else sa.not_(clause))
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


@dataclass
class Holdings:
    """What is held on the sides asked for; a side not asked for is None (not loaded at all)."""

    children: ChildrensHoldings | None
    adults: AdultsHoldings | None
    siblings: int  # linked by referrals: the children's side (0 when it is not asked for)
    disclosures: Sequence[Disclosure] = field(default_factory=list)  # of the sides asked for


K = TypeVar("K")
V = TypeVar("V")


def _group(pairs: Sequence[tuple[K, V]]) -> dict[K, list[V]]:
    grouped: dict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return dict(grouped)


async def _counts(session: AsyncSession, stmt: sa.Select[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """``stmt`` selects (referral id, count) pairs."""
    return {row[0]: int(row[1]) for row in await session.execute(stmt)}


async def childrens_holdings(session: AsyncSession, person_id: uuid.UUID) -> ChildrensHoldings:
    named_rows = (
        await session.scalars(sa.select(ReferralChild).where(ReferralChild.person_id == person_id))
    ).all()
    named = {row.referral_id: row for row in named_rows}
    referral_ids = sa.select(ReferralChild.referral_id).where(ReferralChild.person_id == person_id)
    referrals = (
        await session.scalars(
            sa.select(Referral)
            .where(Referral.id.in_(referral_ids))
            .order_by(Referral.received_at, Referral.id)
        )
    ).all()
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
    contributions = (
        await session.scalars(
            sa.select(Contribution)
            .where(Contribution.referral_id.in_(referral_ids))
            .order_by(Contribution.requested_at, Contribution.id)
        )
    ).all()
    answers = (
        await session.scalars(
            sa.select(ContributionResponse)
            .join(Contribution, Contribution.id == ContributionResponse.contribution_id)
            .where(Contribution.referral_id.in_(referral_ids))
            .order_by(ContributionResponse.contribution_id, ContributionResponse.version_number)
        )
    ).all()
    decisions = (
        await session.scalars(
            sa.select(ThresholdDecision)
            .where(ThresholdDecision.referral_id.in_(referral_ids))
            .order_by(ThresholdDecision.proposed_at, ThresholdDecision.id)
        )
    ).all()
    communications = (
        await session.scalars(
            sa.select(Communication)
            .where(Communication.referral_id.in_(referral_ids))
            .order_by(Communication.occurred_at, Communication.id)
        )
    ).all()
    return ChildrensHoldings(
        named=named,
        referrals=referrals,
        other_children=other_children,
        household=household,
        contributions=_group([(c.referral_id, c) for c in contributions]),
        answers=_group([(a.contribution_id, a) for a in answers]),
        decisions=_group([(d.referral_id, d) for d in decisions]),
        communications=_group([(c.referral_id, c) for c in communications]),
    )


async def adults_holdings(session: AsyncSession, person_id: uuid.UUID) -> AdultsHoldings:
    concerns = (
        await session.scalars(
            sa.select(AdultConcern)
            .where(AdultConcern.person_id == person_id)
            .order_by(AdultConcern.received_at, AdultConcern.id)
        )
    ).all()
    concern_ids = sa.select(AdultConcern.id).where(AdultConcern.person_id == person_id)
    allegations = (
        await session.scalars(
            sa.select(Allegation)
            .where(Allegation.concern_id.in_(concern_ids))
            .order_by(Allegation.concern_id, Allegation.position)
        )
    ).all()
    decisions = (
        await session.scalars(
            sa.select(Section42DecisionRecord).where(Section42DecisionRecord.concern_id.in_(concern_ids))
        )
    ).all()
    enquiries = (await session.scalars(sa.select(Enquiry).where(Enquiry.concern_id.in_(concern_ids)))).all()
    advocacy = (
        await session.execute(
            sa.select(Advocacy, Advocate)
            .outerjoin(Advocate, Advocate.id == Advocacy.advocate_id)
            .where(Advocacy.concern_id.in_(concern_ids))
            .order_by(Advocacy.recorded_at, Advocacy.id)
        )
    ).all()
    assessments = (
        await session.scalars(
            sa.select(CapacityAssessment)
            .where(CapacityAssessment.person_id == person_id)
            .order_by(CapacityAssessment.assessed_at, CapacityAssessment.id)
        )
    ).all()
    best_interests = (
        await session.scalars(
            sa.select(BestInterestsDecision)
            .join(CapacityAssessment, CapacityAssessment.id == BestInterestsDecision.assessment_id)
            .where(CapacityAssessment.person_id == person_id)
        )
    ).all()
    plans = (
        await session.scalars(
            sa.select(SafeguardingPlan)
            .where(SafeguardingPlan.person_id == person_id)
            .order_by(SafeguardingPlan.created_at, SafeguardingPlan.id)
        )
    ).all()
    plan_ids = sa.select(SafeguardingPlan.id).where(SafeguardingPlan.person_id == person_id)
    actions = (
        await session.scalars(
            sa.select(PlanAction)
            .where(PlanAction.plan_id.in_(plan_ids))
            .order_by(PlanAction.plan_id, PlanAction.position)
        )
    ).all()
    reviews = (
        await session.scalars(
            sa.select(PlanReview)
            .where(PlanReview.plan_id.in_(plan_ids))
            .order_by(PlanReview.held_on, PlanReview.recorded_at, PlanReview.id)
        )
    ).all()
    return AdultsHoldings(
        concerns=concerns,
        allegations=_group([(a.concern_id, a) for a in allegations]),
        decisions={d.concern_id: d for d in decisions},
        enquiries={e.concern_id: e for e in enquiries},
        advocacy=_group([(a.concern_id, (a, advocate)) for a, advocate in advocacy]),
        assessments=assessments,
        best_interests={b.assessment_id: b for b in best_interests},
        plans=plans,
        actions=_group([(a.plan_id, a) for a in actions]),
        reviews=_group([(r.plan_id, r) for r in reviews]),
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
    return Holdings(
        children=await childrens_holdings(session, person_id) if children else None,
        adults=await adults_holdings(session, person_id) if RecordSide.ADULTS in sides else None,
        siblings=int(siblings),
        disclosures=await disclosures.all_for_person(session, person_id, sides),
    )
