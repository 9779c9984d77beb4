"""Reporting periods: calendar dates in England, turned into the UTC instants the records are stamped with.

Statutory returns count by English calendar dates: the reporting year runs from 1 April to 31 March,
and a record received at 00:30 on 1 April British Summer Time (23:30 UTC on 31 March) belongs to the
new year. So a period is a half-open range of instants from local midnight of its first day to local
midnight after its last day, compared directly with the stored UTC timestamps (and their indexes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.core.clock import LONDON

# Statutory returns are English: their dates are dates in England, whatever the hub's working hours.
REPORTING_TZ = LONDON


@dataclass(frozen=True, slots=True)
class Period:
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        """The first instant of the period (local midnight of its first day), in UTC."""
        return _local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The first instant after the period (local midnight after its last day), in UTC."""
        return _local_midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), REPORTING_TZ).astimezone(UTC)


def reporting_year(year: int) -> Period:
    """The reporting year that starts on 1 April of ``year`` (2026: 1 April 2026 - 31 March 2027)."""
    return Period(date(year, 4, 1), date(year + 1, 3, 31))


def reporting_year_to_date(today: date) -> Period:
    """From 1 April of the reporting year ``today`` falls in, to ``today``."""
    return Period(date(today.year if today.month >= 4 else today.year - 1, 4, 1), today)
