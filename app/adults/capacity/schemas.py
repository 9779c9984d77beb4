from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from app.adults.codes import CapacityOutcome, ConsulteeRelationship
from app.core.schemas import (
    Line200,
    PastAwareDatetime,
    RequestModel,
    ResponseModel,
    Sub,
    Text10k,
    example,
)

MAX_OPTIONS = 10
MAX_CONSULTEES = 20


class Ability(RequestModel):
    able: bool
    evidence: Text10k


_ASSESSMENT_EXAMPLE = {
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "concern_id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
    "decision": "Whether to let her son manage her bank account",
    "relevant_information": "What the account holds, what he has withdrawn, the options of an attorney or deputy.",
    "support_provided": "Assessed at home in the morning, with large-print statements and her daughter present.",
    "understand": {"able": True, "evidence": "She could say what the account is for."},
    "retain": {"able": False, "evidence": "Could not recall the withdrawals ten minutes later."},
    "use_or_weigh": {"able": False, "evidence": "Could not weigh the risk of further losses."},
    "communicate": {"able": True, "evidence": "Expressed a clear wish to avoid conflict."},
    "impairment": "Alzheimer's disease (diagnosed 2024).",
    "causative_link": "Her memory impairment is why she cannot retain or weigh the information.",
    "outcome": "lacks_capacity",
    "may_fluctuate": False,
    "assessed_at": "2026-11-24T10:30:00Z",
}


class CapacityAssessmentIn(RequestModel):
    """Mental Capacity Act 2005 ss2-3: one decision, one time; the functional and diagnostic tests."""

    model_config = example(_ASSESSMENT_EXAMPLE)

    person_id: uuid.UUID
    concern_id: uuid.UUID | None = None
    decision: Text10k = Field(description="The one decision this assessment is about.")
    relevant_information: Text10k = Field(description="The information and options put to the person.")
    support_provided: Text10k = Field(description="All practicable steps taken to help them decide (s1(3)).")
    understand: Ability
    retain: Ability
    use_or_weigh: Ability
    communicate: Ability
    impairment: Text10k | None = Field(
        None, description="An impairment of, or disturbance in, the mind or brain."
    )
    causative_link: Text10k | None = Field(
        None, description="Why the inability is because of that impairment."
    )
    outcome: CapacityOutcome
    may_fluctuate: bool = Field(description="May capacity fluctuate or return?")
    assessed_at: PastAwareDatetime

    def unable(self) -> list[str]:
        abilities = ("understand", "retain", "use_or_weigh", "communicate")
        return [name for name in abilities if not getattr(self, name).able]


class OptionIn(RequestModel):
    description: Text10k
    less_restrictive: bool = Field(description="Is this the less restrictive of the options (s1(6))?")
    chosen: bool


class Consultee(RequestModel):
    name: Line200
    relationship: ConsulteeRelationship
    views: Text10k


class Checklist(RequestModel):
    """The s4 best interests checklist."""

    past_and_present_wishes: Text10k
    beliefs_and_values: Text10k
    may_regain_capacity: bool
    regain_capacity_when: Text10k | None = None
    participation: Text10k = Field(description="How the person was helped to take part in the decision.")
    other_factors: Text10k | None = None


class DecisionMaker(RequestModel):
    name: Line200
    role: Line200


