"""The timescales document: GET returns it, PUT replaces it whole.

The field names are those of the configuration (``MASH_WORKING_TIME__<FIELD>``), so what an operator
configures and what an admin edits read the same. The bounds are the configuration's rules plus
upper limits no local authority needs to exceed, which keep every deadline quick to compute.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, Field, ValidationInfo, WithJsonSchema, field_validator, model_validator

from app.core.clock import WEEKDAYS, TimeZoneName, WallClock
from app.core.schemas import (
    MAX_SAFE_INTEGER,
    Count,
    Date,
    RequestModel,
    ResponseModel,
    Sub,
    Unpaged,
    example,
    no_repeats,
)

MAX_RAG_HOURS = 720  # 30 days of clock hours
MAX_DECISION_WORKING_DAYS = 60
MAX_CLOSURE_DATES = 366
MIN_WORKING_DAY_MINUTES = 60

RagHours = Annotated[float, Field(gt=0, le=MAX_RAG_HOURS, allow_inf_nan=False)]
DecisionDays = Annotated[int, Field(ge=1, le=MAX_DECISION_WORKING_DAYS)]
# A local wall-clock time, "HH:MM[:SS[.ffffff]]". Not JSON Schema's "time" format: that is RFC 3339's
# full-time, which requires an offset, and these times have none (they are read in `timezone`).
WallClockTime = Annotated[
    WallClock,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "maxLength": len("HH:MM:SS.ffffff"),
        }
    ),
]

# What the configuration may hold (shown as it is, not bounded like a PUT).
ConfiguredDays = Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]

_LONG_DAY = {"start": "09:00:00", "end": "17:15:00"}
# The seed borough: Monday to Thursday 09:00-17:15, Friday 09:00-17:00.
_WORKING_HOURS = {
    "monday": _LONG_DAY,
    "tuesday": _LONG_DAY,
    "wednesday": _LONG_DAY,
    "thursday": _LONG_DAY,
    "friday": {"start": "09:00:00", "end": "17:00:00"},
    "saturday": None,
    "sunday": None,
}
_TIMESCALES = {
    "timezone": "Europe/London",
    "working_hours": _WORKING_HOURS,
    "rag_hours": {"red": 4, "amber": 24, "green": 72},
    "red_in_clock_hours": True,
    "referral_decision_working_days": 1,
    "referral_acknowledgement_working_days": 1,
    "adult_concern_decision_working_days": 2,
    "extra_closure_dates": ["2026-12-24"],
}


class RagHoursDoc(RequestModel):
    """Hours from receipt to the decision and to agencies' checks, per RAG rating (blue has none)."""

    red: RagHours = Field(description="Clock hours when `red_in_clock_hours`, else working hours.")
    amber: RagHours = Field(description="Working hours.")
    green: RagHours = Field(description="Working hours.")


class WorkingWindowDoc(RequestModel):
    """One weekday's working hours, local wall-clock times in `timezone`."""

    model_config = example({"start": "09:00", "end": "17:15"})

    start: WallClockTime = Field(description="Start of working hours (inclusive).")
    end: WallClockTime = Field(
        description=f"End of working hours (exclusive); at least {MIN_WORKING_DAY_MINUTES} minutes after "
        "the start, the same day."
    )

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if isinstance(start, time):  # absent when the start itself was invalid
            day = date(2000, 1, 1)  # any date: both are wall-clock times of the same day
            length = datetime.combine(day, value) - datetime.combine(day, start)
            if length < timedelta(minutes=MIN_WORKING_DAY_MINUTES):
                raise ValueError(
                    f"must be at least {MIN_WORKING_DAY_MINUTES} minutes after start on the same day"
                )
        return value


_NO_HOURS = "`null`: not a working day."


