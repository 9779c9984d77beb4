"""Time the CIN census CSV's COPY on its own, in one PostgreSQL backend: elapsed time and the backend's
CPU time (user + system, from /proc: the server must be on this machine), with the output's SHA-256
(lines ended CRLF, as the export writes them) to show that two statements give the same bytes.

    .venv/bin/python bench/cin_csv_copy.py --database mash_bench_speed                   # the code's statement
    .venv/bin/python bench/cin_csv_copy.py --database mash_bench_speed --save old.sql    # ... and keep its text
    .venv/bin/python bench/cin_csv_copy.py --database mash_bench_speed --sql old.sql --runs 5   # old, new alternately

With ``--sql`` files, each run times each statement in turn (the code's own last), so that load on the
machine falls on all alike. Each COPY runs as the application runs it: in a transaction with the
caller's settings (an auditor of children's social care) and the COPY's own (the service's
``CIN_COPY_SETTINGS``, or a saved statement's leading ``SET LOCAL`` lines), to a callback that counts
lines and replaces LF by CRLF. The connection is the admin DSN's (the bench server's too): a
superuser, to whom row-level security does not apply.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from app.governance.reports import queries  # noqa: E402
from app.governance.reports.periods import reporting_year  # noqa: E402
from app.governance.reports.service import CIN_COPY_SETTINGS, CIN_CSV_HEADER  # noqa: E402
from bench.reports import add_database_arguments  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
Result = dict[str, float | int | str]


def code_statement(year: int) -> str:
    stmt = queries.cin_csv_postgresql(reporting_year(year), CIN_CSV_HEADER)
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def read_statement(text: str) -> tuple[Sequence[str], str]:
    """A saved statement: its leading ``SET LOCAL ...;`` lines (the settings), then the query."""
    lines = text.splitlines()
    settings = [line.rstrip(";") for line in lines if line.startswith("SET ")]
    return settings, "\n".join(line for line in lines if not line.startswith("SET "))


def backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def copy_once(connection: asyncpg.Connection, settings: Sequence[str], sql: str) -> Result:
    digest = hashlib.sha256()
    size = lines = 0

    async def write(chunk: bytes) -> None:
        nonlocal size, lines
        lines += chunk.count(b"\n")
        chunk = chunk.replace(b"\n", b"\r\n")
        size += len(chunk)
        digest.update(chunk)

    pid = connection.get_server_pid()
    async with connection.transaction():
        await connection.execute(
            "SELECT set_config('mash.agency', 'childrens_social_care', true), set_config('mash.role', 'auditor', true)"
        )
        for setting in settings:
            await connection.execute(setting)
        cpu = backend_cpu_s(pid)
        started = time.perf_counter()
        await connection.copy_from_query(sql, output=write, format="csv", header=True)
        elapsed = time.perf_counter() - started
        cpu = backend_cpu_s(pid) - cpu
    return {
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "bytes": size,
        "rows": lines - 1,
        "sha256": digest.hexdigest(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each statement, after one warm-up")
    parser.add_argument("--sql", action="append", default=[], help="a statement (file) to time too")
    parser.add_argument("--save", help="write the code's statement to this file")
    parser.add_argument("--workers", type=int, help="max_parallel_workers_per_gather for the session")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a setting for the session"
    )
    args = parser.parse_args(argv)

    statements: dict[str, tuple[Sequence[str], str]] = {
        path: read_statement(Path(path).read_text()) for path in args.sql
    }
    statements["code"] = (CIN_COPY_SETTINGS, code_statement(args.year))
    if args.save:
        Path(args.save).write_text(
            "".join(f"{setting};\n" for setting in CIN_COPY_SETTINGS) + statements["code"][1]
        )
    results = asyncio.run(measure(args, statements))
    print(f"year {args.year}, {args.runs} runs each after a warm-up; load average {os.getloadavg()}")
    for name, runs in results.items():
        if not runs:
            continue
        elapsed = [float(r["elapsed_s"]) for r in runs]
        cpu = [float(r["cpu_s"]) for r in runs]
        digests = {r["sha256"] for r in runs}
        print(
            f"{name:<24} elapsed min {min(elapsed):.3f} median {statistics.median(elapsed):.3f} s;"
            f"  cpu min {min(cpu):.2f} median {statistics.median(cpu):.2f} s;  sha256 {' '.join(map(str, digests))}"
        )
    return 0


async def measure(
    args: argparse.Namespace, statements: dict[str, tuple[Sequence[str], str]]
) -> dict[str, list[Result]]:
    dsn = args.admin_dsn.rpartition("/")[0] + "/" + args.database
    connection = await asyncpg.connect(dsn)
    try:
        if args.workers is not None:
            await connection.execute(f"SET max_parallel_workers_per_gather = {int(args.workers)}")
        for setting in args.set:
            name, _, value = setting.partition("=")
            await connection.execute("SELECT set_config($1, $2, false)", name, value)
        results: dict[str, list[Result]] = {name: [] for name in statements}
        for run in range(args.runs + 1):
            for name, statement in statements.items():
                result = await copy_once(connection, *statement)
                if run:
                    results[name].append(result)
                print(
                    f"{'warm-up' if not run else f'run {run}':>8} {name:<24} elapsed {result['elapsed_s']:.3f} s"
                    f"  cpu {result['cpu_s']:.2f} s  {result['rows']:,} rows  {result['bytes']:,} bytes"
                    f"  {str(result['sha256'])[:16]}  load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    finally:
        await connection.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
