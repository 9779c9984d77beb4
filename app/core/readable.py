"""Loading one record through a readable statement: the record and the view the caller has of it, in
one statement, or 404 when it has none (never 403: a hidden record's existence is not revealed).
Each aggregate's access module supplies the view clause (``app/**/access.py``), built by ``view_case``."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound

Record = TypeVar("Record")
View = TypeVar("View", bound=StrEnum)


def view_case(full: View | None, *whens: tuple[sa.ColumnElement[bool], View]) -> sa.ColumnElement[str | None]:
    """A view clause: ``full`` on every row when the caller has it (the hub), else the first view
    whose condition the row meets, NULL where it meets none (the caller may not see the row)."""
    if full is not None:
        return sa.literal(full.value)
    view: sa.ColumnElement[str | None] = sa.case(
        *((condition, value.value) for condition, value in whens), else_=sa.null()
    )
    return view


async def one(session: AsyncSession, stmt: sa.Select[Record], *, for_update: bool = False) -> Record | None:
    """The record ``stmt`` selects (by its key), if any; locked until the transaction ends when
    ``for_update`` (serialising changes to it; SQLite already runs one writer at a time)."""
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def one_with_view(
    session: AsyncSession,
    model: type[Record],
    view: sa.ColumnElement[str | None],
    record_id: uuid.UUID,
    views: type[View],
    *,
    resource: str,
    for_update: bool = False,
) -> tuple[Record, View]:
    """``model``'s row ``record_id`` and the caller's ``view`` of it (one of ``views``); NotFound when
    the view is NULL."""
    key: Any = model.id  # type: ignore[attr-defined]
    stmt = sa.select(model, view).where(key == record_id)
    if for_update:
        # Serialises changes to one record; SQLite already runs one writer at a time.
        stmt = stmt.with_for_update(of=model)
    row = (await session.execute(stmt)).first()
    if row is None or row[1] is None:
        raise NotFound(resource, record_id)
    return row[0], views(row[1])
