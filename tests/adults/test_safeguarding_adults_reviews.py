"""Safeguarding adults reviews (Care Act 2014 s44): referred, decided against the criteria (commissioned, or
considered and not commissioned, with the rationale), completed with findings and actions; the advocacy
duty applies as for an enquiry; adult social care's alone (anyone else 404, audited)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures import adults as fx
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs
from tests.fixtures.values import Body

URL = "/v1/safeguarding-adults-reviews"
MANDATORY: Body = {
    "criteria": "mandatory",
    "decision_on": "2026-11-20",
    "rationale": "She died after neglect known to three agencies that did not share it.",
    "commissioned": True,
    "commissioned_on": "2026-11-27",
}
NOT_COMMISSIONED: Body = {
    "criteria": "discretionary",
    "decision_on": "2026-11-20",
    "rationale": "The learning is already in hand through the provider's own review.",
    "commissioned": False,
}
COMPLETION: Body = {
    "completed_on": "2027-05-28",
    "findings": "No agency held the whole picture of her care.",
    "actions": [{"agency": "health", "description": "Share safeguarding concerns with ASC within a day."}],
}


def referral(case: fx.Case, **fields: Any) -> Body:
    return {
        "person_id": case.person_id,
        "concern_ids": [case.id],
        "referred_on": "2026-11-10",
        "adult_died": True,
        **fields,
    }


async def refer(client: httpx.AsyncClient, who: Who, body: Body) -> httpx.Response:
    return await client.post(URL, json=body, headers=who["manager"])


async def patch(client: httpx.AsyncClient, who: Who, review_id: str, body: Body, etag: str) -> httpx.Response:
    return await client.patch(f"{URL}/{review_id}", json=body, headers={**who["manager"], "If-Match": etag})


async def test_referred_decided_commissioned_completed(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "enquiry_concluded")
    response = await refer(client, who, referral(case))
    assert response.status_code == 201, response.text
    review = response.json()
    assert response.headers["location"] == f"{URL}/{review['id']}"
    assert (review["status"], review["criteria"], review["commissioned"]) == ("referred", None, None)

    decided = await patch(client, who, review["id"], MANDATORY, response.headers["etag"])
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["commissioned"]) == ("commissioned", True)
    # Decided once.
    again = await patch(client, who, review["id"], NOT_COMMISSIONED, decided.headers["etag"])
    assert_problem(again, 409, "invalid_transition")

    completed = await patch(client, who, review["id"], COMPLETION, decided.headers["etag"])
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert (body["status"], body["completed_on"], body["findings"]) == (
        "completed",
        "2027-05-28",
        COMPLETION["findings"],
    )
    assert body["actions"] == [{**COMPLETION["actions"][0], "due_date": None}]
    found = await client.get(f"{URL}/{review['id']}", headers=who["worker"])
    assert found.json() == body and found.headers["etag"] == completed.headers["etag"]
    # A completed review changes no more.
    late = await patch(client, who, review["id"], {"findings": "More."}, completed.headers["etag"])
    assert_problem(late, 409, "invalid_transition")


async def test_considered_but_not_commissioned(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "enquiry_concluded")
    response = await refer(client, who, referral(case, adult_died=False, **NOT_COMMISSIONED))
    assert response.status_code == 201, response.text
    review = response.json()
    assert (review["status"], review["criteria"], review["commissioned"], review["rationale"]) == (
        "not_commissioned",
        "discretionary",
        False,
        NOT_COMMISSIONED["rationale"],
    )
    listed = await client.get(URL, params={"status": "not_commissioned"}, headers=who["worker"])
    assert [r["id"] for r in listed.json()["items"]] == [review["id"]]
    # Not commissioned is final: it does not complete, nor change.
    completing = await patch(client, who, review["id"], COMPLETION, response.headers["etag"])
    assert_problem(completing, 409, "invalid_transition")


@pytest.mark.parametrize(
    ("decision", "loc"),
    [
        ({**MANDATORY, "commissioned": False, "commissioned_on": None}, "commissioned"),
        ({**NOT_COMMISSIONED, "criteria": "not_met", "commissioned": True, "commissioned_on": "2026-11-27"},
         "commissioned"),
        ({**MANDATORY, "commissioned_on": None}, "commissioned_on"),
        ({**NOT_COMMISSIONED, "commissioned_on": "2026-11-27"}, "commissioned_on"),
        ({**MANDATORY, "decision_on": "2026-11-01"}, "decision_on"),
        ({**MANDATORY, "commissioned_on": "2026-11-19"}, "commissioned_on"),
        ({"criteria": "mandatory", "decision_on": "2026-11-20"}, "rationale"),
    ],
    ids=["mandatory must commission", "not met does not", "commissioned when", "not commissioned has no date",
         "decided before referred", "commissioned before decided", "decision is whole"],
)  # fmt: skip
async def test_the_decision_follows_the_statute(
    client: httpx.AsyncClient, who: Who, decision: Body, loc: str
) -> None:
    case = await fx.concern_in(client, who, "received")
    body = {k: v for k, v in referral(case, **decision).items() if v is not None}
    response = await refer(client, who, body)
    problem = assert_problem(response, 422, "validation_failed")
    assert locs(problem) == [["body", loc]]


async def test_completion_needs_findings_and_a_commissioned_review(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "received")
    referred = await refer(client, who, referral(case))
    early = await patch(client, who, referred.json()["id"], COMPLETION, referred.headers["etag"])
    assert_problem(early, 409, "invalid_transition")
    commissioned = await refer(client, who, referral(case, **MANDATORY))
    no_findings = await patch(
        client, who, commissioned.json()["id"], {"completed_on": "2027-05-28"}, commissioned.headers["etag"]
    )
    assert locs(assert_problem(no_findings, 422, "validation_failed")) == [["body", "findings"]]
    before = await patch(
        client, who, commissioned.json()["id"], {**COMPLETION, "completed_on": "2026-11-26"},
        commissioned.headers["etag"],
    )  # fmt: skip
    assert locs(assert_problem(before, 422, "validation_failed")) == [["body", "completed_on"]]


async def test_if_match_is_required(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "received")
    created = await refer(client, who, referral(case))
    url = f"{URL}/{created.json()['id']}"
    missing = await client.patch(url, json=MANDATORY, headers=who["manager"])
    assert_problem(missing, 428, "precondition_required")
    assert_problem(
        await patch(client, who, created.json()["id"], MANDATORY, '"9"'), 412, "precondition_failed"
    )


async def test_an_advocate_the_adult_needs_must_be_arranged_before_completion(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "received")
    created = await refer(
        client, who, referral(case, **MANDATORY, advocacy=fx.advocacy_body(offer="offered"))
    )
    review = created.json()
    assert review["advocacy"]["required"] is True and review["advocacy"]["advocate_outstanding"] is True
    blocked = await patch(client, who, review["id"], COMPLETION, created.headers["etag"])
    assert_problem(blocked, 409, "advocate_required")
    advocate = await fx.register_advocate(client, who["worker"], kind="care_act")
    appointed = await patch(
        client, who, review["id"], {"advocacy": fx.advocacy_body(offer="accepted", advocate_id=advocate["id"])},
        created.headers["etag"],
    )  # fmt: skip
    assert appointed.json()["advocacy"]["advocate_outstanding"] is False
    done = await patch(client, who, review["id"], COMPLETION, appointed.headers["etag"])
    assert done.status_code == 200, done.text


async def test_an_appropriate_person_needs_consent_or_a_best_interests_decision(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "received")
    no_consent = fx.advocacy_body(difficulty=True, appropriate_person=True, offer="not_required")
    del no_consent["appropriate_person_consent"]
    response = await refer(client, who, referral(case, advocacy=no_consent))
    assert_problem(response, 422, "validation_failed")
    # Best interests: the decision must be about this adult.
    other = await fx.concern_in(client, who, "received")
    assessment = await fx.assess(client, who["worker"], fx.assessment_body(other.person_id))
    decision = await fx.decide_best_interests(
        client, who["worker"], assessment["id"], fx.best_interests_body()
    )
    best_interests = {**no_consent, "appropriate_person_consent": "lacks_capacity_best_interests",
                      "best_interests_decision_id": decision["id"]}  # fmt: skip
    wrong_person = await refer(client, who, referral(case, advocacy=best_interests))
    assert locs(assert_problem(wrong_person, 422, "validation_failed")) == [
        ["body", "advocacy", "best_interests_decision_id"]
    ]
    right = await refer(client, who, referral(other, advocacy=best_interests))
    assert right.status_code == 201, right.text
    assert right.json()["advocacy"]["required"] is False


async def test_adult_social_care_only(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "received")
    created = (await refer(client, who, referral(case))).json()
    for caller in ("health", "police"):
        assert_problem(await client.get(f"{URL}/{created['id']}", headers=who[caller]), 404, "not_found")
        listed = await client.get(URL, headers=who[caller])
        assert listed.json()["items"] == []
    assert_problem(await client.get(f"{URL}/{uuid.uuid4()}", headers=who["worker"]), 404, "not_found")
    # The practitioner reads; only a manager (adult_concerns:decide) refers and decides.
    assert (await client.get(f"{URL}/{created['id']}", headers=who["worker"])).status_code == 200
    assert_problem(
        await client.post(URL, json=referral(case), headers=who["worker"]), 403, "insufficient_scope"
    )


async def test_the_person_and_concerns_must_exist_and_match(client: httpx.AsyncClient, who: Who) -> None:
    case = await fx.concern_in(client, who, "received")
    other = await fx.concern_in(client, who, "received")
    unknown = await refer(client, who, referral(case, person_id=str(uuid.uuid4())))
    assert locs(assert_problem(unknown, 422, "validation_failed")) == [["body", "person_id"]]
    mismatched = await refer(client, who, referral(case, concern_ids=[case.id, other.id]))
    assert locs(assert_problem(mismatched, 422, "validation_failed")) == [["body", "concern_ids", 1]]
