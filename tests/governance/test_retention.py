"""Retention: a record past its rule is on the review list, a legal hold takes it off, and anonymising
it replaces its personal data (and the person's) while the audit chain still verifies.

Time moves as it does for a records manager: the referral is made today, then the clock is moved on
past the child's 25th birthday (``app.core.clock.now``, the one place the service reads the time).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core import clock
from app.governance.retention.anonymise import ANONYMISED
from tests.fixtures.adults import concern_body, decide, open_enquiry, raise_concern
from tests.fixtures.callers import TokenFactory, Who
from tests.fixtures.cli import mash
from tests.fixtures.database import audit_events
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.referrals import answer, ask, child, create_referral, rate, referral_body
from tests.fixtures.values import Body, Headers, unique_family_name

BORN = "2018-03-14"
NHS = "4010232137"


def _later(monkeypatch: pytest.MonkeyPatch, years: int) -> datetime:
    """Move the service's clock ``years`` on (tokens keep the real time)."""
    then = clock.now() + timedelta(days=366 * years)
    monkeypatch.setattr(clock, "now", lambda: then)
    return then


async def _review(http: httpx.AsyncClient, headers: Headers, record_type: str) -> list[Body]:
    found: list[Body] = []
    url: str | None = f"/v1/retention/review?record_type={record_type}&limit=200"
    while url:
        page = ok(await http.get(url, headers=headers))
        found += page["items"]
        url = None if page["next_cursor"] is None else f"{url}&cursor={page['next_cursor']}"
    return found


async def _listed(http: httpx.AsyncClient, headers: Headers, record_type: str, record_id: str) -> list[Body]:
    return [i for i in await _review(http, headers, record_type) if i["record_id"] == record_id]


async def _anonymise(
    http: httpx.AsyncClient, headers: Headers, record_type: str, record_id: str
) -> httpx.Response:
    return await http.post(
        "/v1/retention/anonymisations",
        json={"record_type": record_type, "record_id": record_id},
        headers=headers,
    )


async def _hub_person(http: httpx.AsyncClient, headers: Headers, url: str) -> str:
    """The person record a referral's first child or a concern's adult is linked to, as the hub sees it."""
    seen = ok(await http.get(url, headers=headers))
    person_id: str = seen["children"][0]["person_id"] if "children" in seen else seen["adult"]["person_id"]
    assert person_id is not None
    return person_id


async def _chain_valid(http: httpx.AsyncClient, who: Who) -> Body:
    return ok(await http.get("/v1/audit-events/verification", headers=who["auditor"]))


def _absent(document: Any, *values: str) -> None:
    text = json.dumps(document)
    found = [value for value in values if value in text]
    assert not found, f"personal data still present: {found}"


async def _referral_with_everything(http: httpx.AsyncClient, who: Who, family: str) -> tuple[Body, list[str]]:
    """A police referral about a child (with an NHS number and address) and her mother, rated by the
    hub, with health's answer: and the personal values it holds."""
    body = referral_body(
        child(
            given_name="Philippa",
            family_name=family,
            date_of_birth=BORN,
            nhs_number=NHS,
            address={"lines": ["27 Larkspur Mews"], "postcode": "E17 9QX"},
        ),
        concern_summary=f"Neighbours heard shouting at the {family} flat; Philippa was crying.",
        referrer={"name": "PC Ottoline Varga", "phone": "020 7946 0555"},
        household=[{"given_name": "Rosamund", "family_name": family, "relationship": "mother"}],
    )
    made = await create_referral(http, who["police"], body)
    referral = ok(await http.get(f"/v1/referrals/{made['id']}", headers=who["practitioner"]))
    await rate(http, who["practitioner"], referral["id"])
    [asked] = await ask(http, who["practitioner"], referral["id"], "health")
    await answer(http, who["health"], asked["id"], information="Philippa missed her last two GP visits.")
    personal = [
        "Philippa",
        family,
        BORN,
        NHS,
        "943 476",
        "Larkspur",
        "E17 9QX",
        "Ottoline",
        "7946 0555",
        "Rosamund",
        "shouting",
        "missed her last two GP visits",
    ]
    return referral, personal


