"""The restore drill (README, "Backup and restore"): a backup taken while a partner system is writing
referrals, restored into a new database, must be a service that works from where the backup left it.

1. A police system starts reading the change feed (its cursor is taken before the backup) and keeps
   making referrals, each with an Idempotency-Key.
2. While it writes, ``pg_dump -Fc`` takes the backup (one consistent snapshot); the writer goes on
   after the dump, so the original database moves past what the backup holds.
3. ``pg_restore`` loads it into a new database, the way an operator would (README).
4. On the restored database: ``mash audit verify`` says the chain verifies; every stored idempotent
   answer names records that exist (and a retry of one replays it); the police feed read from its
   cursor gives the events after it with no gap, the same events the original gave up to the backup,
   and goes on with the next referral made after the restore.

PostgreSQL only (``-m restore``, ``make restore-drill``); binaries from PATH or ``MASH_TEST_PG_BIN``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.main import create_app
from tests.conftest import TEST_SECRET, Databases, _pg_admin, _pg_dsn, make_settings
from tests.fixtures.callers import TokenFactory
from tests.fixtures.http import ok
from tests.fixtures.referrals import referral_body, unique_child
from tests.fixtures.values import Body, Headers

pytestmark = [pytest.mark.postgres, pytest.mark.restore]

ROOT = Path(__file__).resolve().parents[2]
# Writes the writer makes before the backup starts, and after it has finished.
BEFORE, AFTER = 5, 3
# What each kind of record a create names lives in (``IdempotencyRecord.records``).
TABLES = {"referral": "referrals", "person": "people"}


def _binary(name: str) -> str:
    for folder in filter(None, [os.environ.get("MASH_TEST_PG_BIN"), "/usr/lib/postgresql/15/bin"]):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    assert found, f"{name} not found: install PostgreSQL's client tools or set MASH_TEST_PG_BIN"
    return found


class Writer:
    """A partner system making referrals one after another, each with its own Idempotency-Key."""

    def __init__(self, http: httpx.AsyncClient, headers: Headers) -> None:
        self.http, self.headers = http, headers
        self.made: list[tuple[str, Body, str]] = []  # (key, body, referral id)
        self.stop = asyncio.Event()
        self.progress = asyncio.Event()  # set at each referral made

    async def run(self) -> None:
        while not self.stop.is_set():
            key, body = f"drill-{uuid.uuid4()}", referral_body(unique_child())
            headers = {**self.headers, "Idempotency-Key": key}
            created = ok(await self.http.post("/v1/referrals", json=body, headers=headers), 201)
            self.made.append((key, body, created["id"]))
            self.progress.set()

    async def until(self, count: int) -> None:
        while len(self.made) < count:
            self.progress.clear()
            await self.progress.wait()


async def _feed(http: httpx.AsyncClient, headers: Headers, cursor: str) -> tuple[list[Body], str]:
    """Every event after ``cursor``, reading page after page until caught up, and the cursor then."""
    events: list[Body] = []
    while True:
        page = ok(await http.get("/v1/events", params={"cursor": cursor, "limit": 200}, headers=headers))
        if not page["items"]:
            return events, cursor
        events += page["items"]
        cursor = page["next_cursor"]


@pytest.fixture
async def restored_url(databases: Databases, database_url: str) -> AsyncIterator[str]:
    """A new, empty database for the restore (dropped after the drill)."""
    name = f"mash_restored_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run(*command: str, env: dict[str, str] | None = None) -> str:
    """Run a command to its end (the event loop, and so the writer, goes on meanwhile); its output."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT
    )
    out, err = await process.communicate()
    assert process.returncode == 0, f"{command[0]} failed: {(out + err).decode()[-2000:]}"
    return out.decode()


