"""The audit trail: an append-only, hash-chained record of every read and write of case data.

Callers use ``record()`` while handling a request; entries are queued on the session and written in
one batch just before the transaction commits (``app.core.db.on_commit``). Writing them late keeps
the chain-head lock, which serialises all audit writers, held only for the insert and the commit.

Each row's ``hash`` is the SHA-256 of a canonical JSON serialisation of the row, including the
previous row's hash. ``verify_chain()`` recomputes the chain and reports the first row that does
not match: a modified row (its hash), a deleted row (a gap in ``seq``), or a truncated tail (the
head row disagrees with the last row).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.core.context import current_request_id
from app.core.db import on_commit
from app.core.pagination import PageParams, paginate
from app.models.audit import AuditChainHead, AuditEvent
from app.models.base import utcnow
from app.models.event import CaseEvent

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
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING_KEY, [])
    pending.append(
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
        for entry in session.info.get(_PENDING_KEY, [])
        if entry["action"] == AuditAction.CREATE
    ]


async def lock_chain_head(session: AsyncSession) -> tuple[int, str]:
    """Lock the chain head until this transaction ends and return (last seq, last hash).

    Concurrent writers queue on this row lock, so each extends the chain its predecessor committed
    and the chain cannot fork. The case events take the same lock to number themselves in commit
    order. SQLite already runs one write transaction at a time.
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
    session.info.setdefault(_EVENTS_PENDING_KEY, []).append(event)
    on_commit(session, _CHAIN_HOOK, _flush_pending)


async def _flush_pending(session: AsyncSession) -> None:
    """Write the transaction's audit entries and case events under one hold of the head lock.

    Every other writer queues behind this lock, so the time it is held bounds throughput. On
    PostgreSQL one statement takes it, chains the entries (the database hashes each entry's canonical
    form, prepared here beforehand, around the previous hash and the new ``seq``), inserts them and
    the events and moves the head; the commit follows. The lock is so held from inside the statement
    until its reply has been read and the commit sent: not across the hashing, nor across a second
    round trip.
    """
    pending: list[dict[str, Any]] = session.info.pop(_PENDING_KEY, [])
    events: list[dict[str, Any]] = session.info.pop(_EVENTS_PENDING_KEY, [])
    if not pending and not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        if pending:
            pieces = [_canonical_pieces(entry) for entry in pending]
            params = {
                **_arrays(_AUDIT, pending),
                "audit_before": [before for before, _ in pieces],
                "audit_after": [after for _, after in pieces],
                **_arrays(_EVENTS, events),
            }
            await session.execute(_APPEND, params)
        else:
            await session.execute(_APPEND_EVENTS, _arrays(_EVENTS, events))
        return
    # SQLite runs one write transaction at a time: lock (a no-op there), read, chain here, write.
    seq, prev_hash = await lock_chain_head(session)
    rows = []
    for entry in pending:
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


# PostgreSQL's append statements insert from one array parameter per column (``unnest``): the same
# text for any number of rows, so it is compiled and prepared once, not per request as a multi-row
# VALUES would be.
Columns = list[tuple[str, Any]]  # (name, SQL type) of each column
_CHAINED = ("seq", "prev_hash", "hash")  # known only under the lock: the statement fills them in
_AUDIT = ("audit_events", [(c.name, c.type) for c in AuditEvent.__table__.columns if c.name not in _CHAINED])
_EVENTS = ("case_events", [(c.name, c.type) for c in CaseEvent.__table__.columns if c.name != "seq"])

# The last case event's seq, of all events, read after the head lock was granted: a VOLATILE function
# (migration 20261130_chain_append), so it takes a snapshot of its own when called, which sees what the
# previous lock holder committed; the statement's own snapshot was taken before the lock was granted.
# It looks as the system: row-level security would narrow a plain max(seq) to the caller's own events.
_LAST_EVENT_SEQ = "mash_case_events_last()"


def _unnest(table: str, columns: Columns, *extra: str) -> tuple[str, str, str]:
    """For rows given as one array parameter per column: (the column names, ``unnest(...) WITH
    ORDINALITY AS t(..., n)`` with ``extra`` text arrays as further columns, the values to insert)."""
    dialect = PGDialect()  # type: ignore[no-untyped-call]
    names = ", ".join(name for name, _ in columns)
    arrays = [
        f"CAST(:{table}_{name} AS {'TEXT' if _is_json(kind) else kind.compile(dialect=dialect)}[])"
        for name, kind in columns
    ] + [f"CAST(:{name} AS TEXT[])" for name in extra]
    aliases = ", ".join([names, *extra, "n"])
    picks = ", ".join(f"t.{name}::json" if _is_json(kind) else f"t.{name}" for name, kind in columns)
    return names, f"unnest({', '.join(arrays)}) WITH ORDINALITY AS t({aliases})", picks


def _is_json(kind: Any) -> bool:
    return isinstance(kind, sa.JSON)


