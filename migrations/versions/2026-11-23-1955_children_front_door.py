"""The children's front door: people (with matching keys and family links), referrals with their
children and household, agency contributions and their versions, threshold decisions,
communications, and case events (the referral timeline and the change feed's outbox).

Revision ID: 20261124_front_door
Revises: 20261123_foundation
Create Date: 2026-11-23 19:55:38.860868+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_front_door"
down_revision: str | None = "20261123_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_events",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aggregate_type", sa.String(length=40), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("actor_sub", sa.String(length=255), nullable=False),
        sa.Column("actor_agency", sa.String(length=40), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_case_events")),
        sa.UniqueConstraint("id", name=op.f("uq_case_events_id")),
    )
    op.create_index(
        "ix_case_events_aggregate", "case_events", ["aggregate_type", "aggregate_id", "seq"], unique=False
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("expected_date_of_birth", sa.Date(), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("address_lines", sa.JSON(), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("ethnicity", sa.String(length=4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_people_nhs_number")),
    )
    op.create_index("ix_people_created_at_id", "people", ["created_at", "id"], unique=False)
    op.create_table(
        "person_links",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("related_person_id", sa.Uuid(), nullable=False),
        sa.Column("relationship", sa.String(length=40), nullable=False),
        sa.Column("source_referral_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_links_person_id_people")),
        sa.ForeignKeyConstraint(
            ["related_person_id"], ["people.id"], name=op.f("fk_person_links_related_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "related_person_id", name=op.f("pk_person_links")),
    )
    op.create_table(
        "person_match_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_match_keys_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "person_id", name=op.f("pk_person_match_keys")),
    )
    op.create_index(op.f("ix_person_match_keys_person_id"), "person_match_keys", ["person_id"], unique=False)
    op.create_table(
        "referrals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("referring_agency", sa.String(length=40), nullable=False),
        sa.Column("referred_by", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("referrer", sa.JSON(), nullable=False),
        sa.Column("referral_source", sa.String(length=3), nullable=False),
        sa.Column("concern_categories", sa.JSON(), nullable=False),
        sa.Column("concern_summary", sa.Text(), nullable=False),
        sa.Column("parents_informed", sa.Boolean(), nullable=False),
        sa.Column("parents_consented", sa.Boolean(), nullable=False),
        sa.Column("consent_reason", sa.Text(), nullable=True),
        sa.Column("consent_override_reason", sa.Text(), nullable=True),
        sa.Column("consent_override_basis", sa.String(length=60), nullable=True),
        sa.Column("consent_override_special_category", sa.String(length=60), nullable=True),
        sa.Column("consent_override_by", sa.String(length=255), nullable=True),
        sa.Column("consent_override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("do_not_inform_parents", sa.Boolean(), nullable=False),
        sa.Column("do_not_inform_reason", sa.Text(), nullable=True),
        sa.Column("rag_rating", sa.String(length=10), nullable=True),
        sa.Column("rag_rationale", sa.Text(), nullable=True),
        sa.Column("rag_rated_by", sa.String(length=255), nullable=True),
        sa.Column("rag_rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("statutory_decision_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome_level", sa.SmallInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=255), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referring_agency"], ["agencies.code"], name=op.f("fk_referrals_referring_agency_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(
        "ix_referrals_agency_received_at", "referrals", ["referring_agency", "received_at"], unique=False
    )
    op.create_index("ix_referrals_decision_due_at", "referrals", ["decision_due_at"], unique=False)
    op.create_index("ix_referrals_rag_received_at", "referrals", ["rag_rating", "received_at"], unique=False)
    op.create_index("ix_referrals_received_at_id", "referrals", ["received_at", "id"], unique=False)
    op.create_index("ix_referrals_status_received_at", "referrals", ["status", "received_at"], unique=False)
    op.create_table(
        "contributions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency"], ["agencies.code"], name=op.f("fk_contributions_agency_agencies")),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_contributions_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    op.create_index(
        "ix_contributions_agency_requested_at",
        "contributions",
        ["agency", "requested_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_contributions_agency_status_due_at", "contributions", ["agency", "status", "due_at"], unique=False
    )
    op.create_index(op.f("ix_contributions_referral_id"), "contributions", ["referral_id"], unique=False)
    op.create_table(
        "referral_children",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("expected_date_of_birth", sa.Date(), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("address_lines", sa.JSON(), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("ethnicity", sa.String(length=4), nullable=True),
        sa.Column("match_status", sa.String(length=20), nullable=False),
        sa.Column("match_candidates", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_referral_children_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_children_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_children")),
    )
    op.create_index(op.f("ix_referral_children_person_id"), "referral_children", ["person_id"], unique=False)
    op.create_index(
        op.f("ix_referral_children_referral_id"), "referral_children", ["referral_id"], unique=False
    )
    op.create_table(
        "referral_communications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_communications_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_communications")),
    )
    op.create_index(
        op.f("ix_referral_communications_referral_id"),
        "referral_communications",
        ["referral_id"],
        unique=False,
    )
    op.create_table(
        "referral_household_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("relationship", sa.String(length=40), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("lives_with_children", sa.Boolean(), nullable=True),
        sa.Column("parental_responsibility", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_household_members_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_household_members")),
    )
    op.create_index(
        op.f("ix_referral_household_members_referral_id"),
        "referral_household_members",
        ["referral_id"],
        unique=False,
    )
    op.create_table(
        "threshold_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("primary_need", sa.String(length=2), nullable=True),
        sa.Column("assessment_factors", sa.JSON(), nullable=False),
        sa.Column("nfa", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=255), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=255), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_threshold_decisions_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threshold_decisions")),
    )
    op.create_index(
        op.f("ix_threshold_decisions_referral_id"), "threshold_decisions", ["referral_id"], unique=False
    )
    op.create_table(
        "contribution_responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contribution_id", sa.Uuid(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("information", sa.Text(), nullable=False),
        sa.Column("risk_indicators", sa.JSON(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("restriction_reason", sa.Text(), nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_contribution_responses_contribution_id_contributions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_responses")),
        sa.UniqueConstraint(
            "contribution_id",
            "version_number",
            name=op.f("uq_contribution_responses_contribution_id_version_number"),
        ),
    )


def downgrade() -> None:
    op.drop_table("contribution_responses")
    op.drop_index(op.f("ix_threshold_decisions_referral_id"), table_name="threshold_decisions")
    op.drop_table("threshold_decisions")
    op.drop_index(op.f("ix_referral_household_members_referral_id"), table_name="referral_household_members")
    op.drop_table("referral_household_members")
    op.drop_index(op.f("ix_referral_communications_referral_id"), table_name="referral_communications")
    op.drop_table("referral_communications")
    op.drop_index(op.f("ix_referral_children_referral_id"), table_name="referral_children")
    op.drop_index(op.f("ix_referral_children_person_id"), table_name="referral_children")
    op.drop_table("referral_children")
    op.drop_index(op.f("ix_contributions_referral_id"), table_name="contributions")
    op.drop_index("ix_contributions_agency_status_due_at", table_name="contributions")
    op.drop_index("ix_contributions_agency_requested_at", table_name="contributions")
    op.drop_table("contributions")
    op.drop_index("ix_referrals_status_received_at", table_name="referrals")
    op.drop_index("ix_referrals_received_at_id", table_name="referrals")
    op.drop_index("ix_referrals_rag_received_at", table_name="referrals")
    op.drop_index("ix_referrals_decision_due_at", table_name="referrals")
    op.drop_index("ix_referrals_agency_received_at", table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_person_match_keys_person_id"), table_name="person_match_keys")
    op.drop_table("person_match_keys")
    op.drop_table("person_links")
    op.drop_index("ix_people_created_at_id", table_name="people")
    op.drop_table("people")
    op.drop_index("ix_case_events_aggregate", table_name="case_events")
    op.drop_table("case_events")
