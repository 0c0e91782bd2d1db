"""How fast matching is: building the index for 100,000 stored items, then one commentary.

    .venv/bin/python benchmarks/matching/speed.py                    # 100,000 items
    .venv/bin/python benchmarks/matching/speed.py --items 20000      # quicker
    .venv/bin/python benchmarks/matching/speed.py --store benchmarks/_work/publish-100k/aggregator.sqlite

The items are benchmarks/corpus.py's generated news (ru/kk/en, 0.5-1.5 KB of HTML each,
as the feed benchmark uses), spread over 90 days (the default retention), plus the
labelled items of cases.json; every case of cases.json is then matched against them, each
timed on its own: first its first match (as a run matches a new post: nothing of it read
before, every word of it new to the process but for what the index build read), then the
same again (the least of ``--again`` repeats: what is left when the post's words and
texts were seen before), the peer that tells how much of a match is first-use work.
``--store`` reads a real SQLite store instead (``storage.iter_items``, as publish does)
and adds nothing.  Prints the build time, peak memory and the latency per method;
asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta

from _common import background, config_for, load_cases, merged, stored_items

from aggregator.house import MatchIndex, match_commentary, parse_markdown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--store", help="build from this SQLite store instead")
    parser.add_argument("--again", type=int, default=3, help="repeats of each match (least)")
    args = parser.parse_args()

    document = load_cases()
    config = config_for(document)
    names = {s.id: s.name for s in config.sources}
    labelled = stored_items(document)
    if args.store:
        from aggregator.store import open_storage

        storage = open_storage(args.store)
        items = storage.iter_items(newest_first=False)
        count = storage.items_count()
        made = 0.0
    else:
        storage = None
        end = max(s.published for s in labelled) + timedelta(days=5)
        started = time.perf_counter()
        noise = list(
            background(args.items - len(labelled), start=end - timedelta(days=90), end=end)
        )
        items = merged(labelled, noise)
        count = len(items)
        made = time.perf_counter() - started

    started = time.perf_counter()
    cpu = time.process_time()
    index = MatchIndex.build(items)
    built = time.perf_counter() - started
    built_cpu = time.process_time() - cpu
    if storage is not None:
        storage.close()
    del items

    commentaries = [parse_markdown(c["markdown"], c["id"], config) for c in document["cases"]]
    # No warm-up: whatever a first match costs more than a repeat is part of it.
    methods: list[str] = []
    every: list[float] = []  # wall, first match
    cpu_times: list[float] = []  # CPU, first match
    for commentary in commentaries:
        t0, c0 = time.perf_counter(), time.process_time()
        match = match_commentary(commentary, index, source_names=names)
        every.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
        methods.append(match.method or "none")
    again: list[float] = []  # CPU, the least of the repeats
    for commentary in commentaries:
        least = math.inf
        for _ in range(max(args.again, 1)):
            c0 = time.process_time()
            match_commentary(commentary, index, source_names=names)
            least = min(least, time.process_time() - c0)
        again.append(least)
    timings: dict[str, list[int]] = defaultdict(list)  # method -> commentaries
    for number, method in enumerate(methods):
        timings[method].append(number)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"items: {count:,}" + (f" (generated in {made:.1f} s)" if made else f" from {args.store}")
    )
    print(
        f"index build: {built:.1f} s wall, {built_cpu:.1f} s CPU (one core); peak memory {peak:.0f} MB"
    )
    print(
        f"matching {len(every)} commentaries, the first time: CPU median "
        f"{_ms(statistics.median(cpu_times))}, p95 {_ms(_quantile(cpu_times, 0.95))}, "
        f"max {_ms(max(cpu_times))}; wall median {_ms(statistics.median(every))}, "
        f"p95 {_ms(_quantile(every, 0.95))}, max {_ms(max(every))}"
    )
    print(
        f"the same again (least of {max(args.again, 1)}): CPU median "
        f"{_ms(statistics.median(again))}, p95 {_ms(_quantile(again, 0.95))}, "
        f"max {_ms(max(again))}; first / again, in all: {sum(cpu_times) / sum(again):.2f}"
    )
    print("  CPU per method (first time; again)")
    for method in ("source", "link", "quote", "similarity", "none"):
        numbers = timings.get(method)
        if numbers:
            firsts = [cpu_times[n] for n in numbers]
            agains = [again[n] for n in numbers]
            print(
                f"  {method:<11}{len(numbers):>5}  median {_ms(statistics.median(firsts))}, "
                f"p95 {_ms(_quantile(firsts, 0.95))}, max {_ms(max(firsts))}; "
                f"again max {_ms(max(agains))}"
            )
    return 0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
