"""Every 404 for a record id is audited: who (sub, agency, role) asked for which record.

The request's transaction has been rolled back by then (``app.core.routing``), so the entry is written
in a transaction of its own, as the caller (on PostgreSQL the audit trail is insert-only for the
application's role, and open to every caller's inserts). Services only raise ``NotFound`` with the id
they looked for; nothing else is needed for the read to be on the trail.
"""

from __future__ import annotations

import logging

from fastapi import Request

from app.core import audit, db
from app.core.audit import AuditAction
from app.core.context import RequestContext
from app.core.errors import NotFound

logger = logging.getLogger("mash.audit")


async def audit_not_found(request: Request, exc: NotFound) -> None:
    principal = RequestContext.of(request).principal
    if principal is None:
        return  # no caller to name: an unauthenticated request never reaches a record
    route = request.scope.get("route")
    session = db.request_session(request)
    try:
        audit.record(
            session,
            principal,
            AuditAction.NOT_FOUND,
            exc.record_type,
            exc.record_id,
            details={
                "method": request.method,
                "route": getattr(route, "path", None),
                # The ids in the address (validated by the route), e.g. the referral of a communication.
                "path_ids": {name: str(value) for name, value in request.path_params.items()},
            },
        )
        await db.commit(session)
    except Exception as error:  # the 404 stands; nothing was disclosed
        await db.rollback(session)
        logger.error("a 404 could not be audited", extra={"error_type": type(error).__name__})
