"""Entries written before migration 20261206_audit_chain still verify after it, in the database, and the
chain carries on from them: their ``details`` text is rewritten to the canonical form their hashes were
computed over all along. PostgreSQL only (SQLite's check is the Python one, which never read that text)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.core import audit
from app.core.config import Settings
from app.core.db import commit, create_engine, create_sessionmaker
from tests.conftest import Databases, make_settings, migrate

pytestmark = pytest.mark.postgres

BEFORE = "20261205_report_indexes"
DETAILS: list[dict[str, Any]] = [
    {"view": "full", "children": 2},
    {"zeta": [1, 2.5, None, True], "alpha": {"b": 'Zoë "O\'Brien" 😀', "a": "tab\tend\n"}},
    {},
]


@pytest.fixture
async def old_url(databases: Databases) -> AsyncIterator[str]:
    url = await databases.empty()
    await migrate(url, BEFORE)
    yield url
    await databases.drop(url)


def _old_entries() -> list[dict[str, Any]]:
    """Chained as the code before the migration chained them (the same canonical form)."""
    rows, prev = [], audit.GENESIS_HASH
    for seq, details in enumerate(DETAILS, 1):
        row = {
            "seq": seq, "id": uuid.uuid4(), "occurred_at": datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=seq),
            "request_id": f"req-{seq}", "actor_sub": "ann@csc", "actor_agency": "childrens_social_care",
            "actor_role": "mash_practitioner", "action": "read", "record_type": "referral",
            "record_id": str(uuid.uuid4()), "person_id": None, "details": details, "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = prev = audit.chain_hash(row)
        rows.append(row)
    return rows


async def test_entries_from_before_the_migration_verify_in_the_database_after_it(old_url: str) -> None:
    rows = _old_entries()
    owner = create_engine(Settings(_env_file=None, database_url=old_url))
    try:
        async with owner.begin() as connection:
            # The text the earlier code stored: json.dumps's defaults (spaces, keys unsorted, \\u escapes).
            await connection.execute(
                sa.text(
                    "INSERT INTO audit_events (seq, id, occurred_at, request_id, actor_sub, actor_agency,"
                    " actor_role, action, record_type, record_id, person_id, details, prev_hash, hash)"
                    " VALUES (:seq, :id, :occurred_at, :request_id, :actor_sub, :actor_agency, :actor_role,"
                    " :action, :record_type, :record_id, :person_id, CAST(:text AS json), :prev_hash, :hash)"
                ),
                [{**row, "text": json.dumps(row["details"])} for row in rows],
            )
            await connection.execute(
                sa.text("UPDATE audit_chain_head SET last_seq = 3, last_hash = :h"), {"h": rows[-1]["hash"]}
            )
        await migrate(old_url)
        async with owner.connect() as connection:
            stored = (
                await connection.execute(sa.text("SELECT details::text FROM audit_events ORDER BY seq"))
            ).scalars()
            assert list(stored) == [audit.canonical_json(d) for d in DETAILS]
    finally:
        await owner.dispose()

    engine = create_engine(make_settings(old_url))
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            result = await audit.verify_chain(session)
        assert (result.valid, result.checked) == (True, 3), result
        async with sessions() as session:  # the chain carries on, chained by the commit trigger
            audit.record(
                session, _Actor(), audit.AuditAction.READ, "referral", uuid.uuid4(), details=DETAILS[1]
            )
            await commit(session)
        async with sessions() as session:
            result = await audit.verify_chain(session)
        assert (result.valid, result.checked) == (True, 4), result
    finally:
        await engine.dispose()


class _Actor:
    sub = "ben@csc"
    agency = "childrens_social_care"
    role = "mash_manager"
