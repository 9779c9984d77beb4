"""/v1/audit-events: the audit trail of every read and write of case data, and its hash-chain check."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import Query, Request

from app.core.audit import AuditAction
from app.core.db import DbSession
from app.core.pagination import Paging
from app.core.principals import AuditRead
from app.core.rendering import from_record
from app.core.routing import Router
from app.core.schemas import Instant
from app.core.scopes import AgencyCode
from app.governance.audit import service
from app.governance.audit.repository import AuditFilters
from app.governance.audit.schemas import (
    AuditActor,
    AuditEventOut,
    AuditEventPage,
    AuditOrder,
    AuditVerification,
)
from app.models.audit import AuditEvent
from app.models.base import utcnow

router = Router(prefix="/v1/audit-events", tags=["Audit trail"])


def event_out(event: AuditEvent) -> AuditEventOut:
    return from_record(
        AuditEventOut,
        event,
        actor=AuditActor(sub=event.actor_sub, agency=event.actor_agency, role=event.actor_role),
    )


@router.get(
    "",
    summary="Read the audit trail",
    description=(
        "Every read and write of case data: who (`actor`: sub, agency, role), what (`record_type`, "
        "`record_id`, and `person_id` when the record is about a person), the `action`, when "
        "(`occurred_at`) and the `request_id`. A request for a record id answered 404 (no such record, or "
        "not one the caller may see) is on the trail too: `action: not_found`, with the record type and "
        "id asked for and the route in `details`. Oldest first by default, as a time range is read "
        "forwards; `order=newest_first` for the latest activity. Filters combine (all must hold), and "
        "each query must be narrowed by an index: `record_id` needs `record_type`, `actor` needs "
        "`agency`, and `action` needs one of `person_id`, `record_type`, `agency`, `from` or `to` "
        "(else 422 naming the parameter). `from` and `to` are RFC 3339 with an offset; `from` is "
        "inclusive, `to` exclusive. Reading the trail is itself audited: each page read adds an entry "
        "(`action: list`, `record_type: audit_event`) with the filters used.\n\n"
        "**Whose entries.** An auditor of childrens_social_care, adult_social_care or council (information "
        "governance too) reads every agency's entries. An auditor of a partner agency reads only the "
        "entries of its own agency's actions (`actor.agency` is its agency): the restriction applies before "
        "the filters and the paging, so every page and cursor holds only those, and `agency` naming another "
        "agency finds nothing."
    ),
)
async def list_audit_events(
    principal: AuditRead,
    session: DbSession,
    paging: Paging,
    person_id: Annotated[uuid.UUID | None, Query(description="Entries about this person.")] = None,
    record_type: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=60,
            pattern=r"^[a-z][a-z0-9_]*$",
            description="e.g. `referral`, `contribution`, `adult_concern`, `person`, `client`.",
        ),
    ] = None,
    record_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="One record; needs `record_type`.")
    ] = None,
    agency: Annotated[
        AgencyCode | None,
        Query(description="Entries made by this agency (a partner agency's auditor: its own, else none)."),
    ] = None,
    actor: Annotated[
        str | None,
        Query(min_length=1, max_length=255, description="Entries made by this `sub`; needs `agency`."),
    ] = None,
    action: Annotated[
        AuditAction | None, Query(description="Only this action; narrows another filter.")
    ] = None,
    occurred_from: Annotated[
        Instant | None, Query(alias="from", description="At or after (RFC 3339 with offset).")
    ] = None,
    occurred_to: Annotated[
        Instant | None, Query(alias="to", description="Before (RFC 3339 with offset).")
    ] = None,
    order: Annotated[
        AuditOrder, Query(description="By `seq`; oldest first by default.")
    ] = AuditOrder.OLDEST_FIRST,
) -> AuditEventPage:
    filters = AuditFilters(
        person_id=person_id,
        record_type=record_type,
        record_id=record_id,
        agency=None if agency is None else str(agency),
        actor=actor,
        action=None if action is None else str(action),
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        newest_first=order is AuditOrder.NEWEST_FIRST,
    )
    events, next_cursor = await service.list_events(session, principal, filters, paging.params)
    paging.link(next_cursor)
    return AuditEventPage(items=[event_out(e) for e in events], next_cursor=next_cursor)


@router.get(
    "/verification",
    summary="Check the audit trail's hash chain",
    description=(
        "Recomputes every entry's hash, from the first to the chain's head, and checks each entry "
        "follows the one before: `valid` is false from the first entry changed, deleted or cut off the "
        "end, which `first_invalid_id` / `first_invalid_seq` and `reason` name. It also checks each "
        "signed checkpoint (written by `mash audit verify`) still matches its entry: a chain rewritten "
        "with recomputed hashes before one is caught there. On PostgreSQL the database checks the "
        "entries set-based, in parallel; on SQLite they are read in batches, letting other requests "
        "through between them. Nothing is held up meanwhile. Each check is itself audited "
        "(`action: verify`).\n\n"
        "The whole chain is checked whoever asks. An auditor of a partner agency learns whether it holds, "
        "the counts and where it breaks (`first_invalid_seq`, `reason`), but `first_invalid_id` is null for "
        "it: the entry may be another agency's; an auditor of childrens_social_care, adult_social_care or "
        "council follows it up."
    ),
)
async def verify_audit_chain(principal: AuditRead, session: DbSession, request: Request) -> AuditVerification:
    result = await service.verify(session, principal, request.app.state.settings.checkpoint_key)
    # The check as the service found it (the answer shows the fields it declares), and when.
    checked = {**dataclasses.asdict(result), "head_seq": result.head_seq or 0, "verified_at": utcnow()}
    return AuditVerification.model_validate(checked)
