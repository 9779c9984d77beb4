"""The change feed and a record's own GET say the same thing to every caller: the feed holds events
about exactly the records the caller may read, through the view its GET shows, and the last status
the feed gave each record is the status its GET shows (a raiser with limited feedback is told
``decided`` in both); a referral's timeline holds the same events, showing the same, as the feed. Both ask the records' access modules; this holds them to each other on a seeded
set of referrals, concerns and plans in every state a partner can see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fixtures import referrals
from tests.fixtures.adults import (
    action,
    advocacy_body,
    decide,
    decision_body,
    get_concern,
    make_plan,
    open_enquiry,
    plan_body,
    raise_concern,
    record_advocacy,
)
from tests.fixtures.callers import ADULTS_SIDE, CALLERS, TokenFactory, Who, cast
from tests.fixtures.pathway import assessment_body, discussion_body, hold_discussion, start_assessment
from tests.fixtures.people import create_person
from tests.fixtures.values import Headers, today

READERS = ("police", "health", "education", "housing", "practitioner", "asc_worker")
PATHS = {
    "referral": "/v1/referrals/{}",
    "adult_concern": "/v1/adult-concerns/{}",
    "safeguarding_plan": "/v1/safeguarding-plans/{}",
}


@pytest.fixture
def who(auth: TokenFactory) -> Who:
    """Named as the adults' side names them ("manager" is adult social care's: ``concern_in`` calls on it)."""
    return cast(auth, ADULTS_SIDE, asc_worker=CALLERS["worker"])


async def seed(client: httpx.AsyncClient, who: Who) -> list[tuple[str, str]]:
    records: list[tuple[str, str]] = []
    # A police referral, health and education asked, health answered, decided.
    decided = await referrals.create_referral(
        client, who["police"], referrals.referral_body(referrals.unique_child())
    )
    await referrals.rate(client, who["practitioner"], decided["id"])
    health_request, _ = await referrals.ask(client, who["practitioner"], decided["id"], "health", "education")
    await referrals.answer(client, who["health"], health_request["id"])
    await referrals.propose_and_approve(client, who["practitioner"], who["mash_manager"], decided["id"])
    # The hub's work after the decision: events on the referral's stream that no partner is shown.
    full = await referrals.get_referral(client, who["practitioner"], decided["id"])
    await start_assessment(client, who["practitioner"], assessment_body(full, today().isoformat()))
    await hold_discussion(client, who["practitioner"], discussion_body(full, datetime.now(UTC).isoformat()))
    # A health referral on which the police were asked; an education referral nobody acted on.
    asked = await referrals.create_referral(
        client, who["health"], referrals.referral_body(referrals.unique_child())
    )
    await referrals.rate(client, who["practitioner"], asked["id"])
    await referrals.ask(client, who["practitioner"], asked["id"], "police")
    untouched = await referrals.create_referral(
        client, who["education"], referrals.referral_body(referrals.unique_child())
    )
    records += [("referral", r["id"]) for r in (decided, asked, untouched)]

    # Health's concern: an enquiry caused to the police and a plan with housing's and the police's actions.
    open_case = await raise_concern(client, who["health"])
    await decide(client, who["manager"], open_case["id"])
    await open_enquiry(client, who["asc_worker"], open_case["id"], caused_to_agency="police")
    assessed = await record_advocacy(
        client, who["asc_worker"], open_case["id"], advocacy_body(difficulty=False, offer="not_required")
    )
    assert assessed.status_code == 201, assessed.text
    adult = (await get_concern(client, who["asc_worker"], open_case["id"]))["adult"]["person_id"]
    plan = await make_plan(
        client,
        who["asc_worker"],
        plan_body(adult, action("housing"), action("police"), concern_id=open_case["id"]),
    )
    # The police's concern with its feedback limited, in enquiry; housing's, not yet decided.
    limited = await raise_concern(client, who["police"])
    await decide(
        client,
        who["manager"],
        limited["id"],
        decision_body(feedback_limited_reason="A police investigation of the son is under way."),
    )
    await open_enquiry(client, who["asc_worker"], limited["id"])
    waiting = await raise_concern(client, who["housing"])
    # A plan of its own for a person with no concern, with education's action.
    other = await create_person(client, who["asc_worker"])
    lone_plan = await make_plan(client, who["asc_worker"], plan_body(other["id"], action("education")))
    records += [("adult_concern", c["id"]) for c in (open_case, limited, waiting)]
    records += [("safeguarding_plan", p["id"]) for p in (plan, lone_plan)]
    return records


async def whole_feed(client: httpx.AsyncClient, headers: Headers) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = await client.get("/v1/events", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if "link" not in page.headers:
            return items


@pytest.mark.parametrize("reader", READERS)
async def test_the_feed_and_get_agree_on_what_each_caller_sees(
    client: httpx.AsyncClient, who: Who, reader: str
) -> None:
    records = await seed(client, who)
    feed = await whole_feed(client, who[reader])
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in feed:
        seen.setdefault((event["record_type"], event["record_id"]), []).append(event)
    assert set(seen) <= set(records), "the feed names a record outside the seeded set"

    for record in records:
        kind, record_id = record
        got = await client.get(PATHS[kind].format(record_id), headers=who[reader])
        events = seen.get(record, [])
        assert got.status_code in (200, 403, 404), got.text  # 403: a side whose scope it has not
        assert (got.status_code == 200) == bool(events), (reader, kind, got.status_code, len(events))
        if not events:
            continue
        body = got.json()
        assert body["view"] in {e["view"] for e in events}, (reader, kind, body["view"])
        statuses = [e["status"] for e in events if e["status"] is not None]
        if body.get("status") is not None and statuses:
            assert statuses[-1] == body["status"], (reader, kind, statuses, body["status"])
        if kind == "referral":
            await _timeline_agrees(client, who[reader], record_id, body["view"], events)


async def _timeline_agrees(
    client: httpx.AsyncClient, headers: Headers, referral_id: str, view: str, events: list[dict[str, Any]]
) -> None:
    """A referral's timeline is its events in the caller's feed, each showing the same: an agency only
    asked for information has none."""
    timeline = await client.get(f"/v1/referrals/{referral_id}/timeline", headers=headers)
    if view == "asked_agency":
        assert timeline.status_code == 404, timeline.text
        return
    assert timeline.status_code == 200, timeline.text
    shown = [(e["seq"], e["event_type"], e["actor"], e["data"]) for e in timeline.json()["items"]]
    assert shown == [(e["seq"], e["event_type"], e["actor"], e["data"]) for e in events], view
