"""ETag and If-Match, exercised through GET/PATCH /v1/clients/{id}."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fixtures.adults import concern_body
from tests.fixtures.callers import Who
from tests.fixtures.clients import create_client
from tests.fixtures.http import assert_problem
from tests.fixtures.people import unique_identity
from tests.fixtures.referrals import referral_body


@pytest.fixture
async def client_url(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    return f"/v1/clients/{(await create_client(client, admin))['client_id']}"


async def test_get_returns_an_etag_and_patch_with_it_succeeds(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str
) -> None:
    read = await client.get(client_url, headers=admin)
    etag = read.headers["etag"]
    updated = await client.patch(client_url, json={"name": "Renamed"}, headers={**admin, "If-Match": etag})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Renamed"
    assert updated.headers["etag"] != etag
    reread = await client.get(client_url, headers=admin)
    assert reread.headers["etag"] == updated.headers["etag"]
    assert reread.json()["name"] == "Renamed"


async def test_patch_without_if_match_is_refused_with_428(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str
) -> None:
    response = await client.patch(client_url, json={"name": "Renamed"}, headers=admin)
    assert_problem(response, 428, "precondition_required")
    assert (await client.get(client_url, headers=admin)).json()["name"] != "Renamed"


@pytest.mark.parametrize("if_match", ['"999"', 'W/"1"', "garbage"])
async def test_patch_with_a_stale_or_weak_etag_is_refused_with_412(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str, if_match: str
) -> None:
    response = await client.patch(
        client_url, json={"name": "Renamed"}, headers={**admin, "If-Match": if_match}
    )
    assert_problem(response, 412, "precondition_failed")


async def test_an_etag_is_good_for_one_update_only(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str
) -> None:
    etag = (await client.get(client_url, headers=admin)).headers["etag"]
    first = await client.patch(client_url, json={"name": "One"}, headers={**admin, "If-Match": etag})
    second = await client.patch(client_url, json={"name": "Two"}, headers={**admin, "If-Match": etag})
    assert first.status_code == 200
    assert_problem(second, 412, "precondition_failed")
    assert (await client.get(client_url, headers=admin)).json()["name"] == "One"


@pytest.mark.parametrize("if_match", ["*", " * "])
async def test_if_match_star_is_not_a_version_and_is_refused_with_428(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str, if_match: str
) -> None:
    before = await client.get(client_url, headers=admin)
    response = await client.patch(client_url, json={"name": "Any"}, headers={**admin, "If-Match": if_match})
    assert_problem(response, 428, "precondition_required")
    after = await client.get(client_url, headers=admin)
    assert after.json()["name"] == before.json()["name"]
    assert after.headers["etag"] == before.headers["etag"]


async def test_a_star_among_etags_matches_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str
) -> None:
    response = await client.patch(client_url, json={"name": "Any"}, headers={**admin, "If-Match": '"999", *'})
    assert_problem(response, 412, "precondition_failed")


async def test_concurrent_patches_with_one_etag_let_exactly_one_win(
    client: httpx.AsyncClient, admin: dict[str, str], client_url: str
) -> None:
    etag = (await client.get(client_url, headers=admin)).headers["etag"]
    responses = await asyncio.gather(
        *[
            client.patch(client_url, json={"name": f"Writer {i}"}, headers={**admin, "If-Match": etag})
            for i in range(12)
        ]
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1
    for loser in (r for r in responses if r.status_code != 200):
        assert_problem(loser, 412, "precondition_failed")
    final = await client.get(client_url, headers=admin)
    assert final.json()["name"] == winners[0].json()["name"]
    assert final.headers["etag"] == winners[0].headers["etag"]


@pytest.mark.parametrize(
    ("caller", "path", "body"),
    [
        ("police", "/v1/referrals", referral_body()),
        ("practitioner", "/v1/people", unique_identity()),
        ("worker", "/v1/adult-concerns", concern_body()),
    ],
)
async def test_a_create_answers_the_etag_a_get_would(
    client: httpx.AsyncClient, adult_who: Who, caller: str, path: str, body: dict[str, object]
) -> None:
    """api.md: "Creates return the new record's ETag too", so a client can update what it just made
    without reading it back; the hub's later GET agrees with it."""
    made = await client.post(path, json=body, headers=adult_who[caller])
    assert made.status_code == 201, made.text
    reader = "practitioner" if path == "/v1/referrals" else caller
    read = await client.get(made.headers["location"], headers=adult_who[reader])
    assert read.status_code == 200, read.text
    assert made.headers["etag"] == read.headers["etag"]
