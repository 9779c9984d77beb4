"""Profile one scenario's requests in process: where the server's CPU goes, request by request.

    .venv/bin/python -m bench.profile_request --requests 400             # CPU ms per referral create
    .venv/bin/python -m bench.profile_request --requests 400 --profile   # plus a pyinstrument profile

The load benchmark (bench/run.py) says how fast; this says why. It drives the application through
httpx's ASGI transport, one request at a time (no network, no load generator, no concurrency), against
a freshly migrated PostgreSQL database (``--database``, dropped and recreated) seeded with
``--referrals`` referrals, and reports the CPU time of this process per request. One client at a time
means the number counts only the Python work of a request plus its statements' round trips, so it moves
when the code gets cheaper and hardly when the machine is busy. pyinstrument is not a dependency of the
project: ``uv pip install pyinstrument`` into .venv to use ``--profile``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.config import Settings
from app.main import create_app
from bench.provision import recreate_database
from bench.scenarios import referral_body
from bench.seed import seed_in_chunks


async def _prepare(admin_dsn: str, database: str, referrals: int) -> str:
    await recreate_database(admin_dsn, database)
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{database}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    proc = await asyncio.create_subprocess_exec(
        ".venv/bin/mash", "migrate", env={"MASH_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    )
    if await proc.wait() != 0:
        raise SystemExit("mash migrate failed")
    if referrals:
        await seed_in_chunks(dsn, referrals, chunk=10_000)
    return url


async def _run(args: argparse.Namespace) -> None:
    url = await _prepare(args.admin_dsn, args.database, args.referrals)
    settings = Settings(_env_file=None, database_url=url, environment="development", log_level="WARNING")
    app = create_app(settings)
    today = datetime.now(UTC).date()
    async with app.router.lifespan_context(app):
        token = app.state.tokens.issue(sub="bench:police", agency="police", role="partner_referrer")
        headers = {"Authorization": f"Bearer {token.access_token}", "Content-Type": "application/json"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def one(n: int) -> float:
                body = referral_body(n, today)
                started = time.process_time()
                response = await http.post(
                    "/v1/referrals", json=body, headers={**headers, "Idempotency-Key": f"p-{n}"}
                )
                if response.status_code != 201:
                    raise SystemExit(f"request {n}: {response.status_code} {response.text[:300]}")
                return (time.process_time() - started) * 1000

            for n in range(args.warmup):
                await one(10_000_000 + n)
            profiler: Any = None
            if args.profile:
                # Not a dependency of the project: imported only when asked for.
                profiler = importlib.import_module("pyinstrument").Profiler(
                    interval=0.0005, async_mode="enabled"
                )
                profiler.start()
            cpu = [await one(n) for n in range(args.requests)]
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(
        f"referral create, {args.requests} requests: CPU ms per request "
        f"p50 {statistics.median(cpu):.2f}, mean {statistics.fmean(cpu):.2f}, "
        f"p90 {statistics.quantiles(cpu, n=10)[-1]:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="mash_profile", help="dropped and recreated!")
    parser.add_argument("--referrals", type=int, default=20_000, help="seeded first (default 20,000)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    asyncio.run(_run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
