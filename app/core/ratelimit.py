"""Per-client rate limits: a fixed window of requests per client, answered 429 when it is used up.

The client is the verified token's ``sub``, or the IP address when the request carries no valid
token; the public's front door (``/public/``) has a small budget of its own per address (5 posts an
hour by default), and POST /oauth/token has a budget of its own, stricter, per IP address (secrets are guessed there),
and a second one per ``client_id`` it is asked about, counted by the route once the form is read: an
address is only what the proxy says it is (``X-Forwarded-For``, believed only from the proxies in
``MASH_TRUSTED_PROXIES``, which ``mash serve`` hands to uvicorn as its ``forwarded_allow_ips``),
so with a loosely trusted proxy a guesser could claim a fresh address per attempt, but not a fresh client.
Every response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds
until the window ends); a 429 also carries ``Retry-After``.

On PostgreSQL counting is one upsert on an UNLOGGED table that counts and, when a new window has
begun, resets, in a single round trip on a small asyncpg pool of its own, outside the request's
transaction: every worker process and replica shares the count, and the row lock is held for
microseconds, never for a request. A large budget is counted in leases: one upsert reserves the next
``lease`` counts (a hundredth of the budget, at most 50) for this process, which hands them out to its
requests without a round trip. The limit still holds across replicas (every request answered was
reserved), a client spread over several replicas may be refused up to ``lease - 1`` requests early
per replica, and its ``RateLimit-Remaining`` is exact on one replica, approximate across several. A
small budget (under 200: the public's, the token endpoint's) leases one count at a time: exact.
Requests arriving while their key's lease is being reserved wait for it. On SQLite (the embedded,
single-process default) the counts are kept in memory. If PostgreSQL cannot be reached for counting, requests are let
through: the request itself then fails or succeeds on its own merits.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.context import RequestContext
from app.core.errors import problem_response
from app.core.tokens import TokenClaims, TokenError, TokenService

logger = logging.getLogger("mash.ratelimit")
# What the counter's database raises when it cannot count: refused, gone, timed out, or a connection
# broken in the middle of a statement (asyncpg's InternalClientError, not an InterfaceError: seen when
# PostgreSQL crashed under load behind PgBouncer, tests/faults/test_database_outage.py). Limiting then
# lets the request through uncounted rather than answering 500.
_COUNTER_FAILED = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    TimeoutError,
)

TOKEN_PATH = "/oauth/token"
# The public's front door (``app.public``): no token, a small budget per client address.
PUBLIC_PREFIX = "/public/"
# Probed by load balancers and Prometheus from a few addresses: never limited.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_PRUNE_EVERY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Budget:
    name: str
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Decision:
    limit: int
    remaining: int
    reset_seconds: int

    @property
    def allowed(self) -> bool:
        return self.remaining >= 0

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(self.remaining, 0)),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class Counter(Protocol):
    async def hit(self, key: str, window_seconds: int, lease: int = 1) -> tuple[int, float]:
        """Count one request for ``key``; returns the count in the current window and the seconds
        left in it. ``lease``: how many counts a shared counter may reserve at once (see above)."""

    async def aclose(self) -> None: ...


class MemoryCounter:
    """One process's counts (SQLite, the embedded single-process default)."""

    def __init__(self, longest_window_seconds: int = 0) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._pruned_at = time.time()
        # A window is kept while it may still be current (the public's budget counts an hour).
        self._keep_seconds = max(_PRUNE_EVERY_SECONDS, float(longest_window_seconds))

    async def hit(self, key: str, window_seconds: int, lease: int = 1) -> tuple[int, float]:
        now = time.time()
        start = int(now // window_seconds) * window_seconds
        current = self._windows.get(key)
        hits = current[1] + 1 if current is not None and current[0] == start else 1
        self._windows[key] = (start, hits)
        if now - self._pruned_at > _PRUNE_EVERY_SECONDS:
            # Clients seen in no recent window: drop them, so memory follows the active clients only.
            self._pruned_at = now
            stale = now - self._keep_seconds
            self._windows = {k: v for k, v in self._windows.items() if v[0] >= stale}
        return hits, start + window_seconds - now

    async def aclose(self) -> None:
        self._windows.clear()


# The window is computed from the database's clock, so replicas whose clocks differ still agree.
# A request that computed the previous window before getting the row lock counts in the new one
# (GREATEST) rather than moving the window back.
_HIT = """
INSERT INTO rate_limit_counters AS c (key, window_start, hits)
VALUES ($1, floor(extract(epoch FROM clock_timestamp()) / $2)::bigint * $2, $3)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN excluded.window_start > c.window_start THEN $3 ELSE c.hits + $3 END,
    window_start = GREATEST(c.window_start, excluded.window_start)
RETURNING hits, window_start + $2 - extract(epoch FROM clock_timestamp())::float8 AS reset
"""
_PRUNE = "DELETE FROM rate_limit_counters WHERE window_start < extract(epoch FROM clock_timestamp()) - $1"


async def _no_reset(_connection: asyncpg.Connection) -> None:
    # asyncpg resets a connection on release (RESET ALL, UNLISTEN...): one more round trip per
    # request. The counter changes no session state and runs in autocommit, so there is nothing to reset.
    return None


@dataclass(slots=True)
class _Lease:
    """Counts reserved in the shared counter and not yet handed out, for one key and window."""

    next: int  # the count the next request takes ...
    last: int  # ... up to this one
    ends: float  # time.monotonic() when its window ends


# A process reserves at most a hundredth of a budget at once, and never more than this.
_LEASE_SHARE = 100
_MAX_LEASE = 50


def lease_size(limit: int) -> int:
    return max(1, min(_MAX_LEASE, limit // _LEASE_SHARE))


def _retrieve(task: asyncio.Future[Any]) -> None:
    # A count given up on: its outcome is not wanted, but must be retrieved (no "never retrieved").
    if not task.cancelled():
        task.exception()


class PostgresCounter:
    """Counts in the ``rate_limit_counters`` table, shared by every process using the database."""

    def __init__(self, settings: Settings) -> None:
        self._dsn = make_url(settings.database_url).set(drivername="postgresql")
        self._pool_size = settings.rate_limit_pool_size
        self._connect_timeout = settings.db_connect_timeout_seconds
        self._timeout = settings.rate_limit_timeout_seconds
        self._keep_seconds = longest_window(settings)
        self._pool: asyncpg.Pool | None = None
        if settings.database_pooler == "pgbouncer":
            # Through a transaction-mode pooler: no startup settings but application_name (PgBouncer
            # refuses the rest) and no named prepared statements (the next statement may run on another
            # server connection). The counting statement is its own transaction; the client-side timeout
            # (rate_limit_timeout_seconds) still bounds the wait, and a per-role statement_timeout
            # (README) bounds it on the server.
            self._connection_options: dict[str, Any] = {
                "server_settings": {"application_name": "mash-api-ratelimit"},
                "statement_cache_size": 0,
            }
        else:
            self._connection_options = {
                "server_settings": {"application_name": "mash-api-ratelimit", "statement_timeout": "2000"}
            }
        self._opening = asyncio.Lock()
        self._leases: dict[str, _Lease] = {}
        # A lease being reserved, per key: requests arriving meanwhile wait for it rather than each
        # reserving one of their own (all on the one row, each waiting on the last one's lock).
        self._reserving: dict[str, asyncio.Future[None]] = {}
        self._pruned_at = time.monotonic()
        self._prune_task: asyncio.Task[None] | None = None

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn.render_as_string(hide_password=False),
                        min_size=1,
                        max_size=self._pool_size,
                        timeout=self._connect_timeout,
                        reset=_no_reset,
                        **self._connection_options,
                    )
        return self._pool

    async def hit(self, key: str, window_seconds: int, lease: int = 1) -> tuple[int, float]:
        if lease == 1:
            return await self._reserve(key, window_seconds, 1)
        while True:
            now = time.monotonic()
            held = self._leases.get(key)
            if held is not None and held.next <= held.last and now < held.ends:
                held.next += 1
                return held.next - 1, held.ends - now
            pending = self._reserving.get(key)
            if pending is None:
                return await self._lease(key, window_seconds, lease)
            await asyncio.shield(pending)  # then take from the lease it reserved (or reserve the next)

    async def _lease(self, key: str, window_seconds: int, lease: int) -> tuple[int, float]:
        reserving: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reserving[key] = reserving
        try:
            hits, reset = await self._reserve(key, window_seconds, lease)
        except Exception as exc:
            # The requests waiting for this lease fail as this one does (each then goes on uncounted).
            reserving.set_exception(exc)
            reserving.add_done_callback(_retrieve)
            raise
        except BaseException:
            reserving.set_result(None)  # this request was cancelled: a waiting one reserves instead
            raise
        else:
            self._leases[key] = _Lease(hits - lease + 2, hits, time.monotonic() + reset)
            reserving.set_result(None)
        finally:
            del self._reserving[key]
        return hits - lease + 1, reset

    async def _reserve(self, key: str, window_seconds: int, lease: int) -> tuple[int, float]:
        # A database that does not answer (frozen, network gone) must not hold requests here:
        # statement_timeout cannot end a wait for a server that does not run. Past the timeout the
        # request goes on uncounted, and meets the database's own timeouts (503) if it needs it.
        # The count runs as a task of its own and is left to finish, not cancelled: cancelling asyncpg
        # mid-query makes it clean the connection up, which waits on that same silent server.
        count = asyncio.ensure_future(self._count(key, window_seconds, lease))
        try:
            return await asyncio.wait_for(asyncio.shield(count), self._timeout)
        except TimeoutError:
            count.add_done_callback(_retrieve)
            raise

    async def _count(self, key: str, window_seconds: int, lease: int) -> tuple[int, float]:
        pool = await self._get_pool()
        async with pool.acquire() as connection:
            row = await connection.fetchrow(_HIT, key, window_seconds, lease)
        assert row is not None
        if time.monotonic() - self._pruned_at > _PRUNE_EVERY_SECONDS:
            self._pruned_at = time.monotonic()
            self._leases = {k: v for k, v in self._leases.items() if v.ends > self._pruned_at}
            self._prune_task = asyncio.create_task(self._prune(pool, max(window_seconds, self._keep_seconds)))
        return int(row["hits"]), float(row["reset"])

    async def _prune(self, pool: asyncpg.Pool, window_seconds: int) -> None:
        # Rows of clients not seen for a while (needs DELETE on the table).
        try:
            await pool.execute(_PRUNE, max(_PRUNE_EVERY_SECONDS, float(window_seconds)))
        except _COUNTER_FAILED as exc:
            logger.warning("rate limit counters not pruned", extra={"error_type": type(exc).__name__})

    async def aclose(self) -> None:
        if self._prune_task is not None:
            await asyncio.gather(self._prune_task, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def longest_window(settings: Settings) -> int:
    """The longest window of any budget: a count younger than that may still be current."""
    return max(settings.rate_limit_window_seconds, settings.public_rate_limit_window_seconds)


class RateLimiter:
    def __init__(self, settings: Settings, counter: Counter | None = None) -> None:
        self.enabled = settings.rate_limit_enabled
        window = settings.rate_limit_window_seconds
        self.api = Budget("api", settings.rate_limit_requests, window)
        self.token = Budget("token", settings.rate_limit_token_requests, window)
        self.token_client = Budget("token_client", settings.rate_limit_token_client_requests, window)
        self.public = Budget(
            "public", settings.public_rate_limit_requests, settings.public_rate_limit_window_seconds
        )
        if counter is None:
            counter = (
                MemoryCounter(longest_window(settings)) if settings.is_sqlite else PostgresCounter(settings)
            )
        self.counter = counter

    async def check(self, budget: Budget, client: str) -> Decision | None:
        """Count one request of ``client`` against ``budget``; None if it could not be counted."""
        key = hashlib.sha256(f"{budget.name}\x00{client}".encode()).hexdigest()
        try:
            hits, reset = await self.counter.hit(key, budget.window_seconds, lease_size(budget.limit))
        except _COUNTER_FAILED as exc:
            logger.warning("rate limit not counted", extra={"error_type": type(exc).__name__})
            return None
        return Decision(budget.limit, budget.limit - hits, max(1, math.ceil(reset)))

    async def aclose(self) -> None:
        await self.counter.aclose()


def refusal(budget: Budget, decision: Decision) -> JSONResponse:
    """The 429 problem for a request over ``budget``."""
    detail = (
        f"More than {budget.limit} requests in {budget.window_seconds} seconds; "
        f"retry after {decision.reset_seconds} seconds."
    )
    return problem_response(
        "rate_limited",
        detail,
        headers={**decision.headers(), "Retry-After": str(decision.reset_seconds)},
    )


async def throttle_token_client(request: Request, client_id: str) -> JSONResponse | None:
    """Count a token request against the budget of the ``client_id`` it names; the 429 to answer when
    that budget is spent, else None. The route calls it once the credentials are read, before the
    secret is checked: rotating the address (or the credentials' form or Basic) does not reset it."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.enabled:
        return None
    decision = await limiter.check(limiter.token_client, f"client_id:{client_id}")
    if decision is None:
        return None
    RequestContext.of(request).route_rate_limit = decision  # for the middleware's RateLimit-* headers
    if decision.allowed:
        return None
    return refusal(limiter.token_client, decision)


def _stricter(first: Decision, second: Decision | None) -> Decision:
    return first if second is None or first.remaining <= second.remaining else second


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _client_address(scope: Scope) -> str:
    # uvicorn runs with proxy_headers: behind a trusted proxy (FORWARDED_ALLOW_IPS) this is the
    # address the proxy saw, not the proxy's own.
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """Outside the routes (and before the body is read): a refused request costs one count, no more."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, tokens: TokenService) -> None:
        self.app = app
        self.limiter = limiter
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        budget, client = await self._identify(scope)
        decision = await self.limiter.check(budget, client)
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await refusal(budget, decision)(scope, receive, send)
            return

        context = RequestContext.of_scope(scope)  # the route may count a budget of its own too

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                counted = _stricter(decision, context.route_rate_limit)
                response_headers = MutableHeaders(scope=message)
                for name, value in counted.headers().items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _identify(self, scope: Scope) -> tuple[Budget, str]:
        if scope["path"] == TOKEN_PATH:
            return self.limiter.token, f"ip:{_client_address(scope)}"
        if scope["path"].startswith(PUBLIC_PREFIX):
            # Whatever token it carries: the public's door counts addresses, never a token's sub.
            return self.limiter.public, f"ip:{_client_address(scope)}"
        token = _bearer_token(scope)
        if token is not None:
            try:
                claims = await self.tokens.verify(token)
            except TokenError:
                pass  # counted by address; authentication answers 401 later
            else:
                # Handed to ``authenticate``, which then does not verify it twice.
                RequestContext.of_scope(scope).verified_token = (token, claims)
                issuer = "idp" if claims.external else "local"
                # A caller is its agency, role and sub together (as for idempotency keys): one sub in two
                # agencies is two callers with a budget each.
                return self.limiter.api, f"sub:{issuer}:{claims.agency}:{claims.role}:{claims.sub}"
        return self.limiter.api, f"ip:{_client_address(scope)}"


def verified_claims(context: RequestContext, token: str) -> TokenClaims | None:
    """The claims the middleware already verified for this very token, if it did."""
    verified = context.verified_token
    if verified is not None and verified[0] == token:
        return verified[1]
    return None
