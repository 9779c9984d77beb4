"""The audit trail: an append-only, hash-chained record of every read and write of case data.

Callers use ``record()`` while handling a request; entries are queued on the session and written in
one batch just before the transaction commits (``app.core.db.on_commit``). On PostgreSQL they are only
staged then (``app.core.insert_at_commit``, with whatever else the transaction inserts last): the
COMMIT itself chains them, in a deferred trigger that takes the chain-head lock, so the lock that
serialises all audit writers is held inside the server for the commit alone, never across a round
trip to a client. SQLite (one writer at a time) chains them here.

Each row's ``hash`` is the SHA-256 of a canonical JSON serialisation of the row, including the
previous row's hash; the database computes the same (``mash_audit_hash``). ``verify_chain()`` reports
the first row that does not match: a modified row (its hash), a row modified with its hash recomputed
(the next row's link), a deleted row (a gap in ``seq``), or a truncated tail (the head row disagrees
with the last row). On PostgreSQL it checks set-based in the database. Signed checkpoints
(``write_checkpoint``, HMAC-SHA256) let a routine check start from the latest one, and let the full
check catch a chain rewritten, hashes and all, before a checkpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.core.context import current_request_id
from app.core.db import on_commit, pending
from app.core.insert_at_commit import InsertAtCommit
from app.core.pagination import PageParams, paginate
from app.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent, AuditPending
from app.models.base import table_of, utcnow
from app.models.event import CaseEvent, CaseEventPending

GENESIS_HASH = "0" * 64
_PENDING_KEY = "mash.audit_pending"
_EVENTS_PENDING_KEY = "mash.events_pending"
_CHAIN_HOOK = "audit_chain"
_HEAD_ID = 1
_YIELD_EVERY = 50


class AuditAction(StrEnum):
    CREATE = "create"
    READ = "read"
    LIST = "list"
    UPDATE = "update"
    REVOKE = "revoke"
    ISSUE_TOKEN = "issue_token"
    EXPORT = "export"
    SEARCH = "search"
    VERIFY = "verify"
    # A record id asked for and answered 404: it does not exist or the caller may not see it.
    NOT_FOUND = "not_found"


class Actor(Protocol):
    @property
    def sub(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def role(self) -> str: ...


def record(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    record_type: str,
    record_id: uuid.UUID | str | None = None,
    *,
    person_id: uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Queue an audit entry for this session's transaction. ``details`` must hold no personal data."""
    pending(session).setdefault(_PENDING_KEY, []).append(
        {
            "id": uuid.uuid4(),
            "occurred_at": utcnow(),
            "request_id": current_request_id(),
            "actor_sub": actor.sub,
            "actor_agency": actor.agency,
            "actor_role": actor.role,
            "action": str(action),
            "record_type": record_type,
            "record_id": None if record_id is None else str(record_id),
            "person_id": person_id,
            "details": dict(details or {}),
        }
    )
    on_commit(session, _CHAIN_HOOK, _flush_pending)


def record_list(
    session: AsyncSession,
    actor: Actor,
    record_type: str,
    ids_key: str,
    ids: Iterable[uuid.UUID],
    person_ids: Iterable[uuid.UUID | None],
) -> None:
    """Queue the entry for a page of records listed: their ids, in the page's order, under
    ``ids_key``, and the people they concern, sorted and once each."""
    record(
        session,
        actor,
        AuditAction.LIST,
        record_type,
        details={
            ids_key: [str(i) for i in ids],
            "person_ids": sorted({str(p) for p in person_ids if p is not None}),
        },
    )


def created_records(session: AsyncSession) -> list[dict[str, str | None]]:
    """What this session's transaction has created so far, by its queued ``create`` entries."""
    return [
        {
            "record_type": entry["record_type"],
            "record_id": entry["record_id"],
            "person_id": None if entry["person_id"] is None else str(entry["person_id"]),
        }
        for entry in pending(session).get(_PENDING_KEY, [])
        if entry["action"] == AuditAction.CREATE
    ]


