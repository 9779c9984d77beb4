"""The people of the scaled copies (bench/seed_large.py): copy ``j`` of every base person, a distinct identity.

bench/seed_large.py copies each base case ``factor - 1`` times; without this module every copy would be
about the base's people (~100,000 of them, each referred ten times as often). Here every base person gets
``people_factor - 1`` copies, copy ``j`` with the id ``md5(id || '/' || j)`` (as the case copies' ids), and a
case copy ``k`` names person copy ``k % people_factor`` (bench/seed_large.py maps the ``people``
foreign keys so, and gives a referral copy's children the identity of their person copy).

Copy ``j`` of a person is someone else, so that person matching links neither the copies to each other nor
to the original: its family name and given name are other names (chosen by the name and ``j``, from
bench/matching_data.py's lists, no two of which share a phonetic code or a given-name root, never one
sounding like the original, so a household's copy keeps one family name and siblings keep different
given names; "Unborn" stays), its dates of birth are ``j`` days earlier,
its NHS number a new valid, unused one; the postcode, address, gender and ethnicity are kept. Its match
keys are ``app.people.matching.blocking_keys`` of that identity, computed here in Python (as
app.people.repository stores them) and written with binary ``COPY``, one copy at a time, so memory stays
that of one copy of the people. Sibling links are copied in SQL, between the copies of both people.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import cache
from typing import Any

import asyncpg

from app.people.matching import Identity, blocking_keys, nhs_check_digit, prepare
from bench import matching_data, seed

PEOPLE_COLUMNS = seed.TABLES[seed.PEOPLE]
COPY_SHIFT_MINUTES = 37  # as the case copies (bench/seed_large.py)
UNNAMED = "Unborn"  # bench/seed.py's given name of an unborn child: kept

Progress = Callable[[str], None]


def _codes(kind: str, name: str) -> frozenset[str]:
    """The phonetic codes matching files ``name`` under: of each part of a family name, of a given name
    and of its formal roots (Theo: Theo and Theodore)."""
    if kind == "family":
        return frozenset(prepare(Identity(family_name=name)).family_codes)
    return frozenset(prepare(Identity(given_name=name)).given_codes)


def _distinct_codes(kind: str, names: Iterator[str]) -> tuple[tuple[frozenset[str], str], ...]:
    """(codes, name) of names no two of which share a code, sorted: two picks never sound alike."""
    kept: list[tuple[frozenset[str], str]] = []
    used: set[str] = set()
    for name in sorted(set(names)):
        codes = _codes(kind, name)
        if codes and not codes & used:
            kept.append((codes, name))
            used |= codes
    return tuple(kept)


@cache
def name_lists() -> dict[str, tuple[tuple[frozenset[str], str], ...]]:
    groups = matching_data.GROUPS
    stems, endings = matching_data.SURNAME_STEMS, matching_data.SURNAME_ENDINGS
    return {
        "family": _distinct_codes(
            "family",
            iter(
                [name for group in groups for name in group.surnames]
                + [s + e for s in stems for e in endings]
            ),
        ),
        "male": _distinct_codes("male", (name for group in groups for name in group.boys)),
        "female": _distinct_codes("female", (name for group in groups for name in group.girls)),
    }


def copy_id(value: uuid.UUID, j: int) -> uuid.UUID:
    """``md5(id::text || '/' || j)::uuid``, as the SQL of bench/seed_large.py writes it."""
    return uuid.UUID(hashlib.md5(f"{value}/{j}".encode(), usedforsecurity=False).hexdigest())


@cache
def _others(kind: str, value: str) -> tuple[tuple[str, ...], int]:
    """The names of ``kind`` that do not sound like ``value``, and where ``value``'s copies start in them."""
    codes = _codes(kind, value)
    others = tuple(name for other, name in name_lists()[kind] if not other & codes)
    return others, int.from_bytes(
        hashlib.md5(value.lower().encode(), usedforsecurity=False).digest()[:8], "big"
    )


def _pick(kind: str, value: str, j: int) -> str:
    """Copy ``j``'s name for ``value``: another name for each ``j``, never one sounding like ``value``."""
    names, start = _others(kind, value)
    return names[(start + j) % len(names)]


