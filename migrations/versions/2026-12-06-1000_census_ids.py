"""The census child id: ``people.la_child_id``, the council's own id for a person where it has one.

The CIN census identifies a child by ``LAchildID``, at most 20 alphanumeric characters (rules 1570 and
1580). The hub's person ids are UUIDs (36 characters with hyphens), so the census items carry a
census-safe id: the council's own, from this column, where it was given one (e.g. carried over from
the case management system its records came from), else the first 20 hexadecimal digits of the
person id, upper case (``app.governance.reports.queries.la_child_id``): stable, and as good as unique
(74 random bits). Nullable, so no backfill; unique where set.

Revision ID: 20261206_census_ids
Revises: 20261205_report_indexes
Create Date: 2026-12-06 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_census_ids"
down_revision: str | None = "20261205_report_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("la_child_id", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_people_la_child_id"), ["la_child_id"])


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint(op.f("uq_people_la_child_id"), type_="unique")
        batch.drop_column("la_child_id")
