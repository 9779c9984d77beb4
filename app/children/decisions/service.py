"""Threshold decisions: a practitioner proposes, a different manager approves or returns.

The Children in Need rules are enforced here, for the referral-wide decision and for each child: a
decision that is not NFA needs a primary need code (an NFA one may carry one); the NFA flag follows the
outcome; whether the contact is accepted as a referral follows the outcome too, and is asked for after
no further action. An unborn child accepted as a referral is due within 40 weeks of the referral date and
has no recorded sex (census rules 8606 and 8750). Each child's decision is stored (``ThresholdDecisionChild``):
the approved decision's entries are the census referral items.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ACCEPTED_OUTCOMES, CONTACT_OUTCOMES, NFA_OUTCOMES, DecisionOutcome
from app.children.decisions import repository, status
from app.children.decisions.repository import ChildFacts
from app.children.decisions.schemas import ChildDecisionIn, DecisionOut, DecisionProposal, DecisionReview
from app.children.decisions.status import Action
from app.children.referrals import access as referral_access
from app.children.referrals import repository as referral_repository
from app.children.referrals import service as referrals
from app.children.referrals import status as referral_status
from app.children.referrals.status import Action as ReferralAction
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import local_date
from app.core.errors import NotFound, SelfApproval, ValidationFailed
from app.core.events import EventType
from app.core.readable import one
from app.models.base import utcnow
from app.models.referral import Referral, ThresholdDecision, ThresholdDecisionChild
from app.people.codes import Gender

RECORD_TYPE = "threshold_decision"
# Level 4 is acute need (s47): its outcomes are a strategy discussion or at least an assessment.
LEVEL_4_OUTCOMES = frozenset(
    {DecisionOutcome.STRATEGY_DISCUSSION, DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT}
)
# CIN census rule 8606: the referral date is at most 40 weeks before the (expected) date of birth.
UNBORN_AHEAD = timedelta(days=280)
Loc = list[str | int]
# What accepted_as_referral must be for an outcome that settles it, and what to say when it is not.
_ACCEPTED_BY_OUTCOME = {
    True: (
        "The outcome {} accepts the contact as a referral to children's social care: "
        "accepted_as_referral must be true (or left out)."
    ),
    False: (
        "The outcome {} leaves the contact a contact (it is not a referral to children's "
        "social care): accepted_as_referral must be false (or left out)."
    ),
}


@dataclass(frozen=True)
class ChildDecision:
    """The decision on one child as it applies."""

    child_id: uuid.UUID
    level: int
    outcome: DecisionOutcome
    primary_need: str | None
    nfa: bool
    accepted_as_referral: bool
    own_entry: bool


def check_cin_rules(
    loc: Loc,
    level: int,
    outcome: DecisionOutcome,
    primary_need: str | None,
    nfa_given: bool | None,
    accepted_given: bool | None,
) -> tuple[bool, bool]:
    """Validate one decision (the referral-wide one or a child's) against the CIN rules; returns its NFA
    flag and whether the contact is accepted as a referral."""
    nfa = outcome in NFA_OUTCOMES
    if nfa_given is not None and nfa_given != nfa:
        expected = "true" if nfa else "false"
        raise ValidationFailed([*loc, "nfa"], f"nfa must be {expected} for the outcome {outcome}.")
    if outcome == DecisionOutcome.STRATEGY_DISCUSSION and level != 4:
        raise ValidationFailed([*loc, "level"], "A strategy discussion (s47) is a level 4 decision.")
    if level == 4 and outcome not in LEVEL_4_OUTCOMES:
        raise ValidationFailed(
            [*loc, "outcome"], "Level 4 needs a strategy discussion or a child and family assessment."
        )
    if not nfa and primary_need is None:
        raise ValidationFailed(
            [*loc, "primary_need"], "A decision that is not NFA needs a CIN primary need code."
        )
    accepted = True if outcome in ACCEPTED_OUTCOMES else False if outcome in CONTACT_OUTCOMES else None
    if accepted is not None:
        if accepted_given is not None and accepted_given != accepted:
            raise ValidationFailed(
                [*loc, "accepted_as_referral"], _ACCEPTED_BY_OUTCOME[accepted].format(outcome)
            )
        return nfa, accepted
    if accepted_given is None:
        raise ValidationFailed(
            [*loc, "accepted_as_referral"],
            "accepted_as_referral is required for no_further_action: true when children's social care "
            "accepted the contact as a referral and then took no further action, false when it stays a contact.",
        )
    return nfa, accepted_given


def _child_decision(body: DecisionProposal, index: int, entry: ChildDecisionIn) -> ChildDecision:
    given = entry.model_fields_set
    outcome = entry.outcome if entry.outcome is not None else body.outcome
    same_outcome = outcome == body.outcome
    level = entry.level if entry.level is not None else body.level
    primary_need = entry.primary_need if "primary_need" in given else body.primary_need
    nfa_given = entry.nfa if entry.nfa is not None or not same_outcome else body.nfa
    accepted_given = (
        entry.accepted_as_referral
        if entry.accepted_as_referral is not None or not same_outcome
        else body.accepted_as_referral
    )
    nfa, accepted = check_cin_rules(
        ["body", "children", index], level, outcome, primary_need, nfa_given, accepted_given
    )
    return ChildDecision(entry.child_id, level, outcome, primary_need, nfa, accepted, own_entry=True)


def _check_unborn(loc: Loc, referral: Referral, child: ChildFacts) -> None:
    """An unborn child accepted as a referral: CIN census rules 8606 and 8750."""
    if child.date_of_birth is not None or child.expected_date_of_birth is None:
        return
    referral_date = local_date(referral.received_at)
    if child.expected_date_of_birth > referral_date + UNBORN_AHEAD:
        raise ValidationFailed(
            loc,
            f"Child {child.id}: the expected date of birth ({child.expected_date_of_birth}) is more than 280 "
            f"days (40 weeks) after the referral date ({referral_date}); the CIN census refuses it (rule "
            "8606). Correct the expected date of birth (PATCH /v1/people/{id}) before accepting the referral.",
        )
    if child.gender not in (None, Gender.NOT_KNOWN):
        raise ValidationFailed(
            loc,
            f"Child {child.id}: an unborn child's gender is not_known (CIN census rule 8750: sex U for an "
            f"unborn child), not {child.gender}. Correct it (PATCH /v1/people/{{id}}) before accepting the "
            "referral.",
        )


async def _per_child(
    session: AsyncSession, referral: Referral, body: DecisionProposal, nfa: bool, accepted: bool
) -> list[ChildDecision]:
    children = await repository.children_facts(session, referral.id)
    known = {child.id for child in children}
    own: dict[uuid.UUID, tuple[int, ChildDecision]] = {}
    for index, entry in enumerate(body.children):
        if entry.child_id not in known:
            raise ValidationFailed(
                ["body", "children", index, "child_id"],
                f"{entry.child_id} is not a child of this referral (see the referral's children[].id).",
            )
        own[entry.child_id] = index, _child_decision(body, index, entry)
    decided = []
    for child in children:
        index, decision = own.get(
            child.id,
            (
                -1,
                ChildDecision(
                    child.id, body.level, body.outcome, body.primary_need, nfa, accepted, own_entry=False
                ),
            ),
        )
        if decision.accepted_as_referral:
            _check_unborn(["body", "children", index] if index >= 0 else ["body"], referral, child)
        decided.append(decision)
    return decided


async def propose(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: DecisionProposal
) -> DecisionOut:
    referral = await referrals.for_action(session, actor, referral_id, ReferralAction.PROPOSE_DECISION)
    nfa, accepted = check_cin_rules(
        ["body"], body.level, body.outcome, body.primary_need, body.nfa, body.accepted_as_referral
    )
    children = await _per_child(session, referral, body, nfa, accepted)
    now = utcnow()
    decision = ThresholdDecision(
        id=uuid.uuid4(),
        referral_id=referral.id,
        **body.model_dump(include={"level", "outcome", "rationale", "primary_need"}),
        assessment_factors=[],
        nfa=nfa,
        accepted_as_referral=accepted,
        status=status.INITIAL,
        proposed_by=actor.sub,
        proposed_at=now,
    )
    session.add(decision)
    await session.flush()
    await session.execute(
        sa.insert(ThresholdDecisionChild),
        [
            {
                "decision_id": decision.id,
                "referral_child_id": child.child_id,
                "referral_id": referral.id,
                "level": child.level,
                "outcome": str(child.outcome),
                "primary_need": child.primary_need,
                "nfa": child.nfa,
                "accepted_as_referral": child.accepted_as_referral,
                "own_entry": child.own_entry,
            }
            for child in children
        ],
    )
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
        accepted_as_referral=accepted,
        children=[_event_entry(child) for child in children if child.own_entry],
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
    return _out(decision, [_entry_of(child) for child in children])


def _event_entry(child: ChildDecision) -> dict[str, Any]:
    return {
        "child_id": str(child.child_id),
        "level": child.level,
        "outcome": str(child.outcome),
        "primary_need": child.primary_need,
        "nfa": child.nfa,
        "accepted_as_referral": child.accepted_as_referral,
    }


def _entry_of(child: ChildDecision) -> dict[str, Any]:
    return {**_event_entry(child), "child_id": child.child_id, "own_entry": child.own_entry}


def _out(decision: ThresholdDecision, children: list[dict[str, Any]]) -> DecisionOut:
    fields = {name: getattr(decision, name) for name in DecisionOut.model_fields if name != "children"}
    return DecisionOut.model_validate({**fields, "children": children})


def decision_out(
    decision: ThresholdDecision, entries: Sequence[ThresholdDecisionChild] | Sequence[repository.Entry]
) -> DecisionOut:
    """The decision with these of its per-child entries."""
    return _out(decision, [{"child_id": e.referral_child_id, **repository.outcome_of(e)} for e in entries])


async def out(session: AsyncSession, decision: ThresholdDecision) -> DecisionOut:
    """The decision with its per-child entries."""
    return decision_out(decision, await repository.entries(session, decision.id))


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


async def read(session: AsyncSession, actor: Principal, decision_id: uuid.UUID) -> DecisionOut:
    decision = await _visible(session, actor, decision_id)
    await referrals.audit_on_referral(
        session,
        actor,
        AuditAction.READ,
        decision.referral_id,
        record_id=decision.id,
        record_type=RECORD_TYPE,
    )
    return await out(session, decision)


async def review(
    session: AsyncSession, actor: Principal, decision_id: uuid.UUID, body: DecisionReview
) -> DecisionOut:
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
    return await out(session, decision)
