"""What an auditor may read of the audit trail: the one place that says it.

An auditor of a lead agency or of the council (``Principal.is_council_wide``) reads every entry; an
auditor of a partner agency only the entries of its own agency's actions. The restriction is part of the
query, so it holds on every page and cursor.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.auth import Principal
from app.models.audit import AuditEvent


def readable(principal: Principal) -> sa.Select[AuditEvent]:
    """The entries ``principal`` may read: all of them across the council, else its agency's own."""
    stmt = sa.select(AuditEvent)
    if principal.is_council_wide:
        return stmt
    return stmt.where(AuditEvent.actor_agency == str(principal.agency))  # ix_audit_events_actor
