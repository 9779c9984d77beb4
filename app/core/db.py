"""Engine, sessions and the unit of work.

One ``AsyncSession`` per request, opened on first use. Services only add and flush; the request's
route wrapper (``app.core.routing``) commits once before the response is sent and rolls back on any
error. Work that must land in the same transaction as the request's changes (audit entries, the
idempotency record) registers a before-commit hook with ``on_commit`` and keeps what it has queued in
``pending(session)``, which a rollback forgets.

On PostgreSQL every transaction also carries who it works for, for the row-level security policies
(``mash.agency`` and ``mash.role``, transaction-local): the authenticated caller in a request, none
(no case rows) in a request before authentication, ``system`` outside requests (CLI, tests' direct
inspection). See ``_after_begin``: the settings travel in the BEGIN itself, so they cost no round trip.
The statement timeout and JIT (off) travel the same way. Nothing is set for a whole connection (no startup
parameters, no session-level SET): behind a transaction-mode pooler (PgBouncer) consecutive transactions
of one client run on different server connections, and a session setting would leak to other clients.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from app.core import clock
from app.core.config import Settings
from app.core.context import RequestContext
from app.core.errors import DatabaseUnavailable, closes_connection, is_database_busy, is_database_outage

logger = logging.getLogger("mash.db")
COMMIT_LOST_DETAIL = (
    "The connection to the database was lost while saving: the change may or may not have been saved. "
    "Retry after the Retry-After delay: a create retried with the same Idempotency-Key is never made "
    "twice; for other changes, read the record first."
)

BeforeCommit = Callable[[AsyncSession], Awaitable[None]]
_HOOKS_KEY = "mash.before_commit"
_PENDING_KEY = "mash.pending"
_READ_ONLY = "mash_read_only"
_CONTEXT_KEY = "mash.db_context"
_CLIENT_KEY = "mash.db_client"
# The engine's statement timeout (ms), as an execution option every connection inherits.
_TIMEOUT_OPTION = "mash_statement_timeout_ms"

# (agency, role) as the row-level security policies read them; None: no caller (sees no case rows).
DbContext = tuple[str, str] | None
SYSTEM_CONTEXT: DbContext = ("system", "system")
_SAFE = re.compile(r"[a-z_]{1,40}")


class _ContextConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg has no type hints
    """An asyncpg connection that sends the next transaction's context with its BEGIN.

    SQLAlchemy's asyncpg adapter begins a transaction lazily, with a simple-protocol ``BEGIN ...;``
    just before the first statement. Appending ``SELECT set_config(..., true)`` to that one message
    sets the context inside the new transaction without another round trip; with it goes the check
    that the caller's client is not revoked (``mash_client_check``), which fails the BEGIN if it is.
    """

    mash_begin_suffix: str | None = None
    mash_begin_client: uuid.UUID | None = None
    # The client whose check began the transaction open now (None: none did, or none is open).
    mash_checked_client: uuid.UUID | None = None

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:  # noqa: ASYNC109
        if args or not query.startswith("BEGIN"):
            return str(await super().execute(query, *args, timeout=timeout))
        suffix, client = self.mash_begin_suffix, self.mash_begin_client
        self.mash_begin_suffix = self.mash_begin_client = self.mash_checked_client = None
        if suffix is not None:
            query = f"{query} {suffix}"
        try:
            status = str(await super().execute(query, timeout=timeout))
        except Exception:
            if suffix is not None:
                await self._abandon_begin()
            raise
        self.mash_checked_client = client
        return status

    async def _abandon_begin(self) -> None:
        # The BEGIN took and what followed it failed: the server holds an aborted transaction that
        # SQLAlchemy never tracked (it tracks one only once BEGIN succeeds), and asyncpg still counts
        # it as its open transaction. Roll it back and forget it, so the pooled connection is clean.
        self._top_xact = None
        if not self.is_closed() and self.is_in_transaction():
            with contextlib.suppress(Exception):
                await super().execute("ROLLBACK")


def context_sql(context: DbContext, statement_timeout_ms: int = 0, client: uuid.UUID | None = None) -> str:
    """``SELECT set_config(...)`` for ``context``, the statement timeout and JIT compilation (off),
    each transaction-local, and ``client``'s check."""
    # No JIT: the statements are small, but one estimated dear passes jit_above_cost and is compiled
    # on each execution. The hub's overdue page, planned dear under row-level security until
    # migration 20261208_referral_asked, took 12.5 ms of PostgreSQL time with it and 6.0 without
    # (bench/README.md); the CIN census COPY, the one statement of real size, 7 s more.
    settings = ["set_config('jit', 'off', true)"]
    if context is not None:
        agency, role = context
        # Agency and role codes are enum values; anything else never reaches SQL.
        if not (_SAFE.fullmatch(agency) and _SAFE.fullmatch(role)):
            raise ValueError("agency and role must be lower-case codes")
        settings += [
            f"set_config('mash.agency', '{agency}', true)",
            f"set_config('mash.role', '{role}', true)",
        ]
    if statement_timeout_ms:
        settings.append(f"set_config('statement_timeout', '{int(statement_timeout_ms)}', true)")
    if client is not None:
        settings.append(_client_check(client))
    return f"SELECT {', '.join(settings)};"


