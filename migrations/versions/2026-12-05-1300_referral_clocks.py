"""Referral clocks (contract 1.1): a RAG target never extends the statutory decision deadline, and the
referrer's contact is acknowledged within one working day.

- ``rag_due_at``: the RAG target, kept beside ``decision_due_at`` (now the earlier of the RAG target and
  ``statutory_decision_due_at``) so the timeliness report measures both. Backfilled from the stored
  values only: a rated (red, amber, green) referral's ``decision_due_at`` was its RAG target, so it
  becomes ``rag_due_at``, and ``decision_due_at`` is capped at the statutory deadline already stored
  with the referral. Nothing is recomputed from today's settings; a green referral whose deadline the
  rating had pushed past the statutory one working day now shows as overdue, which it is.
- ``acknowledgement_due_at``, ``acknowledged_at``: set at receipt and by the first communication with
  the referrer. Existing referrals keep ``acknowledgement_due_at`` null: their deadline would have to be
  computed from working hours the database no longer records, and no acknowledgement was asked of
  anyone before, so the report measures acknowledgements from this release on. ``acknowledged_at`` is
  backfilled from the first communication with the referrer already recorded, as the service now does.
- A partial index of the acknowledgements still owed (the timeliness report).

The downgrade puts the RAG target back into ``decision_due_at`` (the earlier behaviour) and drops the
columns.

Revision ID: 20261205_referral_clocks
Revises: 20261205_partner_references
Create Date: 2026-12-05 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_referral_clocks"
down_revision: str | None = "20261205_partner_references"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNACKNOWLEDGED = "acknowledged_at IS NULL AND acknowledgement_due_at IS NOT NULL"
COLUMNS = ("rag_due_at", "acknowledgement_due_at", "acknowledged_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("referrals", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE referrals SET rag_due_at = decision_due_at WHERE rag_rating IN ('red', 'amber', 'green')"
    )
    op.execute(
        "UPDATE referrals SET decision_due_at = statutory_decision_due_at "
        "WHERE decision_due_at > statutory_decision_due_at"
    )
    op.execute(
        "UPDATE referrals SET acknowledged_at = ("
        "SELECT c.occurred_at FROM referral_communications c "
        "WHERE c.referral_id = referrals.id AND c.audience = 'referrer' "
        "ORDER BY c.recorded_at, c.id LIMIT 1) "
        "WHERE id IN (SELECT referral_id FROM referral_communications WHERE audience = 'referrer')"
    )
    op.create_index(
        "ix_referrals_unacknowledged_due_at",
        "referrals",
        ["acknowledgement_due_at"],
        postgresql_where=sa.text(UNACKNOWLEDGED),
        sqlite_where=sa.text(UNACKNOWLEDGED),
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_unacknowledged_due_at", table_name="referrals")
    op.execute("UPDATE referrals SET decision_due_at = rag_due_at WHERE rag_due_at IS NOT NULL")
    with op.batch_alter_table("referrals") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
