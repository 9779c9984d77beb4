"""The hub's timescales through the API: read and replaced by an admin only, validated field by field,
guarded by If-Match, audited, and applied to new deadlines only, in every worker process."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.admin.settings.service import store_seed_borough_hours
from app.cli import CliActor
from app.core.clock import WorkingClock, WorkingTimeConfig
from app.core.config import Settings
from app.main import create_app
from tests.fixtures.adults import concern_body, raise_concern
from tests.fixtures.callers import TokenFactory, Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, serving
from tests.fixtures.referrals import ask, create_referral, get_referral, rate, referral_body, unique_child
from tests.fixtures.values import Body, Headers

URL = "/v1/settings/timescales"
NINE_TO_FIVE = {"start": "09:00:00", "end": "17:00:00"}
# The seed borough: Monday to Thursday 09:00-17:15, Friday 09:00-17:00.
_LONG_DAY = {"start": "09:00", "end": "17:15"}
SEED_BOROUGH_HOURS = {
    "monday": _LONG_DAY,
    "tuesday": _LONG_DAY,
    "wednesday": _LONG_DAY,
    "thursday": _LONG_DAY,
    "friday": {"start": "09:00:00", "end": "17:00"},
    "saturday": None,
    "sunday": None,
}
READ_ONLY = ("source", "version", "updated_at", "updated_by")


def editable(document: Body) -> Body:
    """The GET body without its read-only fields: what a PUT sends back."""
    return {k: copy.deepcopy(v) for k, v in document.items() if k not in READ_ONLY}


async def current(client: httpx.AsyncClient, admin: Headers) -> tuple[Body, str]:
    response = await client.get(URL, headers=admin)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body, response.headers["etag"]


async def put(client: httpx.AsyncClient, admin: Headers, body: Body, etag: str | None) -> httpx.Response:
    headers = {**admin, **({"If-Match": etag} if etag is not None else {})}
    return await client.put(URL, json=body, headers=headers)


async def change(client: httpx.AsyncClient, admin: Headers, **fields: Any) -> Body:
    """Replace the timescales with the current ones and ``fields`` changed; returns the new document."""
    document, etag = await current(client, admin)
    body = {**editable(document), **fields}
    response = await put(client, admin, body, etag)
    assert response.status_code == 200, response.text
    updated: Body = response.json()
    return updated


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ---------------------------------------------------------------------------------------------------
# Reading and replacing


async def test_until_changed_the_configured_timescales_apply(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.get(URL, headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"0"'
    assert response.json() == {
        "timezone": "Europe/London",
        "working_hours": {
            **dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), NINE_TO_FIVE),
            "saturday": None,
            "sunday": None,
        },
        "rag_hours": {"red": 4.0, "amber": 24.0, "green": 72.0},
        "red_in_clock_hours": True,
        "referral_decision_working_days": 1,
        "referral_acknowledgement_working_days": 1,
        "adult_concern_decision_working_days": 2,
        "extra_closure_dates": [],
        "source": "configuration",
        "version": 0,
        "updated_at": None,
        "updated_by": None,
    }


async def test_working_hours_are_documented_as_the_local_times_the_api_returns(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    # Found by the fuzz tests: "09:00:00" was documented as JSON Schema's "time", which requires an
    # offset (RFC 3339 full-time); these are wall-clock times in `timezone`, without one.
    spec = (await client.get("/openapi.json")).json()
    document, _ = await current(client, admin)
    for model in ("WorkingWindowDoc", "WorkingWindowOut"):
        for field in ("start", "end"):
            documented = spec["components"]["schemas"][model]["properties"][field]
            assert "format" not in documented, (model, field)
            assert re.fullmatch(documented["pattern"], document["working_hours"]["monday"][field]), (
                model,
                field,
            )


async def test_the_configuration_is_what_the_service_was_started_with(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"working_time": WorkingTimeConfig(rag_hours={"red": 2, "amber": 16, "green": 40})}
    )
    app = create_app(configured)
    async with serving(app, "http://t") as client:
        issued = app.state.tokens.issue(sub="admin@test", agency="childrens_social_care", role="admin")
        document, _ = await current(client, {"Authorization": f"Bearer {issued.access_token}"})
    assert document["rag_hours"] == {"red": 2.0, "amber": 16.0, "green": 40.0}
    assert document["source"] == "configuration"


async def test_a_round_trip_stores_the_new_timescales(client: httpx.AsyncClient, admin: Headers) -> None:
    document, etag = await current(client, admin)
    body = editable(document)
    body.update(
        timezone="Europe/London",
        working_hours=SEED_BOROUGH_HOURS,
        rag_hours={"red": 2, "amber": 12.5, "green": 48},
        red_in_clock_hours=False,
        referral_decision_working_days=2,
        referral_acknowledgement_working_days=2,
        adult_concern_decision_working_days=3,
        extra_closure_dates=["2026-12-31", "2026-12-24"],
    )
    response = await put(client, admin, body, etag)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    stored = response.json()
    # As sent, in the service's own forms: times with seconds, dates in order.
    long_day = {"start": "09:00:00", "end": "17:15:00"}
    assert editable(stored) == {
        **body,
        "working_hours": {
            "monday": long_day,
            "tuesday": long_day,
            "wednesday": long_day,
            "thursday": long_day,
            "friday": {"start": "09:00:00", "end": "17:00:00"},
            "saturday": None,
            "sunday": None,
        },
        "extra_closure_dates": ["2026-12-24", "2026-12-31"],
    }
    assert stored["rag_hours"] == {"red": 2.0, "amber": 12.5, "green": 48.0}
    assert (stored["source"], stored["version"], stored["updated_by"]) == ("stored", 1, "admin@test")
    assert dt(stored["updated_at"]).utcoffset() == timedelta(0)

    again, etag = await current(client, admin)
    assert (again, etag) == (stored, '"1"')
    # The next change moves the version on again.
    response = await put(client, admin, {**editable(again), "referral_decision_working_days": 1}, etag)
    assert (response.status_code, response.headers["etag"], response.json()["version"]) == (200, '"2"', 2)


async def test_a_change_is_audited_with_the_values_before_and_after(
    client: httpx.AsyncClient, admin: Headers, auth: TokenFactory
) -> None:
    await change(client, admin, rag_hours={"red": 3, "amber": 24, "green": 72})
    auditor = auth("auditor", "childrens_social_care")
    response = await client.get("/v1/audit-events", params={"record_type": "hub_settings"}, headers=auditor)
    assert response.status_code == 200, response.text
    [entry] = response.json()["items"]
    assert entry["actor"] == {"sub": "admin@test", "agency": "childrens_social_care", "role": "admin"}
    assert (entry["action"], entry["record_id"], entry["person_id"]) == ("update", "timescales", None)
    details = entry["details"]
    assert (details["version"], details["changed"]) == (1, ["rag_hours"])
    assert details["before"]["rag_hours"] == {"red": 4.0, "amber": 24.0, "green": 72.0}
    assert details["after"]["rag_hours"] == {"red": 3.0, "amber": 24.0, "green": 72.0}
    assert details["before"]["working_hours"] == details["after"]["working_hours"]
    assert details["after"]["working_hours"]["friday"] == {"start": "09:00:00", "end": "17:00:00"}


async def test_a_document_stored_with_one_window_for_every_weekday_is_still_read(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    """Timescales stored before working hours were set per weekday read as the same window on each
    working weekday; the next PUT stores the per-weekday form."""
    await change(client, admin, referral_decision_working_days=2)
    older = {
        "timezone": "Europe/London",
        "workday_start": "08:30:00",
        "workday_end": "16:30:00",
        "working_weekdays": [1, 2, 3, 4],
        "rag_hours": {"red": 4.0, "amber": 24.0, "green": 72.0},
        "red_in_clock_hours": True,
        "referral_decision_working_days": 2,
        "adult_concern_decision_working_days": 2,
        "extra_closure_dates": [],
    }
    await run_sql(app, f"UPDATE hub_settings SET value = '{json.dumps(older)}' WHERE key = 'timescales'")
    document, etag = await current(client, admin)
    window = {"start": "08:30:00", "end": "16:30:00"}
    assert document["working_hours"] == {
        **dict.fromkeys(("monday", "tuesday", "wednesday", "thursday"), window),
        **dict.fromkeys(("friday", "saturday", "sunday")),
    }
    assert document["referral_acknowledgement_working_days"] == 1  # not in the older document: the default
    response = await put(client, admin, editable(document), etag)
    assert response.status_code == 200, response.text
    assert editable(response.json()) == editable(document)


async def test_the_demo_data_sets_the_seed_borough_hours_once(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    """``mash seed-demo``: the configured timescales with the seed borough's hours, unless an admin has
    stored timescales already."""
    actor = CliActor(sub="cli:demo")
    async with app.state.sessionmaker() as session, session.begin():
        assert await store_seed_borough_hours(session, actor, app.state.settings.working_time)
    document, etag = await current(client, admin)
    assert (etag, document["updated_by"]) == ('"1"', "cli:demo")
    long_day = {"start": "09:00:00", "end": "17:15:00"}
    assert document["working_hours"] == {
        **dict.fromkeys(("monday", "tuesday", "wednesday", "thursday"), long_day),
        "friday": NINE_TO_FIVE,
        "saturday": None,
        "sunday": None,
    }
    assert document["rag_hours"] == {"red": 4.0, "amber": 24.0, "green": 72.0}  # the rest as configured

    await change(client, admin, referral_decision_working_days=2)
    async with app.state.sessionmaker() as session, session.begin():
        assert not await store_seed_borough_hours(session, actor, app.state.settings.working_time)
    after, etag = await current(client, admin)
    assert (etag, after["referral_decision_working_days"]) == ('"2"', 2), "an admin's change stands"


# ---------------------------------------------------------------------------------------------------
# If-Match


async def test_a_put_without_if_match_is_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    document, _ = await current(client, admin)
    response = await put(client, admin, editable(document), None)
    assert_problem(response, 428, "precondition_required")
    assert (await current(client, admin))[1] == '"0"'


async def test_a_put_with_a_stale_etag_is_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    document, stale = await current(client, admin)
    await change(client, admin, referral_decision_working_days=2)
    response = await put(client, admin, {**editable(document), "referral_decision_working_days": 5}, stale)
    assert_problem(response, 412, "precondition_failed")
    after, etag = await current(client, admin)
    assert (after["referral_decision_working_days"], etag) == (2, '"1"'), "the first change stands"


async def test_a_weak_or_unknown_etag_is_stale(client: httpx.AsyncClient, admin: Headers) -> None:
    document, _ = await current(client, admin)
    for etag in ('W/"0"', '"7"', "0"):
        assert_problem(await put(client, admin, editable(document), etag), 412, "precondition_failed")


@pytest.mark.parametrize("earlier_changes", [0, 1], ids=["first change", "later change"])
async def test_of_two_racing_puts_with_one_etag_exactly_one_wins(
    client: httpx.AsyncClient, admin: Headers, earlier_changes: int
) -> None:
    for _ in range(earlier_changes):
        await change(client, admin, referral_decision_working_days=2)
    document, etag = await current(client, admin)
    bodies = [{**editable(document), "referral_decision_working_days": days} for days in (4, 5)]
    responses = await asyncio.gather(*[put(client, admin, body, etag) for body in bodies])
    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    after, new_etag = await current(client, admin)
    assert after == winner and new_etag == f'"{earlier_changes + 1}"'


# ---------------------------------------------------------------------------------------------------
# Validation


WH: list[str | int] = ["body", "working_hours"]


def hours(**days: Any) -> Body:
    """The seed borough's working hours with ``days`` changed."""
    return {"working_hours": {**SEED_BOROUGH_HOURS, **days}}


