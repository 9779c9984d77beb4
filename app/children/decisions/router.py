"""Threshold decisions on referrals."""

from __future__ import annotations

import uuid

from app.children.decisions import service
from app.children.decisions.schemas import DecisionOut, DecisionProposal, DecisionReview
from app.core.creation import Created
from app.core.db import DbSession
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.principals import DecisionsApprove, DecisionsProposeOnce, ReferralsRead
from app.core.routing import Router

router = Router(tags=["Threshold decisions"])


@router.post(
    "/v1/referrals/{referral_id}/threshold-decisions",
    summary="Propose a level of need and an outcome",
    description=(
        "A contact becomes a referral (the CIN census meaning) only when the decision accepts it: "
        "`accepted_as_referral` is implied by `child_and_family_assessment` and `strategy_discussion` (true) "
        "and by `universal_services` and `early_help` (false), and required for `no_further_action`; a "
        "contradicting value is refused (422). `children` gives a child their own level, outcome, primary "
        "need, NFA flag or acceptance; the others take the referral-wide values (each `child_id` a child of "
        "this referral, named once).\n\n"
        "CIN rules, for the decision and for each child: a decision that is not NFA needs a `primary_need` "
        "(an NFA one may carry one); `nfa` follows from the outcome; an unborn child accepted as a referral "
        "is due no more than 280 days after the referral date (census rule 8606) and has gender "
        "`not_known` (rule 8750: sex U). Assessment factors are no longer taken here: they are recorded "
        "when the assessment is completed (`POST /v1/assessments/{id}/completion`); a body with "
        "`assessment_factors` is refused (422). The referral moves to `awaiting_approval`."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def propose_threshold_decision(
    referral_id: uuid.UUID,
    created: Created,
    principal: DecisionsProposeOnce,
    session: DbSession,
    body: DecisionProposal,
) -> DecisionOut:
    decision = await service.propose(session, principal, referral_id, body)
    return created.at(f"/v1/threshold-decisions/{decision.id}", decision)


@router.get(
    "/v1/threshold-decisions/{decision_id}",
    summary="Get a threshold decision (children's social care)",
    description="A proposed, approved or returned threshold decision, with its rationale and who reviewed it.",
)
async def get_threshold_decision(
    decision_id: uuid.UUID, principal: ReferralsRead, session: DbSession
) -> DecisionOut:
    return await service.read(session, principal, decision_id)


@router.post(
    "/v1/threshold-decisions/{decision_id}/approval",
    summary="Approve or return a proposed decision",
    description=(
        "By a manager other than the proposer (403 `self_approval` otherwise). Approval decides the "
        "referral, each child as the decision's `children` say; returning it (with a comment) sends the referral back to information gathering."
    ),
    responses=problem_responses(403, 409, codes={403: ["self_approval"], 409: ["invalid_transition"]}),
)
async def approve_threshold_decision(
    decision_id: uuid.UUID, principal: DecisionsApprove, session: DbSession, body: DecisionReview
) -> DecisionOut:
    return await service.review(session, principal, decision_id, body)
