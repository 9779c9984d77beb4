"""Webhook subscriptions, their delivery log, and the messages a subscriber receives."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AliasPath, Field

from app.core.pagination import MAX_CURSOR_LENGTH
from app.core.schemas import SINGLE_LINE, RequestModel, ResponseModel, SequenceNumber, Sub, example
from app.governance.feed.rules import EventType
from app.governance.webhooks.sender import Failure
from app.models.webhook import URL_LENGTH

TEST_EVENT_TYPE = "webhook.test"
MAX_EVENT_TYPES = 60
WebhookUrl = Annotated[
    str,
    Field(
        min_length=10,
        max_length=URL_LENGTH,
        pattern=r"^[hH][tT][tT][pP][sS]?://[^\s/?#@]+(/[^\s#]*)?$",
        description=(
            "Where to POST: `https` in production. A name or address that resolves to a private, "
            "loopback, link-local or otherwise non-public address is refused (unless the service allows "
            "it for development), here and again at every delivery. No credentials, no fragment."
        ),
    ),
]
Description = Annotated[str, Field(min_length=1, max_length=500, pattern=SINGLE_LINE)]


class WebhookDisabledReason(StrEnum):
    """Why a subscription is disabled."""

    BY_OWNER = "by_owner"  # its owner disabled it
    FAILING = "failing"  # a delivery failed past the retry window
    CLIENT_REVOKED = "client_revoked"  # its client was revoked


class WebhookDeliveryState(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


WebhookFailure = Failure


class WebhookSubscriptionCreate(RequestModel):
    model_config = example(
        {
            "url": "https://ppu.police.example/mash-webhooks",
            "event_types": ["referral.rated", "referral.decided"],
            "description": "Police PPU case system: outcomes of our referrals",
        }
    )

    url: WebhookUrl
    event_types: list[EventType] | None = Field(
        None,
        max_length=MAX_EVENT_TYPES,
        description="Only these feed event types; omitted or null: every type the agency may see.",
    )
    description: Description = Field(description="What receives it, for the delivery log's reader.")


_SUBSCRIPTION = {
    "id": "5f0c2d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f",
    "url": "https://ppu.police.example/mash-webhooks",
    "event_types": ["referral.rated", "referral.decided"],
    "description": "Police PPU case system: outcomes of our referrals",
    "active": True,
    "disabled_at": None,
    "disabled_reason": None,
    "feed_cursor": "WzEwNDFd",
    "created_at": "2026-12-06T09:00:00Z",
    "created_by": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
    "updated_at": None,
}


class WebhookSubscriptionOut(ResponseModel):
    model_config = example(_SUBSCRIPTION)

    id: uuid.UUID
    url: WebhookUrl
    event_types: list[EventType] | None = Field(
        max_length=MAX_EVENT_TYPES, description="The types delivered; null: every type the agency may see."
    )
    description: Description
    active: bool
    disabled_at: datetime | None
    disabled_reason: WebhookDisabledReason | None
    feed_cursor: str = Field(
        max_length=MAX_CURSOR_LENGTH,
        description=(
            "The change feed position the subscription has reached: every event up to it has been turned "
            "into a delivery. The same cursor as GET /v1/events takes."
        ),
    )
    created_at: datetime
    created_by: Sub
    updated_at: datetime | None


class WebhookSubscriptionCreated(WebhookSubscriptionOut):
    model_config = example({**_SUBSCRIPTION, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})

    secret: str | None = Field(
        max_length=100,
        pattern=r"^whsec_[A-Za-z0-9+/=]+$",
        description=(
            "The signing secret, shown in this response only: verify each delivery's `webhook-signature` "
            "with it (Standard Webhooks). Null in an idempotent replay: disable that subscription and "
            "make another."
        ),
    )


class WebhookAttemptOut(ResponseModel):
    model_config = example(
        {
            "id": "8e7d6c5b-4a39-4281-9f0e-d1c2b3a49586",
            "delivery_id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
            "event_id": "6b1f0c9e-2d4a-4e8b-9c7d-1a2b3c4d5e6f",
            "event_seq": 1041,
            "event_type": "referral.rated",
            "attempt": 2,
            "attempted_at": "2026-12-06T09:00:12Z",
            "status_code": 503,
            "error": "http_error",
            "latency_ms": 84,
            "next_attempt_at": "2026-12-06T09:00:31Z",
            "delivery_state": "pending",
        }
    )

    id: uuid.UUID
    delivery_id: uuid.UUID = Field(
        description="The message: its `webhook-id` header, the same on each retry."
    )
    # The delivery's, read from the attempt (``delivery``) as it is validated.
    event_id: uuid.UUID | None = Field(
        description="The feed event delivered; null for a test.",
        validation_alias=AliasPath("delivery", "event_id"),
    )
    event_seq: SequenceNumber | None = Field(validation_alias=AliasPath("delivery", "event_seq"))
    event_type: Annotated[str, Field(max_length=60, pattern=r"^[a-z0-9_.]+$")] = Field(
        description="The feed event's type, or `webhook.test`.",
        validation_alias=AliasPath("delivery", "event_type"),
    )
    attempt: Annotated[int, Field(ge=1, le=10_000)]
    attempted_at: datetime
    status_code: Annotated[int, Field(ge=100, le=599)] | None = Field(
        description="The receiver's status; null when no answer came."
    )
    error: WebhookFailure | None = Field(description="Why it did not deliver; null when it did (2xx).")
    latency_ms: Annotated[int, Field(ge=0, le=3_600_000)]
    next_attempt_at: datetime | None = Field(description="When it is retried; null when it will not be.")
    delivery_state: WebhookDeliveryState = Field(validation_alias=AliasPath("delivery", "state"))


class WebhookTestOut(ResponseModel):
    model_config = example(
        {
            "delivery_id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
            "event_type": "webhook.test",
            "state": "pending",
        }
    )

    delivery_id: uuid.UUID = Field(description="Its `webhook-id`: find its attempts in the delivery log.")
    event_type: Annotated[str, Field(max_length=60, pattern=r"^webhook\.test$")]
    state: WebhookDeliveryState
