from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    AddedInformation,
    Base,
    FrontDoorRecord,
    Recorded,
    public_index,
    sub_column,
    uuid_pk,
)
from app.models.person import MatchedSubject

# Undecided and not withdrawn (app.children.codes.FINAL_REFERRAL_STATUSES): the triage queue's rows.
OPEN_REFERRALS = "status NOT IN ('decided', 'withdrawn')"
# Acknowledgements still owed to the referrer.
UNACKNOWLEDGED = "acknowledged_at IS NULL AND acknowledgement_due_at IS NOT NULL"
DECIDED = "status = 'decided'"


class Referral(FrontDoorRecord, Base):
    """A referral about one or more children, from a partner agency or the public via hub staff.

    Deadlines are computed when the event that sets them happens and stored, so a later change of
    timescales never moves an existing deadline: ``statutory_decision_due_at`` (one working day from
    receipt) and ``acknowledgement_due_at`` at receipt, ``rag_due_at`` (the RAG target) when rated, and
    ``decision_due_at``, the one the queues work to: the earlier of the RAG target and the statutory
    deadline (a RAG target never extends the statutory one). ``acknowledgement_due_at`` is null on
    referrals received before acknowledgements were tracked. One made online by a member of the public
    (POST /public/v1/child-concerns) is ``from_public`` (``FrontDoorRecord``).
    """

    __tablename__ = "referrals"

    referring_agency: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("agencies.code"), nullable=False
    )
    referred_by: Mapped[str] = sub_column()
    referrer: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    referral_source: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    concern_categories: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    concern_summary: Mapped[str] = mapped_column(sa.Text, nullable=False)

    parents_informed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    parents_consented: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    consent_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    consent_override_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    consent_override_basis: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    consent_override_special_category: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    consent_override_by: Mapped[str | None] = sub_column(nullable=True)
    consent_override_at: Mapped[datetime | None] = mapped_column(nullable=True)
    do_not_inform_parents: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    do_not_inform_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)

    rag_rating: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    rag_rationale: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    rag_rated_by: Mapped[str | None] = sub_column(nullable=True)
    rag_rated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    statutory_decision_due_at: Mapped[datetime] = mapped_column(nullable=False)
    rag_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledgement_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)

    outcome_level: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)

    __table_args__ = (
        # The CIN items' order; covering the timeliness report's contacts (status, decision) on PostgreSQL.
        sa.Index(
            "ix_referrals_received_at_id", "received_at", "id", postgresql_include=["status", "decision_id"]
        ),
        sa.Index("ix_referrals_status_received_at", "status", "received_at"),
        sa.Index("ix_referrals_agency_received_at", "referring_agency", "received_at"),
        sa.Index("ix_referrals_rag_received_at", "rag_rating", "received_at"),
        sa.Index("ix_referrals_decision_due_at", "decision_due_at"),
        # The work queues: the open referrals by deadline (the triage page), a worker's or a team's.
        sa.Index(
            "ix_referrals_open_decision_due_at",
            "decision_due_at",
            "id",
            postgresql_where=sa.text(OPEN_REFERRALS),
            sqlite_where=sa.text(OPEN_REFERRALS),
        ),
        sa.Index(
            "ix_referrals_allocated_worker_decision_due_at", "allocated_worker", "decision_due_at", "id"
        ),
        sa.Index("ix_referrals_allocated_team_decision_due_at", "allocated_team", "decision_due_at", "id"),
        # The acknowledgements still owed (the timeliness report), a small part of all referrals.
        sa.Index(
            "ix_referrals_unacknowledged_due_at",
            "acknowledgement_due_at",
            postgresql_where=sa.text(UNACKNOWLEDGED),
            sqlite_where=sa.text(UNACKNOWLEDGED),
        ),
        # The timeliness report over a period: decision deadlines met, acknowledgements made (covering
        # on PostgreSQL: index-only scans of a year's referrals).
        sa.Index(
            "ix_referrals_decided_at",
            "decided_at",
            postgresql_include=["statutory_decision_due_at", "rag_due_at"],
            postgresql_where=sa.text(DECIDED),
            sqlite_where=sa.text(DECIDED),
        ),
        sa.Index(
            "ix_referrals_acknowledged_at", "acknowledged_at", postgresql_include=["acknowledgement_due_at"]
        ),
        public_index("referrals"),
    )


