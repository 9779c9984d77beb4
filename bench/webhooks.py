"""Webhook delivery: throughput (messages/s) and latency (from commit to the receiver, p50 and p99) with
one and two ``mash worker`` processes, on PostgreSQL.

``make bench-webhooks`` (or ``.venv/bin/python bench/webhooks.py --help``). It drops and recreates the
database ``mash_bench_webhooks``, migrates it, starts ``mash serve`` (connected as ``mash_app``, under
row-level security) and a receiver on 127.0.0.1 in this process (it answers 204 at once and notes the
arrival time). For each number of workers:

- **throughput**: with no worker running, police referrals are made (``--backlog`` of them, one
  ``referral.received`` event each) with ``--subscriptions`` police subscriptions, so a backlog of
  backlog x subscriptions messages waits; the workers start, and the rate is messages over the time
  from the first arrival to the last (the workers' start-up is left out);
- **latency**: with the workers running, referrals are made at ``--rate`` a second for
  ``--duration`` seconds; each message's latency runs from the API's 201 for its referral (the
  transaction committed before the answer was sent, so this starts a little after the commit) to its
  arrival at the receiver.

Development settings (``MASH_WEBHOOK_ALLOW_PRIVATE``, since the receiver is local), otherwise the
defaults: ``MASH_WEBHOOK_POLL_INTERVAL_SECONDS`` 0.5 (an idle worker looks for work twice a second,
which bounds the latency at low load), batch 50.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from app.core import clock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/webhooks.py), not only as a module
    sys.path.insert(0, str(ROOT))

from bench.fresh_db import DEFAULT_ADMIN_DSN, fresh_postgres, migrate, sqlalchemy_url  # noqa: E402
from bench.provision import APP_ROLE, ensure_app_role  # noqa: E402
from bench.scenarios import referral_body  # noqa: E402
from bench.servers import free_port, info  # noqa: E402

BIN = Path(sys.executable).parent
DATABASE = "mash_bench_webhooks"


class Receiver:
    """Counts what arrives, by path, with the arrival time of each message (its referral's id)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, dict[str, float]] = {}
        self.event = asyncio.Event()
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.monotonic()
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = next(
                int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length"
            )
            body = await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            record_id = _record_id(body)
            self.arrivals.setdefault(path, {}).setdefault(record_id, arrived)
            self.event.set()
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration):
            pass
        finally:
            writer.close()

    def count(self, paths: list[str], ids: set[str] | None = None) -> int:
        return sum(
            len(ids & set(self.arrivals.get(p, {})) if ids is not None else self.arrivals.get(p, {}))
            for p in paths
        )

    async def wait_for(
        self, paths: list[str], expected: int, ids: set[str] | None = None, within: float = 600
    ) -> None:
        deadline = time.monotonic() + within
        while self.count(paths, ids) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.count(paths, ids)} of {expected} messages arrived")
            self.event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), 1)


def _record_id(body: bytes) -> str:
    import json

    message = json.loads(body)
    return str(message["data"]["record_id"])


