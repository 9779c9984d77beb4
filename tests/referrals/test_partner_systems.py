"""A police system's day with the hub (api.md, "Partner systems"): its own incident number on a referral,
found again after the idempotency window; information learnt later, added without editing what was sent;
a referral made in error withdrawn; the change feed read from today, only for its own referrals; and
every list of a referral in the one list shape."""

from __future__ import annotations

import uuid

import httpx
import jsonschema_rs
import pytest

from tests.fixtures.callers import CALLERS, TokenFactory, Who
from tests.fixtures.feed import poll, read_all
from tests.fixtures.http import assert_problem, assert_replayed, locs, ok
from tests.fixtures.referrals import (
    ask,
    create_referral,
    get_referral,
    propose,
    propose_and_approve,
    rate,
    rated_referral,
    referral_body,
    unique_child,
)
from tests.fixtures.values import Body, Headers


def incident() -> str:
    return f"INC-{uuid.uuid4().hex[:10].upper()}"


async def referral_with(client: httpx.AsyncClient, headers: Headers, reference: str | None) -> Body:
    return await create_referral(client, headers, referral_body(unique_child(), external_reference=reference))


def add_url(referral_id: str) -> str:
    return f"/v1/referrals/{referral_id}/additional-information"


def withdraw_url(referral_id: str) -> str:
    return f"/v1/referrals/{referral_id}/withdrawal"


REASON = {"reason": "Referred in error: the wrong family."}
LATER = {"information": "The father was arrested last night and is on bail not to contact the family."}


# ---------------------------------------------------------------------------------------------------
# external_reference


async def test_a_partner_finds_its_referrals_by_its_own_incident_number(
    client: httpx.AsyncClient, who: Who
) -> None:
    reference = incident()
    first = await referral_with(client, who["police"], reference)
    second = await referral_with(client, who["police"], reference)  # one incident, two referrals
    await referral_with(client, who["police"], incident())
    assert first["external_reference"] == reference, "returned to the referrer"

    found = ok(
        await client.get("/v1/referrals", params={"external_reference": reference}, headers=who["police"])
    )
    assert [r["id"] for r in found["items"]] == [second["id"], first["id"]]
    assert {r["external_reference"] for r in found["items"]} == {reference}
    hub = ok(
        await client.get(
            "/v1/referrals", params={"external_reference": reference}, headers=who["practitioner"]
        )
    )
    assert [r["id"] for r in hub["items"]] == [second["id"], first["id"]]
    assert (await get_referral(client, who["practitioner"], first["id"]))["external_reference"] == reference
    # Another agency's referrals are not found by the police's number, nor the police's by another's.
    health = ok(
        await client.get("/v1/referrals", params={"external_reference": reference}, headers=who["health"])
    )
    assert health["items"] == []


async def test_the_reference_is_optional_bounded_and_one_line(client: httpx.AsyncClient, who: Who) -> None:
    plain = await referral_with(client, who["police"], None)
    assert plain["external_reference"] is None
    for bad in ("x" * 101, "", "INC\n4471"):
        refused = await client.post(
            "/v1/referrals", json=referral_body(external_reference=bad), headers=who["police"]
        )
        assert ["body", "external_reference"] in locs(assert_problem(refused, 422, "validation_failed"))
    too_long = await client.get(
        "/v1/referrals", params={"external_reference": "x" * 101}, headers=who["police"]
    )
    assert_problem(too_long, 422, "validation_failed")


async def test_the_referrers_feed_events_carry_its_reference(client: httpx.AsyncClient, who: Who) -> None:
    _, start = await read_all(client, who["police"])
    reference = incident()
    referral = await referral_with(client, who["police"], reference)
    await rate(client, who["practitioner"], referral["id"], "red")
    await ask(client, who["practitioner"], referral["id"], "health")

    police, _ = await read_all(client, who["police"], start)
    assert [(e["event_type"], e["data"].get("external_reference")) for e in police] == [
        ("referral.received", reference),
        ("referral.rated", reference),
        ("contribution.requested", reference),
    ]
    hub, _ = await read_all(client, who["practitioner"], start, record_type="referral")
    assert {e["data"]["external_reference"] for e in hub if e["record_id"] == referral["id"]} == {reference}
    # The agency asked is not told the police's incident number.
    health, _ = await read_all(client, who["health"], start)
    asked = [e for e in health if e["record_id"] == referral["id"]]
    assert asked and all("external_reference" not in e["data"] for e in asked)


