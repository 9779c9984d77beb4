"""Profile one scenario's requests in process: where the server's CPU goes, request by request.

    .venv/bin/python -m bench.profile_request --requests 400                            # CPU ms per referral create
    .venv/bin/python -m bench.profile_request --scenario triage_page --requests 300     # the hub's triage page
    .venv/bin/python -m bench.profile_request --requests 400 --profile                  # plus a pyinstrument profile
    .venv/bin/python -m bench.profile_request --requests 400 --cprofile create.pstats   # CPU time by function, for pstats
    .venv/bin/python -m bench.profile_request --scenario referral_get --reuse --statements  # its SQL, statement by statement
    .venv/bin/py-spy record -f raw -o create.raw -- .venv/bin/python -m bench.profile_request --reuse --uvloop  # sampled, on uvloop

Scenarios (bench/scenarios.py builds their requests, as the load benchmark sends them): ``referral_create``
(a police system refers one or two new children), ``referral_get`` (the hub reads one seeded referral,
full view), ``triage_page`` (the hub's triage page of GET /v1/referrals), ``enquiry_list`` (an adult
worker's open enquiries), ``contribution_response`` (police, health and education systems answer the
seeded requests for information, each with its own token; corrections once the open ones run out).

The load benchmark (bench/run.py) says how fast; this says why. It drives the application through
httpx's ASGI transport, one request at a time (no network, no load generator, no concurrency), against
a freshly migrated PostgreSQL database (``--database``, dropped and recreated) seeded with
``--referrals`` referrals and ``--concerns`` adult concerns, allocated as bench/seed_large.py allocates
them, and reports the CPU time of this process per request. One client at a time means the number counts
only the Python work of a request plus its statements' round trips, so it moves when the code gets
cheaper and hardly when the machine is busy. It reports two figures: the whole process's CPU per request
(the in-process httpx client's work too: its URL parsing, headers and cookie jar) and the **server's**, read
inside the outermost ASGI callable, from the request's arrival to the app's return, which moves with the
server's code only. The tokens are issued in process, for no client (so no client check, unlike the
load benchmark) unless ``--client`` registers one. pyinstrument is not a dependency of the project:
``uv pip install pyinstrument`` into .venv to use ``--profile``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa
import uvloop

from app.admin.clients.schemas import ClientRegistration
from app.admin.clients.service import create_client
from app.cli import CliActor
from app.core import db
from app.core.config import Settings
from app.main import create_app
from bench import seed_adults
from bench.provision import recreate_database
from bench.scenarios import ANSWERING, SCENARIOS, Scenario
from bench.seed import seed_in_chunks
from bench.seed_large import ALLOCATE

# Whose token each scenario's requests carry, as bench/provision.py's BENCH_CLIENTS registers them.
CALLERS = {
    "me": ("bench:practitioner", "childrens_social_care", "mash_practitioner"),
    "referral_create": ("bench:police", "police", "partner_referrer"),
    "referral_get": ("bench:practitioner", "childrens_social_care", "mash_practitioner"),
    "triage_page": ("bench:practitioner", "childrens_social_care", "mash_practitioner"),
    "referral_list": ("bench:practitioner", "childrens_social_care", "mash_practitioner"),
    "referral_list_police": ("bench:practitioner", "childrens_social_care", "mash_practitioner"),
    "referral_list_red": ("bench:practitioner", "childrens_social_care", "mash_practitioner"),
    "enquiry_list": ("bench:asc", "adult_social_care", "asc_practitioner"),
    "contribution_response": ("bench:police", "police", "partner_referrer"),
}
# contribution_response: each request carries the token of the agency asked (bench/scenarios.py).
ANSWERERS = {agency: (f"bench:{agency}", agency, "partner_referrer") for agency in ANSWERING}
# bench/scenarios.py's referral bodies number n stay valid (every child under 18) up to about here.
REFERRAL_BODIES = 4000


async def _prepare(admin_dsn: str, database: str, referrals: int, concerns: int) -> str:
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
    if concerns:
        await seed_adults.load(dsn, seed_adults.build(concerns).rows)
    conn = await asyncpg.connect(dsn)
    try:
        for statement in ALLOCATE:
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE referrals, adult_concerns, enquiries")
    finally:
        await conn.close()
    return dsn


async def _sample(dsn: str, scenario: Scenario, sub: str) -> tuple[str, int]:
    """The scenario's sample rows (e.g. the ids of referrals to read), as run.py gives them, and the
    first request number: past the referrals earlier runs made, so that a --reuse run's referrals are
    new (their idempotency keys, their children) rather than replays of an earlier run's."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = [] if scenario.sample is None else await conn.fetch(scenario.sample)
        first = int(await conn.fetchval("SELECT count(*) FROM referrals WHERE referred_by = $1", sub))
    finally:
        await conn.close()
    return "\n".join("\t".join("" if v is None else str(v) for v in row.values()) for row in rows), first


class ServerClock:
    """The outermost ASGI layer: the process CPU spent inside the app, per request (one at a time)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.spent = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.spent = (time.process_time() - started) * 1000


async def _register_client(app: Any, agency: str, role: str) -> uuid.UUID:
    """A client row, as `mash clients create` registers one: its tokens' requests check it."""
    async with app.state.sessionmaker() as session:
        client, _ = await create_client(
            session,
            CliActor(sub="cli:profile"),
            ClientRegistration(name=f"profile {uuid.uuid4().hex[:8]}", agency=agency, role=role),
            app.state.hasher,
        )
        await db.commit(session)
    return client.id


