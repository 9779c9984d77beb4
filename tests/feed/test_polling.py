"""Polling the change feed: scopes, the cursor, pages and filters, and the audit of what was read."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from app.governance.feed import service
from tests.fixtures.adults import raise_concern
from tests.fixtures.callers import Who
from tests.fixtures.feed import Event, poll, read_all
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import create_referral, rate, referral_body, unique_child


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def referrals(http: httpx.AsyncClient, who: Who, n: int) -> list[str]:
    made = []
    for _ in range(n):
        referral = (await create_referral(http, who["police"], referral_body(unique_child())))["id"]
        await rate(http, who["practitioner"], referral)
        made.append(referral)
    return made


async def test_reading_the_feed_needs_events_read(client: httpx.AsyncClient, who: Who) -> None:
    for caller in ("auditor", "admin"):
        assert_problem(await poll(client, who[caller]), 403, "insufficient_scope")
    missing = await client.get("/v1/events")
    assert_problem(missing, 401, "not_authenticated")
    assert missing.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        cursor_of("12"),  # not a list
        cursor_of([1, 2]),  # the wrong shape
        cursor_of(["12"]),  # the wrong type
        cursor_of([True]),
        cursor_of([-1]),
        cursor_of([10**6]),  # beyond the newest event: never issued
    ],
)
async def test_a_cursor_the_api_did_not_issue_is_refused(
    client: httpx.AsyncClient, who: Who, cursor: str
) -> None:
    await referrals(client, who, 1)
    assert_problem(await poll(client, who["police"], cursor), 422, "invalid_cursor")


async def test_when_nothing_is_newer_the_page_is_empty_and_the_cursor_stays(
    client: httpx.AsyncClient, who: Who
) -> None:
    empty = await poll(client, who["police"])
    assert empty.status_code == 200, empty.text
    assert empty.json()["items"] == []
    assert "link" not in empty.headers
    await referrals(client, who, 2)
    seen, cursor = await read_all(client, who["police"], empty.json()["next_cursor"])
    assert len(seen) == 4
    again = await poll(client, who["police"], cursor)
    assert again.json() == {"items": [], "next_cursor": cursor}
    assert "link" not in again.headers


async def test_pages_follow_each_other_without_gaps_or_repeats(client: httpx.AsyncClient, who: Who) -> None:
    await referrals(client, who, 3)
    whole, _ = await read_all(client, who["police"])
    assert len(whole) == 6

    first = await poll(client, who["police"], limit=4)
    body = first.json()
    assert len(body["items"]) == 4
    link = first.headers["link"]
    assert link.endswith('>; rel="next"') and f"cursor={body['next_cursor']}" in link and "limit=4" in link
    second = await poll(client, who["police"], body["next_cursor"], limit=4)
    assert "link" not in second.headers, "caught up"
    assert body["items"] + second.json()["items"] == whole

    paged: list[Event] = []
    cursor = None
    for _ in range(6):
        page = (await poll(client, who["police"], cursor, limit=1)).json()
        paged += page["items"]
        cursor = page["next_cursor"]
    assert paged == whole


@pytest.mark.parametrize(("param", "value"), [("limit", 0), ("limit", 201), ("event_type", "referral.nope")])
async def test_bad_paging_and_filters_are_validation_problems(
    client: httpx.AsyncClient, who: Who, param: str, value: object
) -> None:
    response = await client.get("/v1/events", params={param: str(value)}, headers=who["police"])
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["loc"][:2] == ["query", param]


async def test_filters_by_record_type_and_event_type(client: httpx.AsyncClient, who: Who) -> None:
    referral = (await referrals(client, who, 1))[0]
    concern = (await raise_concern(client, who["police"]))["id"]
    await rate(client, who["practitioner"], referral, "red")  # a second rating: no status change

    rated, _ = await read_all(client, who["police"], event_type="referral.rated")
    assert [(e["record_id"], e["status"], e["data"]) for e in rated] == [
        (referral, "triaged", {"rating": "amber"}),
        (referral, None, {"rating": "red"}),
    ]
    both, _ = await read_all(
        client, who["police"], event_type=["referral.received", "adult_concern.received"]
    )
    assert [e["record_id"] for e in both] == [referral, concern]
    adults, _ = await read_all(client, who["police"], record_type="adult_concern")
    assert [(e["record_id"], e["event_type"]) for e in adults] == [(concern, "adult_concern.received")]


async def test_a_page_examines_a_bounded_window_and_says_when_to_read_on(
    client: httpx.AsyncClient, who: Who, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = (await referrals(client, who, 1))[0]
    for _ in range(3):  # events the police may not see
        await create_referral(client, who["health"], referral_body(unique_child()))
    late = (await create_referral(client, who["police"], referral_body(unique_child())))["id"]
    monkeypatch.setattr(service, "SCAN_WINDOW", 3)

    pages = []
    cursor = None
    while True:
        response = await poll(client, who["police"], cursor)
        page = response.json()
        pages.append([e["record_id"] for e in page["items"]])
        cursor = page["next_cursor"]
        if "link" not in response.headers:
            break
    # Eleven events, three at a time: some pages hold nothing the police may see, yet say read on.
    assert len(pages) == 4 and [] in pages
    assert [r for found in pages for r in found] == [mine, mine, late]


async def test_a_page_read_is_audited_with_record_ids_and_an_empty_one_is_not(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = (await referrals(client, who, 1))[0]
    concern = (await raise_concern(client, who["police"]))["id"]
    read = await poll(client, who["police"])
    empty = await poll(client, who["police"], read.json()["next_cursor"])
    assert empty.json()["items"] == []

    audit = await client.get("/v1/audit-events", params={"record_type": "case_event"}, headers=who["auditor"])
    assert audit.status_code == 200, audit.text
    entries = audit.json()["items"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["request_id"] == read.headers["x-request-id"]
    assert (entry["action"], entry["actor"]["agency"], entry["person_id"]) == ("list", "police", None)
    assert entry["details"] == {
        "after": 0,
        "upto": 5,
        "events": 3,
        "referral_ids": [referral],
        "adult_concern_ids": [concern],
    }
