"""Subscribing, disabling and enabling, the test event and the delivery log. Every change is audited;
reading the delivery log (event ids and types) is audited as a read."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.config import Settings
from app.core.errors import AppError, NotFound
from app.core.pagination import PageParams, encode_cursor
from app.governance.feed import repository as feed_repository
from app.governance.feed.schemas import FeedEvent
from app.governance.webhooks import destinations, repository, secrets
from app.governance.webhooks.access import owner_of
from app.governance.webhooks.schemas import (
    TEST_EVENT_TYPE,
    WebhookAttemptOut,
    WebhookDeliveryState,
    WebhookDisabledReason,
    WebhookSubscriptionCreate,
    WebhookSubscriptionOut,
    WebhookTestOut,
)
from app.models.webhook import WebhookDelivery, WebhookSubscription

RECORD_TYPE = "webhook_subscription"


def subscription_out(subscription: WebhookSubscription) -> WebhookSubscriptionOut:
    return WebhookSubscriptionOut.model_validate(
        {
            "id": subscription.id,
            "url": subscription.url,
            "event_types": subscription.event_types or None,
            "description": subscription.description,
            "active": subscription.active,
            "disabled_at": subscription.disabled_at,
            "disabled_reason": subscription.disabled_reason,
            "feed_cursor": encode_cursor([subscription.cursor]),
            "created_at": subscription.created_at,
            "created_by": subscription.created_by,
            "updated_at": subscription.updated_at,
        }
    )


def event_message(item: dict[str, Any]) -> dict[str, Any]:
    """What a subscriber receives for a feed event: the event exactly as its agency sees it on
    GET /v1/events, and the feed cursor just after it (polling from it reads what came next)."""
    event = FeedEvent.model_validate(item).model_dump(mode="json")
    return {
        "type": event["event_type"],
        "timestamp": event["occurred_at"],
        "data": event,
        "cursor": encode_cursor([item["seq"]]),
    }


def test_message(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "type": TEST_EVENT_TYPE,
        "timestamp": clock.now().isoformat(),
        "data": {"subscription_id": str(subscription.id)},
        "cursor": None,
    }


async def _checked(url: str, settings: Settings) -> None:
    try:
        await destinations.check(url, settings)
    except destinations.Refused as refused:
        raise AppError(
            refused.message,
            code="webhook_destination_refused",
            errors=[{"loc": ["body", "url"], "msg": refused.message}],
        ) from None


async def create(
    session: AsyncSession, principal: Principal, data: WebhookSubscriptionCreate, settings: Settings
) -> tuple[WebhookSubscription, str]:
    """Subscribe from now on (the feed's head): returns the subscription and its secret, shown once."""
    await _checked(data.url, settings)
    secret = secrets.new_secret()
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        owner=owner_of(principal),
        client_id=principal.client_id,
        sub=principal.sub,
        agency=str(principal.agency),
        role=str(principal.role),
        url=data.url,
        event_types=sorted({str(t) for t in data.event_types or ()}),
        description=data.description,
        secret_encrypted=secrets.seal(settings, secret),
        active=True,
        cursor=await feed_repository.head(session),
        created_by=principal.sub,
    )
    session.add(subscription)
    await session.flush()
    details = {"event_types": subscription.event_types, "client_id": str(principal.client_id)}
    audit.record(session, principal, AuditAction.CREATE, RECORD_TYPE, subscription.id, details=details)
    return subscription, secret


async def list_owned(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[WebhookSubscription], str | None]:
    return await repository.list_owned(session, principal, params)


async def get(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, for_update: bool = False
) -> WebhookSubscription:
    subscription = await repository.get_owned(session, principal, subscription_id, for_update=for_update)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    return subscription


async def read(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await get(session, principal, subscription_id)
    audit.record(session, principal, AuditAction.READ, RECORD_TYPE, subscription.id)
    return subscription


async def set_active(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, active: bool
) -> WebhookSubscription:
    """Disable (deliveries wait) or enable (they resume, due at once; the feed is read on from where it
    stopped). Either is a no-op on a subscription already so, and still audited."""
    subscription = await get(session, principal, subscription_id, for_update=True)
    now = clock.now()
    if subscription.active != active:
        subscription.active = active
        subscription.updated_at = now
        if active:
            subscription.disabled_at = subscription.disabled_by = subscription.disabled_reason = None
            await session.execute(
                sa.update(WebhookDelivery)
                .where(
                    WebhookDelivery.subscription_id == subscription.id,
                    WebhookDelivery.state == WebhookDeliveryState.PENDING,
                )
                .values(next_attempt_at=now)
            )
        else:
            subscription.disabled_at = now
            subscription.disabled_by = principal.sub
            subscription.disabled_reason = WebhookDisabledReason.BY_OWNER
        await session.flush()
    audit.record(
        session, principal, AuditAction.UPDATE, RECORD_TYPE, subscription.id, details={"active": active}
    )
    return subscription


async def send_test(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookTestOut:
    subscription = await get(session, principal, subscription_id)
    if not subscription.active:
        raise AppError(code="webhook_subscription_disabled")
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        subscription_id=subscription.id,
        event_type=TEST_EVENT_TYPE,
        payload=test_message(subscription),
        state=WebhookDeliveryState.PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
    )
    session.add(delivery)
    await session.flush()
    audit.record(
        session, principal, AuditAction.CREATE, "webhook_delivery", delivery.id, details={"test": True}
    )
    return WebhookTestOut(
        delivery_id=delivery.id, event_type=TEST_EVENT_TYPE, state=WebhookDeliveryState.PENDING
    )


async def delivery_log(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, params: PageParams
) -> tuple[list[WebhookAttemptOut], str | None]:
    subscription = await get(session, principal, subscription_id)
    attempts, next_cursor = await repository.attempts(session, subscription.id, params)
    items = [WebhookAttemptOut.model_validate(a) for a in attempts]
    if items:
        audit.record(
            session,
            principal,
            AuditAction.LIST,
            "webhook_attempt",
            details={
                "subscription_id": str(subscription.id),
                "case_event_ids": sorted({str(i.event_id) for i in items if i.event_id is not None}),
            },
        )
    return items, next_cursor
