"""Adult concern bodies. A concern is shown in one of two views (``view``):

- ``full``: adult social care, the lead agency for adults, sees everything;
- ``raiser``: the agency that raised it sees what it sent, the status and the feedback, unless the
  feedback is limited (for example while a criminal investigation is under way).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, ConfigDict, EmailStr, Field, model_validator

from app.adults.codes import (
    RISK_IDENTIFIED_RESULTS,
    AdultConcernStatus,
    AdvocacyOffer,
    AlternativeRoute,
    AppropriatePersonConsent,
    EnquiryObjective,
    EnquiryResult,
    EnquiryStatus,
    LackedCapacity,
    LocationOfRisk,
    MspAsked,
    MspOutcomesAchieved,
    PrimarySupportReason,
    RiskOutcome,
    Section42Decision,
    SourceOfRisk,
    TypeOfRisk,
)
from app.children.referrals.schemas import ChildMatch
from app.core.allocation import AllocationOut
from app.core.clock import today
from app.core.codes import CaseSource
from app.core.schemas import (
    MAX_SAFE_INTEGER,
    MAX_UNPAGED_ITEMS,
    SINGLE_LINE,
    Date,
    ExternalReference,
    Line200,
    Phone,
    ReachableModel,
    Reason2k,
    RequestModel,
    ResponseModel,
    Sub,
    Text10k,
    UpdateModel,
    example,
    no_repeats,
    required_when,
)
from app.core.scopes import AgencyCode
from app.core.senders import InformationOut, WithdrawalOut, additions_field
from app.people.codes import Ethnicity, Gender
from app.people.schemas import (
    AddressLines,
    Name,
    NhsNumber,
    Postcode,
    StoredNhsNumber,
    StoredPostcode,
    is_adult,
)

MAX_ALLEGATIONS = 20


class AdultIn(RequestModel):
    given_name: Name
    family_name: Name
    date_of_birth: Date | None = Field(None, description="The adult must be 18 or over.")
    nhs_number: NhsNumber | None = None
    address_lines: AddressLines | None = None
    postcode: Postcode | None = None
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None
    primary_support_reason: PrimarySupportReason | None = Field(
        None, description="SAC primary support reason, when known."
    )

    @model_validator(mode="after")
    def _adult(self) -> Self:
        if self.date_of_birth is not None:
            if self.date_of_birth > today():
                raise ValueError("date_of_birth cannot be in the future")
            if not is_adult(self.date_of_birth):
                raise ValueError("the person is under 18: refer a child through POST /v1/referrals")
        return self


class AllegedPerson(RequestModel):
    """The person alleged to have caused harm, where known."""

    relationship: Annotated[str, Field(min_length=1, max_length=100, pattern=SINGLE_LINE)] = Field(
        description="Who they are to the adult, e.g. son, paid carer, neighbour."
    )
    lives_with_adult: bool | None = None
    is_adult_at_risk: bool | None = Field(None, description="Are they themselves an adult at risk?")


class AllegationIn(RequestModel):
    type_of_risk: TypeOfRisk
    location_of_risk: LocationOfRisk
    source_of_risk: SourceOfRisk
    description: Text10k
    alleged_person: AllegedPerson | None = None


class RaisedByIn(ReachableModel):
    """Who raised the concern, and how to reach them for feedback."""

    unreachable = "give a phone number or an email address, so feedback can reach whoever raised it"
    name: Line200
    role: Annotated[str, Field(max_length=200, pattern=SINGLE_LINE)] | None = None
    organisation: Annotated[str, Field(max_length=200, pattern=SINGLE_LINE)] | None = None
    relationship_to_adult: Annotated[str, Field(max_length=100, pattern=SINGLE_LINE)] | None = None
    phone: Phone | None = None
    email: EmailStr | None = None


CONCERN_EXAMPLE = {
    "adult": {
        "given_name": "Margaret",
        "family_name": "Hughes",
        "date_of_birth": "1941-06-02",
        "postcode": "E17 5JW",
        "gender": "female",
        "primary_support_reason": "memory_and_cognition",
    },
    "allegations": [
        {
            "type_of_risk": "financial_or_material",
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "description": "Her son has been withdrawing large sums from her account.",
            "alleged_person": {"relationship": "son", "lives_with_adult": True, "is_adult_at_risk": False},
        },
        {
            "type_of_risk": "neglect_and_acts_of_omission",
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "description": "Missed medication and no food in the house at the last two visits.",
        },
    ],
    "adult_views": "She says she does not want her son to get into trouble.",
    "desired_outcomes": "To stay at home and to keep her money safe.",
    "consent_to_share": True,
    "concerns_about_capacity": True,
    "raised_by": {
        "name": "Dr Patel",
        "role": "GP",
        "organisation": "Hoe Street Surgery",
        "phone": "020 7946 0101",
    },
}


class AdultConcernCreate(RequestModel):
    model_config = example(CONCERN_EXAMPLE)

    adult: AdultIn
    allegations: list[AllegationIn] = Field(min_length=1, max_length=MAX_ALLEGATIONS)
    adult_views: Text10k | None = Field(None, description="What the adult says about the concern.")
    desired_outcomes: Text10k | None = Field(None, description="What the adult wants to happen.")
    consent_to_share: bool | None = Field(
        None, description="Has the adult consented to sharing? null: not asked."
    )
    concerns_about_capacity: bool = Field(description="Is there doubt about the adult's capacity to consent?")
    raised_by: RaisedByIn
    external_reference: ExternalReference | None = Field(
        None, description="Your own incident or case number: list your concerns by it (not unique)."
    )


class AdultConcernUpdate(UpdateModel):
    """Add the adult's voice as it becomes known, or close the concern."""

    model_config = example(
        {"desired_outcomes": "To stay at home, with her daughter managing her money."},
        {"status": "closed", "closure_reason": "Enquiry concluded; plan in place and reviewed."},
    )

    adult_views: Text10k | None = None
    desired_outcomes: Text10k | None = None
    consent_to_share: bool | None = None
    primary_support_reason: PrimarySupportReason | None = None
    status: Literal[AdultConcernStatus.CLOSED] | None = None
    closure_reason: Reason2k | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status is None) != (self.closure_reason is None):
            raise ValueError('closing needs both status "closed" and a closure_reason')
        return self


