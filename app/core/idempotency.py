"""``Idempotency-Key`` for create operations, as the contract sets it out.

- same key, same caller, same operation, same request → the stored original response, with
  ``Idempotent-Replayed: true``, audited as a read of what it created;
- same key, caller and operation, different body or path → 422 ``idempotency_key_reused``;
- same key while the first request is still running → 409 ``idempotency_key_in_progress``.

A key belongs to one caller (agency, role and ``sub`` together: the same ``sub`` may be an auditor in
one token and an administrator in another) and one operation (method and path template), and it is
looked at only once the route has authorised its caller: ``idempotent(requires(...))`` is the route's
principal, so the scope check runs first and a caller without the scope gets 403, never a replay.

How: the key is claimed inside the request's own transaction. On PostgreSQL a transaction-scoped
advisory lock on (caller, operation, key) is taken without waiting, so a concurrent duplicate gets
409 at once, and the lock vanishes with the transaction (commit, rollback or a crashed process: no
stale claims). SQLite runs one write transaction at a time, so a duplicate simply waits and then
replays. The response is stored by the route wrapper in the same transaction as the record it
describes; a failed request stores nothing, so the caller may retry it with the same key.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, NamedTuple, NoReturn

import sqlalchemy as sa
from fastapi import Depends, Header, Request, Response, params
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.auth import Principal
from app.core.context import RequestContext
from app.core.db import DbSession
from app.core.direct import DirectSelect
from app.core.errors import AppError
from app.core.insert_at_commit import InsertAtCommit
from app.models.base import table_columns, utcnow
from app.models.idempotency import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("content-type", "location", "etag")
KEY_DESCRIPTION = (
    "A unique string (at most 255 characters) chosen by the client for this create request. "
    "Retrying with the same key, as the same caller (agency, role and subject) and with the same body, "
    "returns the original response (header `Idempotent-Replayed: true`) instead of creating a second "
    "record. A key belongs to one caller and one operation. Keys are kept for at least {hours} hours."
)
KeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description=KEY_DESCRIPTION.format(hours=24),
    ),
]


@dataclass(frozen=True, slots=True)
class Caller:
    agency: str
    role: str
    sub: str
    operation: str

    @classmethod
    def of(cls, principal: Principal, request: Request, partition: str | None = None) -> Caller:
        """``partition`` narrows a caller that many people share (the public, ``app.public``)."""
        route = request.scope.get("route")
        template = getattr(route, "path_format", None) or request.url.path
        sub = principal.sub if partition is None else f"{principal.sub}:{partition}"
        return cls(str(principal.agency), str(principal.role), sub, f"{request.method} {template}")

    def lock_id(self, key: str) -> int:
        """The PostgreSQL advisory lock that marks this caller's key as in progress."""
        parts = "\0".join((self.agency, self.role, self.sub, self.operation, key))
        return int.from_bytes(hashlib.sha256(parts.encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    caller: Caller
    key: str
    fingerprint: str
    expired_record_id: uuid.UUID | None
    # Top-level JSON fields (secrets) not stored with the answer: a replay returns them as null.
    redact: tuple[str, ...] = ()


class IdempotentReplay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body  # not JSON: the bytes themselves must match
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class StoredAnswer(NamedTuple):
    """An answer kept for replay (``IdempotencyRecord``): what a retry is answered with."""

    id: uuid.UUID
    fingerprint: str
    response_status: int
    response_headers: dict[str, str]
    response_body: bytes
    records: list[dict[str, Any]]
    expires_at: datetime


# Built once, run with each request's values: building it cost more CPU than running it. Every
# idempotent request asks, and most find nothing. SQLite's read (PostgreSQL's is ``_CLAIM``).
_RECORDS = table_columns(IdempotencyRecord)
_STORED = DirectSelect(
    sa.select(*(_RECORDS[name] for name in StoredAnswer._fields)).where(
        _RECORDS.caller_agency == sa.bindparam("agency"),
        _RECORDS.caller_role == sa.bindparam("role"),
        _RECORDS.caller_sub == sa.bindparam("sub"),
        _RECORDS.operation == sa.bindparam("operation"),
        _RECORDS.key == sa.bindparam("key"),
    )
)


# PostgreSQL: the key's advisory lock and then its stored answer, one round trip (migration
# 20261207_idempotency_claim). The read comes after the lock, in a snapshot of its own, so it sees the
# answer of the lock's last holder; one SELECT of both would read with a snapshot from before the lock.
_CLAIMED = sa.func.mash_idempotency_claim(
    sa.bindparam("lock_id", type_=sa.BigInteger),
    *(sa.bindparam(name, type_=sa.String) for name in ("agency", "role", "sub", "operation", "key")),
).table_valued(
    sa.column("locked", sa.Boolean),
    *(sa.column(name, _RECORDS[name].type) for name in StoredAnswer._fields),
    name="claimed",
)
_CLAIM = DirectSelect(sa.select(*_CLAIMED.c))


async def _lock_and_read(session: AsyncSession, caller: Caller, key: str) -> tuple[bool, StoredAnswer | None]:
    """Whether this transaction now holds ``caller``'s ``key``, and the answer stored for it, if any."""
    params = {
        "agency": caller.agency,
        "role": caller.role,
        "sub": caller.sub,
        "operation": caller.operation,
        "key": key,
    }
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: BEGIN IMMEDIATE already made this transaction the only writer.
        rows = await _STORED.rows(session, params)
        return True, StoredAnswer._make(rows[0]) if rows else None
    ((locked, *stored),) = await _CLAIM.rows(session, {**params, "lock_id": caller.lock_id(key)})
    return bool(locked), None if stored[0] is None else StoredAnswer._make(stored)


async def claim(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    key: str,
    redact: tuple[str, ...] = (),
    *,
    partition: str | None = None,
) -> IdempotencyClaim:
    """Claim ``key`` for this authorised caller, or raise the stored response (``IdempotentReplay``).
    ``partition``: the part of a shared caller the key belongs to (``Caller.of``)."""
    caller = Caller.of(principal, request, partition)
    fingerprint = _fingerprint(request.method, request.url.path, await request.body())
    live, expired_record_id = await _take(session, caller, key)
    if live is not None:
        _replay(session, principal, live, fingerprint)
    return IdempotencyClaim(
        caller=caller, key=key, fingerprint=fingerprint, expired_record_id=expired_record_id, redact=redact
    )


async def _take(
    session: AsyncSession, caller: Caller, key: str
) -> tuple[StoredAnswer | None, uuid.UUID | None]:
    """Lock ``key`` for ``caller``: its live stored answer, if any, and the id of an expired one.
    Without the lock someone else holds the key: a request still running (409), or a retry of a
    finished one (on any worker or replica) replaying its stored answer, which this one replays too."""
    locked, existing = await _lock_and_read(session, caller, key)
    live = existing is not None and existing.expires_at > utcnow()
    if not locked and not live:
        raise AppError(code="idempotency_key_in_progress", headers={"Retry-After": "1"})
    if live:
        return existing, None
    return None, None if existing is None else existing.id


def _replay(session: AsyncSession, principal: Principal, stored: StoredAnswer, fingerprint: str) -> NoReturn:
    """Raise the stored answer for a request the same as the stored one; 422 for a different one."""
    if stored.fingerprint != fingerprint:
        raise AppError(code="idempotency_key_reused")
    _audit_replay(session, principal, stored)
    headers = {**stored.response_headers, REPLAYED_HEADER: "true"}
    raise IdempotentReplay(
        Response(stored.response_body, status_code=stored.response_status, headers=headers)
    )


@dataclass(frozen=True, slots=True)
class StreamedClaim:
    """A key claimed before a streamed body is read (an upload): the body's fingerprint is known only
    once it has been read, so the stored answer, if any, is compared then (``settle_streamed``)."""

    caller: Caller
    key: str
    stored: StoredAnswer | None  # a live stored answer for the key
    expired_record_id: uuid.UUID | None


async def claim_streamed(
    request: Request, session: AsyncSession, principal: Principal, key: str
) -> StreamedClaim:
    """Claim ``key`` as ``claim`` does, without reading the body: 409 while another request holds it."""
    caller = Caller.of(principal, request)
    live, expired_record_id = await _take(session, caller, key)
    return StreamedClaim(caller=caller, key=key, stored=live, expired_record_id=expired_record_id)


def settle_streamed(
    request: Request, session: AsyncSession, principal: Principal, claim: StreamedClaim, content_digest: str
) -> None:
    """With the body read (``content_digest``: what the request asked for, however it was framed):
    replay the stored answer if the same, 422 if not; else hand the claim to the route wrapper, which
    stores this request's answer in its transaction."""
    fingerprint = _fingerprint(request.method, request.url.path, content_digest.encode())
    if claim.stored is not None:
        _replay(session, principal, claim.stored, fingerprint)
    RequestContext.of(request).idempotency = IdempotencyClaim(
        caller=claim.caller, key=claim.key, fingerprint=fingerprint, expired_record_id=claim.expired_record_id
    )


def _audit_replay(session: AsyncSession, principal: Principal, stored: StoredAnswer) -> None:
    """A replay hands out the record again: audited as a read of each record the request created."""
    for created in stored.records:
        person = created.get("person_id")
        audit.record(
            session,
            principal,
            audit.AuditAction.READ,
            str(created["record_type"]),
            created.get("record_id"),
            person_id=None if person is None else uuid.UUID(person),
            details={"idempotent_replay": True},
        )


def _claim_signature(authorised: params.Depends, returns: Any) -> inspect.Signature:
    # Spelled out because the annotations of a nested function are strings here (PEP 563), which
    # FastAPI resolves in the module's globals, where ``authorised`` is not.
    return inspect.Signature(
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter("session", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=DbSession),
            inspect.Parameter(
                "principal",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[Principal, authorised],
            ),
            inspect.Parameter(
                "key", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=KeyHeader, default=None
            ),
        ],
        return_annotation=returns,
    )


def idempotent(authorised: params.Depends, *, redact: tuple[str, ...] = ()) -> Any:
    """The principal of a create operation: authorised by ``authorised`` (``requires(...)``) first,
    then its ``Idempotency-Key`` claimed (or its stored answer replayed). ``redact`` names top-level
    JSON fields (secrets) that must not be stored: a replay returns them as null.

    The claim is handed to the route wrapper (``app.core.routing``), which stores the answer in the
    request's transaction once the handler has succeeded."""

    async def claim_key(
        request: Request, session: AsyncSession, principal: Principal, key: str | None
    ) -> Principal:
        if key is not None:
            RequestContext.of(request).idempotency = await claim(request, session, principal, key, redact)
        return principal

    claim_key.__signature__ = _claim_signature(authorised, Principal)  # type: ignore[attr-defined]
    return Depends(claim_key)


@dataclass(frozen=True, slots=True)
class KeyedPrincipal:
    """The caller of a create whose body is a stream its handler reads (an upload), and its key."""

    principal: Principal
    key: str | None


def idempotent_streamed(authorised: params.Depends) -> Any:
    """As ``idempotent``, for a create whose body the handler reads as a stream: the caller is
    authorised first, then its ``Idempotency-Key`` taken; the handler claims it once the body has been
    read, when what the request asks for is known (``claim_streamed``, ``settle_streamed``)."""

    async def claim_key(
        request: Request, session: AsyncSession, principal: Principal, key: str | None
    ) -> KeyedPrincipal:
        return KeyedPrincipal(principal, key)

    claim_key.__signature__ = _claim_signature(authorised, KeyedPrincipal)  # type: ignore[attr-defined]
    return Depends(claim_key)


def _stored_body(response: Response, redact: tuple[str, ...]) -> bytes:
    body = bytes(response.body)
    if not redact:
        return body
    document = json.loads(body)
    for field in redact:
        if field in document:
            document[field] = None
    return json.dumps(document, separators=(",", ":")).encode()


# Inserted with the transaction's audit entries, in its last statement before COMMIT.
ANSWERS = InsertAtCommit(IdempotencyRecord)


async def store_response(
    session: AsyncSession, claim: IdempotencyClaim, response: Response, ttl_hours: int
) -> None:
    """Keep a successful response for replay, in the transaction that produced it."""
    now = utcnow()
    values = {
        "fingerprint": claim.fingerprint,
        "response_status": response.status_code,
        "response_headers": {
            name: response.headers[name] for name in _STORED_HEADERS if name in response.headers
        },
        "response_body": _stored_body(response, claim.redact),
        "records": audit.created_records(session),
        "created_at": now,
        "expires_at": now + timedelta(hours=ttl_hours),
    }
    if claim.expired_record_id is not None:
        await session.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.id == claim.expired_record_id)
            .values(**values)
        )
    else:
        caller = claim.caller
        ANSWERS.add(
            session,
            [
                {
                    "id": uuid.uuid4(),
                    "caller_agency": caller.agency,
                    "caller_role": caller.role,
                    "caller_sub": caller.sub,
                    "operation": caller.operation,
                    "key": claim.key,
                    **values,
                }
            ],
        )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
