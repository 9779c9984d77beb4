"""Benchmark mash-api against the reference ceiling and print one comparison table.

    .venv/bin/python bench/run.py [--concurrency 32] [--duration 10] [--warmup 3] [--only token,me]

Seeds a template database with ``--referrals`` referrals when a scenario needs them (bench/seed.py;
the template ``mash_bench_seed`` is reused while its inputs are unchanged and it is recent). Then, for
each target (mash-api via ``mash serve``, then bench/ceiling.py under uvicorn; one worker each
unless ``--workers``), it recreates the PostgreSQL database ``mash_bench`` (a copy of the template, or freshly migrated),
registers a police and a hub client, starts the server, runs every scenario with bench/loadgen.py in
a separate process, and stops the server. Each target starts from the same database.
Results also go to bench/results/<UTC timestamp>.json; server logs beside them. Exits 1 if any
request failed (non-2xx or connection error) or the audit chain no longer verifies.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import hashlib
import json
import math
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/run.py), not only as a module
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from alembic.config import Config as AlembicConfig  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.core.config import Settings  # noqa: E402
from bench import ceiling, cpu, seed_large  # noqa: E402
from bench.loadgen import WINDOW_MARK  # noqa: E402
from bench.scenarios import SCENARIOS, TARGETS, Scenario, Target  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
SAMPLE_INTERVAL_S = 0.25
STATS_SETTLE_TRIES = 24
PROBE_TIMEOUT_S = 600.0
APP_ROLE = "mash_app"  # the role the application connects as (migration 20261127_row_security)
MONITOR = "mash-bench-monitor"  # our own statistics connections, left out of what they report
# Clients registered for the run; each scenario's setup takes its token with the credentials under
# "<prefix>client_id" and "<prefix>client_secret".
BENCH_CLIENTS = {
    "": ("--name", "bench police system", "--agency", "police", "--role", "partner_referrer"),
    "practitioner_": (
        "--name", "bench MASH practitioner", "--agency", "childrens_social_care", "--role", "mash_practitioner",
    ),
    "health_": ("--name", "bench health system", "--agency", "health", "--role", "partner_referrer"),
    "education_": ("--name", "bench school system", "--agency", "education", "--role", "partner_referrer"),
    "auditor_": ("--name", "bench auditor", "--agency", "childrens_social_care", "--role", "auditor"),
}  # fmt: skip
# What the seeded data depends on: a change to any of them makes run.py seed afresh.
SEED_INPUTS = (
    "bench/seed.py",
    "bench/seed_large.py",
    "bench/seed_adults.py",
    "app/core/audit.py",
    "bench/matching_data.py",
    "app/people/matching.py",
    "app/people/nicknames.py",
    "app/core/clock.py",
    "app/core/codes.py",
    "app/children/codes.py",
    "app/adults/codes.py",
    "app/people/codes.py",
    "migrations/versions",
)
# Seeded rows are dated relative to when they were made (recent referrals open, older ones decided):
# past this age the template is too stale to reuse.
SEED_MAX_AGE_S = 12 * 3600
# Counters of pg_stat_database compared before and after each run: how many transactions (and new
# connections) one request costs, including warm-up and the server's first connections.
DB_COUNTERS = ("xact_commit", "xact_rollback", "sessions", "tup_inserted", "tup_updated")


@dataclass(eq=False)
class Server:
    name: Target
    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: TextIO | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        _LIVE.add(self)
        self.log = self.log_path.open("w")
        # Its own session: Ctrl-C reaches only us, and we stop the server in order.
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.log_path.parent,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None
        _LIVE.discard(self)

    async def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited during start-up; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(path)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready after {STARTUP_TIMEOUT_S:.0f}s; see {self.log_path}")


# Servers still running: stopped at exit whatever the path out (an exception, Ctrl-C, SIGTERM).
_LIVE: set[Server] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run_checked(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


async def _recreate_database(admin_dsn: str, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template is None:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            # FILE_COPY copies the files instead of WAL-logging every block: seconds, not a minute.
            strategy = " STRATEGY FILE_COPY" if conn.get_server_version().major >= 15 else ""
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
    finally:
        await conn.close()


def _seed_key(params: seed_large.Params) -> str:
    digest = hashlib.sha256(json.dumps(params.as_dict(), sort_keys=True).encode())
    for entry in SEED_INPUTS:
        path = ROOT / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(ROOT).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


async def _template(admin_dsn: str, name: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name
        )
    finally:
        await conn.close()
    try:
        found: dict[str, Any] = json.loads(comment)
    except (TypeError, ValueError):
        return None
    return found


async def _keep_template(admin_dsn: str, database: str, template: str, about: dict[str, Any]) -> None:
    await _recreate_database(admin_dsn, template, database)
    conn = await asyncpg.connect(admin_dsn)
    try:
        literal = json.dumps(about).replace("'", "''")
        await conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{literal}'")
    finally:
        await conn.close()


async def _seed_template(
    args: argparse.Namespace, admin_dsn: str, dsn: str, env: dict[str, str], workdir: Path
) -> tuple[str, dict[str, Any]]:
    """The template database ``<database>_seed``, migrated and seeded by bench/seed_large.py: the one
    an earlier run kept if it was made at the same schema revision with the same seed parameters,
    its inputs (the seeding and matching code) are unchanged and it is recent; else a new one (a few
    minutes), made in ``args.database`` and copied."""
    template = f"{args.database}_seed"
    params = _seed_params(args)
    key = _seed_key(params)
    revision = _head_revision()
    kept = None if args.fresh_seed else await _template(admin_dsn, template)
    age = time.time() - float(kept["created"]) if kept else None
    if kept is not None and age is not None:
        why = _stale(kept, key, revision, params, age)
        if why is None:
            _info(f"using the seeded database {template} ({age / 60:.0f} min old, revision {revision})")
            return template, {**kept["summary"], "template": template, "age_s": round(age), "seed_s": 0}
        _info(f"not reusing {template}: {why}")
    _info(
        f"seeding {params.referrals:,} referrals and {params.concerns:,} adult concerns into {args.database}"
        f" (bench/seed_large.py), kept as {template}"
    )
    started = time.perf_counter()
    await _recreate_database(admin_dsn, args.database)
    await asyncio.to_thread(_run_checked, [str(BIN / "mash"), "migrate"], env, workdir)
    command = [
        str(BIN / "python"), "-m", "bench.seed_large", "--dsn", dsn, "--json",
        *(f"--{name.replace('_', '-')}={value}" for name, value in params.as_dict().items()),
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/seed_large.py failed ({done.returncode})")
    summary: dict[str, Any] = json.loads(done.stdout)
    await _keep_template(
        admin_dsn,
        args.database,
        template,
        {
            "key": key,
            "revision": revision,
            "params": params.as_dict(),
            "created": time.time(),
            "summary": summary,
        },
    )
    seconds = round(time.perf_counter() - started, 1)
    _info(f"seeded and kept as {template} in {seconds}s")
    return template, {**summary, "template": template, "age_s": 0, "seed_s": seconds}


def _seed_params(args: argparse.Namespace) -> seed_large.Params:
    return seed_large.Params(
        referrals=args.referrals,
        concerns=args.concerns,
        base_referrals=min(args.base_referrals, args.referrals),
        base_concerns=min(args.base_concerns, args.concerns),
        audit_entries=args.audit_entries,
    )


def _head_revision() -> str:
    """The migrations' head revision: a template made at another one is not reused."""
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    return str(ScriptDirectory.from_config(config).get_current_head())


