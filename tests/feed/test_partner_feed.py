"""Two partner agencies poll the change feed from stored cursors while their referrals move through
their states: each sees exactly its own events, in order, with no gaps and no duplicates, including
across requests that fail and roll back."""

from __future__ import annotations

import httpx

from app.governance.feed.rules import EventType
from tests.fixtures import referrals
from tests.fixtures.adults import CLOSE, patch_concern, raise_concern
from tests.fixtures.callers import Who
from tests.fixtures.feed import Poller
from tests.fixtures.http import assert_problem
from tests.fixtures.values import Headers


async def _new_referral(client: httpx.AsyncClient, headers: Headers) -> str:
    """A referral of a child new to the hub, made by the caller: its id."""
    body = referrals.referral_body(referrals.unique_child())
    return str((await referrals.create_referral(client, headers, body))["id"])


async def test_two_agencies_each_see_exactly_their_own_events_in_order(
    client: httpx.AsyncClient, who: Who
) -> None:
    police = Poller(client, who["police"])
    health = Poller(client, who["health"])
    hub = Poller(client, who["practitioner"])
    adults = Poller(client, who["worker"])
    everyone = (police, health, hub, adults)
    for poller in everyone:
        assert await poller.poll() == []  # nothing yet; each stores its cursor

    p1, p2 = await _new_referral(client, who["police"]), await _new_referral(client, who["police"])
    h1, h2 = await _new_referral(client, who["health"]), await _new_referral(client, who["health"])
    for poller in everyone:
        await poller.poll()

    await referrals.rate(client, who["practitioner"], p1, "red")
    await referrals.rate(client, who["practitioner"], h1)
    await referrals.rate(client, who["practitioner"], p2, "green")
    await referrals.ask(client, who["practitioner"], p1, "education")
    # Health's referral asks the police too: the police see that request, and nothing else of it.
    police_request = next(
        c
        for c in await referrals.ask(client, who["practitioner"], h1, "education", "police")
        if c["agency"] == "police"
    )
    await police.poll()

    # Requests that fail after doing part of their work roll back whole, leaving no event behind.
    # A decision with contradicting CIN codes is refused after the referral was locked for it...
    refused = await client.post(
        f"/v1/referrals/{p1}/threshold-decisions",
        json=referrals.proposal_body(nfa=True),
        headers=who["practitioner"],
    )
    assert_problem(refused, 422, "validation_failed")
    # ... a stale If-Match after reading the referral ...
    stale = await client.patch(
        f"/v1/referrals/{p2}",
        json={"concern_summary": "Edited."},
        headers={**who["practitioner"], "If-Match": '"0"'},
    )
    assert stale.status_code == 412, stale.text
    # ... and an update that emitted its event (adult_concern.updated) and then broke a rule.
    concern = (await raise_concern(client, who["health"]))["id"]
    failed = await patch_concern(client, who["worker"], concern, {"adult_views": "Changed.", **CLOSE})
    assert_problem(failed, 409, "invalid_transition")

    await health.poll()
    await referrals.propose_and_approve(client, who["practitioner"], who["manager"], p1)
    # Health's first decision is returned, then a second one approved.
    returned = await referrals.propose(client, who["practitioner"], h1)
    response = await referrals.review(client, who["manager"], returned["id"], approved=False)
    assert response.status_code == 200, response.text
    answered = await client.post(
        f"/v1/contributions/{police_request['id']}/response",
        json={"information": "Two call-outs this year.", "risk_indicators": []},
        headers=who["police"],
    )
    assert answered.status_code == 200, answered.text
    await referrals.propose_and_approve(client, who["practitioner"], who["manager"], h1)
    for referral_id in (p2, h2):
        withdrawn = await referrals.withdraw(client, who["practitioner"], referral_id)
        assert withdrawn.status_code == 200, withdrawn.text
    for poller in everyone:
        await poller.poll()
        assert await poller.poll() == []  # caught up: polling again from the stored cursor finds nothing

    assert police.story() == [
        (p1, "referral.received", "received"),
        (p2, "referral.received", "received"),
        (p1, "referral.rated", "triaged"),
        (p2, "referral.rated", "triaged"),
        (p1, "contribution.requested", "gathering_information"),
        (h1, "contribution.requested", None),  # asked about health's referral
        (p1, "decision.proposed", "awaiting_approval"),
        (p1, "referral.decided", "decided"),
        (h1, "contribution.submitted", None),
        (p2, "referral.withdrawn", "withdrawn"),
    ]
    assert health.story() == [
        (h1, "referral.received", "received"),
        (h2, "referral.received", "received"),
        (h1, "referral.rated", "triaged"),
        (h1, "contribution.requested", "gathering_information"),  # one status change for two requests
        (concern, "adult_concern.received", "received"),
        (h1, "decision.proposed", "awaiting_approval"),
        (h1, "decision.returned", "gathering_information"),
        (h1, "decision.proposed", "awaiting_approval"),
        (h1, "referral.decided", "decided"),
        (h2, "referral.withdrawn", "withdrawn"),
    ]

    # What each partner sees of an event is what its part in the record lets it see.
    by_type = {(e["record_id"], e["event_type"]): e for e in police.seen}
    assert by_type[(p1, "referral.rated")]["data"] == {"rating": "red"}
    assert by_type[(p1, "referral.rated")]["actor"] == {
        "sub": None,
        "agency": "childrens_social_care",
        "role": None,
    }
    assert by_type[(p1, "referral.received")]["actor"] == {
        "sub": "police-system",
        "agency": "police",
        "role": "partner_referrer",
    }
    assert by_type[(p1, "contribution.requested")]["data"] == {}  # not who was asked
    assert by_type[(p1, "contribution.requested")]["view"] == "referrer"
    assert by_type[(p1, "decision.proposed")]["data"] == {}  # not the proposal
    assert by_type[(p1, "referral.decided")]["data"] == {"level": 3, "outcome": "child_and_family_assessment"}
    asked = by_type[(h1, "contribution.requested")]
    assert asked["view"] == "asked_agency"
    assert asked["data"]["contribution_id"] == police_request["id"]
    assert asked["data"]["agency"] == "police"
    assert by_type[(h1, "contribution.submitted")]["data"]["version"] == 1

    # No duplicates and in order, across every poll; the hub's side together has no gaps: every
    # event ever committed is seen by children's or adult social care, and no seq is missing.
    for poller in everyone:
        assert poller.seqs() == sorted(set(poller.seqs()))
        assert len({e["id"] for e in poller.seen}) == len(poller.seen)
    assert {e["record_type"] for e in hub.seen} == {"referral"}
    assert {e["record_type"] for e in adults.seen} == {"adult_concern"}
    every = sorted(hub.seqs() + adults.seqs())
    assert every == list(range(1, len(every) + 1))
    assert set(police.seqs()) | set(health.seqs()) <= set(every)
    # The failed requests left nothing: no proposal refused, no edit, no concern update.
    assert [e["event_type"] for e in adults.seen] == [
        "adult_concern.received",
        "adult.new_person",
    ]
    assert [e["event_type"] for e in hub.seen if e["record_id"] == p1].count("decision.proposed") == 1
    assert "referral.updated" not in {e["event_type"] for e in hub.seen}
    # The hub sees the whole story, including what partners do not: every request, the children.
    assert [e["data"]["agency"] for e in hub.seen if e["event_type"] == "contribution.requested"] == [
        "education",
        "education",
        "police",
    ]
    assert any(e["event_type"].startswith("child.") and e["data"]["person_id"] for e in hub.seen)
    # Every event the services emitted here has a row in the feed's table (else partners miss it).
    assert {e["event_type"] for e in hub.seen + adults.seen} <= {str(t) for t in EventType}


async def test_a_partner_resumes_from_its_cursor_after_others_changes(
    client: httpx.AsyncClient, who: Who
) -> None:
    """Events the police may not see do not hold back or repeat in its feed: its cursor moves past them."""
    police = Poller(client, who["police"])
    mine = await _new_referral(client, who["police"])
    assert [e["record_id"] for e in await police.poll()] == [mine]
    for _ in range(3):
        other = await _new_referral(client, who["health"])
        await referrals.rate(client, who["practitioner"], other)
        assert await police.poll() == []
    await referrals.rate(client, who["practitioner"], mine)
    assert [(e["record_id"], e["event_type"]) for e in await police.poll()] == [(mine, "referral.rated")]
