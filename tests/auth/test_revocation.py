"""A revoked client is refused at once, whatever it asks and however the request would otherwise end.

On PostgreSQL the check travels in each transaction's BEGIN (``mash_client_check``), and a request that
sends no statement is checked before it is answered (``app.core.auth.confirm_client``); elsewhere it is
a statement at authentication. Either way: 401 ``invalid_token``, nothing written, and the connection a
refused request used serves the next caller normally.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core.config import Settings
from tests.conftest import make_settings
from tests.fixtures.clients import create_client, token_form
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.referrals import referral_body, unique_child
from tests.fixtures.tokens import assert_invalid_token
from tests.fixtures.values import Headers


@pytest.fixture
def settings(database_url: str) -> Settings:
    # One pooled connection: every request after a refused one runs on the connection it was refused on.
    return make_settings(database_url, db_pool_size=1, db_max_overflow=0)


async def partner_token(client: httpx.AsyncClient, admin: Headers) -> tuple[str, Headers]:
    registered = await create_client(client, admin)
    token = ok(await client.post("/oauth/token", data=token_form(registered)))["access_token"]
    return registered["client_id"], {"Authorization": f"Bearer {token}"}


async def revoke(client: httpx.AsyncClient, admin: Headers, client_id: str) -> None:
    ok(await client.post(f"/v1/clients/{client_id}/revocation", json={"reason": "test"}, headers=admin))


async def referral_count(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(sa.text("SELECT count(*) FROM referrals")) or 0)


def keyed(headers: Headers) -> Headers:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def test_a_revoked_client_is_refused_whatever_it_asks(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    client_id, partner = await partner_token(client, admin)
    made = ok(await client.post("/v1/referrals", json=referral_body(), headers=keyed(partner)), 201)
    before = await referral_count(app)
    await revoke(client, admin, client_id)

    # A create (its idempotency claim is its first statement), a read, a request sending no statement,
    # one it has no scope for, and one whose body fails validation: each is the revocation's 401.
    assert_invalid_token(
        await client.post("/v1/referrals", json=referral_body(unique_child()), headers=keyed(partner))
    )
    assert_invalid_token(await client.get(f"/v1/referrals/{made['id']}", headers=partner))
    assert_invalid_token(await client.get("/v1/me", headers=partner))
    assert_invalid_token(await client.get("/v1/clients", headers=partner))
    assert_invalid_token(await client.post("/v1/referrals", json={"children": []}, headers=keyed(partner)))
    assert await referral_count(app) == before

    # The one pooled connection those refusals ran on serves an active client as before.
    _, other = await partner_token(client, admin)
    assert ok(await client.get("/v1/me", headers=other))["agency"] == "police"
    ok(await client.post("/v1/referrals", json=referral_body(unique_child()), headers=keyed(other)), 201)
    assert await referral_count(app) == before + 1


async def test_an_active_client_keeps_its_answers(client: httpx.AsyncClient, admin: Headers) -> None:
    _, partner = await partner_token(client, admin)
    assert ok(await client.get("/v1/me", headers=partner))["role"] == "partner_referrer"
    # Refusals that are not about the token stay what they were.
    assert_problem(await client.get("/v1/clients", headers=partner), 403, "insufficient_scope")
    missing = await client.get(f"/v1/referrals/{uuid.uuid4()}", headers=partner)
    assert_problem(missing, 404, "not_found")


# Every connection the service holds to its database, closed by the server (as a restart or a failover
# closes them), but not the one asking.
CLOSE_THE_SERVICES_CONNECTIONS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
    " AND application_name = 'mash-api' AND pid <> pg_backend_pid()"
)


@pytest.mark.postgres
async def test_a_connection_lost_under_a_clients_check_is_a_503_and_the_pool_recovers(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    # GET /v1/me sends only its client's check, through the driver and outside a transaction: a lost
    # connection there must still be the database's 503, and must not be handed to the next request.
    _, partner = await partner_token(client, admin)
    assert ok(await client.get("/v1/me", headers=partner))["agency"] == "police"
    await run_sql(app, CLOSE_THE_SERVICES_CONNECTIONS)

    lost = await client.get("/v1/me", headers=partner)
    assert_problem(lost, 503, "database_unavailable")
    assert lost.headers["retry-after"]
    assert ok(await client.get("/v1/me", headers=partner))["agency"] == "police"
