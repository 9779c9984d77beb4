from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, sub_column, uuid_pk

# A hold stands until it is released.
ACTIVE_HOLD = "released_at IS NULL"


class LegalHold(Base):
    """A legal hold on a case record (litigation, an inquiry's preservation notice, a complaint): while
    it stands the record is kept whatever its retention rule says, never listed for review and never
    anonymised. Released, never deleted: who placed it, who released it, when and why stay recorded.
    ``record_type`` is a ``app.core.retention.RetainedRecordType``."""

    __tablename__ = "legal_holds"

    id: Mapped[uuid.UUID] = uuid_pk()
    record_type: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    placed_by: Mapped[str] = sub_column()
    placed_by_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    placed_at: Mapped[datetime] = created_at_column()
    released_at: Mapped[datetime | None] = mapped_column(nullable=True)
    released_by: Mapped[str | None] = sub_column(nullable=True)
    release_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)

    __table_args__ = (
        sa.Index("ix_legal_holds_record", "record_type", "record_id"),
        sa.Index("ix_legal_holds_placed_at_id", "placed_at", "id"),
    )


class Anonymisation(Base):
    """A case record whose personal data was replaced once its retention period had ended: which
    record, under which rule, when and by whom, and the person records anonymised with it
    (or kept, because another record still needs them). The record
    and its ids stay (the audit trail and the feed refer to them); its personal data does not."""

    __tablename__ = "anonymisations"

    id: Mapped[uuid.UUID] = uuid_pk()
    record_type: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    rule_basis: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    rule_years: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    retention_ended_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    anonymised_at: Mapped[datetime] = created_at_column()
    anonymised_by: Mapped[str] = sub_column()
    # {"anonymised": [person ids], "kept": [person ids]}: the people it named, and what became of them.
    people: Mapped[dict[str, Any]] = mapped_column(nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("record_type", "record_id"),
        sa.Index("ix_anonymisations_anonymised_at_id", "anonymised_at", "id"),
    )