class Criterion(RequestModel):
    met: bool
    reason: Reason2k


class Section42DecisionIn(RequestModel):
    """Care Act 2014 s42(1): the three criteria, each recorded separately with its reason."""

    model_config = example(
        {
            "care_and_support_needs": {"met": True, "reason": "Dementia; receives a daily care package."},
            "experiencing_or_at_risk": {
                "met": True,
                "reason": "Evidence of financial abuse and neglect.",
            },
            "unable_to_protect_self": {
                "met": True,
                "reason": "Cannot manage her finances or challenge her son.",
            },
            "decision": "section_42_enquiry",
            "rationale": "All three criteria are met: the council must make enquiries.",
            "referrer_feedback": "Phone Dr Patel to say an enquiry is under way.",
        },
        {
            "care_and_support_needs": {"met": True, "reason": "Receives care at home."},
            "experiencing_or_at_risk": {
                "met": False,
                "reason": "The bruising was from a fall, seen by A&E.",
            },
            "unable_to_protect_self": {"met": False, "reason": "Manages her own affairs."},
            "decision": "no_further_action",
            "rationale": "No abuse or neglect; her care needs should be reviewed.",
            "alternative_route": "needs_assessment",
            "referrer_feedback": "Letter to the GP surgery.",
            "feedback_limited_reason": None,
        },
    )

    care_and_support_needs: Criterion = Field(description="(a) has needs for care and support")
    experiencing_or_at_risk: Criterion = Field(
        description="(b) is experiencing, or at risk of, abuse or neglect"
    )
    unable_to_protect_self: Criterion = Field(
        description="(c) as a result of those needs is unable to protect self"
    )
    decision: Section42Decision
    rationale: Text10k
    alternative_route: AlternativeRoute | None = Field(
        None, description="For no_further_action: where the concern goes instead (required then)."
    )
    alternative_route_details: Text10k | None = None
    referrer_feedback: Reason2k = Field(
        description="How the person who raised the concern will hear the outcome."
    )
    feedback_limited_reason: Reason2k | None = Field(
        None,
        description=(
            "Set to limit feedback to the raising agency, with the reason (e.g. a criminal investigation). "
            "The raising agency then sees the status only."
        ),
    )

    @model_validator(mode="after")
    def _route(self) -> Self:
        if self.decision == Section42Decision.NO_FURTHER_ACTION and self.alternative_route is None:
            raise ValueError("no_further_action needs an alternative_route (use none if there is none)")
        if self.decision != Section42Decision.NO_FURTHER_ACTION and self.alternative_route is not None:
            raise ValueError("alternative_route is for no_further_action only")
        return self


