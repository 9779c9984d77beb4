"""A request for a record id the caller may not see, or that does not exist, is answered 404 **and
audited** (api.md): who asked (sub, agency, role) for which record type and id, how, through which
route. The request's own transaction is rolled back, so the entry is written in one of its own; on
PostgreSQL as the caller, under row-level security, into the insert-only trail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.main import openapi_document
from tests.fixtures.callers import TokenFactory
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import create_referral, referral_body, unique_child
from tests.fixtures.values import Headers

Event = dict[str, Any]


@pytest.fixture
def auditor(auth: TokenFactory) -> Headers:
    return auth("auditor", "childrens_social_care", sub="auditor-eve")


async def trail_of(client: httpx.AsyncClient, auditor: Headers, **params: str) -> list[Event]:
    events: list[Event] = []
    cursor: str | None = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        response = await client.get(
            "/v1/audit-events", params={**params, **extra, "limit": 200}, headers=auditor
        )
        assert response.status_code == 200, response.text
        events += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return events


async def test_a_read_of_another_agencys_referral_is_answered_404_and_audited(
    client: httpx.AsyncClient, auth: TokenFactory, auditor: Headers
) -> None:
    health = auth("partner_referrer", "health", sub="health-system")
    police = auth("partner_referrer", "police", sub="police-system")
    referral = await create_referral(client, health, referral_body(unique_child()))

    response = await client.get(f"/v1/referrals/{referral['id']}", headers=police)
    assert_problem(response, 404, "not_found")
    assert referral["id"] not in response.text

    events = await trail_of(client, auditor, record_type="referral", record_id=referral["id"])
    assert [(e["action"], e["actor"]["agency"]) for e in events] == [
        ("create", "health"),
        ("not_found", "police"),
    ]
    refused = events[-1]
    assert refused["actor"] == {"sub": "police-system", "agency": "police", "role": "partner_referrer"}
    assert refused["record_type"] == "referral"
    assert refused["record_id"] == referral["id"]
    assert refused["person_id"] is None, "the 404 reveals nothing, not even to the trail's filters"
    assert refused["details"] == {
        "method": "GET",
        "route": "/v1/referrals/{referral_id}",
        "path_ids": {"referral_id": referral["id"]},
    }


async def test_an_id_that_does_not_exist_is_audited_the_same_way(
    client: httpx.AsyncClient, auth: TokenFactory, auditor: Headers
) -> None:
    made_up = str(uuid.uuid4())
    response = await client.get(f"/v1/adult-concerns/{made_up}", headers=auth("asc_practitioner", sub="ann"))
    assert_problem(response, 404, "not_found")
    [entry] = await trail_of(client, auditor, record_type="adult_concern", record_id=made_up)
    assert entry["action"] == "not_found"
    assert entry["actor"] == {"sub": "ann", "agency": "adult_social_care", "role": "asc_practitioner"}


async def test_a_write_to_a_record_the_caller_may_not_see_is_audited_and_changes_nothing(
    client: httpx.AsyncClient, auth: TokenFactory, auditor: Headers
) -> None:
    made_up = str(uuid.uuid4())
    practitioner = {**auth("mash_practitioner", sub="ann"), "If-Match": '"1"'}
    response = await client.patch(f"/v1/people/{made_up}", json={"postcode": "E17 9QA"}, headers=practitioner)
    assert_problem(response, 404, "not_found")
    [entry] = await trail_of(client, auditor, record_type="person", record_id=made_up)
    assert entry["action"] == "not_found"
    assert entry["details"]["method"] == "PATCH"


async def test_a_nested_record_names_the_record_asked_for_and_its_parent(
    client: httpx.AsyncClient, auth: TokenFactory, auditor: Headers
) -> None:
    practitioner = auth("mash_practitioner", sub="ann")
    referral = await create_referral(
        client, auth("partner_referrer", "police"), referral_body(unique_child())
    )
    made_up = str(uuid.uuid4())
    url = f"/v1/referrals/{referral['id']}/communications/{made_up}"
    assert_problem(await client.get(url, headers=practitioner), 404, "not_found")
    [entry] = await trail_of(client, auditor, record_type="communication", record_id=made_up)
    assert entry["details"]["path_ids"] == {"referral_id": referral["id"], "communication_id": made_up}
    # The read of the referral on the way was rolled back with the request: only the 404 is on the trail.
    reads = await trail_of(
        client, auditor, record_type="referral", record_id=referral["id"], agency="childrens_social_care"
    )
    assert reads == []


# Callers tried in turn until one has the route's scope (403 means: not this one).
CALLERS = [
    ("mash_manager", "childrens_social_care"),
    ("asc_manager", "adult_social_care"),
    ("admin", "childrens_social_care"),
    ("information_governance", "council"),
]


def record_reads() -> list[tuple[str, list[str]]]:
    """Every GET of a record by id, from the application's own route table (its OpenAPI document)."""
    reads = []
    for path, item in openapi_document()["paths"].items():
        operation = item.get("get", {})
        ids = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        if ids and all(
            p["schema"].get("format") == "uuid" for p in operation["parameters"] if p["in"] == "path"
        ):
            reads.append((path, ids))
    return reads


async def test_every_read_of_a_record_id_answered_404_is_audited(
    client: httpx.AsyncClient, auth: TokenFactory, auditor: Headers
) -> None:
    asked: list[tuple[str, dict[str, str], str]] = []  # (route, the ids in it, agency of the caller)
    reads = record_reads()
    assert len(reads) >= 15
    for path, names in reads:
        ids = {name: str(uuid.uuid4()) for name in names}
        for role, agency in CALLERS:
            response = await client.get(path.format(**ids), headers=auth(role, agency, sub=f"prober-{role}"))
            if response.status_code != 403:
                break
        assert_problem(response, 404, "not_found")
        asked.append((path, ids, agency))

    refused = await trail_of(client, auditor, **{"action": "not_found", "from": "2000-01-01T00:00:00Z"})
    for path, ids, agency in asked:
        entries = [e for e in refused if e["details"]["path_ids"] == ids]
        assert len(entries) == 1, f"GET {path}: a 404 not audited"
        [entry] = entries
        assert entry["record_id"] in ids.values(), "the record found missing: the one asked for or its parent"
        assert entry["details"]["route"] == path
        assert entry["actor"]["agency"] == agency
