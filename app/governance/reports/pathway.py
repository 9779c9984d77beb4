"""The timeliness report's sections for the work after a decision: child and family assessments
(within 45 working days of the referral) and initial child protection conferences (within 15 working
days of the strategy discussion).

Open work is counted against the due date stored with it, now (a date: overdue the day after it, due
soon when it falls within the window in whole days, today included, as plan reviews are). Work done in
the report's period is counted as on time or late by the lateness stored when it was done. The
statements are ``queries``' (``assessments_open`` ... ``conferences_held``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.governance.reports import queries
from app.governance.reports.periods import Period
from app.governance.reports.schemas import AssessmentTimeliness, ConferenceTimeliness, DueCounts, OnTimeCounts


async def _counts(session: AsyncSession, stmt: queries.Query) -> dict[str, int]:
    return dict((await session.execute(stmt)).one()._mapping)


async def _timeliness(
    session: AsyncSession, due: Callable[[date, date], queries.Query], done: queries.Query, soon_days: int
) -> tuple[DueCounts, OnTimeCounts]:
    """Those still due (``due`` over today and the ``soon_days`` after), and those done in the period."""
    today = clock.today()
    return (
        DueCounts.model_validate(await _counts(session, due(today, today + timedelta(days=soon_days)))),
        OnTimeCounts.model_validate(await _counts(session, done)),
    )


async def assessments(session: AsyncSession, period: Period, soon_days: int) -> AssessmentTimeliness:
    open_, completed = await _timeliness(
        session, queries.assessments_open, queries.assessments_completed(period), soon_days
    )
    return AssessmentTimeliness(open=open_, completed=completed)


async def conferences(session: AsyncSession, period: Period, soon_days: int) -> ConferenceTimeliness:
    awaiting, held = await _timeliness(
        session, queries.conferences_awaited, queries.conferences_held(period), soon_days
    )
    return ConferenceTimeliness(awaiting=awaiting, held=held)
