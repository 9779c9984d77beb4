"""Seed a migrated PostgreSQL database at scale: ten years of a large council, 1M referrals, ~1M people,
600k adult concerns, a 20M-entry audit chain (bench/README.md says how long each step takes).

    .venv/bin/python -m bench.seed_large --dsn postgresql://postgres@127.0.0.1:5432/some_migrated_db

bench/seed.py and bench/seed_adults.py build every row in Python: realistic, but a million referrals
take half an hour. This seeder builds a realistic *base* with them (``--base-referrals`` referrals,
``--base-concerns`` concerns: the people, their match keys, the case events), copies the base's people
(bench/seed_people.py: other identities, their match keys from ``app.people.matching.blocking_keys``,
about ``--people`` in all) and then scales the case tables up set-based, inside PostgreSQL: each
referral or concern and everything hanging off it (children, household, contributions and their
responses, threshold decisions; allegations, section 42 decisions, enquiries, advocacy, plans and
actions) is copied ``factor - 1`` times with one ``INSERT ... SELECT ... CROSS JOIN generate_series``
per table. A copy gets new ids (``md5(id || k)``, foreign keys mapped alike, so every copy is a
consistent case), names person copy ``k % people_factor`` (its children with that person's identity)
and has its times moved back by ``k`` x 37 minutes, so that open cases stay open and decided ones
decided, as of now.

What is not scaled: case events (only the base's; the change feed and timelines read them, no scenario
of bench/run.py does). The audit trail is seeded on its own, by another process streaming it while the
rest is built: ``--audit-entries`` entries made with ``app.core.audit.chain_hash`` (reads and writes of
referrals by the hub and the police), so that ``mash audit verify`` and GET
/v1/audit-events/verification check a valid chain of that length.

For speed: foreign key triggers are off while loading (``session_replication_role = replica``: the
rows are consistent by construction), secondary indexes are dropped first and rebuilt after, then
every table is VACUUM ANALYZEd.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/seed_large.py), not only as a module
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from app.core.audit import GENESIS_HASH, canonical_json, chain_hash  # noqa: E402
from bench import seed, seed_adults, seed_people  # noqa: E402

# The case tables scaled up: these, and every table with a foreign key to one of them.
ROOTS = ("referrals", "adult_concerns")
# Uuid columns referring to a scaled table without a foreign key.
EXTRA_REFERENCES = {("referrals", "decision_id"), ("disclosures", "record_id")}
# JSON arrays of such ids (a strategy discussion's children): each element mapped as the ids are.
JSON_REFERENCES = {("strategy_discussions", "child_ids")}
COPY_SHIFT_MINUTES = 37
CONNECTIONS = 2  # the machine's cores
AUDIT_COLUMNS = ("seq", "id", "occurred_at", "request_id", "actor_sub", "actor_agency", "actor_role",
                 "action", "record_type", "record_id", "person_id", "details", "prev_hash", "hash")  # fmt: skip

# Reported after seeding.
COUNTED = ("people", "person_match_keys", "referrals", "referral_children", "contributions",
           "contribution_responses", "threshold_decisions", "case_events", "adult_concerns", "allegations",
           "section_42_decisions", "enquiries", "audit_events")  # fmt: skip

Progress = Callable[[str], None]

# Allocation, as a hub's working day leaves it: every decided or withdrawn referral was worked by
# someone, about half the open ones are allocated (the triage page shows the rest), every concern past
# receipt and every enquiry has a worker. Workers and teams are picked by a byte of md5(id), so each
# copy of a base case gets its own. bench/scenarios.py's enquiry_list reads one worker's enquiries.
BENCH_MASH_WORKERS, BENCH_ASC_WORKERS = 40, 20
_PICK = "get_byte(decode(md5(id::text), 'hex'), {})"
ALLOCATE = [
    "UPDATE referrals SET"  # noqa: S608 (constants)
    f" allocated_worker = 'bench-practitioner-' || ({_PICK.format(0)} % {BENCH_MASH_WORKERS}),"
    f" allocated_team = 'MASH ' || chr(65 + {_PICK.format(1)} % 3),"
    " allocated_at = received_at + interval '2 hours', allocated_by = 'bench-manager'"
    f" WHERE status IN ('decided', 'withdrawn') OR {_PICK.format(2)} % 2 = 0",
    "UPDATE adult_concerns SET"  # noqa: S608 (constants)
    f" allocated_worker = 'bench-asc-worker-' || ({_PICK.format(0)} % {BENCH_ASC_WORKERS}),"
    " allocated_team = 'Safeguarding adults', allocated_at = received_at + interval '1 hour',"
    " allocated_by = 'bench-asc-manager' WHERE status <> 'received'",
    "UPDATE enquiries SET"  # noqa: S608 (constants)
    f" allocated_worker = 'bench-asc-worker-' || ({_PICK.format(0)} % {BENCH_ASC_WORKERS}),"
    " allocated_team = 'Safeguarding adults', allocated_at = opened_at + interval '1 hour',"
    " allocated_by = 'bench-asc-manager'",
]


@dataclass(frozen=True)
class Params:
    """What the seeded database depends on, besides the code: recorded with the template."""

    referrals: int = 1_000_000
    concerns: int = 600_000
    base_referrals: int = 100_000
    base_concerns: int = 20_000
    audit_entries: int = 20_000_000
    people: int = 1_000_000
    days: int = 730
    seed: int = seed.DEFAULT_SEED

    @property
    def referral_factor(self) -> int:
        return max(1, round(self.referrals / self.base_referrals)) if self.base_referrals else 0

    @property
    def concern_factor(self) -> int:
        return max(1, round(self.concerns / self.base_concerns)) if self.base_concerns else 0

    def people_factor(self, base_people: int) -> int:
        """Copies of each base person (the original included): ``people`` over the base's, at most as many
        as there are copies of a case (more would be people no case names), at least 1."""
        wanted = round(self.people / base_people) if base_people else 1
        return max(1, min(wanted, max(self.referral_factor, self.concern_factor)))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _build_adults(concerns: int, days: int, now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    if concerns <= 0:
        return {}
    return seed_adults.build(concerns, days=days, now=now).rows


def audit_rows(
    entries: int, now: datetime, seed_value: int, chunk: int = 100_000
) -> Iterator[list[tuple[Any, ...]]]:
    """``entries`` chained audit events over the last 30 days, as mash-api would have written them, in
    lists of at most ``chunk`` rows (the chain continues from one list to the next)."""
    rng = random.Random(seed_value)
    actors = [
        (str(uuid.UUID(int=rng.getrandbits(128), version=4)), agency, role)
        for agency, role in (("childrens_social_care", "mash_practitioner"),) * 6
        + (("police", "partner_referrer"), ("health", "partner_referrer"), ("education", "partner_referrer"))
    ]
    start = now - timedelta(days=30)
    step = timedelta(days=30) / max(entries, 1)
    rows: list[tuple[Any, ...]] = []
    prev = GENESIS_HASH
    for seq in range(1, entries + 1):
        sub, agency, role = rng.choice(actors)
        roll = rng.random()
        person = uuid.UUID(int=rng.getrandbits(128), version=4)
        if roll < 0.5:
            action, record_type, record_id, person_id = "read", "referral", str(uuid.uuid4()), None
            details: dict[str, Any] = {"view": "full" if role == "mash_practitioner" else "referrer"}
        elif roll < 0.8:
            action, record_type, record_id, person_id = "list", "referral", None, None
            details = {"referral_ids": [str(uuid.uuid4()) for _ in range(5)], "person_ids": [str(person)]}
        else:
            action, record_type, record_id, person_id = "create", "referral", str(uuid.uuid4()), person
            details = {"person_ids": [str(person)]}
        row = {
            "seq": seq, "id": uuid.UUID(int=rng.getrandbits(128), version=4), "occurred_at": start + step * seq,
            "request_id": hashlib.md5(str(seq).encode(), usedforsecurity=False).hexdigest(),
            "actor_sub": sub, "actor_agency": agency, "actor_role": role, "action": action,
            "record_type": record_type, "record_id": record_id, "person_id": person_id, "details": details,
            "prev_hash": prev,
        }  # fmt: skip
        prev = chain_hash(row)
        rows.append((*(row[c] for c in AUDIT_COLUMNS[:-3]), canonical_json(details), row["prev_hash"], prev))
        if len(rows) >= chunk:
            yield rows
            rows = []
    if rows:
        yield rows


async def _load_audit(dsn: str, entries: int, now: datetime, seed_value: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "mash-bench-seed-audit"})
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET session_replication_role = replica")
        last, count, copying = GENESIS_HASH, 0, 0.0
        chunks = audit_rows(entries, now, seed_value)

        def build() -> list[tuple[Any, ...]] | None:
            return next(chunks, None)

        # The next chunk is built (in a thread) while PostgreSQL writes this one.
        following = asyncio.ensure_future(asyncio.to_thread(build))
        while (rows := await following) is not None:
            following = asyncio.ensure_future(asyncio.to_thread(build))
            mark = time.perf_counter()
            await conn.copy_records_to_table("audit_events", records=rows, columns=AUDIT_COLUMNS)
            copying += time.perf_counter() - mark
            last, count = rows[-1][-1], count + len(rows)
        if count:
            await conn.execute(
                "UPDATE audit_chain_head SET last_seq = $1, last_hash = $2 WHERE id = 1", count, last
            )
    finally:
        await conn.close()
    return {"entries": count, "copy_s": round(copying, 1)}


def load_audit(dsn: str, entries: int, now: datetime, seed_value: int) -> dict[str, Any]:
    """Build and write the audit chain (in another process: a chain of millions is minutes of hashing),
    streamed a chunk at a time so that memory stays that of two chunks (one built, one written)."""
    started = time.perf_counter()
    done = asyncio.run(_load_audit(dsn, entries, now, seed_value))
    return {**done, "total_s": round(time.perf_counter() - started, 1)}


async def _scaled_tables(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(table, root): the roots and every table hanging off one by foreign keys, parents first. A table
    hanging off both (disclosures) is left alone."""
    edges = [
        (row["child"], row["parent"])
        for row in await conn.fetch(
            "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent"
            " FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
        )
    ]
    found: dict[str, list[str]] = {}
    for root in ROOTS:
        order = [root]
        grew = True
        while grew:
            grew = False
            for child, parent in edges:
                if parent in order and child not in order:
                    order.append(child)
                    grew = True
        found[root] = order
    both = set(found[ROOTS[0]]) & set(found[ROOTS[1]])
    # Breadth-first from the root: a child comes after the parent that added it, and every scaled
    # parent of it (contributions before contribution_responses) is nearer the root.
    return [(table, root) for root in ROOTS for table in found[root] if table not in both]


