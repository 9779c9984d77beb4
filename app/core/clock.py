"""The hub's working-time clock: deadlines from a receipt time, in working hours, working days or clock hours.

Deadlines are computed once, from the settings in force at the time, and stored with the record; this
module only computes (it never reads the database or the settings itself).

Semantics
---------
* **Instants.** Every datetime passed in must be timezone-aware (any offset; it is converted to UTC);
  a naive datetime raises ``ValueError``. Every datetime returned is in UTC.
* **Working days** are the weekdays with working hours (below; default Monday to Friday) that are
  neither an England & Wales bank holiday (from the ``holidays`` library, including
  substitute days such as Monday 28 December 2026) nor one of the configured local closure dates.
  A date is always a date in the configured time zone (default Europe/London).
* **Today** (``today()``) is the date in England now, whatever the server's zone; ``now()`` is the
  current instant in UTC, and the only place the application reads the wall clock.
* **Working hours** are set per weekday: each weekday has one window of local wall-clock times, or none
  (default 09:00-17:00 Monday to Friday; the seed borough works 09:00-17:15 Monday to Thursday and
  09:00-17:00 on Friday). One rule makes the working days: a weekday with hours is a working weekday,
  one without is not (the older single window with ``working_weekdays`` is still read, see
  ``WorkingTimeConfig``). A window is half-open: 09:00 is working time, its end is not. It is placed on
  each day by its local times, so a 09:00-17:00 day is 8 hours long in both GMT and BST (in UTC it is
  09:00-17:00 in winter and 08:00-16:00 in summer). Working time inside a window is real elapsed time.
* **Adding working hours.** ``add_working_hours(start, h)`` is the earliest instant by which ``h``
  working hours have passed since ``start``, counting each day's own window (a Friday closing at 17:00
  gives 15 minutes less than a Thursday closing at 17:15). So counting from a time out of hours starts
  at the next working start, and a deadline that uses up a day exactly falls at the end of that day's
  window, not at the start of the next. Adding 0 hours returns ``start`` unchanged.
* **Adding working days** (``add_working_days``, the decision "within one working day of receipt") is
  not a number of hours, now that days differ in length. Received in working hours at local time ``t``
  on a working day, ``n`` working days later is time ``t`` on the ``n``-th working day after it, capped
  to that day's window (Friday 16:59 -> Monday 16:59; Thursday 17:10 under 17:15 hours -> Friday
  17:00, Friday's end). Received out of hours (before opening, after closing, at a weekend, on a bank
  holiday or a closure day), it is the end of the ``n``-th working day from the next opening, that one
  counted (Friday 17:01 -> the end of Monday, 17:15; Saturday -> the end of Monday; Monday 08:00 -> the
  end of Monday). Received exactly at opening, the whole of that day counts, as out of hours (Monday
  09:00 -> the end of Monday: the same working time as Tuesday 09:00, and the earlier instant). Received
  exactly at closing is out of hours. (A working day is no longer a fixed number of working hours:
  with days of different lengths no one number is right, and "by this time on the next working day" is
  what the people keeping the deadline read it as.)
* **RAG ratings.** Red is due a number of clock hours after receipt (red cases run round the clock):
  absolute elapsed time, so across a clock change 4 hours is 4 real hours, whatever the wall clock
  shows. ``red_in_clock_hours=False`` makes red count working hours like amber and green. Amber and
  green count working hours. Blue (no MASH response needed) has no deadline. A RAG target is the hub's
  own target: it never extends the statutory decision deadline (``referral_decision_due_for``: the
  earlier of the two), so amber "24 working hours" and green "72" are in practice one working day. RAG working hours
  count the real windows, day by day.
* A window boundary that falls in a clock change's gap or overlap (only possible for windows set in
  the small hours) resolves as Python does by default (``fold=0``, the offset in force before the
  change); a window that would end before it starts on such a day is empty.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PositiveInt, model_validator

from app.core.codes import RagRating

# The ratings that set a deadline (blue, no MASH response needed, sets none).
DeadlineRating = Literal[RagRating.RED, RagRating.AMBER, RagRating.GREEN]
DEADLINE_RATINGS: tuple[DeadlineRating, ...] = (RagRating.RED, RagRating.AMBER, RagRating.GREEN)

# England & Wales share one list of bank holidays; "ENG" gives exactly that list (it matches "WLS").
BANK_HOLIDAY_COUNTRY = "GB"
BANK_HOLIDAY_SUBDIVISION = "ENG"

_ONE_DAY = timedelta(days=1)
_ONE_HOUR = timedelta(hours=1)

# The hub's calendar: a date it records or compares (a date of birth, a due date, a review date) is a
# date in England, whatever the server's zone. At 23:30 UTC in summer it is already tomorrow there.
LONDON = ZoneInfo("Europe/London")


def now() -> datetime:
    """The current instant, in UTC: the one place app/ reads the wall clock (tests move it)."""
    return datetime.now(UTC)


def local_date(instant: datetime) -> date:
    """The date in England of an instant (timezone-aware)."""
    return _utc(instant, "instant").astimezone(LONDON).date()


def today() -> date:
    """Today's date in England (Europe/London), never the server's."""
    return local_date(now())


def earlier_of(target: datetime | None, deadline: datetime) -> datetime:
    """``deadline``, or ``target`` when there is one and it is earlier: a target never extends a deadline."""
    return deadline if target is None else min(target, deadline)


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years from ``date_of_birth`` to ``on`` (someone born on 29 February comes of age on
    1 March in a common year)."""
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