class EnquiryOpen(RequestModel):
    model_config = example(
        {
            "lead_agency": "adult_social_care",
            "objectives": ["establish_facts", "ascertain_views_and_wishes", "protect"],
        },
        {
            "lead_agency": "adult_social_care",
            "caused_to_agency": "health",
            "objectives": ["establish_facts", "decide_follow_up_action"],
        },
    )

    lead_agency: AgencyCode
    objectives: Annotated[
        list[EnquiryObjective], Field(min_length=1, max_length=6), AfterValidator(no_repeats)
    ]
    caused_to_agency: AgencyCode | None = Field(
        None, description="An agency asked to carry out the enquiry; the council stays accountable."
    )


class AllegationResult(RequestModel):
    allegation_id: uuid.UUID
    result: EnquiryResult
    risk_outcome: RiskOutcome | None = Field(
        None, description="Only where risk was identified (then required)."
    )

    @model_validator(mode="after")
    def _risk_outcome(self) -> Self:
        required_when(
            self.result in RISK_IDENTIFIED_RESULTS,
            self.risk_outcome,
            needed="a risk_identified result needs a risk_outcome",
            refused="risk_outcome is only recorded where risk was identified",
        )
        return self


class EnquiryConclusion(RequestModel):
    model_config = example(
        {
            "allegations": [
                {
                    "allegation_id": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
                    "result": "risk_identified_and_action_taken",
                    "risk_outcome": "risk_reduced",
                }
            ],
            "msp_asked": "yes_outcomes_expressed",
            "msp_outcomes_achieved": "partially",
            "lacked_capacity": "yes",
            "advocate_support": True,
            "summary": "Lasting power of attorney put in place; care package increased.",
        }
    )

    allegations: list[AllegationResult] = Field(
        min_length=1, max_length=MAX_ALLEGATIONS, description="A result for every allegation."
    )
    msp_asked: MspAsked
    msp_outcomes_achieved: MspOutcomesAchieved | None = Field(
        None, description="Required when the adult expressed outcomes (yes_outcomes_expressed), else absent."
    )
    lacked_capacity: LackedCapacity
    advocate_support: bool | None = Field(
        None,
        description="When the adult lacked capacity: supported by an advocate, family or friend? Required then.",
    )
    summary: Text10k | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        required_when(
            self.msp_asked == MspAsked.YES_OUTCOMES_EXPRESSED,
            self.msp_outcomes_achieved,
            needed="msp_outcomes_achieved is required when outcomes were expressed",
            refused="msp_outcomes_achieved is only recorded when outcomes were expressed",
        )
        required_when(
            self.lacked_capacity == LackedCapacity.YES,
            self.advocate_support,
            needed="advocate_support is required when the adult lacked capacity",
            refused="advocate_support is only recorded when the adult lacked capacity",
        )
        ids = [a.allegation_id for a in self.allegations]
        if len(set(ids)) != len(ids):
            raise ValueError("each allegation is concluded once")
        return self


