"""Delivery by the worker, in process, to a real receiver on 127.0.0.1: what arrives, signed how, the
same as the feed; retries, giving up, timeouts and addresses refused at send time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.config import Settings
from app.governance.webhooks import sender
from app.governance.webhooks.worker import Worker
from tests.fixtures.callers import Who
from tests.fixtures.feed import read_all
from tests.fixtures.http import ok
from tests.fixtures.referrals import create_referral, rate, referral_body, unique_child
from tests.fixtures.values import Headers
from tests.webhooks.conftest import partner_token
from tests.webhooks.receiver import Receiver, verified


@asynccontextmanager
async def worker(app: FastAPI, **overrides: Any) -> AsyncIterator[None]:
    """A worker running beside the app, on its database, until the block ends."""
    settings: Settings = app.state.settings
    if overrides:
        settings = settings.model_copy(update=overrides)
    stop = asyncio.Event()
    async with sender.client(settings) as http:
        task = asyncio.create_task(Worker(settings, app.state.sessionmaker, http).run(stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def subscribe(http: httpx.AsyncClient, headers: Headers, url: str, **fields: Any) -> dict[str, Any]:
    return ok(
        await http.post(
            "/v1/webhook-subscriptions",
            json={"url": url, "description": "receiver", **fields},
            headers=headers,
        ),
        201,
    )


async def failing_subscription(
    http: httpx.AsyncClient, admin: Headers, receiver: Receiver, path: str, failures: int
) -> tuple[Headers, dict[str, Any]]:
    """A partner's token and its subscription to ``path`` of the receiver, which fails its first
    ``failures`` requests there (503)."""
    police = await partner_token(http, admin)
    sub = await subscribe(http, police, receiver.url(path))
    receiver.failures_left[path] = failures
    return police, sub


async def log_of(http: httpx.AsyncClient, headers: Headers, subscription_id: str) -> list[dict[str, Any]]:
    page = ok(await http.get(f"/v1/webhook-subscriptions/{subscription_id}/deliveries", headers=headers))
    items: list[dict[str, Any]] = page["items"]
    return items


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30) -> None:
    """Wait until ``check`` holds: the worker's writes land in their own time."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def test_each_event_arrives_once_signed_as_the_feed_shows_it(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police = await partner_token(client, admin)
    sub = await subscribe(client, police, receiver.url("/police"))
    cursor = sub["feed_cursor"]
    for _ in range(3):
        referral = await create_referral(client, who["police"], referral_body(unique_child()))
        await rate(client, who["practitioner"], referral["id"], "red")
    # Another agency's referral: nothing of it is the police's to see.
    await create_referral(client, who["health"], referral_body(unique_child()))
    feed, _ = await read_all(client, police, cursor)
    assert len(feed) == 6  # received and rated, three times

    async with worker(app):
        arrived = await receiver.wait_for("/police", len(feed))
    messages = [verified(str(sub["secret"]), r) for r in arrived]
    assert sorted((m["data"] for m in messages), key=lambda e: e["seq"]) == feed
    assert len({r.headers["webhook-id"] for r in arrived}) == len(feed)
    for message in messages:
        assert message["type"] == message["data"]["event_type"]
        # The cursor just after the event: the feed read from it starts after it.
        after, _ = await read_all(client, police, message["cursor"])
        assert [e["seq"] for e in after] == [e["seq"] for e in feed if e["seq"] > message["data"]["seq"]]
    log = await log_of(client, police, str(sub["id"]))
    assert len(log) == len(feed)
    assert {(a["status_code"], a["error"], a["delivery_state"], a["attempt"]) for a in log} == {
        (204, None, "delivered", 1)
    }
    assert sorted(a["event_id"] for a in log) == sorted(e["id"] for e in feed)