INVALID: list[tuple[str, Body, list[str | int]]] = [
    ("unknown time zone", {"timezone": "Mars/Olympus_Mons"}, ["body", "timezone"]),
    ("empty time zone", {"timezone": ""}, ["body", "timezone"]),
    ("end before start", hours(monday={"start": "17:00", "end": "09:00"}), [*WH, "monday", "end"]),
    ("end equal to start", hours(friday={"start": "09:00", "end": "09:00"}), [*WH, "friday", "end"]),
    ("working day too short", hours(tuesday={"start": "09:00", "end": "09:30"}), [*WH, "tuesday", "end"]),
    (
        "offset on a wall-clock time",
        hours(monday={"start": "09:00+01:00", "end": "17:00"}),
        [*WH, "monday", "start"],
    ),
    ("not a time", hours(monday={"start": "09:00", "end": "5pm"}), [*WH, "monday", "end"]),
    ("no start", hours(monday={"end": "17:00"}), [*WH, "monday", "start"]),
    ("no working days", hours(**dict.fromkeys(SEED_BOROUGH_HOURS)), WH),
    ("a weekday left out", {"working_hours": {"monday": NINE_TO_FIVE}}, [*WH, "tuesday"]),
    ("not a weekday", hours(mon=NINE_TO_FIVE), [*WH, "mon"]),
    ("a weekday as a number", hours(**{"1": NINE_TO_FIVE}), [*WH, "1"]),
    ("the older single window", {"workday_start": "09:00"}, ["body", "workday_start"]),
    ("the older working weekdays", {"working_weekdays": [1, 2]}, ["body", "working_weekdays"]),
    (
        "zero acknowledgement days",
        {"referral_acknowledgement_working_days": 0},
        ["body", "referral_acknowledgement_working_days"],
    ),
    ("zero red hours", {"rag_hours": {"red": 0, "amber": 24, "green": 72}}, ["body", "rag_hours", "red"]),
    ("negative hours", {"rag_hours": {"red": 4, "amber": -1, "green": 72}}, ["body", "rag_hours", "amber"]),
    (
        "a year of hours",
        {"rag_hours": {"red": 4, "amber": 24, "green": 9000}},
        ["body", "rag_hours", "green"],
    ),
    ("missing rating", {"rag_hours": {"red": 4, "amber": 24}}, ["body", "rag_hours", "green"]),
    (
        "blue has no deadline",
        {"rag_hours": {"red": 4, "amber": 24, "green": 72, "blue": 1}},
        ["body", "rag_hours", "blue"],
    ),
    ("zero decision days", {"referral_decision_working_days": 0}, ["body", "referral_decision_working_days"]),
    (
        "fractional days",
        {"adult_concern_decision_working_days": 1.5},
        ["body", "adult_concern_decision_working_days"],
    ),
    (
        "too many days",
        {"adult_concern_decision_working_days": 61},
        ["body", "adult_concern_decision_working_days"],
    ),
    ("not a date", {"extra_closure_dates": ["Christmas"]}, ["body", "extra_closure_dates", 0]),
    ("repeated date", {"extra_closure_dates": ["2026-12-24", "2026-12-24"]}, ["body", "extra_closure_dates"]),
    ("unknown field", {"plan_review_days": 28}, ["body", "plan_review_days"]),
    ("read-only field", {"version": 5}, ["body", "version"]),
    ("not a boolean", {"red_in_clock_hours": "sometimes"}, ["body", "red_in_clock_hours"]),
]


