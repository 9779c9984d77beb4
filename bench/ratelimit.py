"""What the rate limiter adds to each request: a micro-benchmark, not a load test.

    .venv/bin/python bench/ratelimit.py [--requests 2000] [--database postgresql|sqlite]

Creates a fresh database (PostgreSQL ``mash_bench_ratelimit``, dropped first, through ``--admin-dsn``;
or the SQLite file bench/results/ratelimit.db) and migrates it with ``mash migrate``. Then, one at a
time (no concurrency, so the figures are the cost and not queueing):

1. ``counter``: the counting step alone, ``RateLimiter.check`` for one client, ``--requests`` times
   (on PostgreSQL: the upsert on its own pool; on SQLite: the in-memory count);
2. ``GET /v1/me``: the whole application in process (httpx.ASGITransport, no network), with the
   limiter off and then on, ``--requests`` each, interleaved in rounds of 100 so that drift in the
   machine's load falls on both alike. /v1/me verifies the token and reads the client row: the
   cheapest authenticated request, so the added share is the largest any endpoint sees.

It prints p50, p95 and p99 of each, and the difference of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/ratelimit.py), not only as a module
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.ratelimit import RateLimiter  # noqa: E402
from app.core.scopes import AgencyCode, Role  # noqa: E402
from app.main import create_app  # noqa: E402
from bench import fresh_db  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATABASE = "mash_bench_ratelimit"
SQLITE_FILE = RESULTS / "ratelimit.db"
ROUND = 100


def _settings(database_url: str, *, enabled: bool) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        rate_limit_enabled=enabled,
        rate_limit_requests=10**9,  # counted, never refused: every request does the full work
        rate_limit_window_seconds=3600,
    )


def _summary(label: str, samples: list[float]) -> float:
    ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(ms)
    p95, p99 = ms[int(len(ms) * 0.95) - 1], ms[int(len(ms) * 0.99) - 1]
    print(f"{label:<28} n={len(ms):>6}  p50 {p50:7.3f} ms  p95 {p95:7.3f} ms  p99 {p99:7.3f} ms")
    return p50


async def _counter(database_url: str, requests: int) -> None:
    limiter = RateLimiter(_settings(database_url, enabled=True))
    try:
        for _ in range(50):  # warm up: pool, prepared statement
            await limiter.check(limiter.api, "sub:local:bench")
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            decision = await limiter.check(limiter.api, "sub:local:bench")
            samples.append(time.perf_counter() - started)
            assert decision is not None, "the counter could not be reached"
        _summary(f"counter ({type(limiter.counter).__name__})", samples)
    finally:
        await limiter.aclose()


async def _me(database_url: str, requests: int) -> None:
    apps = {enabled: create_app(_settings(database_url, enabled=enabled)) for enabled in (False, True)}
    samples: dict[bool, list[float]] = {False: [], True: []}
    cpu = {False: 0.0, True: 0.0}
    clients = {
        enabled: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        for enabled, app in apps.items()
    }
    try:
        # A registered partner system's token, so that every request reads its client row (revocation).
        admin = apps[False].state.tokens.issue(
            sub="bench-admin", agency=AgencyCode.CHILDRENS_SOCIAL_CARE, role=Role.ADMIN
        )
        registered = await clients[False].post(
            "/v1/clients",
            json={"name": "bench system", "agency": "police", "role": "partner_referrer"},
            headers={"Authorization": f"Bearer {admin.access_token}"},
        )
        registered.raise_for_status()
        issued = await clients[False].post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": registered.json()["client_id"],
                "client_secret": registered.json()["client_secret"],
            },
        )
        issued.raise_for_status()
        headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        for client in clients.values():
            for _ in range(50):
                (await client.get("/v1/me", headers=headers)).raise_for_status()
        for _ in range(max(1, requests // ROUND)):
            for enabled, client in clients.items():
                cpu_started = time.process_time()
                for _ in range(ROUND):
                    started = time.perf_counter()
                    response = await client.get("/v1/me", headers=headers)
                    samples[enabled].append(time.perf_counter() - started)
                    response.raise_for_status()
                cpu[enabled] += time.process_time() - cpu_started
        off = _summary("GET /v1/me, limiter off", samples[False])
        on = _summary("GET /v1/me, limiter on", samples[True])
        print(f"{'added by the limiter (p50)':<28} {on - off:+.3f} ms ({(on - off) / off:+.1%})")
        # CPU time of this process per request: what the limiter costs the server itself, whatever
        # else runs on the machine (wall-clock figures include waiting for a busy CPU).
        cpu_off, cpu_on = (cpu[e] / len(samples[e]) * 1000 for e in (False, True))
        print(
            f"{'CPU per request, off / on':<28} {cpu_off:.3f} ms / {cpu_on:.3f} ms ({cpu_on - cpu_off:+.3f} ms)"
        )
    finally:
        for enabled, client in clients.items():
            await client.aclose()
            await apps[enabled].state.rate_limiter.aclose()
            await apps[enabled].state.engine.dispose()


async def run(args: argparse.Namespace) -> None:
    database_url = await fresh_db.fresh_database(args, database=DATABASE, sqlite_file=SQLITE_FILE)
    await _counter(database_url, args.requests)
    await _me(database_url, args.requests)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2_000)
    fresh_db.add_arguments(parser, admin_dsn_help="a superuser connection, to create the benchmark database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
