"""Allocation: the worker and team each referral, adult concern and enquiry is allocated to (who
allocated it, when, and why), and the indexes the work queues read them by.

The triage page (open referrals by deadline) reads a partial index of the open referrals only, so it
does not step over the decided ones, which are nearly all of them.

Revision ID: 20261205_allocation
Revises: 20261204_action_updaters
Create Date: 2026-12-05 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_allocation"
down_revision: str | None = "20261204_action_updaters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("referrals", "adult_concerns", "enquiries")
SUB_LENGTH = 255  # app.core.schemas.MAX_SUB_LENGTH when this was written
OPEN_REFERRALS = "status NOT IN ('decided', 'withdrawn')"
INDEXES: dict[str, list[tuple[str, list[str]]]] = {
    "referrals": [
        ("ix_referrals_allocated_worker_decision_due_at", ["allocated_worker", "decision_due_at", "id"]),
        ("ix_referrals_allocated_team_decision_due_at", ["allocated_team", "decision_due_at", "id"]),
    ],
    "adult_concerns": [
        ("ix_adult_concerns_allocated_worker_received_at", ["allocated_worker", "received_at", "id"]),
        ("ix_adult_concerns_allocated_team_received_at", ["allocated_team", "received_at", "id"]),
    ],
    "enquiries": [
        ("ix_enquiries_allocated_worker_status_opened_at", ["allocated_worker", "status", "opened_at", "id"]),
        ("ix_enquiries_allocated_team_status_opened_at", ["allocated_team", "status", "opened_at", "id"]),
        ("ix_enquiries_lead_agency_opened_at", ["lead_agency", "opened_at", "id"]),
    ],
}
COLUMNS = ("allocated_worker", "allocated_team", "allocated_at", "allocated_by", "allocation_note")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("allocated_worker", sa.String(SUB_LENGTH), nullable=True),
        sa.Column("allocated_team", sa.String(100), nullable=True),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("allocated_by", sa.String(SUB_LENGTH), nullable=True),
        sa.Column("allocation_note", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    for table in TABLES:
        for column in _columns():
            op.add_column(table, column)
        for name, columns in INDEXES[table]:
            op.create_index(name, table, columns)
    op.create_index(
        "ix_referrals_open_decision_due_at",
        "referrals",
        ["decision_due_at", "id"],
        postgresql_where=sa.text(OPEN_REFERRALS),
        sqlite_where=sa.text(OPEN_REFERRALS),
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_open_decision_due_at", table_name="referrals")
    for table in reversed(TABLES):
        for name, _ in INDEXES[table]:
            op.drop_index(name, table_name=table)
        with op.batch_alter_table(table) as batch:
            for column in reversed(COLUMNS):
                batch.drop_column(column)