class WorkingHoursDoc(RequestModel):
    """Working hours per weekday. A weekday with hours is a working day (unless a bank holiday or a
    closure date), one with `null` is not: this is the one rule for working days. Every weekday must be
    given; at least one must have hours."""

    model_config = example(_WORKING_HOURS)

    monday: WorkingWindowDoc | None = Field(description=_NO_HOURS)
    tuesday: WorkingWindowDoc | None = Field(description=_NO_HOURS)
    wednesday: WorkingWindowDoc | None = Field(description=_NO_HOURS)
    thursday: WorkingWindowDoc | None = Field(description=_NO_HOURS)
    friday: WorkingWindowDoc | None = Field(description=_NO_HOURS)
    saturday: WorkingWindowDoc | None = Field(description=_NO_HOURS)
    sunday: WorkingWindowDoc | None = Field(description=_NO_HOURS)

    @model_validator(mode="after")
    def _some_working_day(self) -> Self:
        if all(getattr(self, day) is None for day in WEEKDAYS):
            raise ValueError("at least one weekday needs working hours")
        return self


class TimescalesIn(RequestModel):
    """The whole timescales document (PUT replaces it; every field is required)."""

    model_config = example(_TIMESCALES)

    timezone: TimeZoneName = Field(
        min_length=1,
        max_length=64,
        description="IANA time zone of working hours and dates, e.g. Europe/London.",
    )
    working_hours: WorkingHoursDoc = Field(
        description="Per weekday: `{start, end}` local wall-clock times, or `null` for a weekday that is "
        "not a working day."
    )
    rag_hours: RagHoursDoc
    red_in_clock_hours: bool = Field(
        description="Red cases run round the clock: count red in clock hours rather than working hours."
    )
    referral_decision_working_days: DecisionDays = Field(
        description="Children's referral: decision on next steps within this many working days of receipt "
        "(statutory: 1)."
    )
    referral_acknowledgement_working_days: DecisionDays = Field(
        description="Children's referral: the referrer's contact acknowledged within this many working days "
        "of receipt (Working Together: 1)."
    )
    adult_concern_decision_working_days: DecisionDays = Field(
        description="Adult safeguarding concern: section 42 decision within this many working days."
    )
    extra_closure_dates: Annotated[list[Date], AfterValidator(no_repeats)] = Field(
        max_length=MAX_CLOSURE_DATES,
        description="Local closure days on top of weekends and England & Wales bank holidays.",
    )


class RagHoursOut(ResponseModel):
    red: float
    amber: float
    green: float


class WorkingWindowOut(ResponseModel):
    start: WallClockTime
    end: WallClockTime


class WorkingHoursOut(ResponseModel):
    """Working hours per weekday; `null`: not a working day."""

    monday: WorkingWindowOut | None
    tuesday: WorkingWindowOut | None
    wednesday: WorkingWindowOut | None
    thursday: WorkingWindowOut | None
    friday: WorkingWindowOut | None
    saturday: WorkingWindowOut | None
    sunday: WorkingWindowOut | None


class TimescalesSource(StrEnum):
    CONFIGURATION = "configuration"
    STORED = "stored"


class TimescalesOut(ResponseModel):
    """The timescales in force, and where they come from. The last four fields are read-only: leave them
    out of a PUT. Unlike PUT, these are not bounds-checked: configured values are shown as they are."""

    model_config = example(
        {
            **_TIMESCALES,
            "source": "stored",
            "version": 3,
            "updated_at": "2026-11-24T10:15:00Z",
            "updated_by": "admin@childrens_social_care",
        }
    )

    timezone: Annotated[str, Field(max_length=64)]
    working_hours: WorkingHoursOut
    rag_hours: RagHoursOut
    red_in_clock_hours: bool
    referral_decision_working_days: ConfiguredDays
    referral_acknowledgement_working_days: ConfiguredDays
    adult_concern_decision_working_days: ConfiguredDays
    extra_closure_dates: Unpaged[date]
    source: TimescalesSource = Field(
        description="`configuration`: the service's configured defaults, never changed through the API; "
        "`stored`: set through PUT."
    )
    version: Count = Field(description="Numbers the changes; the ETag carries it. 0 for the configuration.")
    updated_at: datetime | None = Field(description="When the timescales were last changed through the API.")
    updated_by: Sub | None = Field(description="Who (the token's `sub`) last changed them.")
