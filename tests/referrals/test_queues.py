"""The hub's work queues on the children's side: allocation, the triage page, multi-value filters,
sorting with cursors, and the counts that match the list (api.md, "Work queues and screens")."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core import clock
from app.core.clock import age_on
from tests.fixtures.callers import Who
from tests.fixtures.database import audit_events, counting_statements, run_sql
from tests.fixtures.feed import read_all
from tests.fixtures.http import assert_problem, item_ids, ok, walk_pages
from tests.fixtures.referrals import (
    ask,
    child,
    create_referral,
    decided_referral,
    get_referral,
    rate,
    rated_referral,
    referral_body,
    unique_child,
)
from tests.fixtures.values import Body, Headers, dt, sql_id, unique_family_name

TRIAGE_FILTERS = {"allocated_to": "none", "overdue": "true"}
TRIAGE = {**TRIAGE_FILTERS, "sort": "decision_due_at", "limit": "200"}


async def allocate(
    http: httpx.AsyncClient,
    headers: Headers,
    referral_id: str,
    worker: str | None,
    team: str | None = None,
    **more: Any,
) -> httpx.Response:
    body = {"worker": worker, "team": team, **more}
    return await http.post(f"/v1/referrals/{referral_id}/allocation", json=body, headers=headers)


async def past_due(app: FastAPI, referral_ids: list[str]) -> None:
    """Each referral's deadline long past, in the order given (the first the longest ago)."""
    for n, referral_id in enumerate(referral_ids):
        await run_sql(
            app,
            f"UPDATE referrals SET decision_due_at = '2000-01-01 {n // 60:02}:{n % 60:02}:00.000000' "
            f"WHERE id = '{sql_id(referral_id)}'",
        )


