"""Alembic environment, async.

The URL is, in order: a connection handed in by the caller (``config.attributes["connection"]``,
used by tests), ``config.attributes["url"]``, then the application settings
(MASH_MIGRATION_DATABASE_URL, the tables' owner, defaulting to MASH_DATABASE_URL).
SQLite needs "batch" mode to alter tables.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import Settings
from app.core.db import create_engine
from app.models import Base
from app.models.base import UTCDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import application code: write UTCDateTime as the column type it stores.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> dict[str, Any]:
    return {
        "connection": connection,
        "target_metadata": target_metadata,
        "render_as_batch": connection.dialect.name == "sqlite",
        # The application's engine begins SQLite transactions explicitly, so DDL is transactional
        # there too: a failed migration leaves nothing half-done.
        "transactional_ddl": True,
        "compare_type": True,
        "render_item": _render_item,
        "transaction_per_migration": True,
    }


def do_run_migrations(connection: Connection) -> None:
    context.configure(**_configure(connection))
    with context.begin_transaction():
        context.run_migrations()


# Replicas that start together each run `mash migrate` (the Docker image does): on PostgreSQL they
# take turns on this session advisory lock, so the first migrates and the others find nothing to do.
MIGRATION_LOCK_ID = 0x6D617368_6D696772  # "mashmigr"
MIGRATION_LOCK_WAIT_SECONDS = 600


async def _wait_for_migration_lock(connection: AsyncConnection) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MIGRATION_LOCK_WAIT_SECONDS
    # Polled rather than waited on, so that statement_timeout does not cut a long wait short.
    while not await connection.scalar(sa.select(sa.func.pg_try_advisory_lock(MIGRATION_LOCK_ID))):
        await connection.rollback()
        if loop.time() > deadline:
            raise SystemExit("another `mash migrate` held the migration lock for too long")
        await asyncio.sleep(0.5)
    await connection.commit()  # the lock belongs to the session and outlives this transaction


async def run_async_migrations(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await _wait_for_migration_lock(connection)
                # Row-level security is forced on the owner too: a data migration works as the system,
                # for the whole session (set_config(..., false)).
                await connection.exec_driver_sql(
                    "SELECT set_config('mash.agency', 'system', false), set_config('mash.role', 'system', false)"
                )
                await connection.commit()
            await connection.run_sync(do_run_migrations)
            await connection.commit()
            if connection.dialect.name == "postgresql":
                await connection.scalar(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_ID)))
                await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = config.attributes.get("url") or Settings().migration_url
    asyncio.run(run_async_migrations(Settings(database_url=url)))


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
