"""Keyset pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` and ``Link`` out.

The cursor is the sort key of the last item of the page, base64url-encoded JSON. Pages are stable
while rows are inserted, and cost the same at page 1 and page 10,000 (no OFFSET).

A list that takes ``sort`` (a field name, ``-`` for descending) pages by a ``Sort``; its cursors carry
the sort they were made under, and a cursor of another sort is 422 ``invalid_cursor`` (its keys would
mean another position).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

import sqlalchemy as sa
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field, create_model
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.core.errors import AppError
from app.core.schemas import MAX_SAFE_INTEGER

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Cursors are a few keys, base64url-encoded; anything longer or other is not one of ours.
MAX_CURSOR_LENGTH = 512
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list. ``Page[ReferralSummary]`` is named ``ReferralSummaryPage`` in the spec (an
    ``...Out`` item drops the suffix: ``Page[ClientOut]`` is ``ClientPage``), the name clients generate."""

    items: list[T] = Field(max_length=MAX_LIMIT)
    next_cursor: str | None = Field(
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="Pass as `cursor` to get the next page; null on the last page.",
    )

    def __class_getitem__(cls, params: Any) -> Any:
        page = super().__class_getitem__(params)
        if cls is not Page or isinstance(params, TypeVar) or not isinstance(page, type):
            return page
        # A model of its own name: pydantic would name the schema of ``Page[X]`` "Page_X_".
        named = _NAMED_PAGES.get(params)
        if named is None:
            named = _NAMED_PAGES[params] = create_model(page_name(params), __base__=page, __module__=__name__)
        return named


_NAMED_PAGES: dict[Any, type[BaseModel]] = {}


def page_name(item: Any) -> str:
    """The schema name of a page of ``item``: ``ReferralSummaryPage``, ``ClientPage``; a page of one of
    several models (``Page[A | B]``) is an ``AOrBPage``."""
    return _item_name(item) + "Page"


