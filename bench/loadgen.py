"""Closed-loop HTTP load generator: N connections, each sending its next request when the last answers.

Run in its own process, separate from the server under test::

    .venv/bin/python -m bench.loadgen --url http://127.0.0.1:8000 --scenario me \
        --set access_token=eyJ... --concurrency 32 --duration 10 --warmup 3

The default client speaks HTTP/1.1 keep-alive over raw asyncio streams (on uvloop): about 0.1 ms of
CPU per request. httpx (``--client httpx``) needs about 1.5 ms with a client per connection and more
with one shared pool; on a 2-core machine shared with the server and PostgreSQL that CPU is taken
from the server being measured, so httpx cannot drive it to saturation (bench/README.md).

Only requests that complete inside the measurement window (after the warm-up) are counted; any
response that is not 2xx, and any connection error or timeout, is an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.scenarios import SCENARIOS, TARGETS, Context, RequestSpec, Scenario, Target

MAX_ERROR_SAMPLES = 5
MAX_HEADER_BYTES = 1 << 20
ERROR_BACKOFF_S = 0.01
WINDOW_MARK = "loadgen: measuring for"


@dataclass
class LoadResult:
    scenario: str
    target: str
    url: str
    client: str
    concurrency: int
    warmup_s: float
    duration_s: float  # the measured window actually achieved
    requests: int  # successful (2xx) responses in the window
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    errors_outside_window: int  # in the warm-up or the drain
    total_requests: int  # including warm-up and the drain after the window
    connections_opened: int
    loadgen_cpu_pct: float  # of one core, over the whole run: is the load generator a bottleneck?
    status_counts: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


class _Recorder:
    def __init__(self, measure_start: float, measure_end: float) -> None:
        self.measure_start = measure_start
        self.measure_end = measure_end
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.errors = 0
        self.errors_outside = 0
        self.total = 0
        self.connections = 0
        self.samples: list[str] = []

    def connection_opened(self) -> None:
        self.connections += 1

    def add(self, end: float, elapsed: float, status: str, error: str | None) -> None:
        self.total += 1
        measured = self.measure_start <= end <= self.measure_end
        if measured:
            self.statuses[status] += 1
        if error is None:
            # Throughput and latency are of successes: fast failures must not flatter either.
            if measured:
                self.latencies.append(elapsed)
            return
        if measured:
            self.errors += 1
        else:  # in the warm-up or the drain after the window: still a failure to report
            self.errors_outside += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(error)


class ProtocolError(Exception):
    pass


class _RawConnection:
    """Just enough HTTP/1.1 for a benchmark: keep-alive, Content-Length or chunked bodies."""

    def __init__(self, host: str, port: int, method: str, path: str, on_open: Callable[[], None]) -> None:
        self.host, self.port, self.method, self.path = host, port, method, path
        self._on_open = on_open
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._cache: tuple[RequestSpec, bytes] | None = None

    async def open(self) -> None:
        self._on_open()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEADER_BYTES)

    def reset(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def aclose(self) -> None:
        self.reset()

    def _encode(self, spec: RequestSpec) -> bytes:
        if self._cache is not None and self._cache[0] is spec:
            return self._cache[1]
        lines = [
            f"{self.method} {self.path}{spec.path_suffix}{spec.query} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "User-Agent: mash-bench",
        ]
        lines += [f"{name}: {value}" for name, value in spec.headers.items()]
        if spec.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(spec.body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + spec.body
        self._cache = (spec, data)
        return data

    async def send(self, spec: RequestSpec) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        reader, writer = self.reader, self.writer
        writer.write(self._encode(spec))
        await writer.drain()  # returns at once unless a large body filled the socket buffer
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            raise ProtocolError(f"bad status line {lines[0][:80]!r}") from None
        length: int | None = None
        chunked = close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            body = await self._read_chunked(reader)
        elif length is not None:
            body = await reader.readexactly(length)
        elif status in (204, 304) or status < 200:
            body = b""
        else:  # no framing: the body runs to the end of the connection
            body, close = await reader.read(), True
        if close:
            self.reset()
        return status, body

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)


class _HttpxConnection:
    """httpx, for comparison: one client (so one connection) per worker, which is its fastest setup."""

    def __init__(self, url: str, method: str, path: str, timeout: float) -> None:
        self.method, self.path = method, path
        self.http = httpx.AsyncClient(base_url=url, timeout=timeout)

    async def send(self, spec: RequestSpec) -> tuple[int, bytes]:
        response = await self.http.request(
            self.method,
            self.path + spec.path_suffix + spec.query,
            headers=dict(spec.headers),
            content=spec.body,
        )
        return response.status_code, response.content

    def reset(self) -> None:
        pass  # httpx drops a broken connection itself

    async def aclose(self) -> None:
        await self.http.aclose()


async def run_load(
    scenario: Scenario,
    target: Target,
    url: str,
    ctx: Context,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    request_timeout: float = 30.0,
    client: str = "raw",
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = scenario.path_for(target)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    start = time.perf_counter()
    recorder = _Recorder(start + warmup, start + warmup + duration)
    stopping = asyncio.Event()

    def connect() -> _RawConnection | _HttpxConnection:
        if client == "httpx":
            return _HttpxConnection(url, scenario.method, path, request_timeout)
        return _RawConnection(host, port, scenario.method, path, recorder.connection_opened)

    sequence = itertools.count()

    async def worker() -> None:
        connection = connect()
        spec = scenario.build(ctx, next(sequence))
        try:
            while not stopping.is_set():
                if scenario.varies:
                    spec = scenario.build(ctx, next(sequence))
                began = time.perf_counter()
                error: str | None = None
                status = "exception"
                try:
                    async with asyncio.timeout(request_timeout):
                        code, body = await connection.send(spec)
                    status = str(code)
                    if not 200 <= code < 300:
                        error = f"HTTP {code}: {body[:300].decode('utf-8', 'replace')}"
                except Exception as exc:  # whatever went wrong is an error to count, not a reason to stop
                    error = f"{type(exc).__name__}: {exc}"[:300]
                    status = type(exc).__name__
                    connection.reset()  # its state is unknown: start afresh
                    await asyncio.sleep(ERROR_BACKOFF_S)  # a refused connection must not become a busy loop
                ended = time.perf_counter()
                recorder.add(ended, ended - began, status, error)
                if ended >= recorder.measure_end:
                    stopping.set()
        finally:
            await connection.aclose()

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(max(0.0, recorder.measure_start - time.perf_counter()))
    # bench/measure.py waits for this line to sample CPU and pg_stat_activity over exactly this window.
    print(f"{WINDOW_MARK} {duration}s", file=sys.stderr, flush=True)
    await asyncio.sleep(max(0.0, recorder.measure_end - time.perf_counter()))
    stopping.set()
    # Let in-flight requests finish (not counted) so the next run starts on an idle server.
    _, pending = await asyncio.wait(tasks, timeout=request_timeout + 1)
    for task in pending:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    cpu = (time.process_time() - cpu_start) / max(time.perf_counter() - wall_start, 1e-9)

    latencies = sorted(recorder.latencies)
    window = recorder.measure_end - recorder.measure_start
    return LoadResult(
        scenario=scenario.name,
        target=target,
        url=url + path,
        client=client,
        concurrency=concurrency,
        warmup_s=warmup,
        duration_s=round(window, 3),
        requests=len(latencies),
        rps=round(len(latencies) / window, 1),
        p50_ms=_percentile_ms(latencies, 0.50),
        p90_ms=_percentile_ms(latencies, 0.90),
        p99_ms=_percentile_ms(latencies, 0.99),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else math.nan,
        mean_ms=round(sum(latencies) / len(latencies) * 1000, 2) if latencies else math.nan,
        errors=recorder.errors,
        errors_outside_window=recorder.errors_outside,
        total_requests=recorder.total,
        connections_opened=recorder.connections if client == "raw" else -1,
        loadgen_cpu_pct=round(cpu * 100, 1),
        status_counts=dict(recorder.statuses),
        error_samples=recorder.samples,
    )


def _percentile_ms(ordered: list[float], q: float) -> float:
    # Nearest rank: an observed latency, never an interpolation between two.
    if not ordered:
        return math.nan
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000, 2)


def _run(coro: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coro)
    # The server runs on uvloop too; the cheaper the client's loop, the more CPU is left for it.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="base URL of the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--target", default="ours", choices=TARGETS, help="which path the scenario uses")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    parser.add_argument("--client", default="raw", choices=("raw", "httpx"))
    parser.add_argument("--context-file", help="JSON object of context values; '-' reads standard input")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a context value")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    ctx: dict[str, str] = {}
    if args.context_file == "-":
        ctx.update(json.load(sys.stdin))
    elif args.context_file:
        with open(args.context_file) as handle:
            ctx.update(json.load(handle))
    for item in args.set:
        key, _, value = item.partition("=")
        ctx[key] = value
    result = _run(
        run_load(
            SCENARIOS[args.scenario],
            args.target,
            args.url.rstrip("/"),
            ctx,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            request_timeout=args.timeout,
            client=args.client,
        )
    )
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(
            f"{result.scenario}@{result.target}: {result.rps} req/s, p50 {result.p50_ms} ms, "
            f"p99 {result.p99_ms} ms, {result.requests} requests, {result.errors} errors "
            f"(+{result.errors_outside_window} outside the window), loadgen CPU {result.loadgen_cpu_pct}%"
        )
        for sample in result.error_samples:
            print(f"  error: {sample}")
    return 1 if result.errors or result.errors_outside_window else 0


if __name__ == "__main__":
    sys.exit(main())
