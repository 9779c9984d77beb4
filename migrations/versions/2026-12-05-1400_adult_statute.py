"""Adults at full statutory depth (contract 1.1): allegations the enquiry corrects or adds, safeguarding
adults reviews (Care Act s44), an appropriate person's consent (s68), a plan closed with feedback withheld.

- ``allegations``: a version (If-Match), the enquiry that found an allegation added during it, who added
  it and when; ``allegation_changes``: each correction, with what it was, who, when and why;
- ``safeguarding_adults_reviews``: referral, decision against the criteria (commissioned or not),
  completion with findings and actions, and the advocacy assessment;
- ``advocacy``: how the appropriate person came to support the adult (consent, or a best interests
  decision);
- ``safeguarding_plans.feedback_withheld_reason``.

Under row-level security a correction follows its allegation; a review is adult social care's (the
hub's clause only, information governance included, as the policies in force).

Revision ID: 20261205_adult_statute
Revises: 20261205_referral_clocks
Create Date: 2026-12-05 14:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261205_adult_statute"
down_revision = "20261205_referral_clocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _policies() -> None:
    hub, _ = _module("20261204_council")._hub(with_governance=True)
    rules = {
        "allegation_changes": _module("20261129_policy_probes")._related("allegations", "allegation_id"),
        "safeguarding_adults_reviews": "false",
    }
    for table, rule in rules.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY visible ON {table} USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")


def upgrade() -> None:
    op.create_table(
        "safeguarding_adults_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("concern_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("adult_died", sa.Boolean(), nullable=False),
        sa.Column("criteria", sa.String(length=20), nullable=True),
        sa.Column("decision_on", sa.Date(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("commissioned_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("advocacy", sa.JSON(), nullable=True),
        sa.Column("advocacy_required", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_safeguarding_adults_reviews_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safeguarding_adults_reviews")),
    )
    with op.batch_alter_table("safeguarding_adults_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safeguarding_adults_reviews_completed_on"), ["completed_on"], unique=False
        )
        batch_op.create_index(
            "ix_safeguarding_adults_reviews_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index("ix_safeguarding_adults_reviews_decision_on", ["decision_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_safeguarding_adults_reviews_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "allegation_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("allegation_id", sa.Uuid(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["allegation_id"],
            ["allegations.id"],
            name=op.f("fk_allegation_changes_allegation_id_allegations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allegation_changes")),
    )
    with op.batch_alter_table("allegation_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allegation_changes_allegation_id"), ["allegation_id"], unique=False
        )

    with op.batch_alter_table("advocacy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appropriate_person_consent", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("best_interests_decision_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_advocacy_best_interests_decision_id_best_interests_decisions"),
            "best_interests_decisions",
            ["best_interests_decision_id"],
            ["id"],
        )

    with op.batch_alter_table("allegations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enquiry_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("added_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("added_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_allegations_enquiry_id"), ["enquiry_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_allegations_enquiry_id_enquiries"), "enquiries", ["enquiry_id"], ["id"]
        )

    with op.batch_alter_table("allegations", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None, existing_type=sa.Integer())

    with op.batch_alter_table("safeguarding_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_withheld_reason", sa.Text(), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        _policies()


def downgrade() -> None:
    with op.batch_alter_table("safeguarding_plans", schema=None) as batch_op:
        batch_op.drop_column("feedback_withheld_reason")

    with op.batch_alter_table("allegations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_allegations_enquiry_id_enquiries"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_allegations_enquiry_id"))
        batch_op.drop_column("version")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("added_at")
        batch_op.drop_column("added_by")
        batch_op.drop_column("enquiry_id")

    with op.batch_alter_table("advocacy", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_advocacy_best_interests_decision_id_best_interests_decisions"), type_="foreignkey"
        )
        batch_op.drop_column("best_interests_decision_id")
        batch_op.drop_column("appropriate_person_consent")

    with op.batch_alter_table("allegation_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allegation_changes_allegation_id"))

    op.drop_table("allegation_changes")  # its policy goes with it
    with op.batch_alter_table("safeguarding_adults_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguarding_adults_reviews_person_id"))
        batch_op.drop_index("ix_safeguarding_adults_reviews_decision_on")
        batch_op.drop_index("ix_safeguarding_adults_reviews_created_at_id")
        batch_op.drop_index(batch_op.f("ix_safeguarding_adults_reviews_completed_on"))

    op.drop_table("safeguarding_adults_reviews")