async def lock_chain_head(session: AsyncSession) -> tuple[int, str]:
    """Lock the chain head until this transaction ends and return (last seq, last hash).

    Concurrent writers queue on this row lock, so each extends the chain its predecessor committed
    and the chain cannot fork. The case events take the same lock to number themselves in commit
    order. SQLite already runs one write transaction at a time. (PostgreSQL's commit trigger,
    migration ``20261206_audit_chain``, takes the same lock in the database.)
    """
    head = (
        await session.execute(
            sa.select(AuditChainHead.last_seq, AuditChainHead.last_hash)
            .where(AuditChainHead.id == _HEAD_ID)
            .with_for_update()
        )
    ).one()
    return int(head.last_seq), str(head.last_hash)


def queue_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Queue a case event row (without its ``seq``) for this session's transaction."""
    pending(session).setdefault(_EVENTS_PENDING_KEY, []).append(event)
    on_commit(session, _CHAIN_HOOK, _flush_pending)


async def _flush_pending(session: AsyncSession) -> None:
    """Write the transaction's audit entries and case events.

    On PostgreSQL they are staged (``audit_pending``, ``case_events_pending``) by the transaction's last
    statement, taking no lock (``app.core.insert_at_commit``); the COMMIT that follows runs the
    deferred trigger of migration ``20261206_audit_chain``, which takes the head lock, numbers the
    events, chains the entries (hashing each in the database, as ``chain_hash`` does here) and moves
    the head: the lock is held only inside the commit, never across a round trip to this process. SQLite runs one write transaction at a time: the chain is
    extended here.
    """
    entries: list[dict[str, Any]] = pending(session).pop(_PENDING_KEY, [])
    events: list[dict[str, Any]] = pending(session).pop(_EVENTS_PENDING_KEY, [])
    if not entries and not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        if entries:
            STAGED_ENTRIES.add(session, entries)
        if events:
            STAGED_EVENTS.add(session, events)
        return
    seq, prev_hash = await lock_chain_head(session)
    rows = []
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = chain_hash(row)
        rows.append(row)
    if events:
        last = int(await session.scalar(sa.select(sa.func.coalesce(sa.func.max(CaseEvent.seq), 0))) or 0)
        await session.execute(sa.insert(CaseEvent), [{**e, "seq": last + n} for n, e in enumerate(events, 1)])
    if rows:
        await session.execute(sa.insert(AuditEvent), rows)
        await session.execute(
            sa.update(AuditChainHead)
            .where(AuditChainHead.id == _HEAD_ID)
            .values(last_seq=seq, last_hash=prev_hash)
        )


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_pieces(row: Mapping[Any, Any]) -> tuple[str, str]:
    """The canonical serialisation of an entry around the two values known only under the head lock:
    it is ``before + prev_hash + after + str(seq) + "}"`` (sorted keys: those before "prev_hash", then
    "record_id", "record_type", "request_id", then "seq")."""
    before = {
        "action": row["action"],
        "actor_agency": row["actor_agency"],
        "actor_role": row["actor_role"],
        "actor_sub": row["actor_sub"],
        "details": row["details"],
        "id": str(row["id"]),
        "occurred_at": _timestamp(row["occurred_at"]),
        "person_id": None if row["person_id"] is None else str(row["person_id"]),
    }
    after = {
        "record_id": row["record_id"],
        "record_type": row["record_type"],
        "request_id": row["request_id"],
    }
    return canonical_json(before)[:-1] + ',"prev_hash":"', '",' + canonical_json(after)[1:-1] + ',"seq":'


def canonical_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# PostgreSQL's staging tables. An audit entry's details go in as their canonical text, which the json
# column keeps verbatim: the database hashes that text (``mash_audit_hash``), as ``canonical_bytes``
# does here. ``pos``, an identity, numbers the rows in the order they were recorded.
STAGED_ENTRIES = InsertAtCommit(AuditPending, skip=("pos",), json_text=canonical_json)
STAGED_EVENTS = InsertAtCommit(CaseEventPending, skip=("pos",))


def canonical_bytes(row: Mapping[Any, Any]) -> bytes:
    """The canonical serialisation that is hashed: sorted keys, no whitespace, UTF-8, UTC times."""
    before, after = _canonical_pieces(row)
    return f"{before}{row['prev_hash']}{after}{int(row['seq'])}}}".encode()