def _stale(
    kept: dict[str, Any], key: str, revision: str, params: seed_large.Params, age: float
) -> str | None:
    """Why the kept template cannot be reused, or None."""
    if kept.get("revision") != revision:
        return f"made at schema revision {kept.get('revision')}, not {revision}"
    if kept.get("params") != params.as_dict():
        return f"seeded with {kept.get('params')}, not {params.as_dict()}"
    if kept.get("key") != key:
        return "the seeding or matching code changed since"
    if age >= SEED_MAX_AGE_S:
        return f"{age / 3600:.0f} h old (its dates are relative to when it was made)"
    return None


async def _fresh_database(
    args: argparse.Namespace,
    admin_dsn: str,
    dsn: str,
    env: dict[str, str],
    workdir: Path,
    template: str | None,
) -> dict[str, str]:
    """A new ``args.database`` (a copy of the template if seeded), the ceiling's tables, the clients;
    returns the clients' credentials."""
    _info(f"recreating database {args.database}" + (f" from {template}" if template else ""))
    await _recreate_database(admin_dsn, args.database, template)
    await asyncio.to_thread(_run_checked, [str(BIN / "mash"), "migrate"], env, workdir)
    await ceiling.prepare(dsn)  # after seeding: its case events look-alike copies the seeded ones
    ctx: dict[str, str] = {}
    for prefix, client in BENCH_CLIENTS.items():
        create = [str(BIN / "mash"), "clients", "create", *client]
        created = json.loads(await asyncio.to_thread(_run_checked, create, env, workdir))
        ctx |= {
            f"{prefix}client_id": created["client_id"],
            f"{prefix}client_secret": created["client_secret"],
        }
    return ctx


