"""Calendar dates a client sends: YYYY-MM-DD, from 1900-01-01, everywhere (one type, app.core.schemas.Date).

A child born in year 1 used to be accepted and stored. Each date field of each request body, and the
date query parameters, is tried here with a date before 1900 and with one not written YYYY-MM-DD: the
422 names the field and says what a date must be.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.helpers import assert_problem
from tests.referrals import child, referral_body, unique_child

Body = dict[str, Any]
SOMEONE = str(uuid.uuid4())  # bodies are validated before the record is looked for
TOO_EARLY = "must be 1900-01-01 or later (YYYY-MM-DD)"
NOT_A_DATE = "must be a date as YYYY-MM-DD"


def adult_concern(day: str) -> Body:
    return {
        "adult": {"given_name": "Margaret", "family_name": "Hill", "date_of_birth": day},
        "allegations": [],
    }


# (method, path, (role, agency), body or query for a date, where the error must point)
FIELDS: list[tuple[str, str, tuple[str, str], Callable[[str], Body], list[Any]]] = [
    (
        "POST",
        "/v1/referrals",
        ("partner_referrer", "police"),
        lambda d: referral_body(child(date_of_birth=d)),
        ["body", "children", 0, "date_of_birth"],
    ),
    (
        "POST",
        "/v1/referrals",
        ("partner_referrer", "police"),
        lambda d: referral_body(child(date_of_birth=None, expected_date_of_birth=d)),
        ["body", "children", 0, "expected_date_of_birth"],
    ),
    (
        "POST",
        "/v1/referrals",
        ("partner_referrer", "police"),
        lambda d: referral_body(
            household=[
                {"given_name": "Sam", "family_name": "Smith", "relationship": "father", "date_of_birth": d}
            ]
        ),
        ["body", "household", 0, "date_of_birth"],
    ),
    (
        "POST",
        "/v1/people",
        ("mash_practitioner", ""),
        lambda d: {"date_of_birth": d},
        ["body", "date_of_birth"],
    ),
    (
        "POST",
        "/v1/people",
        ("mash_practitioner", ""),
        lambda d: {"expected_date_of_birth": d},
        ["body", "expected_date_of_birth"],
    ),
    (
        "PATCH",
        f"/v1/people/{SOMEONE}",
        ("mash_practitioner", ""),
        lambda d: {"date_of_birth": d},
        ["body", "date_of_birth"],
    ),
    (
        "PATCH",
        f"/v1/people/{SOMEONE}",
        ("mash_practitioner", ""),
        lambda d: {"expected_date_of_birth": d},
        ["body", "expected_date_of_birth"],
    ),
    (
        "POST",
        "/v1/people/matches",
        ("mash_practitioner", ""),
        lambda d: {"family_name": "Hill", "date_of_birth": d},
        ["body", "date_of_birth"],
    ),
    (
        "POST",
        "/v1/people/matches",
        ("mash_practitioner", ""),
        lambda d: {"family_name": "Hill", "expected_date_of_birth": d},
        ["body", "expected_date_of_birth"],
    ),
    (
        "POST",
        f"/v1/people/{SOMEONE}/subject-access-requests",
        ("mash_practitioner", ""),
        lambda d: {"received_on": d},
        ["body", "received_on"],
    ),
    (
        "POST",
        "/v1/adult-concerns",
        ("partner_referrer", "police"),
        adult_concern,
        ["body", "adult", "date_of_birth"],
    ),
    (
        "POST",
        "/v1/safeguarding-plans",
        ("asc_practitioner", ""),
        lambda d: {"review_due_on": d},
        ["body", "review_due_on"],
    ),
    (
        "POST",
        "/v1/safeguarding-plans",
        ("asc_practitioner", ""),
        lambda d: {"actions": [{"agency": "police", "description": "Visit.", "due_date": d}]},
        ["body", "actions", 0, "due_date"],
    ),
    (
        "PATCH",
        f"/v1/safeguarding-plans/{SOMEONE}",
        ("asc_practitioner", ""),
        lambda d: {"review_due_on": d},
        ["body", "review_due_on"],
    ),
    (
        "PATCH",
        f"/v1/safeguarding-plans/{SOMEONE}",
        ("asc_practitioner", ""),
        lambda d: {"add_actions": [{"agency": "police", "description": "Visit.", "due_date": d}]},
        ["body", "add_actions", 0, "due_date"],
    ),
    (
        "POST",
        f"/v1/safeguarding-plans/{SOMEONE}/reviews",
        ("asc_practitioner", ""),
        lambda d: {"held_on": d},
        ["body", "held_on"],
    ),
    (
        "POST",
        f"/v1/safeguarding-plans/{SOMEONE}/reviews",
        ("asc_practitioner", ""),
        lambda d: {"next_review_due_on": d},
        ["body", "next_review_due_on"],
    ),
    (
        "PUT",
        "/v1/settings/timescales",
        ("admin", "childrens_social_care"),
        lambda d: {"extra_closure_dates": ["2026-12-24", d]},
        ["body", "extra_closure_dates", 1],
    ),
    (
        "GET",
        "/v1/reports/cin-referrals",
        ("auditor", "childrens_social_care"),
        lambda d: {"from": d, "to": "2026-04-30"},
        ["query", "from"],
    ),
    (
        "GET",
        "/v1/reports/cin-referrals",
        ("auditor", "childrens_social_care"),
        lambda d: {"from": "2026-04-01", "to": d},
        ["query", "to"],
    ),
]


def _params(fields: list[Any]) -> list[Any]:
    return [
        pytest.param(*f, id=f"{f[0]} {f[1].replace(SOMEONE, '{id}')} {'.'.join(map(str, f[4][1:]))}")
        for f in fields
    ]


async def _send(
    client: httpx.AsyncClient, auth: TokenFactory, method: str, path: str, who: tuple[str, str], data: Body
) -> httpx.Response:
    headers = {**auth(who[0], who[1] or None), "If-Match": '"1"'}
    if method == "GET":
        return await client.get(path, params=data, headers=headers)
    return await client.request(method, path, json=data, headers=headers)


@pytest.mark.parametrize(("day", "message"), [("0001-01-01", TOO_EARLY), ("1899-12-31", TOO_EARLY)])
@pytest.mark.parametrize(("method", "path", "who", "body", "loc"), _params(FIELDS))
async def test_a_date_before_1900_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    method: str,
    path: str,
    who: tuple[str, str],
    body: Callable[[str], Body],
    loc: list[Any],
    day: str,
    message: str,
) -> None:
    response = await _send(client, auth, method, path, who, body(day))
    problem = assert_problem(response, 422, "validation_failed")
    assert {"loc": loc, "msg": message} in problem["errors"]


@pytest.mark.parametrize("day", ["14/03/2018", "2018-3-14", "2018-03-14T00:00:00", "20180314"])
@pytest.mark.parametrize(("method", "path", "who", "body", "loc"), _params(FIELDS[::4]))
async def test_a_date_not_written_yyyy_mm_dd_is_refused_saying_so(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    method: str,
    path: str,
    who: tuple[str, str],
    body: Callable[[str], Body],
    loc: list[Any],
    day: str,
) -> None:
    response = await _send(client, auth, method, path, who, body(day))
    problem = assert_problem(response, 422, "validation_failed")
    assert {"loc": loc, "msg": NOT_A_DATE} in problem["errors"]
    assert day not in response.text, "the error does not echo the value sent"


async def test_a_child_born_in_year_1_is_not_referred(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    police = auth("partner_referrer", "police")
    response = await client.post(
        "/v1/referrals", json=referral_body(unique_child(date_of_birth="0001-01-01")), headers=police
    )
    assert_problem(response, 422, "validation_failed")
    listed = await client.get("/v1/referrals", headers=police)
    assert listed.json()["items"] == []


async def test_a_person_born_on_1_january_1900_is_recorded(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    body = {"given_name": "Edith", "family_name": "Oldest", "date_of_birth": "1900-01-01"}
    response = await client.post("/v1/people", json=body, headers=auth("mash_practitioner"))
    assert response.status_code == 201, response.text
    assert response.json()["date_of_birth"] == "1900-01-01"