def _client_check(client: uuid.UUID) -> str:
    # Migration 20261206_client_check's function; a UUID's text, nothing else, between the quotes.
    return f"mash_client_check('{uuid.UUID(str(client))}')"


def _context_of(session: Session) -> DbContext:
    source = session.info.get(_CONTEXT_KEY, SYSTEM_CONTEXT)
    return source() if callable(source) else source


def _client_of(session: Session) -> uuid.UUID | None:
    source = session.info.get(_CLIENT_KEY)
    return None if source is None else source()


def _after_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    timeout = connection.get_execution_options().get(_TIMEOUT_OPTION, 0)
    client = _client_of(session)
    sql = context_sql(_context_of(session), timeout, client)
    driver = connection.connection.driver_connection
    if isinstance(driver, _ContextConnection) and not driver.is_in_transaction():
        # Replaces a suffix left by a transaction that ran nothing.
        driver.mash_begin_suffix, driver.mash_begin_client = sql, client
    else:
        connection.exec_driver_sql(sql)  # already begun (or a plain connection): one more statement


class ContextSession(Session):
    """The application's sessions: each transaction carries the caller's context (``_after_begin``)."""


event.listen(ContextSession, "after_begin", _after_begin)


def set_context(session: AsyncSession, source: DbContext | Callable[[], DbContext]) -> None:
    """Whom ``session``'s transactions from now on work for: a context, or a function giving it at
    each BEGIN (a request: its caller once authenticated). Sessions default to the system context."""
    session.info[_CONTEXT_KEY] = source


def set_client_check(session: AsyncSession, source: Callable[[], uuid.UUID | None]) -> None:
    """On PostgreSQL, each of ``session``'s transactions begins by checking that the client ``source``
    then gives (if any) is active: the BEGIN fails with ``mash_client_check``'s SQLSTATE if not."""
    session.info[_CLIENT_KEY] = source


def begins_with_client_check(engine: AsyncEngine, session: AsyncSession | None) -> bool:
    """Whether a request's next BEGIN will check its client: PostgreSQL, and none begun yet (a request
    opens ``session`` on first use: None is none yet)."""
    return engine.dialect.name == "postgresql" and (session is None or not session.in_transaction())


async def client_checked(session: AsyncSession, client: uuid.UUID) -> bool:
    """Whether the transaction the session has open on the server began by checking ``client``."""
    if not session.in_transaction():
        return False
    try:
        driver = await _driver(session)
    except sa_exc.InvalidRequestError:  # a transaction a failed flush left to roll back
        return False
    return (
        isinstance(driver, _ContextConnection)
        and driver.is_in_transaction()
        and driver.mash_checked_client == client
    )


async def check_client_alone(engine: AsyncEngine, client: uuid.UUID) -> None:
    """PostgreSQL: check ``client`` (``mash_client_check``: it raises its SQLSTATE unless the client is
    registered and not revoked) outside any transaction, for a request that sends no statement of its own
    (``GET /v1/me``). No session, and one simple-protocol message on a pooled connection: one round trip
    where BEGIN, SELECT and COMMIT take three, and nothing prepared (so nothing a pooler could lose).

    The driver sends it, so SQLAlchemy sees no error it raises. The server's refusal of the statement (the
    check's SQLSTATE) passes unchanged.
    Anything else may be a lost connection, which SQLAlchemy must meet itself to invalidate the pool and
    raise what the error handlers answer 503 to: the connection is asked ``SELECT 1`` through SQLAlchemy,
    and the first error is raised as it was only if that succeeds.
    """
    async with engine.connect() as connection:
        driver = await _driver_of(connection)
        try:
            await driver.execute(f"SELECT {_client_check(client)}")
        except Exception as exc:
            if not isinstance(exc, asyncpg.PostgresError) or closes_connection(exc.sqlstate):
                await meet_through_sqlalchemy(connection)
            raise


