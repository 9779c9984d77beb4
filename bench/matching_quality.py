"""Measure person matching quality and cost on synthetic data.

    .venv/bin/python bench/matching_quality.py --people 100000 --queries 5000

Builds an in-memory blocking index (key -> person ids, as the database table will), runs every query
through it (keys -> candidate ids -> ``rank_matches`` on the raw identities, so candidate
normalisation is included in the timing, as it will be when rows come from the database) and prints:
precision and recall of certain links, recall of the true person among candidates, how many
candidates each query scored, the largest blocking-key buckets with a linear extrapolation to a
million people, and in-memory latency per query. The database-backed latency, through the application's
own query: bench/matching_db.py (which prints the same summary, from ``QualitySummary``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence

from app.people.matching import (
    CANDIDATE_MIN_SCORE,
    Identity,
    RankedMatch,
    automatic_link,
    blocking_keys,
    rank_matches,
    score,
)
from bench.matching_data import Query, generate


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(identity: Identity) -> str:
    born = identity.date_of_birth or identity.expected_date_of_birth
    expected = "~" if identity.date_of_birth is None and born else ""
    return (
        f"{identity.given_name} {identity.family_name} {expected}{born} nhs={identity.nhs_number} "
        f"{identity.postcode} {identity.gender}"
    )


class QualitySummary:
    """Precision and recall of certain links and of candidates, tallied query by query.

    Shared by this script (an in-memory index) and bench/matching_db.py (the database): each passes
    the candidates its lookup found, the ranked candidates and the automatic link, by person id.
    """

    def __init__(self, by_id: Mapping[int, Identity], shown: int) -> None:
        self.by_id = by_id
        self.shown = shown  # how many ranked candidates a query shows
        self.queries = self.existing = 0
        self.links = self.correct_links = 0
        self.found_top1 = self.found_top5 = self.found_any = self.blocked = 0
        self.scored: list[float] = []
        self.wrong_links: list[tuple[Query, int]] = []
        self.missed_candidates: list[Query] = []
        self.by_error: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        self.sole_key_type: Counter[str] = Counter()
        self.key_type_hits: Counter[str] = Counter()
        self.calibration: dict[int, Counter[str]] = defaultdict(Counter)

    def add(
        self,
        query: Query,
        candidate_ids: Collection[int],
        ranked: Sequence[RankedMatch[int]],
        link: int | None,
    ) -> None:
        self.queries += 1
        self.existing += query.truth is not None
        self.scored.append(len(candidate_ids))
        ranked_ids = [item.key for item in ranked]
        for item in ranked:
            bucket = self.calibration[min(int(item.match.score * 10), 9)]
            bucket["shown"] += 1
            bucket["true"] += item.key == query.truth
        labels = query.errors or ("no_error",) if query.truth is not None else (query.kind,)
        for label in labels:
            tally = self.by_error[label] if query.truth is not None else self.by_kind[label]
            tally["queries"] += 1
        if link is not None:
            self.links += 1
            if link == query.truth:
                self.correct_links += 1
                for label in labels:
                    self.by_error[label]["certain"] += 1
            else:
                self.wrong_links.append((query, link))
                for label in labels:
                    (self.by_error if query.truth is not None else self.by_kind)[label]["wrong_link"] += 1
        if query.truth is None:
            if ranked:
                self.by_kind[query.kind]["with_candidates"] += 1
            return
        if query.truth in candidate_ids:
            self.blocked += 1
            shared = blocking_keys(query.identity) & blocking_keys(self.by_id[query.truth])
            types = {key.split(":", 1)[0] for key in shared}
            self.key_type_hits.update(types)
            if len(types) == 1:
                self.sole_key_type.update(types)
        if query.truth in ranked_ids:
            self.found_any += 1
            for label in labels:
                self.by_error[label]["candidate"] += 1
            if query.truth in ranked_ids[:5]:
                self.found_top5 += 1
            if ranked_ids[0] == query.truth:
                self.found_top1 += 1
        else:
            self.missed_candidates.append(query)

    def print_links_and_candidates(self) -> None:
        n_existing = self.existing
        print()
        print(
            f"queries: {self.queries:,} ({n_existing:,} re-referrals of known children, "
            f"{self.queries - n_existing:,} new children who look like known ones)"
        )
        print("certain links")
        precision = self.correct_links / self.links if self.links else 1.0
        print(
            f"  links made {self.links:,}, correct {self.correct_links:,}, wrong {self.links - self.correct_links}"
        )
        print(f"  precision {precision:.4%}   recall {self.correct_links / n_existing:.2%} of re-referrals")
        print(f"candidates (score >= {CANDIDATE_MIN_SCORE:.4f}, at most {self.shown} shown)")
        print(f"  true person in blocked set {self.blocked / n_existing:.2%}")
        print(
            f"  recall: top-1 {self.found_top1 / n_existing:.2%}  top-5 {self.found_top5 / n_existing:.2%}  "
            f"all shown {self.found_any / n_existing:.2%}"
        )
        print(
            f"  candidates scored per query: mean {statistics.mean(self.scored):.1f}  "
            f"p95 {percentile(self.scored, 0.95):.0f}  max {max(self.scored):.0f}"
        )

    def print_details(self, show: int) -> None:
        print(
            "key types sharing a key with the true person (share of found re-referrals; found by that type alone)"
        )
        for kind, hits in sorted(self.key_type_hits.items()):
            print(f"  {kind}: {hits / max(self.blocked, 1):7.2%}  alone {self.sole_key_type[kind]}")
        print("score calibration (candidates shown by score decile: shown, share that are the true person)")
        for decile in sorted(self.calibration):
            tally = self.calibration[decile]
            print(
                f"  {decile / 10:.1f}-{(decile + 1) / 10:.1f}: {tally['shown']:6d}  "
                f"{tally['true'] / tally['shown']:7.2%}"
            )

        print("re-referrals by error (queries / certain / candidate / wrong link)")
        for label, tally in sorted(self.by_error.items(), key=lambda item: -item[1]["queries"]):
            q = tally["queries"]
            print(
                f"  {label:24s} {q:6d}  certain {tally['certain'] / q:7.2%}  candidate "
                f"{tally['candidate'] / q:7.2%}  wrong {tally['wrong_link']}"
            )
        print("new children by kind (queries / with any candidate / wrong link)")
        for label, tally in sorted(self.by_kind.items(), key=lambda item: -item[1]["queries"]):
            q = tally["queries"]
            print(
                f"  {label:24s} {q:6d}  with candidates {tally['with_candidates'] / q:7.2%}  "
                f"wrong {tally['wrong_link']}"
            )

        if self.wrong_links and show:
            print("WRONG certain links:")
            for query, link in self.wrong_links[:show]:
                match = score(query.identity, self.by_id[link])
                print(
                    f"  {query.kind} {query.errors}\n    query  {describe(query.identity)}\n"
                    f"    linked {describe(self.by_id[link])}\n    {match.weight:.1f} {match.reasons}"
                )
        if self.missed_candidates and show:
            print("missed candidates (examples):")
            for query in self.missed_candidates[:show]:
                assert query.truth is not None
                match = score(query.identity, self.by_id[query.truth])
                keys = blocking_keys(query.identity) & blocking_keys(self.by_id[query.truth])
                print(
                    f"  {query.errors}\n    query {describe(query.identity)}\n"
                    f"    truth {describe(self.by_id[query.truth])}\n    {match.weight:.1f} {match.reasons} "
                    f"shared keys {len(keys)}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--show", type=int, default=10, help="examples of each failure to print")
    args = parser.parse_args()

    started = time.perf_counter()
    people, queries = generate(args.people, args.queries, args.seed)
    by_id = {person.id: person.identity for person in people}
    print(
        f"generated {len(people):,} people and {len(queries):,} queries "
        f"in {time.perf_counter() - started:.1f}s"
    )

    started = time.perf_counter()
    index: dict[str, list[int]] = defaultdict(list)
    keys_per_person: list[int] = []
    for person in people:
        keys = blocking_keys(person.identity)
        keys_per_person.append(len(keys))
        for key in keys:
            index[key].append(person.id)
    print(
        f"indexed {len(index):,} keys in {time.perf_counter() - started:.1f}s; keys per person "
        f"mean {statistics.mean(keys_per_person):.1f}, max {max(keys_per_person)}"
    )

    summary = QualitySummary(by_id, shown=20)
    latencies: list[float] = []
    for query in queries:
        started = time.perf_counter()
        candidate_ids: set[int] = set()
        for key in blocking_keys(query.identity):
            candidate_ids.update(index.get(key, ()))
        ranked = rank_matches(query.identity, ((pid, by_id[pid]) for pid in candidate_ids), limit=20)
        link = automatic_link(ranked)
        latencies.append(time.perf_counter() - started)
        summary.add(query, candidate_ids, ranked, link)

    summary.print_links_and_candidates()
    print(
        f"in-memory latency per query: p50 {percentile(latencies, 0.5) * 1000:.2f} ms  "
        f"p95 {percentile(latencies, 0.95) * 1000:.2f} ms  max {max(latencies) * 1000:.2f} ms "
        "(the database-backed latency: bench/matching_db.py)"
    )

    scale = 1_000_000 / len(people)
    print(
        f"blocking-key buckets (people per key; 'at 1M' scales by x{scale:.0f}, an upper bound: "
        "run with --people 1000000 to measure)"
    )
    by_type: dict[str, list[int]] = defaultdict(list)
    for key, ids in index.items():
        by_type[key.split(":", 1)[0]].append(len(ids))
    for kind, sizes in sorted(by_type.items()):
        print(
            f"  {kind}: {len(sizes):>8,} keys  mean {statistics.mean(sizes):5.2f}  "
            f"p99 {percentile(sizes, 0.99):4.0f}  max {max(sizes):4d}  -> at 1M <= mean "
            f"{statistics.mean(sizes) * scale:6.1f}, max ~{max(sizes) * scale:.0f}"
        )
    largest = sorted(index.items(), key=lambda item: -len(item[1]))[:8]
    print("  largest: " + ", ".join(f"{key} ({len(ids)})" for key, ids in largest))
    summary.print_details(args.show)


if __name__ == "__main__":
    main()
