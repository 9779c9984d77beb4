"""What the assessments and child protection schemas share: a day that has happened (London's today at
the latest) and a timescale's lateness, kept when the work is done."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from app.core import clock
from app.core.schemas import Date, ResponseModel


def _not_after_today(value: date) -> date:
    if value > clock.today():
        raise ValueError("cannot be after today (London)")
    return value


# A day something happened: YYYY-MM-DD, not after today in England.
PastDate = Annotated[Date, AfterValidator(_not_after_today)]
WorkingDays = Annotated[int, Field(ge=0, le=10_000)]


class Lateness(ResponseModel):
    """How long the work took against its statutory timescale, kept when it was done."""

    working_days: WorkingDays = Field(
        description="Working days after the day the clock started, up to and including the day it was done."
    )
    late: bool = Field(description="Done after the due date.")
