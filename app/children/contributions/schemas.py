from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from app.children.codes import ContributionStatus
from app.children.referrals.schemas import CHILD_IDENTITY_EXAMPLE, MAX_CHILDREN, ChildIdentity
from app.core.schemas import (
    MAX_UNPAGED_ITEMS,
    SINGLE_LINE,
    Reason2k,
    RequestModel,
    ResponseModel,
    Sub,
    Text20k,
    Unpaged,
    example,
    no_repeats,
    required_when,
)
from app.core.scopes import AgencyCode

RiskIndicators = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100, pattern=SINGLE_LINE)]], Field(max_length=30)
]


class ContributionRequestIn(RequestModel):
    model_config = example(
        {
            "agencies": ["health", "education"],
            "question": "What do you know about the child and family? Any recent absences?",
        }
    )

    agencies: Annotated[
        list[AgencyCode],
        Field(min_length=1, max_length=9, description="The agencies to ask, once each."),
        AfterValidator(no_repeats),
    ]
    question: Text20k

    @field_validator("agencies")
    @classmethod
    def _not_the_hub(cls, agencies: list[AgencyCode]) -> list[AgencyCode]:
        if AgencyCode.CHILDRENS_SOCIAL_CARE in agencies:
            raise ValueError("children's social care runs the hub; it is not asked for checks")
        return agencies


class ContributionResponseIn(RequestModel):
    model_config = example(
        {
            "information": "Known to the health visitor; two missed immunisation appointments this year.",
            "risk_indicators": ["missed_health_appointments"],
            "restricted": False,
        },
        {
            "information": "Intelligence: the father is subject to an ongoing investigation.",
            "risk_indicators": ["domestic_abuse"],
            "restricted": True,
            "restriction_reason": "Disclosure would prejudice a live criminal investigation.",
        },
    )

    information: Text20k
    risk_indicators: RiskIndicators = Field(default_factory=list)
    restricted: bool = Field(False, description="Must not be disclosed to the family or to other agencies.")
    restriction_reason: Reason2k | None = None
    correction_reason: Reason2k | None = Field(
        None, description="Only to correct an answer already given: why. The earlier version is kept."
    )

    @model_validator(mode="after")
    def _restriction(self) -> Self:
        required_when(
            self.restricted,
            self.restriction_reason,
            needed="a restricted contribution needs a restriction_reason",
            refused="restriction_reason is only for restricted contributions",
        )
        return self


class ResponseVersion(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int = Field(ge=1, le=MAX_UNPAGED_ITEMS, validation_alias="version_number")
    information: Text20k
    risk_indicators: RiskIndicators
    restricted: bool
    restriction_reason: Reason2k | None
    correction_reason: Reason2k | None
    submitted_by: Sub
    submitted_at: datetime


class ContributionOut(ResponseModel):
    model_config = example(
        {
            "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
            "referral_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
            "agency": "health",
            "question": "What do you know about the child and family?",
            "requested_by": "worker-17",
            "requested_at": "2026-11-23T08:45:00Z",
            "due_at": "2026-11-23T12:12:00Z",
            "overdue": False,
            "status": "submitted",
            "restricted": False,
            "children": [CHILD_IDENTITY_EXAMPLE],
            "response": {
                "version": 1,
                "information": "Two missed immunisation appointments this year.",
                "risk_indicators": ["missed_health_appointments"],
                "restricted": False,
                "restriction_reason": None,
                "correction_reason": None,
                "submitted_by": "1f2e3d4c-5b6a-4987-8a7b-6c5d4e3f2a1b",
                "submitted_at": "2026-11-23T10:05:00Z",
            },
            "versions": [],
        }
    )

    id: uuid.UUID
    referral_id: uuid.UUID
    agency: AgencyCode = Field(description="The agency asked.")
    question: Text20k
    requested_by: Sub | None = Field(
        description="The hub worker who asked; null in the asked agency's view (partner views never carry "
        "hub staff identities)."
    )
    requested_at: datetime
    due_at: datetime = Field(
        description="The referral's RAG target counted from the request, but no later than the referral's "
        "decision deadline while that is still ahead (an answer after the decision is due is no use to it)."
    )
    overdue: bool
    status: ContributionStatus
    restricted: bool = Field(description="The current answer is restricted.")
    children: list[ChildIdentity] = Field(
        max_length=MAX_CHILDREN, description="The identifying details of the children asked about."
    )
    response: ResponseVersion | None = Field(description="The current answer, if any.")
    versions: Unpaged[ResponseVersion] = Field(
        description="Earlier answers, replaced by corrections, newest first."
    )
