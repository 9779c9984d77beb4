"""Referral bodies. A referral is shown in one of three views, by who asks (``view``):

- ``full``: children's social care, the hub's lead agency, sees everything;
- ``referrer``: the agency that made the referral sees what it sent, the status, the RAG rating and
  the final outcome, but nothing other agencies contributed;
- ``asked_agency``: an agency asked for information sees the children's identifying details and its
  own requests, nothing else.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from app.children.codes import (
    CommunicationAudience,
    CommunicationMethod,
    ConcernCategory,
    ContributionStatus,
    DecisionOutcome,
    HouseholdRelationship,
    ReferralSource,
    ReferralStatus,
)
from app.children.decisions.schemas import ChildOutcomeOut
from app.core.allocation import AllocationOut
from app.core.codes import CaseSource, LawfulBasis, RagRating, SpecialCategoryCondition
from app.core.events import EventType
from app.core.schemas import (
    MAX_UNPAGED_ITEMS,
    SINGLE_LINE,
    Count,
    Date,
    ExternalReference,
    Line200,
    PastAwareDatetime,
    Phone,
    ReachableModel,
    Reason2k,
    RequestModel,
    ResponseModel,
    SequenceNumber,
    Sub,
    Text10k,
    Text20k,
    Unpaged,
    UpdateModel,
    example,
    no_repeats,
)
from app.core.scopes import AgencyCode, Role
from app.core.senders import InformationIn, InformationOut, WithdrawalOut, additions_field
from app.people.codes import Ethnicity, Gender, MatchStatus
from app.people.schemas import (
    AddressLines,
    MatchReasons,
    Name,
    NamedPersonIn,
    PersonRef,
    Postcode,
    StoredNhsNumber,
    StoredPostcode,
    is_adult,
)
from app.public.codes import Awareness, FeedbackPreference, RaiserRelationship

Categories = Annotated[list[ConcernCategory], Field(min_length=1, max_length=15), AfterValidator(no_repeats)]
ReferrerDetail = Annotated[str, Field(max_length=200, pattern=SINGLE_LINE)]
Level = Annotated[int, Field(ge=1, le=4)]
MAX_CHILDREN = 12
# Agencies may be asked again and again: as many as any unpaged list holds.
MAX_OUTSTANDING_CHECKS = MAX_UNPAGED_ITEMS
# An address as accepted (EmailStr), shown back.
Email = Annotated[str, Field(max_length=254, json_schema_extra={"format": "email"})]
MAX_HOUSEHOLD = 20


class AddressIn(RequestModel):
    lines: AddressLines = Field(default_factory=list)
    postcode: Postcode | None = None


class ChildIn(NamedPersonIn):
    address: AddressIn | None = None
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None

    @model_validator(mode="after")
    def _born_or_expected(self) -> Self:
        if self.date_of_birth is None and self.expected_date_of_birth is None:
            raise ValueError("give date_of_birth, or expected_date_of_birth for an unborn child")
        if self.date_of_birth is None and self.gender not in (None, Gender.NOT_KNOWN):
            raise ValueError(
                "an unborn child's gender is not_known (or left out): the CIN census records an unborn "
                "child's sex as U, not known (rule 8750)"
            )
        if self.date_of_birth is not None and is_adult(self.date_of_birth):
            raise ValueError(
                "the person is 18 or over on the referral date, so not a child: raise a concern about an "
                "adult at risk through POST /v1/adult-concerns"
            )
        return self


class HouseholdMemberIn(RequestModel):
    given_name: Name
    family_name: Name
    relationship: HouseholdRelationship = Field(description="Relationship to the children.")
    date_of_birth: Date | None = None
    lives_with_children: bool | None = None
    parental_responsibility: bool | None = None


class ReferrerIn(ReachableModel):
    """The professional (or member of the public) who made the referral, and how to reach them: a phone
    number or an email address, or both."""

    # Under allOf, not at the top: a top-level anyOf makes client generators (openapi-python-client) turn
    # the model into a union of two anonymous types.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "anyOf": [
                        {"required": ["phone"], "properties": {"phone": {"not": {"type": "null"}}}},
                        {"required": ["email"], "properties": {"email": {"not": {"type": "null"}}}},
                    ]
                }
            ]
        }
    )

    unreachable = "give a phone number or an email address for the referrer"

    name: Line200
    role: ReferrerDetail | None = None
    team: ReferrerDetail | None = None
    phone: Phone | None = None
    email: EmailStr | None = None


class ParentalConsent(RequestModel):
    informed: bool = Field(description="Were the parents told about the referral?")
    consented: bool = Field(description="Did they agree to it?")
    reason_not_informed: Reason2k | None = Field(
        None,
        description=(
            "Required when the parents did not consent: why the referral proceeds without it (for example, "
            "telling them would increase the risk to the child, cause undue delay or lose evidence)."
        ),
    )

    @model_validator(mode="after")
    def _reason(self) -> Self:
        if self.consented and not self.informed:
            raise ValueError("parents cannot have consented without being informed")
        if not self.consented and self.reason_not_informed is None:
            raise ValueError(
                "a referral made without parental consent must record the reason (reason_not_informed)"
            )
        return self


_REFERRAL_EXAMPLE = {
    "children": [
        {
            "given_name": "Amelia",
            "family_name": "Smith-Jones",
            "date_of_birth": "2018-03-14",
            "nhs_number": "9434765919",
            "address": {"lines": ["12 Forest Road", "London"], "postcode": "E17 4UH"},
            "gender": "female",
        }
    ],
    "household": [
        {"given_name": "Sarah", "family_name": "Smith", "relationship": "mother", "lives_with_children": True}
    ],
    "concern_categories": ["domestic_abuse", "neglect"],
    "concern_summary": "Police attended a domestic incident at the home overnight; the child was present.",
    "referrer": {"name": "PC Dawson", "role": "Public protection officer", "phone": "020 7946 0000"},
    "referral_source": "6",
    "external_reference": "INC-2026-4471",
    "parental_consent": {
        "informed": False,
        "consented": False,
        "reason_not_informed": "Informing the father would increase the risk to the child and the mother.",
    },
}


class ReferralCreate(RequestModel):
    model_config = example(_REFERRAL_EXAMPLE)

    children: list[ChildIn] = Field(min_length=1, max_length=MAX_CHILDREN)
    household: list[HouseholdMemberIn] = Field(default_factory=list, max_length=MAX_HOUSEHOLD)
    concern_categories: Categories
    concern_summary: Text10k
    referrer: ReferrerIn
    referral_source: ReferralSource = Field(
        description="CIN census source of referral code, e.g. 6 for police."
    )
    parental_consent: ParentalConsent
    do_not_inform_parents: bool = False
    do_not_inform_reason: Reason2k | None = None
    external_reference: ExternalReference | None = Field(
        None, description="Your own incident or case number: list your referrals by it (not unique)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.do_not_inform_parents and self.do_not_inform_reason is None:
            raise ValueError("do_not_inform_parents needs a do_not_inform_reason")
        return self


class ReferralUpdate(UpdateModel):
    """Change what the referral says, set or clear "do not inform parents", or withdraw it.

    Other status changes happen through their own actions (rating, requests, decisions).
    """

    model_config = example(
        {"do_not_inform_parents": True, "do_not_inform_reason": "Strategy discussion pending"},
        {"status": "withdrawn", "withdrawal_reason": "Referred in error: wrong family"},
    )

    concern_categories: Categories | None = None
    concern_summary: Text10k | None = None
    referrer: ReferrerIn | None = None
    do_not_inform_parents: bool | None = None
    do_not_inform_reason: Reason2k | None = None
    status: Literal[ReferralStatus.WITHDRAWN] | None = None
    withdrawal_reason: Reason2k | None = None

    @field_validator("concern_categories", "concern_summary", "referrer", "do_not_inform_parents")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be cleared; leave it out to keep it")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "do_not_inform_reason" in self.model_fields_set and not self.do_not_inform_parents:
            raise ValueError("do_not_inform_reason goes with do_not_inform_parents: true")
        if self.do_not_inform_parents and self.do_not_inform_reason is None:
            raise ValueError("do_not_inform_parents needs a do_not_inform_reason")
        if (self.status is None) != (self.withdrawal_reason is None):
            raise ValueError('withdrawing needs both status "withdrawn" and a withdrawal_reason')
        return self


class ReferralInformationIn(InformationIn):
    model_config = example(
        {
            "information": "The father was arrested last night; bail conditions forbid contact with the family.",
            "concern_categories": ["domestic_abuse"],
        }
    )

    concern_categories: Categories | None = Field(
        None,
        description="Categories of concern the new information raises; the referral as made is not changed.",
    )


class RagRatingIn(RequestModel):
    model_config = example({"rating": "red", "rationale": "Child present at a violent incident last night."})

    rating: RagRating = Field(description="red, amber, green, or blue (no MASH response needed).")
    rationale: Reason2k


class ConsentOverrideIn(RequestModel):
    model_config = example(
        {
            "reason": "Seeking consent would place the child at increased risk of significant harm.",
            "lawful_basis": "uk_gdpr_6_1_e_public_task",
            "special_category_condition": "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18",
        }
    )

    reason: Reason2k
    lawful_basis: LawfulBasis
    special_category_condition: SpecialCategoryCondition | None = Field(
        None, description="The Article 9 condition, when special category data (e.g. health) is shared."
    )


class CommunicationIn(RequestModel):
    model_config = example(
        {
            "audience": "referrer",
            "method": "phone",
            "summary": "Told PC Dawson a strategy discussion is being held.",
        }
    )

    audience: CommunicationAudience
    method: CommunicationMethod
    summary: Text10k
    occurred_at: PastAwareDatetime | None = Field(None, description="When it happened; default now.")


# ---------------------------------------------------------------------------------------------------
# Responses

_ID = "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d"
CHILD_IDENTITY_EXAMPLE = {
    "id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "given_name": "Amelia",
    "family_name": "Smith-Jones",
    "date_of_birth": "2018-03-14",
    "expected_date_of_birth": None,
    "nhs_number": "9434765919",
    "address": {"lines": ["12 Forest Road", "London"], "postcode": "E17 4UH"},
    "gender": "female",
    "ethnicity": None,
}
_HOUSEHOLD = [
    {
        "id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "given_name": "Sarah",
        "family_name": "Smith",
        "relationship": "mother",
        "date_of_birth": None,
        "lives_with_children": True,
        "parental_responsibility": None,
    }
]
_REFERRER = {"name": "PC Dawson", "role": "Public protection officer", "phone": "020 7946 0000"}
_CONSENT = {"informed": False, "consented": False, "reason_not_informed": "Would increase the risk."}
_OUTCOME = {
    "decision_id": "3f4e5d6c-7b8a-4999-8a7b-6c5d4e3f2a1b",
    "level": 4,
    "outcome": "strategy_discussion",
    "decided_at": "2026-11-23T11:20:00Z",
}


class AddressOut(ResponseModel):
    lines: AddressLines
    postcode: StoredPostcode | None


class MatchCandidateRef(ResponseModel):
    person_id: uuid.UUID
    score: float
    reasons: MatchReasons


class ChildMatch(ResponseModel):
    status: MatchStatus = Field(
        description=(
            "matched: linked automatically (certain match); pending: possible matches await a practitioner; "
            "new_person: nobody like this was known; confirmed: linked by a practitioner."
        )
    )
    candidates: Unpaged[MatchCandidateRef]


class PreviousReferral(ResponseModel):
    referral_id: uuid.UUID
    received_at: datetime
    status: ReferralStatus
    outcome: DecisionOutcome | None


class ChildIdentity(ResponseModel):
    """A child's identifying details, as the referral gave them."""

    model_config = example(CHILD_IDENTITY_EXAMPLE)

    id: uuid.UUID
    person_id: uuid.UUID | None = Field(
        description="The hub's person record for the child; null until matched, and in partner agencies' views."
    )
    given_name: Name
    family_name: Name
    date_of_birth: date | None
    expected_date_of_birth: date | None
    nhs_number: StoredNhsNumber | None
    address: AddressOut | None
    gender: Gender | None
    ethnicity: Ethnicity | None


