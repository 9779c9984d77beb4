"""What the agency that sent a record (a referral, an adult concern) may still do with it, and its hub too:
add information learnt later, or withdraw it. One rule for both sides (api.md, "Partner systems").

- **Who**: the sending agency on its own record, with its side's create scope (``referrals:create``,
  ``adult_concerns:create``); or the hub of that side with its write scope. Anyone else who may see the
  record (an agency only asked about a referral) is answered 404, as for a record it may not see.
- **Adding information** appends a row with who and when; what was sent is never edited. The sending
  agency sees the information its own agency added; the hub sees all of it.
- **Withdrawing** is a move of the record's status module (each side says until when which party may).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, any_of_security
from app.core.direct import DirectSelect
from app.core.errors import InsufficientScope, NotFound
from app.core.events import Emitter, EventType
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.schemas import Reason2k, RequestModel, ResponseModel, Sub, Text10k, example
from app.core.scopes import AgencyCode, Scope
from app.models.base import AddedInformation

Added = TypeVar("Added", bound=AddedInformation)
Out = TypeVar("Out", bound=ResponseModel)
Withdrawal = TypeVar("Withdrawal", bound="WithdrawalOut")


class Party(StrEnum):
    """In which capacity the caller acts on a record it did not only read."""

    HUB = "hub"
    SENDER = "sender"


def party(
    principal: Principal,
    *,
    hub: bool,
    sender: bool,
    hub_scope: Scope,
    sender_scope: Scope,
    resource: str,
    record_id: uuid.UUID,
) -> Party:
    """The caller's capacity on a record: ``hub`` when it sees the record as its side's hub, ``sender``
    when its agency sent it. 403 without that capacity's scope; 404 to anyone else."""
    if hub:
        if not principal.has(hub_scope):
            raise InsufficientScope([str(hub_scope)])
        return Party.HUB
    if sender:
        if not principal.has(sender_scope):
            raise InsufficientScope([str(sender_scope)])
        return Party.SENDER
    raise NotFound(resource, record_id)


def operation(summary: str, description: str, sender_scope: Scope, hub_scope: Scope) -> dict[str, Any]:
    """What an operation of the sender or the hub declares besides its handler: its documentation, its
    state machine's 409, and the two scopes either of which lets a caller in (the route's principal is
    ``idempotent(requires_any(sender_scope, hub_scope))``)."""
    return {
        "summary": summary,
        "description": description,
        "responses": problem_responses(409, codes=INVALID_TRANSITION),
        "openapi_extra": any_of_security(sender_scope, hub_scope),
    }


def new_information(model: type[Added], actor: Principal, information: str, **record: object) -> Added:
    """A row of information added by ``actor`` now, on the record named by ``record`` (its key)."""
    make: Any = model  # a mapped class takes its columns as keywords; mypy sees only the mixin
    added: Added = make(
        id=uuid.uuid4(),
        information=information,
        added_by=actor.sub,
        added_by_agency=str(actor.agency),
        **record,
    )
    return added


class Additions(Generic[Out]):
    """The information added to a record of one kind, oldest first, as ``out``:
    ``await loader(session, record_id)``, or only one agency's with ``by_agency`` (what the sending
    agency sees). Made once per kind, at import, from the table column naming the record (``key``).

    Read as plain rows (by asyncpg itself on PostgreSQL: app.core.direct), not ORM records: they are
    only rendered, and rows cost half the CPU."""

    def __init__(self, key: sa.Column[uuid.UUID], out: type[Out]) -> None:
        table = key.table
        every = (
            sa.select(table).where(key == sa.bindparam("record_id")).order_by(table.c.added_at, table.c.id)
        )
        self._every = DirectSelect(every)
        self._agency = DirectSelect(every.where(table.c.added_by_agency == sa.bindparam("agency")))
        self._keys = tuple(column.key for column in every.selected_columns)
        self._out = out

    async def __call__(
        self, session: AsyncSession, record_id: uuid.UUID, *, by_agency: str | None = None
    ) -> list[Out]:
        if by_agency is None:
            rows = await self._every.rows(session, {"record_id": record_id})
        else:
            rows = await self._agency.rows(session, {"record_id": record_id, "agency": by_agency})
        return [self._out.model_validate(dict(zip(self._keys, row, strict=True))) for row in rows]


class Withdrawn(Protocol):
    """What says whether, when, by whom and why a record was withdrawn: its ORM record
    (``app.models.base.Withdrawable``) or a row read to show it."""

    @property
    def withdrawn_at(self) -> datetime | None: ...
    @property
    def withdrawn_by(self) -> str | None: ...
    @property
    def withdrawal_reason(self) -> str | None: ...


def withdrawal(record: Withdrawn, out: type[Withdrawal]) -> Withdrawal | None:
    """Who withdrew the record, when and why; null while it is not withdrawn."""
    if record.withdrawn_at is None:
        return None
    return out(
        reason=record.withdrawal_reason or "",
        withdrawn_by=record.withdrawn_by or "",
        withdrawn_at=record.withdrawn_at,
    )


async def append(
    session: AsyncSession,
    actor: Principal,
    added: Added,
    emit: Emitter,
    record_id: uuid.UUID,
    event_type: EventType,
    **data: Any,
) -> None:
    """Write the added information, and its event on the record (the timeline and the change feed): the
    sending agency sees its own agency's additions there (``agency``)."""
    session.add(added)
    await session.flush()
    emit(
        session, actor, record_id, event_type, information_id=str(added.id), agency=str(actor.agency), **data
    )


# ---------------------------------------------------------------------------------------------------
# Bodies

_INFORMATION = "Since we raised this, her son has moved in with her and the bank has frozen the account."


class InformationIn(RequestModel):
    model_config = example({"information": _INFORMATION})

    information: Text10k = Field(description="What the sender (or the hub) learnt after sending the record.")


class InformationOut(ResponseModel):
    id: uuid.UUID
    information: Text10k
    added_by: Sub = Field(description="Who added it.")
    added_by_agency: AgencyCode
    added_at: datetime


# The most information a record's view carries: all of it, unpaged.
MAX_ADDITIONS = 1_000


def additions_field(description: str) -> Any:
    """The ``Field`` of a view's ``additional_information``: every addition, up to ``MAX_ADDITIONS``."""
    return Field(max_length=MAX_ADDITIONS, description=description)


class WithdrawalOut(ResponseModel):
    reason: Reason2k
    withdrawn_by: Sub
    withdrawn_at: datetime


class WithdrawalIn(RequestModel):
    model_config = example({"reason": "Referred in error: wrong family."})

    reason: Reason2k = Field(description="Why the record is withdrawn.")
