"""Retention: legal holds on case records and the record of their anonymisation (issue 17).

- ``legal_holds``: a hold on a referral or an adult concern, with why, who placed it and when, and its
  release (never deleted);
- ``anonymisations``: which record's personal data was replaced, under which rule, when, by whom, and
  the person records anonymised or kept with it (one per record).

Under row-level security these are the hub's records, as the case tables they name: the hub clause
with information governance, whose work retention is.

Revision ID: 20261206_retention
Revises: 20261206_audit_chain
Create Date: 2026-12-06 16:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261206_retention"
down_revision: str | None = "20261206_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDED = ("legal_holds", "anonymisations")


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _policies() -> None:
    hub, _ = _module("20261204_council")._hub(with_governance=True)
    for table in ADDED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY visible ON {table} USING ({hub}) WITH CHECK ({hub})")


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=255), nullable=False),
        sa.Column("placed_by_agency", sa.String(length=40), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=255), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index("ix_legal_holds_record", ["record_type", "record_id"], unique=False)
        batch_op.create_index("ix_legal_holds_placed_at_id", ["placed_at", "id"], unique=False)

    op.create_table(
        "anonymisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("rule_basis", sa.String(length=30), nullable=False),
        sa.Column("rule_years", sa.SmallInteger(), nullable=False),
        sa.Column("retention_ended_on", sa.Date(), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anonymised_by", sa.String(length=255), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymisations")),
        sa.UniqueConstraint("record_type", "record_id", name=op.f("uq_anonymisations_record_type_record_id")),
    )
    with op.batch_alter_table("anonymisations", schema=None) as batch_op:
        batch_op.create_index("ix_anonymisations_anonymised_at_id", ["anonymised_at", "id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _policies()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ADDED:
            op.execute(f"DROP POLICY visible ON {table}")
    op.drop_table("anonymisations")
    op.drop_table("legal_holds")