class ChildOut(ChildIdentity):
    match: ChildMatch
    siblings: Unpaged[PersonRef] = Field(description="Brothers and sisters known to the hub.")
    previous_referrals: Unpaged[PreviousReferral] = Field(description="Earlier referrals about this child.")
    repeat_referral: bool = Field(
        description="True when an earlier referral was received in the 12 months before."
    )
    decision: ChildOutcomeOut | None = Field(
        None,
        description=(
            "The approved threshold decision on this child (the referral-wide one unless it gave the child "
            "their own): whether accepted as a referral, outcome, primary need, NFA. Null until decided."
        ),
    )


class HouseholdMemberOut(ResponseModel):
    id: uuid.UUID
    given_name: Name
    family_name: Name
    relationship: HouseholdRelationship
    date_of_birth: date | None
    lives_with_children: bool | None
    parental_responsibility: bool | None


class ReferrerOut(ResponseModel):
    """Who made the referral. A member of the public (``source: public``) may be anonymous (no name or
    contact), and says who they are to the children, how they want to hear back and whether the parents
    know."""

    name: Line200 | None = None
    role: ReferrerDetail | None = None
    team: ReferrerDetail | None = None
    phone: Phone | None = None
    email: Email | None = None
    anonymous: bool | None = Field(None, description="The public: raised without a name or contact.")
    relationship: RaiserRelationship | None = Field(
        None, description="The public: who they are to the children."
    )
    feedback: FeedbackPreference | None = Field(None, description="The public: how they want to hear back.")
    parents_know: Awareness | None = Field(None, description="The public: whether the parents know.")
    approximate_ages: list[Annotated[int, Field(ge=0, le=17)] | None] | None = Field(
        None,
        max_length=MAX_CHILDREN,
        description="The public: each child's age as they guessed it, in order, when no date of birth was given.",
    )


