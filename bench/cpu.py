"""Who used the CPU during a run, from /proc (Linux; elsewhere the figures are simply absent).

On a small shared machine a neighbour's test suite takes cores from the server being measured, and
the result then says nothing about our code. bench/measure.py waits for a quiet machine before each
run and records how much CPU went to the server, the load generator, PostgreSQL and everything else.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: float
    # pid -> (command name, parent pid, CPU ticks used so far, all threads)
    processes: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    # Time the hypervisor gave our virtual CPUs to other guests: noise no process list shows.
    steal: int = 0
    # KiB read from block devices so far (/proc/vmstat pgpgin): what the page cache did not hold.
    read_kib: int = 0


def snapshot() -> Snapshot | None:
    if not (PROC / "stat").exists():
        return None
    processes: dict[int, tuple[str, int, int]] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ")".
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        processes[int(entry.name)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]))
    fields = (PROC / "stat").read_text().split("\n", 1)[0].split()
    steal = int(fields[8]) if len(fields) > 8 else 0  # "cpu user nice system idle iowait irq softirq steal"
    return Snapshot(time.monotonic(), processes, steal, _read_kib())


def _read_kib() -> int:
    try:
        counters = (PROC / "vmstat").read_text().split("\n")
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in counters if line.startswith("pgpgin ")), 0)


def disk_read_mib(before: Snapshot | None, after: Snapshot | None) -> float | None:
    """MiB read from disk between two snapshots, by any process: a database whose pages the page cache
    did not hold yet (a fresh copy of the template) is read from disk while it is measured."""
    if before is None or after is None:
        return None
    return round((after.read_kib - before.read_kib) / 1024, 1)


def usage(before: Snapshot | None, after: Snapshot | None, groups: dict[str, set[int]]) -> dict[str, float]:
    """CPU per group in percent of one core (as top shows it) between two snapshots.

    ``groups`` names sets of pids; their child processes count with them. PostgreSQL backends are
    "postgres" (all databases: another suite's tests against the same server land there too), and
    whatever is left is "other". "steal" is CPU the hypervisor gave to other virtual machines.
    """
    if before is None or after is None or after.at <= before.at:
        return {}
    owner = {pid: name for name, pids in groups.items() for pid in pids}
    used: dict[str, float] = dict.fromkeys([*groups, "postgres", "other"], 0.0)
    for pid, (comm, ppid, ticks) in after.processes.items():
        delta = ticks - before.processes.get(pid, (comm, ppid, 0))[2]
        name = owner.get(pid) or owner.get(ppid) or ("postgres" if comm == "postgres" else "other")
        used[name] += delta
    used["steal"] = after.steal - before.steal
    scale = 100.0 / (TICKS * (after.at - before.at))
    return {name: round(ticks * scale, 1) for name, ticks in used.items()}


def busy_elsewhere(own: set[int], interval: float = 1.0) -> float | None:
    """CPU (percent of one core) used by anything but ``own`` over ``interval`` seconds."""
    before = snapshot()
    time.sleep(interval)
    figures = usage(before, snapshot(), {"own": own})
    if not figures:
        return None
    return round(figures["postgres"] + figures["other"] + figures["steal"], 1)
