"""Replicas that start together each run `mash migrate` (the Docker image does, before serving): the
migrations must run once, whichever replica gets there first, and every replica must start."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, Databases, alembic_config

pytestmark = pytest.mark.postgres


async def test_replicas_migrating_one_database_at_once_all_start(databases: Databases) -> None:
    url = await databases.empty()
    mash = str(Path(sys.executable).parent / "mash")
    env = {**os.environ, "MASH_DATABASE_URL": url}
    try:
        migrations = [
            await asyncio.create_subprocess_exec(
                mash,
                "migrate",
                cwd=ROOT,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        outputs = await asyncio.wait_for(asyncio.gather(*(m.communicate() for m in migrations)), 300)
        assert [m.returncode for m in migrations] == [0, 0, 0], [err.decode()[-1500:] for _, err in outputs]
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
            assert await connection.fetchval("SELECT version_num FROM alembic_version") == head
            assert await connection.fetchval("SELECT count(*) FROM audit_chain_head") == 1
        finally:
            await connection.close()
    finally:
        await databases.drop(url)
