"""Time the change feed's page query on a large outbox, per caller and cursor position.

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE mash_feed_bench"
    MASH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/mash_feed_bench .venv/bin/mash migrate
    .venv/bin/python -m bench.seed --dsn postgresql://postgres@127.0.0.1:5432/mash_feed_bench
    .venv/bin/python -m bench.feed_query --url postgresql+asyncpg://postgres@127.0.0.1:5432/mash_feed_bench

The query is the service's own (``app.governance.feed.repository.page``), run directly against the database so
the figure is the query's alone: a page of 50 over a window of ``SCAN_WINDOW`` events, from the
start of the feed (a partner's first poll), from the middle, and from a cursor just behind the newest
event (the steady state of a partner polling every few seconds). The plan of one case is printed,
to show it walks the primary key and probes indexes only. bench.seed writes children's records only;
add adult concerns (and their events) by hand to see the adult side's joins probed too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.auth import Principal  # noqa: E402
from app.core.scopes import AgencyCode, Role  # noqa: E402
from app.governance.feed import repository  # noqa: E402
from app.governance.feed.service import SCAN_WINDOW  # noqa: E402

CALLERS = ("childrens_social_care", "police", "health", "education", "victim_support")


def caller(agency: str) -> Principal:
    role = Role.MASH_PRACTITIONER if agency == "childrens_social_care" else Role.PARTNER_REFERRER
    return Principal("bench", AgencyCode(agency), role, frozenset())


LIMIT = 50


async def _time(session: AsyncSession, agency: str, after: int, head: int, runs: int) -> tuple[float, int]:
    times = []
    found = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = await repository.page(
            session, caller(agency), after, min(head, after + SCAN_WINDOW), LIMIT + 1
        )
        times.append((time.perf_counter() - started) * 1000)
        found = len(rows)
    return statistics.median(times), found


async def main(url: str, runs: int) -> None:
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session:
        head = await repository.head(session)
        print(f"case_events: {head:,}; window {SCAN_WINDOW:,}; page {LIMIT}; median of {runs} runs (ms)")
        print(f"{'caller':<24}{'from start':>22}{'from middle':>22}{'near head':>22}")
        for agency in CALLERS:
            cells = []
            for after in (0, head // 2, max(0, head - 200)):
                ms, found = await _time(session, agency, after, head, runs)
                cells.append(f"{ms:8.1f} ({found:>2} rows)")
            print(f"{agency:<24}" + "".join(f"{c:>22}" for c in cells))
        stmt = repository.visible_to(caller("police"), 0, SCAN_WINDOW).limit(LIMIT + 1)
        compiled = stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
        plan = await session.execute(sa.text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}"))
        print("\nplan (police, from start):")
        for (line,) in plan:
            print("  " + line)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="postgresql+asyncpg://... of a seeded database")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.runs))
