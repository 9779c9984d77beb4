"""Safeguarding plan bodies. A plan is shown in one of two views (``view``):

- ``full``: adult social care sees the whole plan and its reviews;
- ``action_owner``: an agency that owns an action sees what it needs to act (who the adult is, the
  lead, the contingency, when the plan is reviewed) and its own actions, nothing else.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from app.adults.codes import PlanActionStatus, PlanReviewDecision, PlanStatus
from app.core.clock import today
from app.core.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT
from app.core.schemas import (
    Date,
    Line200,
    RequestModel,
    ResponseModel,
    Sub,
    Text10k,
    Unpaged,
    UpdateModel,
    example,
)
from app.core.scopes import AgencyCode
from app.people.schemas import Name


class Lead(RequestModel):
    name: Line200
    role: Line200 | None = None
    agency: AgencyCode


class ActionIn(RequestModel):
    agency: AgencyCode = Field(description="The agency that owns the action.")
    description: Text10k
    due_date: Date


class Closure(RequestModel):
    """What closing a plan records (possible at any stage)."""

    reason: Text10k
    adult_view: Text10k = Field(description="What the adult thinks of the plan ending.")
    feedback_given: bool = Field(description="Was the person who raised the concern given feedback?")
    feedback_withheld_reason: Text10k | None = Field(
        None,
        description="Why feedback was withheld (e.g. a police investigation is under way): required when "
        "`feedback_given` is false, and only then.",
    )
    sar_considered: bool = Field(description="Was a safeguarding adults review (Care Act s44) considered?")

    @model_validator(mode="after")
    def _confirmed(self) -> Self:
        if not self.feedback_given and self.feedback_withheld_reason is None:
            raise ValueError(
                "a plan closes once the referrer has been given feedback, or with the reason it was withheld"
            )
        if self.feedback_given and self.feedback_withheld_reason is not None:
            raise ValueError("feedback_withheld_reason is for feedback not given")
        if not self.sar_considered:
            raise ValueError("a plan closes once a safeguarding adults review has been considered")
        return self


_PLAN = {
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "concern_id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
    "lead": {"name": "A. Khan", "role": "Social worker", "agency": "adult_social_care"},
    "adult_wishes": "To stay at home and keep her money safe.",
    "protective_people": "Her daughter Jane.",
    "actions": [
        {"agency": "police", "description": "Investigate the withdrawals.", "due_date": "2026-12-15"},
        {
            "agency": "housing",
            "description": "Fit a key safe and check the door lock.",
            "due_date": "2026-12-05",
        },
    ],
    "contingency": "If her son returns to the house, Jane calls the police and the duty team.",
    "review_due_on": "2027-01-10",
}


class PlanCreate(RequestModel):
    model_config = example(_PLAN)

    person_id: uuid.UUID
    concern_id: uuid.UUID | None = None
    lead: Lead
    adult_wishes: Text10k = Field(description="The adult's aims and wishes for the plan.")
    protective_people: Text10k | None = None
    actions: list[ActionIn] = Field(min_length=1, max_length=30)
    contingency: Text10k
    review_due_on: Date


class PlanUpdate(UpdateModel):
    """Amend the plan: change its fields and add actions (existing actions are never rewritten)."""

    model_config = example(
        {
            "contingency": "If her son returns, Jane calls 999.",
            "add_actions": [
                {"agency": "health", "description": "GP medication review.", "due_date": "2026-12-20"}
            ],
        }
    )

    not_null = ("lead", "adult_wishes", "contingency", "review_due_on")

    lead: Lead | None = None
    adult_wishes: Text10k | None = None
    protective_people: Text10k | None = None
    contingency: Text10k | None = None
    review_due_on: Date | None = None
    add_actions: list[ActionIn] | None = Field(None, max_length=30)


class ActionUpdate(RequestModel):
    model_config = example({"status": "completed", "note": "Key safe fitted on 2 December."})

    status: PlanActionStatus
    note: Text10k | None = None


class ReviewIn(RequestModel):
    model_config = example(
        {
            "held_on": "2027-01-08",
            "findings": "Actions complete; no further withdrawals; she feels safe.",
            "decision": "close",
            "closure": {
                "reason": "Risk removed and the adult's outcomes achieved.",
                "adult_view": "Happy for the plan to end.",
                "feedback_given": True,
                "sar_considered": True,
            },
        },
        {
            "held_on": "2027-01-08",
            "findings": "Police enquiries continue.",
            "decision": "continue",
            "next_review_due_on": "2027-02-08",
        },
    )

    held_on: Date
    findings: Text10k
    decision: PlanReviewDecision
    next_review_due_on: Date | None = Field(None, description="Required unless the plan closes.")
    closure: Closure | None = Field(None, description="Required when the decision is close.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        closing = self.decision == PlanReviewDecision.CLOSE
        if closing and self.closure is None:
            raise ValueError("closing the plan records the closure")
        if closing and self.next_review_due_on is not None:
            raise ValueError("a closing review sets no next review")
        if not closing and self.next_review_due_on is None:
            raise ValueError("continue or amend needs next_review_due_on")
        if not closing and self.closure is not None:
            raise ValueError("closure is for a closing review")
        if self.next_review_due_on is not None and self.next_review_due_on <= self.held_on:
            raise ValueError("the next review is after this one")
        if self.held_on > today():
            raise ValueError("a review is recorded once held")
        return self


class ActionOut(ResponseModel):
    model_config = example(
        {
            "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "etag": '"2"',
            "agency": "housing",
            "description": "Fit a key safe.",
            "due_date": "2026-12-05",
            "status": "completed",
            "status_note": "Fitted on 2 December.",
            "updated_by": "housing-system",
            "updated_at": "2026-12-02T11:00:00Z",
        }
    )

    id: uuid.UUID
    etag: str = Field(
        max_length=22,
        pattern=r'^"[0-9]+"$',
        description="Send it in If-Match to update this action's status.",
    )
    agency: AgencyCode
    description: Text10k
    due_date: date
    status: PlanActionStatus
    status_note: Text10k | None
    updated_by: Sub | None = Field(
        description="Who last updated the status; in an action owner's view only when that was its own "
        "staff or system (partner views never carry hub staff identities)."
    )
    updated_at: datetime | None


class ReviewOut(ResponseModel):
    model_config = example(
        {
            "id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
            "plan_id": "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a",
            "held_on": "2027-01-08",
            "findings": "Actions complete; she feels safe.",
            "decision": "close",
            "next_review_due_on": None,
            "recorded_by": "asc-worker-4",
            "recorded_at": "2027-01-08T16:00:00Z",
        }
    )

    id: uuid.UUID
    plan_id: uuid.UUID
    held_on: date
    findings: Text10k
    decision: PlanReviewDecision
    next_review_due_on: date | None
    recorded_by: Sub
    recorded_at: datetime


class ClosureOut(ResponseModel):
    reason: Text10k
    adult_view: Text10k
    feedback_given: bool
    feedback_withheld_reason: Text10k | None = None
    sar_considered: bool
    closed_by: Sub
    closed_at: datetime


class AdultRef(ResponseModel):
    person_id: uuid.UUID | None = Field(
        description="The hub's person record; null in an action owner's view."
    )
    given_name: Name
    family_name: Name
    date_of_birth: date | None


_PLAN_OUT = {
    "id": "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a",
    "status": "active",
    "adult": {
        "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
        "given_name": "Margaret",
        "family_name": "Hughes",
        "date_of_birth": "1941-06-02",
    },
    "lead": {"name": "A. Khan", "role": "Social worker", "agency": "adult_social_care"},
    "contingency": "If her son returns to the house, Jane calls the police and the duty team.",
    "review_due_on": "2027-01-10",
    "review_overdue": False,
    "actions": [
        {
            "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "agency": "housing",
            "description": "Fit a key safe and check the door lock.",
            "due_date": "2026-12-05",
            "status": "completed",
            "status_note": "Fitted on 2 December.",
            "updated_by": "housing-system",
            "updated_at": "2026-12-02T11:00:00Z",
            "etag": '"2"',
        }
    ],
}


class PlanFull(ResponseModel):
    model_config = example(
        {
            "view": "full",
            **_PLAN_OUT,
            "concern_id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
            "adult_wishes": "To stay at home and keep her money safe.",
            "protective_people": "Her daughter Jane.",
            "reviews": [],
            "closure": None,
            "created_by": "asc-worker-4",
            "created_at": "2026-11-30T10:00:00Z",
            "updated_at": None,
        }
    )

    view: Literal["full"] = "full"
    id: uuid.UUID
    status: PlanStatus
    adult: AdultRef
    concern_id: uuid.UUID | None
    lead: dict[str, object]
    adult_wishes: Text10k
    protective_people: Text10k | None
    actions: Unpaged[ActionOut]
    contingency: Text10k
    review_due_on: date
    review_overdue: bool
    reviews: Unpaged[ReviewOut]
    closure: ClosureOut | None
    created_by: Sub
    created_at: datetime
    updated_at: datetime | None


class PlanForActionOwner(ResponseModel):
    model_config = example({"view": "action_owner", **_PLAN_OUT})

    view: Literal["action_owner"] = "action_owner"
    id: uuid.UUID
    status: PlanStatus
    adult: AdultRef
    lead: dict[str, object]
    contingency: Text10k
    review_due_on: date
    review_overdue: bool
    actions: Unpaged[ActionOut] = Field(description="This agency's own actions only.")


PlanOut = Annotated[PlanFull | PlanForActionOwner, Field(discriminator="view")]


class PlanPage(ResponseModel):
    """A page of plans, each in the view the caller may see."""

    items: list[PlanOut] = Field(max_length=MAX_LIMIT)
    next_cursor: str | None = Field(
        max_length=MAX_CURSOR_LENGTH,
        description="Pass as `cursor` to get the next page; null on the last page.",
    )
