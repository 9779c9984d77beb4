"""The audit trail through the API: what an auditor sees, each filter, paging, who may read it, that
reading it is itself audited, and the check of its hash chain (intact, and after tampering)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from app.core import audit, db
from app.main import create_app
from tests.conftest import make_settings
from tests.fixtures.callers import TokenFactory
from tests.fixtures.database import bypass_audit_triggers, run_sql
from tests.fixtures.http import asgi_client, assert_problem, walk_pages
from tests.fixtures.referrals import create_referral, referral_body, unique_child
from tests.fixtures.values import Headers

Event = dict[str, Any]


@dataclass
class Trail:
    """A little activity, made through the API: two referrals by two agencies, read by the hub."""

    auditor: Headers
    first: dict[str, Any]  # the police's referral
    second: dict[str, Any]  # health's referral
    first_request_id: str


@pytest.fixture
def auditor(auth: TokenFactory) -> Headers:
    return auth("auditor", "childrens_social_care", sub="auditor-eve")


@pytest.fixture
async def trail(client: httpx.AsyncClient, auth: TokenFactory, auditor: Headers) -> Trail:
    police = auth("partner_referrer", "police", sub="police-system")
    health = auth("partner_referrer", "health", sub="health-system")
    practitioner = auth("mash_practitioner", sub="practitioner-ann")
    made = await client.post(
        "/v1/referrals",
        json=referral_body(unique_child()),
        headers={**police, "X-Request-ID": "req-first-referral"},
    )
    assert made.status_code == 201, made.text
    second = await create_referral(client, health, referral_body(unique_child()))
    for referral_id in (made.json()["id"], second["id"], made.json()["id"]):
        response = await client.get(f"/v1/referrals/{referral_id}", headers=practitioner)
        assert response.status_code == 200, response.text
    first = (await client.get(f"/v1/referrals/{made.json()['id']}", headers=practitioner)).json()
    second = (await client.get(f"/v1/referrals/{second['id']}", headers=practitioner)).json()
    return Trail(auditor, first, second, "req-first-referral")


def person_of(referral: dict[str, Any]) -> str:
    person_id: str = referral["children"][0]["person_id"]
    assert person_id
    return person_id


async def page(client: httpx.AsyncClient, headers: Headers, **params: Any) -> httpx.Response:
    response = await client.get("/v1/audit-events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def everything(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[Event]:
    """Every entry matching ``params``, following the cursors."""
    items: list[Event] = []
    cursor: str | None = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        body = (await page(client, headers, limit=200, **params, **extra)).json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def of_the_trail(events: list[Event], last_seq: int) -> list[Event]:
    """Leave out the entries that reading the trail itself added after the snapshot."""
    return [e for e in events if e["seq"] <= last_seq]


# ---------------------------------------------------------------------------------------------------
# What an auditor sees


async def test_each_entry_says_who_did_what_to_which_record_when(
    client: httpx.AsyncClient, trail: Trail
) -> None:
    events = await everything(client, trail.auditor)
    created = [e for e in events if e["action"] == "create" and e["record_id"] == trail.first["id"]]
    assert len(created) == 1
    [entry] = created
    assert entry["actor"] == {"sub": "police-system", "agency": "police", "role": "partner_referrer"}
    assert entry["record_type"] == "referral"
    assert entry["person_id"] == person_of(trail.first)
    assert entry["request_id"] == trail.first_request_id
    assert datetime.fromisoformat(entry["occurred_at"]).utcoffset() == timedelta(0)
    reads = [e for e in events if e["action"] == "read" and e["record_id"] == trail.first["id"]]
    assert [e["actor"]["sub"] for e in reads] == ["practitioner-ann"] * 3
    # Oldest first, and each entry follows the one before it.
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["prev_hash"] == "0" * 64
    for before, after in itertools.pairwise(events):
        assert after["prev_hash"] == before["hash"]


async def test_newest_first_on_request(client: httpx.AsyncClient, trail: Trail) -> None:
    oldest_first = await everything(client, trail.auditor)
    newest_first = await everything(client, trail.auditor, order="newest_first")
    last = oldest_first[-1]["seq"]
    assert of_the_trail(newest_first, last) == list(reversed(oldest_first))


# ---------------------------------------------------------------------------------------------------
# Filters


def at(event: Event) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


FILTERS: dict[str, Callable[[Trail, list[Event]], tuple[dict[str, str], Callable[[Event], bool]]]] = {
    "person": lambda t, _: (
        {"person_id": person_of(t.first)},
        lambda e: e["person_id"] == person_of(t.first),
    ),
    "record type": lambda t, _: ({"record_type": "referral"}, lambda e: e["record_type"] == "referral"),
    "record": lambda t, _: (
        {"record_type": "referral", "record_id": t.first["id"]},
        lambda e: e["record_type"] == "referral" and e["record_id"] == t.first["id"],
    ),
    "agency": lambda t, _: ({"agency": "health"}, lambda e: e["actor"]["agency"] == "health"),
    "actor": lambda t, _: (
        {"agency": "childrens_social_care", "actor": "practitioner-ann"},
        lambda e: e["actor"]["sub"] == "practitioner-ann",
    ),
    "action": lambda t, _: (
        {"record_type": "referral", "action": "read"},
        lambda e: e["record_type"] == "referral" and e["action"] == "read",
    ),
    "from": lambda _, events: (
        {"from": events[len(events) // 2]["occurred_at"]},
        lambda e: at(e) >= at(events[len(events) // 2]),
    ),
    "to": lambda _, events: (
        {"to": events[len(events) // 2]["occurred_at"]},
        lambda e: at(e) < at(events[len(events) // 2]),
    ),
    "time range": lambda _, events: (
        {"from": events[1]["occurred_at"], "to": events[-1]["occurred_at"]},
        lambda e: at(events[1]) <= at(e) < at(events[-1]),
    ),
}


@pytest.mark.parametrize("name", FILTERS)
async def test_each_filter_narrows_to_exactly_the_matching_entries(
    client: httpx.AsyncClient, trail: Trail, name: str
) -> None:
    events = await everything(client, trail.auditor)
    params, matches = FILTERS[name](trail, events)
    expected = [e for e in events if matches(e)]
    assert expected and len(expected) < len(events), "the filter must keep some entries and drop some"
    found = await everything(client, trail.auditor, **params)
    assert of_the_trail(found, events[-1]["seq"]) == expected


async def test_a_time_with_another_offset_means_the_same_instant(
    client: httpx.AsyncClient, trail: Trail
) -> None:
    events = await everything(client, trail.auditor)
    middle = datetime.fromisoformat(events[len(events) // 2]["occurred_at"])
    in_new_york = middle.astimezone(datetime.fromisoformat("2026-01-01T00:00:00-05:00").tzinfo)
    utc = await everything(client, trail.auditor, to=middle.isoformat())
    other = await everything(client, trail.auditor, to=in_new_york.isoformat())
    assert of_the_trail(utc, events[-1]["seq"]) == of_the_trail(other, events[-1]["seq"])


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"from": "2026-11-24T10:00:00"}, ["query", "from"]),
        ({"to": "yesterday"}, ["query", "to"]),
        ({"record_id": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10"}, ["query", "record_type"]),
        ({"actor": "practitioner-ann"}, ["query", "agency"]),
        ({"action": "read"}, ["query", "action"]),
        ({"action": "shred", "record_type": "referral"}, ["query", "action"]),
        ({"agency": "mi5"}, ["query", "agency"]),
        ({"person_id": "not-a-uuid"}, ["query", "person_id"]),
        ({"record_type": "Referral; DROP"}, ["query", "record_type"]),
        ({"order": "sideways"}, ["query", "order"]),
        ({"from": "2026-11-24T10:00:00Z", "to": "2026-11-24T09:00:00Z"}, ["query", "to"]),
        ({"limit": 201}, ["query", "limit"]),
    ],
)
async def test_invalid_filters_are_refused_naming_the_parameter(
    client: httpx.AsyncClient, auditor: Headers, params: dict[str, Any], loc: list[str]
) -> None:
    response = await client.get("/v1/audit-events", params=params, headers=auditor)
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in [e["loc"] for e in problem["errors"]]


async def test_a_cursor_not_issued_by_the_api_is_refused(client: httpx.AsyncClient, auditor: Headers) -> None:
    response = await client.get("/v1/audit-events", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=auditor)
    assert_problem(response, 422, "invalid_cursor")


# ---------------------------------------------------------------------------------------------------
# Paging


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
async def test_pages_follow_one_another_without_gaps_or_repeats(
    client: httpx.AsyncClient, trail: Trail, order: str
) -> None:
    events = await everything(client, trail.auditor, order=order)
    last = max(e["seq"] for e in events)
    pages = await walk_pages(client, trail.auditor, f"/v1/audit-events?limit=3&order={order}")
    assert all(len(page["items"]) <= 3 for page in pages)
    walked: list[Event] = [event for page in pages for event in page["items"]]
    assert len(pages) > 2
    assert of_the_trail(walked, last) == of_the_trail(events, last)


# ---------------------------------------------------------------------------------------------------
# Who may read it, and who read it


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("partner_referrer", "police"),
        ("mash_practitioner", "childrens_social_care"),
        ("mash_manager", "childrens_social_care"),
        ("asc_practitioner", "adult_social_care"),
        ("asc_manager", "adult_social_care"),
        ("admin", "childrens_social_care"),  # administers the service, never sees case activity
    ],
)
@pytest.mark.parametrize("path", ["/v1/audit-events", "/v1/audit-events/verification"])
async def test_only_auditors_read_the_trail(
    client: httpx.AsyncClient, auth: TokenFactory, role: str, agency: str, path: str
) -> None:
    response = await client.get(path, headers=auth(role, agency))
    assert_problem(response, 403, "insufficient_scope")
    assert "audit:read" in response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("auditor", "adult_social_care"),
        ("auditor", "council"),
        ("information_governance", "council"),
    ],
)
async def test_auditors_of_the_lead_agencies_and_the_council_read_the_whole_trail(
    client: httpx.AsyncClient, auth: TokenFactory, trail: Trail, role: str, agency: str
) -> None:
    from_them = await everything(client, auth(role, agency, sub="another-auditor"))
    from_the_hub = await everything(client, trail.auditor)
    last = min(from_them[-1]["seq"], from_the_hub[-1]["seq"])
    assert of_the_trail(from_them, last) == of_the_trail(from_the_hub, last)
    assert {"police", "health", "childrens_social_care"} <= {e["actor"]["agency"] for e in from_them}


async def test_a_partner_agencys_auditor_reads_the_entries_of_its_own_agency_only(
    client: httpx.AsyncClient, auth: TokenFactory, trail: Trail
) -> None:
    """Health's auditor sees what health did (its referral, and its own reading of the trail), nothing
    the police or the hub did: on every page, through every cursor, whatever the filters."""
    health_auditor = auth("auditor", "health", sub="auditor-hal")
    whole = await everything(client, trail.auditor)
    health_did = [e for e in whole if e["actor"]["agency"] == "health"]
    assert health_did and len(health_did) < len(whole)

    seen = await everything(client, health_auditor)
    assert {e["actor"]["agency"] for e in seen} == {"health"}
    last = whole[-1]["seq"]
    assert of_the_trail(seen, last) == health_did
    assert any(e["action"] == "create" and e["record_id"] == trail.second["id"] for e in seen)

    # One entry a page, up to the snapshot (each page read adds a health entry of its own): the
    # restriction holds through every cursor.
    walked: list[Event] = []
    cursor: str | None = None
    while not walked or walked[-1]["seq"] <= last:
        body = (await page(client, health_auditor, limit=1, **({"cursor": cursor} if cursor else {}))).json()
        walked.extend(body["items"])
        cursor = body["next_cursor"]
        assert cursor is not None
    assert {e["actor"]["agency"] for e in walked} == {"health"}
    assert of_the_trail(walked, last) == health_did

    # Another agency's entries, asked for by name, or about a record another agency made: nothing.
    assert (await page(client, health_auditor, agency="police")).json()["items"] == []
    assert (await page(client, health_auditor, agency="police", actor="police-system")).json()["items"] == []
    police_referral = {"record_type": "referral", "record_id": trail.first["id"]}
    assert (await page(client, health_auditor, **police_referral)).json()["items"] == []
    assert (await page(client, trail.auditor, **police_referral)).json()["items"]
    assert (await page(client, health_auditor, person_id=person_of(trail.first))).json()["items"] == []


async def test_without_a_token_the_trail_is_closed(client: httpx.AsyncClient) -> None:
    for path in ("/v1/audit-events", "/v1/audit-events/verification"):
        assert_problem(await client.get(path), 401, "not_authenticated")


async def test_reading_someones_trail_is_itself_on_the_trail(client: httpx.AsyncClient, trail: Trail) -> None:
    person_id = person_of(trail.first)
    about_them = await everything(client, trail.auditor, person_id=person_id)
    looked = await everything(client, trail.auditor, record_type="audit_event")
    assert len(looked) == 1, "one entry per page read"
    [entry] = looked
    assert entry["actor"] == {"sub": "auditor-eve", "agency": "childrens_social_care", "role": "auditor"}
    assert entry["action"] == "list"
    assert entry["person_id"] == person_id, "the person whose trail was read is named"
    assert entry["record_id"] is None
    assert entry["details"] == {
        "filters": {"person_id": person_id},
        "order": "oldest_first",
        "cursor": False,
        "returned": len(about_them),
    }
    # And so it shows when anyone later reads that person's trail.
    again = await everything(client, trail.auditor, person_id=person_id)
    assert again[-1]["id"] == entry["id"]


async def test_a_failed_read_of_the_trail_leaves_no_entry(
    client: httpx.AsyncClient, trail: Trail, auditor: Headers
) -> None:
    before = await everything(client, auditor, record_type="audit_event")
    await client.get("/v1/audit-events", params={"action": "read"}, headers=auditor)  # 422
    after = await everything(client, auditor, record_type="audit_event")
    assert len(after) == len(before) + 1  # only the first listing's own entry


# ---------------------------------------------------------------------------------------------------
# The hash chain


async def verification(client: httpx.AsyncClient, headers: Headers) -> dict[str, Any]:
    response = await client.get("/v1/audit-events/verification", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_intact_chain_verifies(client: httpx.AsyncClient, trail: Trail) -> None:
    events = await everything(client, trail.auditor)
    result = await verification(client, trail.auditor)
    # Everything written before the check: the trail and the listing just made.
    written = len(events) + 1
    assert result == {
        "valid": True,
        "checked": written,
        "first_invalid_id": None,
        "first_invalid_seq": None,
        "reason": None,
        "head_seq": written,
        "verified_at": result["verified_at"],
    }
    # The check is audited, and extends a chain that still verifies.
    checks = await everything(client, trail.auditor, record_type="audit_chain")
    assert [(c["action"], c["details"]) for c in checks] == [
        ("verify", {"valid": True, "checked": written, "reason": None})
    ]
    assert (await verification(client, trail.auditor))["valid"] is True


async def test_an_empty_chain_verifies(client: httpx.AsyncClient, auditor: Headers) -> None:
    result = await verification(client, auditor)
    assert (result["valid"], result["checked"], result["head_seq"]) == (True, 0, 0)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
        "UPDATE audit_chain_head SET last_seq = 1",
    ],
)
async def test_the_database_refuses_to_change_the_trail(
    client: httpx.AsyncClient, trail: Trail, app: FastAPI, statement: str
) -> None:
    with pytest.raises(DBAPIError, match=r"append-only|only moves forward"):
        await run_sql(app, statement)
    assert (await verification(client, trail.auditor))["valid"] is True


@pytest.mark.parametrize(
    ("statement", "seq", "reason", "checked"),
    [
        ("UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = 3", 3, "hash_mismatch", 2),
        ("UPDATE audit_events SET record_type = 'nothing' WHERE seq = 4", 4, "hash_mismatch", 3),
        ("DELETE FROM audit_events WHERE seq = 3", 4, "missing_row", 2),
    ],
)
async def test_tampering_is_found_at_the_first_entry_changed(
    client: httpx.AsyncClient,
    trail: Trail,
    app: FastAPI,
    statement: str,
    seq: int,
    reason: str,
    checked: int,
) -> None:
    events = await everything(client, trail.auditor)
    await bypass_audit_triggers(app)
    await run_sql(app, statement)
    result = await verification(client, trail.auditor)
    assert result["valid"] is False
    assert result["first_invalid_seq"] == seq
    assert result["first_invalid_id"] == events[seq - 1]["id"]
    assert (result["reason"], result["checked"]) == (reason, checked)
    # A failed check is on the trail too.
    [check] = await everything(client, trail.auditor, record_type="audit_chain")
    assert check["details"] == {"valid": False, "checked": checked, "reason": reason}


async def test_a_partner_agencys_auditor_learns_that_the_chain_broke_and_where_but_not_which_entry(
    client: httpx.AsyncClient, trail: Trail, auth: TokenFactory, app: FastAPI
) -> None:
    events = await everything(client, trail.auditor)
    await bypass_audit_triggers(app)
    await run_sql(app, "UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = 3")
    partner = await verification(client, auth("auditor", "police", sub="auditor-pat"))
    assert (partner["valid"], partner["reason"], partner["checked"]) == (False, "hash_mismatch", 2)
    assert (partner["first_invalid_seq"], partner["first_invalid_id"]) == (3, None)
    for headers in (trail.auditor, auth("information_governance", "council", sub="ig-officer")):
        lead = await verification(client, headers)
        assert (lead["first_invalid_seq"], lead["first_invalid_id"]) == (3, events[2]["id"])


async def test_entries_cut_off_the_end_are_found(
    client: httpx.AsyncClient, trail: Trail, app: FastAPI
) -> None:
    events = await everything(client, trail.auditor)
    await bypass_audit_triggers(app)
    await run_sql(app, f"DELETE FROM audit_events WHERE seq > {len(events) - 2}")
    result = await verification(client, trail.auditor)
    assert (result["valid"], result["reason"], result["first_invalid_id"]) == (False, "head_mismatch", None)
    assert result["checked"] == len(events) - 2
    assert result["head_seq"] == len(events) + 1  # the head names the listing's entry too


@dataclass(frozen=True)
class Someone:
    sub: str = "worker@test"
    agency: str = "childrens_social_care"
    role: str = "mash_practitioner"


async def test_a_long_chain_is_checked_a_batch_at_a_time(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        for n in range(10):
            audit.record(session, Someone(), audit.AuditAction.READ, "referral", f"r{n}")
        await db.commit(session)

    async def check() -> audit.ChainVerification:
        async with app.state.sessionmaker() as session:
            await db.begin_read_only(session)
            return await audit.verify_chain(session, batch_size=3)

    result = await check()
    assert (result.valid, result.checked, result.head_seq) == (True, 10, 10)
    await bypass_audit_triggers(app)
    await run_sql(app, "UPDATE audit_events SET record_id = 'r0' WHERE seq = 8")
    result = await check()
    assert (result.valid, result.first_invalid_seq, result.reason, result.checked) == (
        False,
        8,
        "hash_mismatch",
        7,
    )


async def test_a_check_in_progress_does_not_hold_up_writers(database_url: str) -> None:
    """The check reads in a read-only transaction: on SQLite, outside the single write lock, which a
    writer would otherwise wait for until its busy timeout (here half a second) and fail."""
    app = create_app(make_settings(database_url, sqlite_busy_timeout_ms=500))
    admin = app.state.tokens.issue(sub="admin@test", agency="childrens_social_care", role="admin")
    try:
        async with (
            asgi_client(app, "http://t") as client,
            app.state.sessionmaker() as checking,
        ):
            await db.begin_read_only(checking)
            assert (await audit.verify_chain(checking)).valid  # the check's transaction is open
            response = await client.post(
                "/v1/clients",
                json={"name": "Police", "agency": "police", "role": "partner_referrer"},
                headers={"Authorization": f"Bearer {admin.access_token}"},
            )
            assert response.status_code == 201, response.text
            assert (await audit.verify_chain(checking)).valid
            await db.release(checking)
    finally:
        await app.state.engine.dispose()