class ParentalConsentOut(ResponseModel):
    informed: bool
    consented: bool
    reason_not_informed: Reason2k | None


class ConsentOverrideOut(ResponseModel):
    reason: Reason2k
    lawful_basis: LawfulBasis
    special_category_condition: SpecialCategoryCondition | None
    authorised_by: Sub
    authorised_at: datetime


class RagOut(ResponseModel):
    rating: RagRating
    rationale: Reason2k
    rated_by: Sub
    rated_at: datetime


class OutcomeOut(ResponseModel):
    decision_id: uuid.UUID
    level: Level
    outcome: DecisionOutcome
    decided_at: datetime


class ReferralInformationOut(InformationOut):
    """Information added to the referral after it was made: by whom and when."""

    model_config = example(
        {
            "id": "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f",
            "information": "The father was arrested last night; bail conditions forbid contact with the family.",
            "concern_categories": ["domestic_abuse"],
            "added_by": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
            "added_by_agency": "police",
            "added_at": "2026-11-23T10:05:00Z",
        }
    )

    concern_categories: list[ConcernCategory] = Field(max_length=15)


Additions = Annotated[
    list[ReferralInformationOut],
    additions_field(
        "Information added since the referral was made, oldest first (the referring agency sees its own)."
    ),
]


AcknowledgedAt = Annotated[
    datetime | None,
    Field(
        description="When the hub acknowledged the referrer's contact: the first communication with the "
        "referrer recorded on the referral (event `referral.acknowledged`); null until then."
    ),
]