@pytest.mark.parametrize(("change_", "loc"), [pytest.param(c, loc, id=name) for name, c, loc in INVALID])
async def test_invalid_timescales_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Headers, change_: Body, loc: list[str | int]
) -> None:
    document, etag = await current(client, admin)
    response = await put(client, admin, {**editable(document), **change_}, etag)
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in [e["loc"] for e in problem["errors"]], problem["errors"]
    assert (await current(client, admin)) == (document, etag), "nothing changed"


@pytest.mark.parametrize(
    "missing",
    [
        "timezone",
        "rag_hours",
        "working_hours",
        "referral_acknowledgement_working_days",
        "extra_closure_dates",
    ],
)
async def test_a_put_replaces_the_whole_document(
    client: httpx.AsyncClient, admin: Headers, missing: str
) -> None:
    document, etag = await current(client, admin)
    body = editable(document)
    del body[missing]
    problem = assert_problem(await put(client, admin, body, etag), 422, "validation_failed")
    assert ["body", missing] in [e["loc"] for e in problem["errors"]]


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.put(
        URL, content=b"red=2", headers={**admin, "If-Match": '"0"', "Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported_media_type")


# ---------------------------------------------------------------------------------------------------
# Who may


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("auditor", "childrens_social_care"),
        ("mash_manager", "childrens_social_care"),
        ("asc_manager", "adult_social_care"),
        ("partner_referrer", "police"),
    ],
)
async def test_only_admins_read_or_change_the_timescales(
    client: httpx.AsyncClient, admin: Headers, auth: TokenFactory, role: str, agency: str
) -> None:
    document, etag = await current(client, admin)
    headers = auth(role, agency)
    assert_problem(await client.get(URL, headers=headers), 403, "insufficient_scope")
    response = await client.put(URL, json=editable(document), headers={**headers, "If-Match": etag})
    assert_problem(response, 403, "insufficient_scope")
    assert (await current(client, admin))[1] == '"0"'


