"""Queries for threshold decisions and their per-child entries; who may see them is
``app.children.referrals.access``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.decisions.schemas import ChildOutcomeOut
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


async def entries(session: AsyncSession, decision_id: uuid.UUID) -> list[ThresholdDecisionChild]:
    """The decision's per-child entries, in the referral's order of its children."""
    return list(await session.scalars(_ENTRIES, {"decision_id": decision_id}))


_ENTRIES = (
    sa.select(ThresholdDecisionChild)
    .join(ReferralChild, ReferralChild.id == ThresholdDecisionChild.referral_child_id)
    .where(ThresholdDecisionChild.decision_id == sa.bindparam("decision_id"))
    .order_by(ReferralChild.position)
)


def outcome_of(entry: ThresholdDecisionChild) -> dict[str, object]:
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
