from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.audit import chain_seq_column, staging_pos_column
from app.models.base import Actor, Base


class CaseEventEntry(Actor):
    """What a case event says, staged (``CaseEventPending``) or numbered (``CaseEvent``)."""

    id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    aggregate_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    aggregate_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)


class CaseEvent(CaseEventEntry, Base):
    """Something that happened to a case record: the referral timeline, and the change feed's outbox.

    Written in the same transaction as the change it describes. ``seq`` is assigned at commit time
    under the audit chain's lock, so it follows commit order with no gaps: a reader that has seen
    ``seq`` n has seen everything committed before it. ``data`` holds codes and ids only.
    """

    __tablename__ = "case_events"

    seq: Mapped[int] = chain_seq_column()
    id: Mapped[uuid.UUID] = mapped_column(nullable=False, unique=True)

    __table_args__ = (sa.Index("ix_case_events_aggregate", "aggregate_type", "aggregate_id", "seq"),)


class CaseEventPending(CaseEventEntry, Base):
    """PostgreSQL: a transaction's case events, staged until its commit, when the audit chain's
    deferred trigger numbers them into ``case_events`` under the head lock. Unused on SQLite."""

    __tablename__ = "case_events_pending"

    pos: Mapped[int] = staging_pos_column()
