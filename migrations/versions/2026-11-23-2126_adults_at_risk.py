"""Adults at risk: concerns and allegations, section 42 decisions, enquiries, capacity assessments
and best interests decisions, advocates and advocacy, safeguarding plans with actions and reviews.

Revision ID: 20261125_adults
Revises: 20261124_front_door
Create Date: 2026-11-23 21:26:53.179120+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_adults"
down_revision: str | None = "20261124_front_door"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advocates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advocates")),
    )
    op.create_index("ix_advocates_created_at_id", "advocates", ["created_at", "id"], unique=False)
    op.create_table(
        "adult_concerns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("raising_agency", sa.String(length=40), nullable=False),
        sa.Column("raised_by_sub", sa.String(length=255), nullable=False),
        sa.Column("raised_by", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("address_lines", sa.JSON(), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("ethnicity", sa.String(length=4), nullable=True),
        sa.Column("primary_support_reason", sa.String(length=30), nullable=True),
        sa.Column("match_status", sa.String(length=20), nullable=False),
        sa.Column("match_candidates", sa.JSON(), nullable=False),
        sa.Column("adult_views", sa.Text(), nullable=True),
        sa.Column("desired_outcomes", sa.Text(), nullable=True),
        sa.Column("consent_to_share", sa.Boolean(), nullable=True),
        sa.Column("concerns_about_capacity", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("closure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_adult_concerns_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["raising_agency"], ["agencies.code"], name=op.f("fk_adult_concerns_raising_agency_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adult_concerns")),
    )
    op.create_index(
        "ix_adult_concerns_agency_received_at",
        "adult_concerns",
        ["raising_agency", "received_at"],
        unique=False,
    )
    op.create_index("ix_adult_concerns_decision_due_at", "adult_concerns", ["decision_due_at"], unique=False)
    op.create_index(op.f("ix_adult_concerns_person_id"), "adult_concerns", ["person_id"], unique=False)
    op.create_index("ix_adult_concerns_received_at_id", "adult_concerns", ["received_at", "id"], unique=False)
    op.create_index(
        "ix_adult_concerns_status_received_at", "adult_concerns", ["status", "received_at"], unique=False
    )
    op.create_table(
        "advocacy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("substantial_difficulty", sa.Boolean(), nullable=False),
        sa.Column("appropriate_person_available", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("offer", sa.String(length=20), nullable=False),
        sa.Column("advocate_id", sa.Uuid(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["advocates.id"], name=op.f("fk_advocacy_advocate_id_advocates")
        ),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["adult_concerns.id"], name=op.f("fk_advocacy_concern_id_adult_concerns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advocacy")),
    )
    op.create_index(op.f("ix_advocacy_concern_id"), "advocacy", ["concern_id"], unique=False)
    op.create_table(
        "allegations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("type_of_risk", sa.String(length=40), nullable=False),
        sa.Column("location_of_risk", sa.String(length=40), nullable=False),
        sa.Column("source_of_risk", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("alleged_person", sa.JSON(), nullable=True),
        sa.Column("result", sa.String(length=60), nullable=True),
        sa.Column("risk_outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["adult_concerns.id"], name=op.f("fk_allegations_concern_id_adult_concerns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allegations")),
    )
    op.create_index(op.f("ix_allegations_concern_id"), "allegations", ["concern_id"], unique=False)
    op.create_table(
        "capacity_assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("relevant_information", sa.Text(), nullable=False),
        sa.Column("support_provided", sa.Text(), nullable=False),
        sa.Column("understand", sa.JSON(), nullable=False),
        sa.Column("retain", sa.JSON(), nullable=False),
        sa.Column("use_or_weigh", sa.JSON(), nullable=False),
        sa.Column("communicate", sa.JSON(), nullable=False),
        sa.Column("impairment", sa.Text(), nullable=True),
        sa.Column("causative_link", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("may_fluctuate", sa.Boolean(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessor", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["adult_concerns.id"],
            name=op.f("fk_capacity_assessments_concern_id_adult_concerns"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_capacity_assessments_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_assessments")),
    )
    op.create_index(
        op.f("ix_capacity_assessments_concern_id"), "capacity_assessments", ["concern_id"], unique=False
    )
    op.create_index(
        op.f("ix_capacity_assessments_person_id"), "capacity_assessments", ["person_id"], unique=False
    )
    op.create_table(
        "enquiries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("lead_agency", sa.String(length=40), nullable=False),
        sa.Column("caused_to_agency", sa.String(length=40), nullable=True),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_by", sa.String(length=255), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("msp_asked", sa.String(length=30), nullable=True),
        sa.Column("msp_outcomes_achieved", sa.String(length=20), nullable=True),
        sa.Column("lacked_capacity", sa.String(length=20), nullable=True),
        sa.Column("advocate_support", sa.Boolean(), nullable=True),
        sa.Column("conclusion_summary", sa.Text(), nullable=True),
        sa.Column("concluded_by", sa.String(length=255), nullable=True),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["caused_to_agency"], ["agencies.code"], name=op.f("fk_enquiries_caused_to_agency_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["adult_concerns.id"], name=op.f("fk_enquiries_concern_id_adult_concerns")
        ),
        sa.ForeignKeyConstraint(
            ["lead_agency"], ["agencies.code"], name=op.f("fk_enquiries_lead_agency_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enquiries")),
        sa.UniqueConstraint("concern_id", name=op.f("uq_enquiries_concern_id")),
    )
    op.create_index(op.f("ix_enquiries_caused_to_agency"), "enquiries", ["caused_to_agency"], unique=False)
    op.create_index(op.f("ix_enquiries_concluded_at"), "enquiries", ["concluded_at"], unique=False)
    op.create_table(
        "safeguarding_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lead", sa.JSON(), nullable=False),
        sa.Column("adult_wishes", sa.Text(), nullable=False),
        sa.Column("protective_people", sa.Text(), nullable=True),
        sa.Column("contingency", sa.Text(), nullable=False),
        sa.Column("review_due_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("closure_reason", sa.Text(), nullable=True),
        sa.Column("closure_adult_view", sa.Text(), nullable=True),
        sa.Column("feedback_given", sa.Boolean(), nullable=True),
        sa.Column("sar_considered", sa.Boolean(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["adult_concerns.id"],
            name=op.f("fk_safeguarding_plans_concern_id_adult_concerns"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_safeguarding_plans_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safeguarding_plans")),
    )
    op.create_index(
        op.f("ix_safeguarding_plans_concern_id"), "safeguarding_plans", ["concern_id"], unique=False
    )
    op.create_index(
        "ix_safeguarding_plans_created_at_id", "safeguarding_plans", ["created_at", "id"], unique=False
    )
    op.create_index(
        op.f("ix_safeguarding_plans_person_id"), "safeguarding_plans", ["person_id"], unique=False
    )
    op.create_index(
        "ix_safeguarding_plans_status_review_due_on",
        "safeguarding_plans",
        ["status", "review_due_on"],
        unique=False,
    )
    op.create_table(
        "section_42_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("care_and_support_needs", sa.JSON(), nullable=False),
        sa.Column("experiencing_or_at_risk", sa.JSON(), nullable=False),
        sa.Column("unable_to_protect_self", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("alternative_route", sa.String(length=30), nullable=True),
        sa.Column("alternative_route_details", sa.Text(), nullable=True),
        sa.Column("referrer_feedback", sa.Text(), nullable=False),
        sa.Column("feedback_limited_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["adult_concerns.id"],
            name=op.f("fk_section_42_decisions_concern_id_adult_concerns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section_42_decisions")),
        sa.UniqueConstraint("concern_id", name=op.f("uq_section_42_decisions_concern_id")),
    )
    op.create_table(
        "best_interests_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("consultees", sa.JSON(), nullable=False),
        sa.Column("imca_involved", sa.Boolean(), nullable=False),
        sa.Column("decision_maker", sa.JSON(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["capacity_assessments.id"],
            name=op.f("fk_best_interests_decisions_assessment_id_capacity_assessments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_best_interests_decisions")),
        sa.UniqueConstraint("assessment_id", name=op.f("uq_best_interests_decisions_assessment_id")),
    )
    op.create_table(
        "plan_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency"], ["agencies.code"], name=op.f("fk_plan_actions_agency_agencies")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["safeguarding_plans.id"], name=op.f("fk_plan_actions_plan_id_safeguarding_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_actions")),
    )
    op.create_index(op.f("ix_plan_actions_agency"), "plan_actions", ["agency"], unique=False)
    op.create_index(op.f("ix_plan_actions_plan_id"), "plan_actions", ["plan_id"], unique=False)
    op.create_table(
        "plan_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("next_review_due_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["safeguarding_plans.id"], name=op.f("fk_plan_reviews_plan_id_safeguarding_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reviews")),
    )
    op.create_index(op.f("ix_plan_reviews_plan_id"), "plan_reviews", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_reviews_plan_id"), table_name="plan_reviews")
    op.drop_table("plan_reviews")
    op.drop_index(op.f("ix_plan_actions_plan_id"), table_name="plan_actions")
    op.drop_index(op.f("ix_plan_actions_agency"), table_name="plan_actions")
    op.drop_table("plan_actions")
    op.drop_table("best_interests_decisions")
    op.drop_table("section_42_decisions")
    op.drop_index("ix_safeguarding_plans_status_review_due_on", table_name="safeguarding_plans")
    op.drop_index(op.f("ix_safeguarding_plans_person_id"), table_name="safeguarding_plans")
    op.drop_index("ix_safeguarding_plans_created_at_id", table_name="safeguarding_plans")
    op.drop_index(op.f("ix_safeguarding_plans_concern_id"), table_name="safeguarding_plans")
    op.drop_table("safeguarding_plans")
    op.drop_index(op.f("ix_enquiries_concluded_at"), table_name="enquiries")
    op.drop_index(op.f("ix_enquiries_caused_to_agency"), table_name="enquiries")
    op.drop_table("enquiries")
    op.drop_index(op.f("ix_capacity_assessments_person_id"), table_name="capacity_assessments")
    op.drop_index(op.f("ix_capacity_assessments_concern_id"), table_name="capacity_assessments")
    op.drop_table("capacity_assessments")
    op.drop_index(op.f("ix_allegations_concern_id"), table_name="allegations")
    op.drop_table("allegations")
    op.drop_index(op.f("ix_advocacy_concern_id"), table_name="advocacy")
    op.drop_table("advocacy")
    op.drop_index("ix_adult_concerns_status_received_at", table_name="adult_concerns")
    op.drop_index("ix_adult_concerns_received_at_id", table_name="adult_concerns")
    op.drop_index(op.f("ix_adult_concerns_person_id"), table_name="adult_concerns")
    op.drop_index("ix_adult_concerns_decision_due_at", table_name="adult_concerns")
    op.drop_index("ix_adult_concerns_agency_received_at", table_name="adult_concerns")
    op.drop_table("adult_concerns")
    op.drop_index("ix_advocates_created_at_id", table_name="advocates")
    op.drop_table("advocates")
