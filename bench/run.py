"""Benchmark mash-api against the reference ceiling and print one comparison table.

    .venv/bin/python bench/run.py [--concurrency 32] [--duration 10] [--warmup 3] [--only token,me]

Seeds a template database when a scenario needs it (bench/seed_large.py: ``--referrals`` referrals,
``--people`` people, ``--concerns`` adult concerns, ``--audit-entries`` audit entries, ten years of a large
council by default; the template ``mash_bench_seed`` is reused while its inputs are unchanged and it is
recent). Then, for
each target (mash-api via ``mash serve``, then bench/ceiling.py under uvicorn; one worker each
unless ``--workers``), it recreates the PostgreSQL database ``mash_bench`` (a copy of the template, or freshly migrated),
registers a police and a hub client, starts the server, runs every scenario with bench/loadgen.py in
a separate process, and stops the server. Each target starts from the same database.
``--rounds N`` repeats that N times, the targets taking turns (each round started by the next one),
and reports the median round with the rounds' spread (the run-to-run noise); ``--before-bin DIR``
adds another checkout's mash-api as the target "before" in every round, for a before/after held
against that noise.
Results also go to bench/results/<UTC timestamp>.json; server logs beside them. Exits 1 if any
request failed (non-2xx or connection error) or the audit chain no longer verifies.
"""

# The parts, by job: bench/provision.py (the databases, the seeded template, the app role, the clients),
# bench/servers.py (a target's server process and its settings), bench/measure.py (a scenario under
# load and what is sampled meanwhile; the audit chain check), bench/probes.py (the one-at-a-time
# requests), bench/render.py (the table and the results file). This file: the options and the order.

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/run.py), not only as a module
    sys.path.insert(0, str(ROOT))


from bench import seed_large  # noqa: E402
from bench.measure import run_scenario, verify_audit_chain, wait_quiet  # noqa: E402
from bench.probes import PROBES, Probe, run_probe  # noqa: E402
from bench.provision import app_env, fresh_database, seed_template  # noqa: E402
from bench.render import LABELS, combine, errors, git_state, ratio, render, write_results  # noqa: E402
from bench.scenarios import SCENARIOS, TARGETS, Scenario, Target  # noqa: E402
from bench.servers import BIN, RESULTS, Server, free_port, info  # noqa: E402


