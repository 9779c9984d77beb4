"""Children: contacts and referrals, one decision per child (contract 1.1).

- ``threshold_decisions.accepted_as_referral``: whether children's social care accepted the contact as
  a referral (the CIN census meaning);
- ``threshold_decision_children``: the decision on each child of the referral (level, outcome, primary
  need, NFA flag, accepted as a referral), the referral-wide values or the child's own. The approved
  decision's rows are the CIN census referral items.

Existing decisions: each gets one row per child of its referral with the decision's values, and is
accepted as a referral when its outcome was a child and family assessment or a strategy discussion
(the outcomes that imply acceptance). An existing NFA decision is taken as a contact that stayed a
contact (as most NFA outcomes are; the old service did not ask). Universal services and early help
stay contacts. The assessment factors recorded on old decisions are kept as they were, read only:
factors now belong to the assessment, and new decisions record none.

Under row-level security the new table follows its referral.

Revision ID: 20261205_child_decisions
Revises: 20261205_adult_statute
Create Date: 2026-12-05 11:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261205_child_decisions"
down_revision: str | None = "20261205_adult_statute"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "threshold_decision_children"
ACCEPTED_OUTCOMES = "('child_and_family_assessment', 'strategy_discussion')"


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _policies() -> None:
    hub, _ = _module("20261204_council")._hub(with_governance=True)
    rule = _module("20261129_policy_probes")._related("referrals", "referral_id")
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY visible ON {TABLE} USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")


def upgrade() -> None:
    op.add_column("threshold_decisions", sa.Column("accepted_as_referral", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE threshold_decisions SET accepted_as_referral = "  # noqa: S608 (constants)
        f"CASE WHEN outcome IN {ACCEPTED_OUTCOMES} THEN TRUE ELSE FALSE END"
    )
    with op.batch_alter_table("threshold_decisions") as batch:
        batch.alter_column("accepted_as_referral", existing_type=sa.Boolean(), nullable=False)
    op.create_table(
        TABLE,
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("referral_child_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("primary_need", sa.String(length=2), nullable=True),
        sa.Column("nfa", sa.Boolean(), nullable=False),
        sa.Column("accepted_as_referral", sa.Boolean(), nullable=False),
        sa.Column("own_entry", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["threshold_decisions.id"],
            name=op.f(f"fk_{TABLE}_decision_id_threshold_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_child_id"],
            ["referral_children.id"],
            name=op.f(f"fk_{TABLE}_referral_child_id_referral_children"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f(f"fk_{TABLE}_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("decision_id", "referral_child_id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_referral_id"), TABLE, ["referral_id"], unique=False)
    op.execute(
        f"INSERT INTO {TABLE} (decision_id, referral_child_id, referral_id, level, outcome, primary_need, "  # noqa: S608
        "nfa, accepted_as_referral, own_entry) "
        "SELECT d.id, c.id, d.referral_id, d.level, d.outcome, d.primary_need, d.nfa, d.accepted_as_referral, "
        "FALSE FROM threshold_decisions d JOIN referral_children c ON c.referral_id = d.referral_id"
    )
    if op.get_bind().dialect.name == "postgresql":
        _policies()


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_referral_id"), table_name=TABLE)
    op.drop_table(TABLE)  # its policy goes with it
    with op.batch_alter_table("threshold_decisions") as batch:
        batch.drop_column("accepted_as_referral")
