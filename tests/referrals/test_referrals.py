"""Referrals: what a referral must say, the status machine, consent, the list and its filters, and the
audit trail of reads. Every assertion is about what a client sees."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core import clock
from app.core.audit import verify_chain
from app.core.clock import WorkingClock
from app.models.audit import AuditEvent
from tests.fixtures.callers import Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_not_found, assert_problem, item_ids, locs, patch_current
from tests.fixtures.referrals import (
    NOT_CONSENTED,
    OVERRIDE,
    answer,
    ask,
    ask_body,
    child,
    create_referral,
    decided_referral,
    etag_of,
    get_referral,
    override_consent,
    proposal_body,
    propose,
    propose_and_approve,
    rate,
    referral_body,
    review,
    unique_child,
    withdraw,
)
from tests.fixtures.values import LONG_AGO, NHS_AMELIA, Body, Headers, dt, sql_id


def _today() -> datetime:
    return datetime.now(UTC)


def _days(n: int) -> str:
    """The date ``n`` days from today in England, the hub's calendar (the server's zone may differ)."""
    return (clock.today() + timedelta(days=n)).isoformat()


# ---------------------------------------------------------------------------------------------------
# 1. What a referral must say


def _with_child(**fields: Any) -> Body:
    return referral_body(child(**fields))


def _without_dob() -> Body:
    body = referral_body()
    del body["children"][0]["date_of_birth"]
    return body


def _with_referrer(**fields: Any) -> Body:
    return referral_body(referrer={"name": "PC Dawson", **fields})


INVALID_REFERRALS: list[tuple[str, Callable[[], Body], list[str | int]]] = [
    ("no children", lambda: referral_body(children=[]), ["body", "children"]),
    (
        "children missing",
        lambda: {k: v for k, v in referral_body().items() if k != "children"},
        ["body", "children"],
    ),
    ("neither date of birth nor expected date", _without_dob, ["body", "children", 0]),
    ("future date of birth", lambda: _with_child(date_of_birth=_days(1)), ["body", "children", 0]),
    (
        "expected date more than 280 days ahead (CIN rule 8606)",
        lambda: _with_child(date_of_birth=None, expected_date_of_birth=_days(281)),
        ["body", "children", 0],
    ),
    (
        "unborn child recorded as female (CIN rule 8750: not known)",
        lambda: _with_child(date_of_birth=None, expected_date_of_birth=_days(60), gender="female"),
        ["body", "children", 0],
    ),
    (
        "unborn child recorded as other (CIN rule 8750: not known)",
        lambda: _with_child(date_of_birth=None, expected_date_of_birth=_days(60), gender="other"),
        ["body", "children", 0],
    ),
    (
        "expected date more than a month past",
        lambda: _with_child(date_of_birth=None, expected_date_of_birth=_days(-32)),
        ["body", "children", 0],
    ),
    (
        "both a date of birth and an expected date",
        lambda: _with_child(expected_date_of_birth=_days(60)),
        ["body", "children", 0],
    ),
    (
        "NHS number with a bad check digit",
        lambda: _with_child(nhs_number="9434765918"),
        ["body", "children", 0, "nhs_number"],
    ),
    (
        "NHS number of 9 digits",
        lambda: _with_child(nhs_number="943476591"),
        ["body", "children", 0, "nhs_number"],
    ),
    (
        "NHS number with letters",
        lambda: _with_child(nhs_number="94347659AB"),
        ["body", "children", 0, "nhs_number"],
    ),
    (
        "invalid postcode",
        lambda: _with_child(address={"lines": ["1 High St"], "postcode": "12345"}),
        ["body", "children", 0, "address", "postcode"],
    ),
    ("unknown referral source 11", lambda: referral_body(referral_source="11"), ["body", "referral_source"]),
    ("unknown referral source 1E", lambda: referral_body(referral_source="1E"), ["body", "referral_source"]),
    ("referral source as a number", lambda: referral_body(referral_source=6), ["body", "referral_source"]),
    (
        "unknown concern category",
        lambda: referral_body(concern_categories=["neglect", "burglary"]),
        ["body", "concern_categories", 1],
    ),
    ("no concern categories", lambda: referral_body(concern_categories=[]), ["body", "concern_categories"]),
    (
        "repeated concern category",
        lambda: referral_body(concern_categories=["neglect", "neglect"]),
        ["body", "concern_categories"],
    ),
    ("empty concern summary", lambda: referral_body(concern_summary=""), ["body", "concern_summary"]),
    (
        "consented but not informed",
        lambda: referral_body(parental_consent={"informed": False, "consented": True}),
        ["body", "parental_consent"],
    ),
    (
        "no consent and no reason",
        lambda: referral_body(parental_consent={"informed": True, "consented": False}),
        ["body", "parental_consent"],
    ),
    (
        "not informed, no consent, no reason",
        lambda: referral_body(parental_consent={"informed": False, "consented": False}),
        ["body", "parental_consent"],
    ),
    ("referrer with neither phone nor email", _with_referrer, ["body", "referrer"]),
    (
        "referrer with a bad email",
        lambda: _with_referrer(email="not-an-email"),
        ["body", "referrer", "email"],
    ),
    ("referrer with a bad phone", lambda: _with_referrer(phone="call me"), ["body", "referrer", "phone"]),
    (
        "do not inform parents without a reason",
        lambda: referral_body(do_not_inform_parents=True),
        ["body"],
    ),
    (
        "unknown household relationship",
        lambda: referral_body(
            household=[{"given_name": "Sam", "family_name": "Smith", "relationship": "uncle"}]
        ),
        ["body", "household", 0, "relationship"],
    ),
    # extra="forbid", at every level of the body
    ("unknown top-level field", lambda: referral_body(priority="high"), ["body", "priority"]),
    ("unknown child field", lambda: _with_child(nickname="Millie"), ["body", "children", 0, "nickname"]),
    (
        "unknown address field",
        lambda: _with_child(address={"postcode": "E17 4UH", "county": "Essex"}),
        ["body", "children", 0, "address", "county"],
    ),
    (
        "unknown referrer field",
        lambda: _with_referrer(phone="020 7946 0000", pager="1234"),
        ["body", "referrer", "pager"],
    ),
    (
        "unknown consent field",
        lambda: referral_body(
            parental_consent={"informed": True, "consented": True, "asked_on": "2026-01-01"}
        ),
        ["body", "parental_consent", "asked_on"],
    ),
    (
        "unknown household field",
        lambda: referral_body(
            household=[{"given_name": "Sarah", "family_name": "Smith", "relationship": "mother", "age": 34}]
        ),
        ["body", "household", 0, "age"],
    ),
]


@pytest.mark.parametrize(
    ("make_body", "loc"),
    [pytest.param(make, loc, id=name) for name, make, loc in INVALID_REFERRALS],
)
async def test_an_invalid_referral_is_refused_with_the_field_named(
    client: httpx.AsyncClient, who: Who, make_body: Callable[[], Body], loc: list[str | int]
) -> None:
    response = await client.post("/v1/referrals", json=make_body(), headers=who["police"])
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem), problem["errors"]
    # Nothing was created.
    assert (await client.get("/v1/referrals", headers=who["practitioner"])).json()["items"] == []


async def test_a_validation_error_does_not_echo_personal_data(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.post(
        "/v1/referrals",
        json=_with_child(nhs_number="9434765918", given_name="Zebedee"),
        headers=who["police"],
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert "9434765918" not in response.text
    assert "Zebedee" not in response.text
    assert all(set(error) == {"loc", "msg"} for error in problem["errors"])


async def test_a_referral_is_received_with_a_decision_due_one_working_day_later(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    before = _today()
    response = await client.post("/v1/referrals", json=referral_body(), headers=who["police"])
    assert response.status_code == 201, response.text
    referral = response.json()
    assert response.headers["location"] == f"/v1/referrals/{referral['id']}"
    assert referral["view"] == "referrer"
    assert referral["status"] == "received"
    assert referral["referring_agency"] == "police"
    assert referral["rag_rating"] is None
    assert referral["outcome"] is None
    received = dt(referral["received_at"])
    assert before <= received <= _today()
    due = dt(referral["decision_due_at"])
    assert due > received
    assert due == WorkingClock().referral_decision_due(received)
    assert due == app.state.clock.referral_decision_due(received)

    full = await get_referral(client, who["practitioner"], referral["id"])
    assert full["status"] == "received"
    assert dt(full["statutory_decision_due_at"]) == due
    assert full["rag_due_at"] is None
    # The referrer's contact is to be acknowledged within one working day too.
    assert dt(full["acknowledgement_due_at"]) == WorkingClock().referral_acknowledgement_due(received)
    assert full["acknowledged_at"] is None and referral["acknowledged_at"] is None
    assert full["overdue"] is False
    assert full["referred_by"] == "police-system"
    assert full["consent_override"] is None


async def test_hub_staff_making_a_referral_see_the_full_view(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.post("/v1/referrals", json=referral_body(), headers=who["practitioner"])
    assert response.status_code == 201, response.text
    assert response.json()["view"] == "full"
    assert response.json()["referring_agency"] == "childrens_social_care"


async def test_an_unborn_child_is_accepted(client: httpx.AsyncClient, who: Who) -> None:
    expected = _days(120)
    unborn = {"given_name": "Baby", "family_name": "Smith", "expected_date_of_birth": expected}
    referral = await create_referral(client, who["police"], referral_body(unborn))
    assert referral["status"] == "received"
    (child_out,) = referral["children"]
    assert child_out["date_of_birth"] is None
    assert child_out["expected_date_of_birth"] == expected


async def test_identifying_details_are_normalised(client: httpx.AsyncClient, who: Who) -> None:
    body = referral_body(
        child(nhs_number="943 476 5919", address={"lines": ["12 Forest Road"], "postcode": "e17 4uh"})
    )
    referral = await create_referral(client, who["police"], body)
    (child_out,) = referral["children"]
    assert child_out["nhs_number"] == NHS_AMELIA
    assert child_out["address"] == {"lines": ["12 Forest Road"], "postcode": "E17 4UH"}


async def test_the_household_reads_back_as_sent_in_order(client: httpx.AsyncClient, who: Who) -> None:
    sent: list[Body] = [
        {
            "given_name": "Sarah",
            "family_name": "Smith",
            "relationship": "mother",
            "date_of_birth": "1990-02-28",
            "lives_with_children": True,
            "parental_responsibility": True,
        },
        {"given_name": "Dean", "family_name": "Cole", "relationship": "step_parent"},
    ]
    made = await create_referral(client, who["police"], referral_body(household=sent))
    by_hub = await get_referral(client, who["practitioner"], made["id"])
    by_referrer = await get_referral(client, who["police"], made["id"])

    unsaid: Body = {"date_of_birth": None, "lives_with_children": None, "parental_responsibility": None}
    expected = [unsaid | member for member in sent]
    for household in (made["household"], by_hub["household"], by_referrer["household"]):
        assert [{k: v for k, v in m.items() if k != "id"} for m in household] == expected
    assert [m["id"] for m in by_hub["household"]] == [m["id"] for m in made["household"]]


async def test_a_partner_without_the_scope_cannot_rate(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    response = await client.post(
        f"/v1/referrals/{referral['id']}/rag-rating",
        json={"rating": "red", "rationale": "Trying to rate our own referral."},
        headers=who["police"],
    )
    assert_problem(response, 403, "insufficient_scope")


# ---------------------------------------------------------------------------------------------------
# 2. The status machine


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("contribution-requests", ask_body("health"), id="agencies cannot be asked"),
        pytest.param("threshold-decisions", proposal_body(), id="a decision cannot be proposed"),
    ],
)
async def test_nothing_moves_before_the_referral_is_rated(
    client: httpx.AsyncClient, who: Who, path: str, body: Body
) -> None:
    referral = await create_referral(client, who["police"])
    response = await client.post(
        f"/v1/referrals/{referral['id']}/{path}", json=body, headers=who["practitioner"]
    )
    assert_problem(response, 409, "invalid_transition")
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "received"


async def test_rating_moves_a_received_referral_to_triaged(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    rated = await rate(client, who["practitioner"], referral["id"], "green")
    assert rated["status"] == "triaged"
    assert rated["rag"]["rating"] == "green"
    assert rated["rag"]["rated_by"] == "practitioner-ann"
    police_view = await get_referral(client, who["police"], referral["id"])
    assert (police_view["status"], police_view["rag_rating"]) == ("triaged", "green")
    assert "rag" not in police_view, "the referrer sees the rating, not the hub's rationale"


async def test_re_rating_while_triaged_and_gathering_information_moves_the_deadline(
    client: httpx.AsyncClient, who: Who
) -> None:
    """Each rating counts its RAG target again from receipt; the decision is due by the earlier of that
    target and the statutory one working day, never later (amber "24 working hours" is three days)."""
    referral = await create_referral(client, who["police"])
    received = dt(referral["received_at"])
    clock = WorkingClock()
    statutory = clock.referral_decision_due(received)

    red = await rate(client, who["practitioner"], referral["id"], "red")
    assert dt(red["decision_due_at"]) == dt(red["rag_due_at"]) == received + timedelta(hours=4)
    assert dt(red["statutory_decision_due_at"]) == statutory
    amber = await rate(client, who["practitioner"], referral["id"], "amber")
    assert amber["status"] == "triaged"
    # The amber target is kept, but the decision stays due within one working day.
    assert dt(amber["rag_due_at"]) == clock.rag_due(received, "amber")
    assert dt(amber["rag_due_at"]) > statutory
    assert dt(amber["decision_due_at"]) == statutory

    await ask(client, who["practitioner"], referral["id"], "health")
    red_again = await rate(client, who["practitioner"], referral["id"], "red")
    assert red_again["status"] == "gathering_information", "re-rating does not move the status back"
    assert dt(red_again["decision_due_at"]) == received + timedelta(hours=4)
    green = await rate(client, who["practitioner"], referral["id"], "green")
    assert dt(green["rag_due_at"]) == clock.rag_due(received, "green")
    assert dt(green["decision_due_at"]) == statutory, "a green rating never extends the statutory deadline"
    # The statutory one-working-day deadline is set once, at receipt.
    assert green["statutory_decision_due_at"] == red["statutory_decision_due_at"]
    # Blue needs no MASH response and has no RAG target: the statutory deadline applies.
    blue = await rate(client, who["practitioner"], referral["id"], "blue")
    assert blue["decision_due_at"] == blue["statutory_decision_due_at"]
    assert blue["rag_due_at"] is None


async def test_a_referral_rated_green_is_due_by_the_statutory_deadline(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    rated = await rate(client, who["practitioner"], referral["id"], "green")
    assert rated["decision_due_at"] == rated["statutory_decision_due_at"] == referral["decision_due_at"]
    assert dt(rated["rag_due_at"]) > dt(rated["decision_due_at"])
    # The referrer's view shows the same deadline.
    police_view = await get_referral(client, who["police"], referral["id"])
    assert police_view["decision_due_at"] == rated["decision_due_at"]


async def test_a_referral_cannot_be_rated_once_a_decision_is_proposed_or_made(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    await rate(client, who["practitioner"], referral["id"])
    decision = await propose(client, who["practitioner"], referral["id"])
    rerate = {"rating": "red", "rationale": "New information."}
    url = f"/v1/referrals/{referral['id']}/rag-rating"
    assert_problem(
        await client.post(url, json=rerate, headers=who["practitioner"]), 409, "invalid_transition"
    )

    assert (await review(client, who["manager"], decision["id"])).status_code == 200
    assert_problem(
        await client.post(url, json=rerate, headers=who["practitioner"]), 409, "invalid_transition"
    )
    assert (await get_referral(client, who["practitioner"], referral["id"]))["rag"]["rating"] == "amber"


async def test_a_blue_referral_is_not_sent_for_checks(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    rated = await rate(client, who["practitioner"], referral["id"], "blue")
    assert rated["status"] == "triaged"
    # Blue sets no RAG deadline: the one-working-day decision deadline stands.
    assert rated["decision_due_at"] == referral["decision_due_at"]
    response = await client.post(
        f"/v1/referrals/{referral['id']}/contribution-requests",
        json=ask_body("health"),
        headers=who["practitioner"],
    )
    assert_problem(response, 409, "invalid_transition")
    # It can still be decided.
    await propose(
        client,
        who["practitioner"],
        referral["id"],
        level=1,
        outcome="universal_services",
        primary_need=None,
    )


@pytest.mark.parametrize("final", ["decided", "withdrawn"])
async def test_a_decided_or_withdrawn_referral_cannot_be_changed(
    client: httpx.AsyncClient, who: Who, final: str
) -> None:
    if final == "decided":
        referral = await decided_referral(client, who)
    else:
        referral = await create_referral(client, who["police"])
        assert (await withdraw(client, who["practitioner"], referral["id"])).status_code == 200
    referral_id = referral["id"]
    etag = await etag_of(client, who["practitioner"], referral_id)
    patch = await client.patch(
        f"/v1/referrals/{referral_id}",
        json={"concern_summary": "A late change."},
        headers={**who["practitioner"], "If-Match": etag},
    )
    assert_problem(patch, 409, "invalid_transition")
    again = await client.patch(
        f"/v1/referrals/{referral_id}",
        json={"status": "withdrawn", "withdrawal_reason": "Changed our minds."},
        headers={**who["practitioner"], "If-Match": etag},
    )
    assert_problem(again, 409, "invalid_transition")
    for path, body, headers in [
        ("rag-rating", {"rating": "red", "rationale": "Late."}, who["practitioner"]),
        ("contribution-requests", ask_body("health"), who["practitioner"]),
        ("consent-override", OVERRIDE, who["manager"]),
    ]:
        response = await client.post(f"/v1/referrals/{referral_id}/{path}", json=body, headers=headers)
        assert_problem(response, 409, "invalid_transition")

    response = await client.post(
        f"/v1/referrals/{referral_id}/threshold-decisions", json=proposal_body(), headers=who["practitioner"]
    )
    assert_problem(response, 409, "invalid_transition")
    assert (await get_referral(client, who["practitioner"], referral_id))["status"] == final


async def test_withdrawing_needs_if_match(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    url = f"/v1/referrals/{referral['id']}"
    body = {"status": "withdrawn", "withdrawal_reason": "Referred in error."}
    stale = await etag_of(client, who["practitioner"], referral["id"])
    await rate(client, who["practitioner"], referral["id"])  # the record changes: the old ETag is stale

    assert_problem(
        await client.patch(url, json=body, headers=who["practitioner"]), 428, "precondition_required"
    )
    assert_problem(
        await client.patch(url, json=body, headers={**who["practitioner"], "If-Match": stale}),
        412,
        "precondition_failed",
    )
    assert (await get_referral(client, who["practitioner"], referral["id"]))["status"] == "triaged"

    current = await etag_of(client, who["practitioner"], referral["id"])
    assert current != stale
    withdrawn = await client.patch(url, json=body, headers={**who["practitioner"], "If-Match": current})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.headers["etag"] != current
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawal"]["reason"] == "Referred in error."
    assert withdrawn.json()["withdrawal"]["withdrawn_by"] == "practitioner-ann"
    police_view = await get_referral(client, who["police"], referral["id"])
    assert (police_view["status"], police_view["withdrawn"]) == ("withdrawn", True)


async def test_a_referral_reads_back_as_the_answer_to_its_last_change(
    client: httpx.AsyncClient, who: Who
) -> None:
    # A get shows a row read for it; a change answers with the view of the changed record: every field
    # of either view is the same.
    body = referral_body(
        child(nhs_number="943 476 5919", address={"lines": ["12 Forest Road"], "postcode": "E17 4UH"}),
        parental_consent=NOT_CONSENTED,
        external_reference="POL-READ-BACK-1",
    )
    made = await create_referral(client, who["police"], body)
    assert made["view"] == "referrer"
    assert await get_referral(client, who["police"], made["id"]) == made

    await override_consent(client, who["manager"], made["id"])
    await rate(client, who["practitioner"], made["id"])
    withdrawn = await withdraw(client, who["practitioner"], made["id"])
    assert withdrawn.status_code == 200, withdrawn.text
    changed = withdrawn.json()
    assert changed["view"] == "full"
    assert changed["consent_override"] is not None and changed["rag"] is not None
    assert changed["withdrawal"] is not None and changed["children"][0]["address"] is not None
    assert await get_referral(client, who["practitioner"], made["id"]) == changed


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"status": "withdrawn"}, id="no reason"),
        pytest.param({"withdrawal_reason": "Referred in error."}, id="reason without status"),
        pytest.param({"status": "decided", "withdrawal_reason": "x"}, id="other status"),
        pytest.param({}, id="empty"),
        pytest.param({"do_not_inform_parents": True}, id="do not inform without a reason"),
        pytest.param({"concern_summary": "x", "colour": "red"}, id="unknown field"),
        pytest.param({"concern_categories": ["burglary"]}, id="unknown concern category"),
        pytest.param({"concern_categories": []}, id="no concern categories"),
        # As on creation (an update used to store the repeat).
        pytest.param({"concern_categories": ["neglect", "neglect"]}, id="repeated concern category"),
        # A required field cannot be cleared (it used to be silently ignored).
        pytest.param({"concern_summary": None}, id="clearing the summary"),
        pytest.param({"referrer": None}, id="clearing the referrer"),
        pytest.param({"concern_categories": None}, id="clearing the categories"),
        pytest.param({"do_not_inform_parents": None}, id="clearing the marker with null"),
        pytest.param({"do_not_inform_reason": "Risk."}, id="a reason without the marker"),
    ],
)
async def test_an_invalid_update_is_refused(client: httpx.AsyncClient, who: Who, body: Body) -> None:
    referral = await create_referral(client, who["police"])
    response = await patch_current(client, who["practitioner"], f"/v1/referrals/{referral['id']}", body)
    assert_problem(response, 422, "validation_failed")


async def test_the_hub_updates_what_the_referral_says(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    etag = await etag_of(client, who["practitioner"], referral["id"])
    change = {
        "concern_categories": ["neglect", "child_criminal_exploitation"],
        "concern_summary": "Police now also report county lines involvement.",
        "referrer": {"name": "DC Patel", "email": "dc.patel@police.example"},
    }
    response = await client.patch(
        f"/v1/referrals/{referral['id']}", json=change, headers={**who["practitioner"], "If-Match": etag}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["concern_categories"] == change["concern_categories"]
    assert updated["concern_summary"] == change["concern_summary"]
    assert updated["referrer"] == {
        "name": "DC Patel",
        "role": None,
        "team": None,
        "phone": None,
        "email": "dc.patel@police.example",
        # What a member of the public says of themselves (the public's front door): not an officer's.
        "anonymous": None,
        "relationship": None,
        "feedback": None,
        "parents_know": None,
        "approximate_ages": None,
    }
    assert updated["status"] == "received"
    assert response.headers["etag"] != etag
    police = await get_referral(client, who["police"], referral["id"])
    assert police["concern_summary"] == change["concern_summary"]
    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    (event,) = [e for e in timeline.json()["items"] if e["event_type"] == "referral.updated"]
    assert event["data"] == {"fields": ["concern_categories", "concern_summary", "referrer"]}
    assert event["actor"]["sub"] == "practitioner-ann"


async def test_withdrawing_cancels_open_requests_and_keeps_answers(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    await rate(client, who["practitioner"], referral["id"])
    requests = {
        c["agency"]: c for c in await ask(client, who["practitioner"], referral["id"], "health", "education")
    }

    await answer(client, who["education"], requests["education"]["id"])

    response = await withdraw(client, who["practitioner"], referral["id"])
    assert response.status_code == 200, response.text

    listed = await client.get(f"/v1/referrals/{referral['id']}/contributions", headers=who["practitioner"])
    statuses = {c["agency"]: c["status"] for c in listed.json()["items"]}
    assert statuses == {"health": "cancelled", "education": "submitted"}
    health = (await client.get(f"/v1/contributions/{requests['health']['id']}", headers=who["health"])).json()
    assert (health["status"], health["overdue"]) == ("cancelled", False)
    late = await client.post(
        f"/v1/contributions/{requests['health']['id']}/response",
        json={"information": "Too late."},
        headers=who["health"],
    )
    assert_problem(late, 409, "invalid_transition")
    inbox = await client.get("/v1/contributions", params={"status": "requested"}, headers=who["health"])
    assert inbox.json()["items"] == []


# ---------------------------------------------------------------------------------------------------
# 3. Consent


async def test_without_consent_agencies_are_asked_only_after_a_manager_overrides(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(parental_consent=NOT_CONSENTED))
    await rate(client, who["practitioner"], referral["id"])
    url = f"/v1/referrals/{referral['id']}"
    refused = await client.post(
        f"{url}/contribution-requests", json=ask_body("health"), headers=who["practitioner"]
    )
    assert_problem(refused, 409, "consent_override_required")

    by_practitioner = await client.post(f"{url}/consent-override", json=OVERRIDE, headers=who["practitioner"])
    assert_problem(by_practitioner, 403, "insufficient_scope")
    by_partner = await client.post(f"{url}/consent-override", json=OVERRIDE, headers=who["police"])
    assert_problem(by_partner, 403, "insufficient_scope")

    overridden = await client.post(f"{url}/consent-override", json=OVERRIDE, headers=who["manager"])
    assert overridden.status_code == 200, overridden.text
    shown = overridden.json()["consent_override"]
    assert shown["reason"] == OVERRIDE["reason"]
    assert shown["lawful_basis"] == "uk_gdpr_6_1_e_public_task"
    assert shown["special_category_condition"] is None
    assert shown["authorised_by"] == "manager-bob"
    assert dt(shown["authorised_at"]) >= dt(referral["received_at"])
    # The full view keeps showing it, alongside what the referrer said.
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert full["consent_override"] == shown
    assert full["parental_consent"] == {**NOT_CONSENTED}
    assert "consent_override" not in await get_referral(client, who["police"], referral["id"])

    asked = await client.post(
        f"{url}/contribution-requests", json=ask_body("health"), headers=who["practitioner"]
    )
    assert asked.status_code == 201, asked.text

    twice = await client.post(f"{url}/consent-override", json=OVERRIDE, headers=who["manager2"])
    assert_problem(twice, 409, "invalid_transition")
    assert (await get_referral(client, who["practitioner"], referral["id"]))["consent_override"] == shown


async def test_consent_cannot_be_overridden_when_the_parents_consented(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    response = await client.post(
        f"/v1/referrals/{referral['id']}/consent-override", json=OVERRIDE, headers=who["manager"]
    )
    assert_problem(response, 409, "invalid_transition")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"reason": "x"}, ["body", "lawful_basis"]),
        ({"lawful_basis": "uk_gdpr_6_1_e_public_task"}, ["body", "reason"]),
        ({**OVERRIDE, "lawful_basis": "we_felt_like_it"}, ["body", "lawful_basis"]),
        ({**OVERRIDE, "special_category_condition": "none"}, ["body", "special_category_condition"]),
    ],
)
async def test_a_consent_override_needs_a_reason_and_a_lawful_basis(
    client: httpx.AsyncClient, who: Who, body: Body, loc: list[str]
) -> None:
    referral = await create_referral(client, who["police"], referral_body(parental_consent=NOT_CONSENTED))
    response = await client.post(
        f"/v1/referrals/{referral['id']}/consent-override", json=body, headers=who["manager"]
    )
    assert loc in locs(assert_problem(response, 422, "validation_failed"))


# ---------------------------------------------------------------------------------------------------
# 7. The list and its filters


async def _ids(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[str]:
    return await item_ids(client, headers, "/v1/referrals", **params)


async def test_the_list_filters(client: httpx.AsyncClient, who: Who, app: FastAPI) -> None:
    hub = who["practitioner"]
    amelia = child(nhs_number=NHS_AMELIA, address={"postcode": "E17 4UH"})
    first = await create_referral(client, who["police"], referral_body(amelia))  # stays received
    red = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, hub, red["id"], "red")
    amber = await create_referral(client, who["health"], referral_body(unique_child()))
    await rate(client, hub, amber["id"], "amber")
    decided = await decided_referral(client, who, referral_body(amelia))
    newest_first = [decided["id"], amber["id"], red["id"], first["id"]]

    assert await _ids(client, hub) == newest_first
    assert await _ids(client, hub, status="received") == [first["id"]]
    assert await _ids(client, hub, status="triaged") == [amber["id"], red["id"]]
    assert await _ids(client, hub, status="decided") == [decided["id"]]
    assert await _ids(client, hub, rag="red") == [red["id"]]
    assert await _ids(client, hub, rag="amber") == [decided["id"], amber["id"]]
    assert await _ids(client, hub, rag="blue") == []
    assert await _ids(client, hub, referring_agency="health") == [amber["id"]]
    assert await _ids(client, hub, referring_agency="police") == [decided["id"], red["id"], first["id"]]

    # received_from is inclusive, received_to exclusive.
    assert await _ids(client, hub, received_from=red["received_at"]) == [
        decided["id"],
        amber["id"],
        red["id"],
    ]
    assert await _ids(client, hub, received_to=red["received_at"]) == [first["id"]]
    assert await _ids(client, hub, received_from=red["received_at"], received_to=decided["received_at"]) == [
        amber["id"],
        red["id"],
    ]
    assert await _ids(client, hub, status="triaged", referring_agency="police") == [red["id"]]

    # Overdue: an undecided referral past its deadline; a decided one never is.
    assert await _ids(client, hub, overdue="true") == []
    await run_sql(
        app,
        f"UPDATE referrals SET decision_due_at = '{LONG_AGO}' WHERE id IN "
        f"('{sql_id(red['id'])}', '{sql_id(decided['id'])}')",
    )
    assert await _ids(client, hub, overdue="true") == [red["id"]]
    assert await _ids(client, hub, overdue="false") == [decided["id"], amber["id"], first["id"]]
    overdue_item = (await client.get("/v1/referrals", params={"overdue": "true"}, headers=hub)).json()[
        "items"
    ][0]
    assert overdue_item["overdue"] is True
    assert (await get_referral(client, hub, red["id"]))["overdue"] is True
    assert (await get_referral(client, hub, decided["id"]))["overdue"] is False

    # Every referral naming a person.
    person_id = decided["children"][0]["person_id"]
    assert decided["children"][0]["match"]["status"] == "matched"
    assert await _ids(client, hub, person_id=person_id) == [decided["id"], first["id"]]
    assert await _ids(client, hub, person_id=str(uuid.uuid4())) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "closed"},
        {"rag": "purple"},
        {"referring_agency": "mi5"},
        {"received_from": "yesterday"},
        # Without an offset a time cannot be compared with UTC timestamps (this was a 500).
        {"received_from": "2026-01-05T10:00:00"},
        {"received_to": "2026-01-05"},
        {"overdue": "maybe"},
        {"person_id": "not-a-uuid"},
        {"limit": "0"},
        {"limit": "201"},
        {"rag": "red,purple"},
        {"status": ""},
        {"source": "email"},
        {"sort": "outcome"},
        {"sort": "--received_at"},
    ],
)
async def test_a_bad_filter_is_refused(client: httpx.AsyncClient, who: Who, params: dict[str, str]) -> None:
    response = await client.get("/v1/referrals", params=params, headers=who["practitioner"])
    problem = assert_problem(response, 422, "validation_failed")
    # A value of a list filter is pointed at by its position in the list.
    assert ["query", next(iter(params))] in [loc[:2] for loc in locs(problem)]


async def test_a_partner_agency_lists_only_the_referrals_it_made(client: httpx.AsyncClient, who: Who) -> None:
    police = await create_referral(client, who["police"], referral_body(unique_child()))
    health = await create_referral(client, who["health"], referral_body(unique_child()))
    # Health is asked about the police referral: that is in its inbox, not its referral list.
    await rate(client, who["practitioner"], police["id"])
    await ask(client, who["practitioner"], police["id"], "health")

    assert await _ids(client, who["police"]) == [police["id"]]
    assert await _ids(client, who["health"]) == [health["id"]]
    assert await _ids(client, who["health"], referring_agency="police") == []
    assert await _ids(client, who["education"]) == []
    assert set(await _ids(client, who["practitioner"])) == {police["id"], health["id"]}


async def test_the_list_is_paginated(client: httpx.AsyncClient, who: Who) -> None:
    made = [await create_referral(client, who["police"], referral_body(unique_child())) for _ in range(3)]
    first = await client.get("/v1/referrals", params={"limit": 2}, headers=who["practitioner"])
    assert first.status_code == 200, first.text
    page1 = first.json()
    assert [r["id"] for r in page1["items"]] == [made[2]["id"], made[1]["id"]]
    assert page1["next_cursor"]
    assert 'rel="next"' in first.headers["link"]
    second = await client.get(
        "/v1/referrals", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=who["practitioner"]
    )
    page2 = second.json()
    assert [r["id"] for r in page2["items"]] == [made[0]["id"]]
    assert page2["next_cursor"] is None
    assert "link" not in second.headers
    bad = await client.get("/v1/referrals", params={"cursor": "garbage"}, headers=who["practitioner"])
    assert_problem(bad, 422, "invalid_cursor")


# ---------------------------------------------------------------------------------------------------
# Visibility


async def test_an_agency_with_no_link_to_a_referral_cannot_see_it(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    own = f"/v1/referrals/{referral['id']}"
    await assert_not_found(client, who["housing"], own, f"{own}/timeline", f"{own}/contributions")
    # Exactly as for a referral that does not exist.
    await assert_not_found(client, who["housing"], f"/v1/referrals/{uuid.uuid4()}")


async def test_an_asked_agency_sees_the_child_and_its_request_only(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    await rate(client, who["practitioner"], referral["id"])
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    seen = await get_referral(client, who["health"], referral["id"])
    assert set(seen) == {"view", "id", "children", "requests"}
    assert seen["view"] == "asked_agency"
    assert seen["requests"] == [
        {
            "contribution_id": request["id"],
            "question": request["question"],
            "due_at": request["due_at"],
            "status": "requested",
        }
    ]
    assert [c["given_name"] for c in seen["children"]] == ["Amelia"]


async def test_partner_agencies_never_see_the_hubs_person_records(
    client: httpx.AsyncClient, who: Who
) -> None:
    """The person record a child is matched to is the hub's own link between its cases: showing it to
    the referrer or an asked agency would tell them which other referrals name the same child."""
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    await ask(client, who["practitioner"], referral["id"], "health")
    full = await get_referral(client, who["practitioner"], referral["id"])
    person_ids = [c["person_id"] for c in full["children"]]
    assert person_ids and None not in person_ids

    partner_reads = [
        (who["police"], f"/v1/referrals/{referral['id']}"),
        (who["police"], "/v1/referrals"),
        (who["health"], f"/v1/referrals/{referral['id']}"),
        (who["health"], "/v1/contributions"),
        (who["health"], f"/v1/referrals/{referral['id']}/contributions"),
    ]
    for headers, path in partner_reads:
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert '"person_id":null' in response.text.replace(" ", ""), path
        for person_id in person_ids:
            assert person_id not in response.text, path
    hub_list = await client.get("/v1/referrals", headers=who["practitioner"])
    assert person_ids[0] in hub_list.text


async def test_the_hub_cannot_be_written_to_by_a_partner(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    edit = {"concern_summary": "Edited by the referrer."}
    response = await patch_current(client, who["police"], f"/v1/referrals/{referral['id']}", edit)
    assert_problem(response, 403, "insufficient_scope")


# ---------------------------------------------------------------------------------------------------
# 9. Audit


async def test_reading_a_referral_is_audited_with_the_children_it_names(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    twins = referral_body(
        child(given_name="Jack", family_name="Okafor", date_of_birth="2019-05-01"),
        child(given_name="Zack", family_name="Okafor", date_of_birth="2019-05-01"),
    )
    referral = await create_referral(client, who["police"], twins)
    full = await get_referral(client, who["practitioner"], referral["id"])
    person_ids = sorted(c["person_id"] for c in full["children"])
    assert None not in person_ids

    async with app.state.sessionmaker() as session:
        reads = (
            await session.scalars(
                sa.select(AuditEvent)
                .where(
                    AuditEvent.action == "read",
                    AuditEvent.record_type == "referral",
                    AuditEvent.record_id == referral["id"],
                )
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert len(reads) == 1
    (read,) = reads
    assert (read.actor_sub, read.actor_agency, read.actor_role) == (
        "practitioner-ann",
        "childrens_social_care",
        "mash_practitioner",
    )
    # Every child it names (and, in the hub's view, the siblings shown with them: here, each other).
    assert set(person_ids) <= set(read.details["person_ids"])
    assert read.details["person_ids"] == sorted(read.details["person_ids"])
    assert read.details["view"] == "full"
    assert read.request_id
    # No personal data in the trail: ids and codes only.
    assert "Okafor" not in str(read.details)


async def test_the_audit_chain_verifies_after_the_journey(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    referral = await create_referral(client, who["police"], referral_body(parental_consent=NOT_CONSENTED))
    await rate(client, who["practitioner"], referral["id"], "red")
    await override_consent(client, who["manager"], referral["id"])
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")

    await answer(client, who["health"], request["id"])
    await propose_and_approve(client, who["practitioner"], who["manager"], referral["id"])
    await get_referral(client, who["police"], referral["id"])
    await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])

    async with app.state.sessionmaker() as session:
        result = await verify_chain(session)
        actions = (
            await session.execute(
                sa.select(AuditEvent.action, AuditEvent.record_type).order_by(AuditEvent.seq)
            )
        ).all()
    assert result.valid, result
    assert result.checked == len(actions)
    assert ("create", "referral") in actions
    assert ("create", "contribution") in actions
    assert ("update", "threshold_decision") in actions
    assert ("read", "referral_timeline") in actions
