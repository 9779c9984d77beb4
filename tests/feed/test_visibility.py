"""Who sees which event on the change feed, and what of it: the hub its whole side, a partner only
through its part in a record (referrer, asked agency, raiser, action owner), and nobody else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures import adults as fx
from tests.fixtures.adults import action as plan_action
from tests.fixtures.callers import Who
from tests.fixtures.feed import Event, read_all
from tests.fixtures.referrals import answer, ask, create_referral, rate, referral_body, unique_child, withdraw
from tests.fixtures.values import Headers

LIMITED = "Telling the GP would alert the son, who is with her at appointments."


@pytest.fixture
def who(adult_who: Who) -> Who:
    """Named as the adults' side names them: "manager" is adult social care's (``concern_in`` calls on it)."""
    return adult_who


async def events(http: httpx.AsyncClient, headers: Headers, **params: Any) -> list[Event]:
    found, _ = await read_all(http, headers, **params)
    return found


def story(found: list[Event], record_id: str | None = None) -> list[tuple[str, str | None]]:
    return [(e["event_type"], e["status"]) for e in found if record_id is None or e["record_id"] == record_id]


def no_hub_ids(found: list[Event]) -> None:
    """A partner's events never carry the hub's person ids."""
    for event in found:
        assert "person_id" not in event["data"], event


# ---------------------------------------------------------------------------------------------------
# Adult concerns: the raising agency


async def test_the_raiser_sees_its_concerns_status_changes_and_the_decision(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "closed")
    seen = await events(client, who["health"])
    assert story(seen) == [
        ("adult_concern.received", "received"),
        ("adult_concern.decided", "decided"),
        ("enquiry.opened", "enquiry_open"),
        ("enquiry.concluded", "enquiry_concluded"),
        ("adult_concern.closed", "closed"),
    ]
    assert {e["record_id"] for e in seen} == {case.id}
    assert {e["view"] for e in seen} == {"raiser"}
    data = {e["event_type"]: e["data"] for e in seen}
    assert data["adult_concern.received"] == {
        "allegations": 2,
        "types_of_risk": sorted(["financial_or_material", "neglect_and_acts_of_omission"]),
    }
    assert data["adult_concern.decided"] == {"decision": "section_42_enquiry"}
    assert data["enquiry.opened"] == {}  # not who leads it
    no_hub_ids(seen)
    # Adult social care sees the whole case: the match, the advocacy assessment, every detail.
    full = await events(client, who["worker"])
    assert [e["event_type"] for e in full] == [
        "adult_concern.received",
        "adult.new_person",
        "adult_concern.decided",
        "enquiry.opened",
        "advocacy.recorded",
        "enquiry.concluded",
        "adult_concern.closed",
    ]
    assert {e["view"] for e in full} == {"full"}
    assert full[1]["data"]["person_id"] == case.person_id
    assert full[2]["data"] == {"decision": "section_42_enquiry", "feedback_limited": False}
    assert full[2]["actor"] == {"sub": "asc-manager", "agency": "adult_social_care", "role": "asc_manager"}


async def test_limited_feedback_withholds_every_event_that_tells_the_decision(
    client: httpx.AsyncClient, who: Who
) -> None:
    open_case = await fx.raise_concern(client, who["health"])
    limited = await fx.raise_concern(client, who["health"])
    for concern, reason in ((open_case, None), (limited, LIMITED)):
        body = fx.decision_body()
        if reason is not None:
            body["feedback_limited_reason"] = reason
        await fx.decide(client, who["manager"], concern["id"], body)
        await fx.open_enquiry(client, who["worker"], concern["id"])
        assessed = await fx.record_advocacy(
            client, who["worker"], concern["id"], fx.advocacy_body(difficulty=False, offer="not_required")
        )
        assert assessed.status_code == 201, assessed.text
        case = await fx.get_concern(client, who["worker"], concern["id"])
        allegations = [a["id"] for a in case["allegations"]]
        concluded = await fx.conclude(
            client, who["manager"], case["enquiry_id"], fx.conclusion_body(allegations)
        )
        assert concluded.status_code == 200, concluded.text
        closed = await fx.patch_concern(client, who["worker"], concern["id"], fx.CLOSE)
        assert closed.status_code == 200, closed.text

    seen = await events(client, who["health"])
    # That the concern was decided, never which decision nor the enquiry (api.md, "Feedback limited").
    assert story(seen, limited["id"]) == [
        ("adult_concern.received", "received"),
        ("adult_concern.decided", "decided"),
        ("adult_concern.closed", "closed"),
    ]
    [told] = [
        e for e in seen if e["record_id"] == limited["id"] and e["event_type"] == "adult_concern.decided"
    ]
    assert told["data"] == {}
    assert len(story(seen, open_case["id"])) == 5
    # The raiser's own view of the concern agrees: no feedback, marked limited.
    assert (await fx.get_concern(client, who["health"], limited["id"]))["feedback"] is None
    # Adult social care still sees everything that happened on the limited concern.
    full = await events(client, who["worker"], record_type="adult_concern")
    decided = [
        e for e in full if e["record_id"] == limited["id"] and e["event_type"] == "adult_concern.decided"
    ]
    assert decided[0]["data"]["feedback_limited"] is True


async def test_an_agency_that_did_not_raise_a_concern_sees_none_of_it(
    client: httpx.AsyncClient, who: Who
) -> None:
    await fx.concern_in(client, who, "enquiry_concluded")
    for agency in ("police", "education", "practitioner"):
        assert await events(client, who[agency]) == []


# ---------------------------------------------------------------------------------------------------
# Safeguarding plans: the agencies that own actions


async def test_action_owners_see_their_plans_and_only_their_own_actions(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "enquiry_open")
    plan = await fx.make_plan(
        client,
        who["worker"],
        fx.plan_body(case.person_id, plan_action("police"), plan_action("housing"), concern_id=case.id),
    )
    actions = {a["agency"]: a for a in plan["actions"]}
    for agency in ("police", "housing"):
        item = actions[agency]
        updated = await client.patch(
            f"/v1/safeguarding-plans/{plan['id']}/actions/{item['id']}",
            json={"status": "in_progress"},
            headers={**who[agency], "If-Match": item["etag"]},
        )
        assert updated.status_code == 200, updated.text
    amended = await client.patch(
        f"/v1/safeguarding-plans/{plan['id']}",
        json={"contingency": "Her daughter calls the duty team."},
        headers={**who["worker"], "If-Match": await fx.plan_etag(client, who["worker"], plan["id"])},
    )
    assert amended.status_code == 200, amended.text
    reviewed = await fx.review_plan(client, who["worker"], plan["id"], fx.review_body())
    assert reviewed.status_code == 201, reviewed.text
    closed = await fx.review_plan(client, who["worker"], plan["id"], fx.review_body("close"))
    assert closed.status_code == 201, closed.text
    # A plan with no concern is on a stream of its own; its action owner sees it all the same.
    solo = await fx.make_plan(client, who["worker"], fx.plan_body(case.person_id, plan_action("police")))

    police = await events(client, who["police"])
    assert [(e["record_id"], e["event_type"], e["status"]) for e in police] == [
        (plan["id"], "plan.created", "active"),
        (plan["id"], "plan.action_updated", None),
        (plan["id"], "plan.amended", None),
        (plan["id"], "plan.closed", "closed"),
        (solo["id"], "plan.created", "active"),
    ]
    assert {(e["record_type"], e["view"]) for e in police} == {("safeguarding_plan", "action_owner")}
    assert police[0]["data"] == {"plan_id": plan["id"]}  # not which other agencies have actions
    assert police[1]["data"] == {
        "plan_id": plan["id"],
        "action_id": actions["police"]["id"],
        "agency": "police",
        "status": "in_progress",
    }
    assert police[1]["actor"] == {"sub": "police-system", "agency": "police", "role": "partner_referrer"}
    housing = await events(client, who["housing"])
    assert [e["data"].get("action_id") for e in housing if e["event_type"] == "plan.action_updated"] == [
        actions["housing"]["id"]
    ]
    assert solo["id"] not in {e["record_id"] for e in housing}
    # The concern's raiser does not own an action: the plan is not its to see.
    assert {e["record_type"] for e in await events(client, who["health"])} == {"adult_concern"}
    # Adult social care sees every plan event, named by the plan, with the concern it hangs off.
    full = [e for e in await events(client, who["worker"]) if e["record_type"] == "safeguarding_plan"]
    assert [e["event_type"] for e in full] == [
        "plan.created",
        "plan.action_updated",
        "plan.action_updated",
        "plan.amended",
        "plan.reviewed",
        "plan.reviewed",
        "plan.closed",
        "plan.created",
    ]
    assert full[0]["data"]["concern_id"] == case.id
    assert full[0]["data"]["action_agencies"] == ["housing", "police"]
    assert "concern_id" not in full[-1]["data"]


# ---------------------------------------------------------------------------------------------------
# Referrals: the agencies asked for information


async def test_an_asked_agency_sees_the_requests_of_it_and_their_cancellation(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = (await create_referral(client, who["police"], referral_body(unique_child())))["id"]
    await rate(client, who["practitioner"], referral)
    requests = {
        c["agency"]: c for c in await ask(client, who["practitioner"], referral, "education", "health")
    }
    await answer(client, who["health"], requests["health"]["id"])
    withdrawn = await withdraw(client, who["practitioner"], referral)
    assert withdrawn.status_code == 200, withdrawn.text

    education = await events(client, who["education"])
    assert [(e["event_type"], e["view"], e["status"]) for e in education] == [
        ("contribution.requested", "asked_agency", None),
        ("referral.withdrawn", "asked_agency", None),
    ]
    assert education[0]["data"] == {
        "contribution_id": requests["education"]["id"],
        "agency": "education",
        "due_at": education[0]["data"]["due_at"],
    }
    assert education[0]["actor"] == {"sub": None, "agency": "childrens_social_care", "role": None}
    assert education[1]["data"] == {"cancelled_contribution_ids": [requests["education"]["id"]]}
    # Health had answered: its request was not cancelled, so the withdrawal is not its business.
    health = await events(client, who["health"])
    assert [(e["event_type"], e["data"]["contribution_id"]) for e in health] == [
        ("contribution.requested", requests["health"]["id"]),
        ("contribution.submitted", requests["health"]["id"]),
    ]
    # The referrer sees one move to gathering_information, and none of the agencies' answers.
    assert story(await events(client, who["police"])) == [
        ("referral.received", "received"),
        ("referral.rated", "triaged"),
        ("contribution.requested", "gathering_information"),
        ("referral.withdrawn", "withdrawn"),
    ]
    # An agency with no part in the referral sees nothing of it.
    assert await events(client, who["probation"]) == []


async def test_a_referrer_asked_about_its_own_referral_sees_both_parts(
    client: httpx.AsyncClient, who: Who
) -> None:
    """The police refer, then are asked for police checks on the same referral: they see its status
    changes as the referrer and their own requests as the asked agency, in the same events."""
    first = (await create_referral(client, who["police"], referral_body(unique_child())))["id"]
    await rate(client, who["practitioner"], first)
    mine = next(c for c in await ask(client, who["practitioner"], first, "police") if c["agency"] == "police")
    second = (await create_referral(client, who["police"], referral_body(unique_child())))["id"]
    await rate(client, who["practitioner"], second)
    later = {c["agency"]: c for c in await ask(client, who["practitioner"], second, "education", "police")}
    for referral in (first, second):
        withdrawn = await withdraw(client, who["practitioner"], referral)
        assert withdrawn.status_code == 200, withdrawn.text

    seen = await events(client, who["police"], event_type=["contribution.requested", "referral.withdrawn"])
    assert [(e["record_id"], e["event_type"], e["view"], e["status"], e["data"]) for e in seen] == [
        (
            first,
            "contribution.requested",
            "referrer",
            "gathering_information",
            {"contribution_id": mine["id"], "agency": "police", "due_at": seen[0]["data"]["due_at"]},
        ),
        (second, "contribution.requested", "referrer", "gathering_information", {}),  # education's
        (
            second,
            "contribution.requested",
            "asked_agency",
            None,
            {
                "contribution_id": later["police"]["id"],
                "agency": "police",
                "due_at": seen[2]["data"]["due_at"],
            },
        ),
        (first, "referral.withdrawn", "referrer", "withdrawn", {"cancelled_contribution_ids": [mine["id"]]}),
        (
            second,
            "referral.withdrawn",
            "referrer",
            "withdrawn",
            {"cancelled_contribution_ids": [later["police"]["id"]]},
        ),
    ]


async def test_hub_roles_see_everything_on_their_side_and_nothing_on_the_other(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = (await create_referral(client, who["police"], referral_body(unique_child())))["id"]
    await rate(client, who["practitioner"], referral)
    consent = await client.post(
        f"/v1/referrals/{referral}/communications",
        json={"audience": "referrer", "method": "phone", "summary": "Told PC Dawson it is rated amber."},
        headers=who["practitioner"],
    )
    assert consent.status_code == 201, consent.text
    concern = await fx.raise_concern(client, who["health"], fx.concern_body())

    children = await events(client, who["practitioner"])
    assert children == await events(client, who["mash_manager"])
    assert [e["event_type"] for e in children] == [
        "referral.received",
        "child.new_person",
        "referral.rated",
        "communication.recorded",
        "referral.acknowledged",  # the first contact with the referrer
    ]
    assert {(e["record_id"], e["view"]) for e in children} == {(referral, "full")}
    assert children[3]["data"]["audience"] == "referrer"
    assert children[2]["actor"] == {
        "sub": "practitioner-ann",
        "agency": "childrens_social_care",
        "role": "mash_practitioner",
    }

    adults = await events(client, who["worker"])
    assert adults == await events(client, who["manager"])
    assert {(e["record_id"], e["view"]) for e in adults} == {(concern["id"], "full")}
    # Together the two sides are every event, with no seq missing.
    seqs = sorted(e["seq"] for e in children + adults)
    assert seqs == list(range(1, len(seqs) + 1))


# ---------------------------------------------------------------------------------------------------
# Records from the public's front door (app.public)

_PUBLIC_RAISER = "Jo Feedwatcher"


async def test_a_public_concern_is_on_its_hubs_feed_as_the_public_and_on_no_partners(
    client: httpx.AsyncClient, who: Who
) -> None:
    body = fx.public_concern_body(
        {"given_name": "Ivy", "family_name": "Feedpublic", "approximate_age": 90},
        {"relationship": "family", "name": _PUBLIC_RAISER, "email": "jo@example.org"},
        what_happened="Bruises on her arms after the carers' visits.",
        types_of_risk=["physical"],
        adult_knows="no",
    )
    posted = await client.post("/public/v1/adult-concerns", json=body)
    assert posted.status_code == 201, posted.text
    concern_id = posted.headers["location"].rsplit("/", 1)[1]

    hub = await events(client, who["worker"])
    assert story(hub, concern_id) == [("adult_concern.received", "received"), ("adult.new_person", None)]
    assert {e["actor"]["sub"] for e in hub if e["record_id"] == concern_id} == {"public"}
    # The feed carries ids and codes: not the raiser, not the adult's name.
    assert _PUBLIC_RAISER not in str(hub) and "Feedpublic" not in str(hub)
    for partner in ("health", "police", "education"):
        assert [e for e in await events(client, who[partner]) if e["record_id"] == concern_id] == []
