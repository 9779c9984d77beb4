"""Per-request context: what the middleware, the route wrapper and the dependencies hand each other.

Most of a request's inputs reach a route as dependencies, visible in its signature (``DbSession``,
``requires(...)``, ``idempotent(...)``). A few things cross a boundary a dependency cannot: the rate
limit middleware verifies the token before any route runs; the route wrapper (``app.core.routing``)
commits the session and stores the idempotent answer after the handler has returned; the access log
names the caller after the response is sent; the database names the caller at each BEGIN. Those travel
in one typed object, ``RequestContext``, kept once per request in the ASGI scope's state under one key
and read with ``RequestContext.of(request)`` (or ``of_scope`` in middleware). Nothing else about a
request goes into ``request.state``.

``request_id_var`` and ``problem_base_var`` are context variables instead: logging and problem bodies
read them without a request.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.types import Scope

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.auth import Principal
    from app.core.idempotency import IdempotencyClaim
    from app.core.ratelimit import Decision
    from app.core.tokens import TokenClaims

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Where this request's problem ``type`` URIs point: MASH_PUBLIC_BASE_URL, or else the address the request
# reached (``app.core.middleware.RequestContextMiddleware`` sets it; empty outside a request: relative).
problem_base_var: ContextVar[str] = ContextVar("problem_base", default="")
_STATE_KEY = "mash"


def current_request_id() -> str | None:
    return request_id_var.get()


def public_base_url(scope: Scope, configured: str | None) -> str:
    """The service's base URL as its clients reach it, without a trailing slash: ``configured``
    (MASH_PUBLIC_BASE_URL) when set; else the scheme and the local address and port the request came
    in on (the socket's, never the client's Host header, which would let a caller choose it)."""
    if configured:
        return configured.rstrip("/")
    server = scope.get("server")
    if not server:
        return ""
    host, port = str(server[0]), server[1]
    scheme = str(scope.get("scheme", "http"))
    if ":" in host:
        host = f"[{host}]"  # IPv6
    default_port = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default_port) else f"{scheme}://{host}:{port}"


@dataclass(slots=True)
class RequestContext:
    """One request's hand-offs, each written by one module and read by the ones named."""

    # app.core.ratelimit's middleware: the bearer token it verified and its claims, so that
    # ``authenticate`` does not verify it twice.
    verified_token: tuple[str, TokenClaims] | None = None
    # A route that counted a budget of its own (the token endpoint, per client_id), for the
    # middleware's RateLimit-* headers, which describe the stricter of the two.
    route_rate_limit: Decision | None = None
    # ``app.core.db.get_session``: the request's session, opened on first use; the route wrapper
    # commits or rolls it back and closes it.
    session: AsyncSession | None = None
    # ``app.core.auth.authenticate``: the caller, once authenticated; the database context (row-level
    # security), the 404 audit and the access log read it.
    principal: Principal | None = None
    # ``app.core.auth.confirm_client``: the caller's client was found active by a check of its own
    # (on PostgreSQL each transaction's BEGIN checks it too; the route wrapper asks before answering).
    client_confirmed: bool = False
    # ``app.core.idempotency.idempotent``: the Idempotency-Key claimed; the route wrapper stores the
    # answer under it in the same transaction.
    idempotency: IdempotencyClaim | None = None

    @classmethod
    def of(cls, connection: HTTPConnection) -> RequestContext:
        return cls.of_scope(connection.scope)

    @classmethod
    def of_scope(cls, scope: Scope) -> RequestContext:
        state = scope.setdefault("state", {})
        context = state.get(_STATE_KEY)
        if context is None:
            context = state[_STATE_KEY] = cls()
        assert isinstance(context, cls)
        return context
