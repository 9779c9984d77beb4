"""The council's corporate side: the agency ``council`` and, under row-level security, its information
governance role, which answers subject access requests from both sides' records.

Information governance reads every case row (the council-wide export) and the disclosure log and the
audit trail; the application decides which of them it shows. Its policies are the ones in force (those
of 20261127_row_security, with the lookups of 20261129_policy_probes) with the role added to the hub's
clause and to the audit readers.

Revision ID: 20261204_council
Revises: 20261130_chain_append
Create Date: 2026-12-04 09:00:00+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261204_council"
down_revision: str | None = "20261130_chain_append"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNCIL = ("council", "Council (information governance and complaints)")
ROLE = "current_setting('mash.role', true)"
NEW_ROLE = "information_governance"

agencies = sa.table(
    "agencies",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _rules() -> tuple[dict[str, str], dict[str, str]]:
    """The rules in force: each case table's own, and the append-only tables' read rules."""
    made, probes = _module("20261127_row_security"), _module("20261129_policy_probes")
    visible = {**made.VISIBLE, **probes.VISIBLE}
    readable = {**made.APPEND_ONLY, "case_events": probes.CASE_EVENTS}
    return visible, readable


def _hub(with_governance: bool) -> tuple[str, str]:
    """The hub's clause and the audit readers' clause, with or without information governance."""
    made = _module("20261127_row_security")
    if not with_governance:
        return made.HUB, made.AUDIT_READERS
    hub = made.HUB.replace("'auditor', ", f"'auditor', '{NEW_ROLE}', ")
    readers = f"{ROLE} IN ('auditor', '{NEW_ROLE}', 'system')"
    assert hub != made.HUB, "the hub clause names the auditor role"
    return hub, readers


def _set_policies(with_governance: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    hub, readers = _hub(with_governance)
    visible, readable = _rules()
    for table, rule in visible.items():
        op.execute(f"ALTER POLICY visible ON {table} USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")
    for table, rule in readable.items():
        op.execute(f"ALTER POLICY readable ON {table} USING ({hub} OR {rule})")
    op.execute(f"ALTER POLICY readable ON audit_events USING ({readers})")


def upgrade() -> None:
    op.bulk_insert(agencies, [{"code": COUNCIL[0], "name": COUNCIL[1], "created_at": datetime.now(UTC)}])
    _set_policies(with_governance=True)


def downgrade() -> None:
    _set_policies(with_governance=False)
    op.execute(sa.delete(agencies).where(agencies.c.code == COUNCIL[0]))
