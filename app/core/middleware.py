"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput and breaks contextvars).

``RequestContextMiddleware`` is the outermost layer of the application: it assigns the request id,
catches anything no handler caught (answering a bare 500 problem that carries only the request id),
writes one access-log line and records metrics. ``BodyLimitMiddleware`` reads the body first and
refuses bodies that are too large, too slow or too deeply nested before any route sees them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.context import RequestContext, problem_base_var, public_base_url, request_id_var
from app.core.errors import problem_response
from app.core.metrics import HttpMetrics

access_log = logging.getLogger("mash.access")
error_log = logging.getLogger("mash.errors")

REQUEST_ID_HEADER = "X-Request-ID"
CLIENT_CLOSED_REQUEST = 499
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


class _HttpMiddleware:
    """Acts on HTTP requests only; anything else (the lifespan) passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestContextMiddleware(_HttpMiddleware):
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, public_base_url: str | None) -> None:
        super().__init__(app)
        self.metrics = metrics
        self.public_base_url = public_base_url

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = _header(scope, b"x-request-id")
        # A caller's id is kept so its logs and ours can be joined, but only if it is harmless.
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        base_token = problem_base_var.set(public_base_url(scope, self.public_base_url))
        context = RequestContext.of_scope(scope)
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
            if not response_started:
                # The client went away before it finished sending (nginx's 499): not a server error.
                status = CLIENT_CLOSED_REQUEST
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
                )
                await response(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            principal = context.principal
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
            problem_base_var.reset(base_token)


def _route_template(scope: Scope) -> str:
    # The template, not the path: ids would explode the metrics' cardinality, and a path is
    # the only part of the URL we log (query strings can hold names).
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


_CONTENT_LENGTH = re.compile(r"^[0-9]{1,19}$")
_OPENERS = frozenset(b"[{")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True if the JSON text nests arrays and objects more than ``limit`` deep (it need not be valid).

    Python's json module recurses once per level: thousands of levels end in a RecursionError, and a
    few hundred pass the parser but can fail whatever walks the value next. Brackets inside strings
    do not count; most bodies have fewer openers than the limit and skip the scan altogether.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    # Without escaped backslashes and then escaped quotes, every other piece between quotes is a string
    # (an unterminated one runs to the end). Only C-level bytes operations: linear in the body's size.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
    # Each pass drops the empty pairs, one level of nesting everywhere, at C speed: a long flat array
    # is gone after a pass or two, and the loop below walks only what is left, counting from there.
    passes = 0
    while brackets and passes < limit:
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            break
        brackets, passes = shorter, passes + 1
    depth = passes
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_json(scope: Scope) -> bool:
    content_type = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class BodyLimitMiddleware(_HttpMiddleware):
    """Reads the whole body before the application sees it, and refuses it early:

    - over ``max_body_bytes``: 413, at once if Content-Length says so, else as soon as the bytes
      received pass the limit (chunked bodies, or a Content-Length that understates the body);
    - a Content-Length that is not a number, or that the body does not match: 400;
    - trickled: the body must arrive within ``body_timeout_seconds`` plus one second per
      ``body_min_rate_bytes`` received, else 408. No database connection is taken before this: the
      routes open their session only once the body is here;
    - JSON nested deeper than ``max_json_depth``: 422, before it is parsed.

    Paths matching ``streamed`` (document uploads) pass through unread: their route streams the body
    and enforces the same rules itself, with the documents' size limit.

    A request refused before its body was read is answered with ``Connection: close``: the rest of
    the body is never read, so the connection cannot carry another request.
    """

    def __init__(self, app: ASGIApp, settings: Settings, streamed: re.Pattern[str] | None = None) -> None:
        super().__init__(app)
        self.streamed = streamed
        self.max_bytes = settings.max_body_bytes
        self.timeout = settings.body_timeout_seconds
        self.min_rate = settings.body_min_rate_bytes
        self.max_depth = settings.max_json_depth

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.streamed is not None and scope["method"] == "POST" and self.streamed.match(scope["path"]):
            # An upload reads its own body as it arrives, under its own limits (app.documents.upload).
            await self.app(scope, receive, send)
            return
        declared_header = _header(scope, b"content-length")
        declared: int | None = None
        if declared_header is not None:
            if not _CONTENT_LENGTH.match(declared_header.strip()):
                await self._refuse(scope, receive, send, "bad_request", "Content-Length is not a number.")
                return
            declared = int(declared_header)
            if declared > self.max_bytes:
                await self._refuse(scope, receive, send, "payload_too_large", self._too_large())
                return
        if not declared and _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # no body
            return
        body = await self._read_body(scope, receive, send, declared)
        if body is None:
            return  # refused, or the client went away
        if _is_json(scope) and json_depth_exceeds(body, self.max_depth):
            message = f"The JSON body nests arrays and objects more than {self.max_depth} levels deep."
            response = problem_response(
                "validation_failed",
                message,
                errors=[{"loc": ["body"], "msg": message}],
            )
            await response(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client to disconnect

        await self.app(scope, replay, send)

    async def _read_body(
        self, scope: Scope, receive: Receive, send: Send, declared: int | None
    ) -> bytes | None:
        started = time.monotonic()
        chunks: list[bytes] = []
        received = 0
        while True:
            # The allowance grows with what has arrived: a slow but steady upload gets through.
            remaining = started + self.timeout + received / self.min_rate - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                detail = "The request body arrived too slowly; send it again on a faster connection."
                await self._refuse(scope, receive, send, "request_timeout", detail)
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(scope, receive, send, "payload_too_large", self._too_large())
                return None
            if declared is not None and received > declared:
                await self._refuse(
                    scope, receive, send, "bad_request", "The body is longer than its Content-Length."
                )
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if declared is not None and received != declared:
            await self._refuse(
                scope, receive, send, "bad_request", "The body is shorter than its Content-Length."
            )
            return None
        return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, code: str, detail: str) -> None:
        response = problem_response(code, detail, headers={"Connection": "close"})
        await response(scope, receive, send)

    def _too_large(self) -> str:
        return f"The request body is larger than the {self.max_bytes} bytes this API accepts."
