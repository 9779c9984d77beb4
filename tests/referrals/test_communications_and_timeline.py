"""Keeping people informed (and not informing parents when that would increase the risk), and the
timeline: every event for the hub, receipt/rating/outcome only for the referring agency."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs
from tests.fixtures.referrals import (
    answer,
    ask,
    create_referral,
    decided_referral,
    etag_of,
    get_referral,
    propose_and_approve,
    rate,
    referral_body,
    withdraw,
)
from tests.fixtures.values import Body, Headers, dt

DO_NOT_INFORM = {"do_not_inform_parents": True, "do_not_inform_reason": "A strategy discussion is pending."}


def contact(audience: str, **fields: Any) -> Body:
    return {
        "audience": audience,
        "method": "phone",
        "summary": f"Spoke to the {audience} about the referral.",
        **fields,
    }


async def _record(
    client: httpx.AsyncClient, headers: Headers, referral_id: str, body: Body
) -> httpx.Response:
    return await client.post(f"/v1/referrals/{referral_id}/communications", json=body, headers=headers)


# ---------------------------------------------------------------------------------------------------
# Communications


@pytest.mark.parametrize("audience", ["parent", "carer"])
async def test_parents_are_not_contacted_while_do_not_inform_is_set(
    client: httpx.AsyncClient, who: Who, audience: str
) -> None:
    referral = await create_referral(client, who["police"], referral_body(**DO_NOT_INFORM))
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert (full["do_not_inform_parents"], full["do_not_inform_reason"]) == (
        True,
        DO_NOT_INFORM["do_not_inform_reason"],
    )

    refused = await _record(client, who["practitioner"], referral["id"], contact(audience))
    assert_problem(refused, 409, "do_not_inform_parents")
    listed = await client.get(f"/v1/referrals/{referral['id']}/communications", headers=who["practitioner"])
    assert listed.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("audience", ["referrer", "child"])
async def test_the_referrer_and_the_child_can_be_contacted_while_do_not_inform_is_set(
    client: httpx.AsyncClient, who: Who, audience: str
) -> None:
    referral = await create_referral(client, who["police"], referral_body(**DO_NOT_INFORM))
    response = await _record(
        client, who["practitioner"], referral["id"], contact(audience, method="in_person")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/referrals/{referral['id']}/communications/{body['id']}"
    assert (body["audience"], body["method"], body["recorded_by"]) == (
        audience,
        "in_person",
        "practitioner-ann",
    )
    assert body["referral_id"] == referral["id"]
    assert body["occurred_at"] == body["recorded_at"], "occurred_at defaults to now"


async def test_parents_can_be_contacted_once_the_marker_is_cleared(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(**DO_NOT_INFORM))
    url = f"/v1/referrals/{referral['id']}"
    cleared = await client.patch(
        url,
        json={"do_not_inform_parents": False},
        headers={**who["manager"], "If-Match": await etag_of(client, who["manager"], referral["id"])},
    )
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["do_not_inform_parents"], cleared.json()["do_not_inform_reason"]) == (False, None)
    parent = await _record(client, who["practitioner"], referral["id"], contact("parent", method="letter"))
    assert parent.status_code == 201, parent.text

    # Set again (with a reason): parents are off limits again.
    marked = await client.patch(
        url,
        json=DO_NOT_INFORM,
        headers={
            **who["practitioner"],
            "If-Match": await etag_of(client, who["practitioner"], referral["id"]),
        },
    )
    assert marked.status_code == 200, marked.text
    assert_problem(
        await _record(client, who["practitioner"], referral["id"], contact("carer")),
        409,
        "do_not_inform_parents",
    )


async def test_contacts_are_listed_and_on_the_timeline(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    earlier = await _record(
        client,
        who["practitioner"],
        referral["id"],
        contact(
            "referrer",
            occurred_at="2026-01-05T10:30:00+00:00",
            summary="Told PC Dawson we are looking at it.",
        ),
    )
    assert earlier.status_code == 201, earlier.text
    assert dt(earlier.json()["occurred_at"]) == dt("2026-01-05T10:30:00+00:00")
    later = await _record(client, who["practitioner2"], referral["id"], contact("parent", method="email"))
    assert later.status_code == 201, later.text

    listed = await client.get(f"/v1/referrals/{referral['id']}/communications", headers=who["practitioner"])
    assert listed.status_code == 200, listed.text
    assert [(c["id"], c["audience"], c["recorded_by"]) for c in listed.json()["items"]] == [
        (earlier.json()["id"], "referrer", "practitioner-ann"),
        (later.json()["id"], "parent", "practitioner-cat"),
    ]
    assert listed.json()["items"][0]["summary"] == "Told PC Dawson we are looking at it."

    timeline = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    recorded = [e for e in timeline.json()["items"] if e["event_type"] == "communication.recorded"]
    assert [(e["data"]["communication_id"], e["data"]["audience"], e["actor"]["sub"]) for e in recorded] == [
        (earlier.json()["id"], "referrer", "practitioner-ann"),
        (later.json()["id"], "parent", "practitioner-cat"),
    ]
    assert "summary" not in recorded[0]["data"], "what was said stays in the record, not the event"


async def test_partners_neither_record_nor_read_contacts(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    url = f"/v1/referrals/{referral['id']}/communications"
    assert_problem(
        await client.post(url, json=contact("referrer"), headers=who["police"]), 403, "insufficient_scope"
    )
    # Even the agency that made the referral: what the hub said to the family is the hub's record.
    assert_problem(await client.get(url, headers=who["police"]), 404, "not_found")
    await rate(client, who["practitioner"], referral["id"])
    await ask(client, who["practitioner"], referral["id"], "health")
    assert_problem(await client.get(url, headers=who["health"]), 404, "not_found")
    assert (await client.get(url, headers=who["manager"])).status_code == 200


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        pytest.param({"audience": "neighbour"}, ["body", "audience"], id="unknown audience"),
        pytest.param({"method": "carrier_pigeon"}, ["body", "method"], id="unknown method"),
        pytest.param({"summary": ""}, ["body", "summary"], id="empty summary"),
        pytest.param({"occurred_at": "yesterday"}, ["body", "occurred_at"], id="not a time"),
        pytest.param(
            {"occurred_at": "2026-01-05T10:30:00"}, ["body", "occurred_at"], id="time without offset"
        ),
        pytest.param({"recorded_by": "someone"}, ["body", "recorded_by"], id="unknown field"),
        pytest.param(
            {"occurred_at": "2999-01-01T09:00:00+00:00"}, ["body", "occurred_at"], id="in the future"
        ),
    ],
)
async def test_an_invalid_contact_is_refused(
    client: httpx.AsyncClient, who: Who, fields: Body, loc: list[str]
) -> None:
    referral = await create_referral(client, who["police"])
    response = await _record(client, who["practitioner"], referral["id"], {**contact("referrer"), **fields})
    assert loc in locs(assert_problem(response, 422, "validation_failed"))


async def test_the_first_contact_with_the_referrer_acknowledges_the_referral(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"])
    # A contact with a parent acknowledges nothing.
    assert (await _record(client, who["practitioner"], referral["id"], contact("parent"))).status_code == 201
    assert (await get_referral(client, who["practitioner"], referral["id"]))["acknowledged_at"] is None

    first = await _record(
        client,
        who["practitioner"],
        referral["id"],
        contact("referrer", occurred_at="2026-01-05T10:30:00+00:00"),
    )
    assert first.status_code == 201, first.text
    again = await _record(client, who["practitioner2"], referral["id"], contact("referrer", method="email"))
    assert again.status_code == 201, again.text

    hub = await get_referral(client, who["practitioner"], referral["id"])
    # When the first contact happened; one before the referral came in acknowledges it on receipt.
    assert hub["acknowledged_at"] == hub["received_at"]
    assert dt(hub["acknowledgement_due_at"]) > dt(hub["received_at"])
    police_view = await get_referral(client, who["police"], referral["id"])
    assert police_view["acknowledged_at"] == hub["acknowledged_at"]
    assert "acknowledgement_due_at" not in police_view

    def instants(data: Body) -> Body:
        return {k: dt(v) if k.endswith("_at") else v for k, v in data.items()}

    timeline = (
        await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    ).json()
    acknowledged = [e for e in timeline["items"] if e["event_type"] == "referral.acknowledged"]
    assert [(e["actor"]["sub"], instants(e["data"])) for e in acknowledged] == [
        (
            "practitioner-ann",
            {
                "acknowledged_at": dt(hub["received_at"]),
                "acknowledgement_due_at": dt(hub["acknowledgement_due_at"]),
                "method": "phone",
            },
        )
    ], "once: the second contact with the referrer acknowledges nothing more"

    # The referring agency's change feed carries it too, without the hub worker's name.
    feed = await client.get("/v1/events", headers=who["police"])
    assert feed.status_code == 200, feed.text
    theirs = [e for e in feed.json()["items"] if e["event_type"] == "referral.acknowledged"]
    assert [(e["record_id"], e["actor"], instants(e["data"])) for e in theirs] == [
        (
            referral["id"],
            {"sub": None, "agency": "childrens_social_care", "role": None},
            {"acknowledged_at": dt(hub["received_at"]), "method": "phone"},
        )
    ]
    # Another partner agency does not see it.
    other = await client.get("/v1/events", headers=who["health"])
    assert "referral.acknowledged" not in [e["event_type"] for e in other.json()["items"]]


# ---------------------------------------------------------------------------------------------------
# The timeline


async def test_the_referring_agency_sees_status_changes_rating_and_outcome_without_hub_names(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(**DO_NOT_INFORM))
    referral_id = referral["id"]
    await rate(client, who["practitioner"], referral_id, "red")
    (request,) = await ask(client, who["practitioner"], referral_id, "health")
    await answer(client, who["health"], request["id"])
    told = await _record(client, who["practitioner"], referral_id, contact("referrer"))
    assert told.status_code == 201, told.text
    cleared = await client.patch(
        f"/v1/referrals/{referral_id}",
        json={"do_not_inform_parents": False},
        headers={**who["manager"], "If-Match": await etag_of(client, who["manager"], referral_id)},
    )
    assert cleared.status_code == 200

    await propose_and_approve(
        client, who["practitioner"], who["manager"], referral_id, level=4, outcome="strategy_discussion"
    )

    hub = (await client.get(f"/v1/referrals/{referral_id}/timeline", headers=who["practitioner"])).json()
    assert hub["next_cursor"] is None, "one page holds it all"
    assert [e["event_type"] for e in hub["items"]] == [
        "referral.received",
        "child.new_person",
        "referral.rated",
        "contribution.requested",
        "contribution.submitted",
        "communication.recorded",
        "referral.acknowledged",
        "referral.updated",
        "decision.proposed",
        "decision.approved",
        "referral.decided",
    ]
    assert all(e["actor"]["sub"] for e in hub["items"]), "the hub sees who did everything"
    seqs = [e["seq"] for e in hub["items"]]
    assert seqs == sorted(seqs)
    assert [dt(e["occurred_at"]) for e in hub["items"]] == sorted(dt(e["occurred_at"]) for e in hub["items"])

    police = await client.get(f"/v1/referrals/{referral_id}/timeline", headers=who["police"])
    assert police.status_code == 200, police.text
    hub_agency = {"sub": None, "agency": "childrens_social_care", "role": None}
    [acknowledged] = [
        e["data"]["acknowledged_at"]
        for e in police.json()["items"]
        if e["event_type"] == "referral.acknowledged"
    ]
    assert dt(acknowledged) == dt(told.json()["occurred_at"])
    assert [(e["event_type"], e["actor"], e["data"]) for e in police.json()["items"]] == [
        (
            "referral.received",
            {"sub": "police-system", "agency": "police", "role": "partner_referrer"},
            {"referral_source": "6", "children": 1},
        ),
        ("referral.rated", hub_agency, {"rating": "red"}),
        # Status changes, as its feed shows them: agencies asked (not which, nor what they said) and a
        # decision awaiting approval (not what it proposed); no contact, update or approval step.
        ("contribution.requested", hub_agency, {}),
        # Its contact acknowledged: when and how, not who at the hub nor what was said.
        (
            "referral.acknowledged",
            hub_agency,
            {"acknowledged_at": acknowledged, "method": "phone"},
        ),
        ("decision.proposed", hub_agency, {}),
        ("referral.decided", hub_agency, {"level": 4, "outcome": "strategy_discussion"}),
    ]


async def test_the_referring_agency_sees_a_withdrawal(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    await rate(client, who["practitioner"], referral["id"], "green")
    assert (await withdraw(client, who["practitioner"], referral["id"])).status_code == 200
    police = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["police"])
    assert [(e["event_type"], e["actor"]["sub"]) for e in police.json()["items"]] == [
        ("referral.received", "police-system"),
        ("referral.rated", None),
        ("referral.withdrawn", None),
    ]
    assert police.json()["items"][-1]["data"] == {}, "not the hub's reason"


async def test_an_asked_agency_has_no_timeline(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    await rate(client, who["practitioner"], referral["id"])
    await ask(client, who["practitioner"], referral["id"], "health")
    # Health can see the referral (its request) but not what happened to it.
    assert (await get_referral(client, who["health"], referral["id"]))["view"] == "asked_agency"
    response = await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["health"])
    assert_problem(response, 404, "not_found")


async def test_an_unlinked_agency_sees_nothing(client: httpx.AsyncClient, who: Who) -> None:
    referral = await decided_referral(client, who)
    for path in ("", "/timeline", "/contributions"):
        assert_problem(
            await client.get(f"/v1/referrals/{referral['id']}{path}", headers=who["education"]),
            404,
            "not_found",
        )


async def test_a_recorded_contact_is_found_at_its_location(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"])
    created = await _record(client, who["practitioner"], referral["id"], contact("referrer"))
    assert created.status_code == 201
    found = await client.get(created.headers["location"], headers=who["practitioner"])
    assert found.status_code == 200
    assert found.json() == created.json()
    # Only the hub: the referring agency does not see the hub's notes of its contacts.
    assert_problem(await client.get(created.headers["location"], headers=who["police"]), 404, "not_found")
