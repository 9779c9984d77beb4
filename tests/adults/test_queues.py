"""Adult social care's work queues: allocating concerns and enquiries, "my open enquiries" in one
request, and the concern list's queue fields (api.md, "Work queues and screens")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.adults import (
    Case,
    concern_in,
    decide,
    open_enquiry,
    raise_concern,
)
from tests.fixtures.callers import Who
from tests.fixtures.database import counting_statements, run_sql
from tests.fixtures.feed import read_all
from tests.fixtures.http import assert_problem, item_ids, ok, walk_pages
from tests.fixtures.values import Headers, sql_id

MINE_OPEN = {"allocated_to": "me", "status": "open", "limit": "200"}


async def allocate(
    http: httpx.AsyncClient, headers: Headers, url: str, worker: str | None, team: str | None = None
) -> httpx.Response:
    return await http.post(f"{url}/allocation", json={"worker": worker, "team": team}, headers=headers)


async def open_case(http: httpx.AsyncClient, who: Who, worker: str | None = "asc-worker") -> Case:
    """A concern with its enquiry open (advocacy assessed), allocated to ``worker``."""
    case = await concern_in(http, who, "enquiry_open")
    assert case.enquiry_id is not None
    ok(
        await allocate(
            http, who["manager"], f"/v1/enquiries/{case.enquiry_id}", worker, "Safeguarding adults"
        )
    )
    return case


async def test_my_open_enquiries_are_one_request_in_a_constant_number_of_statements(
    client: httpx.AsyncClient, adult_who: Who, app: FastAPI
) -> None:
    who = adult_who
    few = [await open_case(client, who) for _ in range(2)]
    with counting_statements(app) as small:
        page = ok(await client.get("/v1/enquiries", params=MINE_OPEN, headers=who["worker"]))
    assert {item["id"] for item in page["items"]} == {c.enquiry_id for c in few}

    many = few + [await open_case(client, who) for _ in range(10)]
    await open_case(client, who, worker="asc-someone-else")  # not mine
    await open_case(client, who, worker=None)  # the team's, nobody's yet
    concluded = await concern_in(client, who, "enquiry_concluded")  # mine, but no longer open
    assert concluded.enquiry_id is not None
    response = await allocate(client, who["manager"], f"/v1/enquiries/{concluded.enquiry_id}", "asc-worker")
    assert_problem(response, 409, "invalid_transition")
    with counting_statements(app) as large:
        page = ok(await client.get("/v1/enquiries", params=MINE_OPEN, headers=who["worker"]))
    assert len(large) == len(small), "\n".join(large)

    items = page["items"]
    assert [item["id"] for item in items] == [c.enquiry_id for c in reversed(many)], "newest first"
    for item, case in zip(items, reversed(many), strict=True):
        assert item["concern_id"] == case.id and item["status"] == "open" and item["overdue"] is False
        adult = case.full["adult"]
        assert item["adult"] == {
            k: adult[k] for k in ("person_id", "given_name", "family_name", "date_of_birth")
        }
        assert item["objectives"] == ["establish_facts", "ascertain_views_and_wishes", "protect"]
        assert (item["allocation"]["worker"], item["allocation"]["team"]) == (
            "asc-worker",
            "Safeguarding adults",
        )
        assert item["advocacy"] == {"required": False, "offer": "not_required", "advocate_outstanding": False}
        assert item["opened_at"] and item["lead_agency"] == "adult_social_care"

    oldest_first = await walk_pages(
        client, who["worker"], "/v1/enquiries?allocated_to=me&sort=opened_at&limit=5"
    )
    assert [i["id"] for p in oldest_first for i in p["items"]] == [c.enquiry_id for c in many]
    assert await item_ids(client, who["worker"], "/v1/enquiries", status="concluded") == [
        concluded.enquiry_id
    ]
    both = await item_ids(client, who["worker"], "/v1/enquiries", status="open,concluded", limit=200)
    assert len(both) == len(many) + 3


async def test_overdue_enquiries_are_open_past_the_hubs_target(
    client: httpx.AsyncClient, adult_who: Who, app: FastAPI
) -> None:
    who = adult_who
    late, recent = await open_case(client, who), await open_case(client, who)
    await run_sql(
        app,
        f"UPDATE enquiries SET opened_at = '2000-01-01 00:00:00.000000' WHERE id = '{sql_id(late.enquiry_id or '')}'",
    )
    assert await item_ids(client, who["worker"], "/v1/enquiries", overdue="true") == [late.enquiry_id]
    assert await item_ids(client, who["worker"], "/v1/enquiries", overdue="false") == [recent.enquiry_id]


async def test_an_agency_lists_the_enquiries_it_leads_or_was_caused_without_allocations(
    client: httpx.AsyncClient, adult_who: Who
) -> None:
    who = adult_who
    concern = await raise_concern(client, who["health"])
    await decide(client, who["manager"], concern["id"])
    led = await open_enquiry(client, who["worker"], concern["id"], lead_agency="police")
    ok(
        await allocate(
            client, who["manager"], f"/v1/enquiries/{led['id']}", "asc-worker", "Safeguarding adults"
        )
    )
    caused = await raise_concern(client, who["health"])
    await decide(client, who["manager"], caused["id"])
    caused_enquiry = await open_enquiry(client, who["worker"], caused["id"], caused_to_agency="police")
    others = await open_case(client, who)

    police = who["police"]
    page = ok(await client.get("/v1/enquiries", headers=police))
    assert [item["id"] for item in page["items"]] == [caused_enquiry["id"], led["id"]]
    for item in page["items"]:
        assert item["allocation"] is None and item["adult"]["person_id"] is None
    assert "asc-worker" not in str(page)
    assert await item_ids(client, police, "/v1/enquiries", lead_agency="police") == [led["id"]]
    # The raising agency (health) leads none: it sees its concern, not the enquiries.
    assert await item_ids(client, who["health"], "/v1/enquiries") == []
    assert others.enquiry_id in await item_ids(client, who["worker"], "/v1/enquiries")
    response = await client.get("/v1/enquiries", params={"allocated_to": "me"}, headers=police)
    assert_problem(response, 422, "validation_failed")


async def test_who_may_allocate_an_adult_concern_or_enquiry(
    client: httpx.AsyncClient, adult_who: Who
) -> None:
    who = adult_who
    case = await concern_in(client, who, "enquiry_open")
    body = {"worker": "asc-worker", "team": None}
    for url in (f"/v1/adult-concerns/{case.id}/allocation", f"/v1/enquiries/{case.enquiry_id}/allocation"):
        for partner in ("health", "police"):
            assert_problem(await client.post(url, json=body, headers=who[partner]), 403, "insufficient_scope")
        assert_problem(
            await client.post(url, json={"worker": 7, "team": None}, headers=who["worker"]),
            422,
            "validation_failed",
        )
        ok(await client.post(url, json=body, headers=who["worker"]))
    for url in (
        "/v1/adult-concerns/4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a/allocation",
        "/v1/enquiries/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b/allocation",
    ):
        assert_problem(await client.post(url, json=body, headers=who["worker"]), 404, "not_found")
    closed = await concern_in(client, who, "closed")
    response = await client.post(
        f"/v1/adult-concerns/{closed.id}/allocation", json=body, headers=who["worker"]
    )
    assert_problem(response, 409, "invalid_transition")


async def test_the_concern_list_is_the_hubs_queue_and_the_raisers_list(
    client: httpx.AsyncClient, adult_who: Who, app: FastAPI
) -> None:
    who = adult_who
    _, cursor = await read_all(client, who["health"])
    received = await concern_in(client, who, "received")
    with_enquiry = await concern_in(client, who, "enquiry_open")
    own = await raise_concern(client, who["worker"])
    response = await allocate(
        client, who["manager"], f"/v1/adult-concerns/{received.id}", "asc-worker", "Front door"
    )
    allocation = ok(response)
    assert (allocation["worker"], allocation["team"], allocation["allocated_by"]) == (
        "asc-worker",
        "Front door",
        "asc-manager",
    )
    assert (
        response.headers["etag"]
        == (await client.get(f"/v1/adult-concerns/{received.id}", headers=who["worker"])).headers["etag"]
    )

    hub = who["worker"]
    items = {item["id"]: item for item in ok(await client.get("/v1/adult-concerns", headers=hub))["items"]}
    assert items[with_enquiry.id]["enquiry_id"] == with_enquiry.enquiry_id
    assert items[received.id]["enquiry_id"] is None
    assert items[received.id]["allocation"]["worker"] == "asc-worker"
    assert await item_ids(client, hub, "/v1/adult-concerns", allocated_to="me") == [received.id]
    assert await item_ids(client, hub, "/v1/adult-concerns", team="Front door") == [received.id]
    assert await item_ids(client, hub, "/v1/adult-concerns", allocated_to="none") == [
        own["id"],
        with_enquiry.id,
    ]
    assert await item_ids(client, hub, "/v1/adult-concerns", source="hub") == [own["id"]]
    assert await item_ids(client, hub, "/v1/adult-concerns", source="partner") == [
        with_enquiry.id,
        received.id,
    ]
    assert await item_ids(client, hub, "/v1/adult-concerns", source="public") == []
    items = ok(await client.get("/v1/adult-concerns", headers=hub))["items"]
    assert {item["id"]: item["source"] for item in items} == {
        own["id"]: "hub",
        with_enquiry.id: "partner",
        received.id: "partner",
    }
    assert await item_ids(client, hub, "/v1/adult-concerns", status="received,enquiry_open") == [
        own["id"],
        with_enquiry.id,
        received.id,
    ]

    # Deadlines in the opposite order of receipt.
    for n, concern_id in enumerate((own["id"], with_enquiry.id, received.id)):
        await run_sql(
            app,
            f"UPDATE adult_concerns SET decision_due_at = '2000-01-0{n + 1} 00:00:00.000000' WHERE id = '{sql_id(concern_id)}'",
        )
    by_deadline = await walk_pages(client, hub, "/v1/adult-concerns?sort=decision_due_at&limit=2")
    assert [i["id"] for p in by_deadline for i in p["items"]] == [own["id"], with_enquiry.id, received.id]
    first = ok(
        await client.get("/v1/adult-concerns", params={"sort": "decision_due_at", "limit": 1}, headers=hub)
    )
    response = await client.get("/v1/adult-concerns", params={"cursor": first["next_cursor"]}, headers=hub)
    assert_problem(response, 422, "invalid_cursor")

    raisers = ok(await client.get("/v1/adult-concerns", headers=who["health"]))["items"]
    assert {item["id"] for item in raisers} == {received.id, with_enquiry.id}
    assert all(item["allocation"] is None and item["enquiry_id"] is None for item in raisers)
    events, _ = await read_all(client, who["health"], cursor)
    assert not {"adult_concern.allocated", "enquiry.allocated"} & {e["event_type"] for e in events}
    assert_problem(
        await client.get("/v1/adult-concerns", params={"team": "Front door"}, headers=who["health"]),
        422,
        "validation_failed",
    )


@pytest.mark.parametrize(
    "params", [{"status": "open,maybe"}, {"lead_agency": "mi5"}, {"sort": "received_at"}, {"overdue": "x"}]
)
async def test_a_bad_enquiry_filter_is_refused(
    client: httpx.AsyncClient, adult_who: Who, params: dict[str, str]
) -> None:
    response = await client.get("/v1/enquiries", params=params, headers=adult_who["worker"])
    assert_problem(response, 422, "validation_failed")