class BestInterestsIn(RequestModel):
    model_config = example(
        {
            "decision": "Her daughter applies for a deputyship for property and affairs; the son's access ends.",
            "options": [
                {
                    "description": "Leave the account as it is.",
                    "less_restrictive": False,
                    "chosen": False,
                },
                {
                    "description": "Daughter as deputy; son's card cancelled.",
                    "less_restrictive": True,
                    "chosen": True,
                },
            ],
            "checklist": {
                "past_and_present_wishes": "Always kept her own accounts; wants family peace.",
                "beliefs_and_values": "Values independence and her home.",
                "may_regain_capacity": False,
                "participation": "Options explained with her daughter, over two visits.",
            },
            "consultees": [
                {"name": "Jane Hughes", "relationship": "family", "views": "Supports deputyship."},
            ],
            "imca_involved": False,
            "decision_maker": {"name": "A. Khan", "role": "Social worker"},
            "made_at": "2026-11-28T14:00:00Z",
        }
    )

    decision: Text10k
    options: list[OptionIn] = Field(
        min_length=2, max_length=MAX_OPTIONS, description="Including the less restrictive one."
    )
    checklist: Checklist
    consultees: list[Consultee] = Field(default_factory=list, max_length=MAX_CONSULTEES)
    imca_involved: bool = Field(description="Was an Independent Mental Capacity Advocate involved (s35-37)?")
    decision_maker: DecisionMaker
    made_at: PastAwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if sum(option.chosen for option in self.options) != 1:
            raise ValueError("exactly one option is chosen")
        if not any(option.less_restrictive for option in self.options):
            raise ValueError("the options weighed include the less restrictive one (MCA s1(6))")
        if self.checklist.regain_capacity_when is not None and not self.checklist.may_regain_capacity:
            raise ValueError("regain_capacity_when only when the person may regain capacity")
        if (
            any(c.relationship == ConsulteeRelationship.IMCA for c in self.consultees)
            and not self.imca_involved
        ):
            raise ValueError("an IMCA among the consultees means imca_involved is true")
        if not self.consultees and not self.imca_involved:
            raise ValueError(
                "consult those caring for or interested in the person, or involve an IMCA (s4(7), s37)"
            )
        return self


class AbilityOut(ResponseModel):
    able: bool
    evidence: Text10k


class BestInterestsOut(ResponseModel):
    model_config = example(
        {
            "id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
            "assessment_id": "6c7d8e9f-0a1b-4c2d-8e3f-4a5b6c7d8e9f",
            "decision": "Her daughter applies to be deputy for her property and affairs.",
            "options": [
                {"description": "Leave things as they are.", "less_restrictive": False, "chosen": False},
                {"description": "Daughter as deputy.", "less_restrictive": True, "chosen": True},
            ],
            "checklist": {
                "past_and_present_wishes": "Kept her own accounts.",
                "may_regain_capacity": False,
            },
            "consultees": [{"name": "Jane Hughes", "relationship": "family", "views": "Supports it."}],
            "imca_involved": False,
            "decision_maker": {"name": "A. Khan", "role": "Social worker"},
            "made_at": "2026-11-28T14:00:00Z",
            "recorded_by": "asc-worker-4",
            "recorded_at": "2026-11-28T15:00:00Z",
        }
    )

    id: uuid.UUID
    assessment_id: uuid.UUID
    decision: Text10k
    options: list[dict[str, object]] = Field(max_length=MAX_OPTIONS)
    checklist: dict[str, object]
    consultees: list[dict[str, object]] = Field(max_length=MAX_CONSULTEES)
    imca_involved: bool
    decision_maker: dict[str, object]
    made_at: datetime
    recorded_by: Sub
    recorded_at: datetime


class CapacityFindings(ResponseModel):
    """What an assessment found and who assessed, as the assessment's own answer and a subject access
    export give it. A model names its keys in a base after this one: pydantic orders the fields base by
    base from the last one named, so the keys come first, then these, then the model's own."""

    decision: Text10k
    relevant_information: Text10k
    support_provided: Text10k
    understand: AbilityOut
    retain: AbilityOut
    use_or_weigh: AbilityOut
    communicate: AbilityOut
    impairment: Text10k | None
    causative_link: Text10k | None
    outcome: CapacityOutcome
    may_fluctuate: bool
    assessed_at: datetime
    assessor: Sub


class AssessmentKeys(ResponseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    concern_id: uuid.UUID | None


class CapacityAssessmentOut(CapacityFindings, AssessmentKeys):
    model_config = example(
        {
            **_ASSESSMENT_EXAMPLE,
            "id": "6c7d8e9f-0a1b-4c2d-8e3f-4a5b6c7d8e9f",
            "assessor": "asc-worker-4",
            "recorded_at": "2026-11-24T11:00:00Z",
            "best_interests_decision": None,
        }
    )

    recorded_at: datetime
    best_interests_decision: BestInterestsOut | None = None
