"""Rows inserted just before the transaction commits: on PostgreSQL every table's in one statement.

A write path ends with inserts nothing reads back before COMMIT: its audit entries and case events
(``app.core.audit``) and the answer kept for its ``Idempotency-Key`` (``app.core.idempotency``).
Queued here (``InsertAtCommit.add``), they are written by the last before-commit hook
(``app.core.db.on_commit``), after the others have queued theirs. On PostgreSQL that is one statement,
one ``INSERT`` per table as a CTE: one round trip whatever the tables and rows. Several rows' values go
as one array parameter per column (``unnest``), one row's as scalars (cheaper for the driver to send),
so the text depends only on which tables have one row or several, and each such shape is compiled and
prepared once. SQLite inserts each table's rows through the session.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import on_commit, pending
from app.core.direct import DirectWrite
from app.models.base import table_of

_QUEUED = "insert_at_commit"


class InsertAtCommit:
    """One table's rows, queued for the insert at commit. ``columns``: those the rows give (default:
    every column but ``skip``); ``json_text``: how a JSON column's value is written (its text is kept
    verbatim by a ``json`` column)."""

    def __init__(
        self,
        model: type[Any],
        *,
        skip: Iterable[str] = (),
        json_text: Callable[[Any], str] = json.dumps,
    ) -> None:
        self.table = table_of(model)
        skipped = set(skip)
        self.columns = [c for c in self.table.columns if c.name not in skipped]
        self.json_text = json_text
        # Each column's parameter, name and whether its value is written as JSON text.
        self._plan = [(f"{self.table.name}_{c.name}", c.name, _is_json(c.type)) for c in self.columns]

    def add(self, session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
        """Queue ``rows`` (each a value for every column) for this session's commit."""
        queued: dict[InsertAtCommit, list[Mapping[str, Any]]] | None = pending(session).get(_QUEUED)
        if queued is None:
            queued = pending(session)[_QUEUED] = {}
            on_commit(session, _QUEUED, _write, last=True)
        queued.setdefault(self, []).extend(rows)

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The statement's parameters for these rows: one value per column for one row, else one array
        of values per column."""
        json_text = self.json_text
        if len(rows) == 1:
            row = rows[0]
            return {key: json_text(row[name]) if is_json else row[name] for key, name, is_json in self._plan}
        return {
            key: [json_text(row[name]) for row in rows] if is_json else [row[name] for row in rows]
            for key, name, is_json in self._plan
        }

    def cte(self, one: bool) -> str:
        """The CTE that inserts one row (``one``) or an array's rows. Table and column names come from
        the models, values only from parameters."""
        dialect = PGDialect()  # type: ignore[no-untyped-call]
        table = self.table.name
        names = ", ".join(c.name for c in self.columns)
        kinds = ["JSON" if _is_json(c.type) else c.type.compile(dialect=dialect) for c in self.columns]
        if one:  # scalars: an array of one value costs the driver more to send than the value
            values = ", ".join(
                f"CAST(:{key} AS {kind})" for (key, _, _), kind in zip(self._plan, kinds, strict=True)
            )
            return f"{table} AS (INSERT INTO {table} ({names}) VALUES ({values}))"  # noqa: S608
        # An identity column is drawn in the order of ``ORDER BY t.n``, the rows' (the audit chain's).
        arrays = ", ".join(
            f"CAST(:{key} AS {'TEXT' if is_json else kind}[])"
            for (key, _, is_json), kind in zip(self._plan, kinds, strict=True)
        )
        picks = ", ".join(f"t.{name}::json" if is_json else f"t.{name}" for _, name, is_json in self._plan)
        rows = f"unnest({arrays}) WITH ORDINALITY AS t({names}, n)"
        return f"{table} AS (INSERT INTO {table} ({names}) SELECT {picks} FROM {rows} ORDER BY t.n)"  # noqa: S608


def _is_json(kind: Any) -> bool:
    return isinstance(kind, sa.JSON)


Queued = Mapping[InsertAtCommit, Sequence[Mapping[str, Any]]]
# Each table with one row or several, in the order of their names: a statement per such set.
_Shape = tuple[tuple[InsertAtCommit, bool], ...]
_STATEMENTS: dict[_Shape, tuple[sa.TextClause, DirectWrite]] = {}


def statement(queued: Queued) -> tuple[sa.TextClause, dict[str, Any]]:
    """PostgreSQL's statement inserting these tables' rows, and its parameters (bench/ceiling.py sends
    the same)."""
    return _statement(queued)[0], _parameters(queued)


def _statement(queued: Queued) -> tuple[sa.TextClause, DirectWrite]:
    shape = tuple(sorted(((t, len(rows) == 1) for t, rows in queued.items()), key=lambda s: s[0].table.name))
    built = _STATEMENTS.get(shape)
    if built is None:
        text = sa.text(f"WITH {', '.join(table.cte(one) for table, one in shape)} SELECT 1")
        built = _STATEMENTS[shape] = (text, DirectWrite(text))
    return built


def _parameters(queued: Queued) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for table, rows in queued.items():
        parameters.update(table.parameters(rows))
    return parameters


async def _write(session: AsyncSession) -> None:
    queued: dict[InsertAtCommit, list[Mapping[str, Any]]] = pending(session).pop(_QUEUED, {})
    if not queued:
        return
    if session.get_bind().dialect.name == "postgresql":
        await _statement(queued)[1].execute(session, _parameters(queued))
        return
    for table, rows in queued.items():
        await session.execute(sa.insert(table.table), list(rows))
