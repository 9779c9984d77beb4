"""Loading the records that belong to each of many parents in one statement (the children of each
referral, the versions of each answer), so that a list or a page runs a constant number of statements
however many parents it shows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

Key = TypeVar("Key")
Record = TypeVar("Record")


_PARENTS = "parents"


def by_parent(key: QueryableAttribute[Any], stmt: sa.Select[Key, Record]) -> sa.Select[Key, Record]:
    """``stmt``, selecting (``key``, record) rows, narrowed to the parents ``grouped`` is given.

    Build it once, at import, and run it with each call's parents: building the statement cost more
    CPU than running it."""
    return stmt.where(key.in_(sa.bindparam(_PARENTS, expanding=True)))


async def grouped(
    session: AsyncSession, keys: Collection[Key], stmt: sa.Select[Key, Record]
) -> dict[Key, list[Record]]:
    """The records ``stmt`` (made by ``by_parent``) selects for each of ``keys``, in ``stmt``'s order;
    a key with none has an empty list. One statement, none when ``keys`` is empty."""
    found: dict[Key, list[Record]] = {k: [] for k in keys}
    if found:
        for parent, record in await session.execute(stmt, {_PARENTS: list(found)}):
            found[parent].append(record)
    return found
