"""Who may read a request for information and its answers: children's social care, which asks, and
the agency asked, which answers. Nobody else, the referring agency included (api.md: a referrer does
not see other agencies' contributions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals import access as referral_access
from app.core.auth import Principal
from app.core.direct import DirectSelect
from app.core.errors import NotFound
from app.models.base import table_columns
from app.models.referral import Contribution


def readable(principal: Principal) -> sa.ColumnElement[bool]:
    """The requests the caller may read: all for the hub, else those made of its agency."""
    return _readable_by(_reader(principal))


def _reader(principal: Principal) -> str | None:
    """The agency whose requests the caller reads; None for the hub (every request)."""
    return None if referral_access.is_hub(principal) else str(principal.agency)


def _readable_by(agency: str | None) -> sa.ColumnElement[bool]:
    return sa.true() if agency is None else Contribution.agency == agency


class RequestRow(NamedTuple):
    """A request as its answer reads it (``locked``): every column of its record, as a plain row read by
    asyncpg (``app.core.direct``), not an ORM record; its status module writes the answer's change."""

    id: uuid.UUID
    referral_id: uuid.UUID
    agency: str
    question: str
    requested_by: str
    requested_at: datetime
    due_at: datetime
    status: str
    current_version: int
    restricted: bool
    submitted_at: datetime | None


# A request as it is shown: its record (the lists, a read) or the row its answer read and changed.
ShownRequest = Contribution | RequestRow


def answers(principal: Principal, contribution: ShownRequest) -> bool:
    """Only the agency asked answers (the hub reads, it does not answer for another agency)."""
    return contribution.agency == principal.agency


async def visible(session: AsyncSession, principal: Principal, contribution_id: uuid.UUID) -> Contribution:
    """The request, if the caller may read it; 404 otherwise."""
    contribution = await session.scalar(
        _one_readable(_reader(principal)), {"contribution_id": contribution_id}
    )
    if contribution is None:
        raise NotFound("contribution", contribution_id)
    return contribution


async def locked(session: AsyncSession, principal: Principal, contribution_id: uuid.UUID) -> RequestRow:
    """The request as a plain row, locked until the transaction ends (serialising its answers), to be
    answered; 404 when the caller may not read it."""
    rows = await _locked_row(_reader(principal)).rows(session, {"contribution_id": contribution_id})
    if not rows:
        raise NotFound("contribution", contribution_id)
    return RequestRow._make(rows[0])


# Each statement is built once for each agency (None: the hub), run with each request's id, as
# ``app.core.readable.Viewed`` builds its statements: building one (and its cache key) cost more CPU
# than running it.
_REQUEST = table_columns(Contribution)


def _the_request(agency: str | None) -> sa.ColumnElement[bool]:
    """The request ``contribution_id``, if ``agency`` may read it."""
    return sa.and_(_REQUEST.id == sa.bindparam("contribution_id"), _readable_by(agency))


@cache
def _one_readable(agency: str | None) -> sa.Select[Contribution]:
    return sa.select(Contribution).where(_the_request(agency))


@cache
def _locked_row(agency: str | None) -> DirectSelect:
    return DirectSelect(
        sa.select(*(_REQUEST[name] for name in RequestRow._fields))
        .where(_the_request(agency))
        .with_for_update()
    )
