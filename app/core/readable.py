"""Loading one record through a readable statement: the record and the view the caller has of it, in
one statement, or 404 when it has none (never 403: a hidden record's existence is not revealed).
Each aggregate's access module supplies the view clause of an agency other than the hub
(``app/**/access.py``), built by ``view_case``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.direct import DirectSelect
from app.core.errors import NotFound

if TYPE_CHECKING:
    from app.core.auth import Principal

Record = TypeVar("Record")
View = TypeVar("View", bound=StrEnum)
Row = TypeVar("Row", bound=NamedTuple)
_RecordAndView = sa.Select[*tuple[Any, ...]]


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


@dataclass(frozen=True, slots=True)
class Viewed(Generic[Record, View]):
    """An aggregate its callers see through views, as its access module describes it: the ``model``,
    its ``views`` (one of them ``full``, the hub's), the ``resource`` a 404 names, and the rules:
    ``is_hub`` (who sees every record whole) and ``partner_view`` (the view clause of any other
    agency, by its code). Loads one record for a caller the same way for every such aggregate.

    Its statements are built once for each agency (and once for the hub) and kept: the view clause
    depends on nothing else, and building it cost 30-120 us of CPU a request."""

    model: type[Record]
    views: type[View]
    resource: str
    partner_view: Callable[[str], sa.ColumnElement[str | None]]
    is_hub: Callable[[Principal], bool]
    _statements: dict[tuple[str | None, bool], _RecordAndView] = field(default_factory=dict, compare=False)
    _rows: dict[tuple[str | None, type[Any]], DirectSelect] = field(default_factory=dict, compare=False)

    def _agency(self, principal: Principal) -> str | None:
        """Whose view the caller has: its agency's, or the hub's (None)."""
        return None if self.is_hub(principal) else str(principal.agency)

    def _view(self, agency: str | None) -> sa.ColumnElement[str | None]:
        """The view clause of ``agency`` (None: the hub)."""
        return view_case(self.views("full")) if agency is None else self.partner_view(agency)

    def _statement(self, agency: str | None, for_update: bool) -> _RecordAndView:
        """``model``'s row ``record_id`` and the view of it of ``agency`` (None: the hub)."""
        found = self._statements.get((agency, for_update))
        if found is not None:
            return found
        view = self._view(agency)
        key: Any = self.model.id  # type: ignore[attr-defined]
        stmt: _RecordAndView = sa.select(self.model, view).where(key == sa.bindparam("record_id"))
        if for_update:
            # Serialises changes to one record; SQLite already runs one writer at a time.
            stmt = stmt.with_for_update(of=self.model)
        self._statements[(agency, for_update)] = stmt
        return stmt

    async def visible(
        self, session: AsyncSession, principal: Principal, record_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[Record, View]:
        """The record and the caller's view of it, in one statement; 404 when it may not see it."""
        stmt = self._statement(self._agency(principal), for_update)
        row = (await session.execute(stmt, {"record_id": record_id})).first()
        if row is None or row[1] is None:
            raise NotFound(self.resource, record_id)
        return row[0], self.views(row[1])

    async def shown(
        self, session: AsyncSession, principal: Principal, record_id: uuid.UUID, row: type[Row]
    ) -> tuple[Row, View]:
        """``visible`` for a read that only shows the record: as ``row``, a named tuple of the columns
        of its table of those names, read as a plain row by asyncpg (``app.core.direct``), not an ORM
        record; 404 when the caller may not see it."""
        agency = self._agency(principal)
        select = self._rows.get((agency, row))
        if select is None:
            columns = sa.inspect(self.model).local_table.c
            view = self._view(agency)
            select = self._rows[(agency, row)] = DirectSelect(
                sa.select(*(columns[name] for name in row._fields), view).where(
                    columns["id"] == sa.bindparam("record_id")
                )
            )
        found = await select.rows(session, {"record_id": record_id})
        if not found or found[0][-1] is None:
            raise NotFound(self.resource, record_id)
        return row._make(found[0][:-1]), self.views(found[0][-1])

    async def for_hub(self, session: AsyncSession, principal: Principal, record_id: uuid.UUID) -> Record:
        """A record the hub is about to change, locked until the transaction ends; 404 to anyone else."""
        if not self.is_hub(principal):
            raise NotFound(self.resource, record_id)
        record, _ = await self.visible(session, principal, record_id, for_update=True)
        return record
