from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from app.core.retention import RetainedRecordType, RetentionBasis
from app.core.schemas import SINGLE_LINE, Reason2k, RequestModel, ResponseModel, Sub, Unpaged, example
from app.core.scopes import AgencyCode

RuleSource = Annotated[str, Field(max_length=300, pattern=SINGLE_LINE)]


_RULE = {
    "record_type": "referral",
    "basis": "until_age",
    "years": 25,
    "source": "IRMS local government retention guidance, children's social care: until the 25th birthday "
    "of the youngest child (DOB+25)",
}
_RECORD_ID = "0b9f6c1e-3f0a-4d55-9d1e-7a2b6c8d9e01"


class RetentionRuleOut(ResponseModel):
    model_config = example(_RULE)

    record_type: RetainedRecordType
    basis: RetentionBasis = Field(
        description=(
            "until_age: kept until the youngest person the record is about reaches `years` of age; "
            "after_last_activity: kept `years` after the record last changed (the last contact)."
        )
    )
    years: int = Field(ge=1, le=150)
    source: RuleSource = Field(description="Where the period comes from.")


class RetentionRulesOut(ResponseModel):
    model_config = example({"rules": [_RULE]})

    rules: Unpaged[RetentionRuleOut]


class RetentionReviewItem(ResponseModel):
    """A record whose retention period has ended, with no legal hold and not yet anonymised: ids and
    dates only, no personal data."""

    model_config = example(
        {
            "record_type": "referral",
            "record_id": _RECORD_ID,
            "received_at": "2026-03-02T10:15:00Z",
            "basis": "until_age",
            "years": 25,
            "retention_ended_on": "2043-03-14",
        }
    )

    record_type: RetainedRecordType
    record_id: uuid.UUID
    received_at: datetime = Field(description="When the referral or concern was received.")
    basis: RetentionBasis
    years: int = Field(ge=1, le=150)
    retention_ended_on: date = Field(
        description="The day the retention period ended: the youngest child's birthday (until_age) or "
        "the anniversary of the last change (after_last_activity)."
    )


_HOLD = {
    "record_type": "referral",
    "record_id": _RECORD_ID,
    "reason": "Civil claim notified by the council's legal services (ref. LS-2041-117): preserve.",
}


class LegalHoldIn(RequestModel):
    model_config = example(_HOLD)

    record_type: RetainedRecordType
    record_id: uuid.UUID
    reason: Reason2k = Field(description="Why the record must be kept (a claim, an inquiry's notice).")


class LegalHoldReleaseIn(RequestModel):
    model_config = example({"reason": "Claim settled; legal services confirm nothing more is needed."})

    reason: Reason2k


class LegalHoldOut(ResponseModel):
    model_config = example(
        {
            "id": "6a1c9e52-7d4b-4f0e-9a3c-2b8d1e7f5c40",
            **_HOLD,
            "active": True,
            "placed_by": "ig-officer@council.example.gov.uk",
            "placed_by_agency": "council",
            "placed_at": "2044-01-10T11:00:00Z",
            "released_at": None,
            "released_by": None,
            "release_reason": None,
        }
    )

    id: uuid.UUID
    record_type: RetainedRecordType
    record_id: uuid.UUID
    reason: Reason2k
    active: bool = Field(description="True until the hold is released.")
    placed_by: Sub
    placed_by_agency: AgencyCode
    placed_at: datetime
    released_at: datetime | None
    released_by: Sub | None
    release_reason: Reason2k | None


class AnonymisationIn(RequestModel):
    model_config = example({"record_type": "referral", "record_id": _RECORD_ID})

    record_type: RetainedRecordType
    record_id: uuid.UUID


class AnonymisationOut(ResponseModel):
    model_config = example(
        {
            "id": "3f6e2a10-9b7c-4d1e-8f5a-0c2b4d6e8a91",
            "record_type": "referral",
            "record_id": _RECORD_ID,
            "basis": "until_age",
            "years": 25,
            "retention_ended_on": "2043-03-14",
            "anonymised_at": "2044-02-01T09:30:00Z",
            "anonymised_by": "ig-officer@council.example.gov.uk",
            "people_anonymised": ["5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f"],
            "people_kept": [],
        }
    )

    id: uuid.UUID
    record_type: RetainedRecordType
    record_id: uuid.UUID
    basis: RetentionBasis
    years: int = Field(ge=1, le=150)
    retention_ended_on: date
    anonymised_at: datetime
    anonymised_by: Sub
    people_anonymised: Unpaged[uuid.UUID] = Field(
        description="The person records anonymised with it: those no other record still needs."
    )
    people_kept: Unpaged[uuid.UUID] = Field(
        description=(
            "The people it names whose person record stays: another referral or concern about them is "
            "still kept, or a record no retention rule covers yet (capacity assessment, safeguarding "
            "plan, safeguarding adults review)."
        )
    )
