"""/v1/assessments: child and family assessments of children accepted as referrals."""

from __future__ import annotations

import uuid

from app.children.assessments import service
from app.children.assessments.repository import AssessmentQuery
from app.children.assessments.schemas import AssessmentCompletion, AssessmentIn, AssessmentOut
from app.children.assessments.views import assessment_out
from app.core.concurrency import Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.dependencies import Clock
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import DecisionsApprove, ReferralsRead, ReferralsWriteOnce
from app.core.routing import Router

router = Router(prefix="/v1/assessments", tags=["Assessments and child protection"])


@router.post(
    "",
    summary="Start a child and family assessment",
    description=(
        "For one child of a referral accepted by children's social care (409 `invalid_transition` while no "
        "decision is approved, when the decision kept the child a contact, or when the child already has an "
        "open assessment). `due_on` is 45 working days after the referral was received (its London date), "
        "stored with the assessment. Children's social care only (404 for a referral the caller may not see). Event `assessment.started` on the "
        "referral's timeline."
    ),
    responses=problem_responses(404, 409, codes={404: ["not_found"], **INVALID_TRANSITION}),
)
async def start_assessment(
    created: Created,
    answer: Versioned,
    principal: ReferralsWriteOnce,
    session: DbSession,
    clock: Clock,
    body: AssessmentIn,
) -> AssessmentOut:
    assessment, child = await service.start(session, principal, body, clock)
    out = assessment_out(assessment, child)
    return created.at(f"/v1/assessments/{assessment.id}", answer.tagged(assessment.version, out))


@router.get(
    "",
    summary="List assessments (children's social care): the assessment queue",
    description=(
        "Soonest due first. Filters: `referral_id`; `status` (`open`, `completed`; `a,b` or repeated); "
        "`overdue=true` for open assessments past `due_on` (a London date: overdue the day after), `false` for "
        "the others. Other agencies' lists are empty. The list is audited with the ids and children it gives."
    ),
)
async def list_assessments(
    principal: ReferralsRead, session: DbSession, filters: AssessmentQuery, paging: Paging
) -> Page[AssessmentOut]:
    page, next_cursor = await service.listed(session, principal, filters, paging.params)
    return paging.page([assessment_out(assessment, child) for assessment, child in page], next_cursor)


@router.get("/{assessment_id}", summary="Get an assessment (children's social care)")
async def get_assessment(
    assessment_id: uuid.UUID, answer: Versioned, principal: ReferralsRead, session: DbSession
) -> AssessmentOut:
    """The assessment, its due date and, once completed, its factors, outcome, reason for closure and
    how many working days it took."""
    assessment, child = await service.read(session, principal, assessment_id)
    return answer.tagged(assessment.version, assessment_out(assessment, child))


@router.post(
    "/{assessment_id}/completion",
    summary="Complete an assessment",
    description=(
        'A manager records the CIN assessment factors (at least one; "21", no factors identified, only on '
        "its own), the outcome and, when the case closes, the reason for closure: `no_further_action` closes "
        "with RC8 (or RC1-RC7 where one applies), `early_help` with RC9; a child in need plan or a strategy "
        "discussion keeps the case open (no reason). Working days taken from the referral and lateness "
        "against `due_on` are kept. Recorded once (409 after). Event `assessment.completed`."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def complete_assessment(
    assessment_id: uuid.UUID,
    answer: Versioned,
    principal: DecisionsApprove,
    session: DbSession,
    clock: Clock,
    body: AssessmentCompletion,
) -> AssessmentOut:
    assessment, child = await service.complete(session, principal, assessment_id, body, clock)
    return answer.tagged(assessment.version, assessment_out(assessment, child))
