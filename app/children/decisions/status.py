"""A threshold decision's status: its one table, and the one place that assigns ``ThresholdDecision.status``.

    proposed -> approved, or returned

A manager other than the proposer approves or returns a proposed decision, once; a returned decision
stays returned (the practitioner proposes a new one).
"""

from __future__ import annotations

from enum import StrEnum

from app.children.codes import DecisionStatus
from app.core.states import Transitions
from app.models.referral import ThresholdDecision

INITIAL = DecisionStatus.PROPOSED


class Action(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


TRANSITIONS: Transitions[DecisionStatus, Action] = Transitions(
    DecisionStatus,
    table={
        (DecisionStatus.PROPOSED, Action.APPROVE): DecisionStatus.APPROVED,
        (DecisionStatus.PROPOSED, Action.RETURN): DecisionStatus.RETURNED,
    },
    # Either action is refused alike: a decision is approved or returned once.
    refused=dict.fromkeys(Action, "This decision has already been {status}."),
)


check = TRANSITIONS.check


def move(decision: ThresholdDecision, action: Action) -> None:
    """Move the decision (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    decision.status = TRANSITIONS.target(decision.status, action)
