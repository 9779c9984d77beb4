"""Information requests to agencies ("MASH checks"): asking, due times, answering once and correcting,
restriction, the inbox, and who sees which answer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import WorkingClock
from tests.fixtures.callers import Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, locs, ok
from tests.fixtures.referrals import (
    answer,
    answer_body,
    ask,
    ask_body,
    get_referral,
    rated_referral,
    referral_body,
)
from tests.fixtures.values import LONG_AGO, Body, Headers, dt, sql_id

# ---------------------------------------------------------------------------------------------------
# Asking


@pytest.mark.parametrize("rating", ["red", "amber", "green"])
async def test_a_request_is_due_by_the_rag_rating_no_later_than_the_decision(
    client: httpx.AsyncClient, who: Who, rating: str
) -> None:
    referral = await rated_referral(client, who, rating)
    response = await client.post(
        f"/v1/referrals/{referral['id']}/contribution-requests",
        json=ask_body("health", "education"),
        headers=who["practitioner"],
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/contributions?referral_id={referral['id']}"
    items = response.json()["items"]
    assert [c["agency"] for c in items] == ["health", "education"]
    decision_due = dt((await get_referral(client, who["practitioner"], referral["id"]))["decision_due_at"])
    for contribution in items:
        requested = dt(contribution["requested_at"])
        assert requested >= dt(referral["received_at"])
        due = dt(contribution["due_at"])
        target = WorkingClock().rag_due(requested, rating)
        assert target is not None
        # No later than the decision it informs: red's four hours from the request end after the
        # decision's four hours from receipt; amber's and green's after the one working day.
        assert due == decision_due < target
        if rating == "red":
            assert due == dt(referral["received_at"]) + timedelta(hours=4)
        assert contribution["status"] == "requested"
        assert contribution["overdue"] is False
        assert contribution["requested_by"] == "practitioner-ann"
        assert contribution["response"] is None
        assert contribution["versions"] == []
        assert contribution["restricted"] is False
    hub = await get_referral(client, who["practitioner"], referral["id"])
    assert hub["status"] == "gathering_information"


async def test_a_request_made_after_the_decision_fell_due_is_due_by_its_rag_target(
    app: FastAPI, client: httpx.AsyncClient, who: Who
) -> None:
    """A check due in the past would tell the agency nothing: once the decision is overdue, the RAG
    target counted from the request stands."""
    referral = await rated_referral(client, who, "amber")
    await run_sql(
        app, f"UPDATE referrals SET decision_due_at = '{LONG_AGO}' WHERE id = '{sql_id(referral['id'])}'"
    )
    [asked] = await ask(client, who["practitioner"], referral["id"], "health")
    assert dt(asked["due_at"]) == WorkingClock().rag_due(dt(asked["requested_at"]), "amber")
    assert asked["overdue"] is False


async def test_more_agencies_can_be_asked_while_gathering_information(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    await ask(client, who["practitioner"], referral["id"], "health")
    await ask(client, who["practitioner"], referral["id"], "education")
    listed = await client.get(f"/v1/referrals/{referral['id']}/contributions", headers=who["practitioner"])
    assert [c["agency"] for c in listed.json()["items"]] == ["health", "education"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param(ask_body("childrens_social_care"), ["body", "agencies"], id="the hub itself"),
        pytest.param(
            ask_body("health", "childrens_social_care"), ["body", "agencies"], id="the hub among others"
        ),
        pytest.param(ask_body("health", "police", "health"), ["body", "agencies"], id="repeated agency"),
        pytest.param(ask_body(), ["body", "agencies"], id="no agency"),
        pytest.param(ask_body("mi5"), ["body", "agencies", 0], id="unknown agency"),
        pytest.param({"agencies": ["health"]}, ["body", "question"], id="no question"),
        pytest.param({"agencies": ["health"], "question": ""}, ["body", "question"], id="empty question"),
        pytest.param(
            {**ask_body("health"), "due_at": "2030-01-01T00:00:00Z"}, ["body", "due_at"], id="extra"
        ),
    ],
)
async def test_an_invalid_request_is_refused(
    client: httpx.AsyncClient, who: Who, body: Body, loc: list[str | int]
) -> None:
    referral = await rated_referral(client, who)
    response = await client.post(
        f"/v1/referrals/{referral['id']}/contribution-requests", json=body, headers=who["practitioner"]
    )
    assert loc in locs(assert_problem(response, 422, "validation_failed"))
    listed = await client.get(f"/v1/referrals/{referral['id']}/contributions", headers=who["practitioner"])
    assert listed.json()["items"] == []


async def test_only_the_hub_asks_agencies(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    url = "/v1/referrals/{}/contribution-requests"
    response = await client.post(url.format(referral["id"]), json=ask_body("health"), headers=who["police"])
    assert_problem(response, 403, "insufficient_scope")
    missing = await client.post(
        url.format(uuid.uuid4()), json=ask_body("health"), headers=who["practitioner"]
    )
    assert_problem(missing, 404, "not_found")


# ---------------------------------------------------------------------------------------------------
# Answering


async def test_the_asked_agency_answers_once_then_corrects_keeping_the_earlier_version(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    url = f"/v1/contributions/{request['id']}/response"

    early_correction = await client.post(
        url, json=answer_body(correction_reason="Nothing to correct yet."), headers=who["health"]
    )
    assert ["body", "correction_reason"] in locs(assert_problem(early_correction, 422, "validation_failed"))

    first = await answer(
        client,
        who["health"],
        request["id"],
        information="One missed appointment.",
        risk_indicators=["missed"],
    )
    assert first["status"] == "submitted"
    assert first["response"]["version"] == 1
    assert first["response"]["information"] == "One missed appointment."
    assert first["response"]["risk_indicators"] == ["missed"]
    assert first["response"]["submitted_by"] == "health-system"
    assert first["response"]["correction_reason"] is None
    assert first["versions"] == []

    again = await client.post(
        url, json=answer_body(information="Two missed appointments."), headers=who["health"]
    )
    assert_problem(again, 409, "already_responded")

    corrected = await client.post(
        url,
        json=answer_body(
            information="Two missed appointments.", correction_reason="Miscounted the first time."
        ),
        headers=who["health"],
    )
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert body["status"] == "submitted"
    assert body["response"]["version"] == 2
    assert body["response"]["information"] == "Two missed appointments."
    assert body["response"]["correction_reason"] == "Miscounted the first time."
    assert [(v["version"], v["information"]) for v in body["versions"]] == [(1, "One missed appointment.")]

    third = await client.post(
        url,
        json=answer_body(information="Three.", correction_reason="Another appointment found."),
        headers=who["health"],
    )
    assert third.status_code == 200, third.text
    assert third.json()["response"]["version"] == 3
    assert [v["version"] for v in third.json()["versions"]] == [2, 1], "earlier versions, newest first"

    hub = await client.get(f"/v1/contributions/{request['id']}", headers=who["practitioner"])
    assert hub.json()["response"]["version"] == 3
    assert [v["version"] for v in hub.json()["versions"]] == [2, 1]

    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    kinds = [e["event_type"] for e in timeline.json()["items"] if e["event_type"].startswith("contribution.")]
    assert kinds == [
        "contribution.requested",
        "contribution.submitted",
        "contribution.corrected",
        "contribution.corrected",
    ]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param(answer_body(restricted=True), ["body"], id="restricted without a reason"),
        pytest.param(
            answer_body(restriction_reason="Live investigation."), ["body"], id="reason, not restricted"
        ),
        pytest.param(
            answer_body(restricted=False, restriction_reason="Live investigation."),
            ["body"],
            id="reason, restricted false",
        ),
        pytest.param({"risk_indicators": []}, ["body", "information"], id="no information"),
        pytest.param(answer_body(risk_indicators=[""]), ["body", "risk_indicators", 0], id="empty indicator"),
        pytest.param(answer_body(shared_with="everyone"), ["body", "shared_with"], id="unknown field"),
    ],
)
async def test_an_invalid_answer_is_refused(
    client: httpx.AsyncClient, who: Who, body: Body, loc: list[str | int]
) -> None:
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "police")
    response = await client.post(
        f"/v1/contributions/{request['id']}/response", json=body, headers=who["police"]
    )
    assert loc in locs(assert_problem(response, 422, "validation_failed"))
    seen = await client.get(f"/v1/contributions/{request['id']}", headers=who["police"])
    assert seen.json()["status"] == "requested"


async def test_only_the_asked_agency_can_answer(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    url = f"/v1/contributions/{request['id']}/response"
    # Another partner agency: as if the request did not exist (even one asked on the same referral).
    await ask(client, who["practitioner"], referral["id"], "education")
    for other in ("education", "housing", "police"):
        assert_problem(await client.post(url, json=answer_body(), headers=who[other]), 404, "not_found")
    # Hub staff read answers; they do not write them.
    assert_problem(
        await client.post(url, json=answer_body(), headers=who["practitioner"]), 403, "insufficient_scope"
    )
    missing = await client.post(
        f"/v1/contributions/{uuid.uuid4()}/response", json=answer_body(), headers=who["health"]
    )
    assert_problem(missing, 404, "not_found")
    seen = await client.get(f"/v1/contributions/{request['id']}", headers=who["health"])
    assert seen.json()["status"] == "requested"


# ---------------------------------------------------------------------------------------------------
# Restriction and who sees what


async def test_the_hub_sees_every_answer_and_which_are_restricted(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    requests = {
        c["agency"]: c for c in await ask(client, who["practitioner"], referral["id"], "police", "health")
    }
    restricted = await answer(
        client,
        who["police"],
        requests["police"]["id"],
        information="Intelligence: the father is under investigation.",
        restricted=True,
        restriction_reason="Disclosure would prejudice a live investigation.",
    )
    assert restricted["restricted"] is True
    assert restricted["response"]["restricted"] is True
    assert restricted["response"]["restriction_reason"] == "Disclosure would prejudice a live investigation."
    await answer(client, who["health"], requests["health"]["id"])

    hub = await client.get(f"/v1/referrals/{referral['id']}/contributions", headers=who["practitioner"])
    assert hub.status_code == 200, hub.text
    shown = {c["agency"]: c for c in hub.json()["items"]}
    assert set(shown) == {"police", "health"}
    assert shown["police"]["restricted"] is True
    assert shown["police"]["response"]["information"] == "Intelligence: the father is under investigation."
    assert shown["health"]["restricted"] is False

    # The police made this referral, and were asked: they see their own answer only.
    police = await client.get(f"/v1/referrals/{referral['id']}/contributions", headers=who["police"])
    assert [c["agency"] for c in police.json()["items"]] == ["police"]
    health = await client.get(f"/v1/referrals/{referral['id']}/contributions", headers=who["health"])
    assert [c["agency"] for c in health.json()["items"]] == ["health"]
    peek = await client.get(f"/v1/contributions/{requests['police']['id']}", headers=who["health"])
    assert_problem(peek, 404, "not_found")


async def test_a_correction_can_restrict_an_answer(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "police")
    await answer(client, who["police"], request["id"])
    corrected = await answer(
        client,
        who["police"],
        request["id"],
        information="On reflection: an ongoing investigation.",
        restricted=True,
        restriction_reason="Live investigation.",
        correction_reason="Intelligence added.",
    )
    assert corrected["restricted"] is True
    assert corrected["versions"][0]["restricted"] is False
    hub = await client.get(f"/v1/contributions/{request['id']}", headers=who["practitioner"])
    assert hub.json()["restricted"] is True


# ---------------------------------------------------------------------------------------------------
# The inbox


async def _inbox(client: httpx.AsyncClient, headers: Headers, **params: str) -> list[Body]:
    items: list[Body] = ok(await client.get("/v1/contributions", params=params, headers=headers))["items"]
    return items


async def test_the_inbox_filters_and_each_agency_sees_only_its_own(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    one = await rated_referral(client, who)
    two = await rated_referral(client, who, "red")
    health_one, education_one = await ask(client, who["practitioner"], one["id"], "health", "education")
    (health_two,) = await ask(client, who["practitioner"], two["id"], "health")
    await answer(client, who["health"], health_one["id"])

    def ids(items: list[Body]) -> set[str]:
        return {c["id"] for c in items}

    assert ids(await _inbox(client, who["health"])) == {health_one["id"], health_two["id"]}
    assert ids(await _inbox(client, who["health"], status="requested")) == {health_two["id"]}
    assert ids(await _inbox(client, who["health"], status="submitted")) == {health_one["id"]}
    assert ids(await _inbox(client, who["education"])) == {education_one["id"]}
    assert ids(await _inbox(client, who["police"])) == set()
    # Another agency's requests cannot be listed by asking for them.
    assert ids(await _inbox(client, who["education"], agency="health")) == set()
    assert ids(await _inbox(client, who["health"], referral_id=one["id"])) == {health_one["id"]}
    # The hub sees every request.
    assert ids(await _inbox(client, who["practitioner"])) == {
        health_one["id"],
        education_one["id"],
        health_two["id"],
    }
    assert ids(await _inbox(client, who["practitioner"], agency="health")) == {
        health_one["id"],
        health_two["id"],
    }

    # Overdue: unanswered and past due. An answered request is never overdue.
    assert await _inbox(client, who["health"], overdue="true") == []
    await run_sql(
        app,
        f"UPDATE contributions SET due_at = '{LONG_AGO}' WHERE id IN "
        f"('{sql_id(health_one['id'])}', '{sql_id(health_two['id'])}', '{sql_id(education_one['id'])}')",
    )
    overdue = await _inbox(client, who["health"], overdue="true")
    assert ids(overdue) == {health_two["id"]}
    assert overdue[0]["overdue"] is True
    assert ids(await _inbox(client, who["health"], overdue="false")) == {health_one["id"]}
    assert ids(await _inbox(client, who["education"], overdue="true")) == {education_one["id"]}
    assert ids(await _inbox(client, who["practitioner"], overdue="true")) == {
        health_two["id"],
        education_one["id"],
    }
    assert ids(await _inbox(client, who["health"], overdue="true", status="submitted")) == set()


async def test_the_inbox_shows_the_children_and_question_but_not_the_story(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    await ask(client, who["practitioner"], referral["id"], "health")
    (item,) = await _inbox(client, who["health"])
    assert item["question"] == ask_body()["question"]
    assert [c["family_name"] for c in item["children"]] == [referral["children"][0]["family_name"]]
    assert "concern_summary" not in item
    assert referral_body()["concern_summary"] not in str(item)


@pytest.mark.parametrize("params", [{"status": "answered"}, {"overdue": "soon"}, {"agency": "mi5"}])
async def test_a_bad_inbox_filter_is_refused(
    client: httpx.AsyncClient, who: Who, params: dict[str, str]
) -> None:
    response = await client.get("/v1/contributions", params=params, headers=who["health"])
    assert ["query", next(iter(params))] in locs(assert_problem(response, 422, "validation_failed"))


async def test_the_inbox_is_paginated(client: httpx.AsyncClient, who: Who) -> None:
    for _ in range(3):
        referral = await rated_referral(client, who)
        await ask(client, who["practitioner"], referral["id"], "health")
    first = await client.get("/v1/contributions", params={"limit": 2}, headers=who["health"])
    assert len(first.json()["items"]) == 2
    cursor = first.json()["next_cursor"]
    assert cursor
    rest = await client.get("/v1/contributions", params={"limit": 2, "cursor": cursor}, headers=who["health"])
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    seen = [c["id"] for c in first.json()["items"] + rest.json()["items"]]
    assert len(set(seen)) == 3
