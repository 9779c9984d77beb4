"""Idempotency keys belong to one caller (agency, role and sub together) and one operation.

Stored answers were looked up by ``(sub, key)`` alone, so another caller with the same ``sub`` (an
auditor, an administrator, another agency's system) could be replayed someone else's referral. The
key is now ``(agency, role, sub, operation, key)``, and ``records`` names what the request created so
that a replay is audited as a read of it.

Answers stored before this revision name no agency or role: they are kept until they expire but
never replayed (``''`` matches no caller), since whose they were cannot be told. A partner retrying
across the upgrade makes a second record instead, which the hub's matching shows as a repeat.
Downgrading keeps the newest answer per ``(sub, key)``, which the old unique rule requires.

Revision ID: 20261204_idempotency_callers
Revises: 20261204_council
Create Date: 2026-12-04 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_idempotency_callers"
down_revision: str | None = "20261204_council"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "idempotency_records"
OLD_UNIQUE = "uq_idempotency_records_caller_key"
NEW_UNIQUE = "uq_idempotency_records_caller_operation_key"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.alter_column("caller", new_column_name="caller_sub", existing_type=sa.String(255))
        for column, width in (("caller_agency", 40), ("caller_role", 40), ("operation", 200)):
            batch.add_column(sa.Column(column, sa.String(width), nullable=False, server_default=""))
        batch.add_column(sa.Column("records", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table(TABLE) as batch:
        for column, width in (("caller_agency", 40), ("caller_role", 40), ("operation", 200)):
            batch.alter_column(column, server_default=None, existing_type=sa.String(width))
        batch.alter_column("records", server_default=None, existing_type=sa.JSON())
        batch.create_unique_constraint(
            NEW_UNIQUE, ["caller_agency", "caller_role", "caller_sub", "operation", "key"]
        )


def downgrade() -> None:
    records = sa.table(
        TABLE,
        sa.column("id"),
        sa.column("caller_sub", sa.String),
        sa.column("key", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    newer = records.alias("newer")
    op.execute(
        sa.delete(records).where(
            sa.exists().where(
                newer.c.caller_sub == records.c.caller_sub,
                newer.c.key == records.c.key,
                sa.or_(
                    newer.c.created_at > records.c.created_at,
                    sa.and_(newer.c.created_at == records.c.created_at, newer.c.id > records.c.id),
                ),
            )
        )
    )
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        for column in ("records", "operation", "caller_role", "caller_agency"):
            batch.drop_column(column)
        batch.alter_column("caller_sub", new_column_name="caller", existing_type=sa.String(255))
        batch.create_unique_constraint(OLD_UNIQUE, ["caller", "key"])
