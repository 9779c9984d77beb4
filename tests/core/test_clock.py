"""The working-time clock. Every expected instant is worked out by hand and written in UTC.

Reminders for reading the tables: the default working day is 09:00-17:00 Europe/London, which is
09:00-17:00 UTC in GMT (winter) and 08:00-16:00 UTC in BST (summer). The clocks went forward on
Sunday 29 March 2026 and go back on Sunday 25 October 2026; they go forward on Sunday 28 March 2027.
Bank holidays used: Mon 4 May 2026, Fri 25 Dec 2026, Mon 28 Dec 2026 (substitute for Boxing Day),
Fri 1 Jan 2027, Fri 26 Mar 2027 (Good Friday), Mon 29 Mar 2027 (Easter Monday), Mon 3 May 2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

import pytest
from pydantic import ValidationError

from app.core import clock as clock_module
from app.core.clock import WorkingClock, WorkingTimeConfig, local_date
from app.core.config import Settings
from app.main import create_app

CLOCK = WorkingClock()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def assert_same_utc(actual: datetime | None, expected: datetime) -> None:
    assert actual is not None
    assert actual.tzinfo is UTC
    assert actual == expected


# -- calendar ---------------------------------------------------------------------------------------

# From gov.uk/bank-holidays (England and Wales), typed by hand so that the library is checked too.
BANK_HOLIDAYS_2026_2027 = {
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 5, 4),
    date(2026, 5, 25),
    date(2026, 8, 31),
    date(2026, 12, 25),
    date(2026, 12, 28),
    date(2027, 1, 1),
    date(2027, 3, 26),
    date(2027, 3, 29),
    date(2027, 5, 3),
    date(2027, 5, 31),
    date(2027, 8, 30),
    date(2027, 12, 27),
    date(2027, 12, 28),
}


def test_weekdays_of_2026_and_2027_are_working_days_except_exactly_the_bank_holidays() -> None:
    day = date(2026, 1, 1)
    closed_weekdays = set()
    while day.year < 2028:
        if day.isoweekday() <= 5 and not CLOCK.is_working_day(day):
            closed_weekdays.add(day)
        day += timedelta(days=1)
    assert closed_weekdays == BANK_HOLIDAYS_2026_2027


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 14), False),  # Saturday
        (date(2026, 3, 15), False),  # Sunday
        (date(2026, 3, 16), True),  # Monday
        (date(2026, 5, 4), False),  # early May bank holiday 2026
        (date(2026, 5, 5), True),
        (date(2026, 12, 24), True),  # Christmas Eve is not a bank holiday
        (date(2026, 12, 25), False),  # Christmas Day, a Friday
        (date(2026, 12, 26), False),  # Boxing Day, a Saturday...
        (date(2026, 12, 28), False),  # ...so Monday is the substitute day
        (date(2026, 12, 29), True),
        (date(2027, 1, 1), False),
        (date(2027, 3, 26), False),  # Good Friday 2027
        (date(2027, 3, 29), False),  # Easter Monday 2027
        (date(2027, 3, 30), True),
        (date(2027, 5, 3), False),  # early May bank holiday 2027
    ],
    ids=str,
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert CLOCK.is_working_day(day) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 16, 8, 59, 59), False),
        (utc(2026, 3, 16, 9), True),  # 09:00 is working time...
        (utc(2026, 3, 16, 16, 59, 59), True),
        (utc(2026, 3, 16, 17), False),  # ...17:00 is not
        (utc(2026, 6, 15, 7, 59), False),  # BST: 08:59 local
        (utc(2026, 6, 15, 8), True),  # BST: 09:00 local
        (utc(2026, 6, 15, 15, 59), True),  # BST: 16:59 local
        (utc(2026, 6, 15, 16), False),  # BST: 17:00 local
        (utc(2026, 3, 30, 8), True),  # first working morning after the clocks go forward
        (utc(2026, 3, 21, 12), False),  # Saturday
        (utc(2026, 12, 25, 12), False),  # Christmas Day
    ],
    ids=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
)
def test_is_working_time(at: datetime, expected: bool) -> None:
    assert CLOCK.is_working_time(at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 16, 10), utc(2026, 3, 16, 10)),  # in hours: itself
        (utc(2026, 3, 16, 9), utc(2026, 3, 16, 9)),
        (utc(2026, 3, 16, 17), utc(2026, 3, 17, 9)),  # 17:00 is out of hours
        (utc(2026, 3, 16, 20), utc(2026, 3, 17, 9)),  # evening
        (utc(2026, 3, 17, 2), utc(2026, 3, 17, 9)),  # night
        (utc(2026, 3, 20, 17), utc(2026, 3, 23, 9)),  # Friday close -> Monday
        (utc(2026, 3, 21, 12), utc(2026, 3, 23, 9)),  # Saturday -> Monday
        (utc(2026, 12, 24, 17, 30), utc(2026, 12, 29, 9)),  # over Christmas and the substitute day
        # Thursday before Easter 2027: Good Friday, the clocks going forward, Easter Monday.
        (utc(2027, 3, 25, 18), utc(2027, 3, 30, 8)),
        # Friday 17:00 BST -> Monday 09:00 GMT after the clocks go back.
        (utc(2026, 10, 23, 16), utc(2026, 10, 26, 9)),
    ],
    ids=lambda v: v.isoformat(),
)
def test_next_working_start(at: datetime, expected: datetime) -> None:
    assert_same_utc(CLOCK.next_working_start(at), expected)


# -- working-hour arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (utc(2026, 3, 16, 16), 1, utc(2026, 3, 16, 17)),  # uses up the day: 17:00, not 09:00 next day
        (utc(2026, 3, 16, 16, 30), 0.5, utc(2026, 3, 16, 17)),
        (utc(2026, 3, 16, 16), 1.25, utc(2026, 3, 17, 9, 15)),
        (utc(2026, 3, 16, 17), 0, utc(2026, 3, 16, 17)),  # nothing to add: unchanged
        (utc(2026, 3, 21, 12), 2, utc(2026, 3, 23, 11)),  # Saturday: counting starts Monday 09:00
    ],
)
def test_add_working_hours(start: datetime, hours: float, expected: datetime) -> None:
    assert_same_utc(CLOCK.add_working_hours(start, hours), expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (utc(2026, 3, 16, 9), utc(2026, 3, 16, 17), 8.0),
        (utc(2026, 3, 16, 10), utc(2026, 3, 16, 10), 0.0),
        (utc(2026, 3, 16, 10), utc(2026, 3, 16, 9), -1.0),  # b before a: negative
        (utc(2026, 3, 20, 15), utc(2026, 3, 23, 15), 8.0),  # over a weekend
        (utc(2026, 3, 21, 0), utc(2026, 3, 22, 23, 59), 0.0),  # all weekend
        (utc(2026, 3, 27, 15), utc(2026, 3, 30, 14), 8.0),  # Fri 15:00 GMT to Mon 15:00 BST
        (utc(2026, 10, 23, 15), utc(2026, 10, 26, 16), 8.0),  # Fri 16:00 BST to Mon 16:00 GMT
        (utc(2026, 12, 24, 9), utc(2026, 12, 29, 9), 8.0),  # Christmas: only Christmas Eve counts
    ],
)
def test_working_hours_between(a: datetime, b: datetime, expected: float) -> None:
    assert CLOCK.working_hours_between(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("start", [utc(2026, 3, 16, 10, 17), utc(2026, 3, 27, 23), utc(2026, 12, 24, 16)])
@pytest.mark.parametrize("hours", [0.5, 8, 24, 72, 300])
def test_working_hours_between_undoes_add_working_hours(start: datetime, hours: float) -> None:
    # A consistency check on top of the hand-worked tables, not a replacement for them.
    assert CLOCK.working_hours_between(start, CLOCK.add_working_hours(start, hours)) == pytest.approx(hours)


# -- children: decision within one working day of receipt ------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (utc(2026, 3, 16, 10), utc(2026, 3, 17, 10)),  # in hours: same time next working day
        (utc(2026, 3, 16, 9), utc(2026, 3, 16, 17)),  # at opening: a whole working day, same day
        (utc(2026, 3, 16, 16, 59), utc(2026, 3, 17, 16, 59)),
        (utc(2026, 3, 16, 17), utc(2026, 3, 17, 17)),  # at closing: counts from next morning
        (utc(2026, 3, 16, 20), utc(2026, 3, 17, 17)),  # evening
        (utc(2026, 3, 17, 3), utc(2026, 3, 17, 17)),  # night
        (utc(2026, 3, 20, 15), utc(2026, 3, 23, 15)),  # Friday 15:00 -> Monday 15:00
        (utc(2026, 3, 21, 11), utc(2026, 3, 23, 17)),  # Saturday -> end of Monday
        (utc(2026, 3, 22, 23, 59), utc(2026, 3, 23, 17)),  # late Sunday
        (utc(2026, 6, 15, 8, 30), utc(2026, 6, 16, 8, 30)),  # BST: 09:30 local -> 09:30 local
        (utc(2026, 5, 1, 13), utc(2026, 5, 5, 13)),  # Fri 14:00 BST, early May bank holiday Monday
        (utc(2026, 12, 24, 15), utc(2026, 12, 29, 15)),  # Christmas Eve, over the substitute day
        (utc(2026, 12, 25, 10), utc(2026, 12, 29, 17)),  # on a bank holiday
        (utc(2026, 12, 28, 10), utc(2026, 12, 29, 17)),  # on the substitute bank holiday
        # Clocks going forward: Fri 14:00 GMT -> Mon 14:00 BST (13:00 UTC).
        (utc(2026, 3, 27, 14), utc(2026, 3, 30, 13)),
        # Saturday before the clocks go forward -> Monday 17:00 BST.
        (utc(2026, 3, 28, 12), utc(2026, 3, 30, 16)),
        # Clocks going back: Fri 14:00 BST (13:00 UTC) -> Mon 14:00 GMT.
        (utc(2026, 10, 23, 13), utc(2026, 10, 26, 14)),
        # Fri 17:30 BST -> Monday 17:00 GMT.
        (utc(2026, 10, 23, 16, 30), utc(2026, 10, 26, 17)),
        # Thu 12:00 GMT before Easter 2027: 5 hours Thursday, then Good Friday, the weekend with the
        # clocks going forward and Easter Monday, then 3 hours Tuesday -> 12:00 BST.
        (utc(2027, 3, 25, 12), utc(2027, 3, 30, 11)),
    ],
    ids=lambda v: v.isoformat(),
)
def test_referral_decision_due(received: datetime, expected: datetime) -> None:
    assert_same_utc(CLOCK.referral_decision_due(received), expected)


# -- adults: section 42 decision within 2 working days ----------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (utc(2026, 3, 16, 10), utc(2026, 3, 18, 10)),
        (utc(2026, 3, 20, 15), utc(2026, 3, 24, 15)),  # Friday -> Tuesday
        (utc(2026, 3, 21, 11), utc(2026, 3, 24, 17)),  # Saturday -> end of Tuesday
        (utc(2026, 12, 23, 11), utc(2026, 12, 29, 11)),  # Wednesday before Christmas
        # Thu 10:00 GMT: 7h Thursday, 8h Tuesday 30th (BST), 1h Wednesday -> 10:00 BST.
        (utc(2027, 3, 25, 10), utc(2027, 3, 31, 9)),
    ],
    ids=lambda v: v.isoformat(),
)
def test_adult_concern_decision_due(received: datetime, expected: datetime) -> None:
    assert_same_utc(CLOCK.adult_concern_decision_due(received), expected)


# -- RAG ratings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "rating", "expected"),
    [
        # Monday 10:00 GMT, in hours.
        (utc(2026, 3, 16, 10), "red", utc(2026, 3, 16, 14)),
        (utc(2026, 3, 16, 10), "amber", utc(2026, 3, 19, 10)),  # 3 working days
        (utc(2026, 3, 16, 10), "green", utc(2026, 3, 27, 10)),  # 9 working days
        # Friday evening: red runs through the night, amber and green start on Monday morning.
        (utc(2026, 3, 20, 20), "red", utc(2026, 3, 21, 0)),
        (utc(2026, 3, 20, 20), "amber", utc(2026, 3, 25, 17)),
        (utc(2026, 3, 20, 20), "green", utc(2026, 4, 2, 16)),  # Thu 2 Apr 17:00 BST
        # Saturday.
        (utc(2026, 3, 21, 11), "red", utc(2026, 3, 21, 15)),
        # Christmas Day.
        (utc(2026, 12, 25, 10), "red", utc(2026, 12, 25, 14)),
        (utc(2026, 12, 25, 10), "amber", utc(2026, 12, 31, 17)),
        (utc(2026, 12, 25, 10), "green", utc(2027, 1, 11, 17)),  # skipping New Year's Day too
        # Red received the evening before the clocks change: 4 real hours, whatever the wall clock says.
        (utc(2027, 3, 27, 23), "red", utc(2027, 3, 28, 3)),  # 23:00 GMT -> 04:00 BST
        (utc(2026, 10, 24, 22), "red", utc(2026, 10, 25, 2)),  # 23:00 BST -> 02:00 GMT
        # Amber over the clocks changing: Fri 10:00 -> Wed 10:00 local both times.
        (utc(2026, 3, 27, 10), "amber", utc(2026, 4, 1, 9)),
        (utc(2026, 10, 23, 9), "amber", utc(2026, 10, 28, 10)),
    ],
    ids=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
)
def test_rag_due(received: datetime, rating: str, expected: datetime) -> None:
    assert_same_utc(CLOCK.rag_due(received, rating), expected)


@pytest.mark.parametrize("received", [utc(2026, 3, 16, 10), utc(2026, 3, 21, 11)])
def test_blue_has_no_deadline(received: datetime) -> None:
    assert CLOCK.rag_due(received, "blue") is None


def test_rag_due_accepts_a_str_enum() -> None:
    class Rag(StrEnum):
        RED = "red"
        AMBER = "amber"
        BLUE = "blue"

    assert_same_utc(CLOCK.rag_due(utc(2026, 3, 16, 10), Rag.AMBER), utc(2026, 3, 19, 10))
    assert CLOCK.rag_due(utc(2026, 3, 16, 10), Rag.BLUE) is None


@pytest.mark.parametrize("rating", ["purple", "RED", "", "Red "])
def test_unknown_rating_raises(rating: str) -> None:
    with pytest.raises(ValueError, match="unknown RAG rating"):
        CLOCK.rag_due(utc(2026, 3, 16, 10), rating)


# -- configuration changes the results ------------------------------------------------------------

LONG_DAY = {"workday_start": "08:30", "workday_end": "18:00"}  # 9.5 working hours
SHORT_RAG = {"rag_hours": {"red": 2, "amber": 8, "green": 40}}


@pytest.mark.parametrize(
    ("config", "deadline", "received", "expected"),
    [
        # Longer working hours: 17:30 is in hours, 08:45 is in hours, a day is 9.5 hours.
        (LONG_DAY, "referral", utc(2026, 3, 16, 17, 30), utc(2026, 3, 17, 17, 30)),
        (LONG_DAY, "referral", utc(2026, 3, 16, 8, 45), utc(2026, 3, 17, 8, 45)),
        (LONG_DAY, "referral", utc(2026, 3, 21, 11), utc(2026, 3, 23, 18)),
        (LONG_DAY, "amber", utc(2026, 3, 16, 10), utc(2026, 3, 18, 15)),  # 8 + 9.5 + 6.5
        # The same receipts with the default day, for contrast.
        ({}, "referral", utc(2026, 3, 16, 17, 30), utc(2026, 3, 17, 17)),
        ({}, "referral", utc(2026, 3, 16, 8, 45), utc(2026, 3, 16, 17)),
        # RAG hours.
        (SHORT_RAG, "red", utc(2026, 3, 16, 10), utc(2026, 3, 16, 12)),
        (SHORT_RAG, "amber", utc(2026, 3, 16, 10), utc(2026, 3, 17, 10)),
        (SHORT_RAG, "green", utc(2026, 3, 16, 10), utc(2026, 3, 23, 10)),
        # Red in working hours instead of round the clock: Fri 15:00 -> 2h Friday + 2h Monday.
        ({"red_in_clock_hours": False}, "red", utc(2026, 3, 20, 15), utc(2026, 3, 23, 11)),
        ({"red_in_clock_hours": False}, "red", utc(2026, 3, 21, 11), utc(2026, 3, 23, 13)),
        # Decision timescales.
        ({"referral_decision_working_days": 2}, "referral", utc(2026, 3, 20, 15), utc(2026, 3, 24, 15)),
        ({"adult_concern_decision_working_days": 5}, "adult", utc(2026, 3, 16, 10), utc(2026, 3, 23, 10)),
        # Local closure days on top of bank holidays.
        ({"extra_closure_dates": ["2026-03-17"]}, "referral", utc(2026, 3, 16, 10), utc(2026, 3, 18, 10)),
        ({"extra_closure_dates": ["2026-12-24"]}, "referral", utc(2026, 12, 23, 12), utc(2026, 12, 29, 12)),
        # Saturday working: Friday 15:00 -> Saturday 15:00.
        ({"working_weekdays": [1, 2, 3, 4, 5, 6]}, "referral", utc(2026, 3, 20, 15), utc(2026, 3, 21, 15)),
        # Another time zone: 09:00-17:00 UTC all year, so in June 08:30 UTC is before opening.
        ({"timezone": "UTC"}, "referral", utc(2026, 6, 15, 8, 30), utc(2026, 6, 15, 17)),
        ({}, "referral", utc(2026, 6, 15, 8, 30), utc(2026, 6, 16, 8, 30)),
    ],
)
def test_configuration_changes_deadlines(
    config: dict[str, Any], deadline: str, received: datetime, expected: datetime
) -> None:
    clock = WorkingClock(WorkingTimeConfig.model_validate(config))
    actual: datetime | None
    if deadline == "referral":
        actual = clock.referral_decision_due(received)
    elif deadline == "adult":
        actual = clock.adult_concern_decision_due(received)
    else:
        actual = clock.rag_due(received, deadline)
    assert_same_utc(actual, expected)


def test_saturday_working_still_closes_on_a_saturday_bank_holiday() -> None:
    hours = {day: {"start": "09:00", "end": "13:00"} for day in ("monday", "friday", "saturday")}
    clock = WorkingClock(WorkingTimeConfig.model_validate({"working_hours": hours}))
    assert clock.is_working_day(date(2026, 3, 21))
    assert not clock.is_working_day(date(2026, 12, 26))  # Boxing Day itself, a Saturday in 2026


def test_closure_dates_are_snapshotted_when_the_clock_is_built() -> None:
    config = WorkingTimeConfig(extra_closure_dates=[date(2026, 3, 17)])
    clock = WorkingClock(config)
    config.extra_closure_dates.append(date(2026, 3, 18))
    assert clock.is_working_day(date(2026, 3, 18))


def test_defaults() -> None:
    config = WorkingTimeConfig()
    assert config.timezone == "Europe/London"
    assert {day.value: (w.start, w.end) if w else None for day, w in config.working_hours.items()} == {
        "monday": (time(9), time(17)),
        "tuesday": (time(9), time(17)),
        "wednesday": (time(9), time(17)),
        "thursday": (time(9), time(17)),
        "friday": (time(9), time(17)),
        "saturday": None,
        "sunday": None,
    }
    assert config.working_weekdays == frozenset({1, 2, 3, 4, 5})
    assert config.rag_hours == {"red": 4, "amber": 24, "green": 72}
    assert config.red_in_clock_hours is True
    assert config.referral_decision_working_days == 1
    assert config.adult_concern_decision_working_days == 2
    assert config.referral_acknowledgement_working_days == 1
    assert config.extra_closure_dates == []


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {"workday_start": "17:00", "workday_end": "09:00"},
        {"workday_start": "09:00", "workday_end": "09:00"},
        {"workday_start": "09:00+01:00"},
        {"workday_end": "25:00"},
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": ""},
        {"working_weekdays": []},
        {"working_weekdays": [0, 1]},
        {"working_weekdays": [8]},
        {"rag_hours": {"red": 0, "amber": 24, "green": 72}},
        {"rag_hours": {"red": -4, "amber": 24, "green": 72}},
        {"rag_hours": {"red": "inf", "amber": 24, "green": 72}},
        {"rag_hours": {"red": "nan", "amber": 24, "green": 72}},
        {"rag_hours": {"red": 4, "amber": 24}},  # green missing
        {"rag_hours": {"red": 4, "amber": 24, "green": 72, "blue": 1}},  # blue has no deadline
        {"referral_decision_working_days": 0},
        {"adult_concern_decision_working_days": -1},
        {"extra_closure_dates": ["not a date"]},
        {"rag_hour": {"red": 4}},  # a typo is refused, not ignored
        {"referral_acknowledgement_working_days": 0},
        # Per-weekday hours.
        {"working_hours": {"monday": {"start": "17:15", "end": "09:00"}}},
        {"working_hours": {"friday": {"start": "09:00", "end": "09:00"}}},
        {"working_hours": {"monday": {"start": "09:00"}}},
        {"working_hours": {"mon": {"start": "09:00", "end": "17:00"}}},
        {"working_hours": {"monday": None, "tuesday": None}},  # no working day at all
        {"working_hours": {}},
        {"working_hours": {"monday": {"start": "09:00", "end": "17:00", "lunch": "13:00"}}},
        # Both forms at once: which one meant?
        {"workday_start": "08:30", "working_hours": {"monday": {"start": "09:00", "end": "17:00"}}},
    ],
    ids=repr,
)
def test_invalid_config_raises(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WorkingTimeConfig.model_validate(config)


def test_config_is_immutable() -> None:
    with pytest.raises(ValidationError):
        WorkingTimeConfig().timezone = "UTC"  # type: ignore[misc]


NAIVE = datetime(2026, 3, 16, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: CLOCK.is_working_time(NAIVE),
        lambda: CLOCK.next_working_start(NAIVE),
        lambda: CLOCK.add_working_hours(NAIVE, 1),
        lambda: CLOCK.add_working_days(NAIVE, 1),
        lambda: CLOCK.working_hours_between(NAIVE, utc(2026, 3, 17)),
        lambda: CLOCK.working_hours_between(utc(2026, 3, 15), NAIVE),
        lambda: CLOCK.referral_decision_due(NAIVE),
        lambda: CLOCK.rag_due(NAIVE, "red"),
        lambda: CLOCK.rag_due(NAIVE, "amber"),
        lambda: CLOCK.adult_concern_decision_due(NAIVE),
    ],
)
def test_naive_datetimes_raise(call: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


# -- whole working days (the statutory timescales after the decision) ----------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # An assessment within 45 working days, across Christmas: 25 Dec, 28 Dec (Boxing Day's
        # substitute) and 1 Jan are skipped, so it is due three working days later than the weekdays alone.
        (date(2026, 12, 3), 45, date(2027, 2, 9)),
        # Across Easter 2027: Good Friday 26 March and Easter Monday 29 March are skipped.
        (date(2027, 2, 15), 45, date(2027, 4, 21)),
        # A conference within 15 working days of a strategy discussion, across the clocks going back on
        # 25 October 2026: whole days, so the change moves nothing.
        (date(2026, 10, 20), 15, date(2026, 11, 10)),
        # From a Friday, one working day is the Monday; from a Saturday too.
        (date(2026, 11, 27), 1, date(2026, 11, 30)),
        (date(2026, 11, 28), 1, date(2026, 11, 30)),
        (date(2026, 11, 27), 0, date(2026, 11, 27)),
    ],
)
def test_working_days_after(start: date, days: int, expected: date) -> None:
    assert CLOCK.working_days_after(start, days) == expected
    assert CLOCK.working_days_between(start, expected) == days


def test_working_days_count_from_the_local_date_of_an_instant() -> None:
    """A strategy discussion at 23:30 UTC on 20 October 2026 was held on 21 October in London (BST), so its
    conference is due on 11 November, not 10 November."""
    held = local_date(utc(2026, 10, 20, 23, 30))
    assert held == date(2026, 10, 21)
    assert CLOCK.working_days_after(held, 15) == date(2026, 11, 11)


def test_working_days_between_counts_backwards_as_negative() -> None:
    assert CLOCK.working_days_between(date(2027, 2, 9), date(2026, 12, 3)) == -45


def test_working_days_after_refuses_an_instant_and_negative_days() -> None:
    with pytest.raises(TypeError):
        CLOCK.working_days_after(utc(2026, 12, 3, 10), 1)
    with pytest.raises(ValueError, match="days"):
        CLOCK.working_days_after(date(2026, 12, 3), -1)


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_bad_hours_raise(hours: float) -> None:
    with pytest.raises(ValueError, match="hours"):
        CLOCK.add_working_hours(utc(2026, 3, 16, 10), hours)


def test_negative_days_raise() -> None:
    with pytest.raises(ValueError, match="days"):
        CLOCK.add_working_days(utc(2026, 3, 16, 10), -1)


def test_is_working_day_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        CLOCK.is_working_day(utc(2026, 12, 25, 12))


def test_other_offsets_are_accepted_and_answers_are_utc() -> None:
    received = datetime(2026, 3, 16, 11, tzinfo=timezone(timedelta(hours=1)))  # 10:00 UTC
    assert_same_utc(CLOCK.referral_decision_due(received), utc(2026, 3, 17, 10))
    assert_same_utc(CLOCK.rag_due(received, "red"), utc(2026, 3, 16, 14))


# -- per-weekday working hours (the seed borough: Monday-Thursday 09:00-17:15, Friday 09:00-17:00) ----

_LONG = {"start": "09:00", "end": "17:15"}
SEED_BOROUGH = WorkingClock(
    WorkingTimeConfig.model_validate(
        {
            "working_hours": {
                "monday": _LONG,
                "tuesday": _LONG,
                "wednesday": _LONG,
                "thursday": _LONG,
                "friday": {"start": "09:00", "end": "17:00"},
            }
        }
    )
)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 19, 17, 10), True),  # Thursday 17:10: open until 17:15
        (utc(2026, 3, 19, 17, 15), False),
        (utc(2026, 3, 20, 16, 59), True),  # Friday 16:59
        (utc(2026, 3, 20, 17, 1), False),  # Friday 17:01: Friday closes at 17:00
        (utc(2026, 3, 20, 17, 10), False),
        (utc(2026, 3, 21, 12), False),  # Saturday has no hours: not a working day
    ],
    ids=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
)
def test_per_weekday_working_time(at: datetime, expected: bool) -> None:
    assert SEED_BOROUGH.is_working_time(at) is expected


def test_a_weekday_without_hours_is_not_a_working_day() -> None:
    assert SEED_BOROUGH.config.working_weekdays == frozenset({1, 2, 3, 4, 5})
    assert not SEED_BOROUGH.is_working_day(date(2026, 3, 21))
    # The older single window with working_weekdays reads as the same hours on those weekdays.
    older = WorkingTimeConfig.model_validate(
        {"workday_start": "08:30", "workday_end": "16:30", "working_weekdays": [1, 3]}
    )
    window = {"start": time(8, 30), "end": time(16, 30)}
    assert {d.value: w.model_dump() if w else None for d, w in older.working_hours.items()} == {
        "monday": window,
        "tuesday": None,
        "wednesday": window,
        "thursday": None,
        "friday": None,
        "saturday": None,
        "sunday": None,
    }


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # Friday 16:59 is in hours (Friday closes at 17:00): the same time on Monday, within Monday's
        # 09:00-17:15.
        (utc(2026, 3, 20, 16, 59), utc(2026, 3, 23, 16, 59)),
        # Friday 17:01 is out of hours: the end of the next working day, Monday's 17:15.
        (utc(2026, 3, 20, 17, 1), utc(2026, 3, 23, 17, 15)),
        # Thursday 17:10 is in hours; Friday's window ends at 17:00, so the deadline is capped there.
        (utc(2026, 3, 19, 17, 10), utc(2026, 3, 20, 17)),
        # Thursday 17:15 is closing time: the end of Friday.
        (utc(2026, 3, 19, 17, 15), utc(2026, 3, 20, 17)),
        # Monday 17:10: Tuesday 17:10 (Tuesday is open until 17:15).
        (utc(2026, 3, 16, 17, 10), utc(2026, 3, 17, 17, 10)),
        # At opening: the whole of that day.
        (utc(2026, 3, 16, 9), utc(2026, 3, 16, 17, 15)),
        (utc(2026, 3, 20, 9), utc(2026, 3, 20, 17)),
        # BST: Friday 16:59 local (15:59 UTC) -> Monday 16:59 local.
        (utc(2026, 6, 19, 15, 59), utc(2026, 6, 22, 15, 59)),
        (utc(2026, 6, 19, 16, 1), utc(2026, 6, 22, 16, 15)),
    ],
    ids=lambda v: v.isoformat(),
)
def test_per_weekday_referral_decision_due(received: datetime, expected: datetime) -> None:
    assert_same_utc(SEED_BOROUGH.referral_decision_due(received), expected)
    # The referrer's acknowledgement is due within one working day by default too.
    assert_same_utc(SEED_BOROUGH.referral_acknowledgement_due(received), expected)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Working hours count each day's own window: Friday 16:00 has one hour left, Thursday 16:00
        # one and a quarter.
        (utc(2026, 3, 20, 16), 2, utc(2026, 3, 23, 10)),
        (utc(2026, 3, 19, 16), 2, utc(2026, 3, 20, 9, 45)),
        # 24 working hours from Monday 09:00: 8.25 + 8.25 + 7.5 -> Wednesday 16:30.
        (utc(2026, 3, 16, 9), 24, utc(2026, 3, 18, 16, 30)),
    ],
    ids=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
)
def test_per_weekday_working_hours(start: datetime, hours: float, expected: datetime) -> None:
    assert_same_utc(SEED_BOROUGH.add_working_hours(start, hours), expected)
    assert SEED_BOROUGH.working_hours_between(start, expected) == pytest.approx(hours)


# -- a RAG target never extends the statutory deadline -----------------------------------------------

RECEIPTS = [
    utc(2026, 3, 16, 9),  # Monday at opening
    utc(2026, 3, 16, 10),  # Monday morning
    utc(2026, 3, 19, 17, 10),  # Thursday, the seed borough's last quarter hour
    utc(2026, 3, 20, 15),  # Friday afternoon
    utc(2026, 3, 20, 16, 59),  # Friday just before closing
    utc(2026, 3, 20, 17, 1),  # Friday just after closing
    utc(2026, 3, 21, 11),  # Saturday
    utc(2026, 3, 17, 3),  # the middle of the night
    utc(2026, 12, 24, 16),  # Christmas Eve afternoon
    utc(2026, 12, 25, 10),  # Christmas Day
]


@pytest.mark.parametrize("clock", [CLOCK, SEED_BOROUGH], ids=["default", "seed borough"])
@pytest.mark.parametrize("received", RECEIPTS, ids=lambda v: v.isoformat())
@pytest.mark.parametrize("rating", ["amber", "green"])
def test_amber_and_green_decisions_are_never_due_later_than_one_working_day(
    clock: WorkingClock, received: datetime, rating: str
) -> None:
    statutory = clock.referral_decision_due(received)
    target = clock.rag_due(received, rating)
    assert target is not None and target > statutory  # 24 and 72 working hours: longer than a day...
    assert_same_utc(clock.referral_decision_due_for(received, rating), statutory)  # ...but never later


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (utc(2026, 3, 20, 15), utc(2026, 3, 20, 19)),  # red: four clock hours, earlier than statutory
        (utc(2026, 3, 21, 11), utc(2026, 3, 21, 15)),  # Saturday: red runs round the clock
    ],
    ids=lambda v: v.isoformat(),
)
def test_red_keeps_its_earlier_target(received: datetime, expected: datetime) -> None:
    assert_same_utc(CLOCK.referral_decision_due_for(received, "red"), expected)


def test_blue_leaves_the_statutory_deadline() -> None:
    received = utc(2026, 3, 20, 15)
    assert_same_utc(CLOCK.referral_decision_due_for(received, "blue"), utc(2026, 3, 23, 15))


def test_a_short_rag_target_is_kept_when_earlier() -> None:
    clock = WorkingClock(WorkingTimeConfig.model_validate({"rag_hours": {"red": 1, "amber": 2, "green": 4}}))
    # Monday 10:00 + 4 working hours = 14:00, before Tuesday 10:00.
    assert_same_utc(clock.referral_decision_due_for(utc(2026, 3, 16, 10), "green"), utc(2026, 3, 16, 14))


async def test_the_bank_holidays_are_loaded_when_the_service_starts(settings: Settings) -> None:
    # The first request working to the clock after a restart does not wait for the holidays package
    # to import its calendars (0.3-0.6 s): the service loads this year's and next year's at start-up.
    clock_module._bank_holidays.cache_clear()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        loaded = clock_module._bank_holidays.cache_info().currsize
    year = clock_module.today().year
    assert loaded == 2
    assert date(year, 12, 25) in clock_module._bank_holidays(year)
    assert clock_module._bank_holidays.cache_info().currsize == 2  # this year's was loaded: nothing new
