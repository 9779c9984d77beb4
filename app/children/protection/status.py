"""A section 47 enquiry's status: its one table, and the one place that assigns
``Section47Enquiry.status``.

    open -> concluded              (outcome no_further_action or child_in_need_plan)
    open -> awaiting_conference    (outcome initial_child_protection_conference)
    awaiting_conference -> conference_held

The outcome is recorded once; the initial child protection conference only after an outcome that
calls one, and once.
"""

from __future__ import annotations

from enum import StrEnum

from app.children.codes import Section47Outcome, Section47Status
from app.core.states import Transitions
from app.models.protection import Section47Enquiry

INITIAL = Section47Status.OPEN


class Action(StrEnum):
    CONCLUDE = "conclude"
    CALL_CONFERENCE = "call_conference"
    HOLD_CONFERENCE = "hold_conference"


_OUTCOME_RECORDED = "This enquiry's outcome is already recorded (status {status}): it is recorded once."

TRANSITIONS: Transitions[Section47Status, Action] = Transitions(
    Section47Status,
    table={
        (Section47Status.OPEN, Action.CONCLUDE): Section47Status.CONCLUDED,
        (Section47Status.OPEN, Action.CALL_CONFERENCE): Section47Status.AWAITING_CONFERENCE,
        (Section47Status.AWAITING_CONFERENCE, Action.HOLD_CONFERENCE): Section47Status.CONFERENCE_HELD,
    },
    refused={
        Action.CONCLUDE: _OUTCOME_RECORDED,
        Action.CALL_CONFERENCE: _OUTCOME_RECORDED,
        Action.HOLD_CONFERENCE: "This enquiry's conference is already recorded (status {status}).",
    },
    refused_from={
        (Section47Status.OPEN, Action.HOLD_CONFERENCE): (
            "No initial child protection conference has been called: record the enquiry's outcome "
            "(initial_child_protection_conference) first."
        ),
        (Section47Status.CONCLUDED, Action.HOLD_CONFERENCE): (
            "This enquiry concluded without an initial child protection conference."
        ),
    },
)


def outcome_action(outcome: Section47Outcome) -> Action:
    """The move an outcome makes: a conference to hold, or the enquiry concluded."""
    if outcome is Section47Outcome.INITIAL_CHILD_PROTECTION_CONFERENCE:
        return Action.CALL_CONFERENCE
    return Action.CONCLUDE


check = TRANSITIONS.check


def move(enquiry: Section47Enquiry, action: Action) -> None:
    """Move the enquiry (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    enquiry.status = TRANSITIONS.target(enquiry.status, action)
