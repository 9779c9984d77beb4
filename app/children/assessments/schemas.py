from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.children.codes import AssessmentFactor, AssessmentOutcome, AssessmentStatus, ReasonForClosure
from app.children.pathway_schemas import Lateness, PastDate
from app.core.schemas import RequestModel, ResponseModel, Sub, example, no_repeats

Factors = Annotated[
    list[AssessmentFactor], Field(max_length=len(AssessmentFactor)), AfterValidator(no_repeats)
]


class AssessmentIn(RequestModel):
    model_config = example(
        {
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "child_id": "0b8f6c2e-3d4a-4b5c-9d8e-7f6a5b4c3d2e",
            "started_on": "2026-11-24",
        }
    )

    referral_id: uuid.UUID
    child_id: uuid.UUID = Field(description="One of the referral's children (`children[].id`).")
    started_on: PastDate


class AssessmentCompletion(RequestModel):
    model_config = example(
        {"completed_on": "2027-01-20", "factors": ["3A", "3B", "16A"], "outcome": "child_in_need_plan"},
        {
            "completed_on": "2027-01-12",
            "factors": ["21"],
            "outcome": "no_further_action",
            "closure_reason": "RC8",
        },
    )

    completed_on: PastDate
    factors: Factors = Field(
        min_length=1,
        description='CIN assessment factors: at least one; "21" (no factors identified) only on its own.',
    )
    outcome: AssessmentOutcome
    closure_reason: ReasonForClosure | None = Field(
        None,
        description=(
            "Why the CIN episode closes, when it does: only with `no_further_action` (RC8 by default; RC1-RC7 "
            "where they apply) or `early_help` (RC9, the default). A plan or a strategy discussion keeps "
            "the case open: no reason."
        ),
    )


class AssessmentOut(ResponseModel):
    model_config = example(
        {
            "id": "5a1d9e36-8b7c-4f2e-9a0d-1c2b3a4f5e6d",
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "child_id": "0b8f6c2e-3d4a-4b5c-9d8e-7f6a5b4c3d2e",
            "person_id": "2c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
            "status": "completed",
            "referral_received_on": "2026-11-23",
            "started_on": "2026-11-24",
            "due_on": "2027-01-28",
            "started_by": "worker-17",
            "completed_on": "2027-01-20",
            "factors": ["3A", "3B", "16A"],
            "outcome": "child_in_need_plan",
            "closure_reason": None,
            "timeliness": {"working_days": 40, "late": False},
            "completed_by": "manager-3",
            "completed_at": "2027-01-20T15:10:00Z",
        }
    )

    id: uuid.UUID
    referral_id: uuid.UUID
    child_id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="The child's person record, when matched.")
    status: AssessmentStatus
    referral_received_on: date = Field(description="The London date the referral was received.")
    started_on: date
    due_on: date = Field(description="45 working days after `referral_received_on`.")
    started_by: Sub
    completed_on: date | None
    factors: Factors
    outcome: AssessmentOutcome | None
    closure_reason: ReasonForClosure | None
    timeliness: Lateness | None = Field(
        description="Once completed: working days from the referral, and late."
    )
    completed_by: Sub | None
    completed_at: datetime | None