class ReferralFull(ResponseModel):
    model_config = example(
        {
            "view": "full",
            "id": _ID,
            "status": "decided",
            "referring_agency": "police",
            "referred_by": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
            "external_reference": "INC-2026-4471",
            "received_at": "2026-11-23T08:12:00Z",
            "decision_due_at": "2026-11-23T12:12:00Z",
            "statutory_decision_due_at": "2026-11-24T08:12:00Z",
            "rag_due_at": "2026-11-23T12:12:00Z",
            "acknowledgement_due_at": "2026-11-24T08:12:00Z",
            "acknowledged_at": "2026-11-23T09:30:00Z",
            "overdue": False,
            "referral_source": "6",
            "concern_categories": ["domestic_abuse"],
            "concern_summary": "Police attended a domestic incident overnight; the child was present.",
            "referrer": _REFERRER,
            "parental_consent": _CONSENT,
            "consent_override": {
                "reason": "Seeking consent would increase the risk to the child.",
                "lawful_basis": "uk_gdpr_6_1_e_public_task",
                "special_category_condition": "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18",
                "authorised_by": "manager-3",
                "authorised_at": "2026-11-23T08:50:00Z",
            },
            "do_not_inform_parents": False,
            "do_not_inform_reason": None,
            "rag": {
                "rating": "red",
                "rationale": "Child present at a violent incident.",
                "rated_by": "worker-17",
                "rated_at": "2026-11-23T08:40:00Z",
            },
            "children": [
                {
                    **CHILD_IDENTITY_EXAMPLE,
                    "match": {"status": "matched", "candidates": []},
                    "siblings": [],
                    "previous_referrals": [
                        {
                            "referral_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                            "received_at": "2026-04-02T14:00:00Z",
                            "status": "decided",
                            "outcome": "early_help",
                        }
                    ],
                    "repeat_referral": True,
                }
            ],
            "household": _HOUSEHOLD,
            "outcome": _OUTCOME,
            "withdrawal": None,
            "additional_information": [],
            "created_at": "2026-11-23T08:12:00Z",
            "updated_at": "2026-11-23T11:20:00Z",
        }
    )

    view: Literal["full"] = "full"
    id: uuid.UUID
    status: ReferralStatus
    referring_agency: AgencyCode
    referred_by: Sub
    external_reference: ExternalReference | None
    received_at: datetime
    decision_due_at: datetime = Field(
        description="When the decision is due: the statutory deadline, or the RAG target when the rating "
        "sets an earlier one (a RAG target never extends the statutory deadline)."
    )
    statutory_decision_due_at: datetime = Field(description="One working day from receipt.")
    rag_due_at: datetime | None = Field(
        description="The RAG target counted from receipt (red in clock hours, amber and green in working "
        "hours); null until rated and for blue. The hub's target for checks; it may be later than the "
        "statutory deadline, which `decision_due_at` then keeps."
    )
    acknowledgement_due_at: datetime | None = Field(
        description="When the referrer's contact is to be acknowledged: one working day from receipt "
        "(configurable); null on referrals received before acknowledgements were tracked."
    )
    acknowledged_at: AcknowledgedAt
    overdue: bool
    referral_source: ReferralSource
    concern_categories: Categories
    concern_summary: Text10k
    referrer: ReferrerOut
    parental_consent: ParentalConsentOut
    consent_override: ConsentOverrideOut | None
    do_not_inform_parents: bool
    do_not_inform_reason: Reason2k | None
    rag: RagOut | None
    children: list[ChildOut] = Field(max_length=MAX_CHILDREN)
    household: list[HouseholdMemberOut] = Field(max_length=MAX_HOUSEHOLD)
    outcome: OutcomeOut | None
    withdrawal: WithdrawalOut | None
    additional_information: Additions
    created_at: datetime
    updated_at: datetime | None


