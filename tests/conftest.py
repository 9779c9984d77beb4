"""Test fixtures: a real database per test, the real application over ASGI, real tokens.

Every test gets its own freshly migrated database, cloned from a template migrated once per run
(SQLite: a file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE). Tests therefore exercise the real
commit path, real concurrency and the real triggers, which an outer rolled-back transaction would
hide. Set MASH_TEST_POSTGRES_URL (an admin URL such as
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) to run the suite on PostgreSQL.

On PostgreSQL the databases are migrated as that admin (the tables' owner) and the application
connects as ``mash_app``, a login role owning nothing, as in production: row-level security applies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.main import create_app
from tests.fixtures.callers import TokenFactory as TokenFactory
from tests.fixtures.http import asgi_client
from tests.fixtures.pgbouncer import through

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("MASH_TEST_POSTGRES_URL")
# host:port of a transaction-mode PgBouncer in front of MASH_TEST_POSTGRES_URL's server (`make
# test-pooled`): the applications under test then connect through it, as several instances would.
PGBOUNCER = os.environ.get("MASH_TEST_PGBOUNCER") if POSTGRES_URL else None
# With a number N: `client` is an HTTP client of N `mash serve` processes on the test's database (through
# PgBouncer when set), taking turns request by request, instead of the application in process.
SERVERS = int(os.environ.get("MASH_TEST_SERVERS") or 0)
BACKEND = "postgresql" if POSTGRES_URL else "sqlite"
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
_counter = itertools.count()
APP_ROLE = "mash_app"  # the role the application connects as (migration 20261127_row_security)

# The shared fixtures (callers, people): see tests/fixtures/__init__.py.
pytest_plugins = ["tests.fixtures.callers", "tests.fixtures.people", "tests.fixtures.tokens"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fault: breaks a throwaway PostgreSQL cluster of its own (`make test-faults`, i.e. `pytest -m fault`);"
        " deselected unless selected with -m",
    )


def _deselected(config: pytest.Config, item: pytest.Item) -> bool:
    # PostgreSQL-only tests are deselected on SQLite (and counted as such), never skipped. Fault tests
    # start their own cluster and take a minute: they run only when asked for (`-m fault`).
    if BACKEND == "sqlite" and item.get_closest_marker("postgres") is not None:
        return True
    # The restore drill (`-m restore`) likewise: it dumps and restores a database of its own.
    selected = config.option.markexpr or ""
    return any(item.get_closest_marker(m) is not None and m not in selected for m in ("fault", "restore"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept = [item for item in items if not _deselected(config, item)]
    deselected = [item for item in items if _deselected(config, item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_report_header() -> str:
    return f"mash-api test database: {BACKEND}"


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


async def migrate(url: str, revision: str = "head") -> None:
    # env.py runs its own event loop; give it a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


def _pg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _pg_admin(sql: str) -> None:
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(_pg_dsn(POSTGRES_URL))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _create_app_role() -> None:
    # Cluster-wide and shared by every test database; trust authentication, so no password. The lock
    # serialises pytest-xdist's workers: two concurrent ALTER ROLEs fail ("tuple concurrently updated").
    await _pg_admin(
        f"""
        DO $$ BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('mash tests: {APP_ROLE}'));
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} LOGIN;
            ELSIF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                ALTER ROLE {APP_ROLE} LOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )


def app_url(owner_url: str) -> str:
    """The same database, as the application role (PostgreSQL; SQLite has no roles)."""
    url = make_url(owner_url)
    if url.get_backend_name() != "postgresql":
        return owner_url
    return url.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


async def _drop_stale_pg_databases() -> None:
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(_pg_dsn(POSTGRES_URL))
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database"
            " WHERE datname LIKE 'mash\\_test\\_%' OR datname LIKE 'mash\\_tpl\\_%'"
        )
        for (name,) in names:
            pid = int(name.split("_")[2])
            if not _pid_alive(pid):
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


