"""Queries for the disclosure log: one set-based insert per event, and a person's log as a caller
may read it (the sides of the person's record it reads, ``app.people.access``)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.filters import query, where_equal
from app.core.pagination import PageParams, paginate
from app.core.scopes import AgencyCode
from app.models.adult import AdultConcern
from app.models.disclosure import Disclosure
from app.models.referral import ReferralChild
from app.people.access import BOTH_SIDES, RecordSide, in_order
from app.people.disclosures.codes import EXPORT_RECORD_TYPE, RECORD_SIDES, DisclosureTrigger


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


def encode_sides(sides: frozenset[RecordSide]) -> str:
    """The sides an export covered, as its row's ``details["sides"]``: one string ("children adults"),
    not a JSON list, so both databases compare it as text (a list's JSON text differs between them)."""
    return " ".join(in_order(sides))


def on_sides(sides: frozenset[RecordSide]) -> sa.ColumnElement[bool]:
    """Disclosures a reader of ``sides`` sees: those of records on its sides, and the exports that
    covered one of them (an export logged before exports had sides covered both)."""
    if sides >= BOTH_SIDES:
        return sa.true()
    if not sides:
        return sa.false()
    combinations = (
        frozenset(c) for n in range(1, len(BOTH_SIDES) + 1) for c in itertools.combinations(RecordSide, n)
    )
    covering = sorted(encode_sides(c) for c in combinations if c & sides)
    exported_sides = sa.func.coalesce(Disclosure.details["sides"].as_string(), encode_sides(BOTH_SIDES))
    return sa.or_(
        Disclosure.record_type.in_(sorted(t for t, side in RECORD_SIDES.items() if side in sides)),
        sa.and_(Disclosure.record_type == EXPORT_RECORD_TYPE, exported_sides.in_(covering)),
    )


@dataclass(frozen=True, slots=True)
class DisclosureFilters:
    """The disclosure log's filters, declared as its query parameters (``app.core.filters.query``)."""

    trigger: Annotated[DisclosureTrigger | None, Query(description="Only disclosures made this way.")] = None
    recipient_agency: Annotated[AgencyCode | None, Query(description="Only disclosures to this agency.")] = (
        None
    )


# The list's query parameters, as one parameter of its handler.
DisclosureQuery = Annotated[DisclosureFilters, Depends(query(DisclosureFilters))]


async def for_person(
    session: AsyncSession,
    person_id: uuid.UUID,
    sides: frozenset[RecordSide],
    filters: DisclosureFilters,
    params: PageParams,
) -> tuple[list[Disclosure], str | None]:
    stmt = sa.select(Disclosure).where(about(person_id), on_sides(sides))
    stmt = where_equal(
        stmt, (Disclosure.trigger, filters.trigger), (Disclosure.recipient_agency, filters.recipient_agency)
    )
    return await paginate(session, stmt, [Disclosure.disclosed_at, Disclosure.id], params)


async def all_for_person(
    session: AsyncSession, person_id: uuid.UUID, sides: frozenset[RecordSide]
) -> Sequence[Disclosure]:
    """The log of one person on ``sides``, oldest first (for the subject access export)."""
    stmt = (
        sa.select(Disclosure)
        .where(about(person_id), on_sides(sides))
        .order_by(Disclosure.disclosed_at, Disclosure.id)
    )
    return (await session.scalars(stmt)).all()
