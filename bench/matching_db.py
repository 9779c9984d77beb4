"""Person matching against a real database, through the application's own query and ranking.

    .venv/bin/python bench/matching_db.py --people 100000 --queries 2000 [--database postgresql|sqlite]

Creates a fresh database (PostgreSQL ``mash_bench_matching``, dropped first, through ``--admin-dsn``; or
the SQLite file bench/results/matching.db, deleted first), migrates it with ``mash migrate``, and loads
bench/matching_data.py's population into ``people`` and ``person_match_keys`` (COPY on PostgreSQL, one
executemany transaction on SQLite; the keys of each row are ``blocking_keys`` of the row as stored, as
app.people.repository.write_match_keys writes them). Then each query (re-referrals with the errors
partner agencies make, and look-alike new children) goes through
``app.people.service.rank(session, identity, limit=10)`` on an AsyncSession from app.core.db, one
query at a time, each in its own session whose transaction is already open (as after a request's
authentication), so the time is the candidate query, loading the rows and ranking them.

Prints the latency per query (p50/p95/p99), the candidates the query returned, the precision/recall
summary of bench/matching_quality.py (``QualitySummary``; certain links as ``automatic_link`` would make
them from the ten ranked) and the plan of the candidate query, to show it looks the keys up in the
``person_match_keys`` index instead of scanning.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/matching_db.py), not only as a module
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.db import create_engine, create_sessionmaker  # noqa: E402
from app.models.person import Person, PersonMatchKey  # noqa: E402
from app.people import repository as people_repository  # noqa: E402
from app.people import service as people_service  # noqa: E402
from app.people.matching import Identity, RankedMatch, automatic_link, blocking_keys, score  # noqa: E402
from bench import fresh_db  # noqa: E402
from bench.matching_data import generate  # noqa: E402
from bench.matching_quality import QualitySummary, percentile  # noqa: E402
from bench.seed import TABLES  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATABASE = "mash_bench_matching"
SQLITE_FILE = RESULTS / "matching.db"
LIMIT = 10  # what the people API's match endpoint asks rank() for by default
WARMUP = 50  # queries run first, untimed: connections, prepared statements, caches


def _info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stored(identity: Identity) -> dict[str, Any]:
    """The person row the application would hold for this identity."""
    return {
        "id": uuid.uuid4(),
        # NOT NULL in people: an unborn child is recorded as "Unborn", which matching reads as no name.
        "given_name": identity.given_name or "Unborn",
        "family_name": identity.family_name or "",
        "date_of_birth": identity.date_of_birth,
        "expected_date_of_birth": identity.expected_date_of_birth,
        "nhs_number": identity.nhs_number,
        "address_lines": None,
        "postcode": identity.postcode,
        "gender": identity.gender,
        "ethnicity": None,
        "created_at": datetime.now(UTC),
        "created_by": "bench",
        "updated_at": None,
        "version": 1,
    }


async def _load_postgres(dsn: str, rows: list[dict[str, Any]], keys: list[tuple[str, uuid.UUID]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        columns = TABLES["people"]
        # JSON columns as text; None is JSON null, as SQLAlchemy's JSON type stores it.
        records = [
            tuple(json.dumps(row[c]) if c == "address_lines" else row[c] for c in columns) for row in rows
        ]
        await conn.copy_records_to_table("people", records=records, columns=columns)
        await conn.copy_records_to_table(
            "person_match_keys", records=keys, columns=TABLES["person_match_keys"]
        )
        await conn.execute("VACUUM (ANALYZE) people")
        await conn.execute("VACUUM (ANALYZE) person_match_keys")
    finally:
        await conn.close()


def _load_sqlite(path: Path, rows: list[dict[str, Any]], keys: list[tuple[str, uuid.UUID]]) -> None:
    # Through SQLAlchemy Core, so each value is stored as the application's column types store it
    # (UUIDs as 32 hex digits, UTC timestamps without an offset).
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(cast(sa.Table, Person.__table__)), rows)
            conn.execute(
                sa.insert(cast(sa.Table, PersonMatchKey.__table__)),
                [{"key": k, "person_id": p} for k, p in keys],
            )
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def _identity_of_row(row: dict[str, Any]) -> Identity:
    return Identity(
        given_name=row["given_name"],
        family_name=row["family_name"],
        date_of_birth=row["date_of_birth"],
        expected_date_of_birth=row["expected_date_of_birth"],
        nhs_number=row["nhs_number"],
        postcode=row["postcode"],
        gender=row["gender"],
    )


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    people, queries = generate(args.people, args.queries, args.seed)
    by_id = {person.id: person.identity for person in people}
    rows = [_stored(person.identity) for person in people]
    generator_id = {row["id"]: person.id for row, person in zip(rows, people, strict=True)}
    keys = [(key, row["id"]) for row in rows for key in sorted(blocking_keys(_identity_of_row(row)))]
    _info(
        f"generated {len(people):,} people ({len(keys):,} match keys) and {len(queries):,} queries "
        f"in {time.perf_counter() - started:.1f}s"
    )

    started = time.perf_counter()
    if args.database == "postgresql":
        dsn = await fresh_db.fresh_postgres(args.admin_dsn, DATABASE)
        database_url = fresh_db.sqlalchemy_url(dsn)
        await asyncio.to_thread(fresh_db.migrate, database_url)
        await _load_postgres(dsn, rows, keys)
        where = f"PostgreSQL database {DATABASE}"
    else:
        database_url = await asyncio.to_thread(fresh_db.fresh_sqlite, SQLITE_FILE)
        await asyncio.to_thread(fresh_db.migrate, database_url)
        await asyncio.to_thread(_load_sqlite, SQLITE_FILE, rows, keys)
        where = f"SQLite file {SQLITE_FILE.relative_to(ROOT)}"
    print(f"{args.database}: migrated and loaded {where} in {time.perf_counter() - started:.1f}s")

    engine = create_engine(Settings(database_url=database_url))
    sessionmaker = create_sessionmaker(engine)
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if "person_match_keys" in statement and not captured:
            captured.append((statement, parameters))

    summary = QualitySummary(by_id, shown=LIMIT)
    latencies: list[float] = []
    candidates: list[int] = []
    mismatched = 0
    try:
        for number, query in enumerate([*queries[:WARMUP], *queries]):
            async with sessionmaker() as session:
                # The request's connection and transaction, as after authenticating the caller.
                await session.execute(sa.text("SELECT 1"))
                began = time.perf_counter()
                ranked = await people_service.rank(session, query.identity, limit=LIMIT)
                elapsed = time.perf_counter() - began
                # Untimed: how many people the candidate query returned (rank shows only the best ten).
                found = {
                    generator_id[p.id] for p in await people_repository.candidates(session, query.identity)
                }
                # The automatic link resolve() would make needs each candidate's weight: score again.
                matches = [
                    RankedMatch(
                        generator_id[r.person.id],
                        score(query.identity, people_repository.identity_of(r.person)),
                    )
                    for r in ranked
                ]
                await session.rollback()
            if number < WARMUP:
                continue
            latencies.append(elapsed)
            candidates.append(len(found))
            mismatched += sum(
                abs(m.match.score - r.score) > 1e-9 for m, r in zip(matches, ranked, strict=True)
            )
            summary.add(query, found, matches, automatic_link(matches))
        plan = await _explain(engine, args.database, captured)
    finally:
        await engine.dispose()

    print(
        f"latency of app.people.service.rank(session, identity, limit={LIMIT}), one query at a time, "
        f"{len(latencies):,} queries after {WARMUP} untimed:"
    )
    print(
        f"  p50 {_ms(percentile(latencies, 0.5))}  p95 {_ms(percentile(latencies, 0.95))}  "
        f"p99 {_ms(percentile(latencies, 0.99))}  max {_ms(max(latencies))}  mean {_ms(statistics.mean(latencies))}"
    )
    print(
        f"  candidates per query (rows the candidate query returned): mean {statistics.mean(candidates):.1f}  "
        f"p50 {percentile(candidates, 0.5):.0f}  p95 {percentile(candidates, 0.95):.0f}  "
        f"p99 {percentile(candidates, 0.99):.0f}  max {max(candidates)}"
    )
    if mismatched:
        print(f"  WARNING: {mismatched} scores from rank() differ from score() of the same rows")
    summary.print_links_and_candidates()
    summary.print_details(args.show)
    print("plan of the candidate query (the first query's, as rank() sent it):")
    for line in plan:
        print(f"  {line}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def _explain(engine: Any, database: str, captured: Sequence[tuple[str, Any]]) -> list[str]:
    if not captured:
        return ["(no candidate query was run)"]
    statement, parameters = captured[0]
    prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if database == "postgresql" else "EXPLAIN QUERY PLAN "
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql(prefix + statement, parameters)
        found = result.all()
    if database == "postgresql":
        return [str(row[0]) for row in found]
    return [f"{'  ' * int(row[1] != 0)}{row[-1]}" for row in found]  # id, parent, notused, detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20250601, help="as bench/matching_quality.py's")
    fresh_db.add_arguments(
        parser,
        admin_dsn_help=f"a PostgreSQL superuser connection, to (re)create {DATABASE} (env BENCH_ADMIN_DSN)",
    )
    parser.add_argument("--show", type=int, default=0, help="examples of each failure to print")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
