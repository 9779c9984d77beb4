"""Reading the audit trail and checking its hash chain (scope `audit:read`).

An auditor of a partner agency reads the entries of its own agency's actions only
(``access.readable``); from the chain check it learns whether the chain holds and the counts, never
the id of an entry (which may be another agency's). Auditors of the lead agencies and the council read
and learn everything.

Reading the trail is itself audited: each page read leaves an entry with the filters used (naming the
person whose trail was read, when filtered by person), and each chain check leaves one with its result.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, db
from app.core.audit import AuditAction, ChainVerification
from app.core.auth import Principal
from app.core.errors import ValidationFailed
from app.core.pagination import PageParams
from app.governance.audit import repository
from app.governance.audit.repository import AuditFilters
from app.models.audit import AuditEvent

RECORD_TYPE = "audit_event"
CHAIN_RECORD_TYPE = "audit_chain"


def check_filters(filters: AuditFilters) -> None:
    """Each query must be narrowed by an index; these combinations could not be."""
    if filters.record_id is not None and filters.record_type is None:
        raise ValidationFailed(
            ["query", "record_type"], "record_id needs record_type: ids are per record type."
        )
    if filters.actor is not None and filters.agency is None:
        raise ValidationFailed(["query", "agency"], "actor needs agency: a sub is unique within its agency.")
    if filters.action is not None and not (
        filters.person_id
        or filters.record_type
        or filters.agency
        or filters.occurred_from
        or filters.occurred_to
    ):
        raise ValidationFailed(
            ["query", "action"],
            "action narrows another filter: add person_id, record_type, agency, from or to.",
        )
    if (
        filters.occurred_from is not None
        and filters.occurred_to is not None
        and filters.occurred_to <= filters.occurred_from
    ):
        raise ValidationFailed(["query", "to"], "to must be after from.")


def _filters_used(filters: AuditFilters) -> dict[str, Any]:
    used = {
        "person_id": filters.person_id,
        "record_type": filters.record_type,
        "record_id": filters.record_id,
        "agency": filters.agency,
        "actor": filters.actor,
        "action": filters.action,
        "from": filters.occurred_from,
        "to": filters.occurred_to,
    }
    return {k: v.isoformat() if isinstance(v, datetime) else str(v) for k, v in used.items() if v is not None}


async def list_events(
    session: AsyncSession, actor: Principal, filters: AuditFilters, paging: PageParams
) -> tuple[list[AuditEvent], str | None]:
    check_filters(filters)
    events, next_cursor = await repository.list_events(session, actor, filters, paging)
    audit.record(
        session,
        actor,
        AuditAction.LIST,
        RECORD_TYPE,
        person_id=filters.person_id,
        details={
            "filters": _filters_used(filters),
            "order": "newest_first" if filters.newest_first else "oldest_first",
            "cursor": paging.cursor is not None,
            "returned": len(events),
        },
    )
    return events, next_cursor


async def verify(session: AsyncSession, actor: Principal, checkpoint_key: bytes) -> ChainVerification:
    # A long read: on SQLite, outside the write lock every other request needs (see begin_read_only).
    await db.release(session)
    await db.begin_read_only(session)
    # The full check, with the signed checkpoints (checked, not written: a GET changes nothing).
    result = await audit.verify_chain(session, checkpoint_key=checkpoint_key)
    await db.release(session)  # the audit entry below is written in an ordinary transaction
    audit.record(
        session,
        actor,
        AuditAction.VERIFY,
        CHAIN_RECORD_TYPE,
        details={"valid": result.valid, "checked": result.checked, "reason": result.reason},
    )
    if not actor.is_council_wide:
        # Where the chain breaks (its seq, and so the counts) is the partner auditor's to know; which
        # entry it is, is not: it may be another agency's (and a changed entry's agency is not evidence).
        result = dataclasses.replace(result, first_invalid_id=None)
    return result