class NhsNumbers:
    """New valid NHS numbers, none used before (bench/matching_data.py's ranges), deterministic."""

    def __init__(self, used: set[str], seed_value: int) -> None:
        self.used = used
        self.rng = random.Random(seed_value)

    def next(self) -> str:
        while True:
            first = str(self.rng.choice((4, 6, 7))) + f"{self.rng.randrange(10**8):08d}"
            check = nhs_check_digit(first)
            if check is not None and (number := f"{first}{check}") not in self.used:
                self.used.add(number)
                return number


def copy_person(row: dict[str, Any], j: int, nhs: NhsNumbers) -> dict[str, Any]:
    """Copy ``j`` of a person row (as a dict of PEOPLE_COLUMNS): another person, as the module says."""
    shift = timedelta(days=j)
    moved = timedelta(minutes=COPY_SHIFT_MINUTES * j)
    given, family = row["given_name"], row["family_name"]
    return {
        **row,
        "id": copy_id(row["id"], j),
        "given_name": given
        if not given or given == UNNAMED
        else _pick("male" if row["gender"] == "male" else "female", given, j),
        "family_name": _pick("family", family, j) if family else family,
        "date_of_birth": row["date_of_birth"] - shift if row["date_of_birth"] else None,
        "expected_date_of_birth": row["expected_date_of_birth"] - shift
        if row["expected_date_of_birth"]
        else None,
        "nhs_number": nhs.next() if row["nhs_number"] else None,
        "created_at": row["created_at"] - moved,
        "updated_at": row["updated_at"] - moved if row["updated_at"] else None,
    }


def match_keys(person: dict[str, Any]) -> list[tuple[str, uuid.UUID]]:
    return [(key, person["id"]) for key in sorted(blocking_keys(seed._identity(person)))]


async def copy_people(
    conns: list[asyncpg.Connection],
    people_factor: int,
    referral_factor: int,
    seed_value: int,
    progress: Progress,
    timings: dict[str, float],
) -> None:
    """Write ``people_factor - 1`` copies of every person in the database, their match keys and the
    copies of their sibling links (the source referral: its copy ``j``, if there is one)."""
    if people_factor <= 1:
        return
    conn = conns[0]
    columns = ", ".join(f'"{name}"' for name in PEOPLE_COLUMNS)
    base = [dict(row) for row in await conn.fetch(f"SELECT {columns} FROM people ORDER BY id")]  # noqa: S608
    nhs = NhsNumbers({row["nhs_number"] for row in base if row["nhs_number"]}, seed_value)
    for j in range(1, people_factor):
        mark = time.perf_counter()
        people = [copy_person(row, j, nhs) for row in base]
        keys = [key for person in people for key in match_keys(person)]
        built = time.perf_counter() - mark
        await asyncio.gather(
            conns[0].copy_records_to_table(
                "people",
                records=[tuple(p[c] for c in PEOPLE_COLUMNS) for p in people],
                columns=PEOPLE_COLUMNS,
            ),
            conns[-1].copy_records_to_table("person_match_keys", records=keys, columns=("key", "person_id")),
        )
        timings["people:build"] = round(timings.get("people:build", 0.0) + built, 1)
        timings["people:copy"] = round(
            timings.get("people:copy", 0.0) + time.perf_counter() - mark - built, 1
        )
        progress(f"  people copy {j}: {len(people):,} people, {len(keys):,} match keys")
    mark = time.perf_counter()
    done = await conn.execute(
        "INSERT INTO person_links (person_id, related_person_id, relationship, source_referral_id, created_at)"
        " SELECT md5(person_id::text || '/' || j)::uuid, md5(related_person_id::text || '/' || j)::uuid,"
        " relationship, CASE WHEN j < $2 THEN md5(source_referral_id::text || '/' || j)::uuid END,"
        " created_at - j * make_interval(mins => $3)"
        " FROM person_links CROSS JOIN generate_series(1, $1 - 1) AS j",
        people_factor,
        referral_factor,
        COPY_SHIFT_MINUTES,
    )
    timings["people:links"] = round(time.perf_counter() - mark, 1)
    progress(f"  copied sibling links: {done.split()[-1]} rows in {timings['people:links']}s")
