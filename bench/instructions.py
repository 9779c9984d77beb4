"""Instructions per request: bench.profile_request counted by valgrind, for changes smaller than the noise.

    .venv/bin/python -m bench.instructions --scenario referral_get                          # this checkout
    .venv/bin/python -m bench.instructions --scenario me --before ../before                # and another
    .venv/bin/python -m bench.instructions --scenario triage_page --before ../before --reuse

CPU seconds per request drift by up to 30 % between runs on a shared machine, so a change of a few per
cent needs many alternating runs to show. Instructions do not drift: valgrind's callgrind counts those
this process executes, whatever else the machine is doing, and the same code, inputs and
``PYTHONHASHSEED`` count the same. PostgreSQL runs outside it, so its work is not counted; the server's
Python (and the in-process client's, the same in every run) is.

Each checkout's ``python -m bench.profile_request --scenario S --reuse`` runs twice under callgrind,
with ``--short`` and ``--long`` requests after the same warm-up; the difference of the two totals
over the difference of the requests is the cost of one request, start-up and imports cancelled out.
A run is ~50 times slower than natively (a few minutes each). The database is seeded once first (as
profile_request seeds it) unless ``--reuse``; ``--before`` is another checkout with its own .venv (for
example ``git worktree add ../before <commit>`` and ``uv sync --frozen`` there), run on the same
database. valgrind is a Debian package (``apt-get install valgrind``); it is not a dependency.

The same code counts more as its database grows (a create's matching finds more candidates: on
2026-12-07 one checkout counted 11.225 M, then 11.852 M after 560 more creates), so with ``--before``
the checkouts are counted in the order before, this, this, before, and each figure is the mean of its
two: the growth weighs on both alike.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_COLLECTED = re.compile(r"Collected : (\d+)")


def count(checkout: Path, scenario: str, requests: int, warmup: int, extra: tuple[str, ...] = ()) -> int:
    """The instructions of one profile_request run of ``requests`` requests in ``checkout``."""
    with tempfile.TemporaryDirectory() as folder:
        run = subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
                str(checkout / ".venv/bin/python"), "-m", "bench.profile_request", "--scenario", scenario,
                "--reuse", "--requests", str(requests), "--warmup", str(warmup), *extra,
            ],
            cwd=checkout, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
        )  # fmt: skip
    found = _COLLECTED.search(run.stderr)
    if run.returncode != 0 or found is None:
        sys.exit(f"{checkout}: profile_request under valgrind failed:\n{run.stdout}\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_request(
    checkout: Path, scenario: str, short: int, long: int, warmup: int, extra: tuple[str, ...] = ()
) -> float:
    """The instructions of one request: two runs, their difference over that of their requests."""
    few = count(checkout, scenario, short, warmup, extra)
    many = count(checkout, scenario, long, warmup, extra)
    return (many - few) / (long - short)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", default="referral_get")
    parser.add_argument("--before", type=Path, help="another checkout (with its .venv) to count too")
    parser.add_argument("--reuse", action="store_true", help="the database profile_request seeded before")
    parser.add_argument("--short", type=int, default=60)
    parser.add_argument("--long", type=int, default=180)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--client",
        action="store_true",
        help="profile_request's --client: the token's client checked, as under load",
    )
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    if not args.reuse:
        seeding = [
            sys.executable,
            "-m",
            "bench.profile_request",
            "--scenario",
            args.scenario,
            "--requests",
            "1",
        ]
        subprocess.run(seeding, cwd=here, check=True, capture_output=True)
    runs = (args.scenario, args.short, args.long, args.warmup, ("--client",) if args.client else ())
    if args.before is None:
        ours = per_request(here, *runs)
        print(f"{args.scenario}: {ours / 1e6:.3f} M instructions a request ({here})")
        return
    before_checkout = args.before.resolve()
    counted: dict[Path, list[float]] = {before_checkout: [], here: []}
    for checkout in (before_checkout, here, here, before_checkout):
        counted[checkout].append(per_request(checkout, *runs))
    before, ours = (sum(counted[c]) / 2 for c in (before_checkout, here))
    print(f"{args.scenario}: {ours / 1e6:.3f} M instructions a request ({here}; {_both(counted[here])})")
    change = 100 * (ours - before) / before
    print(
        f"{args.scenario}: {before / 1e6:.3f} M before ({args.before}; {_both(counted[before_checkout])});"
        f" change {change:+.1f} %"
    )


def _both(counts: list[float]) -> str:
    return " and ".join(f"{n / 1e6:.3f} M" for n in counts)


if __name__ == "__main__":
    main()
