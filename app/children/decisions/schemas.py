from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from app.children.codes import AssessmentFactor, DecisionOutcome, DecisionStatus, PrimaryNeed
from app.core.schemas import MULTI_LINE, RequestModel, ResponseModel, Sub, Text20k, example, no_repeats

Comment = Annotated[str, Field(max_length=5_000, pattern=MULTI_LINE)]


class DecisionProposal(RequestModel):
    model_config = example(
        {
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Child present at repeated domestic abuse; health reports missed appointments.",
            "primary_need": "N1",
            "assessment_factors": ["3A", "3B", "16A"],
            "nfa": False,
        },
        {
            "level": 1,
            "outcome": "no_further_action",
            "rationale": "Concern resolved; no additional needs identified.",
            "nfa": True,
        },
    )

    level: int = Field(ge=1, le=4, description="1 universal, 2 early help, 3 targeted (s17), 4 acute (s47).")
    outcome: DecisionOutcome
    rationale: Text20k
    primary_need: PrimaryNeed | None = Field(None, description="CIN primary need; required unless NFA.")
    assessment_factors: Annotated[
        list[AssessmentFactor], Field(default_factory=list, max_length=42), AfterValidator(no_repeats)
    ]
    nfa: bool | None = Field(
        None,
        description=(
            "CIN 'no further action' flag. Derived from the outcome when omitted: true for "
            "no_further_action, universal_services and early_help."
        ),
    )


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


class DecisionOut(ResponseModel):
    model_config = example(
        {
            "id": "3f4e5d6c-7b8a-4999-8a7b-6c5d4e3f2a1b",
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "level": 4,
            "outcome": "strategy_discussion",
            "rationale": "Child present at repeated domestic abuse incidents.",
            "primary_need": "N1",
            "assessment_factors": ["3A", "3B"],
            "nfa": False,
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
    level: int = Field(ge=1, le=4)
    outcome: DecisionOutcome
    rationale: Text20k
    primary_need: PrimaryNeed | None
    assessment_factors: list[AssessmentFactor] = Field(max_length=len(AssessmentFactor))
    nfa: bool
    status: DecisionStatus
    proposed_by: Sub
    proposed_at: datetime
    reviewed_by: Sub | None
    reviewed_at: datetime | None
    review_comment: Comment | None