async def test_a_referral_past_its_rule_is_reviewed_held_and_anonymised(
    client: httpx.AsyncClient, app: FastAPI, who: Who, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = unique_family_name()
    referral, personal = await _referral_with_everything(client, who, family)
    referral_id = referral["id"]
    person_id = referral["children"][0]["person_id"]
    assert person_id is not None
    ig = who["governance"]

    # Today the child is eight: kept, not on the review list, and it cannot be anonymised.
    assert await _listed(client, ig, "referral", referral_id) == []
    too_soon = await _anonymise(client, ig, "referral", referral_id)
    assert_problem(too_soon, 409, "retention_not_ended")

    # Past her 25th birthday the referral is due for review.
    _later(monkeypatch, 26)
    [item] = await _listed(client, ig, "referral", referral_id)
    assert item["basis"] == "until_age" and item["years"] == 25
    assert item["retention_ended_on"] == "2043-03-14"

    # A legal hold takes it off the list and stops its anonymisation.
    hold = ok(
        await client.post(
            "/v1/legal-holds",
            json={"record_type": "referral", "record_id": referral_id, "reason": "Civil claim LS-2044-17."},
            headers=ig,
        ),
        201,
    )
    assert hold["active"] is True and hold["placed_by"] == "ig-officer"
    assert await _listed(client, ig, "referral", referral_id) == []
    held = await _anonymise(client, ig, "referral", referral_id)
    assert_problem(held, 409, "legal_hold_active")
    holds = ok(await client.get(f"/v1/legal-holds?record_id={referral_id}&active=true", headers=ig))
    assert [h["id"] for h in holds["items"]] == [hold["id"]]

    # Released, it is back on the list; a release is not repeated.
    release = {"reason": "Claim settled."}
    released = ok(await client.post(f"/v1/legal-holds/{hold['id']}/release", json=release, headers=ig))
    assert released["active"] is False and released["released_by"] == "ig-officer"
    again = await client.post(f"/v1/legal-holds/{hold['id']}/release", json=release, headers=ig)
    assert_problem(again, 409, "legal_hold_released")
    assert len(await _listed(client, ig, "referral", referral_id)) == 1

    chain_before = await audit_events(app)
    done = ok(await _anonymise(client, ig, "referral", referral_id), 201)
    assert done["people_anonymised"] == [person_id] and done["people_kept"] == []
    assert done["retention_ended_on"] == "2043-03-14"
    assert ok(await client.get(f"/v1/retention/anonymisations/{done['id']}", headers=ig)) == done
    assert await _listed(client, ig, "referral", referral_id) == []
    twice = await _anonymise(client, ig, "referral", referral_id)
    assert_problem(twice, 409, "already_anonymised")

    # The audit chain is untouched and still verifies; the anonymisation is in it, by ids.
    chain_after = await audit_events(app)
    assert [(e.seq, e.hash) for e in chain_after[: len(chain_before)]] == [
        (e.seq, e.hash) for e in chain_before
    ]
    verification = await _chain_valid(client, who)
    assert verification["valid"] is True and verification["checked"] == len(chain_after)
    assert await audit_events(app, action="update", record_type="referral", record_id=referral_id)
    assert await audit_events(app, action="update", record_type="person", record_id=person_id)
    assert await audit_events(app, record_type="legal_hold", record_id=hold["id"])
    _absent([e.details for e in chain_after], *personal)

    # The record is still there, ids and codes and all, without its personal data; so is the person.
    seen = ok(await client.get(f"/v1/referrals/{referral_id}", headers=who["practitioner"]))
    assert seen["id"] == referral_id and seen["status"] == "gathering_information"
    assert seen["children"][0]["given_name"] == ANONYMISED
    _absent(seen, *personal)
    person = ok(await client.get(f"/v1/people/{person_id}", headers=who["practitioner"]))
    assert person["given_name"] == ANONYMISED and person["date_of_birth"] is None
    _absent(person, *personal)

    # Every screen that shows it still works: the queue, the timeline, the person register.
    for url in ("/v1/referrals?limit=200", f"/v1/referrals/{referral_id}/timeline", "/v1/people?limit=200"):
        _absent(ok(await client.get(url, headers=who["practitioner"])), *personal)

    # The person's subject access export holds no personal data any more.
    export = ok(await client.get(f"/v1/people/{person_id}/record", headers=ig))
    assert [r["id"] for r in export["children"]["referrals"]] == [referral_id]
    _absent(export, *personal)


async def test_a_person_another_kept_record_names_keeps_their_details(
    client: httpx.AsyncClient, who: Who, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = unique_family_name()
    named = child(given_name="Philippa", family_name=family, date_of_birth=BORN, nhs_number=NHS)
    first = await create_referral(client, who["police"], referral_body(named))
    _later(monkeypatch, 26)
    # Years later the same person is named again (an adult now, on a concern still kept).
    adult = {"given_name": "Philippa", "family_name": family, "date_of_birth": BORN, "nhs_number": NHS}
    concern = await raise_concern(client, who["gp"], concern_body(adult=adult))
    person_id = await _hub_person(client, who["practitioner"], f"/v1/referrals/{first['id']}")
    assert await _hub_person(client, who["asc_manager"], f"/v1/adult-concerns/{concern['id']}") == person_id

    done = ok(await _anonymise(client, who["governance"], "referral", first["id"]), 201)
    assert done["people_anonymised"] == [] and done["people_kept"] == [person_id]
    person = ok(await client.get(f"/v1/people/{person_id}", headers=who["practitioner"]))
    assert person["family_name"] == family


async def test_an_adult_concern_is_kept_eight_years_after_the_last_contact(
    client: httpx.AsyncClient, app: FastAPI, who: Who, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = concern_body()
    concern = await raise_concern(client, who["gp"], body)
    concern_id = concern["id"]
    await decide(client, who["asc_manager"], concern_id)
    enquiry = await open_enquiry(client, who["asc_manager"], concern_id)
    person_id = await _hub_person(client, who["asc_manager"], f"/v1/adult-concerns/{concern_id}")
    ig = who["governance"]
    personal = [
        body["adult"]["given_name"],
        body["adult"]["family_name"],
        body["adult"]["date_of_birth"],
        "E17 5JW",
        "Dr Patel",
        "7946 0101",
        "large sums",
        "her son to get into trouble",
        "keep her money safe",
        "Dementia; daily care package",  # the section 42 decision's reasons
        "Recorded against each criterion",
        "Phone Dr Patel",
    ]

    _later(monkeypatch, 7)
    assert await _listed(client, ig, "adult_concern", concern_id) == []
    _later(monkeypatch, 2)
    [item] = await _listed(client, ig, "adult_concern", concern_id)
    assert item["basis"] == "after_last_activity" and item["years"] == 8

    done = ok(await _anonymise(client, ig, "adult_concern", concern_id), 201)
    assert done["people_anonymised"] == [person_id]
    assert (await _chain_valid(client, who))["valid"] is True
    seen = ok(await client.get(f"/v1/adult-concerns/{concern_id}", headers=who["asc_manager"]))
    _absent(seen, *personal)
    _absent(ok(await client.get("/v1/adult-concerns?limit=200", headers=who["asc_manager"])), *personal)
    _absent(ok(await client.get(f"/v1/enquiries/{enquiry['id']}", headers=who["asc_manager"])), *personal)
    export = ok(await client.get(f"/v1/people/{person_id}/record", headers=ig))
    assert [c["id"] for c in export["adults"]["concerns"]] == [concern_id]
    _absent(export, *personal)
    assert await audit_events(app, action="update", record_type="adult_concern", record_id=concern_id)


async def test_the_rules_are_the_configured_ones(client: httpx.AsyncClient, who: Who) -> None:
    rules = ok(await client.get("/v1/retention/rules", headers=who["governance"]))["rules"]
    assert {(r["record_type"], r["basis"], r["years"]) for r in rules} == {
        ("referral", "until_age", 25),
        ("adult_concern", "after_last_activity", 8),
    }
    assert all("IRMS" in r["source"] for r in rules)


@pytest.mark.parametrize(
    "caller", ["admin", "practitioner", "mash_manager", "asc_manager", "police", "auditor"]
)
async def test_only_information_governance_manages_retention(
    client: httpx.AsyncClient, who: Who, caller: str
) -> None:
    review = await client.get("/v1/retention/review?record_type=referral", headers=who[caller])
    assert_problem(review, 403, "insufficient_scope")
    hold = await client.post(
        "/v1/legal-holds",
        json={"record_type": "referral", "record_id": "0b9f6c1e-3f0a-4d55-9d1e-7a2b6c8d9e01", "reason": "x"},
        headers=who[caller],
    )
    assert_problem(hold, 403, "insufficient_scope")


async def test_a_hold_names_a_record_that_exists(
    client: httpx.AsyncClient, who: Who, auth: TokenFactory
) -> None:
    missing = await client.post(
        "/v1/legal-holds",
        json={
            "record_type": "adult_concern",
            "record_id": "0b9f6c1e-3f0a-4d55-9d1e-7a2b6c8d9e01",
            "reason": "x",
        },
        headers=who["governance"],
    )
    assert_problem(missing, 404, "not_found")
    assert_problem(
        await client.get("/v1/legal-holds/0b9f6c1e-3f0a-4d55-9d1e-7a2b6c8d9e01", headers=who["governance"]),
        404,
        "not_found",
    )
    unknown = await client.get("/v1/retention/review?record_type=person", headers=who["governance"])
    assert_problem(unknown, 422, "validation_failed")
    assert date.fromisoformat(BORN).year == 2018


async def test_the_command_line_lists_what_the_review_list_does(
    client: httpx.AsyncClient, app: FastAPI, who: Who, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral = await create_referral(
        client, who["police"], referral_body(child(family_name=unique_family_name()))
    )
    monkeypatch.setenv("MASH_DATABASE_URL", app.state.settings.database_url)

    async def listed() -> list[str]:
        ran = await asyncio.to_thread(mash, "retention", "review", "--record-type", "referral")
        assert ran.exit_code == 0, ran.stdout
        return [json.loads(line)["record_id"] for line in ran.stdout.splitlines()]

    assert referral["id"] not in await listed()
    _later(monkeypatch, 26)
    assert referral["id"] in await listed()
    hold = {"record_type": "referral", "record_id": referral["id"], "reason": "Inquiry notice."}
    ok(await client.post("/v1/legal-holds", json=hold, headers=who["governance"]), 201)
    assert referral["id"] not in await listed()
    assert await audit_events(app, action="list", record_type="retention_review", actor_agency="system")
