"""No JIT compilation in the application's transactions (app.core.db.context_sql): a statement planned
dear enough to pass jit_above_cost is compiled on each execution, and for the hub's overdue page, so
planned under row-level security, compiling cost more PostgreSQL CPU than running it (bench/README.md)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core import db
from app.models.referral import Referral

pytestmark = pytest.mark.postgres

HUB: db.DbContext = ("childrens_social_care", "mash_practitioner")
_JIT = sa.text("SELECT current_setting('jit')")


async def test_every_transaction_of_a_session_runs_without_jit(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:  # the system context, as the CLI's
        assert await session.scalar(_JIT) == "off"
        db.set_context(session, HUB)
        await db.release(session)
        assert await session.scalar(_JIT) == "off"
        await db.release(session)
        await db.begin_read_only(session)
        assert await session.scalar(_JIT) == "off"
    async with app.state.sessionmaker() as session:
        db.set_context(session, None)  # a request whose caller is not known yet
        assert await session.scalar(_JIT) == "off"


async def test_a_statement_planned_past_the_jit_threshold_is_not_compiled(app: FastAPI) -> None:
    page = sa.select(Referral.id).order_by(Referral.received_at.desc()).limit(51)
    async with app.state.sessionmaker() as session:
        db.set_context(session, HUB)
        # Every plan past the thresholds, as a dear one is on a large database.
        for setting in ("jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost"):
            await session.execute(sa.text(f"SET LOCAL {setting} = 0"))
        compiled = page.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = await session.scalar(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"))
    explained = plan if isinstance(plan, list) else json.loads(plan)
    assert "JIT" not in explained[0]
    assert explained[0]["Plan"]["Node Type"] == "Limit"
