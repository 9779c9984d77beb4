from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Actor, Base


def chain_seq_column() -> Mapped[int]:
    """A place in a chain (the audit trail, the case events): numbered under the chain-head lock, never
    by the database, so that it follows commit order with no gaps."""
    return mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False
    )


def staging_pos_column() -> Mapped[int]:
    """The order in which a transaction staged its rows (PostgreSQL): the deferred trigger chains them in it."""
    return mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), primary_key=True
    )


class AuditEntry(Actor):
    """What an audit entry says, staged (``AuditPending``) or chained (``AuditEvent``)."""

    id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    request_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    record_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    record_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(nullable=False)


class AuditEvent(AuditEntry, Base):
    """One entry of the append-only audit trail.

    Each row carries the SHA-256 of its own canonical serialisation, which includes the previous row's
    hash, so changing or removing any row breaks every hash after it (see ``app.core.audit``).
    ``seq`` is assigned under the chain-head lock, so it has no gaps; a gap means a deleted row.
    Triggers refuse UPDATE and DELETE. Only identifiers and codes go in here, never personal data.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = chain_seq_column()
    id: Mapped[uuid.UUID] = mapped_column(nullable=False, unique=True)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)

    __table_args__ = (
        sa.Index("ix_audit_events_record", "record_type", "record_id"),
        sa.Index("ix_audit_events_person_id", "person_id"),
        sa.Index("ix_audit_events_actor", "actor_agency", "actor_sub"),
        sa.Index("ix_audit_events_occurred_at", "occurred_at"),
    )


class AuditChainHead(Base):
    """The single row naming the last link of the chain.

    Locking it serialises writers (so the chain cannot fork), and comparing it with the last row
    detects a truncated tail, which a hash chain alone cannot.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)

    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)


class AuditCheckpoint(Base):
    """A verified point of the chain, signed (HMAC-SHA256 with the settings' checkpoint key): the
    entry ``seq`` had hash ``hash`` when checked at ``signed_at``. A routine check starts from the
    latest checkpoint; the full check also re-signs each one (``app.core.audit``)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = chain_seq_column()
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(nullable=False)
    signature: Mapped[str] = mapped_column(sa.String(64), nullable=False)


class AuditPending(AuditEntry, Base):
    """PostgreSQL: a transaction's audit entries, staged until its commit, when a deferred trigger
    chains them into ``audit_events`` (migration ``20261206_audit_chain``) and deletes them. Always
    empty to anyone else; unused on SQLite."""

    __tablename__ = "audit_pending"

    pos: Mapped[int] = staging_pos_column()
