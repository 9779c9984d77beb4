"""Allocation: who works a referral, an adult concern or an enquiry. One rule for the three.

A hub allocates a record to a worker (a token's ``sub``) and a team, either or both, or neither
(``{"worker": null, "team": null}`` takes it off everyone's list); who allocated it, when and why are
kept with it (``app.models.base.Allocated``), and the step is a case event and an audit entry of the
record's own service. The allocation is the hub's working detail: a partner agency never sees it, nor
filters by it (its subs are the hub's staff).

Work queues filter by it: ``allocated_to`` is ``me`` (the caller's ``sub``), ``none`` (no worker) or a
worker's ``sub``; ``team`` a team's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query
from pydantic import Field

from app.core.auth import Principal
from app.core.errors import ValidationFailed
from app.core.schemas import SINGLE_LINE, Reason2k, RequestModel, ResponseModel, Sub, example
from app.models.base import ALLOCATION_TEAM_LENGTH, Allocated

Statement = TypeVar("Statement", bound=sa.Select[Any])

Team = Annotated[str, Field(min_length=1, max_length=ALLOCATION_TEAM_LENGTH, pattern=SINGLE_LINE)]
ME = "me"
NOBODY = "none"


class AllocationIn(RequestModel):
    model_config = example({"worker": "mash-practitioner-7", "team": "MASH A", "note": "Covering for leave."})

    worker: Sub | None = Field(description="The worker's `sub`; null for no worker (the team's queue).")
    team: Team | None = Field(description="The team; null for none.")
    note: Reason2k | None = Field(None, description="Why, for the record (kept with the allocation).")


class AllocationOut(ResponseModel):
    """Whom a record is allocated to. Shown to the hub only."""

    model_config = example(
        {
            "worker": "mash-practitioner-7",
            "team": "MASH A",
            "allocated_at": "2026-11-23T09:05:00Z",
            "allocated_by": "mash-manager-2",
            "note": None,
        }
    )

    worker: Sub | None
    team: Team | None
    allocated_at: datetime | None = Field(description="Null while the record was never allocated.")
    allocated_by: Sub | None
    note: Reason2k | None


def allocate(record: Allocated, actor: Principal, body: AllocationIn, now: datetime) -> dict[str, Any]:
    """Allocate ``record`` (locked by the caller) as ``body`` says; the event's data (codes and subs:
    the hub's own feed only, ``app.governance.feed.rules``)."""
    record.allocated_worker = body.worker
    record.allocated_team = body.team
    record.allocated_at = now
    record.allocated_by = actor.sub
    record.allocation_note = body.note
    return {"worker": body.worker, "team": body.team}


class AllocationFields(Protocol):
    """A record's allocation (``Allocated``'s columns), on its ORM record or a row read for a list."""

    @property
    def allocated_worker(self) -> str | None: ...
    @property
    def allocated_team(self) -> str | None: ...
    @property
    def allocated_at(self) -> datetime | None: ...
    @property
    def allocated_by(self) -> str | None: ...
    @property
    def allocation_note(self) -> str | None: ...


def allocation_out(record: AllocationFields, *, hub: bool) -> AllocationOut | None:
    """The record's allocation as the caller sees it: the hub whole, anyone else nothing (null)."""
    return allocation_of(record) if hub else None


def allocation_of(record: AllocationFields) -> AllocationOut:
    """The record's allocation, as the hub sees it."""
    return AllocationOut(
        worker=record.allocated_worker,
        team=record.allocated_team,
        allocated_at=record.allocated_at,
        allocated_by=record.allocated_by,
        note=record.allocation_note,
    )


# ---------------------------------------------------------------------------------------------------
# Filtering a queue


@dataclass(frozen=True, slots=True)
class AllocationFilter:
    allocated_to: str | None = None
    team: str | None = None

    @property
    def given(self) -> bool:
        return self.allocated_to is not None or self.team is not None


async def allocation_filter(
    allocated_to: Annotated[
        Sub | None,
        Query(
            description=(
                "`me` (the caller's own), `none` (no worker allocated) or a worker's `sub`. "
                "The hub's lists only (422 for another agency)."
            )
        ),
    ] = None,
    team: Annotated[
        Team | None, Query(description="Only records allocated to this team (the hub's lists only).")
    ] = None,
) -> AllocationFilter:
    return AllocationFilter(allocated_to=allocated_to, team=team)


# A work queue's ``?allocated_to=&team=``, in one parameter.
AllocationQuery = Annotated[AllocationFilter, Depends(allocation_filter)]


def where_allocated(
    stmt: Statement, model: type[Allocated], allocation: AllocationFilter, principal: Principal, *, hub: bool
) -> Statement:
    """``stmt`` narrowed to the records allocated as asked. Only the hub allocates, so only the hub
    filters by it: another agency asking is a 422 (an answer would tell it the hub's allocations)."""
    if not allocation.given:
        return stmt
    if not hub:
        name = "allocated_to" if allocation.allocated_to is not None else "team"
        raise ValidationFailed(["query", name], "Only the hub's lists can be filtered by allocation.")
    worker = model.allocated_worker
    if allocation.allocated_to == NOBODY:
        stmt = stmt.where(worker.is_(None))
    elif allocation.allocated_to is not None:
        stmt = stmt.where(
            worker == (principal.sub if allocation.allocated_to == ME else allocation.allocated_to)
        )
    if allocation.team is not None:
        stmt = stmt.where(model.allocated_team == allocation.team)
    return stmt


def unallocated(model: type[Allocated]) -> sa.ColumnElement[bool]:
    """No worker allocated (a team's queue counts as unallocated: nobody has picked it up)."""
    return model.allocated_worker.is_(None)
