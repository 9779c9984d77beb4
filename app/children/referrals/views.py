"""Turning a referral into what the caller may see (see ``app.children.referrals.schemas`` for the three views)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ReferralStatus
from app.children.decisions import repository as decisions_repository
from app.children.referrals import access, repository
from app.children.referrals.access import View
from app.children.referrals.repository import CountRow, ListedReferral, ShownChild, ShownReferral
from app.children.referrals.schemas import (
    AddressOut,
    ChildIdentity,
    ChildMatch,
    ChildOut,
    ChildSummary,
    ConsentOverrideOut,
    HouseholdMemberOut,
    OutcomeOut,
    OutstandingCheck,
    ParentalConsentOut,
    PreviousReferral,
    RagOut,
    ReferralCounts,
    ReferralForAskedAgency,
    ReferralForReferrer,
    ReferralFull,
    ReferralInformationOut,
    ReferralRagCounts,
    ReferralStatusCounts,
    ReferralSummary,
    ReferrerOut,
    RequestToAgency,
)
from app.children.referrals.service import ReadReferral, ReferralPage, is_overdue
from app.core import senders
from app.core.allocation import allocation_out
from app.core.clock import age_on, local_date
from app.core.rendering import from_record
from app.core.scopes import AgencyCode
from app.core.senders import WithdrawalOut
from app.models.base import table_columns, utcnow
from app.models.referral import ReferralHouseholdMember, ReferralInformation
from app.people import repository as people_repository
from app.people.codes import MatchStatus
from app.people.schemas import PersonRef

# The Children in Need census counts a referral as a repeat when another came within 12 months.
REPEAT_WINDOW = timedelta(days=365)


def child_identity(child: ShownChild, *, hub: bool = True) -> ChildIdentity:
    """The child as the referral named them. ``person_id`` is the hub's own link between records: a
    partner agency does not see it, or it could tell which of its referrals are about the same child."""
    address = None
    if child.address_lines or child.postcode:
        address = AddressOut(lines=child.address_lines or [], postcode=child.postcode)
    return from_record(ChildIdentity, child, person_id=child.person_id if hub else None, address=address)


# The parts of a referral that every rendering of it (the views here, the subject access export)
# builds the same way.


def outcome(referral: ShownReferral | ListedReferral) -> OutcomeOut | None:
    if referral.decision_id is None or referral.outcome is None or referral.decided_at is None:
        return None
    return OutcomeOut(
        decision_id=referral.decision_id,
        level=referral.outcome_level or 0,
        outcome=referral.outcome,
        decided_at=referral.decided_at,
    )


def consent(referral: ShownReferral) -> ParentalConsentOut:
    return ParentalConsentOut(
        informed=referral.parents_informed,
        consented=referral.parents_consented,
        reason_not_informed=referral.consent_reason,
    )


def consent_override(referral: ShownReferral) -> ConsentOverrideOut | None:
    if referral.consent_override_at is None:
        return None
    return ConsentOverrideOut(
        reason=referral.consent_override_reason or "",
        lawful_basis=referral.consent_override_basis,
        special_category_condition=referral.consent_override_special_category,
        authorised_by=referral.consent_override_by or "",
        authorised_at=referral.consent_override_at,
    )


def rag(referral: ShownReferral) -> RagOut | None:
    if referral.rag_rating is None or referral.rag_rated_at is None:
        return None
    return RagOut(
        rating=referral.rag_rating,
        rationale=referral.rag_rationale or "",
        rated_by=referral.rag_rated_by or "",
        rated_at=referral.rag_rated_at,
    )


def withdrawal(referral: ShownReferral) -> WithdrawalOut | None:
    return senders.withdrawal(referral, WithdrawalOut)


additions = senders.Additions(table_columns(ReferralInformation).referral_id, ReferralInformationOut)


async def full(
    session: AsyncSession,
    referral: ShownReferral,
    *,
    children: Sequence[ShownChild] | None = None,
    household: Sequence[ReferralHouseholdMember] | Sequence[repository.HouseholdMember] | None = None,
    siblings: Mapping[uuid.UUID, Sequence[people_repository.Sibling]] | None = None,
    added: Sequence[ReferralInformationOut] | None = None,
) -> ReferralFull:
    """The hub's view; pass ``children``, ``household``, the children's ``siblings`` and what was
    ``added`` to the referral when they are at hand (a new referral, which has nothing added yet, or a
    read that loaded them to audit them)."""
    if children is None:
        children = await repository.named_children.of(session, referral.id)
    person_ids = [c.person_id for c in children if c.person_id is not None]
    if siblings is None:
        siblings = await people_repository.siblings(session, person_ids)
    earlier_of = await repository.earlier_referrals(session, person_ids, before=referral.received_at)
    if household is None:
        household = await repository.household(session, referral.id)
    decided = await decisions_repository.outcomes(session, referral.decision_id)
    now = utcnow()

    def child_out(child: ShownChild) -> ChildOut:
        earlier = earlier_of.get(child.person_id, []) if child.person_id else []
        return ChildOut(
            **child_identity(child).model_dump(),
            match=ChildMatch(status=child.match_status, candidates=child.match_candidates),
            siblings=[PersonRef.model_validate(s) for s in siblings.get(child.person_id, [])]
            if child.person_id
            else [],
            previous_referrals=[
                PreviousReferral(
                    referral_id=r.id, received_at=r.received_at, status=r.status, outcome=r.outcome
                )
                for r in earlier
            ],
            repeat_referral=any(referral.received_at - r.received_at <= REPEAT_WINDOW for r in earlier),
            decision=decided.get(child.id),
        )

    return from_record(
        ReferralFull,
        referral,
        overdue=is_overdue(referral, now),
        referrer=ReferrerOut(**referral.referrer),
        parental_consent=consent(referral),
        consent_override=consent_override(referral),
        rag=rag(referral),
        children=[child_out(c) for c in children],
        household=[HouseholdMemberOut.model_validate(m, from_attributes=True) for m in household],
        outcome=outcome(referral),
        withdrawal=withdrawal(referral),
        additional_information=await additions(session, referral.id) if added is None else added,
    )


async def for_referrer(
    session: AsyncSession,
    referral: ShownReferral,
    *,
    children: Sequence[ShownChild] | None = None,
    household: Sequence[ReferralHouseholdMember] | Sequence[repository.HouseholdMember] | None = None,
    added: Sequence[ReferralInformationOut] | None = None,
) -> ReferralForReferrer:
    if children is None:
        children = await repository.named_children.of(session, referral.id)
    if household is None:
        household = await repository.household(session, referral.id)
    return from_record(
        ReferralForReferrer,
        referral,
        referrer=ReferrerOut(**referral.referrer),
        parental_consent=consent(referral),
        children=[child_identity(c, hub=False) for c in children],
        household=[HouseholdMemberOut.model_validate(m, from_attributes=True) for m in household],
        outcome=outcome(referral),
        withdrawn=referral.status == ReferralStatus.WITHDRAWN,
        # The referring agency sees what it added itself, not the hub's notes.
        additional_information=(
            await additions(session, referral.id, by_agency=referral.referring_agency)
            if added is None
            else added
        ),
    )


async def for_asked_agency(
    session: AsyncSession,
    referral: ShownReferral,
    agency: str,
    *,
    children: Sequence[ShownChild] | None = None,
) -> ReferralForAskedAgency:
    if children is None:
        children = await repository.named_children.of(session, referral.id)
    requests = await repository.requests_to(session, referral.id, agency)
    return ReferralForAskedAgency(
        id=referral.id,
        children=[child_identity(c, hub=False) for c in children],
        requests=[
            RequestToAgency(contribution_id=r.id, question=r.question, due_at=r.due_at, status=r.status)
            for r in requests
        ],
    )


async def render(
    session: AsyncSession,
    referral: ShownReferral,
    view: View,
    agency: AgencyCode,
    *,
    children: Sequence[ShownChild] | None = None,
    siblings: Mapping[uuid.UUID, Sequence[people_repository.Sibling]] | None = None,
) -> ReferralFull | ReferralForReferrer | ReferralForAskedAgency:
    if view is View.FULL:
        return await full(session, referral, children=children, siblings=siblings)
    if view is View.REFERRER:
        return await for_referrer(session, referral, children=children)
    return await for_asked_agency(session, referral, agency, children=children)


async def render_read(
    session: AsyncSession, read: ReadReferral, view: View, agency: AgencyCode
) -> ReferralFull | ReferralForReferrer | ReferralForAskedAgency:
    """``render``, from the rows ``service.read`` loaded."""
    return await render(session, read.referral, view, agency, children=read.children, siblings=read.siblings)


def child_summary(child: repository.ListedChild, today: date, *, hub: bool) -> ChildSummary:
    born = child.date_of_birth
    return ChildSummary(
        person_id=child.person_id if hub else None,
        given_name=child.given_name,
        family_name=child.family_name,
        date_of_birth=born,
        expected_date_of_birth=child.expected_date_of_birth,
        age=None if born is None else max(0, age_on(born, today)),
    )


def summaries(page: ReferralPage, now: datetime, *, hub: bool) -> list[ReferralSummary]:
    """The list's items: the hub's with its work queue's fields, a partner's as sent."""
    today = local_date(now)
    return [summary(page, referral, now, today, hub=hub) for referral in page.referrals]


def summary(
    page: ReferralPage, referral: ListedReferral, now: datetime, today: date, *, hub: bool
) -> ReferralSummary:
    children = page.children[referral.id]
    return from_record(
        ReferralSummary,
        referral,
        statutory_decision_due_at=referral.statutory_decision_due_at if hub else None,
        source=access.source(referral),
        overdue=is_overdue(referral, now),
        children=[child_summary(c, today, hub=hub) for c in children],
        outcome=outcome(referral),
        allocation=allocation_out(referral, hub=hub),
        outstanding_checks=[
            OutstandingCheck(
                contribution_id=check.id,
                agency=check.agency,
                due_at=check.due_at,
                overdue=check.due_at < now,
            )
            for check in page.checks[referral.id]
        ]
        if hub
        else None,
        match_pending=any(c.match_status == MatchStatus.PENDING for c in children) if hub else None,
        earlier_referrals=page.earlier[referral.id] if hub else None,
    )


def counts(rows: Sequence[CountRow], *, hub: bool) -> ReferralCounts:
    by_status = dict.fromkeys(ReferralStatusCounts.model_fields, 0)
    by_rag = dict.fromkeys(ReferralRagCounts.model_fields, 0)
    for row in rows:
        by_status[row.status] += row.total
        by_rag[row.rag_rating or "unrated"] += row.total
    return ReferralCounts(
        total=sum(row.total for row in rows),
        by_status=ReferralStatusCounts(**by_status),
        by_rag=ReferralRagCounts(**by_rag),
        overdue=sum(row.overdue for row in rows),
        unallocated=sum(row.unallocated for row in rows) if hub else None,
    )
