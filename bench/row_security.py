"""Micro-benchmark: what the row-level security context costs each transaction.

Runs short transactions (BEGIN, one primary-key read of a referral, COMMIT) through the application's
own engine and sessions, as the application role ``mash_app``, in three ways:

- ``no context``: nothing set (the cost floor; such a transaction sees no case rows);
- ``in BEGIN``: the caller's context sent in the same message as BEGIN (what ``app.core.db`` does);
- ``own statement``: the context as a separate ``SELECT set_config(...)`` (one more round trip).

It also times a partner's and the hub's first page of ``GET /v1/referrals``'s query and of the change
feed's, with and without the policies (the latter as the owner, a superuser here), on ``--referrals``
seeded referrals (one event each; a fifth of them the police's).

    .venv/bin/python -m bench.row_security [--admin-dsn postgresql://postgres@127.0.0.1:5432/postgres]

It creates and drops the database ``mash_bench_rls``. Not a load test: one connection, sequential.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import db
from app.core.auth import Principal
from app.core.config import Settings
from app.core.scopes import AgencyCode, Role
from app.governance.feed import repository as feed_repository
from app.models.referral import Referral

DATABASE = "mash_bench_rls"
POLICE: db.DbContext = ("police", "partner_referrer")
HUB: db.DbContext = ("childrens_social_care", "mash_practitioner")
AGENCIES = ["police", "health", "education", "housing", "probation"]


async def _admin(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _seed(owner_dsn: str, referrals: int) -> uuid.UUID:
    connection = await asyncpg.connect(owner_dsn)
    try:
        start = datetime(2026, 1, 5, 9, tzinfo=UTC)
        rows = [
            (
                uuid.uuid4(),
                AGENCIES[n % len(AGENCIES)],
                start + timedelta(minutes=n),
            )
            for n in range(referrals)
        ]
        await connection.executemany(
            """
            INSERT INTO referrals (id, status, referring_agency, referred_by, received_at, referrer,
                referral_source, concern_categories, concern_summary, parents_informed, parents_consented,
                do_not_inform_parents, statutory_decision_due_at, decision_due_at, created_at, version)
            VALUES ($1, 'received', $2, 'bench', $3, '{"name": "Bench"}', '6', '["neglect"]', 'Seeded.',
                true, true, false, $3::timestamptz + interval '1 day', $3::timestamptz + interval '1 day', $3, 1)
            """,
            rows,
        )
        # One event per referral, as the change feed would hold after each was received.
        await connection.executemany(
            """
            INSERT INTO case_events (seq, id, occurred_at, aggregate_type, aggregate_id, event_type,
                actor_sub, actor_agency, actor_role, data)
            VALUES ($1, $2, $3, 'referral', $4, 'referral.received', 'bench', $5, 'partner_referrer', '{}')
            """,
            [(n + 1, uuid.uuid4(), received, rid, agency) for n, (rid, agency, received) in enumerate(rows)],
        )
        await connection.execute("ANALYZE")  # as production would have statistics
        return rows[0][0]
    finally:
        await connection.close()


async def _time(label: str, work: Callable[[], Awaitable[None]], rounds: int, per_round: int) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(per_round):
            await work()
        samples.append((time.perf_counter() - began) / per_round * 1e6)
    median = statistics.median(samples)
    print(f"  {label:<44} {median:8.1f} µs  (min {min(samples):.1f}, max {max(samples):.1f})")
    return median


# Who reads, timed in this order: a partner and the hub, each under the policies and then as the owner.
READERS: list[tuple[str, db.DbContext, bool]] = [
    ("police, with policies", POLICE, False),
    ("police, owner (no policies)", POLICE, True),
    ("hub, with policies", HUB, False),
    ("hub, owner (no policies)", HUB, True),
]


async def _time_readers(
    work: Callable[[db.DbContext, bool], Callable[[], Awaitable[None]]], rounds: int, per_round: int
) -> None:
    """``_time`` of ``work(context, owner)`` for each of READERS."""
    for label, context, owner in READERS:
        await _time(label, work(context, owner), rounds, per_round)


async def run(admin_dsn: str, referrals: int, rounds: int, per_round: int) -> None:
    owner_url = make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=DATABASE)
    owner = owner_url.render_as_string(hide_password=False)
    app = owner_url.set(username="mash_app", password=None).render_as_string(hide_password=False)
    plain_owner_dsn = owner_url.set(drivername="postgresql").render_as_string(hide_password=False)
    await _admin(admin_dsn, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await _admin(admin_dsn, f'CREATE DATABASE "{DATABASE}"')
    await _admin(
        admin_dsn,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mash_app') THEN "
        "CREATE ROLE mash_app LOGIN; END IF; END $$",
    )
    try:
        config = Config("alembic.ini")
        config.attributes["url"] = owner
        config.attributes["configure_logger"] = False
        await asyncio.to_thread(command.upgrade, config, "head")
        referral_id = await _seed(plain_owner_dsn, referrals)
        await _measure(app, owner, referral_id, rounds, per_round)
    finally:
        await _admin(admin_dsn, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


async def _measure(app_url: str, owner_url: str, referral_id: uuid.UUID, rounds: int, per_round: int) -> None:
    engine = db.create_engine(Settings(_env_file=None, database_url=app_url, db_pool_size=1))
    owner_engine = db.create_engine(Settings(_env_file=None, database_url=owner_url, db_pool_size=1))
    sessions = db.create_sessionmaker(engine)
    owner_sessions = db.create_sessionmaker(owner_engine)
    read = sa.select(Referral.id).where(Referral.id == referral_id)

    async def transaction(context: db.DbContext, separate: bool = False) -> None:
        async with sessions() as session:
            db.set_context(session, None if separate else context)
            if separate:
                await session.execute(sa.text(db.context_sql(context).rstrip(";")))
            await session.execute(read)
            await session.commit()

    # Check what each way sees before timing it.
    async with sessions() as session:
        db.set_context(session, POLICE)
        assert await session.scalar(read) == referral_id, "the police made the first referral"
    try:
        print(
            f"Per transaction (BEGIN, a primary-key read, COMMIT), median of {rounds} rounds of {per_round}:"
        )
        floor = await _time("no context", lambda: transaction(None), rounds, per_round)
        begin = await _time("context in BEGIN (app.core.db)", lambda: transaction(POLICE), rounds, per_round)
        own = await _time(
            "context as its own statement", lambda: transaction(POLICE, True), rounds, per_round
        )
        print(f"  → in BEGIN: {begin - floor:+.1f} µs; own statement: {own - floor:+.1f} µs per transaction")

        print("First page (50) of the referral list, newest first, the app's own filter included:")

        def page(context: db.DbContext, owner: bool = False) -> Callable[[], Awaitable[None]]:
            async def work() -> None:
                async with (owner_sessions if owner else sessions)() as session:
                    db.set_context(session, context)
                    stmt = sa.select(Referral).order_by(Referral.received_at.desc(), Referral.id.desc())
                    if context is POLICE:
                        stmt = stmt.where(Referral.referring_agency == "police")
                    rows = (await session.scalars(stmt.limit(50))).all()
                    assert len(rows) == 50
                    await session.commit()

            return work

        await _time_readers(page, rounds, per_round // 10 or 1)

        print("A page (50) of the change feed from its start (app.governance.feed.repository.page):")

        def feed(context: db.DbContext, owner: bool = False) -> Callable[[], Awaitable[None]]:
            assert context is not None

            async def work() -> None:
                async with (owner_sessions if owner else sessions)() as session:
                    db.set_context(session, context)
                    caller = Principal("bench", AgencyCode(context[0]), Role(context[1]), frozenset())
                    rows = await feed_repository.page(session, caller, 0, 10**9, 50)
                    assert len(rows) == 50
                    await session.commit()

            return work

        await _time_readers(feed, rounds, per_round // 10 or 1)
        await _explain(sessions)
    finally:
        await engine.dispose()
        await owner_engine.dispose()


async def _explain(sessions: Callable[[], AsyncSession]) -> None:
    async with sessions() as session:
        db.set_context(session, POLICE)
        plan = await session.execute(
            sa.text(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM referrals"
                " ORDER BY received_at DESC, id DESC LIMIT 50"
            )
        )
        print("Police, an unfiltered page (the policy alone):")
        for (line,) in plan:
            print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--referrals", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(run(args.admin_dsn, args.referrals, args.rounds, args.per_round))


if __name__ == "__main__":
    main()
