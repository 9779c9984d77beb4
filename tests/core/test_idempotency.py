"""Idempotency-Key on create operations, exercised through POST /v1/clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.auth import authorize
from app.core.idempotency import Caller
from app.models.client import Client
from app.models.idempotency import IdempotencyRecord
from tests.conftest import POSTGRES_URL, _pg_dsn
from tests.fixtures.adults import concern_body
from tests.fixtures.clients import client_body
from tests.fixtures.database import counting_statements, run_sql
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import referral_body


async def _post(http: httpx.AsyncClient, headers: dict[str, str], key: str, body: object) -> httpx.Response:
    return await http.post("/v1/clients", json=body, headers={**headers, "Idempotency-Key": key})


async def _clients_named(app: FastAPI, name: str) -> int:
    async with app.state.sessionmaker() as session:
        count = await session.scalar(sa.select(sa.func.count()).where(Client.name == name))
        return int(count or 0)


async def test_a_retry_with_the_same_key_replays_the_original_response(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    body = client_body("Police PPU")
    first = await _post(client, admin, "key-1", body)
    retry = await _post(client, admin, "key-1", body)

    assert first.status_code == retry.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["location"] == first.headers["location"]
    original, replayed = first.json(), retry.json()
    # The secret is never stored, so the replay cannot repeat it; everything else is identical.
    assert original.pop("client_secret").startswith("mash_cs_")
    assert replayed.pop("client_secret") is None
    assert replayed == original
    assert await _clients_named(app, "Police PPU") == 1


async def test_the_same_json_written_differently_is_the_same_request(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = client_body("Health")
    first = await _post(client, admin, "key-2", body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)
    retry = await client.post(
        "/v1/clients",
        content=reordered,
        headers={**admin, "Idempotency-Key": "key-2", "Content-Type": "application/json"},
    )
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["client_id"] == first.json()["client_id"]


async def test_the_same_key_with_a_different_body_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    await _post(client, admin, "key-3", client_body("First"))
    second = await _post(client, admin, "key-3", client_body("Second"))
    assert_problem(second, 422, "idempotency_key_reused")
    assert await _clients_named(app, "Second") == 0


async def test_keys_belong_to_one_caller(client: httpx.AsyncClient, auth, app: FastAPI) -> None:
    alice, bob = auth("admin", sub="alice"), auth("admin", sub="bob")
    body = client_body("Shared key")
    first = await _post(client, alice, "same-key", body)
    second = await _post(client, bob, "same-key", body)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["client_id"] != second.json()["client_id"]
    assert await _clients_named(app, "Shared key") == 2


async def test_a_failed_request_does_not_use_up_its_key(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    invalid = await _post(client, admin, "key-4", {**client_body("Retry"), "role": "no_such_role"})
    assert_problem(invalid, 422, "validation_failed")
    corrected = await _post(client, admin, "key-4", client_body("Retry"))
    assert corrected.status_code == 201
    assert "idempotent-replayed" not in corrected.headers
    assert await _clients_named(app, "Retry") == 1


@pytest.mark.parametrize("key", ["x" * 256, "", "has space", "naïve"])
async def test_malformed_keys_are_refused(client: httpx.AsyncClient, admin: dict[str, str], key: str) -> None:
    headers = [(b"Authorization", admin["Authorization"].encode()), (b"Idempotency-Key", key.encode())]
    response = await client.post("/v1/clients", json=client_body(), headers=headers)
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_an_expired_key_can_be_used_again(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    first = await _post(client, admin, "old-key", client_body("Before"))
    assert first.status_code == 201
    await run_sql(app, "UPDATE idempotency_records SET expires_at = created_at")
    again = await _post(client, admin, "old-key", client_body("After"))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    async with app.state.sessionmaker() as session:
        records = (await session.scalars(sa.select(IdempotencyRecord))).all()
    assert len(records) == 1  # the expired record was replaced, not duplicated


async def test_concurrent_requests_with_one_key_create_one_record(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    body = client_body("Concurrent")
    responses = await asyncio.gather(*[_post(client, admin, "race", body) for _ in range(12)])

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert created, "at least the first request must succeed"
    assert len({r.json()["client_id"] for r in created}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in created) == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "idempotency_key_in_progress")
        assert refused.headers["retry-after"] == "1"
    assert await _clients_named(app, "Concurrent") == 1


@pytest.mark.postgres
async def test_a_request_while_the_first_is_still_running_gets_409(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI, database_url: str
) -> None:
    # Hold the key's lock from another connection, exactly as an unfinished first request does.
    assert POSTGRES_URL is not None
    other = await asyncpg.connect(_pg_dsn(database_url))
    try:
        await other.execute(
            "SELECT pg_advisory_lock($1)",
            Caller("childrens_social_care", "admin", "admin@test", "POST /v1/clients").lock_id("busy"),
        )
        response = await _post(client, admin, "busy", client_body("Busy"))
        assert_problem(response, 409, "idempotency_key_in_progress")
    finally:
        await other.close()
    retry = await _post(client, admin, "busy", client_body("Busy"))
    assert retry.status_code == 201
    assert await _clients_named(app, "Busy") == 1


_CLAIM_AFTER_A_SECOND = (
    "SELECT c.* FROM (SELECT pg_sleep(1)::text AS slept) AS s, LATERAL mash_idempotency_claim("
    " CASE WHEN s.slept IS NULL THEN NULL ELSE $1::bigint END, $2, $3, $4, $5, 'incident-7') AS c"
)


@pytest.mark.postgres
async def test_a_retry_claiming_as_the_first_commits_reads_the_first_ones_answer(database_url: str) -> None:
    # The retry's claim (migration 20261207_idempotency_claim) begins its statement while the first
    # request still holds the key, and tries the lock just after the first has committed its answer.
    # It must read that answer (to replay it), not find the key free and nothing stored and make the
    # record again: as one SELECT of the lock and the stored row would, reading with the snapshot its
    # statement began with.
    caller = Caller("police", "partner_referrer", "ppu-system", "POST /v1/referrals")
    first = await asyncpg.connect(_pg_dsn(database_url))
    retry = await asyncpg.connect(_pg_dsn(database_url))
    try:
        committing = first.transaction()
        await committing.start()
        await first.execute("SELECT pg_advisory_xact_lock($1)", caller.lock_id("incident-7"))
        await first.execute(
            "INSERT INTO idempotency_records (id, caller_agency, caller_role, caller_sub, operation, key,"
            " fingerprint, response_status, response_headers, response_body, records, created_at, expires_at)"
            " VALUES (gen_random_uuid(), $1, $2, $3, $4, 'incident-7', $5, 201, '{}', '{}', '[]', now(),"
            " now() + interval '1 day')",
            caller.agency, caller.role, caller.sub, caller.operation, "f" * 64,
        )  # fmt: skip
        # The claim waits a second inside its statement (its snapshot already taken), then claims.
        arguments = (caller.lock_id("incident-7"), caller.agency, caller.role, caller.sub, caller.operation)
        claiming = asyncio.create_task(retry.fetchrow(_CLAIM_AFTER_A_SECOND, *arguments))
        await asyncio.sleep(0.3)
        await committing.commit()
        claimed = await claiming
    finally:
        await first.close()
        await retry.close()
    assert claimed is not None
    assert (claimed["locked"], claimed["fingerprint"], claimed["response_status"]) == (True, "f" * 64, 201)


# ---------------------------------------------------------------------------------------------------
# A key belongs to one caller (agency, role and sub) and one operation (the outside probe's leak: a
# different caller with the same sub was replayed a police referral, before any scope check).
# ---------------------------------------------------------------------------------------------------

_REFERRAL = referral_body()  # Amelia
_CONCERN = concern_body()


async def _refer(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> httpx.Response:
    return await client.post("/v1/referrals", json=_REFERRAL, headers={**headers, "Idempotency-Key": key})


@pytest.mark.parametrize(
    ("role", "agency"),
    [("auditor", "police"), ("admin", "police"), ("auditor", "childrens_social_care")],
)
async def test_a_caller_without_the_scope_is_refused_not_replayed(
    client: httpx.AsyncClient, auth, role: str, agency: str
) -> None:
    police = auth("partner_referrer", "police", sub="shared-sub")
    assert (await _refer(client, police, "incident-4471")).status_code == 201
    other = await _refer(client, auth(role, agency, sub="shared-sub"), "incident-4471")
    assert_problem(other, 403, "insufficient_scope")
    assert "Amelia" not in other.text


async def test_another_agency_with_the_same_sub_and_key_gets_its_own_record(
    client: httpx.AsyncClient, auth
) -> None:
    police = await _refer(client, auth("partner_referrer", "police", sub="shared-sub"), "incident-4471")
    health = await _refer(client, auth("partner_referrer", "health", sub="shared-sub"), "incident-4471")
    assert police.status_code == health.status_code == 201
    assert "idempotent-replayed" not in health.headers
    assert health.json()["id"] != police.json()["id"]
    assert health.json()["referring_agency"] == "health"
    # Each retry replays its own caller's answer.
    again = await _refer(client, auth("partner_referrer", "police", sub="shared-sub"), "incident-4471")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == police.json()["id"]


async def test_a_key_belongs_to_one_operation(client: httpx.AsyncClient, auth) -> None:
    """One incident number as the key of a referral and of an adult concern: two records, no replay."""
    police = auth("partner_referrer", "police", sub="ppu-system")
    referral = await _refer(client, police, "incident-4471")
    concern = await client.post(
        "/v1/adult-concerns", json=_CONCERN, headers={**police, "Idempotency-Key": "incident-4471"}
    )
    assert referral.status_code == concern.status_code == 201
    assert "idempotent-replayed" not in concern.headers
    assert concern.json()["id"] != referral.json()["id"]


async def test_the_same_key_on_another_record_of_one_operation_is_refused(
    client: httpx.AsyncClient, auth
) -> None:
    police, hub = auth("partner_referrer", "police"), auth("mash_practitioner")
    first, second = [await _refer(client, police, f"r{n}") for n in (1, 2)]
    body = {"audience": "referrer", "method": "phone", "summary": "Told the officer it was received."}
    headers = {**hub, "Idempotency-Key": "call-1"}
    made = await client.post(f"/v1/referrals/{first.json()['id']}/communications", json=body, headers=headers)
    assert made.status_code == 201, made.text
    other = await client.post(
        f"/v1/referrals/{second.json()['id']}/communications", json=body, headers=headers
    )
    assert_problem(other, 422, "idempotency_key_reused")


async def test_a_replay_is_audited_as_a_read(client: httpx.AsyncClient, auth) -> None:
    police = auth("partner_referrer", "police", sub="ppu-system")
    created = await _refer(client, police, "incident-9")
    replayed = await _refer(client, police, "incident-9")
    assert replayed.headers["idempotent-replayed"] == "true"
    referral_id = created.json()["id"]
    trail = await client.get(
        "/v1/audit-events",
        params={"record_type": "referral", "record_id": referral_id},
        headers=auth("auditor", "childrens_social_care"),
    )
    assert trail.status_code == 200, trail.text
    entries = [(e["action"], e["actor"]["sub"], e["details"]) for e in trail.json()["items"]]
    assert ("read", "ppu-system", {"idempotent_replay": True}) in entries
    assert [action for action, *_ in entries].count("create") == 1


@pytest.mark.postgres
async def test_a_creates_answer_is_kept_by_the_statement_that_stages_its_audit_entries(
    client: httpx.AsyncClient, auth, app: FastAPI
) -> None:
    # One round trip for the transaction's last inserts (app.core.insert_at_commit), whichever
    # queued first; the replay then shows the answer was kept with the record.
    police = auth("partner_referrer", "police", sub="ppu-system")
    with counting_statements(app) as sent:
        created = await _refer(client, police, "incident-11")
    assert created.status_code == 201, created.text
    [kept] = [s for s in sent if "INSERT INTO idempotency_records" in s]
    assert "INSERT INTO audit_pending" in kept and "INSERT INTO case_events_pending" in kept
    assert not any("INSERT INTO audit_pending" in s for s in sent if s is not kept)
    replayed = await _refer(client, police, "incident-11")
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == created.json()


def _calls(dependant: Dependant) -> list[Any]:
    return [dependant.call, *(call for sub in dependant.dependencies for call in _calls(sub))]


def test_every_create_claims_its_key_only_after_authorising_the_caller(app: FastAPI) -> None:
    """Structural: each POST answering 201 takes Idempotency-Key through `idempotent(...)`, whose
    principal is itself an authorised one, so no route can replay before its scope check."""
    creates = [
        (context.path_format, route)
        for context in iter_route_contexts(app.routes)
        if isinstance(route := context.original_route, APIRoute)
        and "POST" in (route.methods or ())
        and route.status_code == 201
    ]
    assert len(creates) >= 15
    for path, route in creates:
        if route.path.startswith("/public/"):
            # The public's door has no caller to authorise: the door claims the key once the public
            # principal is set, partitioned by client address (tests/public).
            doors = [
                sub
                for sub in route.dependant.dependencies
                if getattr(sub.call, "__name__", "").endswith("_door")
            ]
            assert [param.alias for door in doors for param in door.header_params] == ["Idempotency-Key"], (
                path
            )
            continue
        claims = [
            sub for sub in route.dependant.dependencies if getattr(sub.call, "__name__", "") == "claim_key"
        ]
        assert len(claims) == 1, f"{path}: its principal must be idempotent(requires(...))"
        [claim] = claims
        assert authorize in _calls(claim) or any(
            getattr(call, "__name__", "") == "check" for call in _calls(claim)
        ), f"{path}: the key is claimed before the caller is authorised"
        assert [param.alias for param in claim.header_params] == ["Idempotency-Key"], path
