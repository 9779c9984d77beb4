"""The disclosure log and subject access requests: what the council told whom about a person, and
the person's own requests for what it holds about them (UK GDPR Articles 12 and 15)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Versioned, created_at_column, sub_column, uuid_pk


class Disclosure(Base):
    """One giving of information about a person to someone other than the agency that recorded it.

    Written once, never changed (see ``app.people.disclosures`` for when a row is written). The subject is the
    person record when it is known; a child or adult whose match is still pending is named by their
    row on the referral or the concern instead, so a later match brings the disclosure into the
    person's log without rewriting it. Only identifiers and codes are stored here.
    """

    __tablename__ = "disclosures"

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("people.id"), nullable=True, index=True)
    referral_child_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("referral_children.id"), nullable=True, index=True
    )
    adult_concern_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=True, index=True
    )
    # What: the record given, and what caused the giving.
    record_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    trigger: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    # To whom, why, and on what basis.
    recipient_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    recipient_agency: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("agencies.code"), nullable=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    lawful_basis: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    special_category_condition: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    # When, and by whom (the principal whose request made the disclosure).
    disclosed_at: Mapped[datetime] = mapped_column(nullable=False)
    actor_sub: Mapped[str] = sub_column()
    actor_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    actor_role: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    request_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    subject_access_request_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("subject_access_requests.id"), nullable=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(nullable=False)

    __table_args__ = (
        sa.CheckConstraint(
            "person_id IS NOT NULL OR referral_child_id IS NOT NULL OR adult_concern_id IS NOT NULL",
            name="names_a_subject",
        ),
        sa.Index("ix_disclosures_disclosed_at_id", "disclosed_at", "id"),
    )


class SubjectAccessRequest(Versioned, Base):
    """A person's request (or a representative's on their behalf) for the information held about them."""

    __tablename__ = "subject_access_requests"

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"), nullable=False, index=True)
    received_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    # Stored when logged, like every deadline, so later rule changes never move it.
    due_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    requester: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    requester_relationship: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    identity_verified: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    authority_confirmed: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    logged_by: Mapped[str] = sub_column()
    logged_by_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    fulfilled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    fulfilled_by: Mapped[str | None] = sub_column(nullable=True)

    __table_args__ = (
        sa.Index("ix_subject_access_requests_created_at_id", "created_at", "id"),
        sa.Index("ix_subject_access_requests_status_due_on", "status", "due_on"),
    )