async def meet_through_sqlalchemy(connection: AsyncConnection) -> None:
    """Ask ``connection`` ``SELECT 1`` through SQLAlchemy, after its driver failed on it outside
    SQLAlchemy: if the connection is lost, SQLAlchemy meets that itself, invalidates the pool (the other
    connections are likely lost too) and raises the error the handlers answer 503 to."""
    await connection.exec_driver_sql("SELECT 1")


async def _driver(session: AsyncSession) -> Any:
    return await _driver_of(await session.connection())


async def _driver_of(connection: AsyncConnection) -> Any:
    return (await connection.get_raw_connection()).driver_connection


async def apply_context(session: AsyncSession) -> None:
    """Re-send the context inside the transaction already open, if any (it changed mid-transaction)."""
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        context = _context_of(session.sync_session)
        agency, role = context if context is not None else ("", "")
        await session.execute(
            text("SELECT set_config('mash.agency', :agency, true), set_config('mash.role', :role, true)"),
            {"agency": agency, "role": role},
        )


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(settings)
    # application_name is one of the few startup parameters PgBouncer passes on; the statement
    # timeout is set per transaction instead (``_after_begin``).
    connect_args: dict[str, Any] = {
        "timeout": settings.db_connect_timeout_seconds,
        "server_settings": {"application_name": "mash-api"},
        "connection_class": _ContextConnection,
        **pooler_connect_args(settings),
    }
    if settings.db_command_timeout_seconds:
        connect_args["command_timeout"] = settings.db_command_timeout_seconds
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No pre-ping: with asyncpg it costs three round trips (BEGIN, ping, ROLLBACK) on every
        # checkout. A connection found dead fails the request that meets it (503) and invalidates the
        # whole pool, so the next checkouts connect afresh (tests/faults: recovery without a restart).
        connect_args=connect_args,
        execution_options={_TIMEOUT_OPTION: settings.db_statement_timeout_ms},
    )


def pooler_connect_args(settings: Settings) -> dict[str, Any]:
    """Connection arguments for a transaction-mode pooler: no prepared statement cache in SQLAlchemy or
    asyncpg, so asyncpg (0.31 on; 0.30 named them all) prepares every statement unnamed, within its own
    transaction, and parses it again when it runs. Nothing outlives the transaction on the server
    connection PgBouncer lent it.

    Not SQLAlchemy's recipe of a unique name per statement: asyncpg closes a named statement only after
    it is garbage, on whatever server connection it has by then, and it waits for that close without
    any timeout. Behind a frozen server a request then hung until the server came back.
    """
    if settings.database_pooler != "pgbouncer":
        return {}
    return {"statement_cache_size": 0, "prepared_statement_cache_size": 0}


