"""Calendar dates a client sends: YYYY-MM-DD, from 1900-01-01, everywhere (one type, app.core.schemas.Date).

A child born in year 1 used to be accepted and stored. Each date field of each request body, and the
date query parameters, is tried here with a date before 1900 and with one not written YYYY-MM-DD: the
422 names the field and says what a date must be.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures.callers import TokenFactory
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import referral_body, unique_child
from tests.fixtures.values import Body

SOMEONE = str(uuid.uuid4())  # bodies are validated before the record is looked for
TOO_EARLY = "must be 1900-01-01 or later (YYYY-MM-DD)"
NOT_A_DATE = "must be a date as YYYY-MM-DD"


POLICE = ("partner_referrer", "police")
PRACTITIONER = ("mash_practitioner", "childrens_social_care")
ASC = ("asc_practitioner", "adult_social_care")
ADMIN = ("admin", "childrens_social_care")
AUDITOR = ("auditor", "childrens_social_care")

# (method, path, who may call it, where a date goes): the request carries just that date, which is
# enough for its own error (the other fields' errors come with it).
FIELDS: list[tuple[str, str, tuple[str, str], list[Any]]] = [
    ("POST", "/v1/referrals", POLICE, ["body", "children", 0, "date_of_birth"]),
    ("POST", "/v1/referrals", POLICE, ["body", "children", 0, "expected_date_of_birth"]),
    ("POST", "/v1/referrals", POLICE, ["body", "household", 0, "date_of_birth"]),
    ("POST", "/v1/people", PRACTITIONER, ["body", "date_of_birth"]),
    ("POST", "/v1/people", PRACTITIONER, ["body", "expected_date_of_birth"]),
    ("PATCH", f"/v1/people/{SOMEONE}", PRACTITIONER, ["body", "date_of_birth"]),
    ("PATCH", f"/v1/people/{SOMEONE}", PRACTITIONER, ["body", "expected_date_of_birth"]),
    ("POST", "/v1/people/matches", PRACTITIONER, ["body", "date_of_birth"]),
    ("POST", "/v1/people/matches", PRACTITIONER, ["body", "expected_date_of_birth"]),
    ("POST", f"/v1/people/{SOMEONE}/subject-access-requests", PRACTITIONER, ["body", "received_on"]),
    ("POST", "/v1/adult-concerns", POLICE, ["body", "adult", "date_of_birth"]),
    ("POST", "/v1/safeguarding-plans", ASC, ["body", "review_due_on"]),
    ("POST", "/v1/safeguarding-plans", ASC, ["body", "actions", 0, "due_date"]),
    ("PATCH", f"/v1/safeguarding-plans/{SOMEONE}", ASC, ["body", "review_due_on"]),
    ("PATCH", f"/v1/safeguarding-plans/{SOMEONE}", ASC, ["body", "add_actions", 0, "due_date"]),
    ("POST", f"/v1/safeguarding-plans/{SOMEONE}/reviews", ASC, ["body", "held_on"]),
    ("POST", f"/v1/safeguarding-plans/{SOMEONE}/reviews", ASC, ["body", "next_review_due_on"]),
    ("PUT", "/v1/settings/timescales", ADMIN, ["body", "extra_closure_dates", 0]),
    ("GET", "/v1/reports/cin-referrals", AUDITOR, ["query", "from"]),
    ("GET", "/v1/reports/cin-referrals", AUDITOR, ["query", "to"]),
]


def _params(fields: list[Any]) -> list[Any]:
    return [
        pytest.param(*f, id=f"{f[0]} {f[1].replace(SOMEONE, '{id}')} {'.'.join(map(str, f[3][1:]))}")
        for f in fields
    ]


def placed(loc: list[Any], day: str) -> Body:
    """The body (or query) holding ``day`` at ``loc``."""
    value: Any = day
    for key in reversed(loc[1:]):
        value = [value] if isinstance(key, int) else {key: value}
    placed_value: Body = value
    return placed_value


async def _send(
    client: httpx.AsyncClient, auth: TokenFactory, method: str, path: str, who: tuple[str, str], data: Body
) -> httpx.Response:
    headers = {**auth(*who), "If-Match": '"1"'}
    if method == "GET":
        return await client.get(path, params=data, headers=headers)
    return await client.request(method, path, json=data, headers=headers)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("0001-01-01", TOO_EARLY),
        ("1899-12-31", TOO_EARLY),
        ("14/03/2018", NOT_A_DATE),
        ("2018-3-14", NOT_A_DATE),
        ("2018-03-14T00:00:00", NOT_A_DATE),
        ("20180314", NOT_A_DATE),
    ],
)
@pytest.mark.parametrize(("method", "path", "who", "loc"), _params(FIELDS))
async def test_a_date_before_1900_or_not_yyyy_mm_dd_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    method: str,
    path: str,
    who: tuple[str, str],
    loc: list[Any],
    day: str,
    message: str,
) -> None:
    response = await _send(client, auth, method, path, who, placed(loc, day))
    problem = assert_problem(response, 422, "validation_failed")
    assert {"loc": loc, "msg": message} in problem["errors"]
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
