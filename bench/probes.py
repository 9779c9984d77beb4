"""The requests too heavy for a load test: sent to mash-api one at a time, ``--probe-runs`` times after
one unmeasured, with the auditor's token, and timed (p50, p99 of a handful, fastest, a rate).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx

from bench.servers import Server

PROBE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Probe:
    """A request too heavy for a load test: sent to mash-api one at a time, ``--probe-runs`` times after
    one unmeasured, with the auditor's token. No ceiling: there is no raw-SQL twin to compare with."""

    name: str
    description: str
    path: str
    params: dict[str, str]
    # The rows it processed, from its answer, for a rate (rows/s); None: no rate.
    rows: Callable[[dict[str, Any]], int] | None = None


def last_complete_year(today: date) -> int:
    """The latest reporting year (1 April - 31 March) that has ended: the seeded data covers it."""
    return (today.year if today.month >= 4 else today.year - 1) - 1


PROBES: dict[str, Probe] = {
    probe.name: probe
    for probe in (
        Probe(
            "audit_verify",
            "GET /v1/audit-events/verification: recompute the whole hash chain (seeded + this run's)",
            "/v1/audit-events/verification",
            {},
            rows=lambda body: int(body["checked"]),
        ),
        Probe(
            "sac_report",
            "GET /v1/reports/sac: SAC tables SG1-SG4 for the last complete reporting year (JSON)",
            "/v1/reports/sac",
            {"year": str(last_complete_year(datetime.now(UTC).date()))},
        ),
    )
}


async def run_probe(probe: Probe, server: Server, ctx: dict[str, str], runs: int) -> dict[str, Any]:
    token = await asyncio.to_thread(
        _fetch_token_for, server, ctx["auditor_client_id"], ctx["auditor_client_secret"]
    )
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    timings: list[float] = []
    result: dict[str, Any] = {"runs": runs, "params": probe.params, "errors": 0, "error_samples": []}
    async with httpx.AsyncClient(base_url=server.url, timeout=PROBE_TIMEOUT_S) as http:
        for attempt in range(runs + 1):  # the first unmeasured: caches, plans, the pool's connections
            started = time.perf_counter()
            response = await http.get(probe.path, params=probe.params, headers=headers)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                result["errors"] += 1
                result["error_samples"].append(f"{response.status_code} {response.text[:300]}")
                continue
            if attempt == 0:
                continue
            timings.append(elapsed)
            result["bytes"] = len(response.content)
            if probe.rows is not None:
                body = response.json()
                result["rows"] = probe.rows(body)
                result["valid"] = body.get("valid")
    if timings:
        ordered = sorted(timings)
        result |= {
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            # Nearest rank: of a handful of requests, p99 is the slowest.
            "p99_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000, 1),
            "min_ms": round(ordered[0] * 1000, 1),
        }
        if "rows" in result:
            result["rows_per_s"] = round(result["rows"] / statistics.median(ordered))
    return result


def _fetch_token_for(server: Server, client_id: str, client_secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    response = httpx.post(f"{server.url}/oauth/token", data=form, timeout=60.0)
    response.raise_for_status()
    return str(response.json()["access_token"])
