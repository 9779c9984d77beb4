"""Webhooks (contract 1.1): partner systems' subscriptions to the change feed, the deliveries owed to
them and the delivery log (each attempt).

- ``webhook_subscriptions``: whose (owner, client, sub, agency, role), where (url), what (event types),
  the signing secret (encrypted), active or disabled (when, by whom, why) and the feed position read up
  to (``cursor``);
- ``webhook_deliveries``: one per subscription and feed event (unique), with its payload (ids and codes),
  state and next attempt; claimed by ``mash worker`` through the (state, next_attempt_at) index;
- ``webhook_attempts``: each try, with the status code, the failure, the latency and the next retry.

Under row-level security a subscription is its agency's (and the system's, which the worker is until it
reads the feed as the subscription's owner); deliveries and attempts follow their subscription.

Revision ID: 20261206_webhooks
Revises: 20261206_public_concerns
Create Date: 2026-12-06 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_webhooks"
down_revision: str | None = "20261206_public_concerns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUB_LENGTH = 255  # app.core.schemas.MAX_SUB_LENGTH when this was written
ROLE = "current_setting('mash.role', true)"
AGENCY = "current_setting('mash.agency', true)"
SYSTEM = f"({ROLE} = 'system')"
OWN = f"(agency = {AGENCY})"
PARENT = "EXISTS (SELECT 1 FROM webhook_subscriptions p WHERE p.id = subscription_id)"
POLICIES = {
    "webhook_subscriptions": f"{SYSTEM} OR {OWN}",
    "webhook_deliveries": f"{SYSTEM} OR {PARENT}",
    "webhook_attempts": f"{SYSTEM} OR {PARENT}",
}


def _timestamp(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(SUB_LENGTH), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("sub", sa.String(SUB_LENGTH), nullable=False),
        sa.Column("agency", sa.String(40), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("secret_encrypted", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("disabled_at"),
        sa.Column("disabled_by", sa.String(SUB_LENGTH), nullable=True),
        sa.Column("disabled_reason", sa.String(40), nullable=True),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(SUB_LENGTH), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_webhook_subscriptions_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        "ix_webhook_subscriptions_owner_created_at", "webhook_subscriptions", ["owner", "created_at", "id"]
    )
    op.create_index("ix_webhook_subscriptions_active_cursor", "webhook_subscriptions", ["active", "cursor"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        _timestamp("created_at", nullable=False),
        _timestamp("delivered_at"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_seq", name=op.f("uq_webhook_deliveries_subscription_id_event_seq")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_state_next_attempt_at", "webhook_deliveries", ["state", "next_attempt_at"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _timestamp("attempted_at", nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(40), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_attempts_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        "ix_webhook_attempts_subscription_attempted_at",
        "webhook_attempts",
        ["subscription_id", "attempted_at", "id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, rule in POLICIES.items():
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY visible ON {table} USING ({rule}) WITH CHECK ({rule})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in reversed(POLICIES):
            op.execute(f"DROP POLICY visible ON {table}")
    op.drop_index("ix_webhook_attempts_subscription_attempted_at", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_state_next_attempt_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_subscriptions_active_cursor", table_name="webhook_subscriptions")
    op.drop_index("ix_webhook_subscriptions_owner_created_at", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
