"""What the agency that raised an adult concern may still do (api.md, "Partner systems"): find it by its
own reference, add information it learns later, withdraw it before the section 42 decision."""

from __future__ import annotations

import uuid

import httpx

from tests.fixtures.adults import concern_body, concern_in, get_concern, raise_concern
from tests.fixtures.callers import CALLERS, Who
from tests.fixtures.feed import poll, read_all
from tests.fixtures.http import assert_problem, ok

LATER = {"information": "Her son has since moved in with her; the bank has frozen the account."}
REASON = {"reason": "Raised in error: the wrong patient."}


def add_url(concern_id: str) -> str:
    return f"/v1/adult-concerns/{concern_id}/additional-information"


def withdraw_url(concern_id: str) -> str:
    return f"/v1/adult-concerns/{concern_id}/withdrawal"


async def test_a_raiser_finds_its_concerns_by_its_own_reference(
    client: httpx.AsyncClient, adult_who: Who
) -> None:
    reference = f"GP-{uuid.uuid4().hex[:8]}"
    start = (await poll(client, adult_who["health"], **{"from": "now"})).json()["next_cursor"]
    concern = await raise_concern(client, adult_who["health"], concern_body(external_reference=reference))
    await raise_concern(client, adult_who["health"], concern_body(external_reference="GP-other"))
    assert concern["external_reference"] == reference

    for caller in ("health", "worker"):
        found = ok(
            await client.get(
                "/v1/adult-concerns", params={"external_reference": reference}, headers=adult_who[caller]
            )
        )
        assert [(c["id"], c["external_reference"]) for c in found["items"]] == [(concern["id"], reference)]
    assert (await get_concern(client, adult_who["worker"], concern["id"]))["external_reference"] == reference
    events, _ = await read_all(client, adult_who["health"], start, mine="true")
    received = [e for e in events if e["record_id"] == concern["id"]]
    assert [(e["event_type"], e["data"]["external_reference"]) for e in received] == [
        ("adult_concern.received", reference)
    ]


async def test_the_raiser_adds_information_and_sees_its_own(
    client: httpx.AsyncClient, adult_who: Who
) -> None:
    case = await concern_in(client, adult_who, "decided_s42")
    added = await client.post(add_url(case.id), json=LATER, headers=adult_who["health"])
    body = ok(added, 201)
    assert added.headers["location"] == f"/v1/adult-concerns/{case.id}"
    assert (body["information"], body["added_by"], body["added_by_agency"]) == (
        LATER["information"],
        CALLERS["gp"].sub,
        "health",
    )
    note = ok(
        await client.post(add_url(case.id), json={"information": "Hub note."}, headers=adult_who["worker"]),
        201,
    )

    full = await get_concern(client, adult_who["worker"], case.id)
    assert [a["id"] for a in full["additional_information"]] == [body["id"], note["id"]]
    assert full["adult_views"] == case.full["adult_views"], "what was raised is unchanged"
    raiser = await get_concern(client, adult_who["health"], case.id)
    assert [a["id"] for a in raiser["additional_information"]] == [body["id"]]

    refused = await client.post(add_url(case.id), json=LATER, headers=adult_who["police"])
    assert_problem(refused, 404, "not_found")
    assert_problem(
        await client.post(add_url(case.id), json={}, headers=adult_who["health"]), 422, "validation_failed"
    )


async def test_the_raiser_withdraws_before_the_section_42_decision(
    client: httpx.AsyncClient, adult_who: Who
) -> None:
    start = (await poll(client, adult_who["health"], **{"from": "now"})).json()["next_cursor"]
    case = await concern_in(client, adult_who, "received")
    withdrawn = ok(await client.post(withdraw_url(case.id), json=REASON, headers=adult_who["health"]))
    assert (withdrawn["view"], withdrawn["status"], withdrawn["withdrawn"]) == ("raiser", "withdrawn", True)
    full = await get_concern(client, adult_who["worker"], case.id)
    assert (full["status"], full["withdrawal"]["reason"], full["overdue"]) == (
        "withdrawn",
        REASON["reason"],
        False,
    )

    # Final: nothing more happens to it.
    assert_problem(
        await client.post(withdraw_url(case.id), json=REASON, headers=adult_who["worker"]),
        409,
        "invalid_transition",
    )
    assert_problem(
        await client.post(add_url(case.id), json=LATER, headers=adult_who["health"]),
        409,
        "invalid_transition",
    )
    events, _ = await read_all(client, adult_who["health"], start)
    assert [(e["event_type"], e["status"]) for e in events if e["record_id"] == case.id][-1] == (
        "adult_concern.withdrawn",
        "withdrawn",
    )


async def test_after_the_decision_nobody_withdraws(client: httpx.AsyncClient, adult_who: Who) -> None:
    case = await concern_in(client, adult_who, "decided_nfa")
    for caller in ("health", "worker"):
        refused = await client.post(withdraw_url(case.id), json=REASON, headers=adult_who[caller])
        assert (
            "before the section 42 decision" in assert_problem(refused, 409, "invalid_transition")["detail"]
        )

    by_hub = await concern_in(client, adult_who, "received")
    done = ok(await client.post(withdraw_url(by_hub.id), json=REASON, headers=adult_who["worker"]))
    assert (done["view"], done["withdrawal"]["withdrawn_by"]) == ("full", CALLERS["worker"].sub)
    assert_problem(
        await client.post(withdraw_url(by_hub.id), json=REASON, headers=adult_who["police"]), 404, "not_found"
    )


async def test_the_adults_record_export_holds_the_withdrawal_and_what_was_added(
    client: httpx.AsyncClient, adult_who: Who
) -> None:
    case = await concern_in(client, adult_who, "received")
    added = ok(await client.post(add_url(case.id), json=LATER, headers=adult_who["health"]), 201)
    ok(await client.post(withdraw_url(case.id), json=REASON, headers=adult_who["health"]))
    export = ok(await client.get(f"/v1/people/{case.person_id}/record", headers=adult_who["governance"]))
    (record,) = export["adults"]["concerns"]
    assert (record["status"], record["withdrawal"]["reason"]) == ("withdrawn", REASON["reason"])
    assert [a["id"] for a in record["additional_information"]] == [added["id"]]
