"""Adults at risk: concerns, allegations, section 42 decisions, enquiries, capacity, advocacy, plans.

These records are the evidence a council gives a court, an ombudsman or a safeguarding adults
review. Decisions, assessments, conclusions and reviews are written once and never updated; a later
assessment of the same decision is a new row, so the history stays whole.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    AddedInformation,
    Allocated,
    Base,
    Closable,
    FrontDoorRecord,
    Recorded,
    Timestamped,
    Versioned,
    created_at_column,
    public_index,
    sub_column,
    uuid_pk,
)
from app.models.person import MatchedSubject


class AdultConcern(FrontDoorRecord, MatchedSubject, Closable, Base):
    """A safeguarding concern about an adult (18+), as raised, and where it has got to (its status,
    deadline, allocation, withdrawal: ``FrontDoorRecord``; raised online by a member of the public:
    POST /public/v1/adult-concerns)."""

    __tablename__ = "adult_concerns"

    raising_agency: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("agencies.code"), nullable=False)
    raised_by_sub: Mapped[str] = sub_column()
    raised_by: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)

    # The adult as the concern described them (MatchedSubject), and their needs.
    primary_support_reason: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)

    # Making Safeguarding Personal: the adult's own voice.
    adult_views: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    desired_outcomes: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    consent_to_share: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    concerns_about_capacity: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)

    __table_args__ = (
        sa.Index("ix_adult_concerns_received_at_id", "received_at", "id"),
        sa.Index("ix_adult_concerns_status_received_at", "status", "received_at"),
        sa.Index("ix_adult_concerns_agency_received_at", "raising_agency", "received_at"),
        sa.Index("ix_adult_concerns_decision_due_at", "decision_due_at"),
        sa.Index("ix_adult_concerns_allocated_worker_received_at", "allocated_worker", "received_at", "id"),
        sa.Index("ix_adult_concerns_allocated_team_received_at", "allocated_team", "received_at", "id"),
        public_index("adult_concerns"),
    )


class ConcernInformation(AddedInformation, Base):
    """Information added to an adult concern after it was raised, by the raising agency or the hub."""

    __tablename__ = "adult_concern_additional_information"

    concern_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=False, index=True
    )


class Allegation(Versioned, Base):
    """One allegation of a concern: the SAC type, location and source of risk, and its result.

    The enquiry may correct the type, location or source as it finds them (each correction kept in
    ``allegation_changes``), and add allegations it finds (``enquiry_id``: the enquiry that found it);
    SAC SG2 counts what the concluded enquiry found.
    """

    __tablename__ = "allegations"

    id: Mapped[uuid.UUID] = uuid_pk()
    concern_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    type_of_risk: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    location_of_risk: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    source_of_risk: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    # The person alleged to have caused harm, where known: who they are to the adult.
    alleged_person: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    result: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    risk_outcome: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    # Found during the enquiry (null: raised with the concern), by whom and when.
    enquiry_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("enquiries.id"), nullable=True, index=True
    )
    added_by: Mapped[str | None] = sub_column(nullable=True)
    added_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AllegationChange(Base):
    """A correction of an allegation by the enquiry: what it was before, who changed it, when and why."""

    __tablename__ = "allegation_changes"

    id: Mapped[uuid.UUID] = uuid_pk()
    allegation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("allegations.id"), nullable=False, index=True
    )
    # The fields changed, each with its value before and after.
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    changed_by: Mapped[str] = sub_column()
    changed_at: Mapped[datetime] = mapped_column(nullable=False)


class Section42DecisionRecord(Base):
    """The section 42 decision on a concern: each criterion with its reason, the decision, feedback."""

    __tablename__ = "section_42_decisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    concern_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=False, unique=True
    )
    care_and_support_needs: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    experiencing_or_at_risk: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    unable_to_protect_self: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    decision: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    rationale: Mapped[str] = mapped_column(sa.Text, nullable=False)
    alternative_route: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)
    alternative_route_details: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    referrer_feedback: Mapped[str] = mapped_column(sa.Text, nullable=False)
    feedback_limited_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    decided_by: Mapped[str] = sub_column()
    decided_at: Mapped[datetime] = mapped_column(nullable=False)


class Enquiry(Allocated, Base):
    """A section 42 (or other) enquiry, led by an agency, possibly caused to another."""

    __tablename__ = "enquiries"

    id: Mapped[uuid.UUID] = uuid_pk()
    concern_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=False, unique=True
    )
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    lead_agency: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("agencies.code"), nullable=False)
    caused_to_agency: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("agencies.code"), nullable=True, index=True
    )
    objectives: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    opened_by: Mapped[str] = sub_column()
    opened_at: Mapped[datetime] = mapped_column(nullable=False)
    # The overall conclusion (SAC SG3, SG4), written once.
    msp_asked: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)
    msp_outcomes_achieved: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    lacked_capacity: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    advocate_support: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    conclusion_summary: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    concluded_by: Mapped[str | None] = sub_column(nullable=True)
    concluded_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)

    __table_args__ = (
        sa.Index("ix_enquiries_opened_at", "opened_at"),
        # "My open enquiries", a team's, a lead agency's.
        sa.Index(
            "ix_enquiries_allocated_worker_status_opened_at", "allocated_worker", "status", "opened_at", "id"
        ),
        sa.Index(
            "ix_enquiries_allocated_team_status_opened_at", "allocated_team", "status", "opened_at", "id"
        ),
        sa.Index("ix_enquiries_lead_agency_opened_at", "lead_agency", "opened_at", "id"),
    )


class CapacityAssessment(Base):
    """One assessment of one person's capacity to make one decision at one time (MCA 2005 ss2-3)."""

    __tablename__ = "capacity_assessments"

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"), nullable=False, index=True)
    concern_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=True, index=True
    )
    decision: Mapped[str] = mapped_column(sa.Text, nullable=False)
    relevant_information: Mapped[str] = mapped_column(sa.Text, nullable=False)
    support_provided: Mapped[str] = mapped_column(sa.Text, nullable=False)
    understand: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    retain: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    use_or_weigh: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    communicate: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    impairment: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    causative_link: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    outcome: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    may_fluctuate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(nullable=False)
    assessor: Mapped[str] = sub_column()
    recorded_at: Mapped[datetime] = created_at_column()


