"""GET /v1/reports/timeliness: threshold decisions against both deadlines (the statutory one working day
and the RAG target) and the referrer's acknowledgement, on hand-built referrals, cell by cell.

Every deadline and time is set through ``run_sql`` after the referral has been taken through the API to
the state it needs (rated, decided, withdrawn, acknowledged): open work relative to now (long past, in an
hour or two, in two days), work done in the period at fixed instants, some on the edges of the period
(June 2026, British Summer Time: 23:30 UTC on 31 May is already 1 June in England).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Databases
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.referrals import (
    create_referral,
    propose_and_approve,
    rate,
    referral_body,
    unique_child,
    withdraw,
)
from tests.fixtures.reports import Body, World, audit_entries, parse_csv, sql_id, world_on, year_to_date

URL = "/v1/reports/timeliness"
JUNE = {"from": "2026-06-01", "to": "2026-06-30"}
LONG_AGO = "'2000-01-01 00:00:00.000000'"
NULL = "NULL"


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("'%Y-%m-%d %H:%M:%S.%f'")


def due(due: int, due_soon: int, overdue: int) -> dict[str, int]:
    return {"due": due, "due_soon": due_soon, "overdue": overdue}


def done(on_time: int, late: int) -> dict[str, int]:
    return {"on_time": on_time, "late": late}


def utc(when: str | None) -> str:
    """A time in 2026 ("MM-DD HH:MM", UTC) as SQL; None as NULL."""
    if when is None:
        return NULL
    return LONG_AGO if when == "long ago" else f"'2026-{when}:00.000000'"


async def report(world: World, **params: Any) -> Body:
    body: Body = ok(await world.http.get(URL, params=params, headers=world.auditor))
    return body


class Builder:
    def __init__(self, world: World) -> None:
        self.http = world.http
        self.world = world
        self.police, self.practitioner, self.manager = world.callers("police", "practitioner", "mash_manager")
        self.sql: list[str] = []

    async def referral(
        self,
        rating: str | None,
        *,
        statutory: str,
        rag: str = NULL,
        acknowledgement_due: str = NULL,
        acknowledged: str = NULL,
        decided: str | None = None,
        withdrawn: bool = False,
    ) -> str:
        created = await create_referral(self.http, self.police, referral_body(unique_child()))
        referral_id: str = created["id"]
        if rating is not None:
            await rate(self.http, self.practitioner, referral_id, rating)
        if acknowledged != NULL:  # the first contact with the referrer, as the hub records it
            response = await self.http.post(
                f"/v1/referrals/{referral_id}/communications",
                json={"audience": "referrer", "method": "email", "summary": "Received, thank you."},
                headers=self.practitioner,
            )
            assert response.status_code == 201, response.text
        columns = {
            "statutory_decision_due_at": statutory,
            "rag_due_at": rag,
            "acknowledgement_due_at": acknowledgement_due,
            "acknowledged_at": acknowledged,
        }
        if decided is not None:
            await propose_and_approve(self.http, self.practitioner, self.manager, referral_id)
            columns["decided_at"] = decided
        if withdrawn:
            assert (await withdraw(self.http, self.practitioner, referral_id)).status_code == 200
        assignments = ", ".join(f"{column} = {value}" for column, value in columns.items())
        self.sql.append(f"UPDATE referrals SET {assignments} WHERE id = '{sql_id(referral_id)}'")
        return referral_id

    async def build(self) -> None:
        for rating, statutory, rag, acknowledgement_due, acknowledged, withdrawn in open_referrals():
            await self.referral(
                rating,
                statutory=statutory,
                rag=rag,
                acknowledgement_due=acknowledgement_due,
                acknowledged=acknowledged,
                withdrawn=withdrawn,
            )
        for rating, decided, statutory, target, acknowledgement_due, acknowledged_on in DECIDED:
            await self.referral(
                rating,
                decided=utc(decided),
                statutory=utc(statutory),
                rag=utc(target),
                acknowledgement_due=utc(acknowledgement_due),
                acknowledged=utc(acknowledged_on),
            )
        await run_sql(self.world.app, *self.sql)


def open_referrals() -> list[tuple[str | None, str, str, str, str, bool]]:
    """Open referrals, relative to now: rating, statutory deadline, RAG target, acknowledgement due,
    acknowledged (in June, on time), withdrawn."""
    return [
        # Green: past its one working day, though the green target is days ahead.
        ("green", LONG_AGO, in_hours(48), LONG_AGO, NULL, False),
        ("amber", in_hours(2), in_hours(48), in_hours(2), NULL, False),
        # Red: its target passed, the statutory deadline ahead.
        ("red", in_hours(48), LONG_AGO, in_hours(48), NULL, False),
        # Unrated: no RAG target; acknowledged on time on 5 June (09:00 and 17:00 BST).
        (None, in_hours(2), NULL, utc("06-05 16:00"), utc("06-05 08:00"), False),
        # Blue: no RAG target; received before acknowledgements were tracked.
        ("blue", LONG_AGO, NULL, NULL, NULL, False),
        ("red", in_hours(48), in_hours(1), LONG_AGO, NULL, False),
        # Withdrawn: counts nowhere.
        ("amber", LONG_AGO, LONG_AGO, LONG_AGO, NULL, True),
    ]


# Decided referrals, times in UTC in 2026 (June is British Summer Time): rating, decided, statutory
# deadline, RAG target, acknowledgement due, acknowledged.
DECIDED: list[tuple[str, str, str, str | None, str, str | None]] = [
    # On time for both; acknowledged a day late.
    ("amber", "06-10 10:00", "06-10 12:00", "06-12 10:00", "06-10 17:00", "06-11 09:00"),
    # Green: on time for its target, late for the law; acknowledged early.
    ("green", "06-15 16:00", "06-15 09:00", "06-18 16:00", "06-15 09:00", "06-14 09:00"),
    # Red: late for its target, on time for the law; never acknowledged (still owed).
    ("red", "06-20 13:00", "06-21 09:00", "06-20 12:00", "long ago", None),
    # Blue, decided exactly at the deadline (on time); acknowledged in July.
    ("blue", "06-22 10:00", "06-22 10:00", None, "06-22 17:00", "07-01 10:00"),
    # 00:30 on 1 June in England: June, late for the law; acknowledged at midnight, late.
    ("amber", "05-31 23:30", "05-31 22:00", "06-02 10:00", "05-31 22:00", "05-31 23:00"),
    # 00:30 on 1 July in England: July.
    ("amber", "06-30 23:30", "06-29 09:00", "07-01 09:00", "04-02 09:00", "04-01 09:00"),
    # 23:59 on 31 May in England: May.
    ("green", "05-31 22:59", "05-30 09:00", "06-03 09:00", "04-02 09:00", "04-03 09:00"),
]


@pytest.fixture(scope="module")
async def world(databases: Databases) -> AsyncIterator[World]:
    """The referrals above, on a database of their own."""
    async with world_on(databases) as built:
        await Builder(built).build()
        yield built


async def test_decisions_against_both_deadlines_and_acknowledgements(world: World) -> None:
    body = await report(world, **JUNE)
    assert body["period"] == JUNE
    assert body["referral_decision_deadlines"] == {
        "statutory": {"open": due(4, 2, 2), "decided": done(3, 2)},
        "rag_target": {"open": due(3, 1, 1), "decided": done(3, 1)},
    }
    assert body["referrer_acknowledgements"] == {"open": due(2, 1, 3), "acknowledged": done(2, 2)}
    # The queue's own deadline (decision_due_at) is measured as before, in `referral_decisions`.
    assert set(body["referral_decisions"]) == {"total", "by_rag"}


async def test_the_open_counts_do_not_depend_on_the_period(world: World) -> None:
    body = await report(world, **{"from": "2026-07-01", "to": "2026-07-31"})
    assert body["referral_decision_deadlines"] == {
        # Decided at 00:30 on 1 July in England: late for the law, before its amber target.
        "statutory": {"open": due(4, 2, 2), "decided": done(0, 1)},
        "rag_target": {"open": due(3, 1, 1), "decided": done(1, 0)},
    }
    # Acknowledged on 1 July, nine days after it was due.
    assert body["referrer_acknowledgements"] == {"open": due(2, 1, 3), "acknowledged": done(0, 1)}


async def test_a_wider_window_counts_more_as_due_soon(world: World) -> None:
    body = await report(world, due_soon_hours=72, **JUNE)
    assert body["referral_decision_deadlines"]["statutory"]["open"] == due(4, 4, 2)
    assert body["referral_decision_deadlines"]["rag_target"]["open"] == due(3, 3, 1)
    assert body["referrer_acknowledgements"]["open"] == due(2, 2, 3)


async def test_the_period_defaults_to_the_reporting_year_to_date(world: World) -> None:
    body = await report(world)
    assert body["period"] == year_to_date()
    only_to = await report(world, to="2026-06-30")
    assert only_to["period"] == {"from": "2026-04-01", "to": "2026-06-30"}
    # April to June: the one decided on 31 May in England now counts too (late for the law, on time
    # for its green target), and the two acknowledgements made in April.
    assert only_to["referral_decision_deadlines"]["statutory"]["decided"] == done(3, 3)
    assert only_to["referral_decision_deadlines"]["rag_target"]["decided"] == done(4, 1)
    assert only_to["referrer_acknowledgements"]["acknowledged"] == done(3, 3)


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"from": "2026-07-01", "to": "2026-06-30"}, ["query", "to"]),
        ({"from": "2025-01-01", "to": "2026-06-30"}, ["query", "to"]),  # longer than a year
        ({"from": "1 June"}, ["query", "from"]),
        ({"to": "2026-02-30"}, ["query", "to"]),
    ],
    ids=["backwards", "too long", "not a date", "no such day"],
)
async def test_a_bad_period_is_refused(world: World, params: dict[str, str], loc: list[str]) -> None:
    response = await world.http.get(URL, params=params, headers=world.auditor)
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in [e["loc"] for e in problem["errors"]]


async def test_csv_lines(world: World) -> None:
    response = await world.http.get(URL, params=JUNE, headers={**world.auditor, "Accept": "text/csv"})
    assert response.text.startswith("measure,agency,rag,due,due_soon,overdue,on_time,late\r\n")
    rows = {row["measure"]: tuple(row.values())[3:] for row in parse_csv(response) if not row["agency"]}
    assert rows["referral_decisions_statutory"] == ("4", "2", "2", "3", "2")
    assert rows["referral_decisions_rag_target"] == ("3", "1", "1", "3", "1")
    assert rows["referrer_acknowledgements"] == ("2", "1", "3", "2", "2")
    assert rows["plan_reviews"][3:] == ("", ""), "no on-time counts where nothing is measured in the period"


async def test_audited_with_the_period(world: World) -> None:
    await report(world, **JUNE)
    entries = await audit_entries(world, "timeliness_report")
    assert entries[-1]["details"] == {"due_soon_hours": 24, "from": "2026-06-01", "to": "2026-06-30"}
