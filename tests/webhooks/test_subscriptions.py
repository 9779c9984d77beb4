"""/v1/webhook-subscriptions: subscribing, what the caller sees of it, and who may."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs, ok
from tests.fixtures.values import Headers
from tests.webhooks.conftest import partner_token

URL = "http://127.0.0.1:9/hooks/mash"


def body(**fields: object) -> dict[str, object]:
    return {"url": URL, "description": "Police PPU case system", **fields}


async def subscribe(http: httpx.AsyncClient, headers: Headers, **fields: object) -> dict[str, object]:
    return ok(await http.post("/v1/webhook-subscriptions", json=body(**fields), headers=headers), 201)


async def test_a_partner_subscribes_and_sees_the_secret_once(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    police = await partner_token(client, admin)
    created = await client.post(
        "/v1/webhook-subscriptions",
        json=body(event_types=["referral.rated", "referral.decided"]),
        headers=police,
    )
    sub = ok(created, 201)
    assert created.headers["location"] == f"/v1/webhook-subscriptions/{sub['id']}"
    assert created.headers["etag"]
    assert str(sub["secret"]).startswith("whsec_")
    assert sub["active"] is True and sub["disabled_reason"] is None
    assert sub["event_types"] == ["referral.decided", "referral.rated"]
    assert sub["url"] == URL

    got = await client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=police)
    shown = ok(got)
    assert "secret" not in shown
    assert got.headers["etag"] == created.headers["etag"]
    listed = ok(await client.get("/v1/webhook-subscriptions", headers=police))
    assert [s["id"] for s in listed["items"]] == [sub["id"]]
    assert all("secret" not in s for s in listed["items"])


async def test_an_idempotent_replay_does_not_show_the_secret_again(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    police = await partner_token(client, admin)
    headers = {**police, "Idempotency-Key": "subscribe-1"}
    first = ok(await client.post("/v1/webhook-subscriptions", json=body(), headers=headers), 201)
    again = await client.post("/v1/webhook-subscriptions", json=body(), headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first["id"] and again.json()["secret"] is None
    assert len(ok(await client.get("/v1/webhook-subscriptions", headers=police))["items"]) == 1


async def test_another_client_sees_nothing_of_it(client: httpx.AsyncClient, admin: Headers) -> None:
    police = await partner_token(client, admin)
    other_police_system = await partner_token(client, admin)  # same agency, another client
    health = await partner_token(client, admin, agency="health")
    sub = await subscribe(client, police)
    base = f"/v1/webhook-subscriptions/{sub['id']}"
    for outsider in (other_police_system, health):
        assert ok(await client.get("/v1/webhook-subscriptions", headers=outsider))["items"] == []
        assert_problem(await client.get(base, headers=outsider), 404, "not_found")
        assert_problem(await client.get(f"{base}/deliveries", headers=outsider), 404, "not_found")
        for action in ("disable", "enable", "test"):
            assert_problem(await client.post(f"{base}/{action}", headers=outsider), 404, "not_found")
    # Untouched by the attempts.
    assert ok(await client.get(base, headers=police))["active"] is True


async def test_the_hub_sees_no_partner_subscription(
    client: httpx.AsyncClient, admin: Headers, who: Who
) -> None:
    police = await partner_token(client, admin)
    sub = await subscribe(client, police)
    assert_problem(
        await client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=who["manager"]), 404, "not_found"
    )
    assert ok(await client.get("/v1/webhook-subscriptions", headers=who["manager"]))["items"] == []


@pytest.mark.parametrize("caller", ["auditor", "admin", "governance"])
async def test_callers_without_events_read_are_refused(
    client: httpx.AsyncClient, who: Who, caller: str
) -> None:
    assert_problem(
        await client.post("/v1/webhook-subscriptions", json=body(), headers=who[caller]),
        403,
        "insufficient_scope",
    )
    assert_problem(
        await client.get("/v1/webhook-subscriptions", headers=who[caller]), 403, "insufficient_scope"
    )


async def test_without_a_token_401(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/webhook-subscriptions")
    assert_problem(answer, 401, "not_authenticated")
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_a_person_token_owns_its_own_subscriptions(client: httpx.AsyncClient, who: Who) -> None:
    sub = await subscribe(client, who["practitioner"])
    assert (
        ok(await client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=who["practitioner"]))["id"]
        == sub["id"]
    )
    assert_problem(
        await client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=who["practitioner2"]),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"url": "ftp://example.org/hook"}, ["body", "url"]),
        ({"url": "http://user:pw@example.org/hook"}, ["body", "url"]),
        ({"url": "http://example.org/" + "a" * 2100}, ["body", "url"]),
        ({"event_types": ["referral.exploded"]}, ["body", "event_types", 0]),
        ({"description": ""}, ["body", "description"]),
        ({"description": "x" * 501}, ["body", "description"]),
        ({"secret": "whsec_mine"}, ["body", "secret"]),
    ],
)
async def test_invalid_bodies_are_422(
    client: httpx.AsyncClient, who: Who, fields: dict[str, object], where: list[object]
) -> None:
    problem = assert_problem(
        await client.post("/v1/webhook-subscriptions", json=body(**fields), headers=who["police"]),
        422,
        "validation_failed",
    )
    assert where in locs(problem)


async def test_description_is_required(client: httpx.AsyncClient, who: Who) -> None:
    problem = assert_problem(
        await client.post("/v1/webhook-subscriptions", json={"url": URL}, headers=who["police"]),
        422,
        "validation_failed",
    )
    assert ["body", "description"] in locs(problem)


async def test_disable_enable_and_the_test_event(client: httpx.AsyncClient, admin: Headers) -> None:
    police = await partner_token(client, admin)
    sub = await subscribe(client, police)
    base = f"/v1/webhook-subscriptions/{sub['id']}"
    disabled = ok(await client.post(f"{base}/disable", headers=police))
    assert (
        disabled["active"] is False and disabled["disabled_reason"] == "by_owner" and disabled["disabled_at"]
    )
    assert_problem(await client.post(f"{base}/test", headers=police), 409, "webhook_subscription_disabled")
    enabled = ok(await client.post(f"{base}/enable", headers=police))
    assert enabled["active"] is True and enabled["disabled_reason"] is None
    queued = ok(await client.post(f"{base}/test", headers=police), 202)
    assert queued["event_type"] == "webhook.test" and queued["state"] == "pending"
    # Nothing sent yet (no worker runs here): the log is empty.
    assert ok(await client.get(f"{base}/deliveries", headers=police)) == {"items": [], "next_cursor": None}


async def test_an_unknown_subscription_is_404(client: httpx.AsyncClient, who: Who) -> None:
    assert_problem(
        await client.get(
            "/v1/webhook-subscriptions/6b1f0c9e-2d4a-4e8b-9c7d-1a2b3c4d5e6f", headers=who["police"]
        ),
        404,
        "not_found",
    )
