"""A list's optional filters: each one given narrows the statement, each one left out narrows nothing."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

Statement = TypeVar("Statement", bound=sa.Select[Any])


def where_equal(stmt: Statement, *filters: tuple[Any, object]) -> Statement:
    """``stmt`` narrowed, for each (column, value) with a value, to rows whose column equals it."""
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def where_flag(stmt: Statement, flag: bool | None, clause: sa.ColumnElement[bool]) -> Statement:
    """``stmt`` narrowed to the rows ``clause`` holds for when ``flag`` is true, to the others when it
    is false; not narrowed when it is None."""
    if flag is None:
        return stmt
    return stmt.where(clause if flag else sa.not_(clause))
