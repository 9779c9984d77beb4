"""An information request's status: its one table, and the one place that writes ``Contribution.status``.

    requested -> submitted (answered; a correction keeps it submitted), or cancelled

A request still unanswered when its referral is withdrawn is cancelled, and can no longer be answered.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ContributionStatus
from app.core.states import Transitions, stays
from app.models.referral import Contribution

INITIAL = ContributionStatus.REQUESTED


class Action(StrEnum):
    ANSWER = "answer"
    CORRECT = "correct"
    CANCEL = "cancel"


_C = ContributionStatus
_CANCELLED = "The request was cancelled when the referral was withdrawn."

TRANSITIONS: Transitions[ContributionStatus, Action] = Transitions(
    ContributionStatus,
    table={
        (_C.REQUESTED, Action.ANSWER): _C.SUBMITTED,
        **stays([_C.SUBMITTED], Action.CORRECT),
        (_C.REQUESTED, Action.CANCEL): _C.CANCELLED,
    },
    refused={
        Action.ANSWER: "Cannot answer a request whose status is {status}.",
        Action.CORRECT: "Cannot correct the answer to a request whose status is {status}.",
        Action.CANCEL: "Cannot cancel a request whose status is {status}.",
    },
    refused_from={(_C.CANCELLED, Action.ANSWER): _CANCELLED, (_C.CANCELLED, Action.CORRECT): _CANCELLED},
)


check = TRANSITIONS.check


def move(contribution: Contribution, action: Action) -> None:
    """Move the request (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    contribution.status = TRANSITIONS.target(contribution.status, action)


async def cancel_requested(session: AsyncSession, referral_id: uuid.UUID) -> None:
    """The referral was withdrawn: cancel its requests not yet answered (answers already given stay)."""
    cancelled = TRANSITIONS.target(ContributionStatus.REQUESTED, Action.CANCEL)
    await session.execute(
        sa.update(Contribution)
        .where(Contribution.referral_id == referral_id, Contribution.status == ContributionStatus.REQUESTED)
        .values(status=cancelled)
    )