def _create_sqlite_engine(settings: Settings) -> AsyncEngine:
    path = settings.sqlite_path()
    in_memory = path is None or str(path) == ":memory:"
    pool: dict[str, Any] = {}
    if not in_memory:
        Path(str(path)).parent.mkdir(parents=True, exist_ok=True)
        # In memory there is one static connection and no pool to size.
        pool = {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout_seconds,
        }
    engine = create_async_engine(
        settings.database_url,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        **pool,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()
        # SQLite knows no time zones: reports ask for the date in England of a stored UTC instant.
        dbapi_connection.create_function("london_date", 1, _london_date, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front. A deferred transaction that reads and then writes fails with
        # SQLITE_BUSY when another writer got in between; IMMEDIATE waits its turn instead. Almost
        # every request writes (reads of case data are audited), so little concurrency is lost.
        # A transaction begun by ``begin_read_only`` only reads: a deferred BEGIN, which in WAL mode
        # neither waits for nor holds up writers.
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _london_date(stored: str | None) -> str | None:
    """The date in England of an instant as SQLite stores it (UTC, without an offset)."""
    if stored is None:
        return None
    instant = datetime.fromisoformat(stored)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return clock.local_date(instant).isoformat()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=ContextSession)


def on_commit(session: AsyncSession, key: str, hook: BeforeCommit, *, last: bool = False) -> None:
    """Run ``hook`` once, just before ``commit`` commits this session's transaction. Hooks run in the
    order they were first registered, those registered ``last`` (a writer of what the others queue)
    after all the others."""
    hooks: dict[tuple[bool, str], BeforeCommit] = session.info.setdefault(_HOOKS_KEY, {})
    hooks.setdefault((last, key), hook)


def pending(session: AsyncSession) -> dict[str, Any]:
    """What this session's transaction has queued for its commit's hooks to write (by their own keys):
    ``rollback`` forgets it with the hooks, so a session used again after one writes only its new work."""
    queued: dict[str, Any] = session.info.setdefault(_PENDING_KEY, {})
    return queued


async def before_commit(session: AsyncSession) -> None:
    """Run the before-commit hooks: what ``commit`` does first."""
    # A hook may queue work for another registered after the run began: that one runs in a next round.
    while hooks := session.info.pop(_HOOKS_KEY, None):
        for _, hook in sorted(hooks.items(), key=lambda item: item[0][0]):  # stable: "last" ones after
            await hook(session)
    session.info.pop(_PENDING_KEY, None)


async def commit(session: AsyncSession) -> None:
    """Run the before-commit hooks, then commit. Every commit in the application goes through here."""
    await before_commit(session)
    if not (session.in_transaction() or session.new or session.dirty or session.deleted):
        return  # nothing was begun or queued (a request whose caller was known already): nothing to send
    try:
        await session.commit()
    except (sa_exc.DBAPIError, ConnectionError, TimeoutError) as exc:
        if is_database_busy(exc) or not is_database_outage(exc):
            raise
        # The COMMIT may have reached the server before the connection died: nobody can say whether
        # it took effect, so the caller must not be told "nothing was changed".
        logger.error("database connection lost during commit", extra={"error_type": type(exc).__name__})
        raise DatabaseUnavailable(COMMIT_LOST_DETAIL) from exc


async def rollback(session: AsyncSession) -> None:
    """Roll back and forget the hooks and what they would have written. A rollback that fails (the
    connection is already gone) is logged, not raised: the server discards the transaction of a dead
    connection anyway, the pool discards the connection, and the error that caused the rollback is the
    one to report."""
    session.info.pop(_HOOKS_KEY, None)
    session.info.pop(_PENDING_KEY, None)
    try:
        await session.rollback()
    except Exception as exc:
        logger.warning("rollback failed", extra={"error_type": type(exc).__name__})


async def release(session: AsyncSession) -> None:
    """End a read-only stretch of the request's transaction and return its connection to the pool.

    For slow work that needs no database (verifying an argon2 hash): holding a pooled connection
    through it starves other requests of connections, and on SQLite holds the write lock. Objects
    loaded before are expired, so copy what you need first. Later statements start a new transaction.
    """
    if session.new or session.dirty or session.deleted or session.info.get(_HOOKS_KEY):
        raise RuntimeError("release() would discard work queued in this transaction")
    await session.rollback()


async def begin_read_only(session: AsyncSession) -> None:
    """Begin the session's next transaction as a long read that writes nothing (call ``release``
    first if it has one open, and again before writing).

    On SQLite it does not take the write lock (see ``_on_begin``), so a long read, such as checking
    the whole audit chain, does not stall every other request; it reads one consistent snapshot.
    On PostgreSQL readers never block writers and it is an ordinary transaction.
    """
    if session.in_transaction():
        raise RuntimeError("begin_read_only() needs a session without an open transaction")
    await session.connection(execution_options={_READ_ONLY: True})


async def get_session(request: Request) -> AsyncSession:
    """The request's session, as a dependency. (Every dependency is a coroutine function: FastAPI runs
    a plain one in a worker thread, a thread hop per request; tests/core/test_routes.py checks.)"""
    return request_session(request)


def request_session(request: Request) -> AsyncSession:
    """The request's session, opened on first use; ``app.core.routing`` commits and closes it."""
    context = RequestContext.of(request)
    if context.session is None:
        context.session = request.app.state.sessionmaker()
        set_context(context.session, lambda: _caller_context(context))
        set_client_check(context.session, lambda: _caller_client(context))
    return context.session


def _caller_context(context: RequestContext) -> DbContext:
    # ``app.core.auth`` sets the principal; before that (or on the token endpoint) there is no caller.
    principal = context.principal
    return None if principal is None else (str(principal.agency), str(principal.role))


def _caller_client(context: RequestContext) -> uuid.UUID | None:
    principal = context.principal
    return None if principal is None else principal.client_id


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def ping(connection: AsyncConnection) -> None:
    await connection.exec_driver_sql("SELECT 1")