async def _run(args: argparse.Namespace) -> None:
    scenario = SCENARIOS[args.scenario]
    if args.reuse:
        dsn = args.admin_dsn.rsplit("/", 1)[0] + f"/{args.database}"
    else:
        dsn = await _prepare(args.admin_dsn, args.database, args.referrals, args.concerns)
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    # Rate limits counted, as in bench/servers.py, but too high to refuse (a --reuse run counts on).
    settings = Settings(
        _env_file=None,
        database_url=url,
        environment="development",
        log_level="WARNING",
        rate_limit_requests=10**9,
    )
    app = create_app(settings)
    now = datetime.now(UTC)
    async with app.router.lifespan_context(app):
        sub, agency, role = CALLERS[args.scenario]
        tokens = {}
        for caller_sub, caller_agency, caller_role in (
            ANSWERERS.values() if scenario.name == "contribution_response" else [(sub, agency, role)]
        ):
            client_id = await _register_client(app, caller_agency, caller_role) if args.client else None
            tokens[f"token:{caller_agency}"] = app.state.tokens.issue(
                sub=caller_sub, agency=caller_agency, role=caller_role, client_id=client_id
            ).access_token
        sample, first = await _sample(dsn, scenario, sub)
        if scenario.name == "referral_create" and first + args.warmup + args.requests > REFERRAL_BODIES:
            raise SystemExit("referral_create has made too many referrals in this database: drop --reuse")
        # What the scenario's setup hooks would have put in the context (bench/scenarios.py).
        ctx = {
            "access_token": tokens[f"token:{agency}"],
            **tokens,
            "today": now.date().isoformat(),
            "since": (now - timedelta(days=28)).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "sample": sample,
        }
        statements: list[str] = []
        if args.statements:
            # The request's own statements (the rate limiter counts on a pool of its own: not these).
            sa.event.listen(
                app.state.engine.sync_engine,
                "before_cursor_execute",
                lambda _c, _cur, statement, *_: statements.append(statement),
            )
        server = ServerClock(app)
        transport = httpx.ASGITransport(app=server)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def one(n: int) -> tuple[float, float]:
                spec = scenario.build(ctx, n)
                statements.clear()
                started = time.process_time()
                response = await http.request(
                    scenario.method,
                    scenario.path + spec.path_suffix + spec.query,
                    content=spec.body or None,
                    headers=dict(spec.headers),
                )
                if not response.is_success:
                    raise SystemExit(f"request {n}: {response.status_code} {response.text[:300]}")
                spent = (time.process_time() - started) * 1000
                if n == first + args.warmup and args.verbose:
                    print(f"first request: {len(response.content):,} bytes: {response.text[:200]}")
                if n == first + args.warmup and args.statements:
                    print(f"first request: {len(statements)} statements")
                    for statement in statements:
                        print("  " + " ".join(statement.split())[: None if args.full_statements else 160])
                return spent, server.spent

            for n in range(args.warmup):
                await one(first + n)
            profiler: Any = None
            if args.profile:
                # Not a dependency of the project: imported only when asked for.
                profiler = importlib.import_module("pyinstrument").Profiler(
                    interval=0.0005, async_mode="enabled", use_timing_thread=True
                )
                profiler.start()
            cpu_profile = cProfile.Profile(time.process_time) if args.cprofile else None
            if cpu_profile is not None:
                cpu_profile.enable()
            measured = [await one(first + args.warmup + n) for n in range(args.requests)]
            if cpu_profile is not None:
                cpu_profile.disable()
                cpu_profile.dump_stats(args.cprofile)
                print(f"CPU profile (pstats) in {args.cprofile}")
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
    for label, cpu in (("process", [m[0] for m in measured]), ("server", [m[1] for m in measured])):
        print(
            f"{args.scenario}, {args.requests} requests: {label} CPU ms per request "
            f"p50 {statistics.median(cpu):.2f}, mean {statistics.fmean(cpu):.2f}, "
            f"p90 {statistics.quantiles(cpu, n=10)[-1] if len(cpu) > 1 else cpu[0]:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(CALLERS), default="referral_create")
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="mash_profile", help="dropped and recreated!")
    parser.add_argument("--referrals", type=int, default=20_000, help="seeded first (default 20,000)")
    parser.add_argument("--concerns", type=int, default=4_000, help="adult concerns seeded (default 4,000)")
    parser.add_argument(
        "--reuse", action="store_true", help="profile the database as an earlier run left it (no seeding)"
    )
    parser.add_argument(
        "--client",
        action="store_true",
        help="register a client and issue the token for it, as the load benchmark does: each request checks it",
    )
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="run on uvloop, as `mash serve` does: asyncio's own loop spends about three times the CPU on"
        " each round trip to the database (a bare SELECT 1: 45 against 146 us on the 2-core bench machine), which weighs statements too heavily"
        " in a profile; off by default, so that instruction counts compare with earlier ones",
    )
    parser.add_argument(
        "--cprofile",
        metavar="FILE",
        help="write a cProfile of the measured requests' CPU time (not wall time) to FILE, for pstats",
    )
    parser.add_argument("--verbose", action="store_true", help="print the first measured response's start")
    parser.add_argument(
        "--statements", action="store_true", help="print the first measured request's SQL statements"
    )
    parser.add_argument("--full-statements", action="store_true", help="with --statements: each in full")
    args = parser.parse_args(argv)
    if args.uvloop:
        uvloop.install()
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