def _item_name(item: Any) -> str:
    if get_origin(item) is Annotated:
        return _item_name(get_args(item)[0])
    if get_origin(item) in (Union, UnionType):
        return "Or".join(_item_name(arg) for arg in get_args(item) if arg is not type(None))
    name = getattr(item, "__name__", "")
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"Page[{item!r}]: a page's items are named models")
    return name[:1].upper() + name[1:].removesuffix("Out")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        # No pattern here: a cursor that is not one of ours is 422 `invalid_cursor`, which says so.
        Query(max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of the previous page."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _integer_bound(column: QueryableAttribute[Any]) -> int:
    """The largest integer ``column`` can hold as the API uses it: a value past it was never issued,
    and would overflow the driver or the column's type (a 500) if it reached the database."""
    kind = column.type
    if isinstance(kind, sa.SmallInteger):
        return 2**15 - 1
    if isinstance(kind, sa.BigInteger):
        return MAX_SAFE_INTEGER  # sequence numbers, documented as JavaScript-safe integers
    return 2**31 - 1


def _decode_value(value: Any, column: QueryableAttribute[Any]) -> Any:
    # Each key is checked for the exact JSON type the API writes: json.loads also gives bools (an int
    # subclass), floats, lists and objects, which the decoders below would accept or fail on oddly.
    python_type = column.type.python_type
    if python_type is datetime:
        if not isinstance(value, str):
            raise ValueError("cursor instant of the wrong type")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime in cursor")
        return parsed.astimezone(UTC)  # OverflowError near year 1 or 9999: not one of ours
    if python_type is uuid.UUID:
        if not isinstance(value, str):
            raise ValueError("cursor id of the wrong type")
        return uuid.UUID(value)
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("cursor number of the wrong type")
        if abs(value) > _integer_bound(column):
            raise ValueError("cursor number out of range")
        return value
    if python_type is str:
        if not isinstance(value, str):
            raise ValueError("cursor text of the wrong type")
        if "\x00" in value:
            raise ValueError("NUL in cursor text")  # PostgreSQL text cannot hold it
        value.encode()  # UnicodeEncodeError for a lone surrogate, which no database can store
        return value
    raise ValueError("cursor key of a type the API does not page by")


@dataclass(frozen=True, slots=True)
class Sort:
    """An order a list may be sorted in: its name as asked (``-decision_due_at``) and the keys it
    orders by (unique together: the last is the row's id)."""

    name: str
    keys: tuple[QueryableAttribute[Any], ...]
    descending: bool

    @classmethod
    def of(cls, asked: str, fields: Mapping[str, Sequence[QueryableAttribute[Any]]]) -> Sort:
        """The sort ``asked`` (a field of ``fields``, ``-`` first for descending; the list's query
        type allows only those, so an unknown one never gets here)."""
        field = asked.removeprefix("-")
        return cls(name=asked, keys=tuple(fields[field]), descending=asked.startswith("-"))


def sorts(model: Any, *fields: str) -> dict[str, tuple[QueryableAttribute[Any], ...]]:
    """The orders a list of ``model`` may be sorted in (``?sort=``): by each of ``fields``, then by the
    row's id, so that the keys are unique together."""
    return {field: (getattr(model, field), model.id) for field in fields}


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_values(cursor: str) -> Any:
    padded = cursor + "=" * (-len(cursor) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def decode_cursor(
    cursor: str, columns: Sequence[QueryableAttribute[Any]], *, sort: Sort | None = None
) -> list[Any]:
    """The keys of ``cursor``; with ``sort``, of a cursor made under that sort (another is 422
    ``invalid_cursor``)."""
    try:
        values = _cursor_values(cursor)
        if sort is not None:
            if not isinstance(values, list) or not values or values[0] != sort.name:
                raise ValueError("cursor of another sort")
            values = values[1:]
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("cursor of the wrong shape")
        return [_decode_value(v, c) for v, c in zip(values, columns, strict=True)]
    except (ValueError, TypeError, OverflowError, binascii.Error) as exc:
        raise AppError(code="invalid_cursor") from exc


def page_in_memory(
    items: Sequence[T], key: Callable[[T], str], params: PageParams
) -> tuple[list[T], str | None]:
    """One page of ``items``, a list held in memory in a fixed order with a unique ``key`` each, and the
    next cursor: the key of the page's last item, as a query's cursor carries its sort key."""
    start = 0
    if params.cursor is not None:
        try:
            (after,) = _cursor_values(params.cursor)
            start = 1 + next(i for i, item in enumerate(items) if key(item) == after)
        except (ValueError, TypeError, StopIteration, binascii.Error) as exc:
            raise AppError(code="invalid_cursor") from exc
    page = list(items[start : start + params.limit])
    more = start + params.limit < len(items)
    return page, encode_cursor([key(page[-1])]) if more else None


async def paginate(
    session: AsyncSession,
    stmt: sa.Select[Any],
    order_by: Sequence[QueryableAttribute[Any]] | Sort,
    params: PageParams,
    *,
    descending: bool = True,
    record: Callable[[sa.Row[Any]], Any] | None = None,
) -> tuple[list[Any], str | None]:
    """Run ``stmt`` ordered by ``order_by``, keys unique together or a ``Sort``, and return one page and
    the next cursor (which names the sort when there is one).

    ``stmt`` selects ORM entities (the page's records), or columns that ``record`` makes each record of
    (a named tuple's ``_make``, for a list that is only shown). The key values are read back from the
    records, so each key must be an attribute of a record, by the same name.
    """
    sort = order_by if isinstance(order_by, Sort) else None
    keys: Sequence[QueryableAttribute[Any]]
    if isinstance(order_by, Sort):
        keys, descending = order_by.keys, order_by.descending
    else:
        keys = order_by
    if params.cursor is not None:
        after = decode_cursor(params.cursor, keys, sort=sort)
        row_key = sa.tuple_(*keys)
        cursor_key = sa.tuple_(*[sa.literal(v, k.type) for v, k in zip(after, keys, strict=True)])
        stmt = stmt.where(row_key < cursor_key if descending else row_key > cursor_key)
    order = [k.desc() if descending else k.asc() for k in keys]
    result = await session.execute(stmt.order_by(*order).limit(params.limit + 1))
    rows = list(result.scalars() if record is None else map(record, result))
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    values = [getattr(last, k.key) for k in keys]
    return rows, encode_cursor(values if sort is None else [sort.name, *values])


def set_link_header(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'


@dataclass(frozen=True, slots=True)
class Pager:
    """What a list route needs of paging: the page asked for, and the response to link the next from."""

    params: PageParams
    request: Request
    response: Response

    def link(self, next_cursor: str | None) -> None:
        set_link_header(self.request, self.response, next_cursor)

    def page(self, items: list[T], next_cursor: str | None) -> Page[T]:
        """The page answered, with its ``Link`` header: every list links its next page the same way."""
        self.link(next_cursor)
        return Page(items=items, next_cursor=next_cursor)


async def pager(
    request: Request, response: Response, params: Annotated[PageParams, Depends(page_params)]
) -> Pager:
    return Pager(params=params, request=request, response=response)


# A list route's ``?limit=&cursor=`` and its Link header, in one parameter.
Paging = Annotated[Pager, Depends(pager)]
