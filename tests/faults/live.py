"""A throwaway PostgreSQL cluster and a real `mash serve` process, for tests that break things.

The cluster is ``initdb``-ed into a temporary folder and listens on a spare port (and a socket in that
folder), so stopping it never touches the shared server the rest of the suite uses. PostgreSQL refuses
to run as root: as root, its commands run as the ``postgres`` OS user, who owns the folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import ROOT
from tests.fixtures.pgbouncer import PgBouncer, through
from tests.fixtures.servers import free_port, wait_ready

PG_BIN = Path(os.environ.get("MASH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class Cluster:
    """One PostgreSQL cluster of our own: ``start()``, ``stop()``, ``start()`` again, ``destroy()``."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mash-fault-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self._as_postgres: list[str] = []
        self.pooler: PgBouncer | None = None
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start_pooler(self) -> None:
        """Put a PgBouncer in transaction mode in front of this cluster (`make test-pooled`)."""
        self.pooler = PgBouncer(self.dir / "pgbouncer", free_port(), "127.0.0.1", self.port)
        self.pooler.start()

    def served_env(self, database: str) -> dict[str, str]:
        """The MASH_ database settings of a server on ``database``: through the PgBouncer if started."""
        url = self.url(database)
        if self.pooler is None:
            return {"MASH_DATABASE_URL": url}
        return {
            "MASH_DATABASE_URL": through(url, f"127.0.0.1:{self.pooler.port}"),
            "MASH_MIGRATION_DATABASE_URL": url,
            "MASH_DATABASE_POOLER": "pgbouncer",
        }

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._as_postgres, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{args[0]} failed: {result.stdout}\n{result.stderr}"

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.dir}'",
            "max_connections": "60",
            # Durable enough: the OS never crashes here, only PostgreSQL is stopped.
            "fsync": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash: backends die mid-transaction, clients get no goodbye."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def _processes(self) -> list[int]:
        """The postmaster of this cluster and its children (read from /proc, nothing else)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """A database that stops answering without closing anything: a hung host or a partition."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._processes():
            os.kill(pid, signal.SIGCONT)

    def create_database(self, name: str) -> None:
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def destroy(self) -> None:
        if self.pooler is not None:
            self.pooler.stop()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ProcessLookupError):
                self.thaw()  # a test that failed while it was frozen: a stopped postmaster ignores pg_ctl
            subprocess.run(
                [*self._as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """``mash serve`` in a subprocess, its JSON log lines kept in a file."""

    def __init__(self, env: Mapping[str, str], log: Path, workers: int = 1) -> None:
        self.env = dict(env)
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        mash = str(Path(sys.executable).parent / "mash")
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                mash, "serve", "--port", str(self.port), "--workers", str(self.workers),
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        await self.wait_ready(within=90)  # a worker takes seconds to import the app on a busy host

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def wait_ready(self, within: float) -> None:
        """Poll /readyz until it says 200; fail if the server exits or ``within`` seconds pass."""
        await wait_ready(self.origin, within, self._exited)

    def _exited(self) -> str | None:
        return None if self.alive() else f"the server exited: {self.log.read_text()[-2000:]}"

    async def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
