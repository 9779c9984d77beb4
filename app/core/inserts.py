"""New rows written by one Core ``INSERT`` (an executemany for several), without the ORM's unit of work:
for hot paths that make rows and do not change them again in the request (a referral's children and
household, a new person record). Building and flushing them as pending objects cost more CPU than the
statements themselves.

The rows are written as a flush would write them: every column, the column's Python default where the
row leaves it out. The objects answered are transient (not in the session), holding what was written,
for the response to show; a later read in the request finds the rows in the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import Base

Model = TypeVar("Model", bound=Base)


def _default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is not None and default.is_scalar:
        return default.arg  # type: ignore[attr-defined]
    if default is not None and default.is_callable:
        # Wrapped by SQLAlchemy to take an execution context; ours (uuid4, utcnow) never read it.
        return default.arg(None)  # type: ignore[attr-defined]
    raise TypeError(f"{column}: only scalar and callable defaults are filled in here")


def complete(model: type[Base], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with each column it leaves out that has a default: that default. Columns with none are
    left out, as a flush leaves them (NULL; a JSON column's None given is JSON ``null``, as a flush
    writes it)."""
    table = cast(sa.Table, model.__table__)
    unknown = set(values) - set(table.columns.keys())
    if unknown:
        raise TypeError(f"{model.__name__} has no columns {sorted(unknown)}")
    row = dict(values)
    for column in table.columns:
        if column.key not in row and column.default is not None:
            row[column.key] = _default(column)
    return row


async def insert_new(
    session: AsyncSession, model: type[Model], rows: Sequence[Mapping[str, Any]]
) -> list[Model]:
    """INSERT ``rows`` (completed as ``complete`` says; all naming the same columns) in one statement;
    the written rows as transient ``model`` objects, in order. Rows they reference must be in the
    database already: a Core statement does not flush the session first."""
    written = [complete(model, row) for row in rows]
    if any(row.keys() != written[0].keys() for row in written):
        raise TypeError("the rows of one INSERT must name the same columns")
    if written:
        await session.execute(sa.insert(cast(sa.Table, model.__table__)), written)
    return [model(**row) for row in written]
