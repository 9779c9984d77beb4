"""Two `mash serve` instances behind PgBouncer in transaction mode: what referral creates answer.

A fresh database (``mash_bench_pooled``) is migrated directly; PgBouncer (Debian's, transaction mode, a
configuration of its own in a temporary folder) listens on ``--pgbouncer-port``; two instances connect
through it with ``MASH_DATABASE_POOLER`` as given; ``--requests`` referral creates are sent, ``--concurrency``
at a time, alternating between the instances. Prints the answers by status and the requests a second.

    python -m bench.pooled --pooler pgbouncer
    python -m bench.pooled --pooler none       # asyncpg's numbered prepared statements collide
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from app.core.config import Settings
from app.core.scopes import AgencyCode, Role
from app.core.tokens import TokenService
from bench.fresh_db import DEFAULT_ADMIN_DSN, fresh_postgres, migrate, sqlalchemy_url
from bench.servers import free_port
from tests.fixtures.pgbouncer import PgBouncer, through
from tests.fixtures.referrals import referral_body, unique_child

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"


async def _ready(origin: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                if (await http.get(f"{origin}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{origin} did not start")


async def run(args: argparse.Namespace) -> None:
    url = sqlalchemy_url(await fresh_postgres(args.admin_dsn, "mash_bench_pooled"))
    await asyncio.to_thread(migrate, url)
    bouncer = PgBouncer(
        Path(tempfile.mkdtemp(prefix="mash-bench-pgb-")), args.pgbouncer_port, "127.0.0.1", 5432
    )
    bouncer.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MASH_")},
        "MASH_DATABASE_URL": through(url, f"127.0.0.1:{args.pgbouncer_port}"),
        "MASH_DATABASE_POOLER": args.pooler,
        "MASH_JWT_SECRET": SECRET,
        "MASH_RATE_LIMIT_ENABLED": "false",
    }
    ports = [free_port() for _ in range(2)]
    servers = [
        subprocess.Popen(  # noqa: ASYNC220  (started once, before the load)
            [str(Path(sys.executable).parent / "mash"), "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        await asyncio.gather(*(_ready(f"http://127.0.0.1:{port}") for port in ports))
        tokens = TokenService(Settings(_env_file=None, jwt_secret=SECRET))
        issued = tokens.issue(sub="police-system", agency=AgencyCode.POLICE, role=Role.PARTNER_REFERRER)
        headers = {"Authorization": f"Bearer {issued.access_token}"}
        statuses: collections.Counter[int] = collections.Counter()
        queue = iter(range(args.requests))
        async with httpx.AsyncClient(timeout=60) as http:

            async def worker() -> None:
                for n in queue:
                    origin = f"http://127.0.0.1:{ports[n % 2]}"
                    body = referral_body(unique_child())
                    statuses[
                        (await http.post(f"{origin}/v1/referrals", json=body, headers=headers)).status_code
                    ] += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            elapsed = time.perf_counter() - started
        # Named statements left on the server connections PgBouncer hands out (each is a backend's memory).
        dsn = through(url, f"127.0.0.1:{args.pgbouncer_port}").replace("postgresql+asyncpg", "postgresql")
        probe = await asyncpg.connect(dsn, statement_cache_size=0)
        try:
            left = [await probe.fetchval("SELECT count(*) FROM pg_prepared_statements") for _ in range(5)]
        finally:
            await probe.close()
        print(
            f"pooler={args.pooler} requests={args.requests} concurrency={args.concurrency} "
            f"statuses={dict(sorted(statuses.items()))} req/s={args.requests / elapsed:.1f} "
            f"prepared statements left on a server connection={left}"
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(15)
        bouncer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pooler", choices=("none", "pgbouncer"), default="pgbouncer")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pgbouncer-port", type=int, default=6434)
    parser.add_argument("--admin-dsn", default=os.environ.get("BENCH_ADMIN_DSN", DEFAULT_ADMIN_DSN))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
