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


async def grouped(
    session: AsyncSession,
    key: QueryableAttribute[Any],
    keys: Collection[Key],
    stmt: sa.Select[Key, Record],
) -> dict[Key, list[Record]]:
    """The records ``stmt`` selects, as (``key``, record) rows, for each of ``keys``, in ``stmt``'s
    order; a key with none has an empty list. One statement, none when ``keys`` is empty."""
    found: dict[Key, list[Record]] = {k: [] for k in keys}
    if found:
        for parent, record in await session.execute(stmt.where(key.in_(list(found)))):
            found[parent].append(record)
    return found
