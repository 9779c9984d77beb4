from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.children.codes import (
    CategoryOfAbuse,
    ConferenceOutcome,
    Section47Outcome,
    Section47Status,
    StrategyDiscussionDecision,
)
from app.children.pathway_schemas import Lateness, PastDate
from app.core.schemas import (
    Line200,
    PastAwareDatetime,
    RequestModel,
    ResponseModel,
    Sub,
    Text20k,
    example,
    no_repeats,
)
from app.core.scopes import AgencyCode

MAX_CHILDREN = 20
MAX_ATTENDEES = 50
ChildIds = Annotated[
    list[uuid.UUID], Field(min_length=1, max_length=MAX_CHILDREN), AfterValidator(no_repeats)
]

_DISCUSSION = {
    "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
    "child_ids": ["0b8f6c2e-3d4a-4b5c-9d8e-7f6a5b4c3d2e"],
    "held_at": "2026-11-24T14:00:00Z",
    "attendees": [
        {"agency": "childrens_social_care", "name": "Sam Okafor", "role": "Team manager"},
        {"agency": "police", "name": "DS Rao", "role": "Public protection unit"},
        {"agency": "health", "name": "Dr Evans", "role": "Named doctor for safeguarding"},
    ],
    "decision": "section_47_enquiry",
    "rationale": "Disclosure of physical abuse by the child at school; injuries seen by the school nurse.",
}


class Attendee(ResponseModel):
    agency: AgencyCode
    name: Line200
    role: Line200


class AttendeeIn(RequestModel):
    agency: AgencyCode
    name: Line200
    role: Line200


class StrategyDiscussionIn(RequestModel):
    model_config = example(_DISCUSSION)

    referral_id: uuid.UUID
    child_ids: ChildIds = Field(description="The referral's children discussed (`children[].id`).")
    held_at: PastAwareDatetime
    attendees: list[AttendeeIn] = Field(
        min_length=1,
        max_length=MAX_ATTENDEES,
        description="Police, health and children's social care at least (422 naming who is missing).",
    )
    decision: StrategyDiscussionDecision
    rationale: Text20k


class Section47Summary(ResponseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    status: Section47Status
    icpc_due_on: date


class StrategyDiscussionOut(ResponseModel):
    model_config = example(
        {
            "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
            **_DISCUSSION,
            "held_on": "2026-11-24",
            "recorded_by": "worker-17",
            "recorded_at": "2026-11-24T16:30:00Z",
            "section_47_enquiries": [
                {
                    "id": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
                    "child_id": "0b8f6c2e-3d4a-4b5c-9d8e-7f6a5b4c3d2e",
                    "status": "open",
                    "icpc_due_on": "2026-12-15",
                }
            ],
        }
    )

    id: uuid.UUID
    referral_id: uuid.UUID
    child_ids: ChildIds
    held_at: datetime
    held_on: date = Field(description="The London date of `held_at`: the ICPC clock starts from it.")
    attendees: list[Attendee] = Field(max_length=MAX_ATTENDEES)
    decision: StrategyDiscussionDecision
    rationale: Text20k
    recorded_by: Sub
    recorded_at: datetime
    section_47_enquiries: list[Section47Summary] = Field(
        max_length=MAX_CHILDREN, description="One per child when the decision is `section_47_enquiry`."
    )


class Section47OutcomeIn(RequestModel):
    model_config = example(
        {
            "concluded_on": "2026-12-04",
            "outcome": "initial_child_protection_conference",
            "category_of_abuse": "physical",
        },
        {"concluded_on": "2026-12-02", "outcome": "child_in_need_plan"},
    )

    concluded_on: PastDate
    outcome: Section47Outcome
    category_of_abuse: CategoryOfAbuse | None = Field(
        None,
        description="The risk the conference is called for: only with `initial_child_protection_conference`.",
    )


class ConferenceIn(RequestModel):
    model_config = example(
        {"held_on": "2026-12-11", "outcome": "child_protection_plan", "category_of_abuse": "physical"},
        {"held_on": "2026-12-11", "outcome": "no_plan"},
    )

    held_on: PastDate
    outcome: ConferenceOutcome
    category_of_abuse: CategoryOfAbuse | None = Field(
        None, description="Required with a child protection plan; none without one."
    )


class EnquiryOutcomeOut(ResponseModel):
    concluded_on: date
    outcome: Section47Outcome
    category_of_abuse: CategoryOfAbuse | None
    concluded_by: Sub
    concluded_at: datetime


class ConferenceOut(ResponseModel):
    held_on: date
    outcome: ConferenceOutcome
    category_of_abuse: CategoryOfAbuse | None
    timeliness: Lateness = Field(
        description="Working days after the strategy discussion, and late against `icpc_due_on`."
    )
    recorded_by: Sub
    recorded_at: datetime


class Section47Out(ResponseModel):
    model_config = example(
        {
            "id": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
            "strategy_discussion_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "child_id": "0b8f6c2e-3d4a-4b5c-9d8e-7f6a5b4c3d2e",
            "person_id": "2c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
            "status": "conference_held",
            "started_on": "2026-11-24",
            "icpc_due_on": "2026-12-15",
            "outcome": {
                "concluded_on": "2026-12-04",
                "outcome": "initial_child_protection_conference",
                "category_of_abuse": "physical",
                "concluded_by": "manager-3",
                "concluded_at": "2026-12-04T12:00:00Z",
            },
            "conference": {
                "held_on": "2026-12-11",
                "outcome": "child_protection_plan",
                "category_of_abuse": "physical",
                "timeliness": {"working_days": 13, "late": False},
                "recorded_by": "worker-17",
                "recorded_at": "2026-12-11T15:00:00Z",
            },
        }
    )

    id: uuid.UUID
    strategy_discussion_id: uuid.UUID
    referral_id: uuid.UUID
    child_id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="The child's person record, when matched.")
    status: Section47Status
    started_on: date = Field(description="The strategy discussion's London date.")
    icpc_due_on: date = Field(description="15 working days after the strategy discussion.")
    outcome: EnquiryOutcomeOut | None
    conference: ConferenceOut | None = Field(
        description="The initial child protection conference, once held."
    )
