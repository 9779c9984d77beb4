"""A real webhook receiver for the tests: an HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that
records what it is sent and answers as each path is told to: 204, a number of 503s first, or never."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    failures_left: dict[str, int] = field(default_factory=dict)  # path -> 503s still to answer
    hanging: set[str] = field(default_factory=set)  # paths that never answer
    hung: list[Received] = field(default_factory=list)  # requests left hanging
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        """What was delivered (answered 2xx) to ``path``."""
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int, within: float = 60) -> list[Received]:
        async with asyncio.timeout(within):
            while len(self.on(path)) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.on(path)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = Received(path, headers, body)
            if path in self.hanging:
                self.hung.append(request)
                self.arrived.set()
                await asyncio.sleep(3600)
                return
            if self.failures_left.get(path, 0) > 0:
                self.failures_left[path] -= 1
                status = b"503 Service Unavailable"
            else:
                self.received.append(request)
                status = b"204 No Content"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            self.arrived.set()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for writer_task in asyncio.all_tasks():
            if writer_task.get_coro().__qualname__.startswith("Receiver.handle"):  # type: ignore[union-attr]
                writer_task.cancel()


def verified(secret: str, request: Received) -> Any:
    """The message, once its Standard Webhooks signature verifies (raises otherwise)."""
    return Webhook(secret).verify(request.body, request.headers)
