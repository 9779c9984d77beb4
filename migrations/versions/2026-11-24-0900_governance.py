"""Governance: disclosure log and subject access requests, hub settings (timescales), and what the
change feed and the statutory reports need.

Revision ID: 20261126_governance
Revises: 20261125_adults
Create Date: 2026-11-24 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_governance"
down_revision: str | None = "20261125_adults"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Each part of the governance work owns one pair of functions; upgrade() and downgrade() call them in
# order (and the reverse). Keep each part's schema inside its own functions.


def _upgrade_disclosures_and_subject_access() -> None:
    op.create_table(
        "subject_access_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("requester", sa.JSON(), nullable=False),
        sa.Column("requester_relationship", sa.String(length=30), nullable=False),
        sa.Column("identity_verified", sa.Boolean(), nullable=False),
        sa.Column("authority_confirmed", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("logged_by", sa.String(length=255), nullable=False),
        sa.Column("logged_by_agency", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_by", sa.String(length=255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_subject_access_requests_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_access_requests")),
    )
    op.create_index(
        "ix_subject_access_requests_created_at_id", "subject_access_requests", ["created_at", "id"]
    )
    op.create_index(op.f("ix_subject_access_requests_person_id"), "subject_access_requests", ["person_id"])
    op.create_index(
        "ix_subject_access_requests_status_due_on", "subject_access_requests", ["status", "due_on"]
    )
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("referral_child_id", sa.Uuid(), nullable=True),
        sa.Column("adult_concern_id", sa.Uuid(), nullable=True),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=30), nullable=False),
        sa.Column("recipient_type", sa.String(length=20), nullable=False),
        sa.Column("recipient_agency", sa.String(length=40), nullable=True),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("lawful_basis", sa.String(length=60), nullable=False),
        sa.Column("special_category_condition", sa.String(length=60), nullable=True),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_sub", sa.String(length=255), nullable=False),
        sa.Column("actor_agency", sa.String(length=40), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("subject_access_request_id", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "person_id IS NOT NULL OR referral_child_id IS NOT NULL OR adult_concern_id IS NOT NULL",
            name=op.f("ck_disclosures_names_a_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["adult_concern_id"],
            ["adult_concerns.id"],
            name=op.f("fk_disclosures_adult_concern_id_adult_concerns"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_disclosures_person_id_people")),
        sa.ForeignKeyConstraint(
            ["recipient_agency"], ["agencies.code"], name=op.f("fk_disclosures_recipient_agency_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["referral_child_id"],
            ["referral_children.id"],
            name=op.f("fk_disclosures_referral_child_id_referral_children"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_access_request_id"],
            ["subject_access_requests.id"],
            name=op.f("fk_disclosures_subject_access_request_id_subject_access_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    op.create_index(op.f("ix_disclosures_adult_concern_id"), "disclosures", ["adult_concern_id"])
    op.create_index("ix_disclosures_disclosed_at_id", "disclosures", ["disclosed_at", "id"])
    op.create_index(op.f("ix_disclosures_person_id"), "disclosures", ["person_id"])
    op.create_index(op.f("ix_disclosures_referral_child_id"), "disclosures", ["referral_child_id"])


def _downgrade_disclosures_and_subject_access() -> None:
    op.drop_index(op.f("ix_disclosures_referral_child_id"), table_name="disclosures")
    op.drop_index(op.f("ix_disclosures_person_id"), table_name="disclosures")
    op.drop_index("ix_disclosures_disclosed_at_id", table_name="disclosures")
    op.drop_index(op.f("ix_disclosures_adult_concern_id"), table_name="disclosures")
    op.drop_table("disclosures")
    op.drop_index("ix_subject_access_requests_status_due_on", table_name="subject_access_requests")
    op.drop_index(op.f("ix_subject_access_requests_person_id"), table_name="subject_access_requests")
    op.drop_index("ix_subject_access_requests_created_at_id", table_name="subject_access_requests")
    op.drop_table("subject_access_requests")


def _upgrade_settings() -> None:
    # Hub-wide settings changed through the API (today the timescales); no row: the configuration applies.
    op.create_table(
        "hub_settings",
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_hub_settings")),
    )


def _downgrade_settings() -> None:
    op.drop_table("hub_settings")


def _upgrade_change_feed() -> None:
    # Nothing to add: the feed reads case_events (the outbox, made with the referrals) by its primary
    # key and probes existing keys and indexes per event (see app/feed/repository.py and
    # bench/feed_query.py for the plan on a million events).
    pass


def _downgrade_change_feed() -> None:
    pass


def _upgrade_reports() -> None:
    # The timeliness report counts open information requests by status and deadline; the agency-first
    # index cannot serve a query over every agency.
    op.create_index("ix_contributions_status_due_at", "contributions", ["status", "due_at"])
    # SAC SG1 counts enquiries started in the reporting year.
    op.create_index("ix_enquiries_opened_at", "enquiries", ["opened_at"])


def _downgrade_reports() -> None:
    op.drop_index("ix_enquiries_opened_at", table_name="enquiries")
    op.drop_index("ix_contributions_status_due_at", table_name="contributions")


def upgrade() -> None:
    _upgrade_disclosures_and_subject_access()
    _upgrade_settings()
    _upgrade_change_feed()
    _upgrade_reports()


def downgrade() -> None:
    _downgrade_reports()
    _downgrade_change_feed()
    _downgrade_settings()
    _downgrade_disclosures_and_subject_access()
