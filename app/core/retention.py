"""Retention rules: how long each kind of case record is kept before it is reviewed for anonymisation.

The defaults follow the local government retention guidance of the Information and Records Management
Society (IRMS, formerly the Records Management Society's Local Government Group, whose "Retention
Guidelines for Local Authorities" the IRMS Local Government Retention Schedule succeeds) as councils
publish it in their own schedules (README, "Retention", cites the entries used):

* **Children's referrals** (contacts and referrals to children's social care, children in need and
  child protection enquiries): until the **25th birthday** of the youngest child the referral names
  (the "DOB+25" rule for records about minors, who may bring a claim on reaching majority; Derbyshire
  County Council's children's services schedule, CHILD 1.x). Records of a looked-after child are kept
  until the 75th birthday (Arrangement of Placement of Children Regulations 1991 reg. 9, now the Care
  Planning, Placement and Case Review (England) Regulations 2010): the hub does not hold them, so no
  rule here; set ``until_age`` to 75 where a hub's referrals are filed with the care record.
* **Adult safeguarding concerns** (with their enquiries): **8 years after the last contact** (the NHS
  Records Management Code of Practice for Health and Social Care's "8 years after the end of care or
  client last seen", as Blackpool Council's adult services schedule applies it to case management and
  safeguarding records; Derbyshire's AC 03.01 keeps assessment and support records 6 years after the
  latest contact: the longer of the two is the default).

A rule is a review trigger, never a deletion: records past it appear on the review list, and are
anonymised only when information governance says so and no legal hold stands in the way.
Set them with ``MASH_RETENTION__REFERRAL__YEARS=25`` or ``MASH_RETENTION__ADULT_CONCERN__YEARS=6``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class RetainedRecordType(StrEnum):
    """The case records retention rules apply to (each with what hangs off it)."""

    REFERRAL = "referral"
    ADULT_CONCERN = "adult_concern"


class RetentionBasis(StrEnum):
    # Kept until the youngest person the record is about reaches ``years`` of age.
    UNTIL_AGE = "until_age"
    # Kept ``years`` after the record last changed (the last contact).
    AFTER_LAST_ACTIVITY = "after_last_activity"


# A rule's period and where it comes from, bounded alike for every record type's rule.
RetentionYears = Annotated[int, Field(ge=1, le=150)]
RetentionSource = Annotated[str, Field(max_length=300, description="Where the period comes from.")]


class RetentionRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    basis: RetentionBasis
    years: RetentionYears
    source: RetentionSource


class ReferralRule(RetentionRule):
    basis: RetentionBasis = RetentionBasis.UNTIL_AGE
    years: RetentionYears = 25
    source: RetentionSource = (
        "IRMS local government retention guidance, children's social care: until the 25th birthday of "
        "the youngest child (DOB+25)"
    )


class AdultConcernRule(RetentionRule):
    basis: RetentionBasis = RetentionBasis.AFTER_LAST_ACTIVITY
    years: RetentionYears = 8
    source: RetentionSource = (
        "IRMS local government retention guidance, adult social care: 8 years after the last contact "
        "(NHS Records Management Code of Practice for Health and Social Care)"
    )


class RetentionConfig(BaseModel):
    """One rule per record type; each field may be set on its own (``MASH_RETENTION__REFERRAL__YEARS``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral: ReferralRule = Field(default_factory=ReferralRule)
    adult_concern: AdultConcernRule = Field(default_factory=AdultConcernRule)

    def rule_for(self, record_type: RetainedRecordType) -> RetentionRule:
        rule: RetentionRule = getattr(self, record_type.value)
        return rule


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February becomes the 28th in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 1 March in a common year, as a
    birthday does: ``app.core.clock.age_on``)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


def instant_years_before(instant: datetime, years: int) -> datetime:
    try:
        return instant.replace(year=instant.year - years)
    except ValueError:
        return instant.replace(year=instant.year - years, day=28)
