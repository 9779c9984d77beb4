"""Partner systems (contract 1.1): a partner's own reference on what it sends, information it adds
later, and the withdrawal of an adult concern.

- ``external_reference`` on referrals and adult concerns (the partner's incident or case number; not
  unique), indexed: a partner finds its referral by it;
- ``referral_additional_information`` and ``adult_concern_additional_information``: what the sender
  or the hub added afterwards, appended with who and when;
- who withdrew an adult concern, when and why (referrals had these columns already).

Under row-level security the new tables follow their record: a row is visible to whoever sees the
referral or the concern (the policies in force, with information governance in the hub's clause).

Revision ID: 20261205_partner_references
Revises: 20261205_allocation
Create Date: 2026-12-05 09:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261205_partner_references"
down_revision: str | None = "20261205_allocation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each new table, with the record it hangs off (its key column, the record's table).
ADDED = {
    "referral_additional_information": ("referral_id", "referrals"),
    "adult_concern_additional_information": ("concern_id", "adult_concerns"),
}


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _policies() -> None:
    council = _module("20261204_council")
    hub, _ = council._hub(with_governance=True)
    probes = _module("20261129_policy_probes")
    for table, (key, parent) in ADDED.items():
        rule = probes._related(parent, key)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY visible ON {table} USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")


def _added_table(table: str, key: str, parent: str, *extra: sa.Column[object]) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(key, sa.Uuid(), nullable=False),
        sa.Column("information", sa.Text(), nullable=False),
        *extra,
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_by_agency", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint([key], [f"{parent}.id"], name=op.f(f"fk_{table}_{key}_{parent}")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_{key}"), table, [key], unique=False)


def upgrade() -> None:
    for table in ("referrals", "adult_concerns"):
        op.add_column(table, sa.Column("external_reference", sa.String(length=100), nullable=True))
        op.create_index(op.f(f"ix_{table}_external_reference"), table, ["external_reference"], unique=False)
    op.add_column("adult_concerns", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("adult_concerns", sa.Column("withdrawn_by", sa.String(length=255), nullable=True))
    op.add_column("adult_concerns", sa.Column("withdrawal_reason", sa.Text(), nullable=True))
    _added_table(
        "referral_additional_information",
        "referral_id",
        "referrals",
        sa.Column("concern_categories", sa.JSON(), nullable=False),
    )
    _added_table("adult_concern_additional_information", "concern_id", "adult_concerns")
    if op.get_bind().dialect.name == "postgresql":
        _policies()


def downgrade() -> None:
    for table, (key, _) in reversed(ADDED.items()):
        op.drop_index(op.f(f"ix_{table}_{key}"), table_name=table)
        op.drop_table(table)  # its policy goes with it
    with op.batch_alter_table("adult_concerns") as batch:
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
    for table in ("adult_concerns", "referrals"):
        op.drop_index(op.f(f"ix_{table}_external_reference"), table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("external_reference")
