"""Behind a transaction-mode pooler (PgBouncer) a prepared statement must not outlive its transaction:
the next transaction of the same client runs on another server connection. A named statement left
behind piles up on a server connection PgBouncer lends to others, and asyncpg closes it later without
any timeout (a frozen server then held the request until it came back: tests/faults)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import create_engine, create_sessionmaker
from app.models.referral import Referral
from tests.conftest import make_settings

pytestmark = pytest.mark.postgres


async def test_statements_through_a_pooler_leave_no_named_statement_on_the_server(database_url: str) -> None:
    # Straight to PostgreSQL, so that every transaction below runs on one server connection and
    # pg_prepared_statements shows what the earlier ones left on it.
    engine = create_engine(make_settings(database_url, database_pooler="pgbouncer"))
    try:
        async with create_sessionmaker(engine)() as session:
            for _ in range(3):
                await session.execute(sa.select(Referral.id).where(Referral.id.is_(None)))
                await session.execute(sa.text("SELECT 1"))
                await session.commit()
            left = (await session.execute(sa.text("SELECT name FROM pg_prepared_statements"))).scalars().all()
            await session.commit()
    finally:
        await engine.dispose()
    assert left == []
