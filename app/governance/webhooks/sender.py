"""Sending one signed message: to the checked address only, within bounded timeouts, reading at most
``MASH_WEBHOOK_MAX_RESPONSE_BYTES`` of the answer, following no redirect.

The name is resolved and checked at each send (``destinations.check``) and the connection made to the
checked address, the URL's host kept in the ``Host`` header and as the TLS server name (certificates
are verified against it). Connections are not kept alive: a pooled connection to an address must not
carry another host's message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks.webhooks import Webhook

from app.core.config import Settings
from app.governance.webhooks import destinations

USER_AGENT = "mash-api-webhooks/1"


class Failure(StrEnum):
    """Why an attempt did not deliver."""

    REFUSED_DESTINATION = "refused_destination"  # resolves to a refused address now
    CONNECTION_FAILED = "connection_failed"
    TIMEOUT = "timeout"
    REDIRECT = "redirect"  # a 3xx: not followed
    HTTP_ERROR = "http_error"  # any other status outside 2xx


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    failure: Failure | None
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return self.failure is None


def signed_headers(secret: str, message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``, signed with the subscription's secret."""
    signature = Webhook(secret).sign(message_id, timestamp, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _pinned(url: str, destination: destinations.Destination) -> str:
    parts = urlsplit(url)
    address = destination.address
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    return urlunsplit((parts.scheme, f"{host}:{destination.port}", parts.path or "/", parts.query, ""))


def _host_header(destination: destinations.Destination) -> str:
    default = 443 if destination.scheme == "https" else 80
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    return host if destination.port == default else f"{host}:{destination.port}"


def client(settings: Settings) -> httpx.AsyncClient:
    """The worker's HTTP client: no redirects, no proxies from the environment, no kept connections."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            connect=settings.webhook_connect_timeout_seconds,
            read=settings.webhook_read_timeout_seconds,
            write=settings.webhook_read_timeout_seconds,
            pool=settings.webhook_connect_timeout_seconds,
        ),
        limits=httpx.Limits(max_connections=settings.webhook_worker_batch, max_keepalive_connections=0),
    )


async def send(
    http: httpx.AsyncClient, settings: Settings, url: str, headers: dict[str, str], body: bytes
) -> Outcome:
    started = time.monotonic()

    def outcome(status: int | None, failure: Failure | None) -> Outcome:
        return Outcome(status, failure, int((time.monotonic() - started) * 1000))

    try:
        destination = await destinations.check(url, settings)
    except destinations.Refused:
        return outcome(None, Failure.REFUSED_DESTINATION)
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    request = http.build_request(
        "POST",
        _pinned(url, destination),
        headers={**headers, "host": _host_header(destination)},
        content=body,
        extensions=extensions,
    )
    # The whole exchange is bounded too: a receiver trickling its answer byte by byte would never
    # trip the per-read timeout.
    deadline = settings.webhook_connect_timeout_seconds + settings.webhook_read_timeout_seconds
    try:
        async with asyncio.timeout(deadline):
            response = await http.send(request, stream=True)
            try:
                received = 0
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    if received >= settings.webhook_max_response_bytes:
                        break  # enough: the status is the answer; the rest is not read
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return outcome(None, Failure.TIMEOUT)
    except httpx.HTTPError:
        return outcome(None, Failure.CONNECTION_FAILED)
    status = response.status_code
    if 200 <= status < 300:
        return outcome(status, None)
    return outcome(status, Failure.REDIRECT if 300 <= status < 400 else Failure.HTTP_ERROR)