def chain_hash(row: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical_bytes(row)).hexdigest()


# Why a chain does not verify: an entry changed, changed with its hash recomputed (so the next entry
# no longer follows it), deleted, out of order, the last entries cut off (the head names a later one),
# or a checkpoint whose signature, or whose entry's hash, no longer matches.
class ChainBreak(StrEnum):
    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    MISSING_ROW = "missing_row"
    OUT_OF_ORDER_ROW = "out_of_order_row"
    HEAD_MISMATCH = "head_mismatch"
    BAD_CHECKPOINT = "bad_checkpoint"


@dataclass(frozen=True, slots=True)
class ChainVerification:
    valid: bool
    checked: int
    first_invalid_id: uuid.UUID | None = None
    first_invalid_seq: int | None = None
    reason: ChainBreak | None = None
    head_seq: int | None = None  # the chain's length by its head row, read when the check began
    after_seq: int = 0  # the entries checked were those after this one (a checkpoint's), up to the head
    head_hash: str | None = None


@dataclass(frozen=True, slots=True)
class _Range:
    after_seq: int  # check the entries after this one ...
    start_hash: str  # ... whose hash this is ...
    head_seq: int  # ... up to the head
    head_hash: str


async def verify_chain(
    session: AsyncSession,
    *,
    batch_size: int = 5_000,
    checkpoint_key: bytes | None = None,
    incremental: bool = False,
) -> ChainVerification:
    """Check the chain up to its head; report the first entry that does not match.

    Full (the default): every entry from the first, and, given ``checkpoint_key``, every checkpoint
    (its signature, and that its entry still has the hash it signed). ``incremental`` (needs the key):
    only the entries after the latest checkpoint, whose signature is checked first.

    PostgreSQL checks in the database, set-based (each entry's hash against its own columns, each
    entry's ``prev_hash`` against its predecessor's ``hash``, no gaps, the head), in parallel workers.
    SQLite recomputes the entries in order here, ``batch_size`` rows at a time, so memory stays bounded
    however long the chain. Run it in a read-only transaction (``app.core.db.begin_read_only``) so
    that on SQLite a long check does not hold the write lock that every other request needs.
    """
    latest: AuditCheckpoint | None = None
    if incremental:
        if checkpoint_key is None:
            raise ValueError("an incremental check needs the checkpoint key")
        # Before the head: a checkpoint signed meanwhile, at a later head, is not taken for a forged one.
        latest = (
            await session.execute(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))
        ).scalar_one_or_none()
    # Then the head: every entry up to it has committed, so later appends cannot confuse the check.
    head = (
        await session.execute(
            sa.select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(AuditChainHead.id == _HEAD_ID)
        )
    ).one()
    span = _Range(0, GENESIS_HASH, int(head.last_seq), str(head.last_hash))
    bad_checkpoint: int | None = None  # the first checkpoint that fails, in a full check
    if latest is not None and checkpoint_key is not None:
        # A checkpoint past the head: the head was moved back (its trigger bypassed), the tail cut off.
        if latest.seq > span.head_seq or await _bad_checkpoints(session, checkpoint_key, [latest]):
            return _broken(span, 0, None, latest.seq, ChainBreak.BAD_CHECKPOINT)
        span = _Range(latest.seq, latest.hash, span.head_seq, span.head_hash)
    elif checkpoint_key is not None and not incremental:
        checkpoints = (await session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq))).all()
        bad_checkpoint = next(iter(await _bad_checkpoints(session, checkpoint_key, checkpoints)), None)
    if session.get_bind().dialect.name == "postgresql":
        result = await _verify_in_database(session, span)
    else:
        result = await _verify_here(session, span, batch_size)
    if bad_checkpoint is not None and (result.first_invalid_seq or bad_checkpoint + 1) > bad_checkpoint:
        # The entries up to it verify, yet it no longer matches: its entry was rewritten, chain and
        # all, since it was signed, or the checkpoint itself was forged.
        entry_id = await _id_at(session, bad_checkpoint)
        return _broken(span, bad_checkpoint - 1, entry_id, bad_checkpoint, ChainBreak.BAD_CHECKPOINT)
    return result


