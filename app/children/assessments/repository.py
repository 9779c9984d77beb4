"""Queries on assessments beyond loading one (``access.py``): the open one of a child, and the list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import AssessmentStatus
from app.children.referrals.access import hub_work
from app.core.auth import Principal
from app.core.filters import AnyOf, query, where_any, where_equal, where_flag
from app.core.pagination import PageParams, paginate
from app.models.protection import Assessment


async def open_assessment_of(session: AsyncSession, child_id: uuid.UUID) -> uuid.UUID | None:
    """The child's open assessment, if any (a child has one at a time)."""
    return await session.scalar(
        sa.select(Assessment.id).where(
            Assessment.child_id == child_id, Assessment.status == AssessmentStatus.OPEN
        )
    )


@dataclass(frozen=True, slots=True)
class AssessmentFilters:
    """The assessment queue's filters, declared as its query parameters (``app.core.filters.query``)."""

    referral_id: Annotated[uuid.UUID | None, Query(description="Only this referral's assessments.")] = None
    statuses: Annotated[
        AnyOf[AssessmentStatus] | None, Query(alias="status", description="Any of these statuses.")
    ] = None
    overdue: Annotated[
        bool | None, Query(description="Only open assessments past `due_on` (true), or not.")
    ] = None


# The list's query parameters, as one parameter of its handler.
AssessmentQuery = Annotated[AssessmentFilters, Depends(query(AssessmentFilters))]


def overdue_clause(today: date) -> sa.ColumnElement[bool]:
    """Still open the day after its due date (due dates are London dates)."""
    return sa.and_(Assessment.status == AssessmentStatus.OPEN, Assessment.due_on < today)


async def listed(
    session: AsyncSession, principal: Principal, filters: AssessmentFilters, params: PageParams, today: date
) -> tuple[list[Assessment], str | None]:
    """The assessments the caller may read that match ``filters``, soonest due first."""
    stmt = sa.select(Assessment).where(hub_work(principal))
    stmt = where_equal(stmt, (Assessment.referral_id, filters.referral_id))
    stmt = where_any(stmt, (Assessment.status, filters.statuses))
    stmt = where_flag(stmt, filters.overdue, overdue_clause(today))
    return await paginate(session, stmt, [Assessment.due_on, Assessment.id], params, descending=False)