class AdvocacyIn(RequestModel):
    """Care Act s67/s68: an independent advocate is required when both conditions hold."""

    model_config = example(
        {
            "substantial_difficulty": True,
            "appropriate_person_available": False,
            "offer": "accepted",
            "advocate_id": "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e",
        }
    )

    substantial_difficulty: bool = Field(
        description="Would the adult have substantial difficulty understanding, retaining, using or weighing "
        "information, or communicating their views?"
    )
    appropriate_person_available: bool = Field(
        description="Is there an appropriate person (not paid or professional) to support them?"
    )
    appropriate_person_consent: AppropriatePersonConsent | None = Field(
        None,
        description="Care Act s68: an appropriate person needs the adult's consent (`given`), or, when the adult "
        "lacks capacity to consent, a best interests decision that it is in their best interests "
        "(`lacks_capacity_best_interests`, naming `best_interests_decision_id`). Required when "
        "`appropriate_person_available`, and only then.",
    )
    best_interests_decision_id: uuid.UUID | None = Field(
        None,
        description="The best interests decision (about this adult) that the appropriate person supports them; "
        "with `lacks_capacity_best_interests` only.",
    )
    offer: AdvocacyOffer
    advocate_id: uuid.UUID | None = Field(None, description="The advocate appointed; required when accepted.")
    notes: Text10k | None = None

    @property
    def required(self) -> bool:
        return self.substantial_difficulty and not self.appropriate_person_available

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        consent = self.appropriate_person_consent
        required_when(
            self.appropriate_person_available,
            consent,
            needed="an appropriate person needs the adult's consent, or a best interests decision when the "
            "adult lacks capacity to consent (appropriate_person_consent)",
            refused="appropriate_person_consent is for an appropriate person available",
        )
        required_when(
            consent == AppropriatePersonConsent.LACKS_CAPACITY_BEST_INTERESTS,
            self.best_interests_decision_id,
            needed="lacks_capacity_best_interests names the best interests decision",
            refused="best_interests_decision_id is for lacks_capacity_best_interests",
        )
        if self.required and self.offer == AdvocacyOffer.NOT_REQUIRED:
            raise ValueError(
                "both conditions hold, so an advocate is required: offer one, or record the refusal"
            )
        required_when(
            self.offer == AdvocacyOffer.ACCEPTED,
            self.advocate_id,
            needed="an accepted offer names the advocate appointed (advocate_id)",
            refused="advocate_id is for an accepted offer",
        )
        return self


# ---------------------------------------------------------------------------------------------------
# Responses

_CONCERN_ID = "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"
_ADULT_OUT = {
    **CONCERN_EXAMPLE["adult"],  # type: ignore[dict-item]
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "nhs_number": None,
    "address_lines": None,
    "ethnicity": None,
}
_DECISION_OUT = {
    "id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    "care_and_support_needs": {"met": True, "reason": "Dementia; receives a daily care package."},
    "experiencing_or_at_risk": {"met": True, "reason": "Evidence of financial abuse and neglect."},
    "unable_to_protect_self": {"met": True, "reason": "Cannot manage her finances or challenge her son."},
    "decision": "section_42_enquiry",
    "rationale": "All three criteria are met.",
    "alternative_route": None,
    "alternative_route_details": None,
    "referrer_feedback": "Phone Dr Patel to say an enquiry is under way.",
    "feedback_limited": False,
    "feedback_limited_reason": None,
    "decided_by": "asc-manager-2",
    "decided_at": "2026-11-24T15:00:00Z",
}


class AdultOut(ResponseModel):
    person_id: uuid.UUID | None
    given_name: Name
    family_name: Name
    date_of_birth: date | None
    nhs_number: StoredNhsNumber | None
    address_lines: AddressLines | None
    postcode: StoredPostcode | None
    gender: Gender | None
    ethnicity: Ethnicity | None
    primary_support_reason: PrimarySupportReason | None