# A referral copy's children carry the identity of their person copy (bench/seed_people.py); the NHS
# number only where the referrer gave one.
CHILD_IDENTITY = ("given_name", "family_name", "date_of_birth", "expected_date_of_birth")


async def _scale_statement(
    conn: asyncpg.Connection, table: str, scaled: list[str], factor: int, people_factor: int
) -> str:
    parents = {
        row["child_column"]: row["parent"]
        for row in await conn.fetch(
            "SELECT a.attname AS child_column, c.confrelid::regclass::text AS parent FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.contype = 'f' AND c.conrelid = $1::regclass",
            table,
        )
    }
    references = {column for column, parent in parents.items() if parent in scaled}
    # Case copy k names person copy k % people_factor (copy 0: the base person itself).
    people = (
        {column for column, parent in parents.items() if parent == "people"} if people_factor > 1 else set()
    )
    join = ""
    if table == "referral_children" and people:
        join = f" LEFT JOIN people p ON k % {people_factor} <> 0 AND p.id = {_person_copy('t.person_id', people_factor)}"
    columns = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    names, values = [], []
    for column in columns:
        name, kind = column["column_name"], column["data_type"]
        quoted = f't."{name}"'
        if name in people:
            value = _person_copy(quoted, people_factor)
        elif kind == "uuid" and (name == "id" or name in references or (table, name) in EXTRA_REFERENCES):
            value = f"md5({quoted}::text || '/' || k)::uuid"
        elif (table, name) in JSON_REFERENCES:
            value = (
                f"(SELECT coalesce(json_agg(md5(e || '/' || k)::uuid::text), '[]')"  # noqa: S608 (our names)
                f" FROM json_array_elements_text({quoted}) AS e)"
            )
        elif join and name in CHILD_IDENTITY:
            value = f'CASE WHEN p.id IS NULL THEN {quoted} ELSE p."{name}" END'
        elif join and name == "nhs_number":
            value = f"CASE WHEN p.id IS NULL OR {quoted} IS NULL THEN {quoted} ELSE p.nhs_number END"
        elif kind == "timestamp with time zone":
            value = f"{quoted} - k * interval '{COPY_SHIFT_MINUTES} minutes'"
        else:
            value = quoted
        names.append(f'"{name}"')
        values.append(value)
    return (
        f'INSERT INTO "{table}" ({", ".join(names)}) SELECT {", ".join(values)}'  # noqa: S608
        f' FROM "{table}" AS t CROSS JOIN generate_series(1, {factor - 1}) AS k{join}'
    )


