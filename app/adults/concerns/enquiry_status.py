"""An enquiry's status: its one table, and the one place that assigns ``Enquiry.status``.

    open -> concluded

An enquiry concludes once (its concern moves to ``enquiry_concluded`` with it: ``status.py``).
"""

from __future__ import annotations

from enum import StrEnum

from app.adults.codes import EnquiryStatus
from app.core.states import Transitions, stays
from app.models.adult import Enquiry

INITIAL = EnquiryStatus.OPEN


class Action(StrEnum):
    CONCLUDE = "conclude"
    ALLOCATE = "allocate"  # keeps the status
    # Adding an allegation the enquiry found, or correcting one: only while it is open (keeps the status).
    AMEND_ALLEGATIONS = "amend_allegations"


TRANSITIONS: Transitions[EnquiryStatus, Action] = Transitions(
    EnquiryStatus,
    table={
        (EnquiryStatus.OPEN, Action.CONCLUDE): EnquiryStatus.CONCLUDED,
        **stays([EnquiryStatus.OPEN], Action.ALLOCATE, Action.AMEND_ALLEGATIONS),
    },
    refused={
        Action.CONCLUDE: "This enquiry has already been concluded.",
        Action.ALLOCATE: "A concluded enquiry is not allocated any more.",
        Action.AMEND_ALLEGATIONS: (
            "The enquiry has concluded: its allegations are as it found them, and change no more."
        ),
    },
)


check = TRANSITIONS.check


def move(enquiry: Enquiry, action: Action) -> None:
    """Move the enquiry (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    enquiry.status = TRANSITIONS.target(enquiry.status, action)
