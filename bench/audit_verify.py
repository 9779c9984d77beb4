"""Checking a long audit trail: how fast, how much memory, and whether writers get through meanwhile.

    .venv/bin/python bench/audit_verify.py --entries 200000 [--database postgresql|sqlite]

Creates a fresh database (PostgreSQL ``mash_bench_audit``, dropped first, through ``--admin-dsn``; or
the SQLite file bench/results/audit.db, deleted first), migrates it with ``mash migrate`` and writes
``--entries`` audit entries through the application's own chain code (``app.core.audit.record``, one
commit per thousand). Then it runs the check as GET /v1/audit-events/verification does
(``verify_chain`` in a read-only transaction), while a writer in the same process appends one entry
every 10 ms in its own transactions, as requests would. It prints the check's time and rate, the
writer's commits during the check with their latency, and, from a second check on its own, the peak
Python memory allocated (tracemalloc). On SQLite, a check in an ordinary transaction would hold the
only write lock throughout and every writer would wait, then fail (``--locking`` shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/audit_verify.py), not only as a module
    sys.path.insert(0, str(ROOT))

from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from app.core import audit, db  # noqa: E402
from app.core.config import Settings  # noqa: E402
from bench import fresh_db  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATABASE = "mash_bench_audit"
SQLITE_FILE = RESULTS / "audit.db"
PER_COMMIT = 1_000


@dataclass(frozen=True)
class Someone:
    sub: str = "bench@test"
    agency: str = "childrens_social_care"
    role: str = "mash_practitioner"


async def _write(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    async with sessions() as session:
        for _ in range(count):
            audit.record(session, Someone(), audit.AuditAction.READ, "referral", uuid.uuid4())
        await db.commit(session)


async def _writer(
    sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event, writes: list[tuple[float, float, bool]]
) -> None:
    while not stop.is_set():
        started, ok = time.perf_counter(), True
        try:
            await _write(sessions, 1)
        except OperationalError:  # "database is locked" after the busy timeout: a 503 in the API
            ok = False
        writes.append((started, time.perf_counter(), ok))
        await asyncio.sleep(0.01)


async def _check(
    sessions: async_sessionmaker[AsyncSession], args: argparse.Namespace
) -> audit.ChainVerification:
    async with sessions() as session:
        if not args.locking:
            await db.begin_read_only(session)
        return await audit.verify_chain(session, batch_size=args.batch_size)


async def run(args: argparse.Namespace) -> None:
    database_url = await fresh_db.fresh_database(args, database=DATABASE, sqlite_file=SQLITE_FILE)
    settings = Settings(_env_file=None, database_url=database_url)
    engine = db.create_engine(settings)
    sessions = db.create_sessionmaker(engine)
    try:
        started = time.perf_counter()
        for done in range(0, args.entries, PER_COMMIT):
            await _write(sessions, min(PER_COMMIT, args.entries - done))
        print(f"{args.database}: wrote {args.entries} entries in {time.perf_counter() - started:.1f}s")

        stop, writes = asyncio.Event(), list[tuple[float, float, bool]]()
        writer = asyncio.create_task(_writer(sessions, stop, writes))
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        result = await _check(sessions, args)
        ended = time.perf_counter()
        elapsed = ended - started
        stop.set()
        await writer
        # The writes that were under way during the check, including one it held up past its end.
        during = [(end - start, ok) for start, end, ok in writes if start < ended and end > started]
        # Memory on its own run: tracemalloc slows allocation-heavy code several times over.
        tracemalloc.start()
        await _check(sessions, args)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await engine.dispose()
    rate = result.checked / elapsed
    print(f"check: valid={result.valid} checked={result.checked} in {elapsed:.2f}s ({rate:,.0f}/s)")
    print(f"peak Python memory allocated during the check: {peak / 2**20:.1f} MiB (batch {args.batch_size})")
    latencies = sorted(latency for latency, _ in during)
    print(
        f"writer during the check: {sum(ok for _, ok in during)} commits, "
        f"{sum(not ok for _, ok in during)} failed (busy timeout), "
        f"latency p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, worst {latencies[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--locking", action="store_true", help="check in an ordinary (writing) transaction")
    fresh_db.add_arguments(parser, admin_dsn_help="a superuser connection, to create the benchmark database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
