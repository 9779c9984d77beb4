"""Subject access requests and the subject access export.

The export is one JSON document of what the council holds about one person on the sides of their
record the caller reads (``sides``: children's, adults', or both). What the person may not be given is
left out and counted in ``withheld`` (by reason and by kind, never the content); see
``app.governance.subject_access.service`` for the rules.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import EmailStr, Field, model_validator

from app.adults.capacity.schemas import MAX_OPTIONS, CapacityFindings
from app.adults.codes import (
    AdultConcernStatus,
    AdvocateKind,
    EnquiryObjective,
    EnquiryResult,
    EnquiryStatus,
    LackedCapacity,
    LocationOfRisk,
    MspAsked,
    MspOutcomesAchieved,
    PlanActionStatus,
    PlanStatus,
    PrimarySupportReason,
    RiskOutcome,
    Section42Decision,
    SourceOfRisk,
    TypeOfRisk,
)
from app.adults.concerns.schemas import (
    MAX_ALLEGATIONS,
    AdvocacyOut,
    ConcernInformationOut,
    ConcernWithdrawalOut,
    Section42DecisionOut,
)
from app.adults.plans.schemas import ClosureOut, ReviewOut
from app.adults.reviews.schemas import SarOut
from app.children.assessments.schemas import AssessmentOut
from app.children.codes import ContributionStatus, ReferralSource, ReferralStatus
from app.children.contributions.schemas import ResponseVersion
from app.children.decisions.schemas import DecisionOut
from app.children.protection.schemas import Section47Out, StrategyDiscussionOut
from app.children.referrals.schemas import (
    Categories,
    CommunicationOut,
    ConsentOverrideOut,
    Email,
    OutcomeOut,
    ParentalConsentOut,
    RagOut,
    ReferralInformationOut,
)
from app.core.clock import today
from app.core.schemas import (
    MAX_SAFE_INTEGER,
    Count,
    Date,
    ExternalReference,
    Line200,
    Phone,
    Reason2k,
    RequestModel,
    ResponseModel,
    Sub,
    Text10k,
    Text20k,
    Unpaged,
    example,
    required_when,
)
from app.core.scopes import AgencyCode, Role
from app.core.senders import WithdrawalOut
from app.documents.codes import DocumentType, ParentType
from app.models.document import DESCRIPTION_LENGTH, FILENAME_LENGTH
from app.people.access import RecordSide
from app.people.codes import Ethnicity, Gender
from app.people.disclosures.schemas import DisclosureOut
from app.people.schemas import AddressLines, Name, PersonRecord, Postcode, StoredNhsNumber, StoredPostcode

# ---------------------------------------------------------------------------------------------------
# Subject access requests


class RequesterRelationship(StrEnum):
    DATA_SUBJECT = "data_subject"
    PARENT_OR_GUARDIAN = "parent_or_guardian"  # with parental responsibility, for a child
    LEGAL_REPRESENTATIVE = "legal_representative"  # e.g. a solicitor, with written authority
    ATTORNEY_OR_DEPUTY = "attorney_or_deputy"  # lasting power of attorney, Court of Protection deputy
    ADVOCATE = "advocate"
    OTHER_REPRESENTATIVE = "other_representative"


class SubjectAccessStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"


class RequesterIn(RequestModel):
    name: Line200
    relationship: RequesterRelationship = Field(description="Who the requester is to the person.")
    email: EmailStr | None = None
    phone: Phone | None = None
    address_lines: AddressLines | None = None
    postcode: Postcode | None = None


_REQUEST_IN = {
    "received_on": "2026-11-20",
    "requester": {
        "name": "Sarah Smith-Jones",
        "relationship": "parent_or_guardian",
        "email": "sarah@example.org",
        "postcode": "E17 4UH",
    },
    "identity_verified": True,
    "authority_confirmed": True,
}


class SubjectAccessRequestIn(RequestModel):
    """A subject access request as received: when, from whom, and what was checked."""

    model_config = example(_REQUEST_IN)

    received_on: Date = Field(
        description="The day the council received the request (a working day or not); the month to "
        "answer runs from it."
    )
    requester: RequesterIn
    identity_verified: bool = Field(description="Was the requester's identity verified?")
    authority_confirmed: bool | None = Field(
        None,
        description="For a request made on the person's behalf: was the requester's authority confirmed "
        "(parental responsibility, written authority, power of attorney, deputyship)? Omit when the person "
        "asks for themselves.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.received_on > today():
            raise ValueError("received_on cannot be in the future")
        required_when(
            self.requester.relationship != RequesterRelationship.DATA_SUBJECT,
            self.authority_confirmed,
            needed="a request made on the person's behalf records whether authority was confirmed",
            refused="authority_confirmed is only for a request made on the person's behalf",
        )
        return self


class RequesterOut(ResponseModel):
    name: Line200
    relationship: RequesterRelationship
    email: Email | None = None
    phone: Phone | None = None
    address_lines: AddressLines | None = None
    postcode: StoredPostcode | None = None


_REQUEST_OUT = {
    "id": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    **_REQUEST_IN,
    "due_on": "2026-12-21",
    "overdue": False,
    "status": "open",
    "logged_by": "practitioner-ann",
    "logged_by_agency": "childrens_social_care",
    "created_at": "2026-11-23T10:00:00Z",
    "fulfilled_at": None,
    "fulfilled_by": None,
}


class SubjectAccessRequestOut(ResponseModel):
    model_config = example(_REQUEST_OUT)

    id: uuid.UUID
    person_id: uuid.UUID
    received_on: date
    due_on: date = Field(
        description="One calendar month from receipt (UK GDPR Art 12(3)): the same date in the next month, "
        "or that month's last day when it has no such date; moved to the next working day when it falls on "
        "a weekend or an England & Wales bank holiday (ICO guidance). Fixed when the request is logged."
    )
    overdue: bool = Field(description="Still open after its due date.")
    status: SubjectAccessStatus = Field(description="`fulfilled` once an export has answered it.")
    requester: RequesterOut
    identity_verified: bool
    authority_confirmed: bool | None
    logged_by: Sub
    logged_by_agency: AgencyCode
    created_at: datetime
    fulfilled_at: datetime | None = Field(description="When the export answering it was produced.")
    fulfilled_by: Sub | None


# ---------------------------------------------------------------------------------------------------
# The export: what is withheld


class WithheldReason(StrEnum):
    RESTRICTED_CONTRIBUTION = "restricted_contribution"
    THIRD_PARTY = "third_party"


class WithheldKind(StrEnum):
    CONTRIBUTION = "contribution"  # an agency's answer marked restricted, with its request
    CONTRIBUTION_VERSION = "contribution_version"  # an earlier restricted version of an answer now open
    RECIPIENT = "recipient"  # a disclosure log entry about a withheld contribution (its request)
    OTHER_CHILD = "other_child"  # another child named on the same referral
    HOUSEHOLD_MEMBER = "household_member"
    REFERRER = "referrer"  # a private individual who made a referral
    SIBLING = "sibling"  # a brother or sister linked to the person's record
    CONCERN_RAISER = "concern_raiser"  # a private individual who raised a concern
    ALLEGED_PERSON = "alleged_person"  # who is alleged to have caused harm
    BEST_INTERESTS_CONSULTEE = "best_interests_consultee"
    PROTECTIVE_PEOPLE = "protective_people"  # the people a plan names to protect the adult
    DOCUMENT = "document"  # a document on a restricted contribution


class WithheldCount(ResponseModel):
    reason: WithheldReason
    kind: WithheldKind
    count: int = Field(ge=1, le=MAX_SAFE_INTEGER)


class Withheld(ResponseModel):
    """What was left out of the export and why; counts only, never the content."""

    model_config = example(
        {
            "total": 4,
            "by_reason": {"restricted_contribution": 1, "third_party": 3},
            "items": [
                {"reason": "restricted_contribution", "kind": "contribution", "count": 1},
                {"reason": "third_party", "kind": "household_member", "count": 2},
                {"reason": "third_party", "kind": "alleged_person", "count": 1},
            ],
        }
    )

    total: Count
    by_reason: dict[WithheldReason, Count] = Field(description="Every reason, with zero where none.")
    items: list[WithheldCount] = Field(
        max_length=len(WithheldReason) * len(WithheldKind),
        description="The counts by reason and kind of item.",
    )


# ---------------------------------------------------------------------------------------------------
# The export: the person and their children's records


class RecordedBy(ResponseModel):
    sub: Sub
    agency: AgencyCode
    role: Role


class ExportPerson(PersonRecord):
    pass


class NamedAs(ResponseModel):
    """The person as a referral named them."""

    given_name: Name
    family_name: Name
    date_of_birth: date | None
    expected_date_of_birth: date | None
    nhs_number: StoredNhsNumber | None
    address_lines: AddressLines | None
    postcode: StoredPostcode | None
    gender: Gender | None
    ethnicity: Ethnicity | None


class ContributionRecord(ResponseModel):
    """An agency asked what it knows about the child, and its answer (every version it may be given)."""

    id: uuid.UUID
    agency: AgencyCode
    question: Text20k
    requested_by: Sub
    requested_at: datetime
    due_at: datetime
    status: ContributionStatus
    answers: Unpaged[ResponseVersion] = Field(description="Oldest first; restricted versions withheld.")


class ReferralRecord(ResponseModel):
    id: uuid.UUID
    received_at: datetime
    status: ReferralStatus
    referring_agency: AgencyCode
    referral_source: ReferralSource
    referrer: dict[str, Any] | None = Field(
        description="Who made the referral; null (and counted as withheld) when a private individual did."
    )
    named_as: NamedAs
    concern_categories: Categories
    concern_summary: Text10k
    parental_consent: ParentalConsentOut
    consent_override: ConsentOverrideOut | None
    do_not_inform_parents: bool
    do_not_inform_reason: Reason2k | None
    rag: RagOut | None
    outcome: OutcomeOut | None
    withdrawal: WithdrawalOut | None
    contributions: list[ContributionRecord] = Field(max_length=len(AgencyCode))
    threshold_decisions: Unpaged[DecisionOut] = Field(
        description="Every decision proposed, with its rationale."
    )
    communications: Unpaged[CommunicationOut]
    external_reference: ExternalReference | None = Field(description="The referring agency's own reference.")
    additional_information: Unpaged[ReferralInformationOut] = Field(
        description="Information added after the referral was made, oldest first."
    )
    assessments: Unpaged[AssessmentOut] = Field(description="The person's child and family assessments.")
    strategy_discussions: Unpaged[StrategyDiscussionOut] = Field(
        description="Strategy discussions about the person: naming only them, with only their own enquiry."
    )
    section_47_enquiries: Unpaged[Section47Out] = Field(
        description="The person's section 47 enquiries, with their outcome and conference."
    )


class ChildrensRecords(ResponseModel):
    referrals: Unpaged[ReferralRecord] = Field(description="Every referral naming the person as a child.")


# ---------------------------------------------------------------------------------------------------
# The export: adults' records


class AllegationRecord(ResponseModel):
    id: uuid.UUID
    type_of_risk: TypeOfRisk
    location_of_risk: LocationOfRisk
    source_of_risk: SourceOfRisk
    description: Text10k
    result: EnquiryResult | None
    risk_outcome: RiskOutcome | None


class AdvocateRef(ResponseModel):
    name: Line200
    organisation: Line200
    kind: AdvocateKind


class AdvocacyRecord(AdvocacyOut):
    advocate: AdvocateRef | None


class EnquiryRecord(ResponseModel):
    """The enquiry and its conclusion (each allegation's result is on the allegation)."""

    id: uuid.UUID
    kind: Section42Decision
    lead_agency: AgencyCode
    caused_to_agency: AgencyCode | None
    objectives: list[EnquiryObjective] = Field(max_length=len(EnquiryObjective))
    status: EnquiryStatus
    opened_by: Sub
    opened_at: datetime
    msp_asked: MspAsked | None
    msp_outcomes_achieved: MspOutcomesAchieved | None
    lacked_capacity: LackedCapacity | None
    advocate_support: bool | None
    conclusion_summary: Text10k | None
    concluded_by: Sub | None
    concluded_at: datetime | None


class ConcernRecord(ResponseModel):
    id: uuid.UUID
    received_at: datetime
    status: AdultConcernStatus
    raising_agency: AgencyCode
    raised_by: dict[str, Any] | None = Field(
        description="Who raised it; null (and counted as withheld) when a private individual did."
    )
    named_as: NamedAs
    primary_support_reason: PrimarySupportReason | None
    allegations: list[AllegationRecord] = Field(
        max_length=MAX_ALLEGATIONS, description="The person alleged to have caused harm is withheld."
    )
    adult_views: Text10k | None
    desired_outcomes: Text10k | None
    consent_to_share: bool | None
    concerns_about_capacity: bool
    section_42_decision: Section42DecisionOut | None
    enquiry: EnquiryRecord | None
    advocacy: Unpaged[AdvocacyRecord] = Field(description="Every advocacy assessment, oldest first.")
    closed_at: datetime | None
    closure_reason: Reason2k | None
    withdrawal: ConcernWithdrawalOut | None
    external_reference: ExternalReference | None = Field(description="The raising agency's own reference.")
    additional_information: Unpaged[ConcernInformationOut] = Field(
        description="Information added after the concern was raised, oldest first."
    )


class BestInterestsRecord(ResponseModel):
    """The decision without the people consulted (third parties, counted in `withheld`)."""

    id: uuid.UUID
    decision: Text10k
    options: list[dict[str, Any]] = Field(max_length=MAX_OPTIONS)
    checklist: dict[str, Any]
    imca_involved: bool
    decision_maker: dict[str, Any]
    made_at: datetime
    recorded_by: Sub


class CapacityRecordKeys(ResponseModel):
    id: uuid.UUID
    concern_id: uuid.UUID | None


class CapacityRecord(CapacityFindings, CapacityRecordKeys):
    best_interests_decision: BestInterestsRecord | None


class PlanActionRecord(ResponseModel):
    id: uuid.UUID
    agency: AgencyCode
    description: Text10k
    due_date: date
    status: PlanActionStatus
    status_note: Text10k | None


class PlanRecord(ResponseModel):
    """The plan without the people it names to protect the adult (third parties, counted in `withheld`)."""

    id: uuid.UUID
    concern_id: uuid.UUID | None
    status: PlanStatus
    lead: dict[str, Any]
    adult_wishes: Text10k
    actions: Unpaged[PlanActionRecord]
    contingency: Text10k
    review_due_on: date
    reviews: Unpaged[ReviewOut]
    closure: ClosureOut | None
    created_by: Sub
    created_at: datetime


class AdultsRecords(ResponseModel):
    concerns: Unpaged[ConcernRecord] = Field(description="Every adult safeguarding concern about the person.")
    capacity_assessments: Unpaged[CapacityRecord]
    safeguarding_plans: Unpaged[PlanRecord]
    safeguarding_adults_reviews: Unpaged[SarOut] = Field(
        default_factory=list, description="Safeguarding adults reviews (Care Act s44) about the person."
    )


_EXPORT: dict[str, Any] = {
    "person": {
        "id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
        "given_name": "Amelia",
        "family_name": "Smith-Jones",
        "date_of_birth": "2008-03-14",
        "expected_date_of_birth": None,
        "nhs_number": "9434765919",
        "postcode": "E17 4UH",
        "address_lines": ["12 Forest Road", "London"],
        "gender": "female",
        "ethnicity": "WBRI",
        "created_at": "2026-11-23T10:15:00Z",
        "updated_at": None,
    },
    "generated_at": "2026-12-01T09:00:00Z",
    "generated_by": {
        "sub": "practitioner-ann",
        "agency": "childrens_social_care",
        "role": "mash_practitioner",
    },
    "subject_access_request": None,
    "sides": ["children"],
    "children": {"referrals": []},
    "adults": None,
    "recipients": [],
    "withheld": {
        "total": 1,
        "by_reason": {"restricted_contribution": 0, "third_party": 1},
        "items": [{"reason": "third_party", "kind": "sibling", "count": 1}],
    },
}


class ExportDocument(ResponseModel):
    """A document on one of the person's records: listed, not included (the officer downloads what the
    response needs through ``content_url``, which is audited)."""

    id: uuid.UUID
    parent_type: ParentType
    parent_id: uuid.UUID
    agency: AgencyCode = Field(description="The agency that uploaded it.")
    uploaded_at: datetime
    filename: str = Field(max_length=FILENAME_LENGTH)
    description: str | None = Field(None, max_length=DESCRIPTION_LENGTH)
    content_type: DocumentType
    size_bytes: int = Field(ge=0, le=MAX_SAFE_INTEGER)
    sha256: str = Field(pattern="^[0-9a-f]{64}$", min_length=64, max_length=64)
    withdrawn_at: datetime | None = Field(None, description="Withdrawn documents are listed, marked.")
    content_url: str = Field(max_length=100)


class SubjectAccessExport(ResponseModel):
    """What is held about one person on the sides of their record the caller reads, for the officer
    answering a subject access request."""

    model_config = example(_EXPORT)

    person: ExportPerson
    generated_at: datetime
    generated_by: RecordedBy
    subject_access_request: SubjectAccessRequestOut | None = Field(
        description="The request this export answers."
    )
    sides: list[RecordSide] = Field(
        min_length=1,
        max_length=len(RecordSide),
        description="The sides of the person's record this export covers: `children` (children's social "
        "care's records), `adults` (adult social care's), or both (the council-wide export, "
        "`subject_access:export`). An export of one side is not the whole record: a subject access "
        "request to the council is answered with both.",
    )
    children: ChildrensRecords | None = Field(
        description="The children's side; null when the export does not cover it (not in `sides`)."
    )
    adults: AdultsRecords | None = Field(
        description="The adults' side; null when the export does not cover it (not in `sides`)."
    )
    documents: Unpaged[ExportDocument] = Field(
        default_factory=list,
        description="The documents on the person's records on the sides covered, oldest first; those on a "
        "restricted contribution withheld and counted (`document`).",
    )
    recipients: Unpaged[DisclosureOut] = Field(
        description="To whom information about the person was disclosed before this export (Art 15(1)(c)), "
        "on the sides it covers: disclosures of those sides' records, and earlier exports that covered "
        "one of them.",
    )
    withheld: Withheld = Field(
        description="What was left out of the covered sides, counted; a side not covered is not in scope "
        "and nothing of it is counted here."
    )