def _person_copy(column: str, people_factor: int) -> str:
    """The id of the person copy a case copy ``k`` names (bench/seed_people.py's ids)."""
    j = f"(k % {people_factor})"
    return f"CASE WHEN {j} = 0 THEN {column} ELSE md5({column}::text || '/' || {j})::uuid END"


async def _secondary_indexes(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    """(table, index, definition) of every index not backing a constraint: dropped while loading."""
    rows = await conn.fetch(
        "SELECT t.relname AS tab, i.relname AS idx, pg_get_indexdef(i.oid) AS def FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
        " ORDER BY t.relname, i.relname"
    )
    return [(row["tab"], row["idx"], row["def"]) for row in rows]


async def _copy_tables(
    conns: list[asyncpg.Connection],
    rows: dict[str, list[tuple[Any, ...]]],
    columns: Callable[[str], Any],
    timings: dict[str, float],
    progress: Progress,
) -> None:
    queue = [table for table in rows if rows[table]]

    async def worker(conn: asyncpg.Connection) -> None:
        while queue:
            table = queue.pop(0)
            started = time.perf_counter()
            await conn.copy_records_to_table(table, records=rows[table], columns=list(columns(table)))
            seconds = time.perf_counter() - started
            timings[f"copy:{table}"] = round(timings.get(f"copy:{table}", 0.0) + seconds, 2)
            progress(f"  copied {len(rows[table]):,} rows into {table} in {seconds:.1f}s")

    await asyncio.gather(*(worker(conn) for conn in conns))


async def _parallel(conns: list[asyncpg.Connection], statements: list[str]) -> None:
    queue = list(statements)

    async def worker(conn: asyncpg.Connection) -> None:
        while queue:
            await conn.execute(queue.pop(0))

    await asyncio.gather(*(worker(conn) for conn in conns))


async def seed_large(dsn: str, params: Params, progress: Progress) -> dict[str, Any]:
    """Seed ``dsn`` (freshly migrated) as the module says; returns the row counts and timings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    now = datetime.now(UTC)
    loop = asyncio.get_running_loop()
    conns = [
        await asyncpg.connect(dsn, server_settings={"application_name": "mash-bench-seed"})
        for _ in range(CONNECTIONS)
    ]
    # The adults are built, and the audit trail built and written, in other processes while this one
    # builds the referrals; the audit chain is written while the cases are copied and scaled.
    pool = ProcessPoolExecutor(max_workers=2)
    try:
        for conn in conns:
            if await conn.fetchval("SELECT count(*) FROM referrals") or await conn.fetchval(
                "SELECT count(*) FROM adult_concerns"
            ):
                raise RuntimeError("the database already holds cases: seed a freshly migrated one")
            await conn.execute("SET synchronous_commit = off")  # losing the seed in a crash costs a re-run
            # Foreign keys are enforced by triggers; the rows are consistent by construction.
            await conn.execute("SET session_replication_role = replica")
            await conn.execute("SET maintenance_work_mem = '256MB'")
        conn = conns[0]
        indexes = await _secondary_indexes(conn)
        for _, name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        # The audit chain's unique constraints (id, hash, prev_hash) too: built once after the load rather
        # than updated by each of its millions of rows.
        unique = [
            (row["name"], row["definition"])
            for row in await conn.fetch(
                "SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
                " WHERE conrelid = 'audit_events'::regclass AND contype = 'u' ORDER BY conname"
            )
        ]
        for name, _ in unique:
            await conn.execute(f'ALTER TABLE audit_events DROP CONSTRAINT "{name}"')

        audit_future = loop.run_in_executor(pool, load_audit, dsn, params.audit_entries, now, params.seed)
        adults_future = loop.run_in_executor(pool, _build_adults, params.base_concerns, params.days, now)
        progress(f"building {params.base_referrals:,} base referrals (bench/seed.py)")
        base = await asyncio.to_thread(
            seed.build, params.base_referrals, now=now, days=params.days, seed=params.seed
        )
        adults = await adults_future
        timings["build"] = round(time.perf_counter() - started, 1)
        progress(f"  built in {timings['build']}s")

        mark = time.perf_counter()
        await _copy_tables(conns, base.rows, lambda t: seed.TABLES[t], timings, progress)
        await _copy_tables(conns, adults, seed_adults.columns, timings, progress)
        timings["copy"] = round(time.perf_counter() - mark, 1)

        mark = time.perf_counter()
        base_people = int(await conn.fetchval("SELECT count(*) FROM people"))
        people_factor = params.people_factor(base_people)
        progress(f"copying {base_people:,} people x{people_factor} (bench/seed_people.py)")
        await seed_people.copy_people(
            conns, people_factor, params.referral_factor, params.seed, progress, timings
        )
        timings["people"] = round(time.perf_counter() - mark, 1)
        progress(f"  people in {timings['people']}s")

        # Foreign key triggers are off: the tables can be filled in any order, two at a time.
        scaled = await _scaled_tables(conn)
        names = [table for table, _ in scaled]
        statements = {}
        for table, root in scaled:
            factor = params.referral_factor if root == "referrals" else params.concern_factor
            if factor > 1:
                statement = await _scale_statement(conn, table, names, factor, people_factor)
                statements[table] = (factor, statement)
        queue = sorted(statements, key=lambda t: t in ("referrals", "adult_concerns"))  # roots first

        async def scale(worker: asyncpg.Connection) -> None:
            while queue:
                table = queue.pop()
                factor, statement = statements[table]
                mark = time.perf_counter()
                done = await worker.execute(statement)
                timings[f"scale:{table}"] = round(time.perf_counter() - mark, 1)
                progress(
                    f"  scaled {table} x{factor}: {done.split()[-1]} rows in {timings[f'scale:{table}']}s"
                )

        mark = time.perf_counter()
        await asyncio.gather(*(scale(worker) for worker in conns))
        timings["scale"] = round(time.perf_counter() - mark, 1)

        mark = time.perf_counter()
        audit = await audit_future
        timings["audit_wait"] = round(time.perf_counter() - mark, 1)
        timings["audit"] = audit["total_s"]
        timings["copy:audit_events"] = audit["copy_s"]
        progress(
            f"  audit chain of {audit['entries']:,} entries in {audit['total_s']}s (waited {timings['audit_wait']}s)"
        )

        mark = time.perf_counter()
        await _parallel(conns, ALLOCATE)
        timings["allocate"] = round(time.perf_counter() - mark, 1)
        progress(f"  allocated in {timings['allocate']}s")

        mark = time.perf_counter()
        await _parallel(
            conns,
            [f'ALTER TABLE audit_events ADD CONSTRAINT "{name}" {definition}' for name, definition in unique]
            + [definition for _, _, definition in indexes],
        )
        timings["indexes"] = round(time.perf_counter() - mark, 1)
        progress(
            f"  rebuilt {len(indexes)} indexes and {len(unique)} unique constraints in {timings['indexes']}s"
        )
        mark = time.perf_counter()
        tables = [
            row[0]
            for row in await conn.fetch(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                " ORDER BY pg_relation_size(oid) DESC"
            )
        ]
        await _parallel(conns, [f'VACUUM (ANALYZE) "{table}"' for table in tables])
        timings["vacuum_analyze"] = round(time.perf_counter() - mark, 1)
        progress(f"  vacuum analyze in {timings['vacuum_analyze']}s")
        counts = {
            table: int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
            for table in COUNTED
        }
        status = {
            row[0]: int(row[1])
            for row in await conn.fetch("SELECT status, count(*) FROM contributions GROUP BY 1 ORDER BY 1")
        }
    finally:
        pool.shutdown(cancel_futures=True)
        for conn in conns:
            await conn.close()
    timings["total"] = round(time.perf_counter() - started, 1)
    return {
        "now": now.isoformat(),
        "params": params.as_dict(),
        "rows": counts,
        "base_people": base_people,
        "people_factor": people_factor,
        "contributions": status,
        "seconds": timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Params()
    parser.add_argument("--dsn", required=True, help="a freshly migrated database (postgresql://...)")
    parser.add_argument("--referrals", type=int, default=defaults.referrals)
    parser.add_argument("--concerns", type=int, default=defaults.concerns)
    parser.add_argument("--base-referrals", type=int, default=defaults.base_referrals)
    parser.add_argument("--base-concerns", type=int, default=defaults.base_concerns)
    parser.add_argument("--audit-entries", type=int, default=defaults.audit_entries)
    parser.add_argument("--people", type=int, default=defaults.people)
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    args = parser.parse_args(argv)
    params = Params(
        referrals=args.referrals, concerns=args.concerns, base_referrals=args.base_referrals,
        base_concerns=args.base_concerns, audit_entries=args.audit_entries, people=args.people,
        days=args.days, seed=args.seed,
    )  # fmt: skip

    def info(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    summary = asyncio.run(seed_large(args.dsn, params, info))
    info(f"seed_large: done in {summary['seconds']['total']}s")
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