def _arrays(spec: tuple[str, Columns], rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    table, columns = spec
    return {
        f"{table}_{name}": [json.dumps(row[name]) if _is_json(kind) else row[name] for row in rows]
        for name, kind in columns
    }


def _append_statements() -> tuple[sa.TextClause, sa.TextClause]:
    # Table and column names come from the models, values only from parameters.
    head = f"head AS (SELECT last_seq, last_hash FROM audit_chain_head WHERE id = {_HEAD_ID} FOR UPDATE)"  # noqa: S608
    event_names, event_rows, event_picks = _unnest(*_EVENTS)
    # Events are numbered on from the last one: last + 1, last + 2, ... in the order they were emitted.
    events = (
        f"last_event AS (SELECT {_LAST_EVENT_SEQ} AS seq FROM head), "  # noqa: S608
        f"new_case_events AS (INSERT INTO case_events (seq, {event_names})"
        f" SELECT last_event.seq + t.n, {event_picks} FROM last_event, {event_rows})"
    )
    audit_names, audit_rows, audit_picks = _unnest(*_AUDIT, "audit_before", "audit_after")
    # Entry n gets seq head + n and, as hash, the SHA-256 of its canonical form: before, the previous
    # entry's hash, after, its seq, "}" (see _canonical_pieces). The recursion chains them in order.
    chain = (
        f"entries AS (SELECT * FROM {audit_rows}), "  # noqa: S608
        "chain (n, seq, hash) AS (SELECT CAST(0 AS BIGINT), last_seq, CAST(last_hash AS TEXT) FROM head"
        " UNION ALL SELECT t.n, c.seq + 1, encode(sha256(convert_to("
        "t.audit_before || c.hash || t.audit_after || CAST(c.seq + 1 AS TEXT) || '}', 'UTF8')), 'hex')"
        " FROM chain c JOIN entries t ON t.n = c.n + 1), "
        f"new_audit_events AS (INSERT INTO audit_events (seq, {audit_names}, prev_hash, hash)"
        f" SELECT c.seq, {audit_picks}, p.hash, c.hash"
        " FROM entries t JOIN chain c ON c.n = t.n JOIN chain p ON p.n = t.n - 1)"
    )
    append = (
        f"WITH RECURSIVE {head}, {chain}, {events} "  # noqa: S608
        "UPDATE audit_chain_head SET last_seq = tail.seq, last_hash = tail.hash"
        " FROM (SELECT seq, hash FROM chain ORDER BY n DESC LIMIT 1) AS tail"
        f" WHERE audit_chain_head.id = {_HEAD_ID}"
    )
    # Events alone (no audit entry) take the same lock and leave the head where it is.
    only_events = f"WITH {head}, {events} SELECT 1"
    return sa.text(append), sa.text(only_events)


_APPEND, _APPEND_EVENTS = _append_statements()


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
    return _json(before)[:-1] + ',"prev_hash":"', '",' + _json(after)[1:-1] + ',"seq":'


def _json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(row: Mapping[Any, Any]) -> bytes:
    """The canonical serialisation that is hashed: sorted keys, no whitespace, UTF-8, UTC times."""
    before, after = _canonical_pieces(row)
    return f"{before}{row['prev_hash']}{after}{int(row['seq'])}}}".encode()


def chain_hash(row: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical_bytes(row)).hexdigest()


# Why a chain does not verify: an entry changed, changed with its hash recomputed (so the next entry
# no longer follows it), deleted, out of order, or the last entries cut off (the head names a later one).
class ChainBreak(StrEnum):
    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    MISSING_ROW = "missing_row"
    OUT_OF_ORDER_ROW = "out_of_order_row"
    HEAD_MISMATCH = "head_mismatch"


@dataclass(frozen=True, slots=True)
class ChainVerification:
    valid: bool
    checked: int
    first_invalid_id: uuid.UUID | None = None
    first_invalid_seq: int | None = None
    reason: ChainBreak | None = None
    head_seq: int | None = None  # the chain's length by its head row, read when the check began


async def verify_chain(session: AsyncSession, *, batch_size: int = 5_000) -> ChainVerification:
    """Recompute the whole chain in order; stop at the first row that does not match.

    Rows are streamed ``batch_size`` at a time, so memory stays bounded however long the chain. Run it
    in a read-only transaction (``app.core.db.begin_read_only``) so that on SQLite a long check does
    not hold the write lock that every other request needs.
    """
    # The head first: every row up to it has committed, so later appends cannot confuse the check.
    head = (
        await session.execute(
            sa.select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(AuditChainHead.id == _HEAD_ID)
        )
    ).one()
    table = AuditEvent.__table__
    stmt = (
        sa.select(table)
        .where(table.c.seq <= head.last_seq)
        .order_by(table.c.seq)
        .execution_options(yield_per=batch_size)
    )
    head_seq = int(head.last_seq)
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    result = await session.stream(stmt)
    async for row in result.mappings():
        if row["seq"] != expected_seq:
            reason = ChainBreak.MISSING_ROW if row["seq"] > expected_seq else ChainBreak.OUT_OF_ORDER_ROW
            return ChainVerification(False, checked, row["id"], row["seq"], reason, head_seq)
        if row["prev_hash"] != prev_hash:
            return ChainVerification(False, checked, row["id"], row["seq"], ChainBreak.BROKEN_LINK, head_seq)
        if chain_hash(row) != row["hash"]:
            return ChainVerification(
                False, checked, row["id"], row["seq"], ChainBreak.HASH_MISMATCH, head_seq
            )
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
        if checked % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # hashing is CPU work: let the worker's other requests run meanwhile
    if checked != head.last_seq or prev_hash != head.last_hash:
        return ChainVerification(False, checked, None, checked + 1, ChainBreak.HEAD_MISMATCH, head_seq)
    return ChainVerification(True, checked, head_seq=head_seq)


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