async def test_a_backup_under_write_load_restores_into_a_working_service(
    client: httpx.AsyncClient, auth: TokenFactory, database_url: str, restored_url: str, tmp_path: Path
) -> None:
    police = auth("partner_referrer", "police", "police-system")
    auditor = auth("auditor", "childrens_social_care", "auditor-eve")

    # The partner's last cursor, before anything the drill writes.
    cursor = ok(await client.get("/v1/events", params={"from": "now"}, headers=police))["next_cursor"]
    writer = Writer(client, police)
    writing = asyncio.create_task(writer.run())
    try:
        await writer.until(BEFORE)
        backup = tmp_path / "mash.dump"
        await _run(_binary("pg_dump"), "-Fc", "--file", str(backup), _pg_dsn(database_url))
        made_by_dump = len(writer.made)
        await writer.until(made_by_dump + AFTER)
    finally:
        writer.stop.set()
        await writing
    original_events, _ = await _feed(client, police, cursor)

    await _run(_binary("pg_restore"), "--exit-on-error", "--dbname", _pg_dsn(restored_url), str(backup))

    # The audit chain verifies, by the operator's command.
    # The same secret as the restored service: the command signs a checkpoint the service then checks.
    env = {
        **os.environ,
        "MASH_DATABASE_URL": restored_url,
        "MASH_ENVIRONMENT": "development",
        "MASH_JWT_SECRET": TEST_SECRET,
    }
    verdict = json.loads(await _run(str(Path(sys.executable).parent / "mash"), "audit", "verify", env=env))
    assert verdict["valid"] is True and verdict["checked"] > 0

    restored_app = create_app(make_settings(restored_url))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=restored_app), base_url="http://testserver"
        ) as restored:
            await _check_restored(restored, restored_url, police, auditor, writer, cursor, original_events)
    finally:
        await restored_app.state.engine.dispose()


async def _check_restored(
    restored: httpx.AsyncClient,
    restored_url: str,
    police: Headers,
    auditor: Headers,
    writer: Writer,
    cursor: str,
    original_events: list[Body],
) -> None:
    connection = await asyncpg.connect(_pg_dsn(restored_url))
    try:
        kept = {str(r["id"]) for r in await connection.fetch("SELECT id FROM referrals")}
        answers = await connection.fetch("SELECT records FROM idempotency_records")
        named: list[dict[str, Any]] = [n for a in answers for n in json.loads(a["records"])]
        missing = []
        for entry in named:
            table = TABLES.get(entry["record_type"])
            assert table, f"a stored answer names a {entry['record_type']}: add its table to TABLES"
            exists = await connection.fetchval(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)",  # TABLES' names only
                uuid.UUID(entry["record_id"]),
            )
            if not exists:
                missing.append(entry)
        seqs = [r["seq"] for r in await connection.fetch("SELECT seq FROM case_events ORDER BY seq")]
    finally:
        await connection.close()

    # Written before the backup: in it; written after: not. The backup was taken under load.
    made = [referral_id for _, _, referral_id in writer.made]
    assert BEFORE <= len(kept & set(made)) < len(made)
    assert kept & set(made) == set(made[: len(kept & set(made))]), "the backup is not one snapshot"

    # Every stored idempotent answer points at records that exist; a retry is replayed from it.
    assert named and not missing, f"stored answers name records that are not there: {missing}"
    key, body, first_id = writer.made[0]
    replay = await restored.post("/v1/referrals", json=body, headers={**police, "Idempotency-Key": key})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first_id

    # The chain verifies through the API too, as the restored service's auditor reads it.
    verification = ok(await restored.get("/v1/audit-events/verification", headers=auditor))
    assert verification["valid"] is True, str(verification)

    # The feed: no gap anywhere, and from the partner's cursor exactly what the original gave up to the
    # backup; then on to what happens on the restored service.
    assert seqs == list(range(1, len(seqs) + 1))
    events, head = await _feed(restored, police, cursor)
    assert events == original_events[: len(events)]
    received = {e["record_id"] for e in events if e["event_type"] == "referral.received"}
    assert received == kept & set(made)
    after_restore = ok(
        await restored.post("/v1/referrals", json=referral_body(unique_child()), headers=police), 201
    )
    more, _ = await _feed(restored, police, head)
    assert [e["record_id"] for e in more if e["event_type"] == "referral.received"] == [after_restore["id"]]
    assert more[0]["seq"] > events[-1]["seq"]
