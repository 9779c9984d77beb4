"""Strategy discussions, section 47 enquiries and initial child protection conferences.

A strategy discussion about children accepted as a referral needs police, health and children's
social care at least (Working Together 2023). Its ``section_47_enquiry`` decision starts one enquiry
per child, each with its conference due 15 working days after the discussion (its London date),
stored with the enquiry. A manager records the enquiry's outcome once; an outcome of
``initial_child_protection_conference`` calls a conference, recorded once, with a category of abuse
when it makes a child protection plan and its lateness against ``icpc_due_on`` kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.children import pathway
from app.children.codes import ConferenceOutcome, StrategyDiscussionDecision
from app.children.protection import access, repository, status
from app.children.protection.schemas import ConferenceIn, Section47OutcomeIn, StrategyDiscussionIn
from app.children.protection.status import Action
from app.children.referrals import service as referrals
from app.children.referrals.acceptance import accepted_children
from app.core import audit
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock, local_date
from app.core.errors import ValidationFailed
from app.core.events import EventType
from app.core.pagination import PageParams
from app.core.scopes import AgencyCode
from app.models.base import utcnow
from app.models.protection import Section47Enquiry, StrategyDiscussion
from app.models.referral import ReferralChild

DISCUSSION_RECORD = "strategy_discussion"
ENQUIRY_RECORD = "section_47_enquiry"
# Working Together to Safeguard Children 2023: an initial child protection conference within 15
# working days of the strategy discussion.
ICPC_WORKING_DAYS = 15
# Who must be at a strategy discussion, at least (health: the agency of GPs, health visitors, school
# nurses, hospitals and mental health services).
REQUIRED_AGENCIES = (AgencyCode.POLICE, AgencyCode.HEALTH, AgencyCode.CHILDRENS_SOCIAL_CARE)


def _check_attendance(body: StrategyDiscussionIn) -> None:
    present = {attendee.agency for attendee in body.attendees}
    missing = [str(agency) for agency in REQUIRED_AGENCIES if agency not in present]
    if missing:
        raise ValidationFailed(
            ["body", "attendees"],
            "Police, health and children's social care must attend a strategy discussion; missing: "
            + ", ".join(missing)
            + ".",
        )


async def hold_discussion(
    session: AsyncSession, actor: Principal, body: StrategyDiscussionIn, clock: WorkingClock
) -> tuple[StrategyDiscussion, list[Section47Enquiry]]:
    _check_attendance(body)
    referral, children = await accepted_children(
        session, actor, body.referral_id, body.child_ids, ["body", "child_ids"]
    )
    if body.held_at < referral.received_at:
        raise ValidationFailed(
            ["body", "held_at"], "A strategy discussion is held after the referral was received."
        )
    held_on = local_date(body.held_at)
    discussion = StrategyDiscussion(
        id=uuid.uuid4(),
        referral_id=referral.id,
        child_ids=[str(child.id) for child in children],
        held_at=body.held_at,
        held_on=held_on,
        attendees=[attendee.model_dump(mode="json") for attendee in body.attendees],
        decision=body.decision,
        rationale=body.rationale,
        recorded_by=actor.sub,
        recorded_at=utcnow(),
    )
    session.add(discussion)
    await session.flush()  # before its enquiries: no relationship orders the two inserts
    enquiries: list[Section47Enquiry] = []
    if body.decision is StrategyDiscussionDecision.SECTION_47_ENQUIRY:
        due = clock.working_days_after(held_on, ICPC_WORKING_DAYS)
        enquiries = [
            Section47Enquiry(
                id=uuid.uuid4(),
                strategy_discussion_id=discussion.id,
                referral_id=referral.id,
                child_id=child.id,
                status=status.INITIAL,
                started_on=held_on,
                icpc_due_on=due,
            )
            for child in children
        ]
        session.add_all(enquiries)
    await session.flush()
    referrals.emit(
        session,
        actor,
        referral.id,
        EventType.STRATEGY_DISCUSSION_HELD,
        strategy_discussion_id=str(discussion.id),
        decision=str(body.decision),
        children=len(children),
    )
    for enquiry, child in zip(enquiries, children, strict=False):  # none without an enquiry
        pathway.announce(
            session,
            actor,
            enquiry,
            ENQUIRY_RECORD,
            EventType.SECTION_47_STARTED,
            AuditAction.CREATE,
            child,
            icpc_due_on=enquiry.icpc_due_on.isoformat(),
        )
    pathway.audit(
        session,
        actor,
        AuditAction.CREATE,
        DISCUSSION_RECORD,
        discussion.id,
        children,
        referral_id=str(referral.id),
    )
    return discussion, enquiries


async def read_discussion(
    session: AsyncSession, actor: Principal, discussion_id: uuid.UUID
) -> tuple[StrategyDiscussion, Sequence[Section47Enquiry]]:
    discussion = await access.discussion(session, actor, discussion_id)
    about = await pathway.children(session, [uuid.UUID(c) for c in discussion.child_ids])
    pathway.audit(session, actor, AuditAction.READ, DISCUSSION_RECORD, discussion.id, about.values())
    return discussion, await repository.enquiries_of(session, discussion.id)


async def read_enquiry(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID
) -> tuple[Section47Enquiry, ReferralChild]:
    enquiry = await access.enquiry(session, actor, enquiry_id)
    return enquiry, await pathway.read(session, actor, enquiry, ENQUIRY_RECORD)


def _on_or_after_start(enquiry: Section47Enquiry, day_field: str, day: date) -> None:
    if day < enquiry.started_on:
        raise ValidationFailed(
            ["body", day_field],
            f"Must be on or after the strategy discussion ({enquiry.started_on.isoformat()}).",
        )


async def record_outcome(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID, body: Section47OutcomeIn
) -> tuple[Section47Enquiry, ReferralChild]:
    enquiry = await access.enquiry(session, actor, enquiry_id, for_update=True)
    action = status.outcome_action(body.outcome)
    status.check(enquiry, action)
    if body.category_of_abuse is not None and action is not Action.CALL_CONFERENCE:
        raise ValidationFailed(
            ["body", "category_of_abuse"],
            "A category of abuse goes with an outcome of initial_child_protection_conference only.",
        )
    _on_or_after_start(enquiry, "concluded_on", body.concluded_on)
    status.move(enquiry, action)
    enquiry.concluded_on = body.concluded_on
    enquiry.outcome = body.outcome
    enquiry.category_of_abuse = body.category_of_abuse
    enquiry.concluded_by = actor.sub
    enquiry.concluded_at = utcnow()
    child = await pathway.changed(
        session, actor, enquiry, ENQUIRY_RECORD, EventType.SECTION_47_CONCLUDED, outcome=str(body.outcome)
    )
    return enquiry, child


async def hold_conference(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID, body: ConferenceIn, clock: WorkingClock
) -> tuple[Section47Enquiry, ReferralChild]:
    enquiry = await access.enquiry(session, actor, enquiry_id, for_update=True)
    status.check(enquiry, Action.HOLD_CONFERENCE)
    plan = body.outcome is ConferenceOutcome.CHILD_PROTECTION_PLAN
    if plan and body.category_of_abuse is None:
        raise ValidationFailed(
            ["body", "category_of_abuse"], "A child protection plan needs a category of abuse."
        )
    if not plan and body.category_of_abuse is not None:
        raise ValidationFailed(
            ["body", "category_of_abuse"], "A category of abuse goes with a child protection plan only."
        )
    _on_or_after_start(enquiry, "held_on", body.held_on)
    working_days, late = pathway.lateness(clock, enquiry.started_on, body.held_on, enquiry.icpc_due_on)
    status.move(enquiry, Action.HOLD_CONFERENCE)
    enquiry.conference_held_on = body.held_on
    enquiry.conference_outcome = body.outcome
    enquiry.conference_category_of_abuse = body.category_of_abuse
    enquiry.conference_working_days = working_days
    enquiry.conference_late = late
    enquiry.conference_recorded_by = actor.sub
    enquiry.conference_recorded_at = utcnow()
    child = await pathway.changed(
        session,
        actor,
        enquiry,
        ENQUIRY_RECORD,
        EventType.CONFERENCE_HELD,
        outcome=str(body.outcome),
        late=late,
    )
    return enquiry, child


async def list_discussions(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID | None, params: PageParams
) -> tuple[list[tuple[StrategyDiscussion, list[Section47Enquiry]]], str | None]:
    """A page of the strategy discussions the caller may read (none but the hub's), each with the
    section 47 enquiries it started."""
    found, next_cursor = await repository.discussions_of(session, actor, referral_id, params)
    enquiries = await repository.enquiries_of_all(session, [d.id for d in found])
    about = await pathway.children(session, {uuid.UUID(c) for d in found for c in d.child_ids})
    audit.record_list(
        session,
        actor,
        DISCUSSION_RECORD,
        "strategy_discussion_ids",
        [d.id for d in found],
        [child.person_id for child in about.values()],
    )
    return [(d, enquiries[d.id]) for d in found], next_cursor