_COUNTERS_QUERY = f"SELECT {', '.join(DB_COUNTERS)} FROM pg_stat_database WHERE datname = $1"  # noqa: S608


async def _db_counters(conn: asyncpg.Connection, database: str) -> dict[str, int]:
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    row = await conn.fetchrow(_COUNTERS_QUERY, database)
    return {key: int(row[key] or 0) for key in DB_COUNTERS}


async def _db_counters_settled(conn: asyncpg.Connection, database: str) -> dict[str, int]:
    # Backends flush their statistics lazily (up to ~10 s when idle): wait until the counters stop moving.
    counters = await _db_counters(conn, database)
    for _ in range(STATS_SETTLE_TRIES):
        await asyncio.sleep(0.5)
        latest = await _db_counters(conn, database)
        if latest == counters:
            break
        counters = latest
    return counters


async def _watch(
    dsn: str, database: str, window: asyncio.Event, duration: float, groups: dict[str, set[int]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Over the measured window: the average number of the target's connections in each state and
    wait event (lock contention shows as ``wait:Lock:*``), and the CPU used by each group."""
    conn = await asyncpg.connect(dsn, server_settings={"application_name": MONITOR})
    seen: Counter[str] = Counter()
    samples = 0
    try:
        await window.wait()
        cpu_before = cpu.snapshot()
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
                " WHERE datname = $1 AND backend_type = 'client backend' AND application_name <> $2",
                database,
                MONITOR,
            )
            samples += 1
            for row in rows:
                seen["connections"] += 1
                seen[f"state:{row['state']}"] += 1
                if row["wait_event_type"] in ("Lock", "LWLock", "IO"):
                    seen[f"wait:{row['wait_event_type']}:{row['wait_event']}"] += 1
            await asyncio.sleep(min(SAMPLE_INTERVAL_S, max(0.0, deadline - time.monotonic())))
        cpu_used = cpu.usage(cpu_before, cpu.snapshot(), groups)
    finally:
        await conn.close()
    return {key: round(count / max(samples, 1), 2) for key, count in sorted(seen.items())}, cpu_used


async def _wait_quiet(server: Server, args: argparse.Namespace) -> float | None:
    """Wait (up to --quiet-wait seconds) until other processes leave the CPU to us."""
    own = {os.getpid()} | ({server.process.pid} if server.process else set())
    deadline = time.monotonic() + args.quiet_wait
    while True:
        busy = await asyncio.to_thread(cpu.busy_elsewhere, own)
        if busy is None or busy <= args.quiet_threshold:
            return busy
        if time.monotonic() >= deadline:
            _info(f"    warning: other processes use {busy}% CPU; measuring anyway")
            return busy
        _info(f"    waiting for a quiet machine: other processes use {busy}% CPU")
        await asyncio.sleep(2.0)


async def _run_scenario(
    scenario: Scenario, server: Server, ctx: dict[str, str], args: argparse.Namespace, dsn: str
) -> dict[str, Any]:
    if scenario.setup is not None:
        with httpx.Client(base_url=server.url, timeout=60.0) as http:
            ctx = {**ctx, **scenario.setup(http, server.name, ctx)}
    if scenario.sample is not None:
        conn = await asyncpg.connect(dsn, server_settings={"application_name": MONITOR})
        try:
            rows = await conn.fetch(scenario.sample)
        finally:
            await conn.close()
        ctx = {**ctx, "sample": "\n".join("\t".join(str(value) for value in row) for row in rows)}
    command = [
        str(BIN / "python"), "-m", "bench.loadgen", "--url", server.url, "--scenario", scenario.name,
        "--target", server.name, "--concurrency", str(args.concurrency), "--duration", str(args.duration),
        "--warmup", str(args.warmup), "--client", args.client, "--context-file", "-", "--json",
    ]  # fmt: skip
    busy_before = await _wait_quiet(server, args)
    stats = await asyncpg.connect(dsn, server_settings={"application_name": MONITOR})
    try:
        before = await _db_counters_settled(stats, args.database)
        started_at = await stats.fetchval("SELECT now()")
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        # The context (a secret, a token) goes through stdin, not argv, which any user can read.
        process.stdin.write(json.dumps(ctx).encode())
        process.stdin.close()
        window = asyncio.Event()
        groups = {"server": {server.process.pid if server.process else -1}, "loadgen": {process.pid}}
        groups["runner"] = {os.getpid()}
        watcher = asyncio.create_task(_watch(dsn, args.database, window, args.duration, groups))
        activity: dict[str, float] = {}
        cpu_used: dict[str, float] = {}
        try:
            reading = asyncio.create_task(process.stdout.read())  # alongside stderr: no pipe can fill
            err = b""
            async for line in process.stderr:
                if line.startswith(WINDOW_MARK.encode()):
                    window.set()
                else:
                    err += line
            out = await reading
            await process.wait()
            if not window.is_set():  # it failed before measuring
                watcher.cancel()
            else:
                activity, cpu_used = await watcher
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            watcher.cancel()
            raise
        after = await _db_counters_settled(stats, args.database)
        checked = None if scenario.check is None else await stats.fetch(scenario.check, started_at)
    finally:
        await stats.close()
    try:
        result: dict[str, Any] = json.loads(out)
    except json.JSONDecodeError:
        raise RuntimeError(
            f"the load generator failed ({process.returncode}):\n{err.decode()[-2000:]}"
        ) from None
    total = max(result["total_requests"], 1)
    result["db_per_request"] = {key: round((after[key] - before[key]) / total, 2) for key in DB_COUNTERS}
    result["db_activity"] = activity
    result["cpu_pct"] = cpu_used
    result["busy_before_pct"] = busy_before
    if checked is not None:
        result["check"] = {str(row[0]): int(row[1]) for row in checked}
    return result


async def _verify_audit_chain(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    command = [str(BIN / "mash"), "audit", "verify"]
    # Exit status 1 means a broken chain, which it reports as JSON like a valid one.
    done = await asyncio.to_thread(subprocess.run, command, env=env, cwd=cwd, capture_output=True, text=True)
    try:
        verdict: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"mash audit verify failed ({done.returncode}):\n{done.stderr[-2000:]}") from None
    return verdict


@dataclass(frozen=True)
class Probe:
    """A request too heavy for a load test: sent to mash-api one at a time, ``--probe-runs`` times after
    one unmeasured, with the auditor's token. No ceiling: there is no raw-SQL twin to compare with."""

    name: str
    description: str
    path: str
    params: dict[str, str]
    # The rows it processed, from its answer, for a rate (rows/s); None: no rate.
    rows: Callable[[dict[str, Any]], int] | None = None


def _last_complete_year(today: date) -> int:
    """The latest reporting year (1 April - 31 March) that has ended: the seeded data covers it."""
    return (today.year if today.month >= 4 else today.year - 1) - 1


PROBES: dict[str, Probe] = {
    probe.name: probe
    for probe in (
        Probe(
            "audit_verify",
            "GET /v1/audit-events/verification: recompute the whole hash chain (seeded + this run's)",
            "/v1/audit-events/verification",
            {},
            rows=lambda body: int(body["checked"]),
        ),
        Probe(
            "sac_report",
            "GET /v1/reports/sac: SAC tables SG1-SG4 for the last complete reporting year (JSON)",
            "/v1/reports/sac",
            {"year": str(_last_complete_year(datetime.now(UTC).date()))},
        ),
    )
}


async def _run_probe(probe: Probe, server: Server, ctx: dict[str, str], runs: int) -> dict[str, Any]:
    token = await asyncio.to_thread(
        _fetch_token_for, server, ctx["auditor_client_id"], ctx["auditor_client_secret"]
    )
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    timings: list[float] = []
    result: dict[str, Any] = {"runs": runs, "params": probe.params, "errors": 0, "error_samples": []}
    async with httpx.AsyncClient(base_url=server.url, timeout=PROBE_TIMEOUT_S) as http:
        for attempt in range(runs + 1):  # the first unmeasured: caches, plans, the pool's connections
            started = time.perf_counter()
            response = await http.get(probe.path, params=probe.params, headers=headers)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                result["errors"] += 1
                result["error_samples"].append(f"{response.status_code} {response.text[:300]}")
                continue
            if attempt == 0:
                continue
            timings.append(elapsed)
            result["bytes"] = len(response.content)
            if probe.rows is not None:
                body = response.json()
                result["rows"] = probe.rows(body)
                result["valid"] = body.get("valid")
    if timings:
        ordered = sorted(timings)
        result |= {
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            # Nearest rank: of a handful of requests, p99 is the slowest.
            "p99_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000, 1),
            "min_ms": round(ordered[0] * 1000, 1),
        }
        if "rows" in result:
            result["rows_per_s"] = round(result["rows"] / statistics.median(ordered))
    return result


def _fetch_token_for(server: Server, client_id: str, client_secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    response = httpx.post(f"{server.url}/oauth/token", data=form, timeout=60.0)
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _ensure_app_role(admin_dsn: str) -> None:
    """The application's login role (migration 20261127_row_security makes it without LOGIN)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; "
            f"EXCEPTION WHEN duplicate_object THEN ALTER ROLE {APP_ROLE} LOGIN; END $$"
        )
    finally:
        await conn.close()


def _server_env(args: argparse.Namespace, database_url: str) -> dict[str, str]:
    # Only what we set: a developer's MASH_* variables or .env must not change what is measured.
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASH_")}
    defaults = Settings.model_fields
    env |= {
        "MASH_ENVIRONMENT": "production",
        "MASH_DATABASE_URL": database_url,
        "MASH_JWT_SECRET": secrets.token_urlsafe(48),
        "MASH_LOG_LEVEL": "INFO",
        # The production defaults, spelled out so a .env or shell variable cannot cheapen them.
        "MASH_ARGON2_TIME_COST": str(defaults["argon2_time_cost"].default),
        "MASH_ARGON2_MEMORY_KIB": str(defaults["argon2_memory_kib"].default),
        "MASH_ARGON2_PARALLELISM": str(defaults["argon2_parallelism"].default),
        # One client sends every request: each is counted, as in production, but none refused.
        "MASH_RATE_LIMIT_REQUESTS": str(10**9),
        "MASH_RATE_LIMIT_TOKEN_REQUESTS": str(10**9),
    }
    for item in args.server_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


async def benchmark(
    args: argparse.Namespace, scenarios: list[Scenario], targets: list[Target], probes: list[Probe]
) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = RESULTS / f"{stamp}-logs"  # also the servers' working directory: no stray .env is read
    workdir.mkdir(parents=True, exist_ok=True)
    admin_dsn = args.admin_dsn
    base, _, _ = admin_dsn.rpartition("/")
    dsn = f"{base}/{args.database}"
    owner_url = "postgresql+asyncpg://" + dsn.partition("://")[2]
    # mash-api serves as production does: as the role that owns nothing, under row-level security
    # (migrations and `mash` commands as the owner). The ceiling, which sets no caller context, reads
    # as the owner, so its figures do not include what the policies cost.
    await _ensure_app_role(admin_dsn)
    env = _server_env(args, make_url(owner_url).set(username=APP_ROLE).render_as_string(hide_password=False))
    env["MASH_MIGRATION_DATABASE_URL"] = owner_url
    owner_env = {**env, "MASH_DATABASE_URL": owner_url}

    template: str | None = None
    seeded: dict[str, Any] | None = None
    if args.referrals > 0 and (probes or any(scenario.seeded for scenario in scenarios)):
        template, seeded = await _seed_template(args, admin_dsn, dsn, env, workdir)

    commands: dict[Target, tuple[list[str], str]] = {
        "ours": ([str(BIN / "mash"), "serve", "--workers", str(args.workers)], "/readyz"),
        "ceiling": (
            [str(BIN / "python"), "-m", "bench.ceiling", "serve", "--workers", str(args.workers)],
            "/readyz",
        ),
    }
    runs: dict[str, dict[str, Any]] = {scenario.name: {} for scenario in scenarios}
    probed: dict[str, dict[str, Any]] = {}
    checks: dict[str, Any] = {}
    # The probes run on mash-api only: the ceiling has nothing to do without a load scenario.
    for target in [t for t in targets if scenarios or t == "ours"]:
        # Each target starts from the same database: the other's writes (new referrals at the top of
        # every list, new people among the candidates, a longer audit trail) must not weigh on it.
        ctx = await _fresh_database(args, admin_dsn, dsn, env, workdir, template)
        command, ready_path = commands[target]
        port = _free_port()
        server_env = env if target == "ours" else owner_env
        server = Server(target, [*command, "--port", str(port)], server_env, workdir / f"{target}.log", port)
        _info(f"starting {target} on port {port}")
        try:
            server.start()
            await server.wait_ready(ready_path)
            for scenario in scenarios:
                _info(f"  {scenario.name}@{target}: {args.warmup}s + {args.duration}s, c={args.concurrency}")
                result = await _run_scenario(scenario, server, ctx, args, dsn)
                runs[scenario.name][target] = result
                _info(
                    f"    {result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"errors {result['errors']} (+{result['errors_outside_window']} outside the window), "
                    f"load generator {result['loadgen_cpu_pct']}% CPU"
                )
            for probe in probes if target == "ours" else []:
                _info(f"  {probe.name}@{target}: 1 + {args.probe_runs} requests, one at a time")
                await _wait_quiet(server, args)
                probed[probe.name] = await _run_probe(probe, server, ctx, args.probe_runs)
                _info(f"    {probed[probe.name]}")
        finally:
            server.stop()
        if target == "ours":
            checks["audit_chain"] = await _verify_audit_chain(env, workdir)

    return {
        "timestamp": stamp,
        "git": _git(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "parameters": {
            "concurrency": args.concurrency,
            "workers": args.workers,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "client": args.client,
            "database": args.database,
            "seed": seeded,
            "quiet_threshold_pct": args.quiet_threshold,
            "server_env": {k: v for k, v in env.items() if k.startswith("MASH_") and k != "MASH_JWT_SECRET"},
        },
        "scenarios": [
            {
                "name": scenario.name,
                "description": scenario.description,
                **runs[scenario.name],
                "ratio": _ratio(runs[scenario.name]),
            }
            for scenario in scenarios
        ],
        "probes": [
            {"name": probe.name, "description": probe.description, **probed[probe.name]}
            for probe in probes
            if probe.name in probed
        ],
        "checks": checks,
        "logs": str(workdir.relative_to(ROOT)),
    }


def _ratio(run: dict[str, Any]) -> float | None:
    if "ours" not in run or "ceiling" not in run or not run["ceiling"]["rps"]:
        return None
    return round(float(run["ours"]["rps"]) / float(run["ceiling"]["rps"]), 3)


def _git() -> dict[str, Any]:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def _errors(result: dict[str, Any] | None) -> int:
    return 0 if result is None else int(result["errors"]) + int(result["errors_outside_window"])


def _noise_pct(result: dict[str, Any]) -> float:
    used = result["cpu_pct"]
    return float(used.get("other", 0.0)) + float(used.get("steal", 0.0))


def _noise(result: dict[str, Any] | None) -> str:
    if result is None or "other" not in result["cpu_pct"]:
        return "-"
    return f"{_noise_pct(result):.0f}"


def _table(headers: list[str], rows: list[list[str]], *, left: tuple[int, ...]) -> list[str]:
    """The header, a rule and the rows, each column as wide as its widest cell: the ``left`` columns
    flush left, the others flush right."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def render(report: dict[str, Any]) -> str:
    headers = [
        "scenario",
        "ours req/s",
        "p50 ms",
        "p99 ms",
        "ceiling req/s",
        "p50 ms",
        "p99 ms",
        "ratio",
        "errors",
        "noise %",
    ]
    rows = []
    for entry in report["scenarios"]:
        ours, top = entry.get("ours"), entry.get("ceiling")

        def cells(result: dict[str, Any] | None) -> list[str]:
            if result is None:
                return ["-", "-", "-"]
            return [f"{result['rps']:.1f}", f"{result['p50_ms']:.1f}", f"{result['p99_ms']:.1f}"]

        ratio = "-" if entry["ratio"] is None else f"{entry['ratio']:.2f}"
        errors = f"{_errors(ours)} / {_errors(top)}"
        rows.append(
            [entry["name"], *cells(ours), *cells(top), ratio, errors, f"{_noise(ours)} / {_noise(top)}"]
        )
    lines = _table(headers, rows, left=(0,))
    params = report["parameters"]
    lines.insert(
        0,
        f"concurrency {params['concurrency']}, {params['warmup_s']}s warm-up + {params['duration_s']}s "
        f"measured, {report['machine']['cpus']} CPUs; errors and noise (CPU % of one core taken by "
        "unrelated processes and other VMs while measuring) are ours / ceiling",
    )
    lines.append("")
    if not rows:  # only the one-at-a-time requests ran
        lines = []
    for entry in report["scenarios"]:
        for target in TARGETS:
            if target in entry:
                result = entry[target]
                per = ", ".join(f"{k} {v}" for k, v in result["db_per_request"].items() if v)
                waits = ", ".join(f"{k} {v}" for k, v in result["db_activity"].items())
                used = ", ".join(f"{k} {v}" for k, v in result["cpu_pct"].items())
                lines.append(f"{entry['name']}@{target}:")
                lines.append(f"  CPU % of one core: {used or 'n/a'}")
                lines.append(f"  database per request: {per}")
                lines.append(f"  connections to {report['parameters']['database']} (average): {waits}")
                if "check" in result:
                    found = ", ".join(f"{k} {v}" for k, v in result["check"].items())
                    lines.append(f"  {SCENARIOS[entry['name']].check_label}: {found or 'none'}")
    lines.extend(_render_probes(report))
    chain = report["checks"].get("audit_chain")
    if chain is not None:
        lines.append(f"audit chain after the run: valid={chain['valid']}, {chain['checked']} rows checked")
    lines.extend(_render_seed(report))
    threshold = report["parameters"]["quiet_threshold_pct"]
    noisy = [
        f"{entry['name']}@{target}"
        for entry in report["scenarios"]
        for target in TARGETS
        if target in entry and _noise_pct(entry[target]) > threshold
    ]
    if noisy:
        lines.append(
            f"WARNING: noise above {threshold:.0f}% of a core during {', '.join(noisy)}; "
            "those figures understate what the server can do. Re-run on a quiet machine."
        )
    return "\n".join(lines)


def _render_probes(report: dict[str, Any]) -> list[str]:
    if not report["probes"]:
        return []
    headers = [
        "request (ours, one at a time)",
        "runs",
        "p50 ms",
        "p99 ms",
        "fastest ms",
        "rate",
        "bytes",
        "errors",
    ]
    rows = []
    for probe in report["probes"]:
        rate = "-"
        if "rows_per_s" in probe:
            rate = f"{probe['rows_per_s']:,} rows/s ({probe['rows']:,} rows, valid={probe['valid']})"
        params = ", ".join(f"{k}={v}" for k, v in probe["params"].items())
        rows.append(
            [f"{probe['name']}" + (f" ({params})" if params else ""), str(probe["runs"]),
             *(f"{probe[key]:.1f}" if key in probe else "-" for key in ("p50_ms", "p99_ms", "min_ms")),
             rate, str(probe.get("bytes", "-")), str(probe["errors"])]
        )  # fmt: skip
    lines = _table(headers, rows, left=(0, 5))
    lines.insert(0, "")
    lines.append("(p99 of a handful of requests is the slowest; no raw-SQL ceiling for these)")
    return lines


def _render_seed(report: dict[str, Any]) -> list[str]:
    seeded = report["parameters"].get("seed")
    lines = []
    if seeded:
        rows = seeded.get("rows", {})
        counts = ", ".join(
            f"{rows[t]:,} {t}" for t in ("referrals", "people", "adult_concerns", "audit_events") if t in rows
        )
        how = (
            f"reused ({seeded['age_s'] / 60:.0f} min old)"
            if seeded.get("age_s")
            else f"seeded in {seeded.get('seed_s', 0):.0f}s"
        )
        lines.append(f"database: {seeded['template']}, {how}: {counts}")
    if "runtime_s" in report:
        lines.append(f"total runtime (seeding included): {report['runtime_s']:.0f}s")
    return lines


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections kept busy (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="server processes of each target (default 1)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (default 3)")
    parser.add_argument("--only", help=f"comma-separated scenarios, of: {', '.join([*SCENARIOS, *PROBES])}")
    parser.add_argument("--targets", default=",".join(TARGETS), help="ours,ceiling (default both)")
    parser.add_argument(
        "--client", default="raw", choices=("raw", "httpx"), help="load generator HTTP client"
    )
    parser.add_argument(
        "--database", default="mash_bench", help="dropped and recreated! (default mash_bench)"
    )
    defaults = seed_large.Params()
    parser.add_argument(
        "--referrals",
        type=int,
        default=defaults.referrals,
        help=f"referrals seeded for the scenarios that read them (default {defaults.referrals}; 0: none)",
    )
    parser.add_argument(
        "--concerns",
        type=int,
        default=defaults.concerns,
        help=f"adult concerns seeded (default {defaults.concerns})",
    )
    parser.add_argument(
        "--audit-entries",
        type=int,
        default=defaults.audit_entries,
        help=f"audit trail entries seeded, a valid chain (default {defaults.audit_entries})",
    )
    parser.add_argument(
        "--base-referrals",
        type=int,
        default=defaults.base_referrals,
        help=f"referrals built in Python, the rest copies made in SQL (default {defaults.base_referrals})",
    )
    parser.add_argument(
        "--base-concerns",
        type=int,
        default=defaults.base_concerns,
        help=f"concerns built in Python, the rest copies made in SQL (default {defaults.base_concerns})",
    )
    parser.add_argument(
        "--probe-runs",
        type=int,
        default=5,
        help=f"measured requests of each of {', '.join(PROBES)}, one at a time (default 5)",
    )
    parser.add_argument(
        "--fresh-seed",
        action="store_true",
        help="seed afresh even if the template <database>_seed is recent and its inputs unchanged",
    )
    parser.add_argument(
        "--admin-dsn",
        default=os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL superuser connection (env BENCH_ADMIN_DSN)",
    )
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=25.0,
        help="before each run, wait while other processes use more CPU than this (%% of a core; default 25)",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=120.0, help="wait at most this long (s; default 120)"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="MASH_X=VALUE",
        help="extra setting for both servers, for experiments (e.g. MASH_LOG_LEVEL=WARNING)",
    )
    args = parser.parse_args(argv)
    known = [*SCENARIOS, *PROBES]
    names = [name.strip() for name in (args.only or ",".join(known)).split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    args.scenarios = [SCENARIOS[name] for name in names if name in SCENARIOS]
    args.probes = [PROBES[name] for name in names if name in PROBES]
    args.target_list = [t for t in TARGETS if t in {x.strip() for x in args.targets.split(",")}]
    if not args.target_list:
        parser.error(f"--targets must name at least one of {', '.join(TARGETS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # SIGTERM becomes SystemExit, so the finally blocks stop the servers as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    try:
        report = asyncio.run(benchmark(args, args.scenarios, args.target_list, args.probes))
    except RuntimeError as exc:  # a setup step or a server failed: say which, without a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["runtime_s"] = round(time.perf_counter() - started, 1)
    path = RESULTS / f"{report['timestamp']}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"\nresults: {path.relative_to(ROOT)}")
    failed = [
        f"{entry['name']}@{target}"
        for entry in report["scenarios"]
        for target in TARGETS
        if _errors(entry.get(target))
    ] + [
        f"{probe['name']}@ours"
        for probe in report["probes"]
        if probe["errors"] or probe.get("valid") is False
    ]
    if failed:
        print(f"FAILED: requests failed in {', '.join(failed)}", file=sys.stderr)
    chain = report["checks"].get("audit_chain")
    if chain is not None and not chain["valid"]:
        print("FAILED: the audit chain does not verify", file=sys.stderr)
    return 1 if failed or (chain is not None and not chain["valid"]) else 0


if __name__ == "__main__":
    sys.exit(main())
