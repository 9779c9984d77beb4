"""Races that partner systems and hub staff really produce, as parallel requests on PostgreSQL, each
in its own transaction on its own pooled connection. SQLite takes one writer at a time (BEGIN
IMMEDIATE), so these races cannot happen there; they run on PostgreSQL only."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fixtures.callers import CHILDREN_SIDE, Caller, TokenFactory, Who, cast
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import (
    answer_body,
    ask,
    create_referral,
    etag_of,
    propose,
    rate,
    rated_referral,
    referral_body,
    review,
    unique_child,
)
from tests.fixtures.values import Body, Headers

pytestmark = pytest.mark.postgres


@pytest.fixture
def who(auth: TokenFactory) -> Who:
    """The children's side, with the police's auditor."""
    return cast(auth, CHILDREN_SIDE, auditor=Caller("auditor", "police", "auditor-eve"))


async def _chain_is_valid(client: httpx.AsyncClient, auditor: Headers) -> None:
    response = await client.get("/v1/audit-events/verification", headers=auditor)
    assert response.status_code == 200, response.text
    verification = response.json()
    assert verification["valid"] is True, verification
    assert verification["checked"] == verification["head_seq"] > 0


async def _post_until_answered(
    client: httpx.AsyncClient, headers: Headers, key: str, body: Body
) -> httpx.Response:
    """A partner system's retry loop: a 409 `idempotency_key_in_progress` means the first request with
    this key is still running, so wait as Retry-After says and send the same request again."""
    for _ in range(60):
        response = await client.post("/v1/referrals", json=body, headers={**headers, "Idempotency-Key": key})
        if response.status_code != 409:
            return response
        assert_problem(response, 409, "idempotency_key_in_progress")
        await asyncio.sleep(float(response.headers["retry-after"]))
    raise AssertionError("the key stayed in progress for a minute")


async def test_fifty_retrying_posts_with_one_key_make_one_referral_and_fifty_identical_answers(
    client: httpx.AsyncClient, who: Who
) -> None:
    body = referral_body(unique_child())
    answers = await asyncio.gather(
        *[_post_until_answered(client, who["police"], "ppu-incident-race", body) for _ in range(50)]
    )
    assert [a.status_code for a in answers] == [201] * 50, {a.status_code for a in answers}
    assert len({a.text for a in answers}) == 1, "every answer is the stored original"
    assert {a.headers["location"] for a in answers} == {f"/v1/referrals/{answers[0].json()['id']}"}
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    listed = await client.get("/v1/referrals", headers=who["police"])
    assert [r["id"] for r in listed.json()["items"]] == [answers[0].json()["id"]]
    await _chain_is_valid(client, who["auditor"])


async def test_twenty_patches_with_one_etag_let_exactly_one_win(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    url = f"/v1/referrals/{referral['id']}"
    etag = await etag_of(client, who["practitioner"], referral["id"])
    responses = await asyncio.gather(
        *[
            client.patch(
                url,
                json={"concern_summary": f"Update number {n} from the hub."},
                headers={**who["practitioner"], "If-Match": etag},
            )
            for n in range(20)
        ]
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    for loser in (r for r in responses if r.status_code != 200):
        assert_problem(loser, 412, "precondition_failed")
    now = await client.get(url, headers=who["practitioner"])
    assert now.json()["concern_summary"] == winners[0].json()["concern_summary"]
    assert now.headers["etag"] == winners[0].headers["etag"] != etag
    await _chain_is_valid(client, who["auditor"])


async def test_two_managers_approving_one_decision_at_once_one_wins(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    decision = await propose(client, who["practitioner"], referral["id"])
    first, second = await asyncio.gather(
        review(client, who["manager"], decision["id"]), review(client, who["manager2"], decision["id"])
    )
    assert sorted((first.status_code, second.status_code)) == [200, 409], [first.text, second.text]
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert_problem(loser, 409, "invalid_transition")
    fetched = await client.get(f"/v1/threshold-decisions/{decision['id']}", headers=who["practitioner"])
    assert (fetched.json()["status"], fetched.json()["reviewed_by"]) == (
        "approved",
        winner.json()["reviewed_by"],
    )
    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    assert [e["event_type"] for e in timeline.json()["items"]].count("decision.approved") == 1
    await _chain_is_valid(client, who["auditor"])


async def test_five_first_answers_to_one_request_at_once_one_is_the_answer(
    client: httpx.AsyncClient, who: Who
) -> None:
    # A partner system that sent its answer more than once (several of its workers, or retries without a
    # key): the request is locked while it is answered, so each later one finds it answered and is told so.
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    url = f"/v1/contributions/{request['id']}/response"
    responses = await asyncio.gather(
        *(
            client.post(url, json=answer_body(information=f"Sent by worker {n}."), headers=who["health"])
            for n in range(5)
        )
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in responses]
    for loser in (r for r in responses if r.status_code != 200):
        assert_problem(loser, 409, "already_responded")
    fetched = await client.get(f"/v1/contributions/{request['id']}", headers=who["practitioner"])
    assert fetched.json()["status"] == "submitted"
    assert fetched.json()["response"] == winners[0].json()["response"]
    assert fetched.json()["response"]["version"] == 1 and fetched.json()["versions"] == []
    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    assert [e["event_type"] for e in timeline.json()["items"]].count("contribution.submitted") == 1
    await _chain_is_valid(client, who["auditor"])
