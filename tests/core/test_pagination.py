"""Keyset pagination, exercised through GET /v1/clients and GET /v1/agencies."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.fixtures.clients import create_client
from tests.fixtures.http import assert_problem, walk_pages
from tests.fixtures.values import HUB_AGENCIES, PARTNER_AGENCIES


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = [(await create_client(client, admin))["client_id"] for _ in range(7)]

    pages = await walk_pages(client, admin, "/v1/clients?limit=3")
    seen = [item["client_id"] for page in pages for item in page["items"]]
    assert len(pages) == 3
    assert seen == list(reversed(created)), "newest first, each exactly once"


async def test_a_page_is_stable_while_new_records_arrive(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for _ in range(4):
        await create_client(client, admin)
    first = (await client.get("/v1/clients?limit=2", headers=admin)).json()
    await create_client(client, admin)  # lands before the first page, not in the next one
    second = (await client.get(f"/v1/clients?limit=2&cursor={first['next_cursor']}", headers=admin)).json()
    first_ids = {item["client_id"] for item in first["items"]}
    assert not first_ids & {item["client_id"] for item in second["items"]}
    assert len(second["items"]) == 2


async def test_agencies_are_listed_in_code_order(client: httpx.AsyncClient, auth) -> None:
    response = await client.get("/v1/agencies", headers=auth("partner_referrer"))
    assert response.status_code == 200
    codes = [a["code"] for a in response.json()["items"]]
    assert codes == sorted([*HUB_AGENCIES, *PARTNER_AGENCIES])
    assert response.json()["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "201", "-1", "many"])
async def test_limits_outside_1_to_200_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str], limit: str
) -> None:
    body = assert_problem(
        await client.get(f"/v1/clients?limit={limit}", headers=admin), 422, "validation_failed"
    )
    assert body["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!!",
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00"]').decode(),
        base64.urlsafe_b64encode(b'["yesterday", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00", "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10"]').decode(),
    ],
)
async def test_cursors_the_api_did_not_issue_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str], cursor: str
) -> None:
    response = await client.get("/v1/clients", params={"cursor": cursor}, headers=admin)
    assert_problem(response, 422, "invalid_cursor")