class ReferralChild(MatchedSubject, Base):
    """A child as the referral named them, and the person record they were matched to."""

    __tablename__ = "referral_children"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    expected_date_of_birth: Mapped[date | None] = mapped_column(sa.Date, nullable=True)


class ReferralHouseholdMember(Base):
    """A parent, carer or other member of the children's household, as the referral named them."""

    __tablename__ = "referral_household_members"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    given_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    family_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    relationship: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    lives_with_children: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    parental_responsibility: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)


class Contribution(Base):
    """An information request ("MASH check") to one agency, and the state of its answer."""

    __tablename__ = "contributions"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    agency: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("agencies.code"), nullable=False)
    question: Mapped[str] = mapped_column(sa.Text, nullable=False)
    requested_by: Mapped[str] = sub_column()
    requested_at: Mapped[datetime] = mapped_column(nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    current_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    restricted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        sa.Index("ix_contributions_agency_requested_at", "agency", "requested_at", "id"),
        sa.Index("ix_contributions_agency_status_due_at", "agency", "status", "due_at"),
        sa.Index("ix_contributions_status_due_at", "status", "due_at"),
    )


class ContributionResponse(Base):
    """One version of an agency's answer; a correction adds a version, never rewrites one."""

    __tablename__ = "contribution_responses"

    id: Mapped[uuid.UUID] = uuid_pk()
    contribution_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contributions.id"), nullable=False)
    version_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    information: Mapped[str] = mapped_column(sa.Text, nullable=False)
    risk_indicators: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    restricted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    restriction_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    correction_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    submitted_by: Mapped[str] = sub_column()
    submitted_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (sa.UniqueConstraint("contribution_id", "version_number"),)


class ThresholdOutcome:
    """What a threshold decision decides, for the whole referral or for one child of it: the level of
    need and outcome, the primary need, whether no further action, whether accepted as a referral."""

    level: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    outcome: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    primary_need: Mapped[str | None] = mapped_column(sa.String(2), nullable=True)
    nfa: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    accepted_as_referral: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)


class ThresholdDecision(ThresholdOutcome, Base):
    """A proposed level of need and outcome, approved or returned by a different manager."""

    __tablename__ = "threshold_decisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    rationale: Mapped[str] = mapped_column(sa.Text, nullable=False)
    # Recorded at the decision before contract 1.1 (kept, read only); factors now belong to assessments.
    assessment_factors: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    proposed_by: Mapped[str] = sub_column()
    proposed_at: Mapped[datetime] = mapped_column(nullable=False)
    reviewed_by: Mapped[str | None] = sub_column(nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    review_comment: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class ThresholdDecisionChild(ThresholdOutcome, Base):
    """The decision on one child of the referral: the referral-wide values, or the child's own where the
    proposal gave them. One row per child of the referral, written with the proposal; the approved
    decision's rows (``Referral.decision_id``) say which children were accepted as referrals (the CIN
    census items)."""

    __tablename__ = "threshold_decision_children"

    decision_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("threshold_decisions.id"), primary_key=True)
    referral_child_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("referral_children.id"), primary_key=True
    )
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    # Whether the proposal gave this child their own entry (else the referral-wide values apply).
    own_entry: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)


class Communication(Recorded, Base):
    """A contact with the family or the referrer: who, when, how, what was said."""

    __tablename__ = "referral_communications"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    audience: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    method: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)


class ReferralInformation(AddedInformation, Base):
    """Information added to a referral after it was made, by the referring agency or the hub."""

    __tablename__ = "referral_additional_information"

    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), nullable=False, index=True)
    concern_categories: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
