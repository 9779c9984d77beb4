"""An information request's status: its one table, and the one place that writes ``Contribution.status``.

    requested -> submitted (answered; a correction keeps it submitted), or cancelled

A request still unanswered when its referral is withdrawn is cancelled, and can no longer be answered.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ContributionStatus
from app.children.contributions.access import RequestRow
from app.core.direct import DirectWrite
from app.core.states import Transitions, stays
from app.models.base import table_columns, table_of
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


# The answer's change to its request, by asyncpg (``app.core.direct``): its status, current version,
# restriction and time, the columns the parameters name.
_ANSWERED = DirectWrite(
    sa.update(table_of(Contribution)).where(table_columns(Contribution).id == sa.bindparam("request_id"))
)


async def answer(
    session: AsyncSession,
    request: RequestRow,
    action: Action,
    *,
    version: int,
    restricted: bool,
    at: datetime,
) -> RequestRow:
    """Record an answer (``action``: the first, or a correction) to the request, locked by the caller
    (``access.locked``), in one UPDATE; a 409 ``invalid_transition`` when the table refuses. Returns the
    request as it now is."""
    answered = request._replace(
        status=TRANSITIONS.target(request.status, action),
        current_version=version,
        restricted=restricted,
        submitted_at=at,
    )
    await _ANSWERED.execute(
        session,
        {
            "request_id": answered.id,
            "status": answered.status,
            "current_version": version,
            "restricted": restricted,
            "submitted_at": at,
        },
    )
    return answered


async def cancel_requested(session: AsyncSession, referral_id: uuid.UUID) -> None:
    """The referral was withdrawn: cancel its requests not yet answered (answers already given stay)."""
    cancelled = TRANSITIONS.target(ContributionStatus.REQUESTED, Action.CANCEL)
    await session.execute(
        sa.update(Contribution)
        .where(Contribution.referral_id == referral_id, Contribution.status == ContributionStatus.REQUESTED)
        .values(status=cancelled)
    )
