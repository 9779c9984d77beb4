"""Queries for people: by id, by NHS number, and candidate lookup through the blocking keys."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.direct import DirectSelect, DirectWrite
from app.core.grouped import ByParent, after_key, one_of
from app.core.pagination import PageParams, paginate
from app.models.base import table_columns, table_of, utcnow
from app.models.person import Person, PersonLink, PersonMatchKey
from app.people import access
from app.people.matching import Identity, PreparedIdentity, blocking_keys, identity_in

# A guard, not a tuning knob: keys pair two pieces of evidence, so real buckets hold a handful of
# people even at a million. Should a bucket ever explode, matching stays bounded.
MAX_CANDIDATES = 1000
# Their rows are written by Core statements: the people and referrals they name are written already.
MATCH_KEYS = table_of(PersonMatchKey)
LINKS = table_of(PersonLink)


def identity_of(person: Person) -> Identity:
    return identity_in({name: getattr(person, name) for name in Identity.__dataclass_fields__})


async def get(session: AsyncSession, person_id: uuid.UUID) -> Person | None:
    """Any person, whoever asks: for the services that match and link (a partner's referral extends
    the register). What a caller is shown goes through ``readable``."""
    return await session.get(Person, person_id)


def readable(principal: Principal) -> sa.Select[Person]:
    """The people ``principal`` may see (``app.people.access``): everyone, or no one."""
    return sa.select(Person).where(access.register_clause(principal))


async def get_readable(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> Person | None:
    return await session.scalar(readable(principal).where(Person.id == person_id))


# Built once, not on each call (a referral's create runs all three): 7-30 us of CPU each to build.
_BY_NHS_NUMBER = sa.select(Person).where(Person.nhs_number == sa.bindparam("nhs_number"))
_INSERT_MATCH_KEYS = DirectWrite(sa.insert(MATCH_KEYS))
_INSERT_LINKS = DirectWrite(sa.insert(LINKS))


async def by_nhs_number(session: AsyncSession, nhs_number: str) -> Person | None:
    return await session.scalar(_BY_NHS_NUMBER, {"nhs_number": nhs_number})


async def list_people(
    session: AsyncSession, principal: Principal, params: PageParams, *, nhs_number: str | None = None
) -> tuple[list[Person], str | None]:
    stmt = readable(principal)
    if nhs_number is not None:
        stmt = stmt.where(Person.nhs_number == nhs_number)
    return await paginate(session, stmt, [Person.created_at, Person.id], params)


async def write_match_keys(session: AsyncSession, person: Person, *, replace: bool = False) -> None:
    if replace:
        await session.execute(sa.delete(PersonMatchKey).where(PersonMatchKey.person_id == person.id))
    keys = blocking_keys(identity_of(person))
    if keys:
        # Core, not the ORM's bulk insert: no flush first (the person is written already), less CPU.
        await _INSERT_MATCH_KEYS.execute(session, [{"key": k, "person_id": person.id} for k in keys])


class Candidate(NamedTuple):
    """A person found by a blocking key: the id, and what matching compares."""

    id: uuid.UUID
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    expected_date_of_birth: date | None
    nhs_number: str | None
    postcode: str | None
    gender: str | None

    @property
    def identity(self) -> Identity:
        return Identity(*self[1:])


if Candidate._fields[1:] != tuple(Identity.__dataclass_fields__):  # Identity(*self[1:]) takes them in order
    raise TypeError("Candidate's fields after the id are Identity's, in its order")


async def candidates(
    session: AsyncSession, identity: Identity | PreparedIdentity, *, exclude: Collection[uuid.UUID] = ()
) -> list[Candidate]:
    """Everyone sharing at least one blocking key with ``identity`` (an index lookup per key)."""
    keys = blocking_keys(identity)
    if not keys:
        return []
    if exclude:
        rows = await _CANDIDATES_EXCLUDING.rows(session, {"keys": sorted(keys), "exclude": list(exclude)})
    else:
        rows = await _CANDIDATES.rows(session, {"keys": sorted(keys)})
    return [Candidate._make(row) for row in rows]


# Built once, run with each search's keys (list parameters): building them cost more CPU than
# running them. Plain rows, read by asyncpg (app.core.direct): up to a thousand people a search, of
# whom a page of the best is loaded as records (``by_ids``).
_CANDIDATE_IDS = sa.select(PersonMatchKey.person_id).where(one_of(PersonMatchKey.key, "keys")).distinct()
_CANDIDATE_COLUMNS = sa.select(*(getattr(Person, name) for name in Candidate._fields))
_CANDIDATES = DirectSelect(_CANDIDATE_COLUMNS.where(Person.id.in_(_CANDIDATE_IDS.limit(MAX_CANDIDATES))))
_CANDIDATES_EXCLUDING = DirectSelect(
    _CANDIDATE_COLUMNS.where(
        Person.id.in_(
            _CANDIDATE_IDS.where(~one_of(PersonMatchKey.person_id, "exclude")).limit(MAX_CANDIDATES)
        )
    )
)
_BY_IDS = sa.select(Person).where(one_of(Person.id, "ids"))


async def by_ids(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Person]:
    """Any of these people, whoever asks (as ``get``), by id."""
    if not ids:
        return {}
    return {person.id: person for person in await session.scalars(_BY_IDS, {"ids": list(ids)})}


class Sibling(NamedTuple):
    """A sibling as a person's record and the hub's view of a referral name them (read-only)."""

    id: uuid.UUID
    given_name: str
    family_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None


# Each person's siblings, eldest first, as ``Sibling``.
_LINK, _PERSON = table_columns(PersonLink), table_columns(Person)
siblings = ByParent[uuid.UUID, Sibling](
    _LINK.person_id,
    sa.select(_LINK.person_id, *(_PERSON[name] for name in Sibling._fields))
    .select_from(table_of(PersonLink).join(table_of(Person), _PERSON.id == _LINK.related_person_id))
    .where(_LINK.relationship == "sibling")
    .order_by(_PERSON.date_of_birth, _PERSON.given_name),
    after_key(Sibling._make),
)


_LINKED = DirectSelect(
    sa.select(PersonLink.person_id, PersonLink.related_person_id).where(
        one_of(PersonLink.person_id, "people"),
        one_of(PersonLink.related_person_id, "people"),
    )
)


async def link_siblings(
    session: AsyncSession, person_ids: Sequence[uuid.UUID], referral_id: uuid.UUID | None
) -> None:
    """Record every pair as siblings (both directions), skipping pairs already linked."""
    unique = list(dict.fromkeys(person_ids))
    pairs = {(a, b) for a in unique for b in unique if a != b}
    if not pairs:
        return
    existing = await _LINKED.rows(session, {"people": unique})
    new = pairs - {(a, b) for a, b in existing}
    if new:
        now = utcnow()
        await _INSERT_LINKS.execute(
            session,
            [
                {
                    "person_id": a,
                    "related_person_id": b,
                    "relationship": "sibling",
                    "source_referral_id": referral_id,
                    "created_at": now,
                }
                for a, b in sorted(new)
            ],
        )