async def _bad_checkpoints(
    session: AsyncSession, key: bytes, checkpoints: Sequence[AuditCheckpoint]
) -> list[int]:
    """The seqs of the checkpoints whose signature does not verify, or whose entry's hash is not the
    one signed, in order."""
    if not checkpoints:
        return []
    signed = sa.select(AuditEvent.seq, AuditEvent.hash).where(
        AuditEvent.seq.in_([c.seq for c in checkpoints])
    )
    hashes = {row.seq: row.hash for row in await session.execute(signed)}
    return [
        c.seq
        for c in checkpoints
        if not hmac.compare_digest(c.signature, checkpoint_signature(key, c.seq, c.hash, c.signed_at))
        or hashes.get(c.seq) != c.hash
    ]


async def _id_at(session: AsyncSession, seq: int) -> uuid.UUID | None:
    return await session.scalar(sa.select(AuditEvent.id).where(AuditEvent.seq == seq))


def checkpoint_signature(key: bytes, seq: int, entry_hash: str, signed_at: datetime) -> str:
    """HMAC-SHA256 over what a checkpoint asserts: entry ``seq`` had ``entry_hash`` at ``signed_at``."""
    message = f"mash-audit-checkpoint:{int(seq)}:{entry_hash}:{_timestamp(signed_at)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def write_checkpoint(session: AsyncSession, key: bytes, result: ChainVerification) -> bool:
    """After a valid check, sign its head as a checkpoint (unless one is already there). In the
    session's current transaction; the caller commits."""
    if not result.valid or not result.head_seq or result.head_hash is None:
        return False
    if await session.get(AuditCheckpoint, result.head_seq) is not None:
        return False
    signed_at = utcnow()
    session.add(
        AuditCheckpoint(
            seq=result.head_seq,
            hash=result.head_hash,
            signed_at=signed_at,
            signature=checkpoint_signature(key, result.head_seq, result.head_hash, signed_at),
        )
    )
    await session.flush()
    return True


def _hash_sql(alias: str) -> str:
    columns = (
        "seq, prev_hash, id, occurred_at, request_id, actor_sub, actor_agency, actor_role, action,"
        " record_type, record_id, person_id, details"
    )
    return f"mash_audit_hash({', '.join(f'{alias}.{c.strip()}' for c in columns.split(','))})"


# Row-local, so PostgreSQL spreads it over parallel workers: how many entries, and the first whose
# hash is not that of its own columns.
_HASHES = sa.text(
    f"SELECT count(*) AS n, min(e.seq) FILTER (WHERE e.hash IS DISTINCT FROM {_hash_sql('e')}) AS bad"  # noqa: S608
    " FROM audit_events e WHERE e.seq > :after AND e.seq <= :head"
)
# Each entry follows its predecessor (the first, the checkpoint's or genesis hash): one ordered pass over
# the primary key, cheaper in CPU than joining the chunk to itself (a parallel hash join).
_LINKS = sa.text(
    "SELECT min(seq) FROM (SELECT seq, prev_hash, lag(hash, 1, CAST(:start AS varchar)) OVER (ORDER BY seq)"
    " AS before FROM audit_events WHERE seq > :after AND seq <= :head) AS e WHERE prev_hash IS DISTINCT FROM before"
)
# The first entry whose predecessor is missing (only asked when some are), after the first checked.
_GAPS = sa.text(
    "SELECT min(e.seq) FROM audit_events e WHERE e.seq > :after AND e.seq > :first + 1 AND e.seq <= :head"
    " AND NOT EXISTS (SELECT 1 FROM audit_events p WHERE p.seq = e.seq - 1)"
)

_CHUNK = 1_000_000
_WORK_MEM = "64MB"
_BEFORE = sa.text("SELECT count(*) FROM audit_events WHERE seq > :after AND seq < :seq")


