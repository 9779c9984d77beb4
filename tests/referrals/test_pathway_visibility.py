"""Who sees the work after the decision: assessments, strategy discussions, section 47 enquiries and
conferences are children's social care's own. Their events are on the referral's timeline and the
change feed for the hub only; a partner asking for one by id is told 404, and that is audited; the
child's subject access export gives them on the children's side, to the hub and to information
governance, never to adult social care."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.fixtures import pathway
from tests.fixtures.callers import Who
from tests.fixtures.feed import read_all
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.values import Body

RECEIVED = "2025-11-10T10:00:00Z"
PATHWAY_EVENTS = [
    "assessment.started",
    "assessment.completed",
    "strategy_discussion.held",
    "section_47.started",
    "section_47.concluded",
    "conference.held",
]


async def _pathway(client: httpx.AsyncClient, app: FastAPI, who: Who) -> dict[str, Body]:
    """A referral decided for a strategy discussion, its child assessed (ending in a strategy discussion),
    a section 47 enquiry and a conference that makes a plan."""
    referral = await pathway.accepted_referral(client, app, who, RECEIVED, pathway.STRATEGY)
    assessment = await pathway.start_assessment(
        client, who["practitioner"], pathway.assessment_body(referral, "2025-11-11")
    )
    completion = pathway.completion_body("2025-11-20", outcome="strategy_discussion")
    assessment = ok(await pathway.complete_assessment(client, who["manager"], assessment["id"], completion))
    discussion = await pathway.hold_discussion(
        client, who["practitioner"], pathway.discussion_body(referral, "2025-11-21T10:00:00Z")
    )
    enquiry_id = discussion["section_47_enquiries"][0]["id"]
    outcome = {"concluded_on": "2025-11-28", "outcome": "initial_child_protection_conference"}
    ok(await pathway.conclude(client, who["manager"], enquiry_id, outcome))
    plan = {"held_on": "2025-12-05", "outcome": "child_protection_plan", "category_of_abuse": "multiple"}
    enquiry = ok(await pathway.conference(client, who["practitioner"], enquiry_id, plan))
    discussion = ok(
        await client.get(f"/v1/strategy-discussions/{discussion['id']}", headers=who["practitioner"])
    )
    return {"referral": referral, "assessment": assessment, "discussion": discussion, "enquiry": enquiry}


async def test_the_timeline_and_the_feed_show_the_pathway_to_the_hub_only(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    done = await _pathway(client, app, who)
    referral_id = done["referral"]["id"]

    timeline = ok(
        await client.get(f"/v1/referrals/{referral_id}/timeline?limit=200", headers=who["practitioner"])
    )
    types = [e["event_type"] for e in timeline["items"]]
    assert [t for t in types if t in PATHWAY_EVENTS] == PATHWAY_EVENTS
    completed = next(e for e in timeline["items"] if e["event_type"] == "assessment.completed")
    assert completed["data"] | {"assessment_id": None} == {
        "assessment_id": None,
        "child_id": done["referral"]["children"][0]["id"],
        "outcome": "strategy_discussion",
        "closure_reason": None,
        "late": False,
    }
    police_timeline = ok(await client.get(f"/v1/referrals/{referral_id}/timeline", headers=who["police"]))
    assert not [e for e in police_timeline["items"] if e["event_type"] in PATHWAY_EVENTS]

    hub_feed, _ = await read_all(client, who["practitioner"])
    assert [e["event_type"] for e in hub_feed if e["event_type"] in PATHWAY_EVENTS] == PATHWAY_EVENTS
    for partner in ("police", "health"):
        feed, _ = await read_all(client, who[partner])
        assert not [e for e in feed if e["event_type"] in PATHWAY_EVENTS], partner
        assert done["enquiry"]["id"] not in str(feed)


async def test_a_partner_asking_for_the_hubs_work_is_told_404_and_audited(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    done = await _pathway(client, app, who)
    # Each record, and what the hub did to it: every action audited, naming the child.
    records = {
        ("assessment", f"/v1/assessments/{done['assessment']['id']}"): {"create", "update", "read"},
        ("strategy_discussion", f"/v1/strategy-discussions/{done['discussion']['id']}"): {"create", "read"},
        ("section_47_enquiry", f"/v1/section-47-enquiries/{done['enquiry']['id']}"): {
            "create",
            "update",
            "read",
        },
    }
    for (record_type, url), actions in records.items():
        ok(await client.get(url, headers=who["practitioner"]))
        for partner in ("police", "health"):
            assert_problem(await client.get(url, headers=who[partner]), 404, "not_found")
        params: dict[str, str | int] = {
            "record_type": record_type,
            "record_id": url.rsplit("/", 1)[1],
            "limit": 200,
        }
        trail = ok(await client.get("/v1/audit-events", params=params, headers=who["auditor"]))["items"]
        refused = [e["actor"]["agency"] for e in trail if e["action"] == "not_found"]
        assert refused == ["police", "health"], record_type
        assert {e["action"] for e in trail} == actions | {"not_found"}, record_type
        person_ids = {e["person_id"] for e in trail if e["action"] != "not_found"}
        assert person_ids == {done["referral"]["children"][0]["person_id"]}, record_type


async def test_the_childs_export_gives_the_pathway_on_the_childrens_side(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    done = await _pathway(client, app, who)
    person_id = done["referral"]["children"][0]["person_id"]
    for caller in ("practitioner", "governance"):
        export = ok(await client.get(f"/v1/people/{person_id}/record", headers=who[caller]))
        (record,) = export["children"]["referrals"]
        assert record["assessments"] == [done["assessment"]]
        assert record["strategy_discussions"] == [done["discussion"]]
        assert record["section_47_enquiries"] == [done["enquiry"]]
    adults_side = ok(await client.get(f"/v1/people/{person_id}/record", headers=who["worker"]))
    assert adults_side["children"] is None
    assert done["enquiry"]["id"] not in str(adults_side)


async def test_a_sibling_s_export_names_only_them_in_the_discussion(
    client: httpx.AsyncClient, app: FastAPI, who: Who
) -> None:
    referral = await pathway.accepted_referral(client, app, who, RECEIVED, pathway.STRATEGY, children=2)
    discussion = await pathway.hold_discussion(
        client, who["practitioner"], pathway.discussion_body(referral, "2025-11-21T10:00:00Z")
    )
    first, second = referral["children"]
    export = ok(await client.get(f"/v1/people/{second['person_id']}/record", headers=who["practitioner"]))
    (record,) = export["children"]["referrals"]
    (given,) = record["strategy_discussions"]
    assert given["child_ids"] == [second["id"]]
    assert [e["child_id"] for e in given["section_47_enquiries"]] == [second["id"]]
    assert [e["child_id"] for e in record["section_47_enquiries"]] == [second["id"]]
    assert first["id"] not in str(record["strategy_discussions"]) + str(record["section_47_enquiries"])
    assert len(discussion["section_47_enquiries"]) == 2
