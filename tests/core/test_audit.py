"""The audit trail: what is recorded, that the database refuses to change it, and that tampering
with it (by someone able to bypass the triggers) is detected."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from app.core import audit, events
from app.core.audit import AuditAction, verify_chain
from app.core.db import commit, rollback
from app.models.audit import AuditEvent
from app.models.event import CaseEvent
from tests.fixtures.clients import create_client
from tests.fixtures.database import Someone, bypass_audit_triggers, run_sql, write_audit_entries


async def _events(app: FastAPI) -> list[AuditEvent]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq))).all())


async def _verify(app: FastAPI):
    async with app.state.sessionmaker() as session:
        return await verify_chain(session)


async def test_a_write_is_audited_with_who_what_and_the_request(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    response = await client.post(
        "/v1/clients",
        json={"name": "Police", "agency": "police", "role": "partner_referrer"},
        headers={**admin, "X-Request-ID": "req-audit-1"},
    )
    [event] = await _events(app)
    assert (event.actor_sub, event.actor_agency, event.actor_role) == (
        "admin@test",
        "childrens_social_care",
        "admin",
    )
    assert (event.action, event.record_type, event.record_id) == (
        "create",
        "client",
        response.json()["client_id"],
    )
    assert event.request_id == "req-audit-1"
    assert event.details == {"agency": "police", "role": "partner_referrer"}
    assert event.seq == 1 and event.prev_hash == "0" * 64


async def test_a_failed_request_leaves_no_audit_event(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    await client.post(
        "/v1/clients", json={"name": "x", "agency": "police", "role": "mash_manager"}, headers=admin
    )
    assert await _events(app) == []


async def test_the_chain_verifies_after_many_writes(app: FastAPI) -> None:
    for _ in range(5):
        await write_audit_entries(app, 7)
    result = await _verify(app)
    assert result.valid and result.checked == 35


# Text a hash must survive byte for byte: quotes, backslashes, non-ASCII, an emoji, escapes, a newline.
AWKWARD = {
    "note": 'Ann "A" O\'Brien \\ Zoë 😀 \u2028 tab\tend\n',
    "list": [1, 2.5, None, True],
    "nested": {"b": 1, "a": 2},
}


def test_the_hashed_form_is_sorted_compact_utf8_json() -> None:
    # The form every existing chain was hashed in: it must never change, or old entries stop verifying.
    row = {
        "seq": 42, "id": uuid.UUID(int=7), "occurred_at": datetime(2026, 11, 24, 9, 30, 1, 5, tzinfo=UTC),
        "request_id": None, "actor_sub": "ann@police", "actor_agency": "police", "actor_role": "partner_referrer",
        "action": "create", "record_type": "referral", "record_id": "r-1", "person_id": uuid.UUID(int=9),
        "details": AWKWARD, "prev_hash": "ab" * 32,
    }  # fmt: skip
    doc = {
        **row, "id": str(row["id"]), "person_id": str(row["person_id"]),
        "occurred_at": "2026-11-24T09:30:01.000005Z",
    }  # fmt: skip
    expected = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert audit.canonical_bytes(row) == expected
    assert audit.chain_hash(row) == hashlib.sha256(expected).hexdigest()


@pytest.mark.parametrize("entries", [1, 3])  # PostgreSQL stages one entry as scalars, several as arrays
async def test_entries_chained_by_the_database_verify_with_awkward_text(app: FastAPI, entries: int) -> None:
    # On PostgreSQL the commit's trigger computes the hashes from the staged text.
    actor = Someone(sub='Zoë "O\'Brien" 😀')
    async with app.state.sessionmaker() as session:
        for n in range(entries):
            audit.record(session, actor, AuditAction.READ, "referral", f"r-{n}", details=AWKWARD)
        await commit(session)
    await write_audit_entries(app, 2)

    events = await _events(app)
    assert [e.seq for e in events] == list(range(1, entries + 3))
    assert events[0].details == AWKWARD and events[0].actor_sub == actor.sub
    # Each hash is the documented one of the entry's columns, as an independent checker computes it.
    for event in events:
        row = {column.key: getattr(event, column.key) for column in sa.inspect(AuditEvent).columns}
        assert event.hash == audit.chain_hash(row)
    result = await _verify(app)
    assert (result.valid, result.checked) == (True, entries + 2)


async def test_a_rolled_back_transactions_entries_and_events_are_not_written_by_the_next_commit(
    app: FastAPI,
) -> None:
    # A session used again after a rollback (a request's 404 is audited on its rolled-back session):
    # what the rolled-back work queued must not reach the trail or the feed with the next commit.
    undone, kept = uuid.uuid4(), uuid.uuid4()
    async with app.state.sessionmaker() as session:
        audit.record(session, Someone(), AuditAction.UPDATE, "referral", undone)
        events.emit(session, Someone(), "referral", undone, events.EventType.REFERRAL_UPDATED)
        await rollback(session)
        audit.record(session, Someone(), AuditAction.READ, "referral", kept)
        events.emit(session, Someone(), "referral", kept, events.EventType.REFERRAL_UPDATED)
        await commit(session)
    assert [(e.action, e.record_id) for e in await _events(app)] == [("read", str(kept))]
    async with app.state.sessionmaker() as session:
        assert list(await session.scalars(sa.select(CaseEvent.aggregate_id))) == [kept]
    assert (await _verify(app)).valid


async def test_an_empty_chain_verifies(app: FastAPI) -> None:
    result = await _verify(app)
    assert result.valid and result.checked == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'nothing' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "UPDATE audit_chain_head SET last_seq = 0",
        "DELETE FROM audit_chain_head",
    ],
)
async def test_the_database_refuses_to_change_the_trail(app: FastAPI, statement: str) -> None:
    await write_audit_entries(app, 2)
    with pytest.raises(DBAPIError, match=r"append-only|only moves forward"):
        await run_sql(app, statement)
    assert (await _verify(app)).valid


@pytest.mark.postgres
async def test_postgres_refuses_to_truncate_the_trail(app: FastAPI) -> None:
    await write_audit_entries(app, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        await run_sql(app, "TRUNCATE audit_events")


async def test_a_modified_row_is_detected(app: FastAPI) -> None:
    await write_audit_entries(app, 5)
    await bypass_audit_triggers(app)
    await run_sql(app, "UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = 3")
    result = await _verify(app)
    events = await _events(app)
    assert not result.valid
    assert (result.first_invalid_seq, result.first_invalid_id, result.reason) == (
        3,
        events[2].id,
        "hash_mismatch",
    )
    assert result.checked == 2


async def test_a_modified_row_with_a_recomputed_hash_breaks_the_next_link(app: FastAPI) -> None:
    await write_audit_entries(app, 5)
    await bypass_audit_triggers(app)
    third = (await _events(app))[2]
    forged = {c.key: getattr(third, c.key) for c in AuditEvent.__table__.columns} | {"actor_sub": "forger"}
    forged_hash = audit.chain_hash(forged)
    await run_sql(app, f"UPDATE audit_events SET actor_sub = 'forger', hash = '{forged_hash}' WHERE seq = 3")
    result = await _verify(app)
    assert (result.valid, result.first_invalid_seq, result.reason) == (False, 4, "broken_link")


@pytest.mark.parametrize(
    ("deleted", "at", "reason"),
    [
        # The row after the gap is the first invalid one.
        pytest.param("seq = 2", "first_invalid_seq", "missing_row", id="a deleted row"),
        # The rows left verify, but the chain's head points past them.
        pytest.param("seq >= 4", "checked", "head_mismatch", id="a truncated tail"),
    ],
)
async def test_deleted_rows_are_detected(app: FastAPI, deleted: str, at: str, reason: str) -> None:
    await write_audit_entries(app, 5)
    await bypass_audit_triggers(app)
    await run_sql(app, f"DELETE FROM audit_events WHERE {deleted}")
    result = await _verify(app)
    assert (result.valid, getattr(result, at), result.reason) == (False, 3, reason)


async def test_concurrent_writers_extend_one_chain(app: FastAPI) -> None:
    writers = [Someone(sub=f"worker-{i}") for i in range(20)]
    await asyncio.gather(*[write_audit_entries(app, 3, actor) for actor in writers])

    events = await _events(app)
    assert [e.seq for e in events] == list(range(1, 61))
    assert len({e.prev_hash for e in events}) == 60, "no two rows may follow the same predecessor"
    # Each writer's three entries landed together, in one transaction.
    for actor in writers:
        seqs = [e.seq for e in events if e.actor_sub == actor.sub]
        assert seqs == list(range(seqs[0], seqs[0] + 3))
    assert (await _verify(app)).valid


async def test_concurrent_requests_keep_one_chain(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    await asyncio.gather(*[create_client(client, admin) for _ in range(15)])
    result = await _verify(app)
    assert result.valid and result.checked == 15
