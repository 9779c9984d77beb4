"""Whose staff last updated a plan action: an action owner is shown its own people, never the hub's.

Revision ID: 20261204_action_updaters
Revises: 20261204_idempotency_callers
Create Date: 2026-12-04 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_action_updaters"
down_revision: str | None = "20261204_idempotency_callers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Earlier updates name no agency: their updater is then shown to adult social care only.
    op.add_column("plan_actions", sa.Column("updated_by_agency", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_actions") as batch:
        batch.drop_column("updated_by_agency")
