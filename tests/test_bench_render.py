"""A before/after bench run says "slower" only where the fall is larger than the run-to-run noise it
measured (bench/render.py; issue 12's "no scenario slower than before by more than the noise"), from
rounds in which the targets take turns (bench/run.py)."""

from __future__ import annotations

from typing import Any

from bench.render import combine, render
from bench.run import turns


def _round(
    rps: float, errors: int = 0, read_mib: float | None = None, server_pct: float = 98.0
) -> dict[str, Any]:
    return {
        "disk_read_mib": read_mib,
        "rps": rps,
        "p50_ms": 10.0,
        "p99_ms": 20.0,
        "errors": errors,
        "errors_outside_window": 0,
        "cpu_pct": {"server": server_pct, "other": 2.0},
        "db_per_request": {},
        "db_activity": {},
    }


def _report(ours: list[float], before: list[float]) -> dict[str, Any]:
    return {
        "parameters": {
            "concurrency": 32,
            "warmup_s": 3,
            "duration_s": 10,
            "rounds": len(ours),
            "database": "mash_bench",
            "quiet_threshold_pct": 25.0,
        },
        "machine": {"cpus": 2},
        "before_git": {"commit": "ce1c248924aa"},
        "scenarios": [
            {
                "name": "me",
                "ours": combine([_round(rps) for rps in ours]),
                "before": combine([_round(rps) for rps in before]),
                "ratio": None,
            }
        ],
        "probes": [],
        "checks": {},
    }


def _row(table: str) -> list[str]:
    return next(line for line in table.splitlines() if line.startswith("me ")).split()


def test_the_median_round_stands_for_the_rounds_and_their_spread_is_the_noise() -> None:
    combined = combine([_round(700.0, errors=1), _round(600.0), _round(800.0, errors=2)])
    assert combined["rps"] == 700.0
    assert combined["rounds_rps"] == [700.0, 600.0, 800.0]
    assert combined["spread_pct"] == round(200 / 700 * 100, 1)
    assert combined["errors"] == 3  # every round's, not only the median's


def test_each_rounds_server_cpu_a_request_is_kept_and_shown() -> None:
    # 10 x CPU % of a core / requests a second: 80 % at 250 req/s is 3.2 ms a request.
    combined = combine([_round(250.0, server_pct=80.0), _round(200.0, server_pct=70.0), _round(300.0)])
    assert combined["rounds_server_cpu_ms"] == [3.2, 3.5, 3.27]
    report = _report(ours=[700.0], before=[700.0])
    report["scenarios"][0]["ours"] = combined
    assert "  server CPU ms a request, by round: 3.2, 3.5, 3.27" in render(report).splitlines()


def test_a_fall_within_the_rounds_spread_is_within_the_noise() -> None:
    row = _row(render(_report(ours=[650.0, 700.0, 750.0], before=[680.0, 730.0, 780.0])))
    assert row[-3:] == ["730.0", "-4", "within"]


def test_a_fall_beyond_the_spread_is_slower() -> None:
    row = _row(render(_report(ours=[580.0, 590.0, 600.0], before=[700.0, 710.0, 720.0])))
    assert row[-3:] == ["710.0", "-17", "SLOWER"]


def test_a_rise_beyond_the_spread_is_faster() -> None:
    row = _row(render(_report(ours=[900.0, 910.0, 920.0], before=[700.0, 710.0, 720.0])))
    assert row[-3:] == ["710.0", "+28", "faster"]


def test_one_round_cannot_say() -> None:
    row = _row(render(_report(ours=[600.0], before=[700.0])))
    assert row[-3:] == ["700.0", "-14", "?"]


def test_each_rounds_reads_from_disk_are_shown() -> None:
    # A round that read its database from disk (a cold page cache) is told apart from the others.
    report = _report(ours=[700.0], before=[700.0])
    report["scenarios"][0]["ours"] = combine([_round(700.0, read_mib=812.5), _round(760.0, read_mib=0.0)])
    lines = render(report).splitlines()
    at = lines.index("me@ours:")
    assert (
        "  read from disk (what the page cache did not hold), MiB by round: 812.5, 0.0" in lines[at : at + 4]
    )


def test_each_target_runs_first_in_some_round_and_every_round_runs_each_once() -> None:
    labels = ["ours", "ceiling", "before"]
    orders = [turns(labels, round_no) for round_no in range(1, 5)]
    assert orders == [
        ["ours", "ceiling", "before"],
        ["ceiling", "before", "ours"],
        ["before", "ours", "ceiling"],
        ["ours", "ceiling", "before"],
    ]
    assert turns(["ours"], 2) == ["ours"]