class ReferralForReferrer(ResponseModel):
    model_config = example(
        {
            "view": "referrer",
            "id": _ID,
            "status": "decided",
            "referring_agency": "police",
            "external_reference": "INC-2026-4471",
            "received_at": "2026-11-23T08:12:00Z",
            "decision_due_at": "2026-11-23T12:12:00Z",
            "rag_rating": "red",
            "acknowledged_at": "2026-11-23T09:30:00Z",
            "referral_source": "6",
            "concern_categories": ["domestic_abuse"],
            "concern_summary": "Police attended a domestic incident overnight; the child was present.",
            "referrer": _REFERRER,
            "parental_consent": _CONSENT,
            "children": [CHILD_IDENTITY_EXAMPLE],
            "household": _HOUSEHOLD,
            "outcome": _OUTCOME,
            "withdrawn": False,
            "additional_information": [],
        }
    )

    view: Literal["referrer"] = "referrer"
    id: uuid.UUID
    status: ReferralStatus
    referring_agency: AgencyCode
    external_reference: ExternalReference | None
    received_at: datetime
    decision_due_at: datetime = Field(description="When the hub's decision is due.")
    rag_rating: RagRating | None
    acknowledged_at: AcknowledgedAt
    referral_source: ReferralSource
    concern_categories: Categories
    concern_summary: Text10k
    referrer: ReferrerOut
    parental_consent: ParentalConsentOut
    children: list[ChildIdentity] = Field(max_length=MAX_CHILDREN)
    household: list[HouseholdMemberOut] = Field(max_length=MAX_HOUSEHOLD)
    outcome: OutcomeOut | None
    withdrawn: bool
    additional_information: Additions