def turns(labels: list[str], round_no: int) -> list[str]:
    """The order in which the targets run in round ``round_no`` (from 1): each round starts one target
    further along, so that none always runs first (just after the template's copy) or always last. On
    2026-12-07 every target's throughput rose round by round (bench/README.md), so a fixed order would
    also give one target the warmest moment of every round."""
    start = (round_no - 1) % len(labels)
    return labels[start:] + labels[:start]


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
    env = await app_env(admin_dsn, owner_url, args.server_env)
    owner_env = {**env, "MASH_DATABASE_URL": owner_url}

    template: str | None = None
    seeded: dict[str, Any] | None = None
    if args.referrals > 0 and (probes or any(scenario.seeded for scenario in scenarios)):
        template, seeded = await seed_template(args, admin_dsn, dsn, env, workdir)

    serve = ["serve", "--workers", str(args.workers)]
    # Each label served, by the protocol it speaks (what the load generator sends it) and its command:
    # "before" is mash-api too, from another checkout (--before-bin), measured in the same rounds.
    served: dict[str, tuple[Target, list[str]]] = {
        "ours": ("ours", [str(args.ours_bin / "mash"), *serve]),
        "ceiling": ("ceiling", [str(BIN / "python"), "-m", "bench.ceiling", *serve]),
    }
    labels: list[str] = [t for t in targets if scenarios or t == "ours"]
    if args.before_bin is not None and scenarios:
        served["before"] = ("ours", [str(args.before_bin / "mash"), *serve])
        labels.append("before")
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {scenario.name: {} for scenario in scenarios}
    probed: dict[str, dict[str, Any]] = {}
    checks: dict[str, Any] = {}
    for round_no in range(1, args.rounds + 1):
        # The targets take turns within each round, so that a slow spell on the machine falls on
        # all of them alike rather than on whichever ran then.
        for label in turns(labels, round_no):
            # Each target starts from the same database: the other's writes (new referrals at the top
            # of every list, new people among the candidates, a longer audit trail) must not weigh on it.
            ctx = await fresh_database(args, admin_dsn, dsn, env, workdir, template)
            protocol, command = served[label]
            port = free_port()
            target_env = owner_env if protocol == "ceiling" else env
            log = workdir / f"{label}-{round_no}.log"
            server = Server(protocol, [*command, "--port", str(port)], target_env, log, port)
            info(f"round {round_no} of {args.rounds}: starting {label} on port {port}")
            try:
                server.start()
                await server.wait_ready("/readyz")
                for scenario in scenarios:
                    info(
                        f"  {scenario.name}@{label}: {args.warmup}s + {args.duration}s, c={args.concurrency}"
                    )
                    result = await run_scenario(scenario, server, ctx, args, dsn)
                    runs[scenario.name].setdefault(label, []).append(result)
                    info(
                        f"    {result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                        f"errors {result['errors']} (+{result['errors_outside_window']} outside the window), "
                        f"load generator {result['loadgen_cpu_pct']}% CPU, read from disk "
                        f"{result['disk_read_mib']} MiB"
                    )
                # The probes run on mash-api once: the ceiling has nothing to do without a load scenario.
                for probe in probes if label == "ours" and round_no == 1 else []:
                    info(f"  {probe.name}@{label}: 1 + {args.probe_runs} requests, one at a time")
                    await wait_quiet(server, args)
                    probed[probe.name] = await run_probe(probe, server, ctx, args.probe_runs)
                    info(f"    {probed[probe.name]}")
            finally:
                server.stop()
            if label == "ours":  # this checkout's code left the chain valid (not "before"'s to answer for)
                chain = await verify_audit_chain(env, workdir)
                if checks.get("audit_chain", {}).get("valid", True):  # the first invalid one stands
                    checks["audit_chain"] = chain

    # Each target's rounds of a scenario as one result: the median round, with the rounds' spread.
    combined = {
        name: {label: combine(results) for label, results in by_label.items()}
        for name, by_label in runs.items()
    }
    return {
        "timestamp": stamp,
        "git": git_state(),
        # The code that served as "ours", when it is another checkout's (--ours-bin).
        "ours_git": None if args.ours_bin == BIN else git_state(args.ours_bin.resolve().parent.parent),
        "before_git": None if args.before_bin is None else git_state(args.before_bin.resolve().parent.parent),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "parameters": {
            "concurrency": args.concurrency,
            "workers": args.workers,
            "duration_s": args.duration,
            "rounds": args.rounds,
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
                **combined[scenario.name],
                "ratio": ratio(combined[scenario.name]),
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
        "--people",
        type=int,
        default=defaults.people,
        help=f"people seeded: the base's, copied for the copies of the cases (default {defaults.people})",
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
        "--ours-bin",
        type=Path,
        default=BIN,
        metavar="DIR",
        help="serve mash-api with the `mash` in DIR (another checkout's .venv/bin: the code before a"
        " change, on the same seeded database and harness; default this checkout's)",
    )
    parser.add_argument(
        "--before-bin",
        type=Path,
        default=None,
        metavar="DIR",
        help='also serve, in every round, mash-api with the `mash` in DIR as "before" (another checkout\'s'
        " .venv/bin): the table then compares ours with it against the run-to-run noise",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every target's scenarios this many times, taking turns; the table shows the median"
        " round and the run-to-run noise (the rounds' spread; default 1: none)",
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
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
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
    path = write_results(report)
    print(render(report))
    print(f"\nresults: {path.relative_to(ROOT)}")
    failed = [
        f"{entry['name']}@{target}"
        for entry in report["scenarios"]
        for target in LABELS
        if errors(entry.get(target))
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
