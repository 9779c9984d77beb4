"""An adult concern's status: its one table, and the one place that assigns ``AdultConcern.status``.

    received -> decided -> enquiry_open -> enquiry_concluded -> closed
                decided -> closed, when the section 42 decision was no further action
    received -> withdrawn, by the raising agency or adult social care, before the section 42 decision

The section 42 decision is made once; an enquiry is opened on a decision to make one, and concluded
once; a concern closes after its enquiry concludes or after a decision of no further action. A closed
or withdrawn concern is final: nothing moves it, nothing on it changes any more. Every other move is a 409
``invalid_transition``.
"""

from __future__ import annotations

from enum import StrEnum

from app.adults.codes import FINAL_CONCERN_STATUSES, AdultConcernStatus
from app.core.states import Transitions, stays
from app.models.adult import AdultConcern

INITIAL = AdultConcernStatus.RECEIVED


class Action(StrEnum):
    DECIDE = "decide"
    OPEN_ENQUIRY = "open_enquiry"
    CONCLUDE_ENQUIRY = "conclude_enquiry"
    CLOSE = "close"
    CLOSE_AFTER_NO_FURTHER_ACTION = "close_after_no_further_action"
    WITHDRAW = "withdraw"
    # Changes to a concern not yet closed that keep its status.
    EDIT = "edit"
    RECORD_ADVOCACY = "record_advocacy"
    ADD_INFORMATION = "add_information"


_A = AdultConcernStatus
_NOT_CLOSED = [status for status in AdultConcernStatus if status not in FINAL_CONCERN_STATUSES]
_CLOSES = "A concern closes after its enquiry concludes, or after a decision of no further action."

TRANSITIONS: Transitions[AdultConcernStatus, Action] = Transitions(
    AdultConcernStatus,
    table={
        (_A.RECEIVED, Action.DECIDE): _A.DECIDED,
        (_A.DECIDED, Action.OPEN_ENQUIRY): _A.ENQUIRY_OPEN,
        (_A.ENQUIRY_OPEN, Action.CONCLUDE_ENQUIRY): _A.ENQUIRY_CONCLUDED,
        (_A.ENQUIRY_CONCLUDED, Action.CLOSE): _A.CLOSED,
        (_A.DECIDED, Action.CLOSE_AFTER_NO_FURTHER_ACTION): _A.CLOSED,
        (_A.RECEIVED, Action.WITHDRAW): _A.WITHDRAWN,
        **stays(_NOT_CLOSED, Action.EDIT, Action.RECORD_ADVOCACY, Action.ADD_INFORMATION),
    },
    refused={
        Action.DECIDE: "Cannot decide on a concern whose status is {status}.",
        Action.OPEN_ENQUIRY: "Cannot open an enquiry on a concern whose status is {status}.",
        Action.CONCLUDE_ENQUIRY: "This enquiry has already been concluded.",
        Action.CLOSE: _CLOSES,
        Action.CLOSE_AFTER_NO_FURTHER_ACTION: _CLOSES,
        Action.WITHDRAW: (
            "A concern whose status is {status} cannot be withdrawn: only before the section 42 decision."
        ),
        Action.EDIT: "A concern whose status is {status} cannot be changed.",
        Action.RECORD_ADVOCACY: "The concern is {status}.",
        Action.ADD_INFORMATION: "A concern whose status is {status} takes no more information.",
    },
)


check = TRANSITIONS.check


def move(concern: AdultConcern, action: Action) -> None:
    """Move the concern (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    concern.status = TRANSITIONS.target(concern.status, action)
