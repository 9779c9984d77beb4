"""Webhook subscriptions of partner systems, the deliveries owed to them and each attempt made.

A subscription belongs to its owner (a client, or a person's ``sub`` when the token came from the
identity provider) in one agency, and reads the change feed as that owner from its own ``cursor``: the
worker (``mash worker``) turns each feed event the owner may see into one delivery (unique per
subscription and event), then sends it, retrying with backoff. The signing secret is kept encrypted
(``app.governance.webhooks.secrets``): it must be used, not only compared, so it cannot be hashed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped, Versioned, created_at_column, sub_column, uuid_pk

URL_LENGTH = 2048


class WebhookSubscription(Timestamped, Versioned, Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = uuid_pk()
    # Whose it is: the client's id (a partner system's token) or the person's sub.
    owner: Mapped[str] = sub_column()
    client_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("clients.id"), nullable=True)
    sub: Mapped[str] = sub_column()
    agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    role: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    url: Mapped[str] = mapped_column(sa.String(URL_LENGTH), nullable=False)
    event_types: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    secret_encrypted: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_by: Mapped[str | None] = sub_column(nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    # The feed position read up to: every visible event at or before it has a delivery.
    cursor: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    created_by: Mapped[str] = sub_column()

    __table_args__ = (
        sa.Index("ix_webhook_subscriptions_owner_created_at", "owner", "created_at", "id"),
        sa.Index("ix_webhook_subscriptions_active_cursor", "active", "cursor"),
    )


class WebhookDelivery(Base):
    """One message owed to a subscription: a feed event (or a test), its payload, and its state."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = uuid_pk()  # the ``webhook-id`` header: the same on every retry
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id"), nullable=False
    )
    event_seq: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    event_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    # pending (due at next_attempt_at), delivered, or failed (given up: retried past the window).
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_seq"),
        sa.Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )


class WebhookAttempt(Base):
    """One try at sending a delivery: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = uuid_pk()
    delivery_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhook_deliveries.id"), nullable=False)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id"), nullable=False
    )
    attempt: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(nullable=False)
    status_code: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # None: delivered (2xx); else why not (``app.governance.webhooks.sender.Failure``).
    error: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    latency_ms: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The delivery log shows each attempt with its delivery's event and state; loaded only when asked
    # (``selectinload``), never by touching it.
    delivery: Mapped[WebhookDelivery] = relationship(lazy="raise")

    __table_args__ = (
        sa.Index("ix_webhook_attempts_subscription_attempted_at", "subscription_id", "attempted_at", "id"),
    )