RagHours = Annotated[float, Field(gt=0, allow_inf_nan=False)]
IsoWeekday = Annotated[int, Field(ge=1, le=7)]


def _known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone; give an IANA name such as Europe/London") from exc
    return value


def _wall_clock(value: time) -> time:
    # Working hours are local wall-clock times in `timezone`; an offset here would be ambiguous.
    if value.tzinfo is not None:
        raise ValueError("working hours are local times in `timezone`; give them without an offset")
    return value


# The time zone and working hours, as configured and as an admin sets them (app/admin/settings).
TimeZoneName = Annotated[str, AfterValidator(_known_timezone)]
WallClock = Annotated[time, AfterValidator(_wall_clock)]


def _default_rag_hours() -> dict[DeadlineRating, float]:
    return {RagRating.RED: 4, RagRating.AMBER: 24, RagRating.GREEN: 72}


class Weekday(StrEnum):
    """A day of the week, as the working hours name it (ISO order: Monday is day 1)."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)


def weekday_of(day: date) -> Weekday:
    return WEEKDAYS[day.isoweekday() - 1]


class WorkingWindow(BaseModel):
    """One weekday's working hours: local wall-clock times, start inclusive, end exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: WallClock
    end: WallClock

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError("start must be before end on the same day")
        return self


NINE_TO_FIVE = WorkingWindow(start=time(9, 0), end=time(17, 0))


def _default_working_hours() -> dict[Weekday, WorkingWindow | None]:
    return {day: None if day in (Weekday.SATURDAY, Weekday.SUNDAY) else NINE_TO_FIVE for day in WEEKDAYS}


class _SingleWindow(BaseModel):
    """The older form of working hours: one window for every working weekday (still read: configured
    ``MASH_WORKING_TIME__WORKDAY_START`` and settings documents stored before per-weekday hours)."""

    model_config = ConfigDict(extra="forbid")

    workday_start: WallClock = time(9, 0)
    workday_end: WallClock = time(17, 0)
    working_weekdays: frozenset[IsoWeekday] = Field(default=frozenset({1, 2, 3, 4, 5}), min_length=1)

    def working_hours(self) -> dict[str, dict[str, time] | None]:
        window = {"start": self.workday_start, "end": self.workday_end}
        return {
            day.value: window if n in self.working_weekdays else None for n, day in enumerate(WEEKDAYS, 1)
        }


_SINGLE_WINDOW_FIELDS = frozenset(_SingleWindow.model_fields)