class BestInterestsDecision(Recorded, Base):
    """A decision made for a person who lacks capacity for it (MCA 2005 s4)."""

    __tablename__ = "best_interests_decisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("capacity_assessments.id"), nullable=False, unique=True
    )
    decision: Mapped[str] = mapped_column(sa.Text, nullable=False)
    options: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False)
    checklist: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    consultees: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False)
    imca_involved: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    decision_maker: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    made_at: Mapped[datetime] = mapped_column(nullable=False)


class Advocate(Base):
    """An independent advocate: a Care Act advocate or an IMCA."""

    __tablename__ = "advocates"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    organisation: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    contact: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[str] = sub_column()

    __table_args__ = (sa.Index("ix_advocates_created_at_id", "created_at", "id"),)


class Advocacy(Base):
    """An eligibility assessment for independent advocacy on a concern, and what was offered.

    Each assessment is a new row; the latest governs whether an enquiry may be concluded.
    """

    __tablename__ = "advocacy"

    id: Mapped[uuid.UUID] = uuid_pk()
    concern_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=False, index=True
    )
    substantial_difficulty: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    appropriate_person_available: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # Care Act s68: the adult's consent to the appropriate person, or a best interests decision.
    appropriate_person_consent: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    best_interests_decision_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("best_interests_decisions.id"), nullable=True
    )
    required: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    offer: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    advocate_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("advocates.id"), nullable=True)
    notes: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    recorded_by: Mapped[str] = sub_column()
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)


class SafeguardingPlan(Closable, Timestamped, Versioned, Base):
    """How the adult will be kept safe: lead, their wishes, actions by agency, contingency, reviews."""

    __tablename__ = "safeguarding_plans"

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"), nullable=False, index=True)
    concern_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("adult_concerns.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    lead: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    adult_wishes: Mapped[str] = mapped_column(sa.Text, nullable=False)
    protective_people: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    contingency: Mapped[str] = mapped_column(sa.Text, nullable=False)
    review_due_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    created_by: Mapped[str] = sub_column()
    # Closing (possible at any stage; who, when and why: Closable) records what the adult thought, and
    # two confirmations.
    closure_adult_view: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    feedback_given: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    feedback_withheld_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    sar_considered: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)

    __table_args__ = (
        sa.Index("ix_safeguarding_plans_created_at_id", "created_at", "id"),
        sa.Index("ix_safeguarding_plans_status_review_due_on", "status", "review_due_on"),
    )


class PlanAction(Versioned, Base):
    """One action of a plan, owned by one agency, which alone (with adult social care) updates it.

    It has its own version, so that agencies updating different actions do not collide on the plan's.
    """

    __tablename__ = "plan_actions"

    id: Mapped[uuid.UUID] = uuid_pk()
    plan_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("safeguarding_plans.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    agency: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("agencies.code"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    due_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    status_note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    updated_by: Mapped[str | None] = sub_column(nullable=True)
    # Whose staff ``updated_by`` is: an action owner is shown its own people, never the hub's.
    updated_by_agency: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PlanReview(Recorded, Base):
    """A review of a plan: what was found, and whether it continues, changes or closes."""

    __tablename__ = "plan_reviews"

    id: Mapped[uuid.UUID] = uuid_pk()
    plan_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("safeguarding_plans.id"), nullable=False, index=True
    )
    held_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    findings: Mapped[str] = mapped_column(sa.Text, nullable=False)
    decision: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    next_review_due_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)


class SafeguardingAdultsReview(Timestamped, Versioned, Base):
    """A safeguarding adults review (Care Act 2014 s44): referred to the Safeguarding Adults Board, decided
    against the criteria (commissioned or not), then completed with findings and actions.

    A review considered but not commissioned is kept: it is the evidence that the Board considered it.
    """

    __tablename__ = "safeguarding_adults_reviews"

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"), nullable=False, index=True)
    concern_ids: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    referred_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    # SAC SG5: whether the adult died (else they suffered serious harm and survived).
    adult_died: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    criteria: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    decision_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    rationale: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    commissioned_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    completed_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True, index=True)
    findings: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False)
    # Independent advocacy (Care Act s68 applies to a review as to an enquiry): the latest assessment.
    advocacy: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    advocacy_required: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    created_by: Mapped[str] = sub_column()

    __table_args__ = (
        sa.Index("ix_safeguarding_adults_reviews_created_at_id", "created_at", "id"),
        sa.Index("ix_safeguarding_adults_reviews_decision_on", "decision_on"),
    )
