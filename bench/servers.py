"""The benchmark's processes: a target's server (start, readiness, stop), the settings it runs with,
free ports, and the ``mash`` commands run along the way.

Shared by bench/run.py and bench/reports.py. A server runs in its own session, in the results folder,
with only the ``MASH_*`` variables set here: neither the caller's shell nor a ``.env`` changes what is
measured. Servers still running at exit are stopped, whatever the path out.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from app.core.config import Settings
from bench.scenarios import Target

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # reports, and the servers' logs and working directories
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_checked(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


@dataclass(eq=False)
class Server:
    name: Target
    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: TextIO | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        _LIVE.add(self)
        self.log = self.log_path.open("w")
        # Its own session: Ctrl-C reaches only us, and we stop the server in order.
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.log_path.parent,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None
        _LIVE.discard(self)

    async def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited during start-up; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(path)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready after {STARTUP_TIMEOUT_S:.0f}s; see {self.log_path}")


# Servers still running: stopped at exit whatever the path out (an exception, Ctrl-C, SIGTERM).
_LIVE: set[Server] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(extra: Iterable[str], database_url: str) -> dict[str, str]:
    """The environment of a server: production settings on ``database_url``, then ``extra``
    (``MASH_X=VALUE`` items, from ``--server-env``)."""
    # Only what we set: a developer's MASH_* variables or .env must not change what is measured.
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASH_")}
    defaults = Settings.model_fields
    env |= {
        "MASH_ENVIRONMENT": "production",
        "MASH_DATABASE_URL": database_url,
        "MASH_JWT_SECRET": secrets.token_urlsafe(48),
        "MASH_LOG_LEVEL": "INFO",
        # The production defaults, spelled out so a .env or shell variable cannot cheapen them.
        "MASH_ARGON2_TIME_COST": str(defaults["argon2_time_cost"].default),
        "MASH_ARGON2_MEMORY_KIB": str(defaults["argon2_memory_kib"].default),
        "MASH_ARGON2_PARALLELISM": str(defaults["argon2_parallelism"].default),
        # One client sends every request: each is counted, as in production, but none refused.
        "MASH_RATE_LIMIT_REQUESTS": str(10**9),
        "MASH_RATE_LIMIT_TOKEN_REQUESTS": str(10**9),
        "MASH_RATE_LIMIT_TOKEN_CLIENT_REQUESTS": str(10**9),
    }
    for item in extra:
        key, _, value = item.partition("=")
        env[key] = value
    return env