class AllegationFound(AllegationIn):
    """An allegation the enquiry found that the concern did not raise."""

    model_config = example(
        {
            "type_of_risk": "psychological",
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "description": "Her son shouts at her when she refuses to sign cheques.",
        }
    )


# The allegation fields an enquiry may correct, as it found them.
CORRECTABLE = ("type_of_risk", "location_of_risk", "source_of_risk")


class AllegationCorrection(UpdateModel):
    """The type, location or source of risk as the enquiry found them, and why the change."""

    model_config = example(
        {
            "type_of_risk": "neglect_and_acts_of_omission",
            "reason": "Not theft: the carer failed to shop for her.",
        }
    )

    not_null = CORRECTABLE

    type_of_risk: TypeOfRisk | None = None
    location_of_risk: LocationOfRisk | None = None
    source_of_risk: SourceOfRisk | None = None
    reason: Reason2k = Field(description="Why the enquiry changed it: kept with the history.")

    @model_validator(mode="after")
    def _corrects_something(self) -> Self:
        if not self.model_fields_set & set(CORRECTABLE):
            raise ValueError(
                "give the type_of_risk, location_of_risk or source_of_risk as the enquiry found it"
            )
        return self


class FieldChange(ResponseModel):
    """A code before and after the correction (a type, location or source of risk)."""

    before: str = Field(max_length=40)
    after: str = Field(max_length=40)


class AllegationChangeOut(ResponseModel):
    """One correction: each field changed with its value before and after, who, when and why."""

    changes: dict[str, FieldChange]
    reason: Reason2k
    changed_by: Sub | None = Field(description="Adult social care's staff: null for another agency.")
    changed_at: datetime


class AllegationOut(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        **example(
            {
                "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                "concern_id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
                "type_of_risk": "neglect_and_acts_of_omission",
                "location_of_risk": "own_home",
                "source_of_risk": "service_provider",
                "description": "Her carer has not been shopping for her.",
                "alleged_person": None,
                "result": None,
                "risk_outcome": None,
                "enquiry_id": None,
                "added_by": None,
                "added_at": None,
                "version": 2,
                "corrections": [
                    {
                        "changes": {
                            "type_of_risk": {
                                "before": "financial_or_material",
                                "after": "neglect_and_acts_of_omission",
                            }
                        },
                        "reason": "Not theft: the carer failed to shop for her.",
                        "changed_by": "asc-worker-4",
                        "changed_at": "2026-11-26T11:00:00Z",
                    }
                ],
            }
        ),
    )

    id: uuid.UUID
    concern_id: uuid.UUID
    type_of_risk: TypeOfRisk
    location_of_risk: LocationOfRisk
    source_of_risk: SourceOfRisk
    description: Text10k
    alleged_person: dict[str, object] | None
    result: EnquiryResult | None
    risk_outcome: RiskOutcome | None
    enquiry_id: uuid.UUID | None = Field(
        None, description="The enquiry that found this allegation; null when it was raised with the concern."
    )
    added_by: Sub | None = None
    added_at: datetime | None = None
    version: int = Field(
        ge=1,
        le=MAX_SAFE_INTEGER,
        description='Send it back as `If-Match: "<version>"` to correct the allegation.',
    )
    corrections: list[AllegationChangeOut] = Field(
        default_factory=list,
        max_length=MAX_UNPAGED_ITEMS,
        description="How the enquiry corrected it, oldest first.",
    )


class CriterionOut(ResponseModel):
    met: bool
    reason: Reason2k


class Section42DecisionOut(ResponseModel):
    model_config = example(_DECISION_OUT)

    id: uuid.UUID
    care_and_support_needs: CriterionOut
    experiencing_or_at_risk: CriterionOut
    unable_to_protect_self: CriterionOut
    decision: Section42Decision
    rationale: Text10k
    alternative_route: AlternativeRoute | None
    alternative_route_details: Text10k | None
    referrer_feedback: Reason2k
    feedback_limited: bool
    feedback_limited_reason: Reason2k | None
    decided_by: Sub
    decided_at: datetime


