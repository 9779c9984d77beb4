"""Safeguarding adults review bodies (Care Act 2014 s44).

A review is referred, decided against the criteria (commissioned, or considered and not commissioned,
with the rationale), then completed with its findings and the actions agencies are to take. The
independent advocacy duty (s68) applies to a review as to an enquiry: ``advocacy`` is the eligibility
assessment, as ``POST /v1/adult-concerns/{id}/advocacy`` records it for a concern.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from app.adults.codes import AdvocacyOffer, AppropriatePersonConsent, SarCriteria, SarStatus
from app.adults.concerns.schemas import AdvocacyIn
from app.core.schemas import Date, RequestModel, ResponseModel, Sub, Text10k, UpdateModel, example
from app.core.scopes import AgencyCode

MAX_CONCERNS = 50
MAX_ACTIONS = 50


class SarActionIn(RequestModel):
    agency: AgencyCode = Field(description="The agency that is to act on the finding.")
    description: Text10k
    due_date: Date | None = None


DECISION_FIELDS = ("criteria", "decision_on", "rationale", "commissioned")
_DECISION_FIELDS = {
    "criteria": "mandatory",
    "decision_on": "2026-11-20",
    "rationale": "She died after months of neglect known to three agencies that did not share what they knew.",
    "commissioned": True,
    "commissioned_on": "2026-11-27",
}
_REVIEW = {
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "concern_ids": ["4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"],
    "referred_on": "2026-11-10",
    "adult_died": True,
    **_DECISION_FIELDS,
}


class SarDecision(RequestModel):
    """The Board's decision on the referral, all together or not at all: the criteria it found, when, why,
    and whether it commissioned a review (`commissioned_on` when it did). Mandatory criteria mean it must
    commission one; with criteria not met it does not."""

    criteria: SarCriteria | None = Field(
        None, description="`mandatory` (s44(1)-(3)), `discretionary` (s44(4)) or `not_met`."
    )
    decision_on: Date | None = None
    rationale: Text10k | None = None
    commissioned: bool | None = Field(
        None, description="Was a review commissioned? false: considered and not commissioned."
    )
    commissioned_on: Date | None = None
    advocacy: AdvocacyIn | None = Field(
        None, description="The independent advocacy assessment for the review (Care Act s68)."
    )


class SarCreate(SarDecision):
    model_config = example(_REVIEW, {k: v for k, v in _REVIEW.items() if k not in _DECISION_FIELDS})

    person_id: uuid.UUID = Field(description="The adult the review is about.")
    concern_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=MAX_CONCERNS, description="The adult's concerns the review looks at."
    )
    referred_on: Date
    adult_died: bool = Field(
        description="Did the adult die (SAC SG5)? false: they suffered serious harm (or the risk of it) and survived."
    )


class SarUpdate(SarDecision, UpdateModel):
    """The decision (once), the advocacy assessment, findings and actions as they emerge, and completion:
    `completed_on` with the findings (and the actions, if any)."""

    model_config = example(
        {
            "criteria": "discretionary",
            "decision_on": "2026-11-20",
            "rationale": "Learning is already in hand.",
            "commissioned": False,
        },
        {
            "completed_on": "2027-05-28",
            "findings": "No agency held the whole picture of her finances.",
            "actions": [{"agency": "police", "description": "Share financial abuse referrals with ASC."}],
        },
    )

    not_null = (*DECISION_FIELDS, "commissioned_on", "advocacy", "completed_on", "findings", "actions")

    completed_on: Date | None = None
    findings: Text10k | None = None
    actions: list[SarActionIn] | None = Field(None, max_length=MAX_ACTIONS)


class SarActionOut(ResponseModel):
    agency: AgencyCode
    description: Text10k
    due_date: date | None = None


class SarAdvocacyOut(ResponseModel):
    substantial_difficulty: bool
    appropriate_person_available: bool
    appropriate_person_consent: AppropriatePersonConsent | None = None
    best_interests_decision_id: uuid.UUID | None = None
    offer: AdvocacyOffer
    advocate_id: uuid.UUID | None = None
    notes: Text10k | None = None
    required: bool = Field(description="Computed: substantial difficulty and no appropriate person.")
    advocate_outstanding: bool = Field(
        description="Required, and neither appointed nor refused: the review cannot complete (409)."
    )


class SarOut(ResponseModel):
    model_config = example(
        {
            **_REVIEW,
            "id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
            "status": "commissioned",
            "completed_on": None,
            "findings": None,
            "actions": [],
            "advocacy": None,
            "created_by": "asc-manager-1",
            "created_at": "2026-11-10T09:00:00Z",
            "updated_at": "2026-11-27T09:00:00Z",
        }
    )

    id: uuid.UUID
    person_id: uuid.UUID
    concern_ids: list[uuid.UUID] = Field(max_length=MAX_CONCERNS)
    status: SarStatus
    referred_on: date
    adult_died: bool
    criteria: SarCriteria | None
    decision_on: date | None
    rationale: Text10k | None
    commissioned: bool | None = Field(description="null until decided.")
    commissioned_on: date | None
    completed_on: date | None
    findings: Text10k | None
    actions: list[SarActionOut] = Field(max_length=MAX_ACTIONS)
    advocacy: SarAdvocacyOut | None
    created_by: Sub
    created_at: datetime
    updated_at: datetime | None
