"""Where a webhook may be sent: a public address only (no private, loopback, link-local, shared,
multicast or reserved address), checked when subscribing and again at every send on the addresses
the name resolves to then, and the connection made to the address checked (no second lookup for a
rebinding name to change). ``MASH_WEBHOOK_ALLOW_PRIVATE`` lifts the address rule, for development."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.config import Settings

RESOLVE_TIMEOUT_SECONDS = 5.0
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The destination may not be used; ``reason`` is a short code, ``message`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Destination:
    scheme: str
    host: str  # as written in the URL (the Host header and the TLS server name)
    port: int
    address: IpAddress  # where to connect: checked


def is_public(address: IpAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def parse(url: str, settings: Settings) -> tuple[str, str, int]:
    """The scheme, host and port of a destination URL, or ``Refused``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("invalid_url", "The URL cannot be read.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise Refused("invalid_url", "The URL must be http(s)://host/path.")
    if parts.username is not None or parts.password is not None:
        raise Refused("invalid_url", "The URL must not carry credentials.")
    if parts.fragment:
        raise Refused("invalid_url", "The URL must not carry a fragment.")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def check_scheme(scheme: str, settings: Settings) -> None:
    if settings.is_production and scheme != "https":
        raise Refused("https_required", "Only https destinations are allowed in production.")


def _allowed(addresses: list[IpAddress], settings: Settings) -> list[IpAddress]:
    if not addresses:
        raise Refused("unresolvable", "The destination's name does not resolve.")
    if settings.webhook_allow_private:
        return addresses
    refused = [a for a in addresses if not is_public(a)]
    if refused:
        # Every address must be public: a name that also resolves to a private one is refused.
        raise Refused(
            "private_address",
            "The destination resolves to a private, loopback, link-local or otherwise non-public address.",
        )
    return addresses


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError):
        return []
    found: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def check(url: str, settings: Settings) -> Destination:
    """The destination of ``url`` if it may be used now, with the address to connect to; else
    ``Refused``. The address rule is checked before the scheme's, so the reason names the address."""
    scheme, host, port = parse(url, settings)
    addresses = _allowed(await resolve(host, port), settings)
    check_scheme(scheme, settings)
    return Destination(scheme, host, port, addresses[0])
