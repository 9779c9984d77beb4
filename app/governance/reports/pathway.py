"""The timeliness report's sections for the work after a decision: child and family assessments
(within 45 working days of the referral) and initial child protection conferences (within 15 working
days of the strategy discussion).

Open work is counted against the due date stored with it, now (a date: overdue the day after it, due
soon when it falls within the window in whole days, today included, as plan reviews are). Work done in
the report's period is counted as on time or late by the lateness stored when it was done.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import AssessmentStatus, Section47Status
from app.core import clock
from app.governance.reports import queries
from app.governance.reports.periods import Period
from app.governance.reports.schemas import AssessmentTimeliness, ConferenceTimeliness, DueCounts, OnTimeCounts
from app.models.protection import Assessment, Section47Enquiry

# Enquiries whose conference clock still runs: no outcome yet, or a conference called and not held.
AWAITING_CONFERENCE = (Section47Status.OPEN, Section47Status.AWAITING_CONFERENCE)


def _on_time(late: Any) -> list[sa.Label[int]]:
    one = sa.literal(1)
    return [
        sa.func.count(sa.case((late.is_(False), one))).label("on_time"),
        sa.func.count(sa.case((late.is_(True), one))).label("late"),
    ]


def _due(deadline: Any, today: date, soon: date) -> list[sa.Label[int]]:
    # The same definitions of due, due soon and overdue as the rest of the report.
    return queries._due_counts(deadline, sa.literal(today, sa.Date), sa.literal(soon, sa.Date))


def _between(column: Any, period: Period) -> sa.ColumnElement[bool]:
    within: sa.ColumnElement[bool] = column.between(
        sa.literal(period.first_day, sa.Date), sa.literal(period.last_day, sa.Date)
    )
    return within


async def _counts(session: AsyncSession, stmt: queries.Query) -> dict[str, int]:
    return dict((await session.execute(stmt)).one()._mapping)


async def assessments(session: AsyncSession, period: Period, soon_days: int) -> AssessmentTimeliness:
    today = clock.today()
    open_ = sa.select(*_due(Assessment.due_on, today, today + timedelta(days=soon_days))).where(
        Assessment.status == AssessmentStatus.OPEN
    )
    completed = sa.select(*_on_time(Assessment.completed_late)).where(
        _between(Assessment.completed_on, period)
    )
    return AssessmentTimeliness(
        open=DueCounts.model_validate(await _counts(session, open_)),
        completed=OnTimeCounts.model_validate(await _counts(session, completed)),
    )


async def conferences(session: AsyncSession, period: Period, soon_days: int) -> ConferenceTimeliness:
    today = clock.today()
    awaiting = sa.select(*_due(Section47Enquiry.icpc_due_on, today, today + timedelta(days=soon_days))).where(
        Section47Enquiry.status.in_(AWAITING_CONFERENCE)
    )
    held = sa.select(*_on_time(Section47Enquiry.conference_late)).where(
        _between(Section47Enquiry.conference_held_on, period)
    )
    return ConferenceTimeliness(
        awaiting=DueCounts.model_validate(await _counts(session, awaiting)),
        held=OnTimeCounts.model_validate(await _counts(session, held)),
    )