class AdvocacyOut(ResponseModel):
    model_config = example(
        {
            "id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "concern_id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
            "substantial_difficulty": True,
            "appropriate_person_available": False,
            "required": True,
            "offer": "accepted",
            "advocate_id": "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e",
            "notes": None,
            "recorded_by": "asc-worker-4",
            "recorded_at": "2026-11-24T10:00:00Z",
        }
    )

    id: uuid.UUID
    concern_id: uuid.UUID
    substantial_difficulty: bool
    appropriate_person_available: bool
    appropriate_person_consent: AppropriatePersonConsent | None = None
    best_interests_decision_id: uuid.UUID | None = None
    required: bool = Field(description="Computed: substantial difficulty and no appropriate person.")
    offer: AdvocacyOffer
    advocate_id: uuid.UUID | None
    notes: Text10k | None
    recorded_by: Sub
    recorded_at: datetime


class EnquiryOut(ResponseModel):
    model_config = example(
        {
            "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
            "concern_id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
            "kind": "section_42_enquiry",
            "lead_agency": "adult_social_care",
            "caused_to_agency": None,
            "objectives": ["establish_facts", "protect"],
            "status": "concluded",
            "opened_by": "asc-worker-4",
            "opened_at": "2026-11-24T09:00:00Z",
            "msp_asked": "yes_outcomes_expressed",
            "msp_outcomes_achieved": "partially",
            "lacked_capacity": "yes",
            "advocate_support": True,
            "conclusion_summary": "Lasting power of attorney put in place.",
            "concluded_by": "asc-manager-2",
            "concluded_at": "2026-12-10T15:00:00Z",
            "allegations": [],
        }
    )

    id: uuid.UUID
    concern_id: uuid.UUID
    kind: Section42Decision
    lead_agency: AgencyCode
    caused_to_agency: AgencyCode | None
    objectives: list[EnquiryObjective] = Field(max_length=len(EnquiryObjective))
    status: EnquiryStatus
    opened_by: Sub | None = Field(
        description="Null, like `concluded_by`, in the view of an agency leading or caused the enquiry."
    )
    opened_at: datetime
    msp_asked: MspAsked | None
    msp_outcomes_achieved: MspOutcomesAchieved | None
    lacked_capacity: LackedCapacity | None
    advocate_support: bool | None
    conclusion_summary: Text10k | None
    concluded_by: Sub | None
    concluded_at: datetime | None
    allegations: list[AllegationOut] = Field(default_factory=list, max_length=MAX_ALLEGATIONS)


class ConcernInformationOut(InformationOut):
    """Information added to the concern after it was raised: by whom and when."""

    model_config = example(
        {
            "id": "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f",
            "information": "Since we raised this, her son has moved in with her and the bank has frozen the account.",
            "added_by": "gp-system",
            "added_by_agency": "health",
            "added_at": "2026-11-24T09:30:00Z",
        }
    )


Additions = Annotated[
    list[ConcernInformationOut],
    additions_field(
        "Information added since the concern was raised, oldest first (the raising agency sees its own)."
    ),
]


# The same withdrawal as a referral's (``app.core.senders``), under the name the published schema gives it.
class ConcernWithdrawalOut(WithdrawalOut):
    pass


