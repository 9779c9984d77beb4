"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput and breaks contextvars).

``RequestContextMiddleware`` is the outermost layer of the application: it assigns the request id,
catches anything no handler caught (answering a bare 500 problem that carries only the request id),
writes one access-log line and records metrics. ``BodyLimitMiddleware`` rejects bodies over the limit
before they are read into memory, whether or not a Content-Length was declared.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.context import request_id_var
from app.core.errors import problem_response
from app.core.metrics import HttpMetrics

access_log = logging.getLogger("mash.access")
error_log = logging.getLogger("mash.errors")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, problem_base_url: str) -> None:
        self.app = app
        self.metrics = metrics
        self.problem_base_url = problem_base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        # A caller's id is kept so its logs and ours can be joined, but only if it is harmless.
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_context(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in _SECURITY_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                # Responses carry case data: no shared or browser cache may keep them.
                headers.setdefault("cache-control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        except Exception as exc:
            error_log.error(
                "unhandled exception",
                exc_info=exc,
                extra={"method": scope["method"], "route": _route_template(scope)},
            )
            if not response_started:
                response = problem_response(
                    "internal_error",
                    f"The service failed unexpectedly. Quote request id {request_id} when reporting it.",
                    base_url=self.problem_base_url,
                )
                await response(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            principal = scope.get("state", {}).get("principal")
            access_log.info(
                "http.request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "sub": getattr(principal, "sub", None),
                    "agency": getattr(principal, "agency", None),
                },
            )
            request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    # The template, not the path: ids would explode the metrics' cardinality, and a path is
    # the only part of the URL we log (query strings can hold names).
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, problem_base_url: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.problem_base_url = problem_base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions met while reading the body, so this reaches
                    # the problem+json handler as a 413.
                    raise StarletteHTTPException(413, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than the {self.max_bytes} bytes this API accepts."

    def _too_large(self) -> ASGIApp:
        return problem_response("payload_too_large", self._detail(), base_url=self.problem_base_url)