class Databases:
    """Makes fresh, migrated databases for tests by cloning one migrated template."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pid = os.getpid()
        self.template: str | None = None

    def _sqlite_url(self, path: Path) -> str:
        return f"sqlite+aiosqlite:///{path}"

    def _pg_url(self, name: str) -> str:
        assert POSTGRES_URL is not None
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    async def prepare_template(self) -> None:
        if BACKEND == "sqlite":
            path = self.workdir / "template.db"
            await migrate(self._sqlite_url(path))
            self.template = str(path)
        else:
            await _drop_stale_pg_databases()
            await _create_app_role()
            name = f"mash_tpl_{self.pid}"
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await _pg_admin(f'CREATE DATABASE "{name}"')
            await migrate(self._pg_url(name))
            self.template = name

    async def empty(self) -> str:
        """A new database with no schema at all (for migration tests)."""
        n = next(_counter)
        if BACKEND == "sqlite":
            return self._sqlite_url(self.workdir / f"empty_{n}.db")
        name = f"mash_test_{self.pid}_{n}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        return self._pg_url(name)

    async def clone(self) -> str:
        assert self.template is not None
        n = next(_counter)
        if BACKEND == "sqlite":
            path = self.workdir / f"test_{n}.db"
            shutil.copyfile(self.template, path)
            return self._sqlite_url(path)
        name = f"mash_test_{self.pid}_{n}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self._pg_url(name)

    async def drop(self, url: str) -> None:
        if BACKEND == "sqlite":
            path = Path(make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    async def close(self) -> None:
        if BACKEND == "postgresql" and self.template is not None:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    await dbs.prepare_template()
    yield dbs
    await dbs.close()


@pytest.fixture
async def database_url(databases: Databases) -> AsyncIterator[str]:
    url = await databases.clone()
    yield url
    await databases.drop(url)


def served_database(database_url: str, pooler: str | None = None) -> dict[str, str]:
    """The database settings of an application on ``database_url`` (an owner's URL): as the application
    role, through the PgBouncer at ``pooler`` (host:port; default: the suite's, if any); migrated
    directly, as the owner."""
    pooler = pooler or PGBOUNCER
    url = app_url(database_url)
    if pooler is None or make_url(url).get_backend_name() != "postgresql":
        return {"database_url": url, "migration_database_url": database_url}
    return {
        "database_url": through(url, pooler),
        "migration_database_url": database_url,
        "database_pooler": "pgbouncer",
    }


def served_env(database_url: str, pooler: str | None = None) -> dict[str, str]:
    """``served_database`` as the MASH_ variables of a ``mash serve`` process."""
    return {f"MASH_{name.upper()}": value for name, value in served_database(database_url, pooler).items()}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for an application on ``database_url`` (an owner's URL, as the fixtures make them):
    it connects as the application role and migrates as the owner."""
    values: dict[str, Any] = {
        **served_database(database_url),
        "environment": "development",
        "jwt_secret": TEST_SECRET,
        # Cheap hashing keeps the suite fast; production cost is a setting, tested in bench/.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "argon2_parallelism": 1,
        "db_pool_size": 20,
        "db_max_overflow": 40,
        # Ordinary tests make many requests as one client; the rate limit tests set their own limits.
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: FastAPI, settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    if SERVERS:
        async with live_servers(settings, SERVERS, tmp_path) as http:
            yield http
        return
    async with asgi_client(app) as http:
        yield http


def _live_env(settings: Settings) -> dict[str, str]:
    """The MASH_ variables of a server with ``settings``: each one the settings were given."""
    env = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, BaseModel):
            value = value.model_dump_json()
        elif isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        env[f"MASH_{name.upper()}"] = str(value)
    return env


@asynccontextmanager
async def live_servers(settings: Settings, count: int, logs: Path) -> AsyncIterator[httpx.AsyncClient]:
    """``count`` `mash serve` processes with ``settings``; yields a client sending each request to the
    next server in turn (as a load balancer would), its base URL that of the in-process client."""
    from tests.faults.live import Server

    env = {**os.environ, **_live_env(settings), "MASH_DB_POOL_SIZE": "10", "PYTHONUNBUFFERED": "1"}
    servers = [Server(env, logs / f"server-{n}.log") for n in range(count)]
    try:
        await asyncio.gather(*(server.start() for server in servers))
        transport = RoundRobin([server.port for server in servers])
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
            yield http
    finally:
        await asyncio.gather(*(server.stop() for server in servers))


class RoundRobin(httpx.AsyncBaseTransport):
    """Sends each request to the next of ``ports`` on 127.0.0.1, keeping its Host header."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._transport = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=next(self._ports))
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()
