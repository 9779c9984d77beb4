"""Mental capacity: assessments of one decision at one time, and best interests decisions.

A person's capacity is never a flag on their record: each assessment is about one decision, and a
later assessment of the same decision is a new record, so the history that a court may ask for is
kept whole. The outcome must follow from the assessment (MCA 2005 ss2-3): lacking capacity means an
inability in at least one of the four abilities, because of an impairment of the mind or brain.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.capacity.schemas import BestInterestsIn, CapacityAssessmentIn
from app.adults.codes import CapacityOutcome
from app.adults.concerns import access as concern_access
from app.adults.concerns import service as concerns
from app.adults.concerns.repository import AGGREGATE as CONCERN
from app.core import audit, events
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import age_on, local_date
from app.core.errors import AppError, NotFound, ValidationFailed
from app.core.events import EventType
from app.core.filters import query, where_equal
from app.core.pagination import PageParams
from app.models.adult import BestInterestsDecision, CapacityAssessment
from app.models.base import utcnow
from app.models.person import Person

RECORD_TYPE = "capacity_assessment"


def check_outcome(body: CapacityAssessmentIn) -> None:
    unable = body.unable()
    diagnostic = body.impairment is not None and body.causative_link is not None
    if body.outcome == CapacityOutcome.LACKS_CAPACITY:
        problems = []
        if not unable:
            problems.append({"loc": ["body", "outcome"], "msg": "every ability is recorded as met"})
        if body.impairment is None:
            problems.append({"loc": ["body", "impairment"], "msg": "required to find a lack of capacity"})
        if body.causative_link is None:
            problems.append({"loc": ["body", "causative_link"], "msg": "required to find a lack of capacity"})
        if problems:
            raise AppError(code="capacity_outcome_inconsistent", errors=problems)
    elif unable and diagnostic:
        # Unable to decide because of an impairment is, by definition, lacking capacity.
        raise AppError(
            "The person is recorded as unable to "
            + ", ".join(name.replace("_", " ") for name in unable)
            + " because of an impairment: that is a lack of capacity, not capacity.",
            code="capacity_outcome_inconsistent",
            errors=[
                {"loc": ["body", "outcome"], "msg": "inconsistent with the abilities and causative link"}
            ],
        )


def _emit(
    session: AsyncSession,
    actor: Principal,
    assessment: CapacityAssessment,
    event_type: EventType,
    **data: str,
) -> None:
    """On the timeline and feed of the concern the assessment was made in; none without a concern."""
    if assessment.concern_id is not None:
        events.emit(
            session,
            actor,
            CONCERN,
            assessment.concern_id,
            event_type,
            {"assessment_id": str(assessment.id), **data},
        )


async def _visible(session: AsyncSession, actor: Principal, assessment_id: uuid.UUID) -> CapacityAssessment:
    assessment = await session.get(CapacityAssessment, assessment_id)
    if assessment is None or not concern_access.is_hub(actor):
        raise NotFound("capacity assessment", assessment_id)
    return assessment


def _audit(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    assessment: CapacityAssessment,
    **details: object,
) -> None:
    audit.record(
        session,
        actor,
        action,
        RECORD_TYPE,
        assessment.id,
        person_id=assessment.person_id,
        details=dict(details),
    )


# The Mental Capacity Act 2005 applies from the age of 16 (s2(5)).
MCA_MINIMUM_AGE = 16


async def check_age(session: AsyncSession, body: CapacityAssessmentIn) -> None:
    """422 when the person is known to be under 16 on the (London) date of the assessment."""
    person = await session.get(Person, body.person_id)
    born = None if person is None else person.date_of_birth
    if born is not None and age_on(born, local_date(body.assessed_at)) < MCA_MINIMUM_AGE:
        raise ValidationFailed(
            ["body", "assessed_at"],
            "The Mental Capacity Act applies from the age of 16: the person was under 16 on the "
            "date of this assessment.",
        )


async def assess(session: AsyncSession, actor: Principal, body: CapacityAssessmentIn) -> CapacityAssessment:
    await concerns.person_and_concern(session, body.person_id, body.concern_id)
    await check_age(session, body)
    check_outcome(body)
    assessment = CapacityAssessment(
        id=uuid.uuid4(),
        assessor=actor.sub,
        recorded_at=utcnow(),
        **body.model_dump(),
    )
    session.add(assessment)
    await session.flush()
    _emit(session, actor, assessment, EventType.CAPACITY_ASSESSED, outcome=str(body.outcome))
    _audit(session, actor, AuditAction.CREATE, assessment)
    return assessment


async def read(
    session: AsyncSession, actor: Principal, assessment_id: uuid.UUID
) -> tuple[CapacityAssessment, BestInterestsDecision | None]:
    assessment = await _visible(session, actor, assessment_id)
    _audit(session, actor, AuditAction.READ, assessment)
    return assessment, await best_interests_of(session, assessment.id)


async def best_interests_of(session: AsyncSession, assessment_id: uuid.UUID) -> BestInterestsDecision | None:
    return await session.scalar(
        sa.select(BestInterestsDecision).where(BestInterestsDecision.assessment_id == assessment_id)
    )


@dataclass(frozen=True, slots=True)
class AssessmentFilters:
    person_id: uuid.UUID | None = None
    concern_id: uuid.UUID | None = None


# The list's query parameters, as one parameter of its handler.
AssessmentQuery = Annotated[AssessmentFilters, Depends(query(AssessmentFilters))]


async def history(
    session: AsyncSession, actor: Principal, filters: AssessmentFilters, params: PageParams
) -> tuple[list[CapacityAssessment], str | None]:
    if not concern_access.is_hub(actor):
        return [], None
    stmt = where_equal(
        sa.select(CapacityAssessment),
        (CapacityAssessment.person_id, filters.person_id),
        (CapacityAssessment.concern_id, filters.concern_id),
    )
    keys = [CapacityAssessment.assessed_at, CapacityAssessment.id]
    return await audit.audited_page(session, actor, stmt, keys, params, RECORD_TYPE, "assessment_ids")


async def superseded(session: AsyncSession, assessment: CapacityAssessment) -> bool:
    later = sa.select(
        sa.exists().where(
            CapacityAssessment.person_id == assessment.person_id,
            sa.func.lower(sa.func.trim(CapacityAssessment.decision)) == assessment.decision.strip().lower(),
            CapacityAssessment.assessed_at > assessment.assessed_at,
        )
    )
    return bool(await session.scalar(later))


async def decide_best_interests(
    session: AsyncSession, actor: Principal, assessment_id: uuid.UUID, body: BestInterestsIn
) -> BestInterestsDecision:
    assessment = await _visible(session, actor, assessment_id)
    if assessment.outcome != CapacityOutcome.LACKS_CAPACITY:
        raise AppError(code="best_interests_requires_incapacity")
    if await superseded(session, assessment):
        # Capacity is time-specific: a later assessment of the same decision is the one that counts.
        raise AppError(
            "A later assessment of the same decision supersedes this one; decide on the latest.",
            code="best_interests_requires_incapacity",
        )
    if await best_interests_of(session, assessment.id) is not None:
        raise AppError(
            "A best interests decision is already recorded for this assessment; a new decision needs a new "
            "assessment.",
            code="conflict",
        )
    if body.made_at < assessment.assessed_at:
        raise ValidationFailed(["body", "made_at"], "The decision cannot precede the capacity assessment.")
    decision = BestInterestsDecision(
        id=uuid.uuid4(),
        assessment_id=assessment.id,
        decision=body.decision,
        options=[o.model_dump() for o in body.options],
        checklist=body.checklist.model_dump(),
        consultees=[c.model_dump(mode="json") for c in body.consultees],
        imca_involved=body.imca_involved,
        decision_maker=body.decision_maker.model_dump(),
        made_at=body.made_at,
        recorded_by=actor.sub,
        recorded_at=utcnow(),
    )
    session.add(decision)
    await session.flush()
    _emit(session, actor, assessment, EventType.BEST_INTERESTS_DECIDED, decision_id=str(decision.id))
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        "best_interests_decision",
        decision.id,
        person_id=assessment.person_id,
        details={"assessment_id": str(assessment.id)},
    )
    return decision