class AdultConcernFull(ResponseModel):
    model_config = example(
        {
            "view": "full",
            "id": _CONCERN_ID,
            "status": "enquiry_open",
            "raising_agency": "health",
            "raised_by": CONCERN_EXAMPLE["raised_by"],
            "received_at": "2026-11-23T14:00:00Z",
            "decision_due_at": "2026-11-25T14:00:00Z",
            "overdue": False,
            "adult": _ADULT_OUT,
            "match": {"status": "matched", "candidates": []},
            "allegations": [],
            "adult_views": CONCERN_EXAMPLE["adult_views"],
            "desired_outcomes": CONCERN_EXAMPLE["desired_outcomes"],
            "consent_to_share": True,
            "concerns_about_capacity": True,
            "section_42_decision": _DECISION_OUT,
            "enquiry_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
            "advocacy": None,
            "advocate_required": False,
            "closed_at": None,
            "closure_reason": None,
            "withdrawal": None,
            "additional_information": [],
            "external_reference": "HC-88213",
            "created_at": "2026-11-23T14:00:00Z",
            "updated_at": "2026-11-24T15:00:00Z",
        }
    )

    view: Literal["full"] = "full"
    id: uuid.UUID
    status: AdultConcernStatus
    raising_agency: AgencyCode
    raised_by: dict[str, object]
    external_reference: ExternalReference | None
    received_at: datetime
    decision_due_at: datetime
    overdue: bool
    adult: AdultOut
    match: ChildMatch = Field(description="How the adult was matched to a person record.")
    allegations: list[AllegationOut] = Field(max_length=MAX_ALLEGATIONS)
    adult_views: Text10k | None
    desired_outcomes: Text10k | None
    consent_to_share: bool | None
    concerns_about_capacity: bool
    section_42_decision: Section42DecisionOut | None
    enquiry_id: uuid.UUID | None
    advocacy: AdvocacyOut | None = Field(description="The latest advocacy assessment.")
    advocate_required: bool = Field(description="An advocate is required and not yet appointed or refused.")
    closed_at: datetime | None
    closure_reason: Reason2k | None
    withdrawal: ConcernWithdrawalOut | None
    additional_information: Additions
    created_at: datetime
    updated_at: datetime | None


class FeedbackOut(ResponseModel):
    decision: Section42Decision
    feedback: Reason2k = Field(description="How the hub said it would let you know.")
    decided_at: datetime


class AdultConcernForRaiser(ResponseModel):
    model_config = example(
        {
            "view": "raiser",
            "id": _CONCERN_ID,
            "status": "enquiry_open",
            "raising_agency": "health",
            "received_at": "2026-11-23T14:00:00Z",
            "decision_due_at": "2026-11-25T14:00:00Z",
            "adult": _ADULT_OUT,
            "allegations": CONCERN_EXAMPLE["allegations"],
            "adult_views": CONCERN_EXAMPLE["adult_views"],
            "desired_outcomes": CONCERN_EXAMPLE["desired_outcomes"],
            "consent_to_share": True,
            "concerns_about_capacity": True,
            "raised_by": CONCERN_EXAMPLE["raised_by"],
            "feedback": {
                "decision": "section_42_enquiry",
                "feedback": "Phone Dr Patel to say an enquiry is under way.",
                "decided_at": "2026-11-24T15:00:00Z",
            },
            "feedback_limited": False,
            "withdrawn": False,
            "additional_information": [],
            "external_reference": "HC-88213",
        }
    )

    view: Literal["raiser"] = "raiser"
    id: uuid.UUID
    status: AdultConcernStatus
    raising_agency: AgencyCode
    external_reference: ExternalReference | None
    received_at: datetime
    decision_due_at: datetime
    adult: AdultOut
    allegations: list[AllegationIn] = Field(max_length=MAX_ALLEGATIONS, description="As raised.")
    adult_views: Text10k | None
    desired_outcomes: Text10k | None
    consent_to_share: bool | None
    concerns_about_capacity: bool
    raised_by: dict[str, object]
    feedback: FeedbackOut | None = Field(description="The outcome, once decided, unless feedback is limited.")
    feedback_limited: bool = Field(
        description="True when the hub has limited feedback; the outcome is withheld."
    )
    withdrawn: bool
    additional_information: Additions


AdultConcernOut = Annotated[AdultConcernFull | AdultConcernForRaiser, Field(discriminator="view")]


