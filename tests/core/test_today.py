"""London's today, through the API, on a summer night: at 23:30 UTC on 31 July it is 00:30 on 1 August
in England. Every date the service compares with today (a date of birth, the day a subject access
request was received, a plan's first review, the day a review was held) is compared with England's
date, not the server's (UTC here, still 31 July). Exact to the day: no margin hides the zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from app.core import clock
from tests.conftest import TokenFactory
from tests.fixtures.adults import adult, concern_body, make_plan, plan_body, review_body, review_plan
from tests.fixtures.http import assert_problem
from tests.fixtures.people import create_person
from tests.fixtures.referrals import referral_body, unique_child

SUMMER_NIGHT = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)  # British Summer Time: 00:30 on 1 August
SERVER_DATE = "2026-07-31"  # what date.today() says on a server in UTC
LONDON_TODAY = "2026-08-01"
LONDON_TOMORROW = "2026-08-02"


@pytest.fixture
def summer_night(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's clock (``app.core.clock.now``, which every date and timestamp comes from) reads
    23:30 UTC on 31 July 2026."""
    monkeypatch.setattr(clock, "now", lambda: SUMMER_NIGHT)


@pytest.mark.parametrize(
    ("instant", "today"),
    [
        pytest.param(SUMMER_NIGHT, date(2026, 8, 1), id="summer night: already tomorrow"),
        pytest.param(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31), id="winter night: GMT"),
        pytest.param(
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29), id="before clocks go forward"
        ),
        pytest.param(datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25), id="last BST night"),
        pytest.param(datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25), id="first GMT night"),
    ],
)
def test_today_is_the_date_in_england(
    monkeypatch: pytest.MonkeyPatch, instant: datetime, today: date
) -> None:
    monkeypatch.setattr(clock, "now", lambda: instant)
    assert clock.today() == today


@pytest.mark.usefixtures("summer_night")
async def test_an_adult_who_turns_18_today_in_england_is_an_adult(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    health = auth("partner_referrer", "health", sub="gp-system")
    eighteen_today = concern_body(adult=adult(date_of_birth="2008-08-01"))
    response = await client.post("/v1/adult-concerns", json=eighteen_today, headers=health)
    assert response.status_code == 201, response.text  # 17 by the server's date
    eighteen_tomorrow = concern_body(adult=adult(date_of_birth="2008-08-02"))
    refused = await client.post("/v1/adult-concerns", json=eighteen_tomorrow, headers=health)
    assert_problem(refused, 422, "validation_failed")


@pytest.mark.usefixtures("summer_night")
async def test_a_child_born_today_in_england_is_born(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    police = auth("partner_referrer", "police", sub="police-system")
    born_today = referral_body(unique_child(date_of_birth=LONDON_TODAY))
    response = await client.post("/v1/referrals", json=born_today, headers=police)
    assert response.status_code == 201, response.text  # in the future by the server's date
    born_tomorrow = referral_body(unique_child(date_of_birth=LONDON_TOMORROW))
    assert_problem(
        await client.post("/v1/referrals", json=born_tomorrow, headers=police), 422, "validation_failed"
    )


@pytest.mark.usefixtures("summer_night")
async def test_a_subject_access_request_received_today_in_england(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    worker = auth("asc_practitioner", sub="asc-worker")
    person = await create_person(client, worker)
    url = f"/v1/people/{person['id']}/subject-access-requests"
    body = {"requester": {"name": "Kai", "relationship": "data_subject"}, "identity_verified": True}
    response = await client.post(url, json={**body, "received_on": LONDON_TODAY}, headers=worker)
    assert response.status_code == 201, response.text
    assert response.json()["received_on"] == LONDON_TODAY
    tomorrow = await client.post(url, json={**body, "received_on": LONDON_TOMORROW}, headers=worker)
    assert_problem(tomorrow, 422, "validation_failed")


@pytest.mark.usefixtures("summer_night")
async def test_a_plans_reviews_are_dated_in_england(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    worker = auth("asc_practitioner", sub="asc-worker")
    person = await create_person(client, worker)
    past = plan_body(person["id"], review_due_on=SERVER_DATE)
    refused = await client.post("/v1/safeguarding-plans", json=past, headers=worker)
    assert assert_problem(refused, 422, "validation_failed")["errors"][0]["loc"] == ["body", "review_due_on"]
    plan = await make_plan(client, worker, plan_body(person["id"], review_due_on=LONDON_TODAY))

    # Made at 00:30 on 1 August in England: a review cannot have been held on 31 July, nor tomorrow.
    before = await review_plan(client, worker, plan["id"], review_body(held_on=SERVER_DATE))
    assert assert_problem(before, 422, "validation_failed")["errors"][0]["loc"] == ["body", "held_on"]
    not_yet = await review_plan(client, worker, plan["id"], review_body(held_on=LONDON_TOMORROW))
    assert_problem(not_yet, 422, "validation_failed")
    held = await review_plan(client, worker, plan["id"], review_body(held_on=LONDON_TODAY))
    assert held.status_code == 201, held.text
