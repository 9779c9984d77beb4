"""What a benchmark run shows: the comparison table, the per-run details under it, the one-at-a-time
requests' table, the seeded database and runtime lines, the noise warning; and the results file
(bench/results/<UTC timestamp>.json) with the git commit it was measured at.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bench.scenarios import SCENARIOS, TARGETS
from bench.servers import RESULTS, ROOT


def git_state(checkout: Path = ROOT) -> dict[str, Any]:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=checkout, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def write_results(report: dict[str, Any]) -> Path:
    path = RESULTS / f"{report['timestamp']}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


# What a run's table may hold: the targets, and mash-api from another checkout (run.py --before-bin).
LABELS = (*TARGETS, "before")


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One target's rounds of a scenario as one result: the median round's figures (by requests a
    second; of an even number, the lower of the middle two), every round's requests a second and
    server CPU a request, their spread (max - min, % of the median: the run-to-run noise) and the errors
    of all rounds."""
    ranked = sorted(results, key=lambda result: float(result["rps"]))
    median = dict(ranked[(len(ranked) - 1) // 2])
    rates = [float(result["rps"]) for result in results]
    median["rounds_rps"] = rates
    median["rounds_disk_read_mib"] = [result.get("disk_read_mib") for result in results]
    median["rounds_server_cpu_ms"] = [server_cpu_ms(result) for result in results]
    median["spread_pct"] = (
        round((max(rates) - min(rates)) / float(median["rps"]) * 100, 1)
        if len(rates) > 1 and median["rps"]
        else None
    )
    median["errors"] = sum(int(result["errors"]) for result in results)
    median["errors_outside_window"] = sum(int(result["errors_outside_window"]) for result in results)
    return median


def server_cpu_ms(result: dict[str, Any]) -> float | None:
    """The server's CPU a request, in ms: its share of a core over the requests a second it served."""
    server, rps = result.get("cpu_pct", {}).get("server"), float(result["rps"])
    return None if server is None or not rps else round(10 * float(server) / rps, 2)


def change(entry: dict[str, Any]) -> tuple[float, float | None] | None:
    """Ours against before, % of before's requests a second; with the run-to-run noise it is measured
    against (the larger of the two spreads), when there were rounds."""
    ours, before = entry.get("ours"), entry.get("before")
    if ours is None or before is None or not before["rps"]:
        return None
    spreads = [s for s in (ours.get("spread_pct"), before.get("spread_pct")) if s is not None]
    changed = round((float(ours["rps"]) / float(before["rps"]) - 1) * 100, 1)
    return changed, max(spreads) if spreads else None


def ratio(run: dict[str, Any]) -> float | None:
    if "ours" not in run or "ceiling" not in run or not run["ceiling"]["rps"]:
        return None
    return round(float(run["ours"]["rps"]) / float(run["ceiling"]["rps"]), 3)


def errors(result: dict[str, Any] | None) -> int:
    return 0 if result is None else int(result["errors"]) + int(result["errors_outside_window"])


def _noise_pct(result: dict[str, Any]) -> float:
    used = result["cpu_pct"]
    return float(used.get("other", 0.0)) + float(used.get("steal", 0.0))


def _noise(result: dict[str, Any] | None) -> str:
    if result is None or "other" not in result["cpu_pct"]:
        return "-"
    return f"{_noise_pct(result):.0f}"


def _table(headers: list[str], rows: list[list[str]], *, left: tuple[int, ...]) -> list[str]:
    """The header, a rule and the rows, each column as wide as its widest cell: the ``left`` columns
    flush left, the others flush right."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def _spread(result: dict[str, Any] | None) -> str:
    return "-" if result is None or result.get("spread_pct") is None else f"{result['spread_pct']:.0f}"


def _verdict(entry: dict[str, Any]) -> list[str]:
    """The before columns: before's requests a second, ours' change, and whether it is beyond the
    run-to-run noise (only rounds can tell)."""
    before, changed = entry.get("before"), change(entry)
    if before is None or changed is None:
        return ["-", "-", "-"]
    pct, noise = changed
    # One round has no noise to hold the change against.
    verdict = "?" if noise is None else "SLOWER" if -pct > noise else "faster" if pct > noise else "within"
    return [f"{before['rps']:.1f}", f"{pct:+.0f}", verdict]


def render(report: dict[str, Any]) -> str:
    params = report["parameters"]
    rounds = int(params.get("rounds", 1))
    compared = any("before" in entry for entry in report["scenarios"])
    headers = [
        "scenario",
        "ours req/s",
        "p50 ms",
        "p99 ms",
        "ceiling req/s",
        "p50 ms",
        "p99 ms",
        "ratio",
        "errors",
        "noise %",
    ]
    if rounds > 1:
        headers.append("spread %")
    if compared:
        headers.extend(["before req/s", "change %", "vs noise"])
    rows = []
    for entry in report["scenarios"]:
        ours, top = entry.get("ours"), entry.get("ceiling")

        def cells(result: dict[str, Any] | None) -> list[str]:
            if result is None:
                return ["-", "-", "-"]
            return [f"{result['rps']:.1f}", f"{result['p50_ms']:.1f}", f"{result['p99_ms']:.1f}"]

        shown_ratio = "-" if entry["ratio"] is None else f"{entry['ratio']:.2f}"
        failed = f"{errors(ours)} / {errors(top)}"
        row = [
            entry["name"],
            *cells(ours),
            *cells(top),
            shown_ratio,
            failed,
            f"{_noise(ours)} / {_noise(top)}",
        ]
        if rounds > 1:
            spreads = [_spread(entry.get(label)) for label in LABELS if label in entry]
            row.append(" / ".join(spreads))
        if compared:
            row.extend(_verdict(entry))
        rows.append(row)
    lines = _table(headers, rows, left=(0,))
    lines.insert(
        0,
        f"concurrency {params['concurrency']}, {params['warmup_s']}s warm-up + {params['duration_s']}s "
        f"measured, {report['machine']['cpus']} CPUs; errors and noise (CPU % of one core taken by "
        "unrelated processes and other VMs while measuring) are ours / ceiling",
    )
    if rounds > 1:
        lines.insert(
            1,
            f"{rounds} rounds, the targets taking turns: each figure is the median round's; spread % (the "
            "run-to-run noise) is the rounds' max - min, % of the median, for "
            + " / ".join(label for label in LABELS if any(label in entry for entry in report["scenarios"])),
        )
    if compared:
        lines.insert(
            1,
            "before: mash-api at "
            + str((report.get("before_git") or {}).get("commit", "?"))[:10]
            + "; change % is ours against it; vs noise says SLOWER (or faster) where ours fell (or rose) by"
            " more than the larger spread of the two, within otherwise",
        )
    lines.append("")
    if not rows:  # only the one-at-a-time requests ran
        lines = []
    for entry in report["scenarios"]:
        for target in LABELS:
            if target in entry:
                result = entry[target]
                per = ", ".join(f"{k} {v}" for k, v in result["db_per_request"].items() if v)
                waits = ", ".join(f"{k} {v}" for k, v in result["db_activity"].items())
                used = ", ".join(f"{k} {v}" for k, v in result["cpu_pct"].items())
                lines.append(f"{entry['name']}@{target}:")
                if len(result.get("rounds_rps", [])) > 1:
                    rates = ", ".join(f"{rate:.1f}" for rate in result["rounds_rps"])
                    lines.append(f"  req/s by round: {rates} (the median round's figures below)")
                lines.append(f"  CPU % of one core: {used or 'n/a'}")
                reads = result.get("rounds_disk_read_mib") or [result.get("disk_read_mib")]
                if any(read is not None for read in reads):
                    lines.append(
                        "  read from disk (what the page cache did not hold), MiB by round: "
                        + ", ".join(str(read) for read in reads)
                    )
                costs = result.get("rounds_server_cpu_ms") or [server_cpu_ms(result)]
                if any(cost is not None for cost in costs):
                    lines.append(
                        "  server CPU ms a request, by round: " + ", ".join(str(cost) for cost in costs)
                    )
                lines.append(f"  database per request: {per}")
                lines.append(f"  connections to {report['parameters']['database']} (average): {waits}")
                if "check" in result:
                    found = ", ".join(f"{k} {v}" for k, v in result["check"].items())
                    lines.append(f"  {SCENARIOS[entry['name']].check_label}: {found or 'none'}")
    lines.extend(_render_probes(report))
    chain = report["checks"].get("audit_chain")
    if chain is not None:
        lines.append(f"audit chain after the run: valid={chain['valid']}, {chain['checked']} rows checked")
    lines.extend(_render_seed(report))
    threshold = report["parameters"]["quiet_threshold_pct"]
    noisy = [
        f"{entry['name']}@{target}"
        for entry in report["scenarios"]
        for target in LABELS
        if target in entry and _noise_pct(entry[target]) > threshold
    ]
    if noisy:
        lines.append(
            f"WARNING: noise above {threshold:.0f}% of a core during {', '.join(noisy)}; "
            "those figures understate what the server can do. Re-run on a quiet machine."
        )
    return "\n".join(lines)


def _render_probes(report: dict[str, Any]) -> list[str]:
    if not report["probes"]:
        return []
    headers = [
        "request (ours, one at a time)",
        "runs",
        "p50 ms",
        "p99 ms",
        "fastest ms",
        "rate",
        "bytes",
        "errors",
    ]
    rows = []
    for probe in report["probes"]:
        rate = "-"
        if "rows_per_s" in probe:
            rate = f"{probe['rows_per_s']:,} rows/s ({probe['rows']:,} rows, valid={probe['valid']})"
        params = ", ".join(f"{k}={v}" for k, v in probe["params"].items())
        rows.append(
            [f"{probe['name']}" + (f" ({params})" if params else ""), str(probe["runs"]),
             *(f"{probe[key]:.1f}" if key in probe else "-" for key in ("p50_ms", "p99_ms", "min_ms")),
             rate, str(probe.get("bytes", "-")), str(probe["errors"])]
        )  # fmt: skip
    lines = _table(headers, rows, left=(0, 5))
    lines.insert(0, "")
    lines.append("(p99 of a handful of requests is the slowest; no raw-SQL ceiling for these)")
    return lines


def _render_seed(report: dict[str, Any]) -> list[str]:
    seeded = report["parameters"].get("seed")
    lines = []
    if seeded:
        rows = seeded.get("rows", {})
        counts = ", ".join(
            f"{rows[t]:,} {t}" for t in ("referrals", "people", "adult_concerns", "audit_events") if t in rows
        )
        how = (
            f"reused ({seeded['age_s'] / 60:.0f} min old)"
            if seeded.get("age_s")
            else f"seeded in {seeded.get('seed_s', 0):.0f}s"
        )
        lines.append(f"database: {seeded['template']}, {how}: {counts}")
    if "runtime_s" in report:
        lines.append(f"total runtime (seeding included): {report['runtime_s']:.0f}s")
    return lines
