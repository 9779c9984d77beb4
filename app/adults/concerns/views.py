"""Turning an adult concern into what the caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdultConcernStatus
from app.adults.concerns import access, repository
from app.adults.concerns.access import View
from app.adults.concerns.schemas import (
    AdultConcernForRaiser,
    AdultConcernFull,
    AdultConcernSummary,
    AdultOut,
    AdvocacyOut,
    AdvocacyState,
    AllegationChangeOut,
    AllegationIn,
    AllegationOut,
    ConcernInformationOut,
    ConcernWithdrawalOut,
    CriterionOut,
    EnquiryAdult,
    EnquiryOut,
    EnquirySummary,
    FeedbackOut,
    Section42DecisionOut,
)
from app.adults.concerns.service import EnquiryPage, advocate_outstanding, enquiry_overdue, is_overdue
from app.children.referrals.schemas import ChildMatch
from app.core import senders
from app.core.allocation import allocation_out
from app.core.rendering import from_record
from app.models.adult import (
    AdultConcern,
    Allegation,
    AllegationChange,
    ConcernInformation,
    Enquiry,
    Section42DecisionRecord,
)
from app.models.base import table_columns, utcnow


def adult(concern: AdultConcern, *, hub: bool = True) -> AdultOut:
    # person_id is the hub's own link between records; the raising agency does not see it.
    return from_record(
        AdultOut,
        concern,
        person_id=concern.person_id if hub else None,
    )


def decision_out(record: Section42DecisionRecord) -> Section42DecisionOut:
    return from_record(
        Section42DecisionOut,
        record,
        care_and_support_needs=CriterionOut(**record.care_and_support_needs),
        experiencing_or_at_risk=CriterionOut(**record.experiencing_or_at_risk),
        unable_to_protect_self=CriterionOut(**record.unable_to_protect_self),
        feedback_limited=record.feedback_limited_reason is not None,
    )


def allegation_out(allegation: Allegation, changes: Sequence[AllegationChange] = ()) -> AllegationOut:
    return from_record(
        AllegationOut,
        allegation,
        corrections=[
            AllegationChangeOut.model_validate(c) for c in changes if c.allegation_id == allegation.id
        ],
    )


async def allegation_outs(session: AsyncSession, allegations: Sequence[Allegation]) -> list[AllegationOut]:
    """The allegations as the enquiry found them, each with its corrections."""
    changes = await repository.allegation_changes(session, [a.id for a in allegations])
    return [allegation_out(a, changes) for a in allegations]


async def as_raised(session: AsyncSession, allegations: Sequence[Allegation]) -> list[AllegationIn]:
    """The allegations as the concern raised them: none the enquiry added, none of its corrections (what
    the enquiry found is the hub's)."""
    raised = [a for a in allegations if a.enquiry_id is None]
    before: dict[uuid.UUID, dict[str, str]] = {}
    for change in await repository.allegation_changes(session, [a.id for a in raised]):
        first = before.setdefault(change.allegation_id, {})
        for name, values in change.changes.items():
            first.setdefault(name, values["before"])
    return [from_record(AllegationIn, a, **before.get(a.id, {})) for a in raised]


def enquiry_out(enquiry: Enquiry, allegations: Sequence[AllegationOut], *, hub: bool) -> EnquiryOut:
    """``hub``: adult social care's view. The agency leading or caused the enquiry is not told which hub
    staff opened or concluded it (nor who added or corrected an allegation)."""
    out = EnquiryOut.model_validate(enquiry)
    out.allegations = list(allegations) if hub else [enquiry_out_allegation(a) for a in allegations]
    if not hub:
        out.opened_by = out.concluded_by = None
    return out


async def enquiry_view(
    session: AsyncSession, enquiry: Enquiry, allegations: Sequence[Allegation], *, hub: bool
) -> EnquiryOut:
    """The enquiry with its allegations as it found them, as the caller sees it."""
    return enquiry_out(enquiry, await allegation_outs(session, allegations), hub=hub)


def enquiry_out_allegation(allegation: AllegationOut) -> AllegationOut:
    """An allegation as the agency leading (or caused) the enquiry sees it: without the hub's staff."""
    for correction in allegation.corrections:
        correction.changed_by = None
    allegation.added_by = None
    return allegation


def withdrawal(concern: AdultConcern) -> ConcernWithdrawalOut | None:
    return senders.withdrawal(concern, ConcernWithdrawalOut)


additions = senders.Additions(table_columns(ConcernInformation).concern_id, ConcernInformationOut)


async def full(session: AsyncSession, concern: AdultConcern) -> AdultConcernFull:
    allegations = await repository.allegations(session, concern.id)
    decision = await repository.decision(session, concern.id)
    enquiry = await repository.enquiry_of(session, concern.id)
    advocacy = await repository.latest_advocacy(session, concern.id)
    return from_record(
        AdultConcernFull,
        concern,
        overdue=is_overdue(concern, utcnow()),
        adult=adult(concern),
        match=ChildMatch(status=concern.match_status, candidates=concern.match_candidates),
        allegations=await allegation_outs(session, allegations),
        section_42_decision=None if decision is None else decision_out(decision),
        enquiry_id=None if enquiry is None else enquiry.id,
        advocacy=None if advocacy is None else AdvocacyOut.model_validate(advocacy),
        advocate_required=advocate_outstanding(advocacy),
        withdrawal=withdrawal(concern),
        additional_information=await additions(session, concern.id),
    )


async def for_raiser(session: AsyncSession, concern: AdultConcern) -> AdultConcernForRaiser:
    allegations = await repository.allegations(session, concern.id)
    decision = await repository.decision(session, concern.id)
    limited = decision is not None and decision.feedback_limited_reason is not None
    feedback = None
    if decision is not None and not limited:
        feedback = FeedbackOut(
            decision=decision.decision, feedback=decision.referrer_feedback, decided_at=decision.decided_at
        )
    return from_record(
        AdultConcernForRaiser,
        concern,
        status=access.status_told(concern.status, feedback_limited=limited),
        adult=adult(concern, hub=False),
        allegations=await as_raised(session, allegations),
        feedback=feedback,
        feedback_limited=limited,
        withdrawn=concern.status == AdultConcernStatus.WITHDRAWN,
        # The raising agency sees what it added itself, not adult social care's notes.
        additional_information=await additions(session, concern.id, by_agency=concern.raising_agency),
    )


async def render(
    session: AsyncSession, concern: AdultConcern, view: View
) -> AdultConcernFull | AdultConcernForRaiser:
    return await full(session, concern) if view is View.FULL else await for_raiser(session, concern)


async def summaries(
    session: AsyncSession,
    concerns: Sequence[AdultConcern],
    *,
    hub: bool,
    enquiries: Mapping[uuid.UUID, uuid.UUID] | None = None,
) -> list[AdultConcernSummary]:
    limited = set() if hub else await access.feedback_limited(session, [c.id for c in concerns])
    found = enquiries or {}
    return [
        summary(c, hub=hub, feedback_limited=c.id in limited, enquiry_id=found.get(c.id)) for c in concerns
    ]


def summary(
    concern: AdultConcern, *, hub: bool, feedback_limited: bool = False, enquiry_id: uuid.UUID | None = None
) -> AdultConcernSummary:
    """``enquiry_id`` and the allocation are adult social care's: null for the raising agency (an
    enquiry may be what limited feedback withholds)."""
    return from_record(
        AdultConcernSummary,
        concern,
        status=concern.status
        if hub
        else access.status_told(concern.status, feedback_limited=feedback_limited),
        source=access.source(concern),
        overdue=is_overdue(concern, utcnow()),
        person_id=concern.person_id if hub else None,
        enquiry_id=enquiry_id if hub else None,
        allocation=allocation_out(concern, hub=hub),
    )


def enquiry_summaries(page: EnquiryPage, now: datetime, *, hub: bool) -> list[EnquirySummary]:
    """The enquiry list's items. The agency leading an enquiry or caused it sees no hub staff (no
    allocation) and not the person register's link."""
    items = []
    for enquiry in page.enquiries:
        adult = page.adults[enquiry.concern_id]
        advocacy = page.advocacy.get(enquiry.concern_id)
        items.append(
            from_record(
                EnquirySummary,
                enquiry,
                overdue=enquiry_overdue(enquiry, now),
                adult=EnquiryAdult(
                    person_id=adult.person_id if hub else None,
                    given_name=adult.given_name,
                    family_name=adult.family_name,
                    date_of_birth=adult.date_of_birth,
                ),
                allocation=allocation_out(enquiry, hub=hub),
                advocacy=None
                if advocacy is None
                else AdvocacyState(
                    required=advocacy.required,
                    offer=advocacy.offer,
                    advocate_outstanding=advocate_outstanding(advocacy),
                ),
            )
        )
    return items
