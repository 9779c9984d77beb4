"""/v1/people: person records and matching.

Who sees the register is decided once, in ``app.people.access``: the lead agencies and the council;
nobody else finds anyone (404 for a person, empty lists and matches)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import Query

from app.core.concurrency import Conditional, Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import PeopleRead, PeopleWrite, PeopleWriteOnce
from app.core.routing import Router
from app.models.person import Person
from app.people import repository, service
from app.people.matching import Identity
from app.people.schemas import (
    MatchCandidate,
    MatchQuery,
    MatchResult,
    NhsNumber,
    PersonCreate,
    PersonOut,
    PersonRef,
    PersonUpdate,
)

router = Router(prefix="/v1/people", tags=["People"])
NhsNumberFilter = Annotated[NhsNumber | None, Query(description="Only the person with this NHS number.")]
# Said on every operation of the register.
REGISTER = (
    " The register is kept by childrens_social_care, adult_social_care and council: to any other agency "
    "a person is not found (404) and lists and matches are empty, whatever its token's scopes."
)


async def people_out(session: DbSession, people: Sequence[Person]) -> list[PersonOut]:
    """Each person with their siblings, all read in one query whatever the number of people."""
    siblings = await repository.siblings(session, [person.id for person in people])
    out = [PersonOut.model_validate(person) for person in people]
    for shown, person in zip(out, people, strict=True):
        shown.siblings = [PersonRef.model_validate(s) for s in siblings[person.id]]
    return out


async def person_out(session: DbSession, person: Person) -> PersonOut:
    return (await people_out(session, [person]))[0]


@router.post(
    "",
    summary="Record a person",
    responses=problem_responses(403, 409, codes={403: ["agency_not_permitted"], 409: ["duplicate_person"]}),
    description=(
        "Make a person record (a child or an adult) directly; referrals and concerns also make them when a "
        "child or adult is new to the hub. The NHS number is checked (10 digits, mod 11). Only the lead "
        "agencies write the register (`people:write`); a caller of another agency is refused with 403 "
        "`agency_not_permitted`."
    ),
)
async def create_person(
    created: Created, answer: Versioned, principal: PeopleWriteOnce, session: DbSession, body: PersonCreate
) -> PersonOut:
    person = await service.create_person(session, principal, body)
    return created.at(
        f"/v1/people/{person.id}", answer.tagged(person.version, await person_out(session, person))
    )


@router.get(
    "",
    summary="List people",
    description=(
        "The people the hub knows, keyset-paginated (filter by `nhs_number`). Use `POST /v1/people/matches` "
        "to look someone up by their details." + REGISTER
    ),
)
async def list_people(
    principal: PeopleRead, session: DbSession, paging: Paging, nhs_number: NhsNumberFilter = None
) -> Page[PersonOut]:
    people, next_cursor = await service.list_people(session, principal, paging.params, nhs_number=nhs_number)
    return paging.page(await people_out(session, people), next_cursor)


@router.post(
    "/matches",
    summary="Find people who may be this person",
    description=(
        "Looks the identifying details up through indexed blocking keys (NHS number; family or given name "
        "with the date of birth, day and month in either order; postcode district; unborn children by "
        "expected month) and scores each candidate, tolerating typos, swapped day and month, nicknames, "
        "double-barrelled surnames and moves. `certain` candidates are safe to link automatically; "
        "others need a practitioner's judgement. Nothing is created." + REGISTER
    ),
)
async def match_people(principal: PeopleRead, session: DbSession, body: MatchQuery) -> MatchResult:
    identity = Identity(**body.model_dump(exclude={"limit"}))
    ranked = await service.match(session, principal, identity, limit=body.limit)
    people = await people_out(session, [r.person for r in ranked])
    return MatchResult(
        candidates=[
            MatchCandidate(person=person, score=round(r.score, 4), certain=r.certain, reasons=list(r.reasons))
            for person, r in zip(people, ranked, strict=True)
        ]
    )


@router.get(
    "/{person_id}",
    summary="Get a person",
    description=(
        "A person record with the siblings known to the hub. Single-record GETs send an ETag for a later "
        "PATCH." + REGISTER
    ),
)
async def get_person(
    person_id: uuid.UUID, answer: Versioned, principal: PeopleRead, session: DbSession
) -> PersonOut:
    person = await service.get_person(session, principal, person_id)
    return answer.tagged(person.version, await person_out(session, person))


@router.patch(
    "/{person_id}",
    summary="Correct or update a person's details",
    description=(
        "Correct or complete a person's identifying details. Send the ETag of your last GET in `If-Match`: "
        "missing is 428, stale is 412." + REGISTER
    ),
    responses=problem_responses(409, codes={409: ["duplicate_person"]}),
)
async def update_person(
    person_id: uuid.UUID, change: Conditional, principal: PeopleWrite, session: DbSession, body: PersonUpdate
) -> PersonOut:
    person = await service.update_person(session, principal, person_id, body, change.if_match)
    return change.tagged(person.version, await person_out(session, person))
