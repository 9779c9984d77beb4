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
        "CIN rules: a decision that is not NFA needs a `primary_need`; an NFA decision has no primary need "
        "or assessment factors; `nfa` follows from the outcome. The referral moves to `awaiting_approval`."
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
    return created.at(f"/v1/threshold-decisions/{decision.id}", DecisionOut.model_validate(decision))


@router.get(
    "/v1/threshold-decisions/{decision_id}",
    summary="Get a threshold decision (children's social care)",
)
async def get_threshold_decision(
    decision_id: uuid.UUID, principal: ReferralsRead, session: DbSession
) -> DecisionOut:
    """A proposed, approved or returned threshold decision, with its rationale and who reviewed it."""
    return DecisionOut.model_validate(await service.read(session, principal, decision_id))


@router.post(
    "/v1/threshold-decisions/{decision_id}/approval",
    summary="Approve or return a proposed decision",
    description=(
        "By a manager other than the proposer (403 `self_approval` otherwise). Approval decides the "
        "referral; returning it (with a comment) sends the referral back to information gathering."
    ),
    responses=problem_responses(403, 409, codes={403: ["self_approval"], 409: ["invalid_transition"]}),
)
async def approve_threshold_decision(
    decision_id: uuid.UUID, principal: DecisionsApprove, session: DbSession, body: DecisionReview
) -> DecisionOut:
    return DecisionOut.model_validate(await service.review(session, principal, decision_id, body))
