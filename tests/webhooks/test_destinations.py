"""Refused destinations: private, loopback, link-local and other non-public addresses, when subscribing
(and at send time: test_delivery.py), unless MASH_WEBHOOK_ALLOW_PRIVATE; https only in production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.conftest import make_settings
from tests.fixtures.http import asgi_client, assert_problem, locs, ok
from tests.fixtures.values import Headers

REFUSED = [
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://192.168.1.20/hook",
    "http://172.16.0.5/hook",
    "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:10.0.0.1]/hook",  # an IPv4-mapped private address
    "http://224.0.0.1/hook",  # multicast
]


# The suite's ``app`` fixture makes the application from these settings.
@pytest.fixture(params=["development", "production"])
def settings(request: pytest.FixtureRequest, database_url: str) -> Settings:
    return make_settings(database_url, environment=request.param)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


async def subscribe(http: httpx.AsyncClient, headers: Headers, url: str) -> httpx.Response:
    return await http.post(
        "/v1/webhook-subscriptions", json={"url": url, "description": "x"}, headers=headers
    )


@pytest.mark.parametrize("url", REFUSED)
async def test_private_loopback_and_link_local_are_refused(
    client: httpx.AsyncClient, auth: object, url: str, settings: Settings
) -> None:
    police = auth("partner_referrer", "police")  # type: ignore[operator]
    problem = assert_problem(await subscribe(client, police, url), 422, "webhook_destination_refused")
    assert locs(problem) == [["body", "url"]]
    assert "address" in problem["detail"]
    https = url.replace("http://", "https://", 1)
    assert_problem(await subscribe(client, police, https), 422, "webhook_destination_refused")
    assert ok(await client.get("/v1/webhook-subscriptions", headers=police))["items"] == []


async def test_a_public_address_is_accepted_over_https_and_http_only_in_development(
    client: httpx.AsyncClient, auth: object, settings: Settings
) -> None:
    police = auth("partner_referrer", "police")  # type: ignore[operator]
    # An address literal: nothing to resolve, so no network is needed.
    ok(await subscribe(client, police, "https://93.184.215.14/hooks"), 201)
    plain = await subscribe(client, police, "http://93.184.215.14/hooks")
    if settings.is_production:
        problem = assert_problem(plain, 422, "webhook_destination_refused")
        assert "https" in problem["detail"]
    else:
        ok(plain, 201)


def test_production_refuses_the_development_escape_hatch(database_url: str) -> None:
    with pytest.raises(ValueError, match="MASH_WEBHOOK_ALLOW_PRIVATE"):
        make_settings(database_url, environment="production", webhook_allow_private=True)
    with pytest.raises(ValueError, match="24 hours"):
        make_settings(database_url, environment="production", webhook_retry_window_seconds=3600)
