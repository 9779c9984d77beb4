"""PostgreSQL fails under load and comes back: the service answers 503 quickly while it is gone,
recovers on its own when it returns, and leaves nothing half-written.

A real `mash serve` (production settings, small timeouts) runs against a throwaway cluster. Partner
systems create referrals, each with its own Idempotency-Key, and retry on 503 or a lost connection
as a well-behaved client would; partners and hub staff read at the same time. The cluster is killed
(``pg_ctl stop -m immediate``: a crash) while requests are in flight, then started again; or frozen
(SIGSTOP: a hung host, a network partition, where nothing answers and nothing is closed), then thawed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.core.scopes import AgencyCode, Role
from app.core.tokens import TokenService
from tests.conftest import PGBOUNCER, ROOT, TEST_SECRET, make_settings, migrate
from tests.faults.live import Cluster, Server
from tests.fixtures.http import assert_problem
from tests.fixtures.referrals import referral_body, unique_child

pytestmark = pytest.mark.fault

# Small on purpose: while the database is down, no request may wait longer than these.
TIMEOUTS = {
    "MASH_DB_CONNECT_TIMEOUT_SECONDS": "1",
    "MASH_DB_POOL_TIMEOUT_SECONDS": "2",
    "MASH_DB_STATEMENT_TIMEOUT_MS": "2000",
    "MASH_DB_COMMAND_TIMEOUT_SECONDS": "3",
    "MASH_READINESS_TIMEOUT_SECONDS": "1",
}
# A client gives up long after every configured timeout: hitting this means the service hung.
CLIENT_TIMEOUT = httpx.Timeout(15.0)
CREATORS, READERS = 6, 3


@dataclass
class Seen:
    """Every answer the load got, by the database's state when it was sent and when it came back."""

    answers: list[tuple[str, str, str, httpx.Response]] = field(default_factory=list)
    hung: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # connection dropped without an answer
    created: dict[str, set[str]] = field(default_factory=dict)  # Idempotency-Key -> referral ids
    children: dict[str, int] = field(default_factory=dict)  # Idempotency-Key -> children sent


class Load:
    def __init__(self, origin: str, tokens: TokenService) -> None:
        self.origin = origin
        self.state = "up"  # "up", "down", "restarting" or "back"
        self.stopping = False
        self.seen = Seen()
        self.ids: list[str] = []

        def token(role: Role, agency: AgencyCode, sub: str) -> dict[str, str]:
            issued = tokens.issue(sub=sub, agency=agency, role=role)
            return {"Authorization": f"Bearer {issued.access_token}"}

        self.partners = [
            token(Role.PARTNER_REFERRER, AgencyCode.POLICE, "police-system"),
            token(Role.PARTNER_REFERRER, AgencyCode.HEALTH, "health-system"),
        ]
        self.hub = token(Role.MASH_PRACTITIONER, AgencyCode.CHILDRENS_SOCIAL_CARE, "practitioner-ann")
        self.auditor = token(Role.AUDITOR, AgencyCode.CHILDRENS_SOCIAL_CARE, "auditor-eve")

    async def _send(self, label: str, call: Awaitable[httpx.Response]) -> httpx.Response | None:
        sent_in = self.state
        try:
            response = await call
        except httpx.TimeoutException:
            self.seen.hung.append(f"{label} sent while {sent_in}")
            return None
        except httpx.TransportError:
            self.seen.lost.append(f"{label} sent while {sent_in}")
            return None
        self.seen.answers.append((label, sent_in, self.state, response))
        return response

    async def creator(self, n: int) -> None:
        headers = self.partners[n % 2]
        async with httpx.AsyncClient(base_url=self.origin, timeout=CLIENT_TIMEOUT) as http:
            for i in itertools.count():
                if self.stopping:
                    return
                key = f"fault-{n}-{i}"
                children = [unique_child()] + (
                    [unique_child(date_of_birth="2020-06-01")] if i % 3 == 0 else []
                )
                body = referral_body(*children)
                self.seen.children[key] = len(children)
                # A partner's retry loop: the same key until it is answered, whatever happens meanwhile.
                for _attempt in range(400):
                    response = await self._send(
                        "create",
                        http.post("/v1/referrals", json=body, headers={**headers, "Idempotency-Key": key}),
                    )
                    if response is not None and response.status_code == 201:
                        self.seen.created.setdefault(key, set()).add(response.json()["id"])
                        self.ids.append(response.json()["id"])
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError(f"{key} was never answered 201")

    async def reader(self, n: int) -> None:
        async with httpx.AsyncClient(base_url=self.origin, timeout=CLIENT_TIMEOUT) as http:
            while not self.stopping:
                if n % 2 == 0 or not self.ids:
                    headers = self.partners[n % 2]
                    await self._send("list", http.get("/v1/referrals?limit=20", headers=headers))
                else:
                    url = f"/v1/referrals/{self.ids[-1]}"
                    await self._send("read", http.get(url, headers=self.hub))
                await asyncio.sleep(0.02)


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    made = Cluster()
    try:
        made.init()
        made.start()
        if PGBOUNCER:
            made.start_pooler()
        yield made
    finally:
        made.destroy()


