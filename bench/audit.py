"""The audit chain at ten years' size on PostgreSQL: how fast the full check runs in the database, and
the routine (incremental) check after a day of entries.

    .venv/bin/python bench/audit.py --entries 2000000 [--day 5500] [--runs 3] [--reuse]

Makes the database ``mash_bench_audit_chain`` (dropped first, through ``--admin-dsn``), migrates it and
seeds ``--entries`` chained audit entries over ten years with COPY (the secondary indexes dropped
during the load and built after it, then VACUUM ANALYZE). The entries are hashed here with the same
canonical form as ``app.core.audit.chain_hash`` (checked against it on the first thousand), but from
f-strings, about ten times faster than its json.dumps. ``--reuse`` keeps a database seeded before with
as many entries.

Then, with the application's own code (``app.core.audit``): the full check (``verify_chain``, what
``mash audit verify --full`` and GET /v1/audit-events/verification run) ``--runs`` times; a signed
checkpoint at the head; ``--day`` entries written through ``audit.record`` and commit, ten per
transaction, as requests do (chained at commit by the database's deferred trigger); and the routine
check (``verify_chain(incremental=True)``, what ``mash audit verify`` runs) ``--runs`` times. Prints
one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from app.core import audit, db  # noqa: E402
from app.core.config import Settings  # noqa: E402
from bench import fresh_db  # noqa: E402

DATABASE = "mash_bench_audit_chain"
KEY = b"bench-checkpoint-key-not-a-secret-000000"
CHUNK = 100_000
START = datetime(2016, 12, 1, tzinfo=UTC)
TEN_YEARS = timedelta(days=3652)
COLUMNS = (
    "seq", "id", "occurred_at", "request_id", "actor_sub", "actor_agency", "actor_role", "action",
    "record_type", "record_id", "person_id", "details", "prev_hash", "hash",
)  # fmt: skip
ACTORS = [
    ("ann@csc", "childrens_social_care", "mash_practitioner"),
    ("ben@csc", "childrens_social_care", "mash_manager"),
    ("cara@asc", "adult_social_care", "asc_practitioner"),
    ("police-system", "police", "partner_referrer"),
    ("gp-system", "health", "partner_referrer"),
]
KINDS = [  # (action, record_type, details), with a record id and a person id or not
    ("read", "referral", '{"view":"full"}', True, False),
    ("list", "referral", '{"cursor":false,"returned":25}', False, False),
    ("create", "referral", '{"children":1}', True, True),
    ("update", "adult_concern", "{}", True, True),
]


@dataclass(frozen=True)
class Someone:
    sub: str = "bench@csc"
    agency: str = "childrens_social_care"
    role: str = "mash_practitioner"


def _entry(seq: int, prev: str, step: timedelta) -> tuple[Any, ...]:
    """Entry ``seq``, following ``prev``: the row (COPY's order) and its canonical form."""
    sub, agency, role = ACTORS[seq % len(ACTORS)]
    action, record_type, details, has_record, has_person = KINDS[seq % len(KINDS)]
    entry_id = uuid.UUID(int=seq * 7919 + 1, version=4)
    occurred = START + step * seq
    request_id = f"req-{seq}"
    record_id = str(uuid.UUID(int=seq * 104729 + 3, version=4)) if has_record else None
    person_id = uuid.UUID(int=seq * 15485863 + 5, version=4) if has_person else None
    canonical = (
        f'{{"action":"{action}","actor_agency":"{agency}","actor_role":"{role}","actor_sub":"{sub}",'
        f'"details":{details},"id":"{entry_id}","occurred_at":"{occurred.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}",'
        f'"person_id":{"null" if person_id is None else f"{chr(34)}{person_id}{chr(34)}"},"prev_hash":"{prev}",'
        f'"record_id":{"null" if record_id is None else f"{chr(34)}{record_id}{chr(34)}"},'
        f'"record_type":"{record_type}","request_id":"{request_id}","seq":{seq}}}'
    )
    entry_hash = hashlib.sha256(canonical.encode()).hexdigest()
    row = (seq, entry_id, occurred, request_id, sub, agency, role, action, record_type, record_id, person_id,
           details, prev, entry_hash)  # fmt: skip
    return row


def _check_form(rows: list[tuple[Any, ...]]) -> None:
    """The fast form here must be the application's, byte for byte."""
    for row in rows:
        doc = dict(zip(COLUMNS, row, strict=True)) | {"details": json.loads(row[11])}
        assert audit.chain_hash(doc) == row[13], f"entry {row[0]} hashed unlike app.core.audit"


async def _seed(dsn: str, entries: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET mash.role = 'system'")
        constraints = await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
            " WHERE conrelid = 'audit_events'::regclass AND contype = 'u'"
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_events' AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint WHERE conrelid = 'audit_events'::regclass)"
        )
        for c in constraints:
            await conn.execute(f"ALTER TABLE audit_events DROP CONSTRAINT {c['conname']}")
        for i in indexes:
            await conn.execute(f"DROP INDEX {i['indexname']}")
        step = TEN_YEARS / entries
        prev, seq = audit.GENESIS_HASH, 0
        while seq < entries:
            rows = []
            for n in range(seq + 1, min(seq + CHUNK, entries) + 1):
                row = _entry(n, prev, step)
                prev = row[-1]
                rows.append(row)
            if seq == 0:
                _check_form(rows[:1000])
            await conn.copy_records_to_table("audit_events", records=rows, columns=COLUMNS)
            seq += len(rows)
        await conn.execute(
            "UPDATE audit_chain_head SET last_seq = $1, last_hash = $2 WHERE id = 1", seq, prev
        )
        for c in constraints:
            await conn.execute(f"ALTER TABLE audit_events ADD CONSTRAINT {c['conname']} {c['def']}")
        for i in indexes:
            await conn.execute(i["indexdef"])
        await conn.execute("VACUUM ANALYZE audit_events")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def _entries(dsn: str) -> int:
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return -1
    try:
        return int(await conn.fetchval("SELECT last_seq FROM audit_chain_head"))
    finally:
        await conn.close()


async def _timed_checks(
    sessions: Any, runs: int, *, incremental: bool
) -> tuple[list[float], audit.ChainVerification]:
    times, result = [], None
    for _ in range(runs):
        async with sessions() as session:
            started = time.perf_counter()
            result = await audit.verify_chain(session, checkpoint_key=KEY, incremental=incremental)
            times.append(time.perf_counter() - started)
        assert result.valid, result
    assert result is not None
    return times, result


async def _write_day(sessions: Any, count: int) -> float:
    started = time.perf_counter()
    for done in range(0, count, 10):
        async with sessions() as session:
            for _ in range(min(10, count - done)):
                audit.record(session, Someone(), audit.AuditAction.READ, "referral", uuid.uuid4())
            await db.commit(session)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, Any]:
    dsn = f"{args.admin_dsn.rpartition('/')[0]}/{DATABASE}"
    report: dict[str, Any] = {"entries": args.entries, "day": args.day}
    if not (args.reuse and await _entries(dsn) >= args.entries):
        dsn = await fresh_db.fresh_postgres(args.admin_dsn, DATABASE)
        await asyncio.to_thread(fresh_db.migrate, fresh_db.sqlalchemy_url(dsn))
        report["seed_seconds"] = round(await _seed(dsn, args.entries), 1)
    engine = db.create_engine(Settings(_env_file=None, database_url=fresh_db.sqlalchemy_url(dsn)))
    sessions = db.create_sessionmaker(engine)
    try:
        # The full check: no checkpoints yet, or all of them checked too (there are few).
        times, result = await _timed_checks(sessions, args.runs, incremental=False)
        report["full"] = {
            "checked": result.checked,
            "seconds": [round(t, 2) for t in times],
            "entries_per_second": round(result.checked / statistics.median(times)),
        }
        async with sessions() as session:
            await audit.write_checkpoint(session, KEY, result)
            await db.commit(session)
        written = await _write_day(sessions, args.day)
        report["day_written"] = {"entries": args.day, "seconds": round(written, 2)}
        times, result = await _timed_checks(sessions, args.runs, incremental=True)
        report["incremental"] = {
            "after_seq": result.after_seq,
            "checked": result.checked,
            "seconds": [round(t, 3) for t in times],
        }
        async with sessions() as session:  # sign the day, so that --reuse starts from the seeded chain
            await audit.write_checkpoint(session, KEY, result)
            await db.commit(session)
        if args.python:  # the same check as SQLite runs it (and PostgreSQL did before), for comparison
            async with sessions() as session:
                head = min(args.python, args.entries)
                span = audit._Range(0, audit.GENESIS_HASH, head, "")
                started = time.perf_counter()
                result = await audit._verify_here(session, span, 5_000)
                elapsed = time.perf_counter() - started
            assert result.checked == head, result
            report["python"] = {
                "checked": head,
                "seconds": round(elapsed, 2),
                "entries_per_second": round(head / elapsed),
            }
    finally:
        await engine.dispose()
    report["machine"] = {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--day", type=int, default=5_500, help="entries a day (20 million over ten years)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", type=int, default=200_000, help="also check this many in Python (0: no)")
    parser.add_argument("--reuse", action="store_true", help="keep a database already seeded with --entries")
    parser.add_argument(
        "--admin-dsn",
        default=os.environ.get("BENCH_ADMIN_DSN", fresh_db.DEFAULT_ADMIN_DSN),
        help="a superuser connection, to create the benchmark database",
    )
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
