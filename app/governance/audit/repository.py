"""Queries over the audit trail. Every filter is served by an index of ``audit_events``.

Every query starts from what the caller may read (``access.readable``), so the restriction holds on every
page and cursor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.pagination import PageParams, paginate
from app.governance.audit import access
from app.models.audit import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilters:
    person_id: uuid.UUID | None = None
    record_type: str | None = None
    record_id: str | None = None
    agency: str | None = None
    actor: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    newest_first: bool = False


async def list_events(
    session: AsyncSession, principal: Principal, filters: AuditFilters, paging: PageParams
) -> tuple[list[AuditEvent], str | None]:
    stmt = access.readable(principal)
    if filters.person_id is not None:  # ix_audit_events_person_id
        stmt = stmt.where(AuditEvent.person_id == filters.person_id)
    if filters.record_type is not None:  # ix_audit_events_record (record_type, record_id)
        stmt = stmt.where(AuditEvent.record_type == filters.record_type)
    if filters.record_id is not None:
        stmt = stmt.where(AuditEvent.record_id == filters.record_id)
    if filters.agency is not None:  # ix_audit_events_actor (actor_agency, actor_sub)
        stmt = stmt.where(AuditEvent.actor_agency == filters.agency)
    if filters.actor is not None:
        stmt = stmt.where(AuditEvent.actor_sub == filters.actor)
    if filters.occurred_from is not None:  # ix_audit_events_occurred_at
        stmt = stmt.where(AuditEvent.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        stmt = stmt.where(AuditEvent.occurred_at < filters.occurred_to)
    if filters.action is not None:  # narrows one of the above (the service insists on one)
        stmt = stmt.where(AuditEvent.action == filters.action)
    return await paginate(session, stmt, [AuditEvent.seq], paging, descending=filters.newest_first)