class RequestToAgency(ResponseModel):
    contribution_id: uuid.UUID
    question: Text20k
    due_at: datetime
    status: ContributionStatus


class ReferralForAskedAgency(ResponseModel):
    model_config = example(
        {
            "view": "asked_agency",
            "id": _ID,
            "children": [CHILD_IDENTITY_EXAMPLE],
            "requests": [
                {
                    "contribution_id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                    "question": "What do you know about the child and family?",
                    "due_at": "2026-11-23T12:45:00Z",
                    "status": "requested",
                }
            ],
        }
    )

    view: Literal["asked_agency"] = "asked_agency"
    id: uuid.UUID
    children: list[ChildIdentity] = Field(max_length=MAX_CHILDREN)
    requests: Unpaged[RequestToAgency] = Field(
        description="This agency's information requests on the referral."
    )


ReferralOut = Annotated[
    ReferralFull | ReferralForReferrer | ReferralForAskedAgency, Field(discriminator="view")
]


class ChildSummary(ResponseModel):
    person_id: uuid.UUID | None
    given_name: Name
    family_name: Name
    date_of_birth: date | None
    expected_date_of_birth: date | None
    age: Annotated[int, Field(ge=0, le=150)] | None = Field(
        description="Whole years today (in England); null when the date of birth is not known."
    )


class OutstandingCheck(ResponseModel):
    """A request to an agency ("MASH check") not yet answered."""

    contribution_id: uuid.UUID
    agency: AgencyCode
    due_at: datetime
    overdue: bool


class ReferralSort(StrEnum):
    """The orders of the referral list: a field, `-` first for descending."""

    RECEIVED_AT = "received_at"
    RECEIVED_AT_DESCENDING = "-received_at"
    DECISION_DUE_AT = "decision_due_at"
    DECISION_DUE_AT_DESCENDING = "-decision_due_at"


