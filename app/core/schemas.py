"""Base classes for request and response bodies, and the problem details body."""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.core import clock
from app.core.problems import ProblemCode

H = TypeVar("H", bound=Hashable)
T = TypeVar("T")


# Callers' clocks drift: a contact logged "now" by a partner may arrive stamped a little ahead.
CLOCK_SKEW = timedelta(minutes=5)


# The moments a client may name, in UTC: a day inside Python's range at each end, so that neither the
# conversion to UTC nor to local time (a day in England) can step outside it.
_EARLIEST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
_LATEST_INSTANT = datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC)


def _within_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00+01:00 is a valid RFC 3339 time whose UTC falls before year 1: Python cannot hold
    # it, so a comparison or a query with it would fail. Refused here, with the field named.
    try:
        in_range = _EARLIEST_INSTANT <= value.astimezone(UTC) <= _LATEST_INSTANT
    except OverflowError:
        in_range = False
    if not in_range:
        raise PydanticCustomError(
            "datetime_range",
            "must be a date-time from 0001-01-02T00:00:00Z to 9999-12-30T23:59:59Z once converted to UTC",
        )
    return value


# A moment a client names (a body field, a query filter): with an offset, since a naive time cannot be
# placed in UTC (the error says so, ``app.core.errors``), and one whose UTC time exists.
Instant = Annotated[AwareDatetime, AfterValidator(_within_utc)]


def _not_in_future(value: datetime) -> datetime:
    if value > clock.now() + CLOCK_SKEW:
        raise ValueError("cannot be in the future")
    return value


# When something happened: an ``Instant``, and not ahead.
PastAwareDatetime = Annotated[Instant, AfterValidator(_not_in_future)]


# The earliest calendar date a client may send: nobody the hub deals with was born before it, and a
# year-1 date is a typing slip (or a probe) that would otherwise be stored and reported.
MIN_DATE = date(1900, 1, 1)
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _calendar_date(value: Any, handler: ValidatorFunctionWrapHandler) -> date:
    # Only YYYY-MM-DD (or a date object, from code): pydantic would also take a datetime at midnight or
    # a number of seconds since 1970, neither of which the contract offers.
    shaped = isinstance(value, date) or (isinstance(value, str) and _DATE_SHAPE.fullmatch(value) is not None)
    if not shaped:
        raise PydanticCustomError("date_format", "must be a date as YYYY-MM-DD")
    try:
        day: date = handler(value)
    except ValidationError:  # e.g. 2026-02-30
        raise PydanticCustomError("date_format", "must be a real date as YYYY-MM-DD") from None
    if day < MIN_DATE:
        raise PydanticCustomError("date_too_early", f"must be {MIN_DATE.isoformat()} or later (YYYY-MM-DD)")
    return day


# Every calendar date a client sends (a date of birth, a due date, a day received, a closure day, a
# report's range): YYYY-MM-DD, from 1900-01-01, with an error that says so. `formatMinimum` is the JSON
# Schema vocabulary's bound for a formatted string (validators such as ajv-formats apply it).
Date = Annotated[
    date,
    WrapValidator(_calendar_date),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "formatMinimum": MIN_DATE.isoformat(),
            "description": f"A date as YYYY-MM-DD, {MIN_DATE.isoformat()} or later.",
        }
    ),
]


# Text refuses control characters (PostgreSQL cannot store NUL; the rest are never meant): free text may
# hold line breaks and tabs, a name or a short field is one line.
MULTI_LINE = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
SINGLE_LINE = r"^[^\x00-\x1F\x7F]*$"
# Free text, a reason given for an action, a one-line field (a name, a title, a role) and a phone number,
# each named by its bound.
Text10k = Annotated[str, Field(min_length=1, max_length=10_000, pattern=MULTI_LINE)]
Text20k = Annotated[str, Field(min_length=1, max_length=20_000, pattern=MULTI_LINE)]
Reason2k = Annotated[str, Field(min_length=1, max_length=2_000, pattern=MULTI_LINE)]
Line200 = Annotated[str, Field(min_length=1, max_length=200, pattern=SINGLE_LINE)]
# A partner's own incident or case number for a record it sends: not unique (one incident may produce
# several referrals), one line.
EXTERNAL_REFERENCE_LENGTH = 100
ExternalReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=EXTERNAL_REFERENCE_LENGTH,
        pattern=SINGLE_LINE,
        description="The sender's own reference (incident or case number), to find the record by later.",
    ),
]
Phone = Annotated[str, Field(min_length=5, max_length=40, pattern=r"^[0-9+() \-]+$")]

