"""Loading one record through a readable statement: the record and the view the caller has of it, in
one statement, or 404 when it has none (never 403: a hidden record's existence is not revealed).
Each aggregate's access module supplies the view clause (``app/**/access.py``)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound

Record = TypeVar("Record")


async def one_with_view(
    session: AsyncSession,
    model: type[Record],
    view: sa.ColumnElement[str | None],
    record_id: uuid.UUID,
    *,
    resource: str,
    for_update: bool = False,
) -> tuple[Record, str]:
    """``model``'s row ``record_id`` and the caller's ``view`` of it; NotFound when the view is NULL."""
    key: Any = model.id  # type: ignore[attr-defined]
    stmt = sa.select(model, view).where(key == record_id)
    if for_update:
        # Serialises changes to one record; SQLite already runs one writer at a time.
        stmt = stmt.with_for_update(of=model)
    row = (await session.execute(stmt)).first()
    if row is None or row[1] is None:
        raise NotFound(resource, record_id)
    return row[0], str(row[1])
