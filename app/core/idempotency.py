"""``Idempotency-Key`` for create operations, as the contract sets it out.

- same key, same caller, same request → the stored original response, with ``Idempotent-Replayed: true``;
- same key and caller, different body or path → 422 ``idempotency_key_reused``;
- same key while the first request is still running → 409 ``idempotency_key_in_progress``.

How: the key is claimed inside the request's own transaction. On PostgreSQL a transaction-scoped
advisory lock on (caller, key) is taken without waiting, so a concurrent duplicate gets 409 at once,
and the lock vanishes with the transaction (commit, rollback or a crashed process: no stale claims).
SQLite runs one write transaction at a time, so a duplicate simply waits and then replays. The
response is stored by the route wrapper in the same transaction as the record it describes; a
failed request stores nothing, so the caller may retry it with the same key.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, authenticate
from app.core.db import get_session
from app.core.errors import AppError
from app.models.base import utcnow
from app.models.idempotency import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("content-type", "location", "etag")
KEY_DESCRIPTION = (
    "A unique string (at most 255 characters) chosen by the client for this create request. "
    "Retrying with the same key, from the same client and with the same body, returns the "
    "original response (header `Idempotent-Replayed: true`) instead of creating a second record. "
    "Keys are kept for at least {hours} hours."
)


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    caller: str
    key: str
    fingerprint: str
    expired_record_id: uuid.UUID | None


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


def lock_id(caller: str, key: str) -> int:
    """The PostgreSQL advisory lock that marks (caller, key) as in progress."""
    digest = hashlib.sha256(f"{caller}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _try_lock(session: AsyncSession, caller: str, key: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already made this transaction the only writer
    locked = await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_id(caller, key))))
    return bool(locked)


async def _stored(session: AsyncSession, caller: str, key: str) -> IdempotencyRecord | None:
    record: IdempotencyRecord | None = await session.scalar(
        sa.select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
    )
    return record


async def idempotency_key(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description=KEY_DESCRIPTION.format(hours=24),
        ),
    ] = None,
) -> None:
    """Dependency for create routes: claims the key, or answers with the stored response."""
    if key is None:
        return
    principal: Principal = await authenticate(request, request.headers.get("authorization"))
    session = get_session(request)
    fingerprint = _fingerprint(request.method, request.url.path, await request.body())
    locked = await _try_lock(session, principal.sub, key)
    existing = await _stored(session, principal.sub, key)
    # Without the lock someone else holds the key: a request still running (409), or a retry of a
    # finished one (on any worker or replica) replaying its stored answer, which this one replays too.
    if not locked and (existing is None or existing.expires_at <= utcnow()):
        raise AppError(code="idempotency_key_in_progress", headers={"Retry-After": "1"})
    if existing is not None and existing.expires_at > utcnow():
        if existing.fingerprint != fingerprint:
            raise AppError(code="idempotency_key_reused")
        headers = {**existing.response_headers, REPLAYED_HEADER: "true"}
        raise IdempotentReplay(
            Response(existing.response_body, status_code=existing.response_status, headers=headers)
        )
    request.state.idempotency = IdempotencyClaim(
        caller=principal.sub,
        key=key,
        fingerprint=fingerprint,
        expired_record_id=None if existing is None else existing.id,
    )


def redact_on_replay(request: Request, *fields: str) -> None:
    """Name top-level JSON fields (secrets) that must not be stored: a replay returns them as null."""
    request.state.idempotency_redact = fields


def _stored_body(response: Response, redact: tuple[str, ...]) -> bytes:
    body = bytes(response.body)
    if not redact:
        return body
    document = json.loads(body)
    for field in redact:
        if field in document:
            document[field] = None
    return json.dumps(document, separators=(",", ":")).encode()


async def store_response(
    session: AsyncSession,
    claim: IdempotencyClaim,
    response: Response,
    ttl_hours: int,
    redact: tuple[str, ...] = (),
) -> None:
    """Keep a successful response for replay, in the transaction that produced it."""
    now = utcnow()
    values = {
        "fingerprint": claim.fingerprint,
        "response_status": response.status_code,
        "response_headers": {
            name: response.headers[name] for name in _STORED_HEADERS if name in response.headers
        },
        "response_body": _stored_body(response, redact),
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
        await session.execute(
            sa.insert(IdempotencyRecord).values(id=uuid.uuid4(), caller=claim.caller, key=claim.key, **values)
        )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