# Bounds shared by request and response bodies: a response field carries what its request field allowed.
# The largest integer a JavaScript number holds exactly: the bound of counts and sequence numbers.
MAX_SAFE_INTEGER = 2**53 - 1
Count = Annotated[int, Field(ge=0, le=MAX_SAFE_INTEGER)]
SequenceNumber = Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
# Tokens whose `sub` is longer or holds control characters are refused (app/core/tokens.py): the width of
# every *_by column.
MAX_SUB_LENGTH = 255
Sub = Annotated[str, Field(min_length=1, max_length=MAX_SUB_LENGTH, pattern=SINGLE_LINE)]
# Request ids are ours (32 hex digits) or a caller's X-Request-ID (app/core/middleware.py).
RequestId = Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
# Lists that are not paged (a referral's timeline, a person's earlier referrals): far above any real case.
MAX_UNPAGED_ITEMS = 10_000
Unpaged = Annotated[list[T], Field(max_length=MAX_UNPAGED_ITEMS)]

# Validation errors listed in one problem (the `detail` gives the full count), and the size of each.
MAX_FIELD_ERRORS = 100
MAX_LOC_DEPTH = 32
MAX_LOC_NAME = 200
MAX_ERROR_MESSAGE = 2_000


def required_when(applies: bool, value: object, *, needed: str, refused: str) -> None:
    """A field that a condition calls for, in a model validator: missing where the condition ``applies``
    raises ``needed``, given where it does not raises ``refused`` (each a 422 naming the field)."""
    if applies and value is None:
        raise ValueError(needed)
    if not applies and value is not None:
        raise ValueError(refused)


def no_repeats(values: list[H]) -> list[H]:
    """``AfterValidator`` for lists that name each item once (the error names the field)."""
    if len(set(values)) != len(values):
        raise ValueError("must not repeat an item")
    return values


class RequestModel(BaseModel):
    """Request bodies refuse unknown fields (422): a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UpdateModel(RequestModel):
    """A partial update: only the fields sent are changed, and at least one must be sent."""

    # Fields that may be left out but not sent as null.
    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        for name in self.not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self


class ReachableModel(RequestModel):
    """Someone to reach: a body with ``phone`` and ``email`` fields (declared by the body, where it shows
    them), of which at least one must be given."""

    # The 422's message when neither is.
    unreachable: ClassVar[str] = "give a phone number or an email address"

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if getattr(self, "phone", None) is None and getattr(self, "email", None) is None:
            raise ValueError(self.unreachable)
        return self


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FieldError(BaseModel):
    loc: list[
        Annotated[str, Field(max_length=MAX_LOC_NAME)] | Annotated[int, Field(ge=0, le=MAX_SAFE_INTEGER)]
    ] = Field(max_length=MAX_LOC_DEPTH, description='Where the error is, e.g. `["body", "agency"]`.')
    msg: str = Field(max_length=MAX_ERROR_MESSAGE, description="What is wrong with it.")


class Problem(BaseModel):
    """An RFC 9457 problem details object; served as `application/problem+json`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        max_length=2048,
        description="A URI identifying the problem type; GET it for an explanation.",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str = Field(max_length=200, description="A short summary of the problem type.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(max_length=2_000, description="What went wrong with this request, for a human.")
    code: ProblemCode = Field(description="A stable, machine-readable error code.")
    request_id: RequestId | None = Field(
        None, description="The request id (also in `X-Request-ID`); quote it when reporting a problem."
    )
    errors: list[FieldError] | None = Field(
        None,
        max_length=MAX_FIELD_ERRORS,
        description=f"For validation errors: each invalid field and what is wrong with it (the first {MAX_FIELD_ERRORS}).",
    )


def examples(*items: dict[str, Any]) -> dict[str, Any]:
    """``json_schema_extra`` helper: OpenAPI examples for a schema."""
    return {"examples": list(items)}


def example(*items: dict[str, Any]) -> ConfigDict:
    """A schema's ``model_config`` that only adds OpenAPI examples (the base class's config still holds)."""
    return ConfigDict(json_schema_extra=examples(*items))