class WorkingTimeConfig(BaseModel):
    """Timescales and working hours of one local authority. Defaults are the service's shipped ones.

    ``working_hours`` maps a weekday to its window; a weekday missing or ``None`` is not a working day.
    The older ``workday_start``/``workday_end``/``working_weekdays`` (one window for every working
    weekday) are read too and turned into ``working_hours``; giving both forms is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: TimeZoneName = "Europe/London"
    working_hours: dict[Weekday, WorkingWindow | None] = Field(default_factory=_default_working_hours)
    rag_hours: dict[DeadlineRating, RagHours] = Field(default_factory=_default_rag_hours)
    red_in_clock_hours: bool = True
    referral_decision_working_days: PositiveInt = 1
    referral_acknowledgement_working_days: PositiveInt = 1
    adult_concern_decision_working_days: PositiveInt = 2
    # Local closure days (e.g. a council's extra day at Christmas), on top of bank holidays and weekends.
    extra_closure_dates: list[date] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _read_single_window(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not _SINGLE_WINDOW_FIELDS & data.keys():
            return data
        if "working_hours" in data:
            raise ValueError(
                "give working_hours, or the older workday_start, workday_end and working_weekdays; not both"
            )
        older = {k: v for k, v in data.items() if k in _SINGLE_WINDOW_FIELDS}
        rest = {k: v for k, v in data.items() if k not in _SINGLE_WINDOW_FIELDS}
        return {**rest, "working_hours": _SingleWindow.model_validate(older).working_hours()}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.working_weekdays:
            raise ValueError("working_hours needs hours on at least one weekday")
        missing = [rating for rating in DEADLINE_RATINGS if rating not in self.rag_hours]
        if missing:
            raise ValueError(f"rag_hours needs hours for every rating; missing: {', '.join(missing)}")
        return self

    def hours_on(self, weekday: Weekday) -> WorkingWindow | None:
        return self.working_hours.get(weekday)

    @property
    def working_weekdays(self) -> frozenset[int]:
        """ISO numbers (Monday = 1) of the weekdays with working hours: the working weekdays."""
        return frozenset(n for n, day in enumerate(WEEKDAYS, 1) if self.hours_on(day) is not None)


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    calendar = holidays.country_holidays(
        BANK_HOLIDAY_COUNTRY, subdiv=BANK_HOLIDAY_SUBDIVISION, years=year, categories=(holidays.PUBLIC,)
    )
    return frozenset(calendar.keys())


def load_bank_holidays(today: date) -> None:
    """Load this year's and next year's bank holidays now, at start-up: the holidays package imports
    every country's module on first use (0.3 s with bytecode compiled, 0.6 without), which the first
    request working to the clock after a restart would otherwise wait for."""
    for year in (today.year, today.year + 1):
        _bank_holidays(year)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _hours(hours: float, name: str = "hours") -> timedelta:
    if isinstance(hours, bool) or not math.isfinite(hours) or hours < 0:
        raise ValueError(f"{name} must be a finite number of hours, zero or more; got {hours!r}")
    return timedelta(hours=hours)


class WorkingClock:
    """Computes working-time deadlines for one configuration (see the module docstring)."""

    def __init__(self, config: WorkingTimeConfig | None = None) -> None:
        self.config = config if config is not None else WorkingTimeConfig()
        self._tz = ZoneInfo(self.config.timezone)
        # Snapshot: the config is frozen, but its list of closure dates is not.
        self._closures = frozenset(self.config.extra_closure_dates)
        self._hours = {n: self.config.hours_on(day) for n, day in enumerate(WEEKDAYS, 1)}

    # -- calendar -----------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local calendar date) is a working day."""
        if isinstance(day, datetime):
            # A datetime is a date subclass but would silently never match a holiday date.
            raise TypeError("is_working_day takes a date; for an instant use is_working_time")
        return (
            self._hours[day.isoweekday()] is not None
            and day not in self._closures
            and day not in _bank_holidays(day.year)
        )

    def is_working_time(self, at: datetime) -> bool:
        """Whether ``at`` falls within working hours (start inclusive, end exclusive)."""
        instant = _utc(at, "at")
        start, _ = next(self._windows_ending_after(instant))
        return start <= instant

    def next_working_start(self, at: datetime) -> datetime:
        """The first working instant at or after ``at``: ``at`` itself in working hours, else the next
        window's start (at 17:00 exactly, the next working day's 09:00)."""
        instant = _utc(at, "at")
        start, _ = next(self._windows_ending_after(instant))
        return max(start, instant)

    # -- arithmetic ---------------------------------------------------------------------------------

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The earliest instant by which ``hours`` working hours have passed since ``start``."""
        return self._add_working_time(_utc(start, "start"), _hours(hours))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """``days`` working days after ``start``: the same local time on the ``days``-th working day after
        a receipt in working hours (capped to that day's window), the end of the ``days``-th working day
        from the next opening after a receipt out of hours or exactly at opening (module docstring)."""
        if isinstance(days, bool) or days < 0:
            raise ValueError(f"days must be zero or more, got {days!r}")
        instant = _utc(start, "start")
        if days == 0:
            return instant
        windows = self._windows_ending_after(instant)
        window_start, window_end = next(windows)
        if instant <= window_start:  # out of hours, or at opening: that whole working day counts
            for _ in range(days - 1):
                window_start, window_end = next(windows)
            return window_end
        wall_clock = instant.astimezone(self._tz).time()
        for _ in range(days):
            window_start, window_end = next(windows)
        day = window_start.astimezone(self._tz).date()
        same_time = datetime.combine(day, wall_clock, tzinfo=self._tz).astimezone(UTC)
        return min(max(same_time, window_start), window_end)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours in ``[a, b)``; negative when ``b`` is before ``a`` (e.g. how late something is)."""
        begin, end = _utc(a, "a"), _utc(b, "b")
        if end < begin:
            return -self.working_hours_between(b, a)
        total = timedelta(0)
        for window_start, window_end in self._windows_ending_after(begin):
            if window_start >= end:
                break
            total += min(window_end, end) - max(window_start, begin)
        return total / _ONE_HOUR

    def working_days_after(self, start: date, days: int) -> date:
        """The date ``days`` working days after the local date ``start`` (``start`` itself not counted):
        the statutory timescales counted in whole days (an assessment within 45 working days of the
        referral, a conference within 15 working days of the strategy discussion)."""
        if isinstance(start, datetime):
            raise TypeError("working_days_after takes a local date; for an instant use add_working_days")
        if isinstance(days, bool) or days < 0:
            raise ValueError(f"days must be zero or more, got {days!r}")
        day = start
        while days:
            day += _ONE_DAY
            days -= self.is_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (how long something took, in the
        census's sense); negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_working_day(start + _ONE_DAY * n) for n in range(1, (end - start).days + 1))

    # -- domain deadlines ---------------------------------------------------------------------------

    def referral_decision_due(self, received_at: datetime) -> datetime:
        """Children's referral: decision on next steps within one working day of receipt (configurable)."""
        return self.add_working_days(received_at, self.config.referral_decision_working_days)

    def referral_acknowledgement_due(self, received_at: datetime) -> datetime:
        """Children's referral: the referrer's contact acknowledged within one working day (configurable)."""
        return self.add_working_days(received_at, self.config.referral_acknowledgement_working_days)

    def referral_decision_due_for(self, received_at: datetime, rating: str) -> datetime:
        """The decision deadline of a referral with this rating: the RAG target when it is earlier than
        the statutory deadline, else the statutory one (a RAG target never extends it; blue has none)."""
        return earlier_of(self.rag_due(received_at, rating), self.referral_decision_due(received_at))

    def rag_due(self, received_at: datetime, rating: str) -> datetime | None:
        """The RAG target for a rating, counted from ``received_at``; None for blue. The hub's target for
        agencies' checks; for the decision only when earlier than the statutory deadline
        (``referral_decision_due_for``).

        ``rating`` is one of red, amber, green, blue (a ``StrEnum`` with those values works too).
        """
        received = _utc(received_at, "received_at")
        # Compare by equality rather than dict lookup so that str enums with these values work too.
        matched = next((known for known in RagRating if rating == known), None)
        if matched is None:
            raise ValueError(f"unknown RAG rating {rating!r}; expected one of {', '.join(RagRating)}")
        if matched is RagRating.BLUE:
            return None
        hours = _hours(self.config.rag_hours[matched], f"rag_hours[{matched}]")
        if matched is RagRating.RED and self.config.red_in_clock_hours:
            # Round the clock: absolute elapsed time, so a clock change does not move it.
            return received + hours
        return self._add_working_time(received, hours)

    def adult_concern_decision_due(self, received_at: datetime) -> datetime:
        """Adult safeguarding concern: section 42 decision within 2 working days (configurable)."""
        return self.add_working_days(received_at, self.config.adult_concern_decision_working_days)

    # -- internals ----------------------------------------------------------------------------------

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date as UTC instants, or None when the day has none."""
        hours = self._hours[day.isoweekday()]
        if hours is None or not self.is_working_day(day):
            return None
        start = datetime.combine(day, hours.start, tzinfo=self._tz).astimezone(UTC)
        end = datetime.combine(day, hours.end, tzinfo=self._tz).astimezone(UTC)
        if end <= start:  # only a boundary inside a clock change's gap can do this
            return None
        return start, end

    def _windows_ending_after(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows in order, from the first one that ends after ``instant``. Never exhausted:
        there is always a working weekday that is not a holiday."""
        # Start a day early so that no window is missed whatever the zone's offset.
        day = instant.astimezone(self._tz).date() - _ONE_DAY
        while True:
            window = self._window(day)
            if window is not None and window[1] > instant:
                yield window
            day += _ONE_DAY

    def _add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        if amount == timedelta(0):
            return start
        remaining = amount
        windows = self._windows_ending_after(start)
        while True:
            window_start, window_end = next(windows)
            begin = max(window_start, start)
            available = window_end - begin
            # `<=`: a deadline that uses up a window exactly falls at its end (17:00), not next morning.
            if remaining <= available:
                return begin + remaining
            remaining -= available
