"""Time the reports on a large database: a million referrals, 600,000 adult concerns, a million people.

    .venv/bin/python bench/reports.py                    # seed (or copy the kept seed), serve, time, print
    .venv/bin/python bench/reports.py --reuse            # time again on the database seeded last time
    .venv/bin/python bench/reports.py --referrals 100000 --concerns 20000   # a quicker, smaller run

It needs a PostgreSQL superuser connection (default ``postgresql://postgres@127.0.0.1:5432/postgres``,
or ``--admin-dsn`` / ``BENCH_ADMIN_DSN``). It drops and recreates the database ``mash_bench_reports``
(``--database``): a copy of the template ``--template`` (default ``mash_bench_seed``, the one bench/run.py
keeps: the same parameters, so the ~22 GB ten-year database is seeded once for both) if it still fits (same
schema revision, parameters and seeding code, under 12 hours old; ``--fresh-seed`` to seed anyway), or
else migrated with ``mash migrate`` and seeded with bench/seed_large.py (``--chunk`` referrals
and ``--base-concerns`` concerns built in Python, the rest copied set-based in SQL, the people copied
with them, and an ``--audit-entries`` audit chain, as for bench/run.py: see bench/README.md), or, with
``--row-by-row``, every referral with bench/seed.py, a chunk at a time (``--chunk``) so that a million
fit in memory, and the adult concerns with bench/seed_adults.py (half an hour); both spread over the
last ``--days`` days (only seed_large.py's is kept as the template). ``--reuse`` skips all that and
times the database as it is.

Then it starts ``mash serve`` (one worker, production settings, as bench/run.py does) and times each
report over HTTP from this process with httpx, for the last complete reporting year (``--year``): the
SAC tables as JSON and CSV, the CIN census items as the first JSON page, a JSON page from the middle of
the year (keyset: it should cost what the first does) and the whole year as CSV, the CIN validation
findings (the first page, and the page from the middle item on), and the timeliness report for the
reporting year to date and over the reporting year (JSON and CSV). Each is requested once to warm up,
then ``--runs`` times; the table shows the fastest, median and slowest time to the last byte, and the
size of the answer. Figures also go to
bench/results/reports-<UTC timestamp>.json. Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/reports.py), not only as a module
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from app.core.pagination import encode_cursor  # noqa: E402
from app.governance.reports.periods import reporting_year  # noqa: E402
from bench import seed, seed_adults, seed_large  # noqa: E402
from bench.probes import last_complete_year  # noqa: E402
from bench.provision import (  # noqa: E402
    app_env,
    head_revision,
    keep_template,
    kept_template,
    recreate_database,
    seed_key,
    stale,
)
from bench.render import git_state  # noqa: E402
from bench.servers import BIN, RESULTS, Server, free_port, info, run_checked  # noqa: E402

HTTP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Request:
    name: str
    path: str
    params: dict[str, Any]
    accept: str = "application/json"


async def seed_database(
    args: argparse.Namespace, dsn: str, env: dict[str, str], workdir: Path
) -> dict[str, Any]:
    """Seed ``args.database``: a copy of the template ``args.template`` (bench/run.py's by default) an
    earlier run kept, if it was made at the same schema revision, with the same parameters and seeding
    code, and is recent (as bench/run.py reuses it); else seeded afresh and kept as that template."""
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    if not args.row_by_row:
        params = seed_large.Params(
            referrals=args.referrals,
            concerns=args.concerns,
            base_referrals=min(args.chunk, args.referrals),
            base_concerns=min(args.base_concerns, args.concerns),
            audit_entries=args.audit_entries,
            people=args.people,
            days=args.days,
        )
        template = args.template
        key, revision = seed_key(params), head_revision()
        kept = None if args.fresh_seed else await kept_template(args.admin_dsn, template)
        if kept is not None:
            age = time.time() - float(kept["created"])
            why = stale(kept, key, revision, params, age)
            if why is None:
                info(f"copying the seeded database {template} ({age / 60:.0f} min old, revision {revision})")
                await recreate_database(args.admin_dsn, args.database, template)
                timings["copy_s"] = round(time.perf_counter() - started, 1)
                return {
                    "timings": timings,
                    "template": template,
                    "age_s": round(age),
                    "seed_large": kept["summary"],
                }
            info(f"not reusing {template}: {why}")
        await recreate_database(args.admin_dsn, args.database)
        run_checked([str(BIN / "mash"), "migrate"], env, workdir)
        info(
            f"seeding {args.referrals:,} referrals and {args.concerns:,} adult concerns (bench/seed_large.py)"
        )
        summary = await seed_large.seed_large(dsn, params, (lambda _: None) if args.quiet else info)
        timings["total_s"] = round(time.perf_counter() - started, 1)
        info(f"  seeded in {timings['total_s']}s; keeping it as {template}")
        about = {"key": key, "revision": revision, "params": params.as_dict(), "created": time.time(),
                 "summary": summary}  # fmt: skip
        await keep_template(args.admin_dsn, args.database, template, about)
        return {"timings": timings, "template": template, "age_s": 0, "seed_large": summary}
    await recreate_database(args.admin_dsn, args.database)
    run_checked([str(BIN / "mash"), "migrate"], env, workdir)
    info(f"seeding {args.referrals:,} referrals, {args.chunk:,} at a time (bench/seed.py)")
    referrals = await seed.seed_in_chunks(
        dsn, args.referrals, chunk=args.chunk, days=args.days, progress=None if args.quiet else info
    )
    timings["referrals_s"] = round(time.perf_counter() - started, 1)
    info(f"  {args.referrals:,} referrals in {timings['referrals_s']}s")
    started = time.perf_counter()
    info(f"seeding {args.concerns:,} adult concerns (bench/seed_adults.py)")
    adults = seed_adults.build(args.concerns, days=args.days)
    adult_timings = await seed_adults.load(dsn, adults.rows, progress=None if args.quiet else info)
    timings["adult_concerns_s"] = round(time.perf_counter() - started, 1)
    info(f"  {args.concerns:,} adult concerns in {timings['adult_concerns_s']}s")
    timings["total_s"] = round(timings["referrals_s"] + timings["adult_concerns_s"], 1)
    return {
        "timings": timings,
        "referrals": {"rows": referrals["rows"], "load_s": referrals["load_s"]},
        "adult_concerns": {**seed_adults.summary(adults), "load_s": adult_timings},
    }


async def middle_cursor(dsn: str, year: int, *rest: int) -> str:
    """The cursor of a page halfway through the year's referrals, as the API would have issued it (the
    items' keys: received_at, referral id, child position, then ``rest``: a validation finding's rule)."""
    period = reporting_year(year)
    conn = await asyncpg.connect(dsn)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM referrals WHERE received_at >= $1 AND received_at < $2",
            period.start,
            period.end,
        )
        row = await conn.fetchrow(
            "SELECT received_at, id FROM referrals WHERE received_at >= $1 AND received_at < $2"
            " ORDER BY received_at, id OFFSET $3 LIMIT 1",
            period.start,
            period.end,
            count // 2,
        )
    finally:
        await conn.close()
    if row is None:
        raise RuntimeError(f"no referrals in the reporting year {year}: seed the database first")
    return encode_cursor([row["received_at"], row["id"], 0, *rest])


async def counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608 - our own names
            for table in ("referrals", "referral_children", "contributions", "assessments", "strategy_discussions",
                          "section_47_enquiries", "adult_concerns", "allegations", "enquiries", "safeguarding_plans")
        }  # fmt: skip
    finally:
        await conn.close()


async def time_request(http: httpx.AsyncClient, request: Request, runs: int) -> dict[str, Any]:
    timings: list[float] = []
    size, items, status = 0, None, 0
    for attempt in range(runs + 1):  # the first one warms up
        started = time.perf_counter()
        response = await http.get(request.path, params=request.params, headers={"Accept": request.accept})
        body = response.content
        elapsed = time.perf_counter() - started
        status = response.status_code
        if status != 200:
            return {"status": status, "error": response.text[:500]}
        if attempt:
            timings.append(elapsed)
        size = len(body)
        if request.accept == "text/csv":
            items = body.count(b"\r\n") - 1
        elif "items" in (parsed := response.json()):
            items = len(parsed["items"])
    return {
        "status": status,
        "min_s": round(min(timings), 3),
        "median_s": round(statistics.median(timings), 3),
        "max_s": round(max(timings), 3),
        "bytes": size,
        "items": items,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = RESULTS / f"reports-{stamp}-logs"  # the server's working directory: no stray .env is read
    workdir.mkdir(parents=True, exist_ok=True)
    base, _, _ = args.admin_dsn.rpartition("/")
    dsn = f"{base}/{args.database}"
    # Served as production serves it, under row-level security (the statements' plans depend on it).
    env = await app_env(args.admin_dsn, "postgresql+asyncpg://" + dsn.partition("://")[2], args.server_env)

    seeded: dict[str, Any] | None = None
    if not args.reuse:
        seeded = await seed_database(args, dsn, env, workdir)
    tables = await counts(dsn)
    info("database: " + ", ".join(f"{n:,} {t}" for t, n in tables.items()))

    year = args.year
    period = reporting_year(year)
    cin_range = {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
    requests = [
        Request("sac (json)", "/v1/reports/sac", {"year": year}),
        Request("sac (csv)", "/v1/reports/sac", {"year": year}, "text/csv"),
        Request(
            "cin-referrals first page (json, 200 items)",
            "/v1/reports/cin-referrals",
            {**cin_range, "limit": 200},
        ),
        Request(
            "cin-referrals middle page (json, 200 items)",
            "/v1/reports/cin-referrals",
            {**cin_range, "limit": 200, "cursor": await middle_cursor(dsn, year)},
        ),
        Request("cin-referrals whole year (csv)", "/v1/reports/cin-referrals", cin_range, "text/csv"),
        Request(
            "cin validation first page (json, 200 findings)",
            "/v1/reports/cin-referrals/validation",
            {**cin_range, "limit": 200},
        ),
        Request(
            # From the middle item's first rule on (validation.VALIDATION_KEYS: the item's keys, the rule).
            "cin validation middle page (json, 200 findings)",
            "/v1/reports/cin-referrals/validation",
            {**cin_range, "limit": 200, "cursor": await middle_cursor(dsn, year, -1)},
        ),
        Request("timeliness year to date (json)", "/v1/reports/timeliness", {}),
        Request("timeliness over the year (json)", "/v1/reports/timeliness", cin_range),
        Request("timeliness over the year (csv)", "/v1/reports/timeliness", cin_range, "text/csv"),
    ]

    token = run_checked(
        [
            str(BIN / "mash"),
            "token",
            "--agency",
            "childrens_social_care",
            "--role",
            "auditor",
            "--sub",
            "bench",
        ],
        env,
        workdir,
    ).strip()
    port = free_port()
    server = Server("ours", [str(BIN / "mash"), "serve", "--workers", "1", "--port", str(port)], env,
                    workdir / "server.log", port)  # fmt: skip
    results: dict[str, Any] = {}
    info(
        f"starting mash serve on port {port}; reporting year {year} ({period.first_day} to {period.last_day})"
    )
    try:
        server.start()
        await server.wait_ready("/readyz")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=HTTP_TIMEOUT_S) as http:
            for request in requests:
                info(f"  {request.name}")
                results[request.name] = await time_request(http, request, args.runs)
    finally:
        server.stop()

    return {
        "timestamp": stamp,
        "git": git_state(),
        # Other work on the machine slows everything alike: the load average says how much there was.
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "parameters": {"year": year, "runs": args.runs, "database": args.database, "reused": args.reuse},
        "tables": tables,
        "seed": seeded,
        "results": results,
    }


def print_table(report: dict[str, Any]) -> None:
    seeded = report["seed"]
    if seeded is not None:
        t = seeded["timings"]
        if "referrals_s" in t:
            print(
                f"seed: referrals {t['referrals_s']}s, adult concerns {t['adult_concerns_s']}s, total {t['total_s']}s"
            )
        elif "copy_s" in t:
            print(
                f"seed: copied from {seeded['template']} ({seeded['age_s'] / 60:.0f} min old) in {t['copy_s']}s"
            )
        else:
            print(f"seed (bench/seed_large.py): {t['total_s']}s, kept as {seeded['template']}")
    print("database: " + ", ".join(f"{n:,} {t}" for t, n in report["tables"].items()))
    print(
        f"reporting year {report['parameters']['year']}, {report['parameters']['runs']} runs after one warm-up; "
        f"load average {report['machine']['load_average']} on {report['machine']['cpus']} CPUs"
    )
    print(f"{'report':<48} {'min s':>8} {'median s':>9} {'max s':>8} {'items':>9} {'bytes':>12}")
    for name, result in report["results"].items():
        if result["status"] != 200:
            print(f"{name:<48} FAILED {result['status']}: {result['error']}")
            continue
        items = "" if result["items"] is None else f"{result['items']:,}"
        print(
            f"{name:<48} {result['min_s']:>8.3f} {result['median_s']:>9.3f} {result['max_s']:>8.3f} "
            f"{items:>9} {result['bytes']:>12,}"
        )


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """``--admin-dsn``, ``--database`` and ``--year``: the database and the reporting year timed (here and
    in bench/cin_csv_copy.py)."""
    parser.add_argument(
        "--admin-dsn",
        default=os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--database", default="mash_bench_reports")
    parser.add_argument("--year", type=int, default=last_complete_year(datetime.now(UTC).date()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_arguments(parser)
    parser.add_argument(
        "--template",
        default="mash_bench_seed",
        help="the seeded template copied, or made and kept (default bench/run.py's: the same parameters, so one"
        " ~22 GB template serves both)",
    )
    defaults = seed_large.Params()  # the database bench/run.py seeds: ten years of a large council
    parser.add_argument("--referrals", type=int, default=defaults.referrals)
    parser.add_argument("--concerns", type=int, default=defaults.concerns)
    parser.add_argument("--base-concerns", type=int, default=defaults.base_concerns)
    parser.add_argument("--audit-entries", type=int, default=defaults.audit_entries)
    parser.add_argument("--people", type=int, default=defaults.people)
    parser.add_argument(
        "--days", type=int, default=730, help="records received over this many days up to now"
    )
    parser.add_argument(
        "--chunk",
        type=int,
        default=100_000,
        help="referrals built in Python (the rest are copies made in SQL); with --row-by-row, at a time",
    )
    parser.add_argument(
        "--row-by-row",
        action="store_true",
        help="build every referral and concern in Python (bench/seed.py in chunks, seed_adults.py): ~30 min",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="time the database as it is, without seeding")
    parser.add_argument(
        "--fresh-seed", action="store_true", help="seed afresh even if the kept template (--template) fits"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line per table copied")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    report = asyncio.run(run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"reports-{report['timestamp']}.json").write_text(json.dumps(report, indent=2, default=str))
    print_table(report)
    return 0 if all(r["status"] == 200 for r in report["results"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
