"""Loading the records that belong to each of many parents in one statement (the children of each
referral, the versions of each answer), so that a list or a page runs a constant number of statements
however many parents it shows."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from app.core.direct import DirectSelect, selects_plain_columns

Key = TypeVar("Key")
Record = TypeVar("Record")
Named = TypeVar("Named", bound=NamedTuple)
# A row of any width: the parent's key first.
AnyRow = Sequence[Any]
_PARENTS = "parents"


class OneOf(sa.ColumnElement[bool]):
    """``column`` is one of the values of the list given as the parameter ``name`` (``one_of``)."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a predicate: no ``= 1`` after it where booleans are integers
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: sa.ColumnElement[Any], name: str) -> None:
        self.column = column
        self.values = sa.bindparam(name, expanding=True, type_=column.type)

    @property
    def _from_objects(self) -> list[sa.FromClause]:
        return self.column._from_objects


def one_of(key: QueryableAttribute[Any] | sa.ColumnElement[Any], name: str) -> OneOf:
    """``key IN (...)`` of a list given at execution as the parameter ``name``. On PostgreSQL it is
    ``key = ANY(:name)``, one array: the statement's text is the same for any number of values, so it
    is neither rendered again for each length nor prepared once per length."""
    return OneOf(key.__clause_element__() if isinstance(key, QueryableAttribute) else key, name)


@compiles(OneOf)
def _expanding(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(OneOf, "postgresql")
def _array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    values = sa.bindparam(element.values.key, type_=postgresql.ARRAY(element.column.type))
    return compiler.process(element.column == sa.any_(values), **kw)


def _second(row: AnyRow) -> Any:
    return row[1]


def after_key(make: Callable[[Iterable[Any]], Record]) -> Callable[[AnyRow], Record]:
    """A ``record`` for ``ByParent``: made of the row's columns after the parent's key
    (``after_key(Sibling._make)`` for a named tuple of those columns)."""
    return lambda row: make(row[1:])


class ByParent(Generic[Key, Record]):
    """A loader of the records of each parent: ``await loader(session, keys)`` gives, for each of
    ``keys``, the records its statement selects, in the statement's order (a key with none: an empty
    list). One statement, none when ``keys`` is empty.

    Made once, at import: the statement is built then and run with each call's parents (building it
    cost more CPU than running it), and with the values of any other bind parameters it has, given by
    name (``await loader(session, keys, before=...)``). Its rows start with ``key``; by default they
    are (key, ORM record), and ``record`` makes the record of a row otherwise (a plain tuple of columns,
    for a read-only list whose ORM records would cost more)."""

    def __init__(
        self,
        key: QueryableAttribute[Any] | sa.ColumnElement[Any],
        stmt: sa.Select[*tuple[Any, ...]],
        record: Callable[[AnyRow], Record] = _second,
    ) -> None:
        self._stmt = stmt.where(one_of(key, _PARENTS))
        # One parent (one referral's children): ``= :parents``. PostgreSQL costs the generic plan of
        # ``= ANY`` for an array of any length, so for one value it never reuses it and plans the
        # statement afresh on every execution.
        self._one = stmt.where(key == sa.bindparam(_PARENTS))
        self._record = record
        # Plain columns are read by asyncpg itself on PostgreSQL (app.core.direct); ORM records by the session.
        self._direct = (
            (DirectSelect(self._one), DirectSelect(self._stmt)) if selects_plain_columns(stmt) else None
        )

    async def __call__(
        self, session: AsyncSession, keys: Collection[Key], **params: Any
    ) -> dict[Key, list[Record]]:
        found: dict[Key, list[Record]] = {k: [] for k in keys}
        if not found:
            return found
        rows: Iterable[AnyRow]
        if len(found) == 1:
            (parent,) = found
            params = {**params, _PARENTS: parent}
        else:
            params = {**params, _PARENTS: list(found)}
        if self._direct is not None:
            rows = await self._direct[len(found) > 1].rows(session, params)
        else:
            rows = await session.execute(self._stmt if len(found) > 1 else self._one, params)
        for row in rows:
            found[row[0]].append(self._record(row))
        return found

    async def of(self, session: AsyncSession, key: Key, **params: Any) -> list[Record]:
        """The records of one parent (``await named_children.of(session, referral_id)``)."""
        return (await self(session, (key,), **params))[key]

    async def first(self, session: AsyncSession, keys: Collection[Key], **params: Any) -> dict[Key, Record]:
        """The first record of each parent that has one, in the statement's order (the latest, for
        a statement ordered newest first)."""
        return {key: records[0] for key, records in (await self(session, keys, **params)).items() if records}


def rows_by_parent(
    row: type[Named],
    key: sa.Column[Any],
    *order_by: sa.ColumnElement[Any],
    where: sa.ColumnElement[bool] | None = None,
) -> ByParent[Any, Named]:
    """A ``ByParent`` of plain rows: for each parent (``key``, a table's column), the rows of
    ``key``'s table where it is that parent, as ``row``, a named tuple of that table's columns of the
    same names, in ``order_by``'s order (read-only: a view or a list that only shows them)."""
    columns = key.table.c
    stmt = sa.select(key, *(columns[name] for name in row._fields)).order_by(*order_by)
    return ByParent(key, stmt if where is None else stmt.where(where), after_key(row._make))
