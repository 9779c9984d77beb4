"""The timeliness report's sections for the work after a decision: child and family assessments
(within 45 working days of the referral) and initial child protection conferences (within 15 working
days of the strategy discussion).

Open work is counted against the due date stored with it, now (a date: overdue the day after it, due
soon when it falls within the window in whole days, today included, as plan reviews are). Work done in
the report's period is counted as on time or late by the lateness stored when it was done. The
statements are ``queries``' (``assessments_open`` ... ``conferences_held``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.governance.reports import queries
from app.governance.reports.periods import Period
from app.governance.reports.schemas import AssessmentTimeliness, ConferenceTimeliness, DueCounts, OnTimeCounts


async def _counts(session: AsyncSession, stmt: queries.Query) -> dict[str, int]:
    return dict((await session.execute(stmt)).one()._mapping)


async def assessments(session: AsyncSession, period: Period, soon_days: int) -> AssessmentTimeliness:
    today = clock.today()
    open_ = queries.assessments_open(today, today + timedelta(days=soon_days))
    return AssessmentTimeliness(
        open=DueCounts.model_validate(await _counts(session, open_)),
        completed=OnTimeCounts.model_validate(await _counts(session, queries.assessments_completed(period))),
    )


async def conferences(session: AsyncSession, period: Period, soon_days: int) -> ConferenceTimeliness:
    today = clock.today()
    awaiting = queries.conferences_awaited(today, today + timedelta(days=soon_days))
    return ConferenceTimeliness(
        awaiting=DueCounts.model_validate(await _counts(session, awaiting)),
        held=OnTimeCounts.model_validate(await _counts(session, queries.conferences_held(period))),
    )
