from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, sub_column


class CaseEvent(Base):
    """Something that happened to a case record: the referral timeline, and the change feed's outbox.

    Written in the same transaction as the change it describes. ``seq`` is assigned at commit time
    under the audit chain's lock, so it follows commit order with no gaps: a reader that has seen
    ``seq`` n has seen everything committed before it. ``data`` holds codes and ids only.
    """

    __tablename__ = "case_events"

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    id: Mapped[uuid.UUID] = mapped_column(nullable=False, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    aggregate_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    aggregate_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    actor_sub: Mapped[str] = sub_column()
    actor_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    actor_role: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)

    __table_args__ = (sa.Index("ix_case_events_aggregate", "aggregate_type", "aggregate_id", "seq"),)


class CaseEventPending(Base):
    """PostgreSQL: a transaction's case events, staged until its commit, when the audit chain's
    deferred trigger numbers them into ``case_events`` under the head lock. Unused on SQLite."""

    __tablename__ = "case_events_pending"

    pos: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    aggregate_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    aggregate_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    actor_sub: Mapped[str] = sub_column()
    actor_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    actor_role: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
