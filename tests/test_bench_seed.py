"""bench/seed_large.py loads with foreign-key triggers off: what it makes must still be a database the
application could have written (every foreign key holds, the audit chain verifies, copies read back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.core.scopes import AgencyCode, Role
from app.people.matching import CANDIDATE_MIN_SCORE, blocking_keys, score
from bench import seed, seed_large, seed_people
from bench.probes import last_complete_year
from tests.fixtures.callers import TokenFactory

pytestmark = pytest.mark.postgres

PARAMS = seed_large.Params(
    referrals=3_000, concerns=600, base_referrals=1_000, base_concerns=200, audit_entries=500, people=100_000
)


async def _broken_foreign_keys(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows whose single-column foreign key names no row, per constraint."""
    constraints = await conn.fetch(
        "SELECT c.conname, c.conrelid::regclass::text AS child, a.attname AS col,"
        " c.confrelid::regclass::text AS parent, p.attname AS pcol FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute p ON p.attrelid = c.confrelid AND p.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND cardinality(c.conkey) = 1"
    )
    broken = {}
    for fk in constraints:
        count = await conn.fetchval(
            f'SELECT count(*) FROM {fk["child"]} x WHERE x."{fk["col"]}" IS NOT NULL AND NOT EXISTS'
            f' (SELECT 1 FROM {fk["parent"]} y WHERE y."{fk["pcol"]}" = x."{fk["col"]}")'
        )
        if count:
            broken[fk["conname"]] = count
    return broken


async def test_the_scaled_database_is_one_the_application_could_have_written(
    database_url: str, client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    summary = await seed_large.seed_large(dsn, PARAMS, lambda _: None)

    rows = summary["rows"]
    assert (rows["referrals"], rows["adult_concerns"], rows["audit_events"]) == (3_000, 600, 500)
    # Every base person is copied for the copies of the cases (three of each), each copy its own match keys.
    assert summary["people_factor"] == 3
    assert rows["people"] == 3 * summary["base_people"]
    conn = await asyncpg.connect(dsn)
    try:
        columns = ", ".join(seed_people.PEOPLE_COLUMNS)
        pairs = await conn.fetch(
            f"SELECT {columns}, (SELECT array_agg(key) FROM person_match_keys k WHERE k.person_id = c.id) AS keys"
            " FROM people c WHERE c.id IN (SELECT md5(id::text || '/' || j)::uuid FROM people"
            " CROSS JOIN generate_series(1, 2) AS j) ORDER BY id LIMIT 300"
        )
        assert len(pairs) == 300
        for row in pairs:
            assert set(row["keys"]) == set(blocking_keys(seed._identity(dict(row))))
        # A person and its copies are different people to person matching, and so are the copies.
        people = {row["id"]: dict(row) for row in await conn.fetch(f"SELECT {columns} FROM people")}
        families = [
            [people[pid] for pid in (person_id, *(seed_people.copy_id(person_id, j) for j in (1, 2)))]
            for person_id in people
            if seed_people.copy_id(person_id, 1) in people
        ]
        assert len(families) == summary["base_people"]
        for family in families:
            for a, b in ((0, 1), (0, 2), (1, 2)):
                alike = score(seed._identity(family[a]), seed._identity(family[b]))
                assert alike.score < CANDIDATE_MIN_SCORE, (family[a], family[b])
        assert await _broken_foreign_keys(conn) == {}
        # The audit chain's unique constraints, dropped while it was loaded, are back.
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = 'audit_events'::regclass AND contype = 'u'"
            )
            == 3
        )  # id, hash, prev_hash
        # A decided copy names its own copy's decision, not the original's.
        assert not await conn.fetchval(
            "SELECT count(*) FROM referrals r JOIN threshold_decisions d ON d.id = r.decision_id"
            " WHERE d.referral_id <> r.id"
        )
        copy, original = await conn.fetchrow(
            "SELECT c.id, r.id FROM referrals r JOIN referrals c ON c.id = md5(r.id::text || '/1')::uuid"
            " WHERE EXISTS (SELECT 1 FROM referral_children WHERE referral_id = r.id AND person_id IS NOT NULL)"
            " LIMIT 1"
        )
        # The work after the decision, copies too: about children the approved decision accepted, a
        # discussion's children (a JSON array of ids) and its enquiries' children those of its referral.
        assert await conn.fetchval("SELECT count(*) FROM assessments") > 0
        assert await conn.fetchval("SELECT count(*) FROM section_47_enquiries") > 0
        assert not await conn.fetchval(
            "SELECT count(*) FROM (SELECT referral_id, child_id FROM assessments UNION ALL"
            " SELECT referral_id, child_id FROM section_47_enquiries) AS w JOIN referrals r ON r.id = w.referral_id"
            " WHERE NOT EXISTS (SELECT 1 FROM threshold_decision_children e WHERE e.decision_id = r.decision_id"
            " AND e.referral_child_id = w.child_id AND e.accepted_as_referral)"
        )
        assert not await conn.fetchval(
            "SELECT count(*) FROM strategy_discussions d, json_array_elements_text(d.child_ids) AS c"
            " WHERE NOT EXISTS (SELECT 1 FROM referral_children rc WHERE rc.id = c::uuid"
            " AND rc.referral_id = d.referral_id)"
        )
        assert not await conn.fetchval(
            "SELECT count(*) FROM section_47_enquiries e JOIN strategy_discussions d"
            " ON d.id = e.strategy_discussion_id WHERE e.referral_id <> d.referral_id"
            " OR NOT (d.child_ids::jsonb ? e.child_id::text)"
        )
    finally:
        await conn.close()

    hub = auth(Role.MASH_PRACTITIONER)
    # A match request for a copied person finds that person, not the original or the other copy.
    origin = min(
        pid
        for pid, person in people.items()
        if person["date_of_birth"] and seed_people.copy_id(pid, 1) in people
    )
    someone = people[seed_people.copy_id(origin, 1)]
    query = {key: str(someone[key]) for key in ("given_name", "family_name", "date_of_birth", "postcode")}
    found = await client.post("/v1/people/matches", json=query, headers=hub)
    assert found.status_code == 200, found.text
    ids = [candidate["person"]["id"] for candidate in found.json()["candidates"]]
    assert str(someone["id"]) in ids
    assert not {str(origin), str(seed_people.copy_id(origin, 2))} & set(ids)
    read = [(await client.get(f"/v1/referrals/{rid}", headers=hub)).json() for rid in (original, copy)]
    # A copy's children are the copies of the original's (bench/seed_people.py), other people.
    copied = [
        c["person_id"] and str(seed_people.copy_id(uuid.UUID(c["person_id"]), 1)) for c in read[0]["children"]
    ]
    assert [c["person_id"] for c in read[1]["children"]] == copied
    assert read[1]["status"] == read[0]["status"]

    auditor = auth(Role.AUDITOR, AgencyCode.CHILDRENS_SOCIAL_CARE)
    verification = (await client.get("/v1/audit-events/verification", headers=auditor)).json()
    assert verification["valid"] is True
    assert verification["checked"] >= 500
    year = last_complete_year(datetime.now(UTC).date())
    sac = await client.get("/v1/reports/sac", params={"year": year}, headers=auditor)
    assert sac.status_code == 200
    period = {"from": f"{year}-04-01", "to": f"{year + 1}-03-31"}
    for path in (
        "/v1/reports/cin-referrals",
        "/v1/reports/cin-referrals/validation",
        "/v1/reports/timeliness",
    ):
        answer = await client.get(path, params=period, headers=auditor)
        assert answer.status_code == 200, (path, answer.text)
