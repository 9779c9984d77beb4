"""/v1/settings/timescales: the hub's RAG hours, decision targets and working hours (scope `admin`)."""

from __future__ import annotations

from fastapi import Request

from app.admin.settings import service
from app.admin.settings.schemas import TimescalesIn, TimescalesOut
from app.core.auth import AdminPrincipal
from app.core.concurrency import Conditional, Versioned
from app.core.db import DbSession
from app.core.routing import Router

router = Router(prefix="/v1/settings", tags=["Administration"])

_APPLIES = (
    "Deadlines are computed from the timescales in force when a record is made, rated or asked about, "
    "and stored with it: a change applies to new deadlines only, never to those already recorded. Every "
    "worker process uses a change from the next request it serves."
)


@router.get(
    "/timescales",
    summary="Get the timescales in force",
    description=(
        "RAG hours, decision targets and working hours. Until an admin stores timescales with PUT, the "
        'service\'s configured defaults apply (`source: configuration`, ETag `"0"`). ' + _APPLIES
    ),
)
async def get_timescales(
    request: Request, answer: Versioned, _: AdminPrincipal, session: DbSession
) -> TimescalesOut:
    current = await service.get(session, request.app.state.settings.working_time)
    return answer.tagged(current.version, service.timescales_out(current))


@router.put(
    "/timescales",
    summary="Replace the timescales",
    description=(
        "Send the whole document (every field of the GET response except the read-only `source`, "
        "`version`, `updated_at` and `updated_by`) with the ETag of your last GET in If-Match: missing "
        "→ 428, stale → 412. Invalid values → 422 naming the field. The change is audited with the "
        "values before and after. " + _APPLIES
    ),
)
async def replace_timescales(
    request: Request, change: Conditional, principal: AdminPrincipal, session: DbSession, body: TimescalesIn
) -> TimescalesOut:
    updated = await service.replace(
        session, principal, body, change.if_match, request.app.state.settings.working_time
    )
    return change.tagged(updated.version, service.timescales_out(updated))
