"""Loading the records that belong to each of many parents in one statement (the children of each
referral, the versions of each answer), so that a list or a page runs a constant number of statements
however many parents it shows."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

Key = TypeVar("Key")
Record = TypeVar("Record")
Statement = TypeVar("Statement", bound=sa.Select[*tuple[Any, ...]])


_PARENTS = "parents"


def by_parent(key: QueryableAttribute[Any], stmt: Statement) -> Statement:
    """``stmt``, whose rows start with ``key``, narrowed to the parents ``grouped`` is given.

    Build it once, at import, and run it with each call's parents: building the statement cost more
    CPU than running it."""
    return stmt.where(key.in_(sa.bindparam(_PARENTS, expanding=True)))


# A row of any width: the parent's key first.
AnyRow = sa.Row[*tuple[Any, ...]]


def _second(row: AnyRow) -> Any:
    return row[1]


async def grouped(
    session: AsyncSession,
    keys: Collection[Key],
    stmt: sa.Select[*tuple[Any, ...]],
    record: Callable[[AnyRow], Record] = _second,
) -> dict[Key, list[Record]]:
    """The records ``stmt`` (made by ``by_parent``) selects for each of ``keys``, in ``stmt``'s order;
    a key with none has an empty list. One statement, none when ``keys`` is empty.

    Each row is (parent key, ...): by default (key, ORM record); ``record`` makes the record of a row
    otherwise (a plain tuple of columns, for a read-only list whose ORM records would cost more)."""
    found: dict[Key, list[Record]] = {k: [] for k in keys}
    if found:
        for row in await session.execute(stmt, {_PARENTS: list(found)}):
            found[row[0]].append(record(row))
    return found
