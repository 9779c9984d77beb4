"""An assessment's status: its one table, and the one place that assigns ``Assessment.status``.

    open -> completed

A manager records the completion once: the factors, the outcome and, when the case closes, why.
"""

from __future__ import annotations

from enum import StrEnum

from app.children.codes import AssessmentStatus
from app.core.states import Transitions
from app.models.protection import Assessment

INITIAL = AssessmentStatus.OPEN


class Action(StrEnum):
    COMPLETE = "complete"


TRANSITIONS: Transitions[AssessmentStatus, Action] = Transitions(
    AssessmentStatus,
    table={(AssessmentStatus.OPEN, Action.COMPLETE): AssessmentStatus.COMPLETED},
    refused={Action.COMPLETE: "This assessment is already {status}: its completion is recorded once."},
)


check = TRANSITIONS.check


def move(assessment: Assessment, action: Action) -> None:
    """Move the assessment (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    assessment.status = TRANSITIONS.target(assessment.status, action)
