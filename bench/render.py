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


def render(report: dict[str, Any]) -> str:
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
    rows = []
    for entry in report["scenarios"]:
        ours, top = entry.get("ours"), entry.get("ceiling")

        def cells(result: dict[str, Any] | None) -> list[str]:
            if result is None:
                return ["-", "-", "-"]
            return [f"{result['rps']:.1f}", f"{result['p50_ms']:.1f}", f"{result['p99_ms']:.1f}"]

        shown_ratio = "-" if entry["ratio"] is None else f"{entry['ratio']:.2f}"
        failed = f"{errors(ours)} / {errors(top)}"
        rows.append(
            [entry["name"], *cells(ours), *cells(top), shown_ratio, failed, f"{_noise(ours)} / {_noise(top)}"]
        )
    lines = _table(headers, rows, left=(0,))
    params = report["parameters"]
    lines.insert(
        0,
        f"concurrency {params['concurrency']}, {params['warmup_s']}s warm-up + {params['duration_s']}s "
        f"measured, {report['machine']['cpus']} CPUs; errors and noise (CPU % of one core taken by "
        "unrelated processes and other VMs while measuring) are ours / ceiling",
    )
    lines.append("")
    if not rows:  # only the one-at-a-time requests ran
        lines = []
    for entry in report["scenarios"]:
        for target in TARGETS:
            if target in entry:
                result = entry[target]
                per = ", ".join(f"{k} {v}" for k, v in result["db_per_request"].items() if v)
                waits = ", ".join(f"{k} {v}" for k, v in result["db_activity"].items())
                used = ", ".join(f"{k} {v}" for k, v in result["cpu_pct"].items())
                lines.append(f"{entry['name']}@{target}:")
                lines.append(f"  CPU % of one core: {used or 'n/a'}")
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
        for target in TARGETS
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
