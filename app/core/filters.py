"""A list's optional filters: each one given narrows the statement, each one left out narrows nothing.

A filter that can hold several values is an ``AnyOf`` query parameter: given comma-separated
(``rag=red,amber``), repeated (``rag=red&rag=amber``) or both, it means "any of" them; each value is
validated as one item (a wrong one is a 422 pointing at its position).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Coroutine
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from annotated_types import Len
from pydantic import BeforeValidator

from app.core.codes import CaseSource

Statement = TypeVar("Statement", bound=sa.Select[Any])
T = TypeVar("T")


# More values than any code list has: a longer list is not a filter anyone means.
MAX_ANY_OF = 50


def _split(value: Any) -> Any:
    """``["red,amber", "blue"]`` -> ``["red", "amber", "blue"]``; empty parts are dropped."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    return [part.strip() for item in value for part in str(item).split(",") if part.strip()]


# ``rag: Annotated[AnyOf[RagRating] | None, Query(...)] = None``: None when not given, else at least
# one value; the spec shows an array of the item's schema.
AnyOf = Annotated[list[T], BeforeValidator(_split), Len(1, MAX_ANY_OF)]


def query(filters: Callable[..., T]) -> Callable[..., Coroutine[Any, Any, T]]:
    """A FastAPI dependency making ``filters`` (a dataclass whose fields are annotated as query parameters)
    of a request: the fields are declared once, as the parameters. A coroutine, not the class itself,
    which FastAPI would call in a worker thread."""

    async def read(**values: Any) -> T:
        return filters(**values)

    # The annotations are strings (postponed): evaluated now, in the class's module, not in this one.
    read.__signature__ = inspect.signature(filters, eval_str=True)  # type: ignore[attr-defined]
    return read


def where_equal(stmt: Statement, *filters: tuple[Any, object]) -> Statement:
    """``stmt`` narrowed, for each (column, value) with a value, to rows whose column equals it."""
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def where_any(stmt: Statement, *filters: tuple[Any, Collection[Any] | None]) -> Statement:
    """``stmt`` narrowed, for each (column, values) with values, to rows whose column is any of them."""
    for column, values in filters:
        if values:
            distinct = sorted({str(v) for v in values})
            stmt = stmt.where(column == distinct[0] if len(distinct) == 1 else column.in_(distinct))
    return stmt


def where_flag(stmt: Statement, flag: bool | None, clause: sa.ColumnElement[bool]) -> Statement:
    """``stmt`` narrowed to the rows ``clause`` holds for when ``flag`` is true, to the others when it
    is false; not narrowed when it is None."""
    if flag is None:
        return stmt
    return stmt.where(clause if flag else sa.not_(clause))


def from_sources(
    sources: Collection[CaseSource], made_by_hub: sa.ColumnElement[bool], from_public: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    """Records that came from any of ``sources``, given which the hub made (its access module says) and
    which came through the public's front door: those the hub received from the public are not its own
    (``app.public``), a partner's are the rest."""
    clauses = {
        CaseSource.HUB: sa.and_(made_by_hub, sa.not_(from_public)),
        CaseSource.PARTNER: sa.not_(made_by_hub),
        CaseSource.PUBLIC: from_public,
    }
    return sa.or_(*(clauses[source] for source in sorted(set(sources))))


def source_of(*, made_by_hub: bool, from_public: bool) -> CaseSource:
    """Where one record came from (as ``from_sources`` filters)."""
    if from_public:
        return CaseSource.PUBLIC
    return CaseSource.HUB if made_by_hub else CaseSource.PARTNER
