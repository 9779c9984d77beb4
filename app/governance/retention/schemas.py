from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from app.core.retention import RetainedRecordType, RetentionBasis
from app.core.schemas import Reason2k, RequestModel, ResponseModel, Sub, Unpaged, example

RuleSource = Annotated[str, Field(max_length=300)]


class RetentionRuleOut(ResponseModel):
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
    rules: Unpaged[RetentionRuleOut]


class RetentionReviewItem(ResponseModel):
    """A record whose retention period has ended, with no legal hold and not yet anonymised: ids and
    dates only, no personal data."""

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
    "record_id": "0b9f6c1e-3f0a-4d55-9d1e-7a2b6c8d9e01",
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
    id: uuid.UUID
    record_type: RetainedRecordType
    record_id: uuid.UUID
    reason: Reason2k
    active: bool = Field(description="True until the hold is released.")
    placed_by: Sub
    placed_by_agency: Annotated[str, Field(max_length=40)]
    placed_at: datetime
    released_at: datetime | None
    released_by: Sub | None
    release_reason: Reason2k | None


class AnonymisationIn(RequestModel):
    model_config = example({"record_type": "referral", "record_id": "0b9f6c1e-3f0a-4d55-9d1e-7a2b6c8d9e01"})

    record_type: RetainedRecordType
    record_id: uuid.UUID


class AnonymisationOut(ResponseModel):
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
