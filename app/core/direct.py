"""Hot statements run by asyncpg itself, on the session's own connection (PostgreSQL): reads of plain
columns (``DirectSelect``), inserts and updates (``DirectWrite``), and other work on the driver
(``on_driver``: the census COPY).

SQLAlchemy builds the statement, and runs it anywhere else (SQLite). On PostgreSQL it is compiled
once, and asyncpg runs it on the connection the session holds, inside the session's transaction: under
the same row-level security context and the same client check its BEGIN carried. SQLAlchemy's path for
one statement (the session's execute, the execution context, the statement's cache key, the result
object) cost 85 us of CPU where asyncpg's own took 20 (bench/README.md, "Rows of plain columns read by
asyncpg").

What stays the same as the session's own execute:
- a read flushes pending changes first (autoflush), so it sees them; a write, as a Core statement
  through the session, does not;
- parameters and values pass through the columns' types' bind and result processors;
- the statement is told to whatever listens for SQLAlchemy's ``before_cursor_execute`` (the tests'
  statement counts, ``bench.profile_request --statements``);
- a failure is raised as SQLAlchemy's error, translated by its asyncpg adapter; a lost connection is met
  by SQLAlchemy itself, which invalidates the pool: the error handlers answer either as they answer any
  other (503, 500).

Reads select plain columns only: no ORM records (only the session makes those), and no decimal or float
columns (SQLAlchemy processes those by the type the driver reports for each).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.db import meet_through_sqlalchemy

_REQUIRED = object()
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Each positional parameter: its name, its value when the call gives none (a literal of the
    # statement; _REQUIRED: none), and its type's bind processor.
    binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    # Each column's result processor; None when no column has one (the driver's values stand).
    results: tuple[Callable[[Any], Any] | None, ...] | None

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, default, process in self.binds:
            value = params.get(name, default)
            if value is _REQUIRED:
                raise sa_exc.ArgumentError(f"A value is required for bind parameter {name!r}")
            values.append(value if process is None else process(value))
        return values

    def rows(self, records: Sequence[Any]) -> Sequence[Sequence[Any]]:
        if self.results is None:
            return records
        processors = self.results
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(processors, record, strict=True)
            )
            for record in records
        ]


def _compile(
    stmt: sa.Select[*tuple[Any, ...]] | sa.Insert | sa.Update | sa.TextClause,
    dialect: Dialect,
    column_keys: Sequence[str] | None = None,
) -> _Compiled:
    compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
    processors: Mapping[str, Any] = compiled._bind_processors  # what SQLAlchemy's own execution applies
    binds = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        default = _REQUIRED if bind.required else bind.effective_value
        binds.append((name, default, processors.get(name)))
    results = tuple(column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns)
    return _Compiled(compiled.string, tuple(binds), results if any(results) else None)


def selects_plain_columns(stmt: sa.Select[*tuple[Any, ...]]) -> bool:
    """Whether ``stmt`` selects columns only, no ORM records."""
    # A column's "type" is its SQL type; an ORM record's, its class.
    return not any(isinstance(d["type"], type) for d in stmt.column_descriptions)


class DirectSelect:
    """A SELECT of plain columns, built once; ``await it.rows(session, params)`` gives its rows (each
    indexable and sliceable as a tuple)."""

    def __init__(self, stmt: sa.Select[*tuple[Any, ...]]) -> None:
        if not selects_plain_columns(stmt):
            raise TypeError("DirectSelect reads plain columns; ORM records are the session's to load")
        if any(isinstance(column.type, sa.Numeric) for column in stmt.selected_columns):
            # SQLAlchemy processes a numeric value by the type the driver says it has.
            raise TypeError("DirectSelect reads no numeric (decimal or float) columns")
        self.stmt = stmt
        self._compiled: _Compiled | None = None

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        dialect = _dialect(session)
        if dialect.name != "postgresql":
            rows: Sequence[Sequence[Any]] = (await session.execute(self.stmt, params)).all()
            return rows
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _compile(self.stmt, dialect)
        if session.autoflush and (session.new or session.dirty or session.deleted):
            await session.flush()  # as the session's execute would, before its statement
        arguments = compiled.arguments(params)
        records = await on_driver(
            session, lambda driver: driver.fetch(compiled.sql, *arguments), compiled.sql, arguments
        )
        return compiled.rows(records)


class DirectWrite:
    """A statement that returns no rows, built once: an ``INSERT`` of a table's columns, an ``UPDATE`` of
    the columns the rows name (its ``WHERE`` taking the others as bind parameters; each compiled once
    for each set of columns the rows give) or a text statement. ``await it.execute(session, rows)`` runs
    it once for one mapping of parameters, or for each of several (asyncpg's executemany).

    As the session runs a Core statement: nothing is flushed first. A column the rows leave unset is
    refused where it has a Python default (SQLAlchemy would compute it; the caller fills it in)."""

    def __init__(self, stmt: sa.Insert | sa.Update | sa.TextClause) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple[str, ...], _Compiled] = {}

    def _compile(self, keys: tuple[str, ...], dialect: Dialect) -> _Compiled:
        compiled = _compile(self.stmt, dialect, keys)
        unset = [name for name, default, _ in compiled.binds if default is not _REQUIRED and name not in keys]
        if unset:
            raise TypeError(f"DirectWrite: no value given for {', '.join(unset)} (a Python default)")
        self._compiled[keys] = compiled
        return compiled

    async def execute(
        self, session: AsyncSession, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        each: Sequence[Mapping[str, Any]] = [rows] if isinstance(rows, Mapping) else rows
        if not each:
            return
        keys = tuple(each[0])
        if any(tuple(row) != keys for row in each):
            raise TypeError(
                "DirectWrite: the rows of one statement must give the same columns, in the same order"
            )
        dialect = _dialect(session)
        if dialect.name != "postgresql":
            await session.execute(self.stmt, rows)
            return
        compiled = self._compiled.get(keys) or self._compile(keys, dialect)
        if len(each) == 1:
            arguments = compiled.arguments(each[0])
            await on_driver(
                session, lambda driver: driver.execute(compiled.sql, *arguments), compiled.sql, arguments
            )
            return
        batch = [compiled.arguments(row) for row in each]
        await on_driver(
            session, lambda driver: driver.executemany(compiled.sql, batch), compiled.sql, batch, many=True
        )


def _dialect(session: AsyncSession) -> Dialect:
    bind = session.bind
    assert bind is not None
    return bind.dialect


async def on_driver(
    session: AsyncSession,
    work: Callable[[Any], Awaitable[_T]],
    sql: str | None = None,
    arguments: Sequence[Any] = (),
    *,
    many: bool = False,
) -> _T:
    """``await work(driver)`` on the driver's connection the session holds, inside the session's
    transaction (begun first, with its context, as the adapter's first statement would begin it), under
    the adapter's lock, with failures raised as SQLAlchemy raises them. ``sql``, when given, is told to
    SQLAlchemy's ``before_cursor_execute`` listeners. PostgreSQL only."""
    connection, fairy = await _held(session)
    adapter: Any = fairy.dbapi_connection
    if sql is not None:
        sync = connection.sync_connection
        assert sync is not None
        if sync.dispatch.before_cursor_execute:
            sync.dispatch.before_cursor_execute(sync, None, sql, arguments, None, many)
    try:
        async with adapter._execute_mutex:  # as the adapter's own cursor does
            if adapter._transaction is None:
                await adapter._start_transaction()  # BEGIN, with the context
            return await work(fairy.driver_connection)
    except Exception as exc:  # raised again, as SQLAlchemy would raise it
        error, cause = await _as_sqlalchemy_raises(connection, adapter, sql or "BEGIN", arguments, exc)
        raise error from cause


@dataclass(frozen=True, slots=True)
class _Held:
    transaction: Any  # the session's root transaction (SessionTransaction)
    connection: AsyncConnection
    fairy: Any  # the pool's connection (PoolProxiedConnection)


_HELD = "app.core.direct.held"


async def _held(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection, and the pool's, for its transaction of the moment. Asked of the
    session once a transaction (asking cost 24 us of CPU, two greenlet switches, and a referral create
    sends twelve direct statements on average); then kept in ``session.info`` while that transaction is
    still the session's, active, and its connection valid. Otherwise the session is asked again: it
    begins the next transaction, or raises as it would for its own statement."""
    sync = session.sync_session
    held: _Held | None = session.info.get(_HELD)
    if (
        held is not None
        and held.transaction is sync.get_transaction()
        and sync.is_active
        and not held.connection.invalidated
    ):
        return held.connection, held.fairy
    connection = await session.connection()
    fairy = await connection.get_raw_connection()
    session.info[_HELD] = _Held(sync.get_transaction(), connection, fairy)
    return connection, fairy


async def _as_sqlalchemy_raises(
    connection: AsyncConnection, adapter: Any, sql: str, arguments: Sequence[Any], exc: Exception
) -> tuple[BaseException, BaseException | None]:
    """The error SQLAlchemy would have raised for ``exc``, and its cause: translated by its asyncpg adapter
    into the DBAPI's, then wrapped."""
    dbapi_error: Any = exc
    try:
        adapter._handle_exception(exc)  # raises the DBAPI's error for it (or ``exc`` itself)
    except Exception as translated:
        dbapi_error = translated
    dialect = connection.dialect
    if not isinstance(dbapi_error, dialect.loaded_dbapi.Error):
        # Not the server's answer: asyncpg gave up waiting (a frozen server). What it sent may still
        # run when the server wakes, BEGIN included, so the connection is never lent again. The error
        # passes unwrapped, as SQLAlchemy passes it, and as the handlers expect it.
        await connection.invalidate(dbapi_error)
        return dbapi_error, dbapi_error.__cause__
    if dialect.is_disconnect(dbapi_error, adapter, None):
        # SQLAlchemy meets the lost connection itself: it invalidates the whole pool (the other
        # connections are likely lost too) and raises its error for it.
        await meet_through_sqlalchemy(connection)
    error: BaseException = sa_exc.DBAPIError.instance(
        sql, arguments, dbapi_error, dialect.loaded_dbapi.Error, dialect=dialect
    )
    return error, dbapi_error
