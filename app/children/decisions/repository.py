"""Queries for threshold decisions and their per-child entries; who may see them is
``app.children.referrals.access``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.decisions.schemas import ChildOutcomeOut
from app.core.direct import DirectSelect
from app.models.base import table_columns, table_of
from app.models.person import Person
from app.models.referral import ReferralChild, ThresholdDecisionChild


class ChildFacts(NamedTuple):
    """A child of the referral, as the census sees them: the person record's details first."""

    id: uuid.UUID
    date_of_birth: date | None
    expected_date_of_birth: date | None
    gender: str | None


async def children_facts(session: AsyncSession, referral_id: uuid.UUID) -> list[ChildFacts]:
    rows = await session.execute(
        sa.select(
            ReferralChild.id,
            sa.func.coalesce(Person.date_of_birth, ReferralChild.date_of_birth),
            sa.func.coalesce(Person.expected_date_of_birth, ReferralChild.expected_date_of_birth),
            sa.func.coalesce(Person.gender, ReferralChild.gender),
        )
        .outerjoin(Person, Person.id == ReferralChild.person_id)
        .where(ReferralChild.referral_id == referral_id)
        .order_by(ReferralChild.position)
    )
    return [ChildFacts(*row) for row in rows]


class Entry(NamedTuple):
    """The decision on one child (a ``ThresholdDecisionChild``), as it is shown: plain columns, read by
    asyncpg (``app.core.direct``), not ORM records (read-only)."""

    referral_child_id: uuid.UUID
    level: int
    outcome: str
    primary_need: str | None
    nfa: bool
    accepted_as_referral: bool
    own_entry: bool


_ENTRY = table_columns(ThresholdDecisionChild)
_CHILD = table_columns(ReferralChild)
_ENTRIES = DirectSelect(
    sa.select(*(_ENTRY[name] for name in Entry._fields))
    .join(table_of(ReferralChild), _CHILD.id == _ENTRY.referral_child_id)
    .where(_ENTRY.decision_id == sa.bindparam("decision_id"))
    .order_by(_CHILD.position)
)


async def entries(session: AsyncSession, decision_id: uuid.UUID) -> list[Entry]:
    """The decision's per-child entries, in the referral's order of its children."""
    return [Entry._make(row) for row in await _ENTRIES.rows(session, {"decision_id": decision_id})]


def outcome_of(entry: ThresholdDecisionChild | Entry) -> dict[str, object]:
    return {
        "level": entry.level,
        "outcome": entry.outcome,
        "primary_need": entry.primary_need,
        "nfa": entry.nfa,
        "accepted_as_referral": entry.accepted_as_referral,
        "own_entry": entry.own_entry,
    }


async def outcomes(session: AsyncSession, decision_id: uuid.UUID | None) -> dict[uuid.UUID, ChildOutcomeOut]:
    """The decision on each child (by referral child id) of the approved decision ``decision_id``."""
    if decision_id is None:
        return {}
    found = await entries(session, decision_id)
    return {e.referral_child_id: ChildOutcomeOut.model_validate(outcome_of(e)) for e in found}