class ReferralSummary(ResponseModel):
    """A referral in a list. The hub's items carry what its work queues show (the fields described
    as the hub's); they are null in a partner agency's list, which shows its referrals as sent."""

    model_config = example(
        {
            "id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "status": "triaged",
            "referring_agency": "police",
            "source": "partner",
            "external_reference": "INC-2026-4471",
            "received_at": "2026-11-23T08:12:00Z",
            "rag_rating": "red",
            "decision_due_at": "2026-11-23T12:12:00Z",
            "statutory_decision_due_at": "2026-11-24T08:12:00Z",
            "overdue": False,
            "concern_categories": ["domestic_abuse", "neglect"],
            "children": [
                {
                    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
                    "given_name": "Amelia",
                    "family_name": "Smith-Jones",
                    "date_of_birth": "2018-03-14",
                    "expected_date_of_birth": None,
                    "age": 8,
                }
            ],
            "outcome": None,
            "allocation": {
                "worker": "mash-practitioner-7",
                "team": "MASH A",
                "allocated_at": "2026-11-23T09:05:00Z",
                "allocated_by": "mash-manager-2",
                "note": None,
            },
            "outstanding_checks": [
                {
                    "contribution_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "agency": "health",
                    "due_at": "2026-11-23T11:12:00Z",
                    "overdue": False,
                }
            ],
            "match_pending": False,
            "earlier_referrals": 1,
        }
    )

    id: uuid.UUID
    status: ReferralStatus
    referring_agency: AgencyCode
    source: CaseSource = Field(
        description="Where it came from: `partner` (another agency), `hub` (its own staff), `public` (a member "
        "of the public, through the public's front door)."
    )
    external_reference: ExternalReference | None
    received_at: datetime
    rag_rating: RagRating | None
    decision_due_at: datetime
    statutory_decision_due_at: datetime | None = Field(
        description="The hub's: one working day from receipt, whatever the rating."
    )
    overdue: bool
    concern_categories: Categories
    children: list[ChildSummary] = Field(max_length=MAX_CHILDREN)
    outcome: OutcomeOut | None
    allocation: AllocationOut | None = Field(description="The hub's: whom the referral is allocated to.")
    outstanding_checks: list[OutstandingCheck] | None = Field(
        max_length=MAX_OUTSTANDING_CHECKS,
        description="The hub's: requests to agencies not yet answered, soonest due first.",
    )
    match_pending: bool | None = Field(
        description="The hub's: a child's match to the person register awaits a practitioner."
    )
    earlier_referrals: Count | None = Field(
        description=(
            "The hub's: how many referrals received before this one named any of its children "
            "(a repeat referral when there are any)."
        )
    )


class ReferralStatusCounts(ResponseModel):
    received: Count
    triaged: Count
    gathering_information: Count
    awaiting_approval: Count
    decided: Count
    withdrawn: Count


class ReferralRagCounts(ResponseModel):
    red: Count
    amber: Count
    green: Count
    blue: Count
    unrated: Count


class ReferralCounts(ResponseModel):
    """How many referrals the list would show with the same filters, and how they break down."""

    model_config = example(
        {
            "total": 12,
            "by_status": {
                "received": 3,
                "triaged": 5,
                "gathering_information": 4,
                "awaiting_approval": 0,
                "decided": 0,
                "withdrawn": 0,
            },
            "by_rag": {"red": 2, "amber": 6, "green": 1, "blue": 0, "unrated": 3},
            "overdue": 4,
            "unallocated": 7,
        }
    )

    total: Count
    by_status: ReferralStatusCounts
    by_rag: ReferralRagCounts
    overdue: Count
    unallocated: Count | None = Field(description="The hub's: no worker allocated (null for a partner).")


class CommunicationOut(ResponseModel):
    model_config = example(
        {
            "id": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6",
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "audience": "referrer",
            "method": "phone",
            "summary": "Told PC Dawson a strategy discussion is being held.",
            "occurred_at": "2026-11-23T11:00:00Z",
            "recorded_by": "worker-17",
            "recorded_at": "2026-11-23T11:02:00Z",
        }
    )

    id: uuid.UUID
    referral_id: uuid.UUID
    audience: CommunicationAudience
    method: CommunicationMethod
    summary: Text10k
    occurred_at: datetime
    recorded_by: Sub
    recorded_at: datetime


class EventActor(ResponseModel):
    sub: Sub | None = Field(description="Who; withheld (null) in a partner agency's view of hub staff.")
    agency: AgencyCode
    role: Role | None


class TimelineEntry(ResponseModel):
    model_config = example(
        {
            "seq": 41,
            "occurred_at": "2026-11-23T08:12:00Z",
            "event_type": "referral.received",
            "actor": {
                "sub": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
                "agency": "police",
                "role": "partner_referrer",
            },
            "data": {"referral_source": "6", "children": 1, "external_reference": "INC-2026-4471"},
        }
    )

    seq: SequenceNumber = Field(description="Position in the service-wide event order.")
    occurred_at: datetime
    event_type: EventType = Field(
        description="e.g. referral.received, referral.rated, contribution.submitted."
    )
    actor: EventActor
    data: dict[str, object] = Field(description="Codes and ids describing the event.")