class AdultConcernSummary(ResponseModel):
    model_config = example(
        {
            "id": _CONCERN_ID,
            "status": "received",
            "raising_agency": "health",
            "source": "partner",
            "external_reference": "HC-88213",
            "received_at": "2026-11-23T14:00:00Z",
            "decision_due_at": "2026-11-25T14:00:00Z",
            "overdue": False,
            "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
            "given_name": "Margaret",
            "family_name": "Hughes",
            "date_of_birth": "1941-06-02",
            "enquiry_id": None,
            "allocation": {
                "worker": "asc-worker-4",
                "team": "Safeguarding adults",
                "allocated_at": "2026-11-23T15:00:00Z",
                "allocated_by": "asc-manager-2",
                "note": None,
            },
        }
    )

    id: uuid.UUID
    status: AdultConcernStatus
    raising_agency: AgencyCode
    source: CaseSource = Field(
        description="Where it came from: `partner` (another agency), `hub` (its own staff), `public` (a member "
        "of the public, through the public's front door)."
    )
    external_reference: ExternalReference | None
    received_at: datetime
    decision_due_at: datetime
    overdue: bool
    person_id: uuid.UUID | None
    given_name: Name
    family_name: Name
    date_of_birth: date | None
    enquiry_id: uuid.UUID | None = Field(
        description="Adult social care's: the concern's enquiry, once opened."
    )
    allocation: AllocationOut | None = Field(
        description="Adult social care's: whom the concern is allocated to."
    )


class ConcernSort(StrEnum):
    """The orders of the adult concern list: a field, `-` first for descending."""

    RECEIVED_AT = "received_at"
    RECEIVED_AT_DESCENDING = "-received_at"
    DECISION_DUE_AT = "decision_due_at"
    DECISION_DUE_AT_DESCENDING = "-decision_due_at"


class EnquirySort(StrEnum):
    """The orders of the enquiry list."""

    OPENED_AT = "opened_at"
    OPENED_AT_DESCENDING = "-opened_at"


class EnquiryAdult(ResponseModel):
    """The adult an enquiry is about, as the list shows them."""

    person_id: uuid.UUID | None = Field(description="Adult social care's link to the person register.")
    given_name: Name
    family_name: Name
    date_of_birth: date | None


class AdvocacyState(ResponseModel):
    """Where independent advocacy stands: the latest assessment's answer."""

    required: bool
    offer: AdvocacyOffer
    advocate_outstanding: bool = Field(
        description="Required, and neither appointed nor refused by the adult: the enquiry cannot conclude."
    )


class EnquirySummary(ResponseModel):
    """An enquiry in a list: the adult, what it sets out to do, and who works it."""

    model_config = example(
        {
            "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
            "concern_id": _CONCERN_ID,
            "kind": "section_42_enquiry",
            "status": "open",
            "lead_agency": "adult_social_care",
            "caused_to_agency": None,
            "objectives": ["establish_facts", "protect"],
            "opened_at": "2026-11-24T09:00:00Z",
            "overdue": False,
            "adult": {
                "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
                "given_name": "Margaret",
                "family_name": "Hughes",
                "date_of_birth": "1941-06-02",
            },
            "allocation": {
                "worker": "asc-worker-4",
                "team": "Safeguarding adults",
                "allocated_at": "2026-11-24T09:30:00Z",
                "allocated_by": "asc-manager-2",
                "note": None,
            },
            "advocacy": {"required": True, "offer": "offered", "advocate_outstanding": True},
        }
    )

    id: uuid.UUID
    concern_id: uuid.UUID
    kind: Section42Decision
    status: EnquiryStatus
    lead_agency: AgencyCode
    caused_to_agency: AgencyCode | None
    objectives: list[EnquiryObjective] = Field(max_length=len(EnquiryObjective))
    opened_at: datetime
    overdue: bool = Field(description="Open longer than the hub's target (28 days).")
    adult: EnquiryAdult
    allocation: AllocationOut | None = Field(
        description="Adult social care's: whom the enquiry is allocated to."
    )
    advocacy: AdvocacyState | None = Field(description="Null until advocacy has been assessed.")
