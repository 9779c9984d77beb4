"""Queries for the disclosure log: one set-based insert per event, and a person's log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.models.adult import AdultConcern
from app.models.disclosure import Disclosure
from app.models.referral import ReferralChild


async def insert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """All the rows of one event in one statement (an executemany), never one round trip per row."""
    if rows:
        await session.execute(sa.insert(Disclosure), list(rows))


def about(person_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """Disclosures about ``person_id``: naming the person, or the referral child or adult concern row
    matched to them (the match may have been made after the disclosure)."""
    children = sa.select(ReferralChild.id).where(ReferralChild.person_id == person_id)
    concerns = sa.select(AdultConcern.id).where(AdultConcern.person_id == person_id)
    return sa.or_(
        Disclosure.person_id == person_id,
        Disclosure.referral_child_id.in_(children),
        Disclosure.adult_concern_id.in_(concerns),
    )


@dataclass(frozen=True, slots=True)
class DisclosureFilters:
    trigger: str | None = None
    recipient_agency: str | None = None


async def for_person(
    session: AsyncSession, person_id: uuid.UUID, filters: DisclosureFilters, params: PageParams
) -> tuple[list[Disclosure], str | None]:
    stmt = sa.select(Disclosure).where(about(person_id))
    if filters.trigger is not None:
        stmt = stmt.where(Disclosure.trigger == filters.trigger)
    if filters.recipient_agency is not None:
        stmt = stmt.where(Disclosure.recipient_agency == filters.recipient_agency)
    return await paginate(session, stmt, [Disclosure.disclosed_at, Disclosure.id], params)


async def all_for_person(session: AsyncSession, person_id: uuid.UUID) -> Sequence[Disclosure]:
    """The whole log of one person, oldest first (for the subject access export)."""
    stmt = sa.select(Disclosure).where(about(person_id)).order_by(Disclosure.disclosed_at, Disclosure.id)
    return (await session.scalars(stmt)).all()
