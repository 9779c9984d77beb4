"""Base classes for request and response bodies, and the problem details body."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

H = TypeVar("H", bound=Hashable)


# Callers' clocks drift: a contact logged "now" by a partner may arrive stamped a little ahead.
CLOCK_SKEW = timedelta(minutes=5)


def _not_in_future(value: datetime) -> datetime:
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("cannot be in the future")
    return value


# When something happened: with an offset (a naive time cannot be placed in UTC), and not ahead.
PastAwareDatetime = Annotated[AwareDatetime, AfterValidator(_not_in_future)]


def no_repeats(values: list[H]) -> list[H]:
    """``AfterValidator`` for lists that name each item once (the error names the field)."""
    if len(set(values)) != len(values):
        raise ValueError("must not repeat an item")
    return values


class RequestModel(BaseModel):
    """Request bodies refuse unknown fields (422): a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where the error is, e.g. `["body", "agency"]`.')
    msg: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An RFC 9457 problem details object; served as `application/problem+json`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI identifying the problem type; GET it for an explanation.")
    title: str = Field(description="A short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, for a human.")
    code: str = Field(description="A stable, machine-readable error code.")
    request_id: str | None = Field(
        None, description="The request id (also in `X-Request-ID`); quote it when reporting a problem."
    )
    errors: list[FieldError] | None = Field(
        None, description="For validation errors: each invalid field and what is wrong with it."
    )


def examples(*items: dict[str, Any]) -> dict[str, Any]:
    """``model_config`` helper: OpenAPI examples for a schema."""
    return {"examples": list(items)}
