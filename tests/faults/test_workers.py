"""`mash serve --workers 2` on one PostgreSQL database: two worker processes serve the same data.

Each request carries its own X-Request-ID and every log line names the process that wrote it, so the
server's log says which worker answered which request. Connections are not kept alive, so the kernel
hands successive requests to either worker. What one worker wrote, the other reads; a create retried
with one Idempotency-Key on both workers is made once; timescales an admin changed through one worker
set the deadlines the other computes; /metrics, answered by either, counts the requests both served.
Nothing depends on which process answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.scopes import AgencyCode, Role
from app.core.tokens import TokenService
from tests.conftest import TEST_SECRET, Databases, make_settings, served_env
from tests.faults.live import Server
from tests.fixtures.referrals import referral_body, unique_child
from tests.fixtures.values import Headers
from tests.governance.test_settings import change

pytestmark = pytest.mark.postgres

_ids = itertools.count()


@pytest.fixture
async def server(databases: Databases, tmp_path: Path) -> AsyncIterator[Server]:
    url = await databases.clone()
    env = {
        **os.environ,
        **served_env(url),  # as the application role; through PgBouncer in `make test-pooled`
        "MASH_JWT_SECRET": TEST_SECRET,
        "MASH_DB_POOL_SIZE": "5",
        "MASH_ARGON2_TIME_COST": "1",
        "MASH_ARGON2_MEMORY_KIB": "8192",
        "MASH_ARGON2_PARALLELISM": "1",
        "PYTHONUNBUFFERED": "1",  # log lines reach the file as they are written
    }
    started = Server(env, tmp_path / "server.log", workers=2)
    try:
        await started.start()
        yield started
    finally:
        await started.stop()
        await databases.drop(url)


def _served_by(log: Path) -> dict[str, int]:
    """request id → pid of the process whose access log line has it."""
    served = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("event") == "http.request" and "request_id" in entry:
            served[entry["request_id"]] = entry["pid"]
    return served


def _served_count(exposition: str, method: str, route: str, status: str) -> float:
    """``mash_http_requests_total`` for these labels in a /metrics answer."""
    wanted = {"method": method, "route": route, "status": status}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "mash_http_requests_total" and sample.labels == wanted:
                return sample.value
    return 0.0


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def _until_both_workers(
    server: Server, send: Callable[[str], Awaitable[httpx.Response]]
) -> list[tuple[int, httpx.Response]]:
    """Send batches of concurrent requests, each on a new connection, until both workers answered
    several; returns (pid, response) for each."""
    answered: list[tuple[str, httpx.Response]] = []
    for _ in range(40):
        ids = [f"t-{next(_ids)}" for _ in range(6)]
        answered += zip(ids, await asyncio.gather(*(send(i) for i in ids)), strict=True)
        await asyncio.sleep(0.2)  # the log line is written just after the response
        served = _served_by(server.log)
        pids = [served[i] for i, _ in answered]
        if len(set(pids)) == 2 and min(pids.count(p) for p in set(pids)) >= 3:
            return list(zip(pids, (r for _, r in answered), strict=True))
    raise AssertionError(f"one worker answered everything: {set(_served_by(server.log).values())}")


async def test_two_worker_processes_serve_the_same_data(server: Server) -> None:
    tokens = TokenService(make_settings(server.env["MASH_DATABASE_URL"]))

    def token(role: Role, agency: AgencyCode, sub: str) -> Headers:
        return {"Authorization": f"Bearer {tokens.issue(sub=sub, agency=agency, role=role).access_token}"}

    police = token(Role.PARTNER_REFERRER, AgencyCode.POLICE, "police-system")
    practitioner = token(Role.MASH_PRACTITIONER, AgencyCode.CHILDRENS_SOCIAL_CARE, "practitioner-ann")
    admin = token(Role.ADMIN, AgencyCode.CHILDRENS_SOCIAL_CARE, "admin-ada")
    auditor = token(Role.AUDITOR, AgencyCode.CHILDRENS_SOCIAL_CARE, "auditor-eve")
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.origin, limits=no_keepalive, timeout=30) as http:
        body = referral_body(unique_child())
        first = await http.post("/v1/referrals", json=body, headers={**police, "Idempotency-Key": "ppu-w-1"})
        assert first.status_code == 201, first.text
        # Retried with the same key on whichever worker gets each retry: the one stored answer.
        created = await _until_both_workers(
            server,
            lambda rid: http.post(
                "/v1/referrals",
                json=body,
                headers={**police, "Idempotency-Key": "ppu-w-1", "X-Request-ID": rid},
            ),
        )
        assert {(r.status_code, r.text, r.headers["idempotent-replayed"]) for _, r in created} == {
            (201, first.text, "true")
        }
        referral_id = first.json()["id"]
        url = f"/v1/referrals/{referral_id}"

        reads = await _until_both_workers(
            server, lambda rid: http.get(url, headers={**practitioner, "X-Request-ID": rid})
        )
        assert {r.status_code for _, r in reads} == {200}
        assert len({r.headers["etag"] for _, r in reads}) == 1
        assert len({json.dumps(r.json(), sort_keys=True) for _, r in reads}) == 1

        # Timescales changed through one worker set the deadline the other computes at once.
        await change(http, admin, rag_hours={"red": 2, "amber": 24, "green": 72})
        rated = await _until_both_workers(
            server,
            lambda rid: http.post(
                f"{url}/rag-rating",
                json={"rating": "red", "rationale": "Child present at a violent incident."},
                headers={**practitioner, "X-Request-ID": rid},
            ),
        )
        assert {r.status_code for _, r in rated} == {200}
        for _, r in rated:
            received, due = (datetime.fromisoformat(r.json()[f]) for f in ("received_at", "decision_due_at"))
            assert due - received == timedelta(hours=2)

        listed = await http.get("/v1/referrals", headers=police)
        assert [r["id"] for r in listed.json()["items"]] == [referral_id]
        verification = await http.get("/v1/audit-events/verification", headers=auditor)
        assert verification.json()["valid"] is True, verification.json()

        # Whichever worker answers a scrape, it counts the requests both workers served.
        scrapes = await _until_both_workers(
            server, lambda rid: http.get("/metrics", headers={"X-Request-ID": rid})
        )
        read_counts = {_served_count(r.text, "GET", "/v1/referrals/{referral_id}", "200") for _, r in scrapes}
        assert read_counts == {len(reads)}, "a scrape saw only its own worker's requests"

    workers = {pid for pid, _ in created + reads + rated}
    assert len(workers) == 2 and server.pid not in workers
    assert {_parent(pid) for pid in workers} == {server.pid}, "both are workers of this one `mash serve`"
