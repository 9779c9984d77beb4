"""After the threshold decision: child and family assessments, strategy discussions, section 47
enquiries and their initial child protection conferences (api.md, "Children: from contact to
conference").

- ``assessments``: one child of a referral, due 45 working days after the referral's receipt;
- ``strategy_discussions``: who attended (police, health and children's social care at least), the
  decision and why; a ``section_47_enquiry`` decision starts one enquiry per child;
- ``section_47_enquiries``: the outcome, and the initial child protection conference, due 15 working
  days after the strategy discussion, with its lateness kept.

Under row-level security these are the hub's own records: children's social care (and the roles the
hub clause names, information governance included for subject access exports), nobody else. The
referring agency sees the outcome on its referral, not the work that follows it.

Revision ID: 20261205_child_protection
Revises: 20261205_child_decisions
Create Date: 2026-12-05 12:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261205_child_protection"
down_revision: str | None = "20261205_child_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDED = ("assessments", "strategy_discussions", "section_47_enquiries")


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
        "strategy_discussions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("child_ids", sa.JSON(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_strategy_discussions_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_discussions")),
    )
    with op.batch_alter_table("strategy_discussions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_discussions_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("referral_received_on", sa.Date(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("closure_reason", sa.String(length=3), nullable=True),
        sa.Column("working_days_taken", sa.Integer(), nullable=True),
        sa.Column("completed_late", sa.Boolean(), nullable=True),
        sa.Column("completed_by", sa.String(length=255), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["referral_children.id"], name=op.f("fk_assessments_child_id_referral_children")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_assessments_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessments_child_id"), ["child_id"], unique=False)
        batch_op.create_index("ix_assessments_completed_on", ["completed_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessments_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index("ix_assessments_status_due_on", ["status", "due_on"], unique=False)

    op.create_table(
        "section_47_enquiries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strategy_discussion_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("icpc_due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concluded_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("category_of_abuse", sa.String(length=20), nullable=True),
        sa.Column("concluded_by", sa.String(length=255), nullable=True),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conference_held_on", sa.Date(), nullable=True),
        sa.Column("conference_outcome", sa.String(length=30), nullable=True),
        sa.Column("conference_category_of_abuse", sa.String(length=20), nullable=True),
        sa.Column("conference_working_days", sa.Integer(), nullable=True),
        sa.Column("conference_late", sa.Boolean(), nullable=True),
        sa.Column("conference_recorded_by", sa.String(length=255), nullable=True),
        sa.Column("conference_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["referral_children.id"],
            name=op.f("fk_section_47_enquiries_child_id_referral_children"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_section_47_enquiries_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["strategy_discussion_id"],
            ["strategy_discussions.id"],
            name=op.f("fk_section_47_enquiries_strategy_discussion_id_strategy_discussions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section_47_enquiries")),
    )
    with op.batch_alter_table("section_47_enquiries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_section_47_enquiries_child_id"), ["child_id"], unique=False)
        batch_op.create_index(
            "ix_section_47_enquiries_conference_held_on", ["conference_held_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_section_47_enquiries_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(
            "ix_section_47_enquiries_status_icpc_due_on", ["status", "icpc_due_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_section_47_enquiries_strategy_discussion_id"),
            ["strategy_discussion_id"],
            unique=False,
        )

    if op.get_bind().dialect.name == "postgresql":
        _policies()


def downgrade() -> None:
    with op.batch_alter_table("section_47_enquiries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_section_47_enquiries_strategy_discussion_id"))
        batch_op.drop_index("ix_section_47_enquiries_status_icpc_due_on")
        batch_op.drop_index(batch_op.f("ix_section_47_enquiries_referral_id"))
        batch_op.drop_index("ix_section_47_enquiries_conference_held_on")
        batch_op.drop_index(batch_op.f("ix_section_47_enquiries_child_id"))

    op.drop_table("section_47_enquiries")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_status_due_on")
        batch_op.drop_index(batch_op.f("ix_assessments_referral_id"))
        batch_op.drop_index("ix_assessments_completed_on")
        batch_op.drop_index(batch_op.f("ix_assessments_child_id"))

    op.drop_table("assessments")
    with op.batch_alter_table("strategy_discussions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_discussions_referral_id"))

    op.drop_table("strategy_discussions")