def nhs_number(n: int) -> str:
    """A valid NHS number (mod-11 check digit) of its own for each ``n``."""
    while True:
        digits = [int(d) for d in f"{700_000_000 + n:09d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check % 11)
        n += 1_000_000


async def triage_case(http: httpx.AsyncClient, who: Who, number: int) -> Body:
    """A referral as the triage page shows them: two children (every third referral names a child
    referred before, by NHS number), categories, rated, two agencies asked."""
    born = f"{2010 + number % 8}-{1 + number % 12:02}-{1 + number % 28:02}"
    first = child(given_name=unique_family_name(), family_name=unique_family_name(), date_of_birth=born)
    first["nhs_number"] = nhs_number(number)
    second = child(given_name=unique_family_name(), family_name=unique_family_name(), date_of_birth=born)
    if number % 3 == 0:  # referred before: the second referral of the same child is a repeat
        await create_referral(http, who["health"], referral_body(first))
    referral = await create_referral(
        http,
        who["police"],
        referral_body(first, second, concern_categories=["domestic_abuse", "neglect"]),
    )
    await rate(http, who["practitioner"], referral["id"], ("red", "amber", "green")[number % 3])
    await ask(http, who["practitioner"], referral["id"], "health", "education")
    return referral


async def test_the_triage_page_is_one_request_in_a_constant_number_of_statements(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """50 overdue unallocated referrals, each with its children, categories, RAG rating, deadlines,
    outstanding checks and allocation, come from one request in as many statements as 2 do; and the
    counts of the same filters agree with the list."""
    hub = who["practitioner"]
    few = [await triage_case(client, who, n) for n in range(2)]
    await past_due(app, [r["id"] for r in few])
    with counting_statements(app) as small:
        page = ok(await client.get("/v1/referrals", params=TRIAGE, headers=hub))
    assert [item["id"] for item in page["items"]] == [r["id"] for r in few]

    many = few + [await triage_case(client, who, n) for n in range(2, 50)]
    taken = await rated_referral(client, who)  # allocated: not on the page
    assert (await allocate(client, hub, taken["id"], "practitioner-cat", "MASH A")).status_code == 200
    await past_due(app, [r["id"] for r in many] + [taken["id"]])
    with counting_statements(app) as large:
        response = await client.get("/v1/referrals", params=TRIAGE, headers=hub)
    page = ok(response)
    assert len(large) == len(small), "\n".join(large)

    items = page["items"]
    assert [item["id"] for item in items] == [r["id"] for r in many], "oldest deadline first"
    assert page["next_cursor"] is None
    for n, item in enumerate(items):
        assert item["overdue"] is True and item["allocation"]["worker"] is None
        assert item["rag_rating"] == ("red", "amber", "green")[n % 3]
        assert item["concern_categories"] == ["domestic_abuse", "neglect"]
        assert item["decision_due_at"] < item["received_at"] <= item["statutory_decision_due_at"]
        assert [len(item["children"]), *{c["age"] is not None for c in item["children"]}] == [2, True]
        checks = item["outstanding_checks"]
        assert sorted(c["agency"] for c in checks) == ["education", "health"]
        assert all(c["overdue"] is False and c["due_at"] for c in checks)
        assert item["earlier_referrals"] == (1 if n % 3 == 0 else 0)
    for item in items[:3]:  # as the referral itself says of its children
        children = (await get_referral(client, hub, item["id"]))["children"]
        assert item["match_pending"] == any(c["match"]["status"] == "pending" for c in children)

    counts = ok(await client.get("/v1/referrals/counts", params=TRIAGE_FILTERS, headers=hub))
    assert counts["total"] == counts["overdue"] == counts["unallocated"] == 50
    assert counts["by_rag"] == {"red": 17, "amber": 17, "green": 16, "blue": 0, "unrated": 0}
    assert counts["by_status"]["gathering_information"] == 50 and sum(counts["by_status"].values()) == 50


async def test_counts_match_the_list_whatever_the_filters(client: httpx.AsyncClient, who: Who) -> None:
    hub = who["practitioner"]
    red = await rated_referral(client, who, "red")
    await rated_referral(client, who, "amber")
    await create_referral(client, who["health"], referral_body(unique_child()))
    await decided_referral(client, who)
    assert (await allocate(client, hub, red["id"], "practitioner-ann")).status_code == 200
    for params in (
        {},
        {"rag": "red,amber"},
        {"status": "received"},
        {"referring_agency": "health"},
        {"allocated_to": "me"},
        {"allocated_to": "none", "status": "triaged,received"},
        {"source": "partner"},
    ):
        listed = [item for page in await _pages(client, hub, params) for item in page["items"]]
        counts = ok(await client.get("/v1/referrals/counts", params=params, headers=hub))
        assert counts["total"] == len(listed), params
        assert counts["overdue"] == sum(item["overdue"] for item in listed)
        assert counts["unallocated"] == sum(item["allocation"]["worker"] is None for item in listed)
        for status in counts["by_status"]:
            assert counts["by_status"][status] == sum(item["status"] == status for item in listed)
        for rag in counts["by_rag"]:
            expected = sum((item["rag_rating"] or "unrated") == rag for item in listed)
            assert counts["by_rag"][rag] == expected


async def _pages(client: httpx.AsyncClient, headers: Headers, params: dict[str, str]) -> list[Body]:
    query = "&".join(f"{k}={v}" for k, v in {**params, "limit": "2"}.items())
    return await walk_pages(client, headers, f"/v1/referrals?{query}")


async def test_a_multi_value_filter_means_any_of_them(client: httpx.AsyncClient, who: Who) -> None:
    """`rag=red&rag=amber` once returned only amber."""
    hub = who["practitioner"]
    red = await rated_referral(client, who, "red")
    amber = await rated_referral(client, who, "amber")
    green = await rated_referral(client, who, "green")
    received = await create_referral(client, who["health"], referral_body(unique_child()))
    expected = [amber["id"], red["id"]]
    assert await item_ids(client, hub, "/v1/referrals", rag="red,amber") == expected
    assert await item_ids(client, hub, "/v1/referrals", rag=["red", "amber"]) == expected
    assert await item_ids(client, hub, "/v1/referrals", rag=["red,amber", "red"]) == expected
    assert await item_ids(client, hub, "/v1/referrals", rag="green") == [green["id"]]
    assert await item_ids(client, hub, "/v1/referrals", status="received,triaged", rag="green") == [
        green["id"]
    ]
    assert await item_ids(client, hub, "/v1/referrals", status=["received"]) == [received["id"]]
    assert await item_ids(client, hub, "/v1/referrals", referring_agency="health,education") == [
        received["id"]
    ]
    counts = ok(await client.get("/v1/referrals/counts", params={"rag": ["red", "amber"]}, headers=hub))
    assert (counts["total"], counts["by_rag"]["red"], counts["by_rag"]["amber"]) == (2, 1, 1)


async def test_source_tells_the_hubs_own_referrals_from_partners(client: httpx.AsyncClient, who: Who) -> None:
    hub = who["practitioner"]
    partners = await create_referral(client, who["police"], referral_body(unique_child()))
    own = await create_referral(client, hub, referral_body(unique_child()))
    assert await item_ids(client, hub, "/v1/referrals", source="partner") == [partners["id"]]
    assert await item_ids(client, hub, "/v1/referrals", source="hub") == [own["id"]]
    assert await item_ids(client, hub, "/v1/referrals", source="public") == []
    assert await item_ids(client, hub, "/v1/referrals", source="hub,partner") == [own["id"], partners["id"]]
    # A member of the public, through the public's front door: received by the hub, not the hub's own.
    body = {
        "children": [{"given_name": "Pia", "family_name": "Queue-Public", "approximate_age": 9}],
        "what_happened": "Shouting and crying every night.",
        "concern_categories": ["emotional_abuse"],
        "parents_know": "not_sure",
        "raiser": {"anonymous": True, "relationship": "acquaintance"},
    }
    posted = await client.post("/public/v1/child-concerns", json=body)
    public = posted.headers["location"].rsplit("/", 1)[1]
    assert await item_ids(client, hub, "/v1/referrals", source="public") == [public]
    assert await item_ids(client, hub, "/v1/referrals", source="hub") == [own["id"]]
    assert await item_ids(client, hub, "/v1/referrals", source="public,partner") == [public, partners["id"]]
    items = ok(await client.get("/v1/referrals", headers=hub))["items"]
    assert [(item["id"], item["source"]) for item in items] == [
        (public, "public"),
        (own["id"], "hub"),
        (partners["id"], "partner"),
    ]
    assert await item_ids(client, who["police"], "/v1/referrals", source="public") == []


async def test_sorting_pages_with_cursors_that_keep_their_sort(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    hub = who["practitioner"]
    made = [await rated_referral(client, who) for _ in range(5)]
    # Deadlines in the opposite order of receipt.
    await past_due(app, [r["id"] for r in reversed(made)])
    ids = [r["id"] for r in made]

    def order(pages: list[Body]) -> list[str]:
        return [item["id"] for page in pages for item in page["items"]]

    assert order(await walk_pages(client, hub, "/v1/referrals?limit=2")) == ids[::-1]
    assert order(await walk_pages(client, hub, "/v1/referrals?limit=2&sort=received_at")) == ids
    assert order(await walk_pages(client, hub, "/v1/referrals?limit=2&sort=-received_at")) == ids[::-1]
    assert order(await walk_pages(client, hub, "/v1/referrals?limit=2&sort=decision_due_at")) == ids[::-1]
    assert order(await walk_pages(client, hub, "/v1/referrals?limit=2&sort=-decision_due_at")) == ids

    first = ok(await client.get("/v1/referrals", params={"limit": 2, "sort": "decision_due_at"}, headers=hub))
    cursor = first["next_cursor"]
    for other in ("-decision_due_at", "received_at", "-received_at"):
        response = await client.get("/v1/referrals", params={"sort": other, "cursor": cursor}, headers=hub)
        assert_problem(response, 422, "invalid_cursor")
    again = ok(
        await client.get("/v1/referrals", params={"sort": "decision_due_at", "cursor": cursor}, headers=hub)
    )
    assert [item["id"] for item in again["items"]] == ids[::-1][2:]


# ---------------------------------------------------------------------------------------------------
# Allocation


async def test_the_hub_allocates_and_lists_its_own_queue(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    hub, colleague = who["practitioner"], who["practitioner2"]
    mine = await rated_referral(client, who)
    theirs = await rated_referral(client, who)
    teams = await rated_referral(client, who)
    nobodys = await rated_referral(client, who)

    response = await allocate(
        client, who["manager"], mine["id"], "practitioner-ann", "MASH A", note="Knows the family."
    )
    allocation = ok(response)
    assert {k: allocation[k] for k in ("worker", "team", "allocated_by", "note")} == {
        "worker": "practitioner-ann",
        "team": "MASH A",
        "allocated_by": "manager-bob",
        "note": "Knows the family.",
    }
    assert response.headers["etag"]
    (entry,) = [
        e
        for e in await audit_events(app, action="update", record_id=mine["id"])
        if e.details.get("fields") == ["allocation"]
    ]
    assert (entry.actor_sub, entry.record_type) == ("manager-bob", "referral")
    ok(await allocate(client, hub, theirs["id"], "practitioner-cat", "MASH B"))
    ok(await allocate(client, hub, teams["id"], None, "MASH A"))

    assert await item_ids(client, hub, "/v1/referrals", allocated_to="me") == [mine["id"]]
    assert await item_ids(client, colleague, "/v1/referrals", allocated_to="me") == [theirs["id"]]
    assert await item_ids(client, hub, "/v1/referrals", allocated_to="practitioner-cat") == [theirs["id"]]
    assert await item_ids(client, hub, "/v1/referrals", allocated_to="none") == [nobodys["id"], teams["id"]]
    assert await item_ids(client, hub, "/v1/referrals", team="MASH A") == [teams["id"], mine["id"]]
    assert await item_ids(client, hub, "/v1/referrals", team="MASH A", allocated_to="none") == [teams["id"]]

    # Taken off everyone's list.
    ok(await allocate(client, hub, mine["id"], None, None))
    assert await item_ids(client, hub, "/v1/referrals", allocated_to="me") == []
    timeline = ok(await client.get(f"/v1/referrals/{mine['id']}/timeline", headers=hub))["items"]
    allocated = [e for e in timeline if e["event_type"] == "referral.allocated"]
    assert [e["data"] for e in allocated] == [
        {"worker": "practitioner-ann", "team": "MASH A"},
        {"worker": None, "team": None},
    ]


async def test_partners_never_see_allocations(client: httpx.AsyncClient, who: Who) -> None:
    police = who["police"]
    _, cursor = await read_all(client, police)
    referral = await rated_referral(client, who)
    ok(await allocate(client, who["practitioner"], referral["id"], "practitioner-ann", "MASH A"))

    (item,) = ok(await client.get("/v1/referrals", headers=police))["items"]
    assert item["id"] == referral["id"]
    hub_fields = (
        "allocation",
        "outstanding_checks",
        "match_pending",
        "earlier_referrals",
        "statutory_decision_due_at",
    )
    assert {field: item[field] for field in hub_fields} == dict.fromkeys(hub_fields)
    assert "practitioner-ann" not in str(item)
    events, _ = await read_all(client, police, cursor)
    assert "referral.allocated" not in {e["event_type"] for e in events}
    timeline = ok(await client.get(f"/v1/referrals/{referral['id']}/timeline", headers=police))
    assert "practitioner-ann" not in str(timeline)
    # A partner cannot ask its list about allocation either (the answer would tell it).
    for params in ({"allocated_to": "none"}, {"team": "MASH A"}):
        response = await client.get("/v1/referrals", params=params, headers=police)
        assert_problem(response, 422, "validation_failed")
        response = await client.get("/v1/referrals/counts", params=params, headers=police)
        assert_problem(response, 422, "validation_failed")
    counts = ok(await client.get("/v1/referrals/counts", headers=police))
    assert (counts["total"], counts["unallocated"]) == (1, None)


async def test_who_may_allocate_a_referral(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    body = {"worker": "practitioner-ann", "team": None}
    for partner in ("police", "health"):
        response = await client.post(
            f"/v1/referrals/{referral['id']}/allocation", json=body, headers=who[partner]
        )
        assert_problem(response, 403, "insufficient_scope")
    response = await client.post(
        "/v1/referrals/7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d/allocation",
        json=body,
        headers=who["practitioner"],
    )
    assert_problem(response, 404, "not_found")
    decided = await decided_referral(client, who)
    response = await client.post(
        f"/v1/referrals/{decided['id']}/allocation", json=body, headers=who["practitioner"]
    )
    assert_problem(response, 409, "invalid_transition")


@pytest.mark.parametrize(
    "body",
    [
        {"worker": "practitioner-ann"},  # team must be said, if only as null
        {"team": "MASH A"},
        {"worker": "", "team": None},
        {"worker": "a\nb", "team": None},
        {"worker": None, "team": "x" * 101},
        {"worker": None, "team": None, "colour": "red"},
    ],
)
async def test_a_bad_allocation_is_refused(client: httpx.AsyncClient, who: Who, body: Body) -> None:
    referral = await rated_referral(client, who)
    response = await client.post(
        f"/v1/referrals/{referral['id']}/allocation", json=body, headers=who["practitioner"]
    )
    assert_problem(response, 422, "validation_failed")
    (item,) = ok(await client.get("/v1/referrals", headers=who["practitioner"]))["items"]
    assert item["allocation"] == {
        "worker": None,
        "team": None,
        "allocated_at": None,
        "allocated_by": None,
        "note": None,
    }


def test_an_age_is_whole_years_on_the_day() -> None:
    assert age_on(date(2016, 2, 29), date(2026, 2, 28)) == 9
    assert age_on(date(2016, 2, 29), date(2026, 3, 1)) == 10
    assert age_on(date(2008, 12, 5), date(2026, 12, 4)) == 17
    assert age_on(date(2008, 12, 5), date(2026, 12, 5)) == 18


async def test_the_ages_shown_are_today_s_in_england(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(child(date_of_birth="2016-02-29")))
    (item,) = ok(await client.get("/v1/referrals", headers=who["practitioner"]))["items"]
    assert item["id"] == referral["id"]
    assert [c["age"] for c in item["children"]] == [age_on(date(2016, 2, 29), clock.today())]


async def test_a_green_rating_does_not_move_an_overdue_referral_off_the_queue(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """The RAG target never extends the statutory deadline: a referral past its one working day stays
    overdue when rated green (72 working hours from receipt would put it days ahead), in the list, its
    sort order and the counts alike."""
    hub = who["practitioner"]
    late = await create_referral(client, who["police"], referral_body(unique_child()))
    on_time = await create_referral(client, who["police"], referral_body(unique_child()))
    await run_sql(
        app,
        "UPDATE referrals SET statutory_decision_due_at = '2000-01-01 00:00:00.000000', "
        f"decision_due_at = '2000-01-01 00:00:00.000000' WHERE id = '{sql_id(late['id'])}'",
    )
    rated = await rate(client, hub, late["id"], "green")
    assert rated["decision_due_at"] == rated["statutory_decision_due_at"]
    assert rated["overdue"] is True
    assert dt(rated["rag_due_at"]) > clock.now()  # the green target itself is still ahead
    fine = await rate(client, hub, on_time["id"], "green")
    assert fine["decision_due_at"] == fine["statutory_decision_due_at"] == on_time["decision_due_at"]
    assert fine["overdue"] is False

    overdue = await item_ids(client, hub, "/v1/referrals", **TRIAGE)
    assert late["id"] in overdue and on_time["id"] not in overdue
    assert overdue[0] == late["id"], "the oldest deadline first"
    counts = ok(await client.get("/v1/referrals/counts", params=TRIAGE_FILTERS, headers=hub))
    assert counts["overdue"] == len(overdue)
    by_deadline = await item_ids(client, hub, "/v1/referrals", sort="decision_due_at", limit=200)
    assert by_deadline.index(late["id"]) < by_deadline.index(on_time["id"])
