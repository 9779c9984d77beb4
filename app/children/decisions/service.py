"""Threshold decisions: a practitioner proposes, a different manager approves or returns.

The Children in Need rules are enforced here: a referral that goes on to assessment (not NFA) needs
a primary need code; an NFA decision carries no primary need or assessment factors.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import NFA_OUTCOMES, AssessmentFactor, DecisionOutcome
from app.children.decisions import status
from app.children.decisions.schemas import DecisionProposal, DecisionReview
from app.children.decisions.status import Action
from app.children.referrals import access as referral_access
from app.children.referrals import repository as referral_repository
from app.children.referrals import service as referrals
from app.children.referrals import status as referral_status
from app.children.referrals.status import Action as ReferralAction
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.errors import NotFound, SelfApproval, ValidationFailed
from app.core.events import EventType
from app.core.readable import one
from app.models.base import utcnow
from app.models.referral import ThresholdDecision

RECORD_TYPE = "threshold_decision"
# Level 4 is acute need (s47): its outcomes are a strategy discussion or at least an assessment.
LEVEL_4_OUTCOMES = frozenset(
    {DecisionOutcome.STRATEGY_DISCUSSION, DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT}
)


def check_cin_rules(body: DecisionProposal) -> bool:
    """Validate the proposal against the CIN rules; returns the NFA flag."""
    nfa = body.outcome in NFA_OUTCOMES
    if body.nfa is not None and body.nfa != nfa:
        expected = "true" if nfa else "false"
        raise ValidationFailed(["body", "nfa"], f"nfa must be {expected} for the outcome {body.outcome}.")
    if body.outcome == DecisionOutcome.STRATEGY_DISCUSSION and body.level != 4:
        raise ValidationFailed(["body", "level"], "A strategy discussion (s47) is a level 4 decision.")
    if body.level == 4 and body.outcome not in LEVEL_4_OUTCOMES:
        raise ValidationFailed(
            ["body", "outcome"], "Level 4 needs a strategy discussion or a child and family assessment."
        )
    if nfa:
        if body.primary_need is not None:
            raise ValidationFailed(["body", "primary_need"], "An NFA decision records no primary need.")
        if body.assessment_factors:
            raise ValidationFailed(
                ["body", "assessment_factors"], "An NFA decision records no assessment factors."
            )
    else:
        if body.primary_need is None:
            raise ValidationFailed(
                ["body", "primary_need"], "A decision that is not NFA needs a CIN primary need code."
            )
        if AssessmentFactor.NO_FACTORS in body.assessment_factors and len(body.assessment_factors) > 1:
            raise ValidationFailed(
                ["body", "assessment_factors"], "21 (no factors) cannot be combined with other factors."
            )
    return nfa


async def propose(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: DecisionProposal
) -> ThresholdDecision:
    referral = await referrals.for_action(session, actor, referral_id, ReferralAction.PROPOSE_DECISION)
    nfa = check_cin_rules(body)
    now = utcnow()
    decision = ThresholdDecision(
        id=uuid.uuid4(),
        referral_id=referral.id,
        **body.model_dump(include={"level", "outcome", "rationale", "primary_need"}),
        assessment_factors=[str(f) for f in body.assessment_factors],
        nfa=nfa,
        status=status.INITIAL,
        proposed_by=actor.sub,
        proposed_at=now,
    )
    session.add(decision)
    referral_status.move(referral, ReferralAction.PROPOSE_DECISION)
    referral.updated_at = now
    await session.flush()
    referrals.emit(
        session,
        actor,
        referral.id,
        EventType.DECISION_PROPOSED,
        decision_id=str(decision.id),
        level=body.level,
        outcome=str(body.outcome),
        nfa=nfa,
    )
    await referrals.audit_on_referral(
        session,
        actor,
        AuditAction.CREATE,
        referral.id,
        record_id=decision.id,
        record_type=RECORD_TYPE,
        referral_id=str(referral.id),
    )
    return decision


async def _visible(
    session: AsyncSession, actor: Principal, decision_id: uuid.UUID, *, for_update: bool = False
) -> ThresholdDecision:
    if not referral_access.reads_decisions(actor):
        raise NotFound("threshold decision", decision_id)
    stmt = sa.select(ThresholdDecision).where(ThresholdDecision.id == decision_id)
    decision = await one(session, stmt, for_update=for_update)
    if decision is None:
        raise NotFound("threshold decision", decision_id)
    return decision


async def read(session: AsyncSession, actor: Principal, decision_id: uuid.UUID) -> ThresholdDecision:
    decision = await _visible(session, actor, decision_id)
    await referrals.audit_on_referral(
        session,
        actor,
        AuditAction.READ,
        decision.referral_id,
        record_id=decision.id,
        record_type=RECORD_TYPE,
    )
    return decision


async def review(
    session: AsyncSession, actor: Principal, decision_id: uuid.UUID, body: DecisionReview
) -> ThresholdDecision:
    decision = await _visible(session, actor, decision_id, for_update=True)
    action = Action.APPROVE if body.approved else Action.RETURN
    status.check(decision, action)
    if decision.proposed_by == actor.sub:
        raise SelfApproval(
            "A decision must be approved or returned by a different manager from its proposer."
        )
    referral = await referral_access.for_hub(session, actor, decision.referral_id)
    if body.approved:
        decided = ReferralAction.APPROVE_DECISION
    elif await referral_repository.has_contributions(session, referral.id):
        decided = ReferralAction.RETURN_DECISION_TO_CHECKS
    else:
        decided = ReferralAction.RETURN_DECISION_TO_TRIAGE
    referral_status.move(referral, decided)
    status.move(decision, action)
    now = utcnow()
    decision.reviewed_by = actor.sub
    decision.reviewed_at = now
    decision.review_comment = body.comment
    referral.updated_at = now
    if body.approved:
        referral.decision_id = decision.id
        referral.outcome = decision.outcome
        referral.outcome_level = decision.level
        referral.decided_at = now
        referrals.emit(session, actor, referral.id, EventType.DECISION_APPROVED, decision_id=str(decision.id))
        referrals.emit(
            session,
            actor,
            referral.id,
            EventType.REFERRAL_DECIDED,
            level=decision.level,
            outcome=decision.outcome,
        )
    else:
        referrals.emit(session, actor, referral.id, EventType.DECISION_RETURNED, decision_id=str(decision.id))
    await session.flush()
    await referrals.audit_on_referral(
        session,
        actor,
        AuditAction.UPDATE,
        referral.id,
        record_id=decision.id,
        record_type=RECORD_TYPE,
        status=decision.status,
    )
    return decision
