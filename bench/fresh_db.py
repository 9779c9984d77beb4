"""A fresh, migrated database for the benchmarks that make their own (ratelimit.py, audit_verify.py,
matching_db.py): a PostgreSQL database dropped and created through a superuser connection, or a SQLite
file deleted first, then ``mash migrate``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_arguments(parser: argparse.ArgumentParser, *, admin_dsn_help: str) -> None:
    """``--database postgresql|sqlite`` and ``--admin-dsn`` (default: env BENCH_ADMIN_DSN)."""
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--admin-dsn", default=os.environ.get("BENCH_ADMIN_DSN", DEFAULT_ADMIN_DSN), help=admin_dsn_help
    )


def migrate(database_url: str) -> None:
    """``mash migrate`` on ``database_url``, with none of this process's other MASH_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASH_")}
    env["MASH_DATABASE_URL"] = database_url
    done = subprocess.run(
        [str(BIN / "mash"), "migrate"], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"mash migrate failed:\n{done.stderr[-2000:]}")


def fresh_sqlite(path: Path) -> str:
    """Delete the SQLite file (and its -wal and -shm); the URL the application opens it by."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def fresh_postgres(admin_dsn: str, database: str) -> str:
    """Drop and create ``database``; its DSN (asyncpg's form), on the admin connection's server."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return f"{admin_dsn.rpartition('/')[0]}/{database}"


def sqlalchemy_url(dsn: str) -> str:
    """The application's URL for a PostgreSQL DSN (the asyncpg driver)."""
    return "postgresql+asyncpg://" + dsn.partition("://")[2]


async def fresh_database(args: argparse.Namespace, *, database: str, sqlite_file: Path) -> str:
    """The database ``--database`` names, made afresh and migrated; the application's URL for it."""
    if args.database == "sqlite":
        database_url = fresh_sqlite(sqlite_file)
    else:
        database_url = sqlalchemy_url(await fresh_postgres(args.admin_dsn, database))
    await asyncio.to_thread(migrate, database_url)
    return database_url
