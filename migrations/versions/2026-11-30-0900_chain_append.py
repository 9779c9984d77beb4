"""The audit chain's append takes the head lock in its own statement: the last case event is read
by a VOLATILE function, which sees what the previous lock holder committed.

``mash_case_events_head()`` is STABLE: it reads the calling statement's snapshot. The append statement
(``app.core.audit``) now waits for the head lock inside itself, after its snapshot was taken, so it
numbers its events from ``mash_case_events_last()``, which takes a snapshot of its own when called. It
runs as the system (``SET mash.role``), as the other, so that row-level security does not narrow
``max(seq)`` to the caller's own events. PostgreSQL only.

Revision ID: 20261130_chain_append
Revises: 20261129_policy_probes
Create Date: 2026-11-30 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261130_chain_append"
down_revision: str | None = "20261129_policy_probes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION mash_case_events_last() RETURNS bigint LANGUAGE sql VOLATILE"
        " SET mash.role = 'system' SET mash.agency = 'system'"
        " AS $$ SELECT coalesce(max(seq), 0) FROM case_events $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION mash_case_events_last()")