async def test_only_the_types_asked_for_and_the_test_event(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police = await partner_token(client, admin)
    sub = await subscribe(client, police, receiver.url("/rated"), event_types=["referral.rated"])
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"], "amber")
    queued = ok(await client.post(f"/v1/webhook-subscriptions/{sub['id']}/test", headers=police), 202)
    async with worker(app):
        arrived = await receiver.wait_for("/rated", 2)
    by_type = {m["type"]: m for m in (verified(str(sub["secret"]), r) for r in arrived)}
    assert set(by_type) == {"referral.rated", "webhook.test"}
    assert by_type["referral.rated"]["data"]["record_id"] == referral["id"]
    assert by_type["webhook.test"]["data"] == {"subscription_id": sub["id"]}
    assert by_type["webhook.test"]["cursor"] is None
    test_request = next(r for r in arrived if r.json()["type"] == "webhook.test")
    assert test_request.headers["webhook-id"] == queued["delivery_id"]


async def test_a_receiver_that_fails_three_times_gets_it_on_retry(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police, sub = await failing_subscription(client, admin, receiver, "/flaky", 3)
    await create_referral(client, who["police"], referral_body(unique_child()))
    async with worker(app):
        arrived = await receiver.wait_for("/flaky", 1)
        await asyncio.sleep(0.3)  # time for a duplicate to show up, were one sent
    assert len(receiver.on("/flaky")) == 1
    assert verified(str(sub["secret"]), arrived[0])["type"] == "referral.received"
    log = sorted(await log_of(client, police, str(sub["id"])), key=lambda a: a["attempt"])
    assert [(a["attempt"], a["status_code"], a["error"]) for a in log] == [
        (1, 503, "http_error"),
        (2, 503, "http_error"),
        (3, 503, "http_error"),
        (4, 204, None),
    ]
    assert all(a["next_attempt_at"] is not None for a in log[:3]) and log[3]["next_attempt_at"] is None
    assert len({a["delivery_id"] for a in log}) == 1  # one message, the same webhook-id each time


async def test_a_hanging_receiver_times_out_and_does_not_hold_up_others(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police = await partner_token(client, admin)
    stuck = await subscribe(client, police, receiver.url("/hangs"))
    fine = await subscribe(client, police, receiver.url("/answers"))
    receiver.hanging.add("/hangs")
    await create_referral(client, who["police"], referral_body(unique_child()))
    async with worker(app):
        await receiver.wait_for("/answers", 1)

        async def timed_out() -> bool:
            return any(a["error"] == "timeout" for a in await log_of(client, police, str(stuck["id"])))

        await eventually(timed_out)
    log = await log_of(client, police, str(stuck["id"]))
    assert {(a["status_code"], a["error"], a["delivery_state"]) for a in log} == {
        (None, "timeout", "pending")
    }
    assert all(a["next_attempt_at"] for a in log)
    assert [a["error"] for a in await log_of(client, police, str(fine["id"]))] == [None]


async def test_after_the_retry_window_the_message_fails_and_the_subscription_is_disabled(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police, sub = await failing_subscription(client, admin, receiver, "/down", 10_000)
    await create_referral(client, who["police"], referral_body(unique_child()))

    async def disabled() -> bool:
        got = ok(await client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=police))
        return got["active"] is False

    async with worker(app, webhook_retry_window_seconds=0.5):
        await eventually(disabled)
    got = ok(await client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=police))
    assert got["disabled_reason"] == "failing"
    log = await log_of(client, police, str(sub["id"]))
    assert {a["delivery_state"] for a in log} == {"failed"}
    assert min(log, key=lambda a: a["attempted_at"])["attempt"] == 1
    assert max(log, key=lambda a: a["attempted_at"])["next_attempt_at"] is None
    assert receiver.on("/down") == []


async def test_an_address_refused_at_send_time_is_not_contacted(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police = await partner_token(client, admin)
    sub = await subscribe(client, police, receiver.url("/private"))  # allowed when subscribing...
    await create_referral(client, who["police"], referral_body(unique_child()))

    async def refused() -> bool:
        return bool(await log_of(client, police, str(sub["id"])))

    async with worker(app, webhook_allow_private=False):  # ...not by the worker
        await eventually(refused)
    log = await log_of(client, police, str(sub["id"]))
    assert log[0]["error"] == "refused_destination" and log[0]["status_code"] is None
    assert receiver.received == [] and receiver.hung == []


async def test_a_disabled_subscription_waits_and_catches_up_when_enabled(
    client: httpx.AsyncClient, app: FastAPI, admin: Headers, who: Who, receiver: Receiver
) -> None:
    police = await partner_token(client, admin)
    sub = await subscribe(client, police, receiver.url("/paused"))
    ok(await client.post(f"/v1/webhook-subscriptions/{sub['id']}/disable", headers=police))
    await create_referral(client, who["police"], referral_body(unique_child()))
    async with worker(app):
        await asyncio.sleep(0.5)
        assert receiver.on("/paused") == []
        ok(await client.post(f"/v1/webhook-subscriptions/{sub['id']}/enable", headers=police))
        arrived = await receiver.wait_for("/paused", 1)
    assert verified(str(sub["secret"]), arrived[0])["type"] == "referral.received"


def test_backoff_grows_exponentially_with_jitter(settings: Settings) -> None:
    import random

    from app.governance.webhooks.worker import backoff

    tuned = settings.model_copy(
        update={"webhook_retry_base_seconds": 5.0, "webhook_retry_max_delay_seconds": 3600.0}
    )
    rng = random.Random(7)
    for attempt, full in [(1, 5.0), (2, 10.0), (3, 20.0), (8, 640.0), (12, 3600.0), (30, 3600.0)]:
        waits = {backoff(tuned, attempt, rng) for _ in range(50)}
        assert all(full / 2 <= w <= full for w in waits)
        assert len(waits) > 1  # jittered


def test_the_default_schedule_retries_for_more_than_24_hours() -> None:
    from app.governance.webhooks.worker import backoff

    defaults = Settings(_env_file=None)
    assert defaults.webhook_retry_window_seconds >= 24 * 3600
    # Even with the longest waits, the attempts in the window are many, not one or two.
    elapsed, attempts = 0.0, 0
    while elapsed < defaults.webhook_retry_window_seconds:
        attempts += 1
        elapsed += min(
            defaults.webhook_retry_base_seconds * 2 ** (attempts - 1),
            defaults.webhook_retry_max_delay_seconds,
        )
    assert attempts > 24
    assert backoff(defaults, 1) <= defaults.webhook_retry_base_seconds
