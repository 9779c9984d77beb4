"""Webhook tests: partner systems registered through the API, with tokens from /oauth/token (so each
has a client of its own), and a real receiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import make_settings
from tests.fixtures.clients import create_client, token_form
from tests.fixtures.values import Headers
from tests.webhooks.receiver import Receiver, receiving


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The receiver listens on 127.0.0.1: allowed here, as for development; the refusals are tested
    # with the rule on (tests/webhooks/test_destinations.py).
    return make_settings(
        database_url,
        webhook_allow_private=True,
        webhook_retry_base_seconds=0.05,
        webhook_retry_max_delay_seconds=0.2,
        webhook_connect_timeout_seconds=1.0,
        # Long enough for the receiver in this process to answer on a busy machine (a CI run once saw a
        # 503 from it arrive after 1 s, as a timeout); the hanging receiver's test waits this long.
        webhook_read_timeout_seconds=3.0,
        webhook_poll_interval_seconds=0.05,
    )


async def partner_token(http: httpx.AsyncClient, admin: Headers, agency: str = "police") -> Headers:
    """A partner system of ``agency``, registered by the admin, with a token of its client."""
    credentials = await create_client(http, admin, agency=agency)
    answer = await http.post("/oauth/token", data=token_form(credentials))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r