@pytest.mark.parametrize("outage", ["crash", "freeze"])
async def test_the_service_survives_the_database_failing_under_load(
    cluster: Cluster, tmp_path: Path, outage: str
) -> None:
    cluster.create_database("mash")
    await migrate(cluster.url("mash"))
    env = {
        **os.environ,
        "MASH_ENVIRONMENT": "production",
        **cluster.served_env("mash"),
        "MASH_JWT_SECRET": TEST_SECRET,
        "MASH_DB_POOL_SIZE": "10",
        "MASH_DB_MAX_OVERFLOW": "0",
        "MASH_ARGON2_TIME_COST": "1",
        "MASH_ARGON2_MEMORY_KIB": "8192",
        "MASH_ARGON2_PARALLELISM": "1",
        **TIMEOUTS,
    }
    server = Server(env, tmp_path / "server.log")
    await server.start()
    try:
        await _outage_under_load(cluster, server, outage)
    finally:
        await server.stop()


async def _outage_under_load(cluster: Cluster, server: Server, outage: str) -> None:
    load = Load(server.origin, TokenService(make_settings(cluster.url("mash"))))
    pid = server.pid
    tasks = [asyncio.create_task(load.creator(n)) for n in range(CREATORS)]
    tasks += [asyncio.create_task(load.reader(n)) for n in range(READERS)]
    async with httpx.AsyncClient(base_url=server.origin, timeout=CLIENT_TIMEOUT) as ops:
        await _until(lambda: len(load.ids) >= 5, "the load created nothing while the database was up")

        # With requests in flight: a crash closes every connection; a freeze answers nothing at all.
        await asyncio.to_thread(cluster.stop if outage == "crash" else cluster.freeze)
        load.state = "down"
        await asyncio.sleep(1)
        ready = await ops.get("/readyz")
        assert_problem(ready, 503, "database_unavailable")
        assert ready.headers["retry-after"]
        # Liveness is not readiness: an orchestrator must not restart an app that only lacks its database.
        assert (await ops.get("/healthz")).status_code == 200
        # Down until creates and reads sent during the outage have had their answers.
        await _until(
            lambda: {a[0] for a in load.seen.answers if a[1] == a[2] == "down"} >= {"create", "list", "read"},
            "the load got no answers during the outage",
        )

        # Answers that arrive while it comes back may already be served: neither "down" nor "back".
        load.state = "restarting"
        await asyncio.to_thread(cluster.start if outage == "crash" else cluster.thaw)
        load.state = "back"
        await server.wait_ready(within=20)
        assert server.alive() and server.pid == pid, "the service was restarted"
        recovered_at = len(load.ids)
        await _until(lambda: len(load.ids) >= recovered_at + 5, "no referral was created after the restart")

        load.stopping = True
        done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
        assert [d for d in done if d is not None] == []

        seen = load.seen
        assert seen.hung == [], "requests hung past every configured timeout"
        # Uvicorn answers every request it accepted; a dropped connection would be a crash or a bug.
        assert seen.lost == []
        answered_down = [a for a in seen.answers if a[1] == a[2] == "down"]
        # While frozen, every pooled connection can be stuck waiting for an answer until the command
        # timeout, so a request may find none free within the pool timeout: 503 service_busy.
        unavailable = {"database_unavailable"} | ({"service_busy"} if outage == "freeze" else set())
        expected = {409: {"idempotency_key_in_progress"}, 503: unavailable}
        unexpected = [
            (label, sent, received, response.status_code, response.text[:200])
            for label, sent, received, response in seen.answers
            if response.status_code not in {200, 201, *expected}
            or (
                response.status_code in expected
                and response.json().get("code") not in expected[response.status_code]
            )
        ]
        assert unexpected == []
        assert not [a for a in answered_down if a[3].status_code < 300], "answered 2xx with no database"
        for *_, response in seen.answers:
            if response.status_code in expected:
                assert_problem(response, response.status_code, response.json()["code"])
                assert response.headers["retry-after"]

        await _nothing_half_written(cluster, load)
        verification = await ops.get("/v1/audit-events/verification", headers=load.auditor)
        assert verification.status_code == 200, verification.text
        assert verification.json()["valid"] is True, verification.json()
    await _audit_verify_command(server.env)
    _logs_hold_no_personal_data(server.log, load)


