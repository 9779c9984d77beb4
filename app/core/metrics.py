"""Prometheus metrics: request counts and latency by route template and status.

With several worker processes (``mash serve --workers N``) each process counts its own requests, and a
scrape reaches only one of them. So ``mash serve`` runs its workers in prometheus_client's multiprocess
mode: every process writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder of its
own unless that variable is set) and ``/metrics`` answers the sum over every worker, living or
replaced. Several instances (hosts, containers) are several scrape targets, summed by Prometheus.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# The methods counted by name. Any other a client sends (each answered 405 or 404) is counted as
# "OTHER": made-up methods must not add series without bound.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The folder of multiprocess mode, if on (prometheus_client reads the same variable at import)."""
    return os.environ.get(MULTIPROC_DIR) or os.environ.get(MULTIPROC_DIR.lower())


class HttpMetrics:
    """One registry per application instance, so tests can build many apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mash_http_requests",
            "HTTP requests handled, by method, route template and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "mash_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            ("method", "route", "status"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        # Each (method, route, status)'s counter and histogram, found once: ``labels()`` checks and
        # locks on every call. Bounded: a route is its template or "unmatched", a method one of
        # ``_METHODS`` or "OTHER".
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in _METHODS:
            method = "OTHER"
        series = self._series.get((method, route, status))
        if series is None:
            labels = (method, route, str(status))
            series = self._series[(method, route, status)] = (
                self.requests.labels(*labels),
                self.latency.labels(*labels),
            )
        requests, latency = series
        requests.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        """The text exposition: of every worker process in multiprocess mode, else of this app."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


@contextmanager
def multiprocess_metrics() -> Iterator[None]:
    """Multiprocess mode for the worker processes started within: ``PROMETHEUS_MULTIPROC_DIR`` as set
    (emptied first: values left by an earlier run would be counted again), else a fresh folder removed
    after. Set before the workers start, so each of them imports prometheus_client in that mode."""
    given = multiprocess_dir()
    if given is not None:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    folder = tempfile.mkdtemp(prefix="mash-metrics-")
    os.environ[MULTIPROC_DIR] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(folder, ignore_errors=True)