# ---------------------------------------------------------------------------------------------------
# Additional information


async def test_the_referrer_adds_information_without_editing_the_referral(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    before = await client.get(f"/v1/referrals/{referral['id']}", headers=who["practitioner"])

    added = await client.post(
        add_url(referral["id"]),
        json={**LATER, "concern_categories": ["physical_abuse"]},
        headers=who["police"],
    )
    body = ok(added, 201)
    assert added.headers["location"] == f"/v1/referrals/{referral['id']}"
    assert body["information"] == LATER["information"]
    assert (body["concern_categories"], body["added_by"], body["added_by_agency"]) == (
        ["physical_abuse"],
        CALLERS["police"].sub,
        "police",
    )
    hub_note = ok(
        await client.post(
            add_url(referral["id"]), json={"information": "Hub note."}, headers=who["practitioner"]
        ),
        201,
    )

    full = await get_referral(client, who["practitioner"], referral["id"])
    assert [a["id"] for a in full["additional_information"]] == [body["id"], hub_note["id"]]
    assert full["concern_summary"] == before.json()["concern_summary"], "what was sent is unchanged"
    assert full["concern_categories"] == before.json()["concern_categories"]
    assert full["additional_information"][0]["added_at"]
    police = await get_referral(client, who["police"], referral["id"])
    assert [a["id"] for a in police["additional_information"]] == [body["id"]], "not the hub's notes"

    hub_timeline = ok(
        await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["practitioner"])
    )
    added_events = [e for e in hub_timeline["items"] if e["event_type"] == "referral.information_added"]
    assert [e["data"]["information_id"] for e in added_events] == [body["id"], hub_note["id"]]
    police_timeline = ok(await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=who["police"]))
    assert [
        e["data"] for e in police_timeline["items"] if e["event_type"] == "referral.information_added"
    ] == [{"information_id": body["id"], "agency": "police", "concern_categories": ["physical_abuse"]}]


async def test_only_the_referrer_and_the_hub_add_information(
    client: httpx.AsyncClient, who: Who, auth: TokenFactory
) -> None:
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    assert request["agency"] == "health"
    for outsider in (who["health"], who["education"]):  # asked about it, or a stranger to it
        assert_problem(
            await client.post(add_url(referral["id"]), json=LATER, headers=outsider), 404, "not_found"
        )
    # The hub's auditor reads nothing of it and writes nothing.
    assert_problem(
        await client.post(add_url(referral["id"]), json=LATER, headers=who["auditor"]),
        403,
        "insufficient_scope",
    )
    unknown = add_url(str(uuid.uuid4()))
    assert_problem(await client.post(unknown, json=LATER, headers=who["police"]), 404, "not_found")
    for bad in (
        {},
        {"information": ""},
        {"information": "x", "concern_categories": ["nope"]},
        {**LATER, "extra": 1},
    ):
        assert_problem(
            await client.post(add_url(referral["id"]), json=bad, headers=who["police"]),
            422,
            "validation_failed",
        )