# ---------------------------------------------------------------------------------------------------
# New deadlines only


@pytest.fixture
def hub(adult_who: Who) -> Who:
    """The callers, health being a GP's system (it raises adult concerns)."""
    return adult_who


async def test_red_hours_apply_to_referrals_rated_after_the_change(
    client: httpx.AsyncClient, admin: Headers, hub: Who
) -> None:
    before = await create_referral(client, hub["police"], referral_body(unique_child()))
    rated_before = await rate(client, hub["practitioner"], before["id"], "red")
    received_before = dt(rated_before["received_at"])
    assert dt(rated_before["decision_due_at"]) == received_before + timedelta(hours=4)

    await change(client, admin, rag_hours={"red": 2, "amber": 24, "green": 72})

    after = await create_referral(client, hub["police"], referral_body(unique_child()))
    rated_after = await rate(client, hub["practitioner"], after["id"], "red")
    assert dt(rated_after["decision_due_at"]) == dt(rated_after["received_at"]) + timedelta(hours=2)
    # The deadline recorded before the change stays as it was.
    kept = await get_referral(client, hub["practitioner"], before["id"])
    assert dt(kept["decision_due_at"]) == received_before + timedelta(hours=4)
    # Checks asked for now, even on the older referral, are new deadlines: the new red hours.
    [asked] = await ask(client, hub["practitioner"], before["id"], "health")
    assert dt(asked["due_at"]) == dt(asked["requested_at"]) + timedelta(hours=2)


