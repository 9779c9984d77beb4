"""The disclosure log: a row each time information about a person leaves the agency that holds it,
and only then (see ``app.people.disclosures`` for the rules), read through GET /v1/people/{id}/disclosures:
by information governance whole, by each lead agency for its own side's records."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from app.models.disclosure import Disclosure
from tests.fixtures.adults import action as plan_action
from tests.fixtures.adults import concern_body, decide, make_plan, open_enquiry, plan_body, raise_concern
from tests.fixtures.callers import Who
from tests.fixtures.database import audit_events
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.people import create_person
from tests.fixtures.referrals import (
    NOT_CONSENTED,
    ask,
    create_referral,
    override_consent,
    rate,
    referral_body,
    unique_child,
)
from tests.fixtures.values import Body

SAFEGUARDING = "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18"


async def log_of(
    http: httpx.AsyncClient,
    who: Who,
    person_id: str,
    reader: str = "governance",
    **params: Any,
) -> list[Body]:
    """The log as ``reader`` sees it (information governance: all of it)."""
    page = ok(await http.get(f"/v1/people/{person_id}/disclosures", params=params, headers=who[reader]))
    items: list[Body] = page["items"]
    return items


async def children_of(http: httpx.AsyncClient, who: Who, referral_id: str) -> list[Body]:
    full = ok(await http.get(f"/v1/referrals/{referral_id}", headers=who["practitioner"]))
    children: list[Body] = full["children"]
    return children


async def rows(app: FastAPI) -> list[Disclosure]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(sa.select(Disclosure).order_by(Disclosure.disclosed_at))).all())


# ---------------------------------------------------------------------------------------------------
# Contribution requests


async def test_asking_agencies_names_each_child_to_each_agency_on_the_override_basis(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(
        client, who["police"], referral_body(unique_child(), unique_child(), parental_consent=NOT_CONSENTED)
    )
    await override_consent(
        client,
        who["manager"],
        referral["id"],
        reason="Telling the father would put the children at risk.",
        lawful_basis="uk_gdpr_6_1_d_vital_interests",
        special_category_condition="uk_gdpr_9_2_c_vital_interests",
    )
    await rate(client, who["practitioner"], referral["id"])
    asked = {
        c["agency"]: c["id"]
        for c in await ask(client, who["practitioner"], referral["id"], "health", "housing")
    }

    for child in await children_of(client, who, referral["id"]):
        log = await log_of(client, who, child["person_id"])
        assert sorted((d["recipient_agency"], d["record_id"]) for d in log) == sorted(asked.items())
        for entry in log:
            assert entry["person_id"] == child["person_id"]
            assert entry["trigger"] == "contribution_request"
            assert entry["record_type"] == "contribution"
            assert entry["recipient_type"] == "agency"
            assert entry["purpose"] == "mash_information_request"
            assert entry["lawful_basis"] == "uk_gdpr_6_1_d_vital_interests"
            assert entry["special_category_condition"] == "uk_gdpr_9_2_c_vital_interests"
            assert entry["disclosed_by"] == {
                "sub": "practitioner-ann",
                "agency": "childrens_social_care",
                "role": "mash_practitioner",
            }
            assert entry["subject_access_request_id"] is None


async def test_with_the_parents_consent_the_basis_is_consent(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    (child,) = await children_of(client, who, referral["id"])
    (entry,) = await log_of(client, who, child["person_id"])
    assert (entry["record_id"], entry["recipient_agency"]) == (request["id"], "health")
    assert (entry["lawful_basis"], entry["special_category_condition"]) == ("uk_gdpr_6_1_a_consent", None)


async def test_a_child_not_yet_matched_joins_the_log_when_matched(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    family = "Q" + uuid.uuid4().hex[:8]
    known = await create_person(
        client,
        who["practitioner"],
        {
            "given_name": "Jessica",
            "family_name": family,
            "date_of_birth": "2016-02-11",
            "postcode": "E17 4UH",
        },
    )
    near_miss = {"given_name": "Jesica", "family_name": family, "date_of_birth": "2016-02-11"}
    referral = await create_referral(client, who["police"], referral_body(near_miss))
    await rate(client, who["practitioner"], referral["id"])
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    (child,) = await children_of(client, who, referral["id"])
    assert child["match"]["status"] == "pending"
    (written,) = await rows(app)
    assert (written.person_id, str(written.referral_child_id)) == (None, child["id"])
    assert await log_of(client, who, known["id"]) == []

    ok(
        await client.post(
            f"/v1/referrals/{referral['id']}/children/{child['id']}/match-confirmation",
            json={"person_id": known["id"]},
            headers=who["practitioner"],
        )
    )
    (entry,) = await log_of(client, who, known["id"])
    assert (entry["person_id"], entry["record_id"], entry["recipient_agency"]) == (
        known["id"],
        request["id"],
        "health",
    )


# ---------------------------------------------------------------------------------------------------
# Reads of children's records


async def test_partner_agencies_reading_what_others_recorded_are_disclosures_and_the_hub_reading_is_not(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    (child,) = await children_of(client, who, referral["id"])
    person_id = child["person_id"]
    url = f"/v1/referrals/{referral['id']}"

    # The referrer reading what it sent, before the hub has done anything: nothing of another agency's.
    ok(await client.get(url, headers=who["police"]))
    ok(await client.get(f"{url}/timeline", headers=who["police"]))
    assert await log_of(client, who, person_id) == []

    await rate(client, who["practitioner"], referral["id"])
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    baseline = len(await log_of(client, who, person_id))  # the request itself

    ok(await client.get(url, headers=who["practitioner"]))  # the hub's own record
    ok(await client.get(url, headers=who["police"]))  # the referrer sees the hub's rating
    ok(await client.get(f"{url}/timeline", headers=who["police"]))
    ok(await client.get(url, headers=who["health"]))  # the asked agency sees the child
    ok(await client.get(f"/v1/contributions/{request['id']}", headers=who["health"]))
    ok(await client.get("/v1/contributions", headers=who["health"]))  # its inbox: a list, not logged
    ok(await client.get(f"/v1/contributions/{request['id']}", headers=who["practitioner"]))

    log = await log_of(client, who, person_id, trigger="read")
    assert len(await log_of(client, who, person_id)) == baseline + len(log)
    assert sorted(
        (d["recipient_agency"], d["record_type"], d["record_id"], d["purpose"]) for d in log
    ) == sorted(
        [
            ("police", "referral", referral["id"], "referrer_feedback"),
            ("police", "referral_timeline", referral["id"], "referrer_feedback"),
            ("health", "referral", referral["id"], "mash_information_request"),
            ("health", "contribution", request["id"], "mash_information_request"),
        ]
    )
    for entry in log:
        assert entry["disclosed_by"]["agency"] == entry["recipient_agency"]  # the reader
        assert entry["disclosed_by"]["sub"] in ("police-system", "health-system")
        expected_basis = (
            "uk_gdpr_6_1_a_consent"
            if entry["recipient_agency"] == "health"
            else ("uk_gdpr_6_1_e_public_task")
        )
        assert entry["lawful_basis"] == expected_basis

    # Only identifiers and codes are stored: never the child's name.
    written = await rows(app)
    assert child["family_name"] not in json.dumps([r.details for r in written])


# ---------------------------------------------------------------------------------------------------
# Reads of adults' records


async def test_reads_of_adults_records_by_partner_agencies_are_disclosures(
    client: httpx.AsyncClient, who: Who
) -> None:
    concern = await raise_concern(client, who["health"], concern_body())
    full = ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["worker"]))
    person_id = full["adult"]["person_id"]
    ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["health"]))
    assert await log_of(client, who, person_id) == []  # nothing of adult social care's in it yet

    await decide(client, who["asc_manager"], concern["id"])
    enquiry = await open_enquiry(client, who["worker"], concern["id"], caused_to_agency="police")
    plan = await make_plan(
        client, who["worker"], plan_body(person_id, plan_action("housing"), concern_id=concern["id"])
    )
    for headers in (who["worker"], who["asc_manager"]):  # adult social care's own records
        ok(await client.get(f"/v1/enquiries/{enquiry['id']}", headers=headers))
        ok(await client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=headers))
    assert await log_of(client, who, person_id) == []

    ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["health"]))
    ok(await client.get(f"/v1/enquiries/{enquiry['id']}", headers=who["police"]))
    ok(await client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=who["housing"]))
    assert_problem(
        await client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=who["police"]), 404, "not_found"
    )  # not given: not disclosed

    log = await log_of(client, who, person_id)
    assert sorted((d["recipient_agency"], d["record_type"], d["record_id"], d["purpose"]) for d in log) == [
        ("health", "adult_concern", concern["id"], "referrer_feedback"),
        ("housing", "safeguarding_plan", plan["id"], "safeguarding_plan_action"),
        ("police", "enquiry", enquiry["id"], "safeguarding_enquiry"),
    ]
    for entry in log:
        assert entry["trigger"] == "read"
        assert (entry["lawful_basis"], entry["special_category_condition"]) == (
            "uk_gdpr_6_1_e_public_task",
            SAFEGUARDING,
        )


# ---------------------------------------------------------------------------------------------------
# Reading the log


async def test_the_log_is_paged_newest_first_and_filtered(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    await ask(client, who["practitioner"], referral["id"], "health", "housing", "education")
    for _ in range(2):
        ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["health"]))
    (child,) = await children_of(client, who, referral["id"])
    url = f"/v1/people/{child['person_id']}/disclosures"

    first = await client.get(url, params={"limit": 3}, headers=who["practitioner"])
    page = ok(first)
    assert len(page["items"]) == 3 and page["next_cursor"]
    assert 'rel="next"' in first.headers["link"]
    rest = ok(
        await client.get(url, params={"limit": 3, "cursor": page["next_cursor"]}, headers=who["practitioner"])
    )
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    everything = page["items"] + rest["items"]
    assert len({d["id"] for d in everything}) == 5
    assert [d["disclosed_at"] for d in everything] == sorted(
        (d["disclosed_at"] for d in everything), reverse=True
    )
    assert [d["trigger"] for d in everything[:2]] == ["read", "read"]  # the latest first

    health = ok(await client.get(url, params={"recipient_agency": "health"}, headers=who["practitioner"]))
    assert [d["trigger"] for d in health["items"]] == ["read", "read", "contribution_request"]
    asked = ok(await client.get(url, params={"trigger": "contribution_request"}, headers=who["practitioner"]))
    assert sorted(d["recipient_agency"] for d in asked["items"]) == ["education", "health", "housing"]
    assert_problem(
        await client.get(url, params={"trigger": "gossip"}, headers=who["practitioner"]),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.get(url, params={"limit": 0}, headers=who["practitioner"]), 422, "validation_failed"
    )


async def test_each_lead_agency_reads_the_disclosures_of_its_own_sides_records(
    client: httpx.AsyncClient, who: Who
) -> None:
    """Nobody reads more of the log than they could read record by record: a child's entries are
    children's social care's (and information governance's), an adult's adult social care's."""
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    await ask(client, who["practitioner"], referral["id"], "health")
    ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["health"]))
    (child,) = await children_of(client, who, referral["id"])
    concern = await raise_concern(client, who["health"], concern_body())
    adult = (ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["worker"])))["adult"][
        "person_id"
    ]
    await decide(client, who["asc_manager"], concern["id"])
    ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["health"]))

    def kinds(log: list[Body]) -> list[tuple[str, str]]:
        return sorted((d["trigger"], d["record_type"]) for d in log)

    childs = [("contribution_request", "contribution"), ("read", "referral")]
    adults = [("read", "adult_concern")]
    assert kinds(await log_of(client, who, child["person_id"], "practitioner")) == childs
    assert kinds(await log_of(client, who, child["person_id"], "governance")) == childs
    assert await log_of(client, who, child["person_id"], "worker") == []
    assert kinds(await log_of(client, who, adult, "worker")) == adults
    assert kinds(await log_of(client, who, adult, "governance")) == adults
    assert await log_of(client, who, adult, "practitioner") == []


async def test_reading_the_log_needs_people_read_is_audited_and_an_unknown_person_is_not_found(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    ivo = {"given_name": "Ivo", "family_name": "Q" + uuid.uuid4().hex[:8], "date_of_birth": "2010-10-10"}
    person = await create_person(client, who["practitioner"], ivo)
    url = f"/v1/people/{person['id']}/disclosures"
    for role in ("police", "health", "auditor"):
        assert_problem(await client.get(url, headers=who[role]), 403, "insufficient_scope")
    assert_problem(
        await client.get(f"/v1/people/{uuid.uuid4()}/disclosures", headers=who["worker"]), 404, "not_found"
    )
    assert (ok(await client.get(url, headers=who["worker"]))) == {"items": [], "next_cursor": None}

    (event,) = await audit_events(app, record_type="disclosure")
    assert (event.action, str(event.person_id), event.actor_sub) == ("list", person["id"], "asc-worker")
    assert event.details == {"disclosure_ids": []}
