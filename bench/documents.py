"""Documents: upload and download throughput against a raw file copy, and the server's memory while a
100 MiB file goes up (``make bench-documents``; numbers in bench/README.md).

A real ``mash serve`` (uvicorn, one worker, production settings) on a fresh database (PostgreSQL by
default, ``--database sqlite`` for the embedded one), with ``MASH_DOCUMENT_MAX_BYTES`` raised to fit
the file. The file is a PDF header followed by random bytes (incompressible, and a PDF to libmagic),
written to disk first; it is uploaded as a ``multipart/form-data`` stream read from disk in 1 MiB
pieces (the client holds no more than that either), then downloaded and checked by SHA-256.

- **raw copy**: ``shutil.copyfile`` of the same file on the same disk (page cache warm): the ceiling
  a server that only moves bytes could approach;
- **upload / download**: MiB/s over the whole request, the best of ``--runs``;
- **memory**: the server's RSS (``/proc/<pid>/status`` VmRSS, the process and its children) sampled
  every 10 ms from before the upload starts to its answer; growth = peak - before. Reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from app.core.clock import today
from bench.fresh_db import add_arguments, fresh_database
from bench.scenarios import referral_body
from bench.servers import BIN, RESULTS, Server, free_port, info, run_checked, server_env

MiB = 1024 * 1024
PIECE = MiB
BOUNDARY = "mash-bench-boundary"


def rss_bytes(pid: int) -> int:
    """The resident set of ``pid`` and its descendants (uvicorn may fork), in bytes."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.running = False

    async def run(self) -> None:
        self.running = True
        while self.running:
            self.peak = max(self.peak, rss_bytes(self.pid))
            await asyncio.sleep(0.01)


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        out.write(head)
        digest.update(head)
        left = size - len(head)
        while left > 0:
            piece = os.urandom(min(PIECE, left))
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


async def multipart(path: Path) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    with path.open("rb") as source:
        while piece := source.read(PIECE):
            yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def upload(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], path: Path
) -> tuple[float, dict[str, Any]]:
    headers = {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    started = time.perf_counter()
    response = await http.post(url, content=multipart(path), headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text[:500]}")
    created: dict[str, Any] = response.json()
    return elapsed, created


async def download(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[float, str, int]:
    digest = hashlib.sha256()
    size = 0
    started = time.perf_counter()
    async with http.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"download failed: {response.status_code}")
        async for piece in response.aiter_raw():
            digest.update(piece)
            size += len(piece)
    return time.perf_counter() - started, digest.hexdigest(), size


def raw_copy(path: Path) -> float:
    target = path.with_suffix(".copy")
    started = time.perf_counter()
    shutil.copyfile(path, target)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(
        parser, admin_dsn_help="PostgreSQL superuser DSN (the database mash_bench_documents is recreated)"
    )
    parser.add_argument("--size-mib", type=int, default=100, help="the file's size (default 100 MiB)")
    parser.add_argument("--runs", type=int, default=3, help="uploads and downloads timed (best reported)")
    parser.add_argument("--storage", choices=("database", "filesystem"), default="database")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="documents-", dir=RESULTS))
    size = args.size_mib * MiB
    info(f"writing a {args.size_mib} MiB file")
    path = work / "bench.pdf"
    sha = make_file(path, size)
    database_url = await fresh_database(args, database="mash_bench_documents", sqlite_file=work / "mash.db")
    env = server_env(
        [
            f"MASH_DOCUMENT_MAX_BYTES={size + MiB}",
            f"MASH_DOCUMENT_STORAGE={args.storage}",
            f"MASH_DOCUMENT_DIRECTORY={work / 'documents'}",
            "MASH_BODY_TIMEOUT_SECONDS=300",
        ],
        database_url,
    )
    police = run_checked(
        [str(BIN / "mash"), "token", "--agency", "police", "--role", "partner_referrer"], env, work
    )
    hub = run_checked(
        [str(BIN / "mash"), "token", "--agency", "childrens_social_care", "--role", "mash_practitioner"],
        env,
        work,
    )
    as_police = {"Authorization": f"Bearer {police.strip()}"}
    as_hub = {"Authorization": f"Bearer {hub.strip()}"}
    port = free_port()
    server = Server("ours", [str(BIN / "mash"), "serve", "--port", str(port)], env, work / "server.log", port)
    server.start()
    try:
        await server.wait_ready("/readyz")
        assert server.process is not None
        pid = server.process.pid
        async with httpx.AsyncClient(base_url=server.url, timeout=600) as http:
            made = await http.post("/v1/referrals", json=referral_body(1, today()), headers=as_police)
            if made.status_code != 201:
                raise RuntimeError(f"referral: {made.status_code} {made.text[:300]}")
            url = f"/v1/referrals/{made.json()['id']}/documents"
            # Warm up: the first upload loads libmagic and the parser; not measured.
            small = work / "small.pdf"
            make_file(small, MiB)
            await upload(http, url, as_police, small)
            await asyncio.sleep(0.5)

            copies = [raw_copy(path) for _ in range(args.runs)]
            uploads: list[float] = []
            downloads: list[float] = []
            growths: list[int] = []
            before_rss = 0
            peak_rss = 0
            for _ in range(args.runs):
                before = rss_bytes(pid)
                sampler = Sampler(pid)
                watching = asyncio.create_task(sampler.run())
                elapsed, created = await upload(http, url, as_police, path)
                sampler.running = False
                await watching
                if created["sha256"] != sha or created["size_bytes"] != size:
                    raise RuntimeError("the server stored something else")
                uploads.append(elapsed)
                growths.append(sampler.peak - before)
                before_rss, peak_rss = before, sampler.peak
                took, got_sha, got_size = await download(http, created["content_url"], as_hub)
                if (got_sha, got_size) != (sha, size):
                    raise RuntimeError("the download differs from the upload")
                downloads.append(took)
    finally:
        server.stop()

    def rate(seconds: list[float]) -> float:
        return float(args.size_mib / min(seconds))

    result = {
        "database": args.database,
        "storage": args.storage,
        "size_mib": args.size_mib,
        "runs": args.runs,
        "raw_copy_mib_s": round(rate(copies), 1),
        "upload_mib_s": round(rate(uploads), 1),
        "download_mib_s": round(rate(downloads), 1),
        "rss_before_mib": round(before_rss / MiB, 1),
        "rss_peak_mib": round(peak_rss / MiB, 1),
        "rss_growth_mib_max": round(max(growths) / MiB, 1),
        "rss_growth_mib_each": [round(g / MiB, 1) for g in growths],
    }
    (RESULTS / f"documents-{args.database}-{args.storage}.json").write_text(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(
        f"\n| {args.database} / {args.storage} | raw copy {result['raw_copy_mib_s']} MiB/s | upload "
        f"{result['upload_mib_s']} MiB/s | download {result['download_mib_s']} MiB/s | RSS growth during a "
        f"{args.size_mib} MiB upload: {result['rss_growth_mib_max']} MiB (max of {args.runs}) |",
        file=sys.stderr,
    )


if __name__ == "__main__":
    asyncio.run(main())