async def _verify_in_database(session: AsyncSession, span: _Range, chunk: int = _CHUNK) -> ChainVerification:
    """The set-based check, ``chunk`` entries at a time (each chunk's join fits in memory)."""
    # The link check joins each entry to its predecessor in a (parallel) hash table of the chunk.
    await session.execute(sa.text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    counted = 0
    for after in range(span.after_seq, span.head_seq, chunk):
        bounds = {"after": after, "head": min(after + chunk, span.head_seq), "first": span.after_seq}
        row = (await session.execute(_HASHES, bounds)).one()
        count, bad_hash = int(row.n), row.bad
        start = span.start_hash if after == span.after_seq else await _hash_at(session, after)
        bad_link = await session.scalar(_LINKS, {**bounds, "start": start})
        gap = await session.scalar(_GAPS, bounds) if count != bounds["head"] - after else None
        found = [(seq, reason) for seq, reason in (
            (gap, ChainBreak.MISSING_ROW), (bad_link, ChainBreak.BROKEN_LINK), (bad_hash, ChainBreak.HASH_MISMATCH)
        ) if seq is not None]  # fmt: skip
        if found:
            # The first entry that fails, and of its failures, the first the in-order check would report.
            seq = min(seq for seq, _ in found)
            reason = next(reason for at, reason in found if at == seq)
            before = int(await session.scalar(_BEFORE, {"after": span.after_seq, "seq": seq}) or 0)
            return _broken(span, before, await _id_at(session, seq), seq, reason)
        counted += count  # fewer than the chunk's: its last entries are missing (the next chunk, or the tail)
    last_hash = span.start_hash if counted == 0 else await _hash_at(session, span.after_seq + counted)
    return _ending(span, counted, last_hash)


async def _hash_at(session: AsyncSession, seq: int) -> str | None:
    return await session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == seq))


def _broken(
    span: _Range, checked: int, entry_id: uuid.UUID | None, seq: int, reason: ChainBreak
) -> ChainVerification:
    return ChainVerification(False, checked, entry_id, seq, reason, span.head_seq, span.after_seq)


def _ending(span: _Range, checked: int, last_hash: str | None) -> ChainVerification:
    """The entries checked all verify: does the chain end where its head says?"""
    if checked != span.head_seq - span.after_seq or last_hash != span.head_hash:
        seq = span.after_seq + checked + 1
        return _broken(span, checked, None, seq, ChainBreak.HEAD_MISMATCH)
    return ChainVerification(True, checked, None, None, None, span.head_seq, span.after_seq, span.head_hash)


async def _verify_here(session: AsyncSession, span: _Range, batch_size: int) -> ChainVerification:
    """Recompute the entries in order, streamed ``batch_size`` rows at a time."""
    table = table_of(AuditEvent)
    stmt = (
        sa.select(table)
        .where(table.c.seq > span.after_seq, table.c.seq <= span.head_seq)
        .order_by(table.c.seq)
        .execution_options(yield_per=batch_size)
    )
    expected_seq, prev_hash, checked = span.after_seq + 1, span.start_hash, 0
    result = await session.stream(stmt)
    async for row in result.mappings():
        if row["seq"] != expected_seq:
            reason = ChainBreak.MISSING_ROW if row["seq"] > expected_seq else ChainBreak.OUT_OF_ORDER_ROW
            return _broken(span, checked, row["id"], row["seq"], reason)
        if row["prev_hash"] != prev_hash:
            return _broken(span, checked, row["id"], row["seq"], ChainBreak.BROKEN_LINK)
        if chain_hash(row) != row["hash"]:
            return _broken(span, checked, row["id"], row["seq"], ChainBreak.HASH_MISMATCH)
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
        if checked % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # hashing is CPU work: let the worker's other requests run meanwhile
    return _ending(span, checked, prev_hash)


async def audited_page(
    session: AsyncSession,
    actor: Actor,
    stmt: sa.Select[Any],
    keys: Sequence[QueryableAttribute[Any]],
    params: PageParams,
    record_type: str,
    ids_key: str,
) -> tuple[list[Any], str | None]:
    """A page of records about people (each with ``id`` and ``person_id``), newest first by ``keys``, and
    the list's audit entry naming them: the one way a list of case records is read and audited."""
    found, next_cursor = await paginate(session, stmt, keys, params)
    record_list(session, actor, record_type, ids_key, (r.id for r in found), (r.person_id for r in found))
    return found, next_cursor
