"""End to end on PostgreSQL: `mash serve`, two `mash worker` processes (through PgBouncer in `make
test-pooled`) and a real receiver on 127.0.0.1. Every feed event for a subscriber arrives exactly once,
signed; a receiver that fails three times gets its messages on retry; a receiver that hangs costs a worker
no more than its timeout; and in production a subscription to a private or metadata address is refused."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import ROOT, make_settings
from tests.fixtures.callers import Who
from tests.fixtures.clients import client_body, token_form
from tests.fixtures.feed import read_all
from tests.fixtures.http import asgi_client, assert_problem, ok
from tests.fixtures.referrals import referral_body, unique_child
from tests.fixtures.servers import served_server
from tests.fixtures.values import Headers
from tests.webhooks.receiver import Receiver, verified

pytestmark = pytest.mark.postgres

WORKER_SETTINGS = {
    "webhook_allow_private": "true",  # the receiver is on 127.0.0.1
    "webhook_retry_base_seconds": "0.2",
    "webhook_retry_max_delay_seconds": "1",
    "webhook_connect_timeout_seconds": "1",
    "webhook_read_timeout_seconds": "1",
    "webhook_poll_interval_seconds": "0.1",
    "webhook_worker_batch": "20",
}
REFERRALS = 15


@asynccontextmanager
async def workers(env: dict[str, str], count: int) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """``count`` `mash worker` processes on the server's database and settings; stopped (SIGTERM) after,
    each expected to finish its sends (bounded by the timeouts) and exit cleanly."""
    mash = str(Path(sys.executable).parent / "mash")
    started = [
        await asyncio.create_subprocess_exec(
            mash, "worker", cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.terminate()
        codes = [await asyncio.wait_for(p.wait(), 30) for p in started]
        assert codes == [0] * count, f"the workers exited with {codes}"


async def subscribe(http: httpx.AsyncClient, headers: Headers, url: str) -> dict[str, Any]:
    return ok(
        await http.post("/v1/webhook-subscriptions", json={"url": url, "description": url}, headers=headers),
        201,
    )


async def test_two_workers_deliver_every_event_once_signed_with_retries_and_timeouts(
    database_url: str, who: Who, admin: Headers, receiver: Receiver
) -> None:
    async with (
        served_server(database_url, **WORKER_SETTINGS) as (origin, env),
        httpx.AsyncClient(base_url=origin, timeout=30) as http,
    ):
        credentials = ok(await http.post("/v1/clients", json=client_body(), headers=admin), 201)
        token = ok(await http.post("/oauth/token", data=token_form(credentials)))["access_token"]
        police = {"Authorization": f"Bearer {token}"}
        subs = {
            path: await subscribe(http, police, receiver.url(path)) for path in ("/all", "/flaky", "/hangs")
        }
        receiver.failures_left["/flaky"] = 3
        receiver.hanging.add("/hangs")

        async with workers(env, 2):
            for _ in range(REFERRALS):
                referral = ok(
                    await http.post(
                        "/v1/referrals", json=referral_body(unique_child()), headers=who["police"]
                    ),
                    201,
                )
                rated = await http.post(
                    f"/v1/referrals/{referral['id']}/rag-rating",
                    json={"rating": "amber", "rationale": "Rated on what the referral says."},
                    headers=who["practitioner"],
                )
                assert rated.status_code == 200, rated.text
            feed, _ = await read_all(http, police, str(subs["/all"]["feed_cursor"]))
            assert len(feed) == 2 * REFERRALS
            await receiver.wait_for("/all", len(feed), within=120)
            await receiver.wait_for("/flaky", len(feed), within=120)
            while len(receiver.hung) < len(feed):  # every message reached the hanging receiver too
                receiver.arrived.clear()
                await asyncio.wait_for(receiver.arrived.wait(), 60)
            await asyncio.sleep(1)  # were anything sent twice, it would have arrived by now

        for path in ("/all", "/flaky"):
            arrived = receiver.on(path)
            messages = [verified(str(subs[path]["secret"]), r) for r in arrived]
            assert sorted(m["data"]["seq"] for m in messages) == [e["seq"] for e in feed], path
            assert sorted((m["data"] for m in messages), key=lambda e: e["seq"]) == feed
            assert len({r.headers["webhook-id"] for r in arrived}) == len(feed), "each message once"

        flaky_log = await _log(http, police, subs["/flaky"]["id"])
        assert sum(1 for a in flaky_log if a["status_code"] == 503) == 3
        assert sum(1 for a in flaky_log if a["delivery_state"] == "delivered" and a["error"] is None) == len(
            feed
        )
        retried = {a["delivery_id"] for a in flaky_log if a["error"] == "http_error"}
        assert retried and all(
            any(a["delivery_id"] == d and a["status_code"] == 204 for a in flaky_log) for d in retried
        ), "a message that failed was delivered on retry"

        hung_log = await _log(http, police, subs["/hangs"]["id"])
        assert hung_log and {a["error"] for a in hung_log} == {"timeout"}
        assert {a["delivery_state"] for a in hung_log} == {"pending"}  # to be retried
        # The hanging receiver's messages were all recovered through the feed from its cursor.
        stuck = sorted(verified(str(subs["/hangs"]["secret"]), r)["data"]["seq"] for r in receiver.hung)
        assert sorted(set(stuck)) == [e["seq"] for e in feed]


async def _log(http: httpx.AsyncClient, headers: Headers, subscription_id: object) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ok(
            await http.get(
                f"/v1/webhook-subscriptions/{subscription_id}/deliveries",
                params={"limit": 200, **({"cursor": cursor} if cursor else {})},
                headers=headers,
            )
        )
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
async def production_app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, environment="production"))
    yield application
    await application.state.engine.dispose()


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://169.254.169.254/", "https://10.0.0.1/"])
async def test_production_refuses_private_and_metadata_addresses(production_app: FastAPI, url: str) -> None:
    issued = production_app.state.tokens.issue(sub="police-system", agency="police", role="partner_referrer")
    police = {"Authorization": f"Bearer {issued.access_token}"}
    async with asgi_client(production_app) as http:
        answer = await http.post(
            "/v1/webhook-subscriptions", json={"url": url, "description": "metadata"}, headers=police
        )
        assert_problem(answer, 422, "webhook_destination_refused")
        assert ok(await http.get("/v1/webhook-subscriptions", headers=police))["items"] == []
