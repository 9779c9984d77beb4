"""Measuring one load scenario against a running target: the load generator (bench/loadgen.py) in a
separate process, ``pg_stat_database`` counters before and after, ``pg_stat_activity`` and the CPU of
each process group sampled over the measured window, and the wait for a quiet machine first. Also the
audit chain check (``mash audit verify``) after mash-api's runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import cpu
from bench.loadgen import WINDOW_MARK
from bench.scenarios import Scenario
from bench.servers import BIN, ROOT, Server, info

SAMPLE_INTERVAL_S = 0.25
STATS_SETTLE_TRIES = 24
MONITOR = "mash-bench-monitor"  # our own statistics connections, left out of what they report
# Counters of pg_stat_database compared before and after each run: how many transactions (and new
# connections) one request costs, including warm-up and the server's first connections.
DB_COUNTERS = ("xact_commit", "xact_rollback", "sessions", "tup_inserted", "tup_updated")

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
) -> tuple[dict[str, float], dict[str, float], float | None]:
    """Over the measured window: the average number of the target's connections in each state and
    wait event (lock contention shows as ``wait:Lock:*``), the CPU used by each group, and the MiB
    read from disk."""
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
        cpu_after = cpu.snapshot()
    finally:
        await conn.close()
    activity = {key: round(count / max(samples, 1), 2) for key, count in sorted(seen.items())}
    return activity, cpu.usage(cpu_before, cpu_after, groups), cpu.disk_read_mib(cpu_before, cpu_after)


async def wait_quiet(server: Server, args: argparse.Namespace) -> float | None:
    """Wait (up to --quiet-wait seconds) until other processes leave the CPU to us."""
    own = {os.getpid()} | ({server.process.pid} if server.process else set())
    deadline = time.monotonic() + args.quiet_wait
    while True:
        busy = await asyncio.to_thread(cpu.busy_elsewhere, own)
        if busy is None or busy <= args.quiet_threshold:
            return busy
        if time.monotonic() >= deadline:
            info(f"    warning: other processes use {busy}% CPU; measuring anyway")
            return busy
        info(f"    waiting for a quiet machine: other processes use {busy}% CPU")
        await asyncio.sleep(2.0)


async def run_scenario(
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
    busy_before = await wait_quiet(server, args)
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
        read_mib: float | None = None
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
                activity, cpu_used, read_mib = await watcher
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
    result["disk_read_mib"] = read_mib
    result["busy_before_pct"] = busy_before
    if checked is not None:
        result["check"] = {str(row[0]): int(row[1]) for row in checked}
    return result


async def verify_audit_chain(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    command = [str(BIN / "mash"), "audit", "verify", "--full"]  # every entry, not only the new ones
    # Exit status 1 means a broken chain, which it reports as JSON like a valid one.
    done = await asyncio.to_thread(subprocess.run, command, env=env, cwd=cwd, capture_output=True, text=True)
    try:
        verdict: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"mash audit verify failed ({done.returncode}):\n{done.stderr[-2000:]}") from None
    return verdict
