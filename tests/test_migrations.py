"""Migrations are the only way the schema is made: they must run up, down and up again, and the
models must match what they build."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.core.config import Settings
from app.core.db import create_engine
from app.models import Base
from tests.conftest import ROOT, Databases, alembic_config, migrate


@pytest.fixture
async def empty_url(databases: Databases) -> AsyncIterator[str]:
    url = await databases.empty()
    yield url
    await databases.drop(url)


async def _tables(url: str) -> set[str]:
    engine = create_engine(Settings(_env_file=None, database_url=url))
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _drift(url: str) -> list[object]:
    engine = create_engine(Settings(_env_file=None, database_url=url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_round_trip(empty_url: str) -> None:
    await migrate(empty_url)
    assert set(Base.metadata.tables) <= await _tables(empty_url)

    await asyncio.to_thread(command.downgrade, alembic_config(empty_url), "base")
    assert await _tables(empty_url) == {"alembic_version"}

    await migrate(empty_url)
    assert set(Base.metadata.tables) <= await _tables(empty_url)


async def test_models_match_the_migrations(empty_url: str) -> None:
    await migrate(empty_url)
    assert await _drift(empty_url) == []


def test_migration_files_are_named_by_date_and_slug() -> None:
    files = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert files
    for name in files:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py", name), name


def test_every_migration_can_be_reversed() -> None:
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        source = Path(path).read_text()
        downgrade = source[source.index("def downgrade") :]
        assert "pass\n" not in downgrade.splitlines()[1] + "\n", f"{path.name} has an empty downgrade"
