"""What follows an accepted referral: child and family assessments, strategy discussions, section 47
enquiries and their initial child protection conferences (domain.md, children step 8).

Each deadline (an assessment's ``due_on``, an enquiry's ``icpc_due_on``) is a London date computed when
the record is made, from the timescales then in force, and stored with it; lateness is kept when the
work is done (how many working days it took, and whether that was past the deadline).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Recorded, Versioned, created_at_column, sub_column, uuid_pk


class ChildOfReferral:
    """Work about one child of a referral: the referral, and the child as the referral named them."""

    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("referral_children.id"), nullable=False, index=True
    )


class Assessment(ChildOfReferral, Versioned, Base):
    """A child and family assessment of one child of a referral (section 17), due within 45 working
    days of the referral's receipt."""

    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = uuid_pk()
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    # The London date the referral was received: the 45 working days count from it.
    referral_received_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    started_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    due_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    started_by: Mapped[str] = sub_column()
    created_at: Mapped[datetime] = created_at_column()
    completed_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    factors: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    outcome: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    closure_reason: Mapped[str | None] = mapped_column(sa.String(3), nullable=True)
    working_days_taken: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    completed_late: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    completed_by: Mapped[str | None] = sub_column(nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        # The timeliness report: open assessments by due date, completed ones by completion date.
        sa.Index("ix_assessments_status_due_on", "status", "due_on"),
        sa.Index("ix_assessments_completed_on", "completed_on"),
    )


class StrategyDiscussion(Recorded, Versioned, Base):
    """Police, health and children's social care (at least) discussing whether to start a section 47
    enquiry about one or more children of a referral."""

    __tablename__ = "strategy_discussions"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    child_ids: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    held_at: Mapped[datetime] = mapped_column(nullable=False)
    held_on: Mapped[date] = mapped_column(sa.Date, nullable=False)  # the London date of held_at
    attendees: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False)
    decision: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    rationale: Mapped[str] = mapped_column(sa.Text, nullable=False)


class Section47Enquiry(ChildOfReferral, Versioned, Base):
    """A section 47 enquiry about one child, started by a strategy discussion; its initial child
    protection conference is due within 15 working days of that discussion."""

    __tablename__ = "section_47_enquiries"

    id: Mapped[uuid.UUID] = uuid_pk()
    strategy_discussion_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("strategy_discussions.id"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    started_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    icpc_due_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    concluded_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    category_of_abuse: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    concluded_by: Mapped[str | None] = sub_column(nullable=True)
    concluded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    conference_held_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    conference_outcome: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)
    conference_category_of_abuse: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    conference_working_days: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    conference_late: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    conference_recorded_by: Mapped[str | None] = sub_column(nullable=True)
    conference_recorded_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        # The timeliness report: enquiries awaiting a conference by due date, conferences by date held.
        sa.Index("ix_section_47_enquiries_status_icpc_due_on", "status", "icpc_due_on"),
        sa.Index("ix_section_47_enquiries_conference_held_on", "conference_held_on"),
    )
