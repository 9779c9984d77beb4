"""Child and family assessments (section 17): started for a child accepted as a referral, due 45
working days after the referral was received; completed once by a manager with the CIN assessment
factors, an outcome and, when the case closes, the reason for closure.

The census rules applied at completion (DfE CIN census validation, ``csc-validator-be-cin``):
- factors are required, and "21" (no factors identified) only on its own (rule 8869);
- RC8 (closed after assessment, no further action) and RC9 (closed after assessment, referred to early
  help) need an assessment (rule 8825Q): here they are given on one, with the outcome they name;
- an outcome that keeps the case open (a child in need plan, a strategy discussion) has no reason for
  closure, and a closed case has a completed assessment (rule 8867).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.children import pathway
from app.children.assessments import access, repository, status
from app.children.assessments.repository import AssessmentFilters
from app.children.assessments.schemas import AssessmentCompletion, AssessmentIn
from app.children.assessments.status import Action
from app.children.codes import AssessmentFactor, AssessmentOutcome, ReasonForClosure
from app.children.referrals.acceptance import accepted_children
from app.core import audit
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock, local_date, today
from app.core.errors import InvalidTransition, ValidationFailed
from app.core.events import EventType
from app.core.pagination import PageParams
from app.models.base import utcnow
from app.models.protection import Assessment
from app.models.referral import ReferralChild

RECORD_TYPE = "assessment"
# Working Together to Safeguard Children 2023: within 45 working days of the referral.
ASSESSMENT_WORKING_DAYS = 45

# The outcomes that close the CIN episode, the reason each closes with when none is given, and the
# reasons each allows: RC8 and RC9 say which outcome followed the assessment; RC1-RC7 (adopted, died,
# orders, transferred, services ceased) can end a case whatever the assessment found, but early help
# is always RC9.
CLOSING = {
    AssessmentOutcome.NO_FURTHER_ACTION: (
        ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NO_FURTHER_ACTION,
        frozenset(ReasonForClosure) - {ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP},
    ),
    AssessmentOutcome.EARLY_HELP: (
        ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP,
        frozenset({ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP}),
    ),
}
FACTORS_LOC = ["body", "factors"]
CLOSURE_LOC = ["body", "closure_reason"]


def closure_reason(body: AssessmentCompletion) -> ReasonForClosure | None:
    """Check the completion against the census rules; the reason the case closes with, if it does."""
    if AssessmentFactor.NO_FACTORS in body.factors and len(body.factors) > 1:
        raise ValidationFailed(
            FACTORS_LOC, 'The assessment factors code "21" cannot be used with any other assessment factor.'
        )
    closing = CLOSING.get(body.outcome)
    if closing is None:
        if body.closure_reason is not None:
            raise ValidationFailed(
                CLOSURE_LOC, f"The outcome {body.outcome} keeps the case open: it has no reason for closure."
            )
        return None
    default, allowed = closing
    if body.closure_reason is None:
        return default
    if body.closure_reason not in allowed:
        raise ValidationFailed(
            CLOSURE_LOC,
            f"{body.closure_reason} does not fit the outcome {body.outcome}: RC8 is closed after assessment "
            "with no further action, RC9 closed after assessment and referred to early help.",
        )
    return body.closure_reason


async def start(
    session: AsyncSession, actor: Principal, body: AssessmentIn, clock: WorkingClock
) -> tuple[Assessment, ReferralChild]:
    referral, (child,) = await accepted_children(
        session, actor, body.referral_id, [body.child_id], ["body", "child_id"]
    )
    received_on = local_date(referral.received_at)
    if body.started_on < received_on:
        raise ValidationFailed(
            ["body", "started_on"],
            f"An assessment starts on or after the referral ({received_on.isoformat()}).",
        )
    already = await repository.open_assessment_of(session, child.id)
    if already is not None:
        raise InvalidTransition(f"This child already has an open assessment ({already}).")
    assessment = Assessment(
        id=uuid.uuid4(),
        referral_id=referral.id,
        child_id=child.id,
        status=status.INITIAL,
        referral_received_on=received_on,
        started_on=body.started_on,
        due_on=clock.working_days_after(received_on, ASSESSMENT_WORKING_DAYS),
        started_by=actor.sub,
        factors=[],
    )
    session.add(assessment)
    await session.flush()
    pathway.announce(
        session,
        actor,
        assessment,
        RECORD_TYPE,
        EventType.ASSESSMENT_STARTED,
        AuditAction.CREATE,
        child,
        due_on=assessment.due_on.isoformat(),
    )
    return assessment, child


async def read(
    session: AsyncSession, actor: Principal, assessment_id: uuid.UUID
) -> tuple[Assessment, ReferralChild]:
    assessment = await access.visible(session, actor, assessment_id)
    child = await pathway.read(session, actor, assessment, RECORD_TYPE)
    return assessment, child


async def complete(
    session: AsyncSession,
    actor: Principal,
    assessment_id: uuid.UUID,
    body: AssessmentCompletion,
    clock: WorkingClock,
) -> tuple[Assessment, ReferralChild]:
    assessment = await access.visible(session, actor, assessment_id, for_update=True)
    status.check(assessment, Action.COMPLETE)
    reason = closure_reason(body)
    if body.completed_on < assessment.started_on:
        raise ValidationFailed(
            ["body", "completed_on"],
            f"An assessment completes on or after the day it started ({assessment.started_on.isoformat()}).",
        )
    working_days, late = pathway.lateness(
        clock, assessment.referral_received_on, body.completed_on, assessment.due_on
    )
    status.move(assessment, Action.COMPLETE)
    assessment.completed_on = body.completed_on
    assessment.factors = [str(f) for f in body.factors]
    assessment.outcome = body.outcome
    assessment.closure_reason = reason
    assessment.working_days_taken = working_days
    assessment.completed_late = late
    assessment.completed_by = actor.sub
    assessment.completed_at = utcnow()
    child = await pathway.changed(
        session,
        actor,
        assessment,
        RECORD_TYPE,
        EventType.ASSESSMENT_COMPLETED,
        outcome=str(body.outcome),
        closure_reason=None if reason is None else str(reason),
        late=late,
    )
    return assessment, child


async def listed(
    session: AsyncSession, actor: Principal, filters: AssessmentFilters, params: PageParams
) -> tuple[list[tuple[Assessment, ReferralChild]], str | None]:
    """A page of the assessments the caller may read (none but the hub's), each with its child."""
    found, next_cursor = await repository.listed(session, actor, filters, params, today())
    about = await pathway.children(session, {assessment.child_id for assessment in found})
    page = [(assessment, about[assessment.child_id]) for assessment in found]
    audit.record_list(
        session, actor, RECORD_TYPE, "assessment_ids", [a.id for a, _ in page], [c.person_id for _, c in page]
    )
    return page, next_cursor