async def _until(condition: Callable[[], bool], failure: str) -> None:
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(failure)


async def _nothing_half_written(cluster: Cluster, load: Load) -> None:
    seen = load.seen
    # Retries with one key made one referral, whatever the outage did to the first attempts.
    assert all(len(ids) == 1 for ids in seen.created.values()), seen.created
    answered = {next(iter(ids)): key for key, ids in seen.created.items()}
    connection = await asyncpg.connect(cluster.dsn("mash"))
    try:
        rows = await connection.fetch(
            """
            SELECT r.id::text AS id,
                   (SELECT count(*) FROM referral_children c WHERE c.referral_id = r.id) AS children,
                   (SELECT count(*) FROM case_events e WHERE e.aggregate_id = r.id
                      AND e.event_type = 'referral.received') AS received,
                   (SELECT count(*) FROM case_events e WHERE e.aggregate_id = r.id
                      AND e.event_type LIKE 'child.%') AS child_events,
                   (SELECT count(*) FROM audit_events a WHERE a.record_type = 'referral'
                      AND a.action = 'create' AND a.record_id = r.id::text) AS audited
            FROM referrals r
            """
        )
        # Every referral in the database is one a client was told about, and each key made exactly one.
        assert {row["id"] for row in rows} == set(answered)
        for row in rows:
            key = answered[row["id"]]
            assert (row["children"], row["child_events"], row["received"], row["audited"]) == (
                seen.children[key],
                seen.children[key],
                1,
                1,
            ), f"referral for {key} is half-written: {dict(row)}"
        stored = await connection.fetchval("SELECT count(*) FROM idempotency_records")
        assert stored == len(rows)
        # Events are numbered in commit order with no gaps, even across the crash.
        seqs = await connection.fetchval("SELECT array_agg(seq ORDER BY seq) FROM case_events")
        assert list(seqs) == list(range(1, len(seqs) + 1))
    finally:
        await connection.close()


async def _audit_verify_command(env: dict[str, str]) -> None:
    mash = str(Path(sys.executable).parent / "mash")
    verify = await asyncio.create_subprocess_exec(
        mash, "audit", "verify", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(verify.communicate(), 60)
    assert verify.returncode == 0, out.decode()


def _logs_hold_no_personal_data(log: Path, load: Load) -> None:
    text = log.read_text()
    assert "database unavailable" in text  # the outage was logged...
    assert "Zara" not in text and "PC Dawson" not in text  # ...without names from the requests
