"""Case events: what happened to a case record, written in the same transaction as the change.

They are the referral timeline, and the outbox of the partner change feed: nothing is emitted for a
rolled-back change, and nothing committed is missed. Sequence numbers are assigned just before
commit while holding the audit chain's head lock (``app.core.audit``), so they follow commit order
without gaps.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.audit import Actor, queue_event
from app.models.base import utcnow
from app.models.event import CaseEvent


def emit(
    session: AsyncSession,
    actor: Actor,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Queue an event for this session's transaction. ``data`` holds codes and ids only."""
    queue_event(
        session,
        {
            "id": uuid.uuid4(),
            "occurred_at": utcnow(),
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "event_type": event_type,
            "actor_sub": actor.sub,
            "actor_agency": str(actor.agency),
            "actor_role": str(actor.role),
            "data": dict(data or {}),
        },
    )


def last_seq(session: AsyncSession) -> sa.Select[int]:
    """The last event's ``seq``, of all events: on PostgreSQL through a function that row-level
    security does not narrow to the caller's events (migration ``20261127_row_security``)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.select(sa.func.mash_case_events_head(type_=sa.BigInteger))
    return sa.select(sa.func.coalesce(sa.func.max(CaseEvent.seq), 0))
