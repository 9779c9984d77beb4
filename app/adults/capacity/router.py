"""/v1/capacity-assessments: mental capacity assessments and best interests decisions."""

from __future__ import annotations

import uuid

from app.adults.capacity import service
from app.adults.capacity.schemas import (
    BestInterestsIn,
    BestInterestsOut,
    CapacityAssessmentIn,
    CapacityAssessmentOut,
)
from app.core.creation import Created
from app.core.db import DbSession
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import CapacityRead, CapacityWriteOnce
from app.core.routing import Router, added_by_service

router = Router(prefix="/v1/capacity-assessments", tags=["Mental capacity"])


def assessment_out(assessment, decision=None) -> CapacityAssessmentOut:  # type: ignore[no-untyped-def]
    out = CapacityAssessmentOut.model_validate(assessment)
    out.best_interests_decision = None if decision is None else BestInterestsOut.model_validate(decision)
    return out


@router.post(
    "",
    summary="Record a capacity assessment for one decision",
    description=(
        "One decision at one time: a later assessment of the same decision is a new record, never an "
        "overwrite. `lacks_capacity` needs at least one ability not met and an impairment with a causative "
        "link; an inability caused by an impairment cannot be recorded as `has_capacity` (422 "
        "`capacity_outcome_inconsistent`)."
    ),
    responses=problem_responses(422, codes={422: ["capacity_outcome_inconsistent"]}),
)
async def create_capacity_assessment(
    created: Created, principal: CapacityWriteOnce, session: DbSession, body: CapacityAssessmentIn
) -> CapacityAssessmentOut:
    assessment = await service.assess(session, principal, body)
    return created.at(f"/v1/capacity-assessments/{assessment.id}", assessment_out(assessment))


@router.get(
    "",
    summary="A person's capacity assessments, newest first (the history)",
)
async def list_capacity_assessments(
    principal: CapacityRead, session: DbSession, filters: service.AssessmentQuery, paging: Paging
) -> Page[CapacityAssessmentOut]:
    """Every capacity assessment about the person, newest first: each is about one decision at one time, and a later one never replaces an earlier one."""
    found, next_cursor = await service.history(session, principal, filters, paging.params)
    return paging.page([assessment_out(a) for a in found], next_cursor)


@router.get(
    "/{assessment_id}",
    summary="Get a capacity assessment, with its best interests decision",
)
async def get_capacity_assessment(
    assessment_id: uuid.UUID, principal: CapacityRead, session: DbSession
) -> CapacityAssessmentOut:
    """A capacity assessment (the four abilities, the impairment and the causative link, and the outcome) with the best interests decision that followed it, if any."""
    assessment, decision = await service.read(session, principal, assessment_id)
    return assessment_out(assessment, decision)


router.post(
    "/{assessment_id}/best-interests-decision",
    summary="Record the best interests decision (only after a lack of capacity)",
    description=(
        "MCA 2005 s4: the options weighed, including the less restrictive one; the checklist; who was "
        "consulted and their views (or an IMCA); the decision maker. Only when the assessment found a lack "
        "of capacity (409 `best_interests_requires_incapacity`); one per assessment."
    ),
    responses=problem_responses(409, codes={409: ["best_interests_requires_incapacity", "conflict"]}),
)(
    added_by_service(
        service.decide_best_interests,
        "record_best_interests_decision",
        parameter="assessment_id",
        principal=CapacityWriteOnce,
        body=BestInterestsIn,
        out=BestInterestsOut,
        records="/v1/capacity-assessments",
    )
)
