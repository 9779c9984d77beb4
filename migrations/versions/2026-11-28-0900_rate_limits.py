"""Rate limit counters: one row per client and budget, counted by one upsert per request.

UNLOGGED on PostgreSQL (no WAL write per request; a crash only forgives the current window), with
room left on each page so that the per-request UPDATE stays a heap-only update. On SQLite the
counters are kept in memory and the table is unused.

Revision ID: 20261128_rate_limits
Revises: 20261127_row_security
Create Date: 2026-11-28 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_rate_limits"
down_revision: str | None = "20261127_row_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
        prefixes=["UNLOGGED"] if postgres else [],
    )
    if postgres:
        op.execute("ALTER TABLE rate_limit_counters SET (fillfactor = 50)")


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