async def test_decision_targets_apply_to_records_received_after_the_change(
    client: httpx.AsyncClient, admin: Headers, hub: Who
) -> None:
    old_referral = await create_referral(client, hub["police"], referral_body(unique_child()))
    old_concern = await raise_concern(client, hub["health"], concern_body())

    stored = await change(
        client, admin, referral_decision_working_days=3, adult_concern_decision_working_days=5
    )
    clock = WorkingClock(
        WorkingTimeConfig(referral_decision_working_days=3, adult_concern_decision_working_days=5)
    )
    assert stored["referral_decision_working_days"] == 3

    new_referral = await create_referral(client, hub["police"], referral_body(unique_child()))
    assert dt(new_referral["decision_due_at"]) == clock.referral_decision_due(dt(new_referral["received_at"]))
    new_concern = await raise_concern(client, hub["health"], concern_body())
    assert dt(new_concern["decision_due_at"]) == clock.adult_concern_decision_due(
        dt(new_concern["received_at"])
    )

    default = WorkingClock()
    kept_referral = await get_referral(client, hub["practitioner"], old_referral["id"])
    assert dt(kept_referral["decision_due_at"]) == default.referral_decision_due(
        dt(old_referral["received_at"])
    )
    assert (
        old_concern["decision_due_at"]
        == (await client.get(f"/v1/adult-concerns/{old_concern['id']}", headers=hub["health"])).json()[
            "decision_due_at"
        ]
    )


@pytest.fixture
async def other_worker(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second application on the same database: another worker process, as far as state goes."""
    async with serving(create_app(settings)) as http:
        yield http


async def test_every_worker_uses_a_change_from_its_next_request(
    client: httpx.AsyncClient,
    other_worker: httpx.AsyncClient,
    admin: Headers,
    hub: Who,
) -> None:
    def red_hours(referral: Body) -> float:
        return (dt(referral["decision_due_at"]) - dt(referral["received_at"])) / timedelta(hours=1)

    async def rated_red_on(http: httpx.AsyncClient) -> Body:
        referral = await create_referral(http, hub["police"], referral_body(unique_child()))
        return await rate(http, hub["practitioner"], referral["id"], "red")

    assert red_hours(await rated_red_on(other_worker)) == 4  # the other worker has its clock in hand
    await change(client, admin, rag_hours={"red": 6, "amber": 24, "green": 72})
    assert red_hours(await rated_red_on(other_worker)) == 6
    assert red_hours(await rated_red_on(client)) == 6
    await change(client, admin, rag_hours={"red": 1.5, "amber": 24, "green": 72})
    assert red_hours(await rated_red_on(other_worker)) == 1.5
