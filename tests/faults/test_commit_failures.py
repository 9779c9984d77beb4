"""The connection dies exactly while a request commits: the caller gets a 503 problem, nothing is
half-written, the pool recovers, and a retry with the same Idempotency-Key creates the record once.

PostgreSQL only: a trigger makes the request's own backend terminate itself (``pg_terminate_backend``
on its own pid), either while the before-commit hooks write the audit entries or at COMMIT itself
(a deferred constraint trigger). Only that one connection dies; the server stays up. And a statement
PostgreSQL cancels at statement_timeout is a 503 too (the database is slow, not the request wrong).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import make_settings
from tests.fixtures.database import run_sql
from tests.fixtures.http import asgi_client, assert_problem
from tests.fixtures.referrals import referral_body, unique_child
from tests.fixtures.values import Headers

pytestmark = pytest.mark.postgres

DIE = """
CREATE FUNCTION mash_test_die() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_terminate_backend(pg_backend_pid());
    RETURN NULL;
END $$
"""
WHEN = {
    # While db.commit() runs the before-commit hooks: staging the create's audit entry kills it (the
    # entry is chained into audit_events later, at COMMIT).
    "before_commit": "CREATE TRIGGER die AFTER INSERT ON audit_pending FOR EACH ROW"
    " WHEN (NEW.action = 'create' AND NEW.record_type = 'referral') EXECUTE FUNCTION mash_test_die()",
    # At COMMIT itself: deferred constraint triggers run as the transaction commits.
    "at_commit": "CREATE CONSTRAINT TRIGGER die AFTER INSERT ON referrals DEFERRABLE INITIALLY DEFERRED"
    " FOR EACH ROW EXECUTE FUNCTION mash_test_die()",
}
TABLE = {"before_commit": "audit_pending", "at_commit": "referrals"}


@pytest.mark.parametrize("when", sorted(WHEN))
async def test_a_connection_lost_while_committing_is_a_503_and_a_retry_creates_once(
    app: FastAPI, client: httpx.AsyncClient, auth: Callable[..., Headers], when: str
) -> None:
    police = auth("partner_referrer", "police", sub="police-system")
    practitioner = auth("mash_practitioner", sub="practitioner-ann")
    auditor = auth("auditor", sub="auditor-eve")
    body = referral_body(unique_child())
    headers = {**police, "Idempotency-Key": f"ppu-{when}"}
    await run_sql(app, DIE, WHEN[when])

    lost = await client.post("/v1/referrals", json=body, headers=headers)
    problem = assert_problem(lost, 503, "database_unavailable")
    assert lost.headers["retry-after"]
    # Once COMMIT was sent, nobody knows whether it took effect: the caller is told so, not "nothing changed".
    assert ("may or may not have been saved" in problem["detail"]) is (when == "at_commit")
    # The pool dropped the dead connection: the very next request works.
    listed = await client.get("/v1/referrals", headers=practitioner)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []  # nothing of the failed create survived

    await run_sql(app, f"DROP TRIGGER die ON {TABLE[when]}", "DROP FUNCTION mash_test_die()")
    retried = await client.post("/v1/referrals", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    replayed = await client.post("/v1/referrals", json=body, headers=headers)
    assert (replayed.status_code, replayed.json()["id"]) == (201, retried.json()["id"])
    assert replayed.headers["idempotent-replayed"] == "true"
    listed = await client.get("/v1/referrals", headers=practitioner)
    assert [r["id"] for r in listed.json()["items"]] == [retried.json()["id"]]
    timeline = await client.get(f"/v1/referrals/{retried.json()['id']}/timeline", headers=practitioner)
    assert [e["event_type"] for e in timeline.json()["items"]] == ["referral.received", "child.new_person"]
    verification = await client.get("/v1/audit-events/verification", headers=auditor)
    assert verification.json()["valid"] is True, verification.json()


async def test_a_statement_past_the_statement_timeout_is_a_503_service_busy(
    database_url: str, auth: Callable[..., Headers]
) -> None:
    app = create_app(make_settings(database_url, db_statement_timeout_ms=300))
    police = auth("partner_referrer", "police", sub="police-system")
    slow = (
        "CREATE FUNCTION mash_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$",
        "CREATE TRIGGER slow AFTER INSERT ON referrals FOR EACH ROW EXECUTE FUNCTION mash_test_slow()",
    )
    try:
        await run_sql(app, *slow)
        async with asgi_client(app, "http://test") as http:
            response = await http.post("/v1/referrals", json=referral_body(unique_child()), headers=police)
            # PostgreSQL cancelled it (query_canceled): the database is there but too slow, not a bug.
            assert_problem(response, 503, "service_busy")
            assert response.headers["retry-after"]
            await run_sql(app, "DROP TRIGGER slow ON referrals")
            practitioner = auth("mash_practitioner", sub="practitioner-ann")
            listed = await http.get("/v1/referrals", headers=practitioner)
            assert (listed.status_code, listed.json()["items"]) == (200, [])
    finally:
        await app.state.engine.dispose()
