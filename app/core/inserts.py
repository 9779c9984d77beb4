"""New records written by one Core ``INSERT`` (an executemany for several), not the ORM's unit of work:
for hot paths that make records and do not change them again in the request (a referral, its children
and household, a new person record). Flushing them as pending objects cost more CPU than the
statements themselves.

The rows are written as a flush would write them: the attributes set, each column's Python default
where the record leaves it unset (set on the record too), the other columns left out. The records stay
transient (not in the session): they hold what was written, for the response to show; a later read in
the request finds the rows in the database. ``new_record`` makes them without the ORM's attribute
events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.direct import DirectWrite
from app.models.base import Base, table_of

_M = TypeVar("_M", bound=Base)


@dataclass(frozen=True, slots=True)
class _Column:
    attribute: str
    column: str
    # As a flush does: a None is left out where the database has a default for it (a JSON column
    # writes JSON null).
    none_left_out: bool
    # The column's Python default, for a record that leaves it unset; None: the column is left out.
    default: Callable[[], Any] | None


def _default(column: sa.Column[Any]) -> Callable[[], Any] | None:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    if default.is_callable:
        # Wrapped by SQLAlchemy to take an execution context; ours (uuid4, utcnow) never read it.
        made = default.arg  # type: ignore[attr-defined]
        return lambda: made(None)

    # Refused when a record leaves the column unset, as before: not for every record of the model.
    def refused() -> Any:
        raise TypeError(f"{column}: only scalar and callable defaults are filled in here")

    return refused


@cache
def _columns(model: type[Base]) -> tuple[_Column, ...]:
    # Worked out once per model, not for each record: a person's row took 14 us to make, now 5.
    columns = []
    for attribute in sa.inspect(model).column_attrs:
        column = cast(sa.Column[Any], attribute.columns[0])
        none_left_out = column.server_default is not None and not column.type.should_evaluate_none
        columns.append(_Column(attribute.key, column.key, none_left_out, _default(column)))
    return tuple(columns)


@cache
def _attributes(model: type[Base]) -> frozenset[str]:
    return frozenset(column.attribute for column in _columns(model))


def new_record(model: type[_M], **values: Any) -> _M:
    """``model(**values)``, for ``insert_new``, without the ORM's attribute events: nothing listens for
    them on a record no session holds. 1 us to make, where the constructor took 20-40."""
    unknown = values.keys() - _attributes(model)
    if unknown:
        raise TypeError(f"{model.__name__} has no column attribute {', '.join(sorted(unknown))}")
    record = cast(_M, sa.inspect(model).class_manager.new_instance())
    record.__dict__.update(values)
    return record


@cache
def _insert(model: type[Base]) -> DirectWrite:
    return DirectWrite(sa.insert(table_of(model)))


def _row(record: Base) -> dict[str, Any]:
    state = sa.inspect(record)
    if not state.transient:
        raise TypeError("only new records, not added to a session, are inserted here")
    values = state.dict
    row: dict[str, Any] = {}
    for column in _columns(type(record)):
        if column.attribute in values:
            value = values[column.attribute]
            if value is not None or not column.none_left_out:
                row[column.column] = value
        elif column.default is not None:
            # Into the record's state as the flush would leave it (a transient record: no events).
            values[column.attribute] = row[column.column] = column.default()
    return row


async def insert_new(session: AsyncSession, records: Sequence[Base]) -> None:
    """INSERT ``records``, all of one model with the same attributes set, in one statement. Rows they
    reference must be in the database already: a Core statement does not flush the session first."""
    if not records:
        return
    model = type(records[0])
    if any(type(record) is not model for record in records):
        raise TypeError("the records of one INSERT are of one model")
    # DirectWrite refuses rows that give different columns (records with different attributes set).
    await _insert(model).execute(session, [_row(record) for record in records])
