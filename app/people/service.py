"""People: records, matching, and resolving the children a referral names to person records."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.audit import Actor, AuditAction
from app.core.auth import Principal
from app.core.concurrency import check_if_match
from app.core.errors import AgencyNotPermitted, AppError, NotFound, ValidationFailed
from app.core.inserts import insert_new, new_record
from app.core.pagination import PageParams
from app.models.base import utcnow
from app.models.person import Person
from app.people import access, repository
from app.people.codes import MatchStatus
from app.people.matching import Identity, RankedMatch, automatic_link, prepare, rank_matches
from app.people.schemas import PersonCreate, PersonUpdate, check_birth_dates

RECORD_TYPE = "person"


@dataclass(frozen=True, slots=True)
class RankedPerson:
    person: Person
    score: float
    certain: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    person_id: uuid.UUID | None  # the person linked or made; None while candidates await a practitioner
    status: MatchStatus
    candidates: list[dict[str, Any]]


async def _ranked(
    session: AsyncSession, identity: Identity, *, limit: int, exclude: Collection[uuid.UUID] = ()
) -> list[RankedMatch[uuid.UUID]]:
    query = prepare(identity)  # once, for both the lookup and the scores
    found = await repository.candidates(session, query, exclude=exclude)
    return rank_matches(query, [(c.id, c.identity) for c in found], limit=limit)


async def rank(
    session: AsyncSession,
    identity: Identity,
    *,
    limit: int = 10,
    exclude: Collection[uuid.UUID] = (),
) -> list[RankedPerson]:
    ranked = await _ranked(session, identity, limit=limit, exclude=exclude)
    people = await repository.by_ids(session, [r.key for r in ranked])
    # Each statement sees what is committed when it starts: a record gone since the search is left out.
    return [
        RankedPerson(people[r.key], r.match.score, r.match.certain, r.match.reasons)
        for r in ranked
        if r.key in people
    ]


async def match(
    session: AsyncSession, actor: Principal, identity: Identity, *, limit: int
) -> list[RankedPerson]:
    """Candidates from the register, for a caller who may read it (nobody, for anyone else)."""
    ranked = await rank(session, identity, limit=limit) if access.reads_register(actor) else []
    audit.record(
        session,
        actor,
        AuditAction.SEARCH,
        "person_match",
        details={"candidate_ids": [str(r.person.id) for r in ranked]},
    )
    return ranked


async def _new_person(session: AsyncSession, actor: Actor, fields: dict[str, Any]) -> Person:
    person = new_record(Person, id=uuid.uuid4(), created_by=actor.sub, **fields)
    # One Core INSERT, not the unit of work (app.core.inserts): the record is not changed again here.
    await insert_new(session, [person])
    await repository.write_match_keys(session, person)
    audit.record(session, actor, AuditAction.CREATE, RECORD_TYPE, person.id, person_id=person.id)
    return person


async def create_person(session: AsyncSession, actor: Principal, data: PersonCreate) -> Person:
    if not access.reads_register(actor):
        # The answer (the record, or the person already holding an NHS number) is read from the register.
        raise AgencyNotPermitted(
            "The person register is kept by childrens_social_care, adult_social_care and council only."
        )
    if data.nhs_number is not None:
        existing = await repository.by_nhs_number(session, data.nhs_number)
        if existing is not None:
            raise AppError(f"Person {existing.id} already has this NHS number.", code="duplicate_person")
    return await _new_person(session, actor, data.model_dump())


async def readable_person(session: AsyncSession, actor: Principal, person_id: uuid.UUID) -> Person:
    """The person, if the caller may see the register; else (or if there is none) 404."""
    person = await repository.get_readable(session, actor, person_id)
    if person is None:
        raise NotFound("person", person_id)
    return person


async def get_person(session: AsyncSession, actor: Principal, person_id: uuid.UUID) -> Person:
    person = await readable_person(session, actor, person_id)
    audit.record(session, actor, AuditAction.READ, RECORD_TYPE, person.id, person_id=person.id)
    return person


async def list_people(
    session: AsyncSession, actor: Principal, params: PageParams, *, nhs_number: str | None = None
) -> tuple[list[Person], str | None]:
    people, next_cursor = await repository.list_people(session, actor, params, nhs_number=nhs_number)
    audit_list(session, actor, people)
    return people, next_cursor


async def update_person(
    session: AsyncSession, actor: Principal, person_id: uuid.UUID, data: PersonUpdate, if_match: str | None
) -> Person:
    person = await readable_person(session, actor, person_id)
    check_if_match(if_match, person.version)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("nhs_number") not in (None, person.nhs_number):
        existing = await repository.by_nhs_number(session, changes["nhs_number"])
        if existing is not None:
            raise AppError(f"Person {existing.id} already has this NHS number.", code="duplicate_person")
    merged_dob = changes.get("date_of_birth", person.date_of_birth)
    merged_expected = changes.get("expected_date_of_birth", person.expected_date_of_birth)
    if (
        "date_of_birth" in changes
        and changes["date_of_birth"] is not None
        and "expected_date_of_birth" not in changes
    ):
        merged_expected = None  # a birth replaces the expected date
    try:
        check_birth_dates(merged_dob, merged_expected)
    except ValueError as exc:
        raise ValidationFailed(["body"], str(exc)) from exc
    for field, value in changes.items():
        setattr(person, field, value)
    person.expected_date_of_birth = merged_expected
    person.updated_at = utcnow()
    await session.flush()
    await repository.write_match_keys(session, person, replace=True)
    audit.record(
        session,
        actor,
        AuditAction.UPDATE,
        RECORD_TYPE,
        person.id,
        person_id=person.id,
        details={"fields": sorted(changes)},
    )
    return person


async def resolve(
    session: AsyncSession,
    actor: Actor,
    identity: Identity,
    fields: dict[str, Any],
    *,
    exclude: Collection[uuid.UUID] = (),
) -> Resolution:
    """Find the person a referral's child is: link when certain, else keep candidates or make a new record.

    ``exclude`` keeps the referral's other children out of each other's candidates (twins!).
    """
    ranked = await _ranked(session, identity, limit=5, exclude=exclude)
    # One certain candidate, clear of every other (a twin or sibling alike in name blocks the link).
    linked = automatic_link(ranked)
    if linked is not None:
        return Resolution(linked, MatchStatus.MATCHED, [])
    if ranked:
        candidates = [
            {"person_id": str(r.key), "score": round(r.match.score, 4), "reasons": list(r.match.reasons)}
            for r in ranked
        ]
        return Resolution(None, MatchStatus.PENDING, candidates)
    person = await create_from_referral(session, actor, fields)
    return Resolution(person.id, MatchStatus.NEW_PERSON, [])


async def create_from_referral(session: AsyncSession, actor: Actor, fields: dict[str, Any]) -> Person:
    """A person record for a child nobody matched, made from what the referral said about them."""
    if fields.get("nhs_number") and await repository.by_nhs_number(session, fields["nhs_number"]):
        # The number belongs to someone this child was not matched to: keep it on the referral only.
        fields = {**fields, "nhs_number": None}
    return await _new_person(session, actor, fields)


async def settle_match(
    session: AsyncSession, actor: Actor, person_id: uuid.UUID | None, fields: dict[str, Any]
) -> tuple[Person, MatchStatus]:
    """A practitioner settles a pending match: the candidate ``person_id`` names (422 if nobody has
    that id), or, with none, a new person record made from ``fields`` (what the record said)."""
    if person_id is None:
        return await create_from_referral(session, actor, fields), MatchStatus.NEW_PERSON
    person = await repository.get(session, person_id)
    if person is None:
        raise ValidationFailed(["body", "person_id"], "No person with this id.")
    return person, MatchStatus.CONFIRMED


def audit_list(session: AsyncSession, actor: Actor, people: list[Person]) -> None:
    audit.record(
        session,
        actor,
        AuditAction.LIST,
        RECORD_TYPE,
        details={"person_ids": [str(p.id) for p in people]},
    )
