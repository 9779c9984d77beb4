"""A safeguarding plan's status: its one table, and the one place that assigns ``SafeguardingPlan.status``.

    active -> closed (by a review that closes it)

While active, the plan is amended, reviewed and its actions updated; a closed plan is final.
"""

from __future__ import annotations

from enum import StrEnum

from app.adults.codes import PlanStatus
from app.core.states import Transitions, stays
from app.models.adult import SafeguardingPlan

INITIAL = PlanStatus.ACTIVE


class Action(StrEnum):
    CLOSE = "close"
    # Changes to an active plan that keep its status.
    AMEND = "amend"
    REVIEW = "review"
    UPDATE_ACTION = "update_action"


_ACTIVE = PlanStatus.ACTIVE
_CLOSED = "The plan is closed."

TRANSITIONS: Transitions[PlanStatus, Action] = Transitions(
    PlanStatus,
    table={
        (_ACTIVE, Action.CLOSE): PlanStatus.CLOSED,
        **stays([_ACTIVE], Action.AMEND, Action.REVIEW, Action.UPDATE_ACTION),
    },
    refused={
        Action.CLOSE: _CLOSED,
        Action.AMEND: "A closed plan cannot be changed.",
        Action.REVIEW: _CLOSED,
        Action.UPDATE_ACTION: _CLOSED,
    },
)


check = TRANSITIONS.check


def move(plan: SafeguardingPlan, action: Action) -> None:
    """Move the plan (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    plan.status = TRANSITIONS.target(plan.status, action)
