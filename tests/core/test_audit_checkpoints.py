"""Signed checkpoints of the audit chain and the checks that start from them: a routine (incremental)
check covers only the entries after the latest checkpoint, the full check everything; altering,
deleting or inserting an entry is caught by both, a forged checkpoint or a rewritten chain too. On
PostgreSQL the checks run in the database and the chain is extended at commit by a deferred trigger."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core import audit
from app.core.audit import AuditAction, ChainVerification, verify_chain, write_checkpoint
from app.core.db import before_commit, commit
from app.core.events import EventType, emit
from app.models.audit import AuditCheckpoint, AuditEvent
from app.models.event import CaseEvent
from tests.fixtures.database import Someone, bypass_audit_triggers, run_sql, write_audit_entries

KEY = b"checkpoint-key-for-tests-only-0123456789"


async def _check(app: FastAPI, *, full: bool, key: bytes = KEY) -> ChainVerification:
    async with app.state.sessionmaker() as session:
        return await verify_chain(session, checkpoint_key=key, incremental=not full)


async def _check_and_sign(app: FastAPI) -> ChainVerification:
    """What `mash audit verify` does: check, and sign the head when the chain holds."""
    async with app.state.sessionmaker() as session:
        result = await verify_chain(session, checkpoint_key=KEY, incremental=True)
        assert result.valid, result
        assert await write_checkpoint(session, KEY, result)
        await commit(session)
        return result


async def _events(app: FastAPI) -> list[AuditEvent]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq))).all())


async def test_a_routine_check_covers_only_the_entries_after_the_latest_checkpoint(app: FastAPI) -> None:
    await write_audit_entries(app, 6)
    first = await _check_and_sign(app)
    assert (first.after_seq, first.checked, first.head_seq) == (0, 6, 6), "no checkpoint yet: all"
    await write_audit_entries(app, 4)

    routine = await _check(app, full=False)
    assert (routine.valid, routine.after_seq, routine.checked, routine.head_seq) == (True, 6, 4, 10)
    full = await _check(app, full=True)
    assert (full.valid, full.after_seq, full.checked) == (True, 0, 10)

    await _check_and_sign(app)
    nothing_new = await _check(app, full=False)
    assert (nothing_new.valid, nothing_new.checked, nothing_new.after_seq) == (True, 0, 10)


async def _forge_insert(app: FastAPI, at: int) -> None:
    """Insert a made-up entry at ``at``: later entries move up one, the head too; the forged entry
    follows its predecessor and has a correct hash of its own."""
    events = await _events(app)
    before = events[at - 2]
    forged = {c.key: getattr(events[at - 1], c.key) for c in AuditEvent.__table__.columns} | {
        "seq": at,
        "id": uuid.uuid4(),
        "actor_sub": "forger",
        "prev_hash": before.hash,
    }
    forged["hash"] = audit.chain_hash(forged)
    details = json.dumps(forged["details"], sort_keys=True, separators=(",", ":"))
    moved = [f"UPDATE audit_events SET seq = seq + 1 WHERE seq = {e.seq}" for e in reversed(events[at - 1 :])]
    await run_sql(
        app,
        *moved,
        # The entry that was at ``at`` follows the forged one (prev_hash is unique: one successor each).
        f"UPDATE audit_events SET prev_hash = '{forged['hash']}' WHERE seq = {at + 1}",
        "INSERT INTO audit_events (seq, id, occurred_at, request_id, actor_sub, actor_agency, actor_role,"
        " action, record_type, record_id, person_id, details, prev_hash, hash) SELECT"
        f" {at}, '{forged['id']}', occurred_at, request_id, 'forger', actor_agency, actor_role, action,"
        f" record_type, record_id, person_id, '{details}', '{forged['prev_hash']}', '{forged['hash']}'"
        f" FROM audit_events WHERE seq = {at + 1}",
        f"UPDATE audit_chain_head SET last_seq = {len(events) + 1}",
    )


TAMPERING = [
    pytest.param("altered", id="an altered entry"),
    pytest.param("deleted", id="a deleted entry"),
    pytest.param("inserted", id="an inserted entry"),
]


@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
@pytest.mark.parametrize("tampering", TAMPERING)
async def test_tampering_after_the_checkpoint_is_detected(app: FastAPI, tampering: str, full: bool) -> None:
    await write_audit_entries(app, 4)
    await _check_and_sign(app)  # checkpoint at 4
    await write_audit_entries(app, 4)  # entries 5..8
    await bypass_audit_triggers(app)
    if tampering == "altered":
        await run_sql(app, "UPDATE audit_events SET record_type = 'person' WHERE seq = 6")
        expected = (6, "hash_mismatch", 5)
    elif tampering == "deleted":
        await run_sql(app, "DELETE FROM audit_events WHERE seq = 6")
        expected = (7, "missing_row", 5)
    else:
        await _forge_insert(app, 6)
        expected = (7, "hash_mismatch", 6)  # the entry that was 6 is now 7: its seq is part of its hash

    result = await _check(app, full=full)
    seq, reason, before = expected
    assert (result.valid, result.first_invalid_seq, result.reason) == (False, seq, reason)
    # The entries before the first invalid one verified: from the first, or from the checkpoint's.
    assert result.checked == (before if full else before - 4)


@pytest.mark.parametrize("tampering", TAMPERING)
async def test_tampering_before_the_checkpoint_is_detected_by_the_full_check(
    app: FastAPI, tampering: str
) -> None:
    await write_audit_entries(app, 6)
    await _check_and_sign(app)  # checkpoint at 6
    await write_audit_entries(app, 2)
    await bypass_audit_triggers(app)
    if tampering == "altered":
        await run_sql(app, "UPDATE audit_events SET action = 'list' WHERE seq = 3")
    elif tampering == "deleted":
        await run_sql(app, "DELETE FROM audit_events WHERE seq = 3")
    else:
        await _forge_insert(app, 3)

    result = await _check(app, full=True)
    assert (result.valid, result.first_invalid_seq) == (False, 4 if tampering != "altered" else 3)
    # The routine check trusts what the checkpoint signed: the entries after it still verify, unless
    # the tampering moved the entry it signed.
    routine = await _check(app, full=False)
    if tampering == "altered":
        assert routine.valid and routine.checked == 2


async def test_a_chain_rewritten_with_valid_hashes_is_caught_by_its_checkpoint(app: FastAPI) -> None:
    await write_audit_entries(app, 5)
    await _check_and_sign(app)  # checkpoint at 5
    await bypass_audit_triggers(app)
    # Someone with owner rights changes entry 2 and recomputes every hash after it, and the head: the
    # chain alone is consistent again.
    events = await _events(app)
    rows = [{c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns} for e in events]
    rows[1]["actor_sub"] = "someone-else"
    statements = []
    for n in range(1, len(rows)):
        rows[n]["prev_hash"] = rows[n - 1]["hash"]
        rows[n]["hash"] = audit.chain_hash(rows[n])
        statements.append(
            f"UPDATE audit_events SET actor_sub = '{rows[n]['actor_sub']}', prev_hash = '{rows[n]['prev_hash']}',"
            f" hash = '{rows[n]['hash']}' WHERE seq = {n + 1}"
        )
    await run_sql(app, *statements, f"UPDATE audit_chain_head SET last_hash = '{rows[-1]['hash']}'")
    async with app.state.sessionmaker() as session:
        assert (await verify_chain(session)).valid, "without the checkpoints nothing is amiss"

    full = await _check(app, full=True)
    assert (full.valid, full.first_invalid_seq, full.reason) == (False, 5, "bad_checkpoint")
    routine = await _check(app, full=False)
    assert (routine.valid, routine.first_invalid_seq, routine.reason) == (False, 5, "bad_checkpoint")


@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
async def test_a_forged_checkpoint_is_detected(app: FastAPI, full: bool) -> None:
    await write_audit_entries(app, 3)
    await _check_and_sign(app)
    await write_audit_entries(app, 3)
    await run_sql(app, "UPDATE audit_checkpoints SET signature = '" + "0" * 64 + "' WHERE seq = 3")

    result = await _check(app, full=full)
    assert (result.valid, result.first_invalid_seq, result.reason) == (False, 3, "bad_checkpoint")


async def test_a_checkpoint_signed_with_another_key_does_not_verify(app: FastAPI) -> None:
    await write_audit_entries(app, 2)
    await _check_and_sign(app)
    result = await _check(app, full=False, key=b"another-key-another-key-another-key!")
    assert (result.valid, result.reason) == (False, "bad_checkpoint")


async def test_a_checkpoint_is_signed_only_once_per_head(app: FastAPI) -> None:
    await write_audit_entries(app, 2)
    await _check_and_sign(app)
    async with app.state.sessionmaker() as session:
        result = await verify_chain(session, checkpoint_key=KEY, incremental=True)
        assert not await write_checkpoint(session, KEY, result)
        assert [c.seq for c in (await session.scalars(sa.select(AuditCheckpoint))).all()] == [2]


@pytest.mark.postgres
async def test_concurrent_writers_chain_at_commit_without_forks(app: FastAPI) -> None:
    # Each transaction writes audit entries and case events; they are numbered and chained at commit.
    async def write(n: int) -> None:
        actor = Someone(sub=f"writer-{n}")
        async with app.state.sessionmaker() as session:
            for _ in range(2):
                audit.record(session, actor, AuditAction.UPDATE, "referral", uuid.uuid4())
            emit(session, actor, "referral", uuid.uuid4(), EventType.REFERRAL_RECEIVED)
            await commit(session)

    await asyncio.gather(*[write(n) for n in range(20)])

    events = await _events(app)
    assert [e.seq for e in events] == list(range(1, 41))
    assert len({e.prev_hash for e in events}) == 40, "each entry's predecessor is its own"
    assert all(events[n].prev_hash == events[n - 1].hash for n in range(1, 40))
    for n in range(20):
        seqs = [e.seq for e in events if e.actor_sub == f"writer-{n}"]
        assert seqs == [seqs[0], seqs[0] + 1], "a transaction's entries are chained together"
    async with app.state.sessionmaker() as session:
        case_seqs = list((await session.scalars(sa.select(CaseEvent.seq).order_by(CaseEvent.seq))).all())
        staged = await session.scalar(sa.text("SELECT count(*) FROM audit_pending"))
    assert case_seqs == list(range(1, 21)), "case events numbered in commit order, no gaps"
    assert staged == 0
    assert (await _check(app, full=True)).valid


@pytest.mark.postgres
async def test_an_open_transaction_with_audit_entries_holds_up_no_other_writer(app: FastAPI) -> None:
    # The head is locked only inside COMMIT: a transaction that has written its entries and then waits
    # (for its client, say) does not stop another from committing.
    async with app.state.sessionmaker() as waiting:
        audit.record(waiting, Someone(sub="slow"), AuditAction.READ, "referral", uuid.uuid4())
        await before_commit(waiting)  # what commit() does first: the entries are written
        await asyncio.wait_for(write_audit_entries(app, 1, Someone(sub="quick")), timeout=30)
        await waiting.commit()
    events = await _events(app)
    assert [(e.seq, e.actor_sub) for e in events] == [(1, "quick"), (2, "slow")]
    assert (await _check(app, full=True)).valid


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE audit_events SET action = 'list' WHERE seq = 7", (7, "hash_mismatch", 6)),
        ("DELETE FROM audit_events WHERE seq = 6", (7, "missing_row", 5)),  # the last of a chunk
        ("DELETE FROM audit_events WHERE seq IN (4, 5, 6, 7)", (8, "missing_row", 3)),  # across chunks
        ("DELETE FROM audit_events WHERE seq >= 6", (6, "head_mismatch", 5)),  # the tail, across chunks
    ],
)
async def test_the_database_checks_a_long_chain_a_chunk_at_a_time(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, statement: str, expected: tuple[int, str, int]
) -> None:
    monkeypatch.setattr(audit, "_CHUNK", 3)
    await write_audit_entries(app, 10)
    assert (await _check(app, full=True)).valid
    await bypass_audit_triggers(app)
    await run_sql(app, statement)
    result = await _check(app, full=True)
    assert (result.first_invalid_seq, result.reason, result.checked) == expected


@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
async def test_a_tail_cut_off_with_the_head_moved_back_is_caught_by_the_checkpoint(
    app: FastAPI, full: bool
) -> None:
    await write_audit_entries(app, 4)
    await _check_and_sign(app)  # checkpoint at 4
    second = (await _events(app))[1]
    await bypass_audit_triggers(app)
    await run_sql(
        app,
        "DELETE FROM audit_events WHERE seq >= 3",
        f"UPDATE audit_chain_head SET last_seq = 2, last_hash = '{second.hash}'",
    )
    async with app.state.sessionmaker() as session:
        assert (await verify_chain(session)).valid, "the chain alone looks whole"
    result = await _check(app, full=full)
    assert (result.valid, result.first_invalid_seq, result.reason) == (False, 4, "bad_checkpoint")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "awkward",
    ['a "quote"', "a back\\slash", "a tab\tand a newline\n", "a \x7f delete", "Zoë 😀 \u2028", "plain"],
)
async def test_the_database_hashes_text_fields_as_python_does(app: FastAPI, awkward: str) -> None:
    # Text that needs escaping takes to_json(); other text is only quoted: both as json.dumps writes it.
    async with app.state.sessionmaker() as session:
        audit.record(session, Someone(sub=awkward), AuditAction.READ, "referral", awkward[:60])
        audit.record(session, Someone(), AuditAction.READ, "referral", "r-1")
        await commit(session)
    events = await _events(app)
    assert [e.hash for e in events] == [
        audit.chain_hash({c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns}) for e in events
    ], "chained in the database as chain_hash hashes"
    assert (await _check(app, full=True)).valid
