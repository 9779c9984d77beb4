"""A safeguarding adults review's status: its one table, and the one place that assigns
``SafeguardingAdultsReview.status``.

    referred -> commissioned -> completed
    referred -> not_commissioned

The Safeguarding Adults Board considers a referral against the criteria of the Care Act 2014 s44 and
decides once: it must arrange a review when the mandatory criteria are met, may arrange one in any other
case, and records why it did not. A review considered but not commissioned is final (a new referral is a
new record), as is a completed one. Every other move is a 409 ``invalid_transition``.
"""

from __future__ import annotations

from enum import StrEnum

from app.adults.codes import SarStatus
from app.core.states import Transitions, stays
from app.models.adult import SafeguardingAdultsReview

INITIAL = SarStatus.REFERRED


class Action(StrEnum):
    COMMISSION = "commission"
    NOT_COMMISSION = "not_commission"
    COMPLETE = "complete"
    # Changes that keep the status: findings and actions as they emerge, the advocacy assessment.
    EDIT = "edit"


_S = SarStatus
_DECIDED = "The review was decided already: it is {status}."

TRANSITIONS: Transitions[SarStatus, Action] = Transitions(
    SarStatus,
    table={
        (_S.REFERRED, Action.COMMISSION): _S.COMMISSIONED,
        (_S.REFERRED, Action.NOT_COMMISSION): _S.NOT_COMMISSIONED,
        (_S.COMMISSIONED, Action.COMPLETE): _S.COMPLETED,
        **stays([_S.REFERRED, _S.COMMISSIONED], Action.EDIT),
    },
    refused={
        Action.COMMISSION: _DECIDED,
        Action.NOT_COMMISSION: _DECIDED,
        Action.COMPLETE: "Only a commissioned review completes; this one is {status}.",
        Action.EDIT: "A review that is {status} does not change any more.",
    },
)


check = TRANSITIONS.check


def move(review: SafeguardingAdultsReview, action: Action) -> None:
    """Move the review (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    review.status = TRANSITIONS.target(review.status, action)
