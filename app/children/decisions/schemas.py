from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.children.codes import AssessmentFactor, DecisionOutcome, DecisionStatus, PrimaryNeed
from app.core.schemas import MULTI_LINE, RequestModel, ResponseModel, Sub, Text20k, example

Comment = Annotated[str, Field(max_length=5_000, pattern=MULTI_LINE)]
Level = Annotated[
    int, Field(ge=1, le=4, description="1 universal, 2 early help, 3 targeted (s17), 4 acute (s47).")
]
# As many entries as a referral has children (app.children.referrals.schemas.MAX_CHILDREN).
MAX_CHILD_ENTRIES = 12
FACTORS_MOVED = (
    "assessment factors are recorded when the child's assessment is completed "
    "(POST /v1/assessments/{id}/completion), not at the threshold decision"
)
ACCEPTED_DESCRIPTION = (
    "Whether children's social care accepts the contact as a referral (the CIN census meaning). Required "
    "for no_further_action; implied true for child_and_family_assessment and strategy_discussion and false "
    "for universal_services and early_help (a contradicting value is refused)."
)


def _child_ids_once(entries: list[ChildDecisionIn]) -> list[ChildDecisionIn]:
    ids = [entry.child_id for entry in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("name each child once (child_id repeated)")
    return entries


class ChildDecisionIn(RequestModel):
    """The decision on one child, where it differs from the referral-wide one. A field left out takes
    the referral-wide value; `nfa` and `accepted_as_referral` go with the outcome (given, implied by it,
    or the referral-wide ones when the child's outcome is the referral-wide outcome)."""

    model_config = example(
        {
            "child_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
            "level": 2,
            "outcome": "early_help",
            "primary_need": "N5",
        }
    )

    child_id: uuid.UUID = Field(description="A child of this referral (`children[].id` of the referral).")
    level: Level | None = None
    outcome: DecisionOutcome | None = None
    primary_need: PrimaryNeed | None = Field(
        None, description="Give null for none; leave out for the referral's."
    )
    nfa: bool | None = None
    accepted_as_referral: bool | None = Field(None, description=ACCEPTED_DESCRIPTION)


class DecisionProposal(RequestModel):
    model_config = example(
        {
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Child present at repeated domestic abuse; health reports missed appointments.",
            "primary_need": "N1",
            "nfa": False,
        },
        {
            "level": 1,
            "outcome": "no_further_action",
            "rationale": "Concern resolved; no additional needs identified.",
            "nfa": True,
            "accepted_as_referral": False,
        },
        {
            "level": 3,
            "outcome": "child_and_family_assessment",
            "rationale": "The younger child is at risk at home; the older one is supported by the school.",
            "primary_need": "N1",
            "children": [
                {
                    "child_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                    "level": 2,
                    "outcome": "early_help",
                    "primary_need": "N5",
                }
            ],
        },
    )

    level: Level
    outcome: DecisionOutcome
    rationale: Text20k
    primary_need: PrimaryNeed | None = Field(
        None, description="CIN primary need: required unless NFA; an NFA decision may carry one."
    )
    nfa: bool | None = Field(
        None,
        description=(
            "CIN 'no further action' flag. Derived from the outcome when omitted: true for "
            "no_further_action, universal_services and early_help."
        ),
    )
    accepted_as_referral: bool | None = Field(None, description=ACCEPTED_DESCRIPTION)
    children: Annotated[
        list[ChildDecisionIn],
        Field(default_factory=list, max_length=MAX_CHILD_ENTRIES),
        AfterValidator(_child_ids_once),
    ] = Field(
        description=(
            "Per-child decisions overriding the referral-wide values; children not listed take the "
            "referral-wide ones."
        )
    )
    # No longer taken here (contract 1.1): named only to say where they go instead.
    assessment_factors: SkipJsonSchema[Any] = None

    @field_validator("assessment_factors")
    @classmethod
    def _factors_moved(cls, value: Any) -> Any:
        raise ValueError(FACTORS_MOVED)


class DecisionReview(RequestModel):
    model_config = example(
        {"approved": True, "comment": "Agreed: convene a strategy discussion today."},
        {"approved": False, "comment": "Please obtain the school's view before deciding."},
    )

    approved: bool
    comment: Annotated[str, Field(max_length=5_000, pattern=MULTI_LINE)] | None = Field(
        None, description="Required when returning."
    )

    @model_validator(mode="after")
    def _comment(self) -> Self:
        if not self.approved and not self.comment:
            raise ValueError("say why the decision is returned (comment)")
        return self


_CHILD_OUTCOME = {
    "level": 2,
    "outcome": "early_help",
    "primary_need": "N5",
    "nfa": True,
    "accepted_as_referral": False,
    "own_entry": True,
}


class ChildOutcomeOut(ResponseModel):
    """The decision on one child of the referral, as it applies (the referral-wide values unless the
    proposal gave the child their own)."""

    model_config = example(_CHILD_OUTCOME)

    level: Level
    outcome: DecisionOutcome
    primary_need: PrimaryNeed | None
    nfa: bool
    accepted_as_referral: bool
    own_entry: bool = Field(description="True when the proposal gave this child their own entry.")


class ChildDecisionOut(ChildOutcomeOut):
    """The decision on one child of the referral, and which child."""

    model_config = example({"child_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", **_CHILD_OUTCOME})

    child_id: uuid.UUID = Field(description="The child as named in the referral (`children[].id`).")


class DecisionOut(ResponseModel):
    model_config = example(
        {
            "id": "3f4e5d6c-7b8a-4999-8a7b-6c5d4e3f2a1b",
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Child present at repeated domestic abuse incidents.",
            "primary_need": "N1",
            "assessment_factors": [],
            "nfa": False,
            "accepted_as_referral": True,
            "children": [
                {
                    "child_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                    "level": 4,
                    "outcome": "strategy_discussion",
                    "primary_need": "N1",
                    "nfa": False,
                    "accepted_as_referral": True,
                    "own_entry": False,
                }
            ],
            "status": "approved",
            "proposed_by": "worker-17",
            "proposed_at": "2026-11-23T11:00:00Z",
            "reviewed_by": "manager-3",
            "reviewed_at": "2026-11-23T11:20:00Z",
            "review_comment": "Agreed.",
        }
    )

    id: uuid.UUID
    referral_id: uuid.UUID
    level: Level
    outcome: DecisionOutcome
    rationale: Text20k
    primary_need: PrimaryNeed | None
    assessment_factors: list[AssessmentFactor] = Field(
        max_length=len(AssessmentFactor),
        description=(
            "Only on decisions made before contract 1.1, which took factors at the front door (kept as "
            "recorded); empty on new decisions: factors belong to the assessment."
        ),
    )
    nfa: bool
    accepted_as_referral: bool
    children: list[ChildDecisionOut] = Field(
        max_length=MAX_CHILD_ENTRIES, description="The decision on each child of the referral, in its order."
    )
    status: DecisionStatus
    proposed_by: Sub
    proposed_at: datetime
    reviewed_by: Sub | None
    reviewed_at: datetime | None
    review_comment: Comment | None