async def test_a_decided_or_withdrawn_referral_takes_no_more_information(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    await propose_and_approve(client, who["practitioner"], who["manager"], referral["id"])
    refused = await client.post(add_url(referral["id"]), json=LATER, headers=who["police"])
    assert_problem(refused, 409, "invalid_transition")


async def test_adding_information_with_a_key_is_done_once(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await assert_replayed(client, who["police"], add_url(referral["id"]), LATER, 201)
    assert len((await get_referral(client, who["police"], referral["id"]))["additional_information"]) == 1


# ---------------------------------------------------------------------------------------------------
# Withdrawal


async def test_the_referrer_withdraws_its_referral_before_a_decision_is_proposed(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    withdrawn = await client.post(withdraw_url(referral["id"]), json=REASON, headers=who["police"])
    body = ok(withdrawn)
    assert (body["view"], body["status"], body["withdrawn"]) == ("referrer", "withdrawn", True)
    assert withdrawn.headers["etag"]
    full = await get_referral(client, who["practitioner"], referral["id"])
    assert (full["withdrawal"]["reason"], full["withdrawal"]["withdrawn_by"]) == (
        REASON["reason"],
        CALLERS["police"].sub,
    )
    cancelled = ok(await client.get(f"/v1/contributions/{request['id']}", headers=who["health"]))
    assert cancelled["status"] == "cancelled", "agencies are no longer asked"
    # Final: nobody withdraws it again.
    for caller in ("police", "practitioner"):
        again = await client.post(withdraw_url(referral["id"]), json=REASON, headers=who[caller])
        assert_problem(again, 409, "invalid_transition")


async def test_once_a_decision_is_proposed_only_the_hub_withdraws_until_it_is_decided(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    await propose(client, who["practitioner"], referral["id"])
    refused = await client.post(withdraw_url(referral["id"]), json=REASON, headers=who["police"])
    assert "ask the hub" in assert_problem(refused, 409, "invalid_transition")["detail"]
    by_hub = ok(await client.post(withdraw_url(referral["id"]), json=REASON, headers=who["practitioner"]))
    assert (by_hub["view"], by_hub["status"], by_hub["withdrawal"]["withdrawn_by"]) == (
        "full",
        "withdrawn",
        CALLERS["practitioner"].sub,
    )

    decided = await rated_referral(client, who)
    await propose_and_approve(client, who["practitioner"], who["manager"], decided["id"])
    for caller in ("police", "practitioner"):
        late = await client.post(withdraw_url(decided["id"]), json=REASON, headers=who[caller])
        assert_problem(late, 409, "invalid_transition")


async def test_only_the_referrer_and_the_hub_withdraw(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    await ask(client, who["practitioner"], referral["id"], "health")
    for outsider in ("health", "education"):
        refused = await client.post(withdraw_url(referral["id"]), json=REASON, headers=who[outsider])
        assert_problem(refused, 404, "not_found")
    assert_problem(
        await client.post(withdraw_url(referral["id"]), json={}, headers=who["police"]),
        422,
        "validation_failed",
    )
    assert (await get_referral(client, who["police"], referral["id"]))["status"] == "gathering_information"


async def test_the_referrers_feed_tells_it_of_its_withdrawal(client: httpx.AsyncClient, who: Who) -> None:
    _, start = await read_all(client, who["police"])
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    ok(await client.post(withdraw_url(referral["id"]), json=REASON, headers=who["police"]))
    events, _ = await read_all(client, who["police"], start)
    assert [(e["event_type"], e["status"], e["actor"]["sub"]) for e in events] == [
        ("referral.received", "received", CALLERS["police"].sub),
        ("referral.withdrawn", "withdrawn", CALLERS["police"].sub),
    ]


# ---------------------------------------------------------------------------------------------------
# The feed: from now, and mine


async def test_a_new_partner_starts_from_now(client: httpx.AsyncClient, who: Who) -> None:
    await create_referral(client, who["police"], referral_body(unique_child()))  # before it started
    now = await poll(client, who["police"], **{"from": "now"})
    assert now.json()["items"] == [] and "link" not in now.headers
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    events, _ = await read_all(client, who["police"], now.json()["next_cursor"])
    assert {e["record_id"] for e in events} == {referral["id"]}

    both = await poll(client, who["police"], now.json()["next_cursor"], **{"from": "now"})
    assert ["query", "from"] in locs(assert_problem(both, 422, "validation_failed"))
    assert_problem(await poll(client, who["police"], **{"from": "yesterday"}), 422, "validation_failed")


async def test_mine_keeps_the_events_on_what_the_caller_made(
    client: httpx.AsyncClient, who: Who, auth: TokenFactory
) -> None:
    other_system = auth("partner_referrer", "police", "police-second-system")
    start = (await poll(client, who["police"], **{"from": "now"})).json()["next_cursor"]
    mine = await create_referral(client, who["police"], referral_body(unique_child()))
    theirs = await create_referral(client, other_system, referral_body(unique_child()))

    everything, _ = await read_all(client, who["police"], start)
    assert {e["record_id"] for e in everything} == {mine["id"], theirs["id"]}, "the agency sees both"
    own, _ = await read_all(client, who["police"], start, mine="true")
    assert {e["record_id"] for e in own} == {mine["id"]}
    hub_own, _ = await read_all(client, who["practitioner"], start, mine="true")
    assert hub_own == [], "the hub made none of them"


# ---------------------------------------------------------------------------------------------------
# One list shape


async def test_a_referrals_timeline_contributions_and_communications_are_keyset_pages(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    referral_id = referral["id"]
    await ask(client, who["practitioner"], referral_id, "health", "education", "housing")
    for n in range(3):
        body = {"audience": "referrer", "method": "phone", "summary": f"Call {n}."}
        ok(
            await client.post(
                f"/v1/referrals/{referral_id}/communications", json=body, headers=who["practitioner"]
            ),
            201,
        )

    for path, size in (("timeline", 7), ("contributions", 3), ("communications", 3)):
        url = f"/v1/referrals/{referral_id}/{path}"
        whole = ok(await client.get(url, headers=who["practitioner"]))
        assert set(whole) == {"items", "next_cursor"} and whole["next_cursor"] is None
        assert len(whole["items"]) >= size, path
        first = await client.get(url, params={"limit": 2}, headers=who["practitioner"])
        page = ok(first)
        assert len(page["items"]) == 2 and page["next_cursor"]
        assert first.headers["link"].endswith('rel="next"') and page["next_cursor"] in first.headers["link"]
        walked = page["items"]
        cursor = page["next_cursor"]
        while cursor:
            page = ok(
                await client.get(url, params={"limit": 2, "cursor": cursor}, headers=who["practitioner"])
            )
            walked += page["items"]
            cursor = page["next_cursor"]
        assert walked == whole["items"], f"{path}: pages follow each other in order"
        assert_problem(
            await client.get(url, params={"cursor": "not-ours"}, headers=who["practitioner"]),
            422,
            "invalid_cursor",
        )


# ---------------------------------------------------------------------------------------------------
# Validation


async def test_a_child_must_be_under_18_on_the_referral_date(client: httpx.AsyncClient, who: Who) -> None:
    from app.core import clock

    today = clock.today()
    eighteen_today = today.replace(year=today.year - 18, day=min(today.day, 28))
    sixty_six = today.replace(year=today.year - 66, day=min(today.day, 28))
    for born in (eighteen_today.isoformat(), sixty_six.isoformat()):
        refused = await client.post(
            "/v1/referrals", json=referral_body(unique_child(date_of_birth=born)), headers=who["police"]
        )
        problem = assert_problem(refused, 422, "validation_failed")
        assert ["body", "children", 0] in locs(problem)
        assert "POST /v1/adult-concerns" in str(problem["errors"])
    seventeen = today.replace(year=today.year - 17, day=min(today.day, 28))
    await create_referral(
        client, who["police"], referral_body(unique_child(date_of_birth=seventeen.isoformat()))
    )


@pytest.mark.parametrize("contact", [{}, {"phone": None, "email": None}])
async def test_the_referrer_needs_a_phone_or_an_email(
    client: httpx.AsyncClient, who: Who, contact: dict[str, None]
) -> None:
    body = referral_body(referrer={"name": "PC Dawson", **contact})
    refused = await client.post("/v1/referrals", json=body, headers=who["police"])
    assert "phone number or an email" in str(assert_problem(refused, 422, "validation_failed")["errors"])


def test_the_schema_says_the_referrer_needs_a_phone_or_an_email() -> None:
    from app.main import openapi_document

    # What a client's validator makes of the schema (jsonschema-rs, as schemathesis uses).
    referrer = jsonschema_rs.validator_for(openapi_document()["components"]["schemas"]["ReferrerIn"])
    assert not referrer.is_valid({"name": "PC Ward"})
    assert not referrer.is_valid({"name": "PC Ward", "phone": None, "email": None})
    assert referrer.is_valid({"name": "PC Ward", "phone": "01632 960001"})
    assert referrer.is_valid({"name": "PC Ward", "email": "ward@police.example"})


async def test_the_childs_record_export_holds_what_was_added_and_the_reference(
    client: httpx.AsyncClient, who: Who
) -> None:
    reference = incident()
    referral = await referral_with(client, who["police"], reference)
    added = ok(await client.post(add_url(referral["id"]), json=LATER, headers=who["police"]), 201)
    person_id = (await get_referral(client, who["practitioner"], referral["id"]))["children"][0]["person_id"]
    export = ok(await client.get(f"/v1/people/{person_id}/record", headers=who["governance"]))
    (record,) = export["children"]["referrals"]
    assert record["external_reference"] == reference
    assert [(a["id"], a["information"]) for a in record["additional_information"]] == [
        (added["id"], LATER["information"])
    ]


async def test_a_retried_withdrawal_with_its_key_gets_the_first_answer(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await assert_replayed(client, who["police"], withdraw_url(referral["id"]), REASON, 200)
    without_key = await client.post(withdraw_url(referral["id"]), json=REASON, headers=who["police"])
    assert_problem(without_key, 409, "invalid_transition")
