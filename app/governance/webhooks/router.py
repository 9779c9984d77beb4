"""/v1/webhook-subscriptions: a partner system's subscriptions to the change feed, pushed by
``mash worker`` as signed Standard Webhooks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Request

from app.core.auth import Principal, requires
from app.core.concurrency import Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.idempotency import idempotent
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import EventsRead
from app.core.routing import Router, handler
from app.core.scopes import Scope
from app.governance.webhooks import service
from app.governance.webhooks.schemas import (
    WebhookAttemptOut,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionOut,
    WebhookTestOut,
)

# The secret is never stored in the idempotency record: a replay answers it as null.
EventsReadOnce = Annotated[Principal, idempotent(requires(Scope.EVENTS_READ), redact=("secret",))]
router = Router(prefix="/v1/webhook-subscriptions", tags=["Webhooks"])

DELIVERY = """
**Delivery.** A separate process, `mash worker`, reads the change feed for each subscription as its
owner (the caller's client, in the caller's agency), from the moment of subscribing, and POSTs each
event it may see, of the types asked for, as JSON:
`{"type": <event_type>, "timestamp": <occurred_at>, "data": <the event exactly as GET /v1/events shows
it to your agency: ids and codes, never personal data>, "cursor": <the feed cursor just after it>}`.
Each message is signed as [Standard Webhooks](https://www.standardwebhooks.com/) says: headers
`webhook-id` (the same on every retry of one message: deduplicate on it), `webhook-timestamp` and
`webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret). Verify
it with a Standard Webhooks library and the `whsec_` secret returned when subscribing.

**At least once, recovered from the feed.** Any 2xx answer delivers; anything else (another status, a
redirect, which is never followed, no answer within the timeouts) is retried with exponential backoff
and jitter for at least 24 hours; then the message is given up and the subscription disabled
(`disabled_reason: failing`). Messages are not ordered: sort by `data.seq`. Whatever was missed is read
back from the change feed: poll GET /v1/events from the `cursor` of the last message you processed.
Destinations resolving to private, loopback or link-local addresses are refused when subscribing and
at every send.
"""


@router.post(
    "",
    summary="Subscribe a URL to the change feed's events",
    description=(
        "Subscribes the caller's client (or, for a person's token, the caller) to the events its agency "
        "sees on the change feed, from now on. Answers the subscription with its signing `secret`, "
        "shown once." + DELIVERY
    ),
    responses=problem_responses(422, codes={422: ["webhook_destination_refused"]}),
)
async def create_webhook_subscription(
    principal: EventsReadOnce,
    body: WebhookSubscriptionCreate,
    session: DbSession,
    request: Request,
    created: Created,
    answer: Versioned,
) -> WebhookSubscriptionCreated:
    subscription, secret = await service.create(session, principal, body, request.app.state.settings)
    out = WebhookSubscriptionCreated(**service.subscription_out(subscription).model_dump(), secret=secret)
    return created.at(
        f"/v1/webhook-subscriptions/{subscription.id}", answer.tagged(subscription.version, out)
    )


@router.get("", summary="List the caller's webhook subscriptions")
async def list_webhook_subscriptions(
    principal: EventsRead, session: DbSession, paging: Paging
) -> Page[WebhookSubscriptionOut]:
    """The subscriptions of the caller's client (or the caller's own), newest first. Never their secrets."""
    subscriptions, next_cursor = await service.list_owned(session, principal, paging.params)
    return paging.page([service.subscription_out(s) for s in subscriptions], next_cursor)


@router.get("/{subscription_id}", summary="Get one of the caller's webhook subscriptions")
async def get_webhook_subscription(
    subscription_id: uuid.UUID, answer: Versioned, principal: EventsRead, session: DbSession
) -> WebhookSubscriptionOut:
    """One subscription of the caller's client; another's is 404."""
    subscription = await service.read(session, principal, subscription_id)
    return answer.tagged(subscription.version, service.subscription_out(subscription))


async def set_webhook_subscription_active(
    subscription_id: uuid.UUID, answer: Versioned, principal: EventsRead, session: DbSession, *, active: bool
) -> WebhookSubscriptionOut:
    subscription = await service.set_active(session, principal, subscription_id, active=active)
    return answer.tagged(subscription.version, service.subscription_out(subscription))


# Disable and enable: one operation each, the same handler but for the state it sets.
for active, verb, summary, description in (
    (
        False,
        "disable",
        "Disable a webhook subscription",
        "Stop sending: messages wait, and the feed is not read for it, until it is enabled again. Nothing is "
        "deleted.",
    ),
    (
        True,
        "enable",
        "Enable a webhook subscription",
        "Resume sending: waiting messages are due at once and the feed is read on from where it stopped. A "
        "message given up while failing is not sent again: read it from the feed.",
    ),
):
    router.post(f"/{{subscription_id}}/{verb}", summary=summary, description=description)(
        handler(set_webhook_subscription_active, f"{verb}_webhook_subscription", bound={"active": active})
    )


@router.post(
    "/{subscription_id}/test",
    status_code=202,
    summary="Send a test message (webhook.test)",
    description="Queue a signed `webhook.test` message, `data: {subscription_id}`, `cursor: null`; the worker "
    "sends it as any other. Its attempts appear in the delivery log.",
    responses=problem_responses(409, codes={409: ["webhook_subscription_disabled"]}),
)
async def send_webhook_test(
    subscription_id: uuid.UUID, principal: EventsRead, session: DbSession
) -> WebhookTestOut:
    return await service.send_test(session, principal, subscription_id)


@router.get("/{subscription_id}/deliveries", summary="The delivery log: every attempt, newest first")
async def list_webhook_deliveries(
    subscription_id: uuid.UUID, principal: EventsRead, session: DbSession, paging: Paging
) -> Page[WebhookAttemptOut]:
    """Each attempt at sending a message: the event, when, the receiver's status code, the latency, why it failed and when it is retried."""
    items, next_cursor = await service.delivery_log(session, principal, subscription_id, paging.params)
    return paging.page(items, next_cursor)
