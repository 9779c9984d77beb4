"""The public's front door: referrals and adult concerns raised online by members of the public.

``from_public`` marks a record that came through ``POST /public/v1/...`` (the hub's queues filter it as
``source=public``); the raiser's details stay in the record's own ``referrer`` / ``raised_by`` (third-party
data, withheld from subject access exports). Partial indexes keep the public queue a small index scan.

Revision ID: 20261206_public_concerns
Revises: 20261206_census_ids
Create Date: 2026-12-06 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_public_concerns"
down_revision: str | None = "20261206_census_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROM_PUBLIC = "from_public"
TABLES = ("referrals", "adult_concerns")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("from_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        op.create_index(
            f"ix_{table}_public_received_at",
            table,
            ["received_at", "id"],
            postgresql_where=sa.text(FROM_PUBLIC),
            sqlite_where=sa.text(FROM_PUBLIC),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_public_received_at", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("from_public")
