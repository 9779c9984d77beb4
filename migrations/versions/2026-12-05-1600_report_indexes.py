"""Indexes for the timeliness report over a reporting year (bench/reports.py, a million referrals).

Each of its year-wide counts read the whole referrals table (1.3 GB at a million referrals) for a
handful of columns; covering indexes let PostgreSQL answer them from the index alone (index-only
scans). Measured on the million-referral bench database (2 shared cores, load average ~4):

- contacts and conversion (received in the period): ``ix_referrals_received_at_id`` now also carries
  ``status`` and ``decision_id``: 1.6 s -> 0.76 s;
- decision deadlines met (decided in the period): ``ix_referrals_decided_at``, decided referrals by
  ``decided_at`` with both deadlines: 0.55 s -> 0.07 s;
- acknowledgements made (in the period): ``ix_referrals_acknowledged_at`` with the deadline:
  0.58 s -> 0.05 s.

``INCLUDE`` is PostgreSQL's; SQLite gets the plain indexes.

Revision ID: 20261205_report_indexes
Revises: 20261205_child_protection
Create Date: 2026-12-05 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_report_indexes"
down_revision: str | None = "20261205_child_protection"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED = "status = 'decided'"


def upgrade() -> None:
    op.drop_index("ix_referrals_received_at_id", table_name="referrals")
    op.create_index(
        "ix_referrals_received_at_id",
        "referrals",
        ["received_at", "id"],
        postgresql_include=["status", "decision_id"],
    )
    op.create_index(
        "ix_referrals_decided_at",
        "referrals",
        ["decided_at"],
        postgresql_include=["statutory_decision_due_at", "rag_due_at"],
        postgresql_where=sa.text(DECIDED),
        sqlite_where=sa.text(DECIDED),
    )
    op.create_index(
        "ix_referrals_acknowledged_at",
        "referrals",
        ["acknowledged_at"],
        postgresql_include=["acknowledgement_due_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_acknowledged_at", table_name="referrals")
    op.drop_index("ix_referrals_decided_at", table_name="referrals")
    op.drop_index("ix_referrals_received_at_id", table_name="referrals")
    op.create_index("ix_referrals_received_at_id", "referrals", ["received_at", "id"])
