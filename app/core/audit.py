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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import current_request_id
from app.core.db import on_commit
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
    PostgreSQL it is held for three round trips: lock and read the head, one statement that inserts
    the events and the entries and moves the head, and the commit.
    """
    pending: list[dict[str, Any]] = session.info.pop(_PENDING_KEY, [])
    events: list[dict[str, Any]] = session.info.pop(_EVENTS_PENDING_KEY, [])
    if not pending and not events:
        return
    seq, prev_hash = await lock_chain_head(session)
    rows = []
    for entry in pending:
        seq += 1
        row = {**entry, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = chain_hash(row)
        rows.append(row)
    if session.get_bind().dialect.name == "postgresql":
        # One statement (data-modifying CTEs); its snapshot is taken after the lock was granted, so the
        # last event number it reads is the one the previous lock holder committed.
        if rows:
            params = {
                **_arrays(_AUDIT, rows),
                **_arrays(_EVENTS, events),
                "last_seq": seq,
                "last_hash": prev_hash,
            }
            await session.execute(_APPEND, params)
        else:
            await session.execute(_APPEND_EVENTS, _arrays(_EVENTS, events))
        return
    if events:
        # Here the head lock is held, and SQLite has one writer at a time anyway.
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
_AUDIT = ("audit_events", [(c.name, c.type) for c in AuditEvent.__table__.columns])
_EVENTS = ("case_events", [(c.name, c.type) for c in CaseEvent.__table__.columns if c.name != "seq"])


# The last case event's seq, of all events: row-level security would narrow a plain max(seq) to the
# caller's own events (a STABLE function of migration 20261127_row_security, so it reads the
# statement's snapshot: the one taken after the head lock was granted).
_LAST_EVENT_SEQ = "mash_case_events_head()"


def _unnest_insert(table: str, columns: Columns, *, numbered: bool = False) -> str:
    dialect = PGDialect()  # type: ignore[no-untyped-call]
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(
        f"CAST(:{table}_{name} AS {'TEXT' if _is_json(kind) else kind.compile(dialect=dialect)}[])"
        for name, kind in columns
    )
    picks = ", ".join(f"t.{name}::json" if _is_json(kind) else f"t.{name}" for name, kind in columns)
    # Table and column names come from the models, values only from parameters.
    if not numbered:
        return f"INSERT INTO {table} ({names}) SELECT {picks} FROM unnest({arrays}) AS t({names})"  # noqa: S608
    # Events are numbered on from the last one: last + 1, last + 2, ... in the order they were emitted.
    return (
        f"INSERT INTO {table} (seq, {names}) SELECT last.seq + t.n, {picks} "  # noqa: S608
        f"FROM (SELECT {_LAST_EVENT_SEQ} AS seq) AS last, "
        f"unnest({arrays}) WITH ORDINALITY AS t({names}, n)"
    )


def _is_json(kind: Any) -> bool:
    return isinstance(kind, sa.JSON)


def _arrays(spec: tuple[str, Columns], rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    table, columns = spec
    return {
        f"{table}_{name}": [json.dumps(row[name]) if _is_json(kind) else row[name] for row in rows]
        for name, kind in columns
    }


_APPEND_EVENTS = sa.text(_unnest_insert(*_EVENTS, numbered=True))
_APPEND = sa.text(
    f"WITH new_audit_events AS ({_unnest_insert(*_AUDIT)}), "  # noqa: S608
    f"new_case_events AS ({_unnest_insert(*_EVENTS, numbered=True)}) "
    f"UPDATE audit_chain_head SET last_seq = :last_seq, last_hash = :last_hash WHERE id = {_HEAD_ID}"
)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(row: Mapping[Any, Any]) -> bytes:
    """The canonical serialisation that is hashed: sorted keys, no whitespace, UTF-8, UTC times."""
    doc = {
        "seq": int(row["seq"]),
        "id": str(row["id"]),
        "occurred_at": _timestamp(row["occurred_at"]),
        "request_id": row["request_id"],
        "actor_sub": row["actor_sub"],
        "actor_agency": row["actor_agency"],
        "actor_role": row["actor_role"],
        "action": row["action"],
        "record_type": row["record_type"],
        "record_id": row["record_id"],
        "person_id": None if row["person_id"] is None else str(row["person_id"]),
        "details": row["details"],
        "prev_hash": row["prev_hash"],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def chain_hash(row: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical_bytes(row)).hexdigest()


# Why a chain does not verify: an entry changed, changed with its hash recomputed (so the next entry
# no longer follows it), deleted, out of order, or the last entries cut off (the head names a later one).
ChainBreak = Literal["hash_mismatch", "broken_link", "missing_row", "out_of_order_row", "head_mismatch"]


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
            reason: ChainBreak = "missing_row" if row["seq"] > expected_seq else "out_of_order_row"
            return ChainVerification(False, checked, row["id"], row["seq"], reason, head_seq)
        if row["prev_hash"] != prev_hash:
            return ChainVerification(False, checked, row["id"], row["seq"], "broken_link", head_seq)
        if chain_hash(row) != row["hash"]:
            return ChainVerification(False, checked, row["id"], row["seq"], "hash_mismatch", head_seq)
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
        if checked % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # hashing is CPU work: let the worker's other requests run meanwhile
    if checked != head.last_seq or prev_hash != head.last_hash:
        return ChainVerification(False, checked, None, checked + 1, "head_mismatch", head_seq)
    return ChainVerification(True, checked, head_seq=head_seq)
