"""Hot read statements run by asyncpg itself, on the session's own connection (PostgreSQL).

SQLAlchemy builds the statement, and runs it anywhere else (SQLite). On PostgreSQL it is compiled
once, and asyncpg runs it on the connection the session holds, inside the session's transaction: under
the same row-level security context and the same client check its BEGIN carried. SQLAlchemy's path for
one statement (the session's execute, the execution context, the statement's cache key, the result
object) cost 85 us of CPU where asyncpg's own took 20 (bench/README.md, "Rows of plain columns read by
asyncpg").

What stays the same as the session's own execute:
- pending changes are flushed first (autoflush), so the statement sees them;
- parameters and values pass through the columns' types' bind and result processors;
- the statement is told to whatever listens for SQLAlchemy's ``before_cursor_execute`` (the tests'
  statement counts, ``bench.profile_request --statements``);
- a failure is raised as SQLAlchemy's error, translated by its asyncpg adapter; a lost connection is met
  by SQLAlchemy itself, which invalidates the pool: the error handlers answer either as they answer any
  other (503, 500).

Only statements that select plain columns: no ORM records (only the session makes those), and no
decimal or float columns (SQLAlchemy processes those by the type the driver reports for each).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.db import meet_through_sqlalchemy

_REQUIRED = object()


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


def _compile(stmt: sa.Select[Any], dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    processors: Mapping[str, Any] = compiled._bind_processors  # what SQLAlchemy's own execution applies
    binds = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        default = _REQUIRED if bind.required else bind.effective_value
        binds.append((name, default, processors.get(name)))
    results = tuple(column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns)
    return _Compiled(compiled.string, tuple(binds), results if any(results) else None)


def selects_plain_columns(stmt: sa.Select[Any]) -> bool:
    """Whether ``stmt`` selects columns only, no ORM records."""
    # A column's "type" is its SQL type; an ORM record's, its class.
    return not any(isinstance(d["type"], type) for d in stmt.column_descriptions)


class DirectSelect:
    """A SELECT of plain columns, built once; ``await it.rows(session, params)`` gives its rows (each
    indexable and sliceable as a tuple)."""

    def __init__(self, stmt: sa.Select[Any]) -> None:
        if not selects_plain_columns(stmt):
            raise TypeError("DirectSelect reads plain columns; ORM records are the session's to load")
        if any(isinstance(column.type, sa.Numeric) for column in stmt.selected_columns):
            # SQLAlchemy processes a numeric value by the type the driver says it has.
            raise TypeError("DirectSelect reads no numeric (decimal or float) columns")
        self.stmt = stmt
        self._compiled: _Compiled | None = None

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        bind = session.bind
        assert bind is not None
        dialect = bind.dialect
        if dialect.name != "postgresql":
            rows: Sequence[Sequence[Any]] = (await session.execute(self.stmt, params)).all()
            return rows
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _compile(self.stmt, dialect)
        if session.autoflush and (session.new or session.dirty or session.deleted):
            await session.flush()  # as the session's execute would, before its statement
        connection = await session.connection()
        fairy = await connection.get_raw_connection()
        adapter: Any = fairy.dbapi_connection
        driver: Any = fairy.driver_connection
        arguments = compiled.arguments(params)
        sync = connection.sync_connection
        assert sync is not None
        if sync.dispatch.before_cursor_execute:
            sync.dispatch.before_cursor_execute(sync, None, compiled.sql, arguments, None, False)
        try:
            async with adapter._execute_mutex:  # as the adapter's own cursor does
                if adapter._transaction is None:
                    await adapter._start_transaction()  # BEGIN, with the context
                records = await driver.fetch(compiled.sql, *arguments)
        except Exception as exc:  # raised again, as SQLAlchemy would raise it
            error, cause = await _as_sqlalchemy_raises(connection, adapter, compiled.sql, arguments, exc)
            raise error from cause
        return compiled.rows(records)


async def _as_sqlalchemy_raises(
    connection: AsyncConnection, adapter: Any, sql: str, arguments: list[Any], exc: Exception
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
