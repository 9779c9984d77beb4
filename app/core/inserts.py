"""New records written by one Core ``INSERT`` (an executemany for several), not the ORM's unit of work:
for hot paths that make records and do not change them again in the request (a referral, its children
and household, a new person record). Flushing them as pending objects cost more CPU than the
statements themselves.

The rows are written as a flush would write them: the attributes set, each column's Python default
where the record leaves it unset (set on the record too), the other columns left out. The records stay
transient (not in the session): they hold what was written, for the response to show; a later read in
the request finds the rows in the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import Base


def _default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is not None and default.is_scalar:
        return default.arg  # type: ignore[attr-defined]
    if default is not None and default.is_callable:
        # Wrapped by SQLAlchemy to take an execution context; ours (uuid4, utcnow) never read it.
        return default.arg(None)  # type: ignore[attr-defined]
    raise TypeError(f"{column}: only scalar and callable defaults are filled in here")


def _row(record: Base) -> dict[str, Any]:
    state = sa.inspect(record)
    if not state.transient:
        raise TypeError("only new records, not added to a session, are inserted here")
    row: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        column = cast(sa.Column[Any], attribute.columns[0])
        if attribute.key in state.dict:
            value = state.dict[attribute.key]
            # As a flush does: a None is left out where the database has a default for it (a JSON
            # column writes JSON null).
            if value is None and column.server_default is not None and not column.type.should_evaluate_none:
                continue
            row[column.key] = value
        elif column.default is not None:
            row[column.key] = _default(column)
            setattr(record, attribute.key, row[column.key])
    return row


async def insert_new(session: AsyncSession, records: Sequence[Base]) -> None:
    """INSERT ``records``, all of one model with the same attributes set, in one statement. Rows they
    reference must be in the database already: a Core statement does not flush the session first."""
    if not records:
        return
    rows = [_row(record) for record in records]
    if any(type(record) is not type(records[0]) for record in records) or any(
        row.keys() != rows[0].keys() for row in rows
    ):
        raise TypeError("the records of one INSERT are of one model, with the same columns")
    await session.execute(sa.insert(cast(sa.Table, type(records[0]).__table__)), rows)