def _env(database_url: str, secret: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASH_")}
    env |= {
        "MASH_DATABASE_URL": database_url,
        "MASH_JWT_SECRET": secret,
        "MASH_LOG_LEVEL": "WARNING",
        "MASH_RATE_LIMIT_ENABLED": "false",
        "MASH_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    return env


def _start(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN / "mash"), *arguments], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def _token(env: dict[str, str], agency: str, role: str) -> dict[str, str]:
    done = subprocess.run(
        [str(BIN / "mash"), "token", "--agency", agency, "--role", role, "--sub", f"bench-{role}"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {"Authorization": f"Bearer {done.stdout.strip()}"}


async def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError("mash serve exited during start-up")
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("mash serve was not ready in 60 s")


class Bench:
    def __init__(
        self, args: argparse.Namespace, api: httpx.AsyncClient, receiver: Receiver, env: dict[str, str]
    ) -> None:
        self.args = args
        self.api = api
        self.receiver = receiver
        self.env = env
        self.police = _token(env, "police", "partner_referrer")
        self.serial = 0

    async def refer(self) -> tuple[str, float]:
        self.serial += 1
        answer = await self.api.post(
            "/v1/referrals", json=referral_body(self.serial, clock.today()), headers=self.police
        )
        committed = time.monotonic()
        answer.raise_for_status()
        return str(answer.json()["id"]), committed

    async def subscribe(self, label: str) -> list[str]:
        paths = [f"/{label}/{i}" for i in range(self.args.subscriptions)]
        for path in paths:
            answer = await self.api.post(
                "/v1/webhook-subscriptions",
                json={"url": f"http://127.0.0.1:{self.receiver.port}{path}", "description": f"bench {path}"},
                headers=self.police,
            )
            answer.raise_for_status()
        return paths

    async def backlog(self, count: int) -> None:
        queue = iter(range(count))

        async def maker() -> None:
            for _ in queue:
                await self.refer()

        await asyncio.gather(*(maker() for _ in range(8)))

    def start_workers(self, count: int) -> list[subprocess.Popen[bytes]]:
        return [_start(["worker"], self.env) for _ in range(count)]

    async def run(self, workers: int) -> dict[str, Any]:
        paths = await self.subscribe(f"w{workers}")
        expected = self.args.backlog * len(paths)
        info(f"{workers} worker(s): a backlog of {self.args.backlog} referrals x {len(paths)} subscriptions")
        await self.backlog(self.args.backlog)
        processes = self.start_workers(workers)
        try:
            await self.receiver.wait_for(paths, expected)
            times = sorted(t for p in paths for t in self.receiver.arrivals[p].values())
            throughput = (len(times) - 1) / (times[-1] - times[0])
            info(
                f"  throughput {throughput:,.0f} messages/s; latency at {self.args.rate}/s for {self.args.duration}s"
            )
            committed: dict[str, float] = {}
            # At most 4 referrals under way: a slow API delays the next one instead of piling them up.
            slots = asyncio.Semaphore(4)

            async def one() -> None:
                async with slots:
                    record_id, at = await self.refer()
                committed[record_id] = at

            tasks = []
            started = time.monotonic()
            for n in range(int(self.args.rate * self.args.duration)):
                await asyncio.sleep(max(0.0, started + n / self.args.rate - time.monotonic()))
                await slots.acquire()  # wait for a slot before scheduling the next one
                slots.release()
                tasks.append(asyncio.create_task(one()))
            await asyncio.gather(*tasks)
            achieved = len(committed) / (time.monotonic() - started)
            await self.receiver.wait_for(paths, len(committed) * len(paths), ids=set(committed))
            latencies = sorted(
                (self.receiver.arrivals[p][r] - at) * 1000 for p in paths for r, at in committed.items()
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
        await self._disable_all()  # the next round measures its own subscriptions only
        return {
            "workers": workers,
            "messages": expected,
            "throughput": throughput,
            "latency_messages": len(latencies),
            "rate": achieved,
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1],
        }

    async def _disable_all(self) -> None:
        listed = (
            await self.api.get("/v1/webhook-subscriptions", params={"limit": 200}, headers=self.police)
        ).json()
        for sub in listed["items"]:
            if sub["active"]:
                (
                    await self.api.post(f"/v1/webhook-subscriptions/{sub['id']}/disable", headers=self.police)
                ).raise_for_status()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-dsn", default=os.environ.get("BENCH_ADMIN_DSN", DEFAULT_ADMIN_DSN))
    parser.add_argument("--backlog", type=int, default=300, help="referrals made before the workers start")
    parser.add_argument(
        "--subscriptions", type=int, default=4, help="police subscriptions (messages per event)"
    )
    parser.add_argument("--rate", type=float, default=5.0, help="referrals a second in the latency run")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the latency run")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated")
    args = parser.parse_args()

    owner_dsn = await fresh_postgres(args.admin_dsn, DATABASE)
    owner_url = sqlalchemy_url(owner_dsn)
    await asyncio.to_thread(migrate, owner_url)
    await ensure_app_role(args.admin_dsn)
    scheme, _, rest = owner_url.partition("://")
    app_url = f"{scheme}://{APP_ROLE}@{rest.partition('@')[2]}"
    env = _env(app_url, secrets.token_urlsafe(48))

    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, backlog=1024)
    receiver.port = server.sockets[0].getsockname()[1]
    port = free_port()
    api_process = _start(["serve", "--port", str(port)], env)
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_ready(url, api_process)
        async with httpx.AsyncClient(base_url=url, timeout=60) as api:
            bench = Bench(args, api, receiver, env)
            results = [await bench.run(int(n)) for n in args.workers.split(",")]
    finally:
        api_process.terminate()
        api_process.wait(30)
        server.close()
    print(
        f"\nWebhook delivery ({args.subscriptions} subscriptions; poll interval 0.5 s; batch 50), PostgreSQL:\n"
    )
    print(
        "| workers | backlog messages | throughput (messages/s) | latency run: referrals/s "
        "| messages | p50 (ms) | p99 (ms) | max (ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['workers']} | {r['messages']:,} | {r['throughput']:,.0f} | {r['rate']:.1f} | {r['latency_messages']:,} "
            f"| {r['p50']:,.0f} | {r['p99']:,.0f} | {r['max']:,.0f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
