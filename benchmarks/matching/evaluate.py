"""Run the matcher over the labelled cases and report precision and recall per method.

    .venv/bin/python benchmarks/matching/evaluate.py            # the table
    .venv/bin/python benchmarks/matching/evaluate.py -v         # and every case it got wrong
    .venv/bin/python benchmarks/matching/evaluate.py --background 0   # without noise items
    .venv/bin/python benchmarks/matching/evaluate.py --real dev -v    # the hand-written set
    .venv/bin/python benchmarks/matching/evaluate.py --real test      # ... its held-out split

The store holds the cases' items plus ``--background`` (default 3,000) generated news items
(benchmarks/corpus.py) spread over the same weeks, so that candidates are not only the
hand-written ones.  Each case is a commentary file, read by ``commentary.parse_markdown``
and matched by ``match.match_commentary``, exactly as publish does.

A case is *right* when the match is confident and names exactly the expected items (one
per quoted source; for a re-published agency text either copy counts), or when nothing
confident is published and nothing was expected (its source is not stored).

- precision per method: of the confident matches that method made, the share right;
- recall per kind of evidence: of the cases whose source is stored, the share matched right;
- retold (neither quote nor link): also the share whose right item is ranked first, even
  when not confident, and the number of wrong items published as confident.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict

from _common import OCTOBER, background, config_for, load_cases, merged, stored_items

from aggregator.house import CommentaryError, MatchIndex, match_commentary, parse_markdown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--background", type=int, default=3000)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--real",
        choices=("dev", "test", "all"),
        help="run the hand-written set in real/ (tune on dev, report on test) instead",
    )
    parser.add_argument(
        "--withhold",
        action="store_true",
        help="with --real: also match each post with its event taken out of the store",
    )
    args = parser.parse_args()
    if args.real:
        import real_set

        split = None if args.real == "all" else args.real
        outcomes, info = real_set.run(args.background, split, withhold=args.withhold)
        real_set.report(outcomes, info, split, args.verbose)
        return 0

    document = load_cases()
    config = config_for(document)
    names = {s.id: s.name for s in config.sources}
    items = merged(
        stored_items(document), list(background(args.background, start=OCTOBER[0], end=OCTOBER[1]))
    )
    started = time.perf_counter()
    index = MatchIndex.build(items)
    built = time.perf_counter() - started

    made = Counter()  # method -> confident matches
    right_by_method = Counter()
    cases_by_category = Counter()
    right_by_category = Counter()
    first_right = Counter()
    retold_by_language = Counter()
    retold_first_by_language = Counter()
    confident_wrong = Counter()
    statuses: dict[str, Counter] = defaultdict(Counter)
    failures = []
    timings = []
    for case in document["cases"]:
        category = case["category"]
        cases_by_category[category] += 1
        try:
            commentary = parse_markdown(case["markdown"], case["id"], config)
        except CommentaryError as exc:
            failures.append((case, f"parse error: {exc}"))
            continue
        t0 = time.perf_counter()
        match = match_commentary(commentary, index, source_names=names)
        timings.append(time.perf_counter() - t0)
        status = match.status
        statuses[category][status] += 1
        expected = [set(slot) for slot in case["expected"]]
        published = list(match.keys) if status == "confident" else []
        right = _right(published, expected)
        if published:
            made[match.method] += 1
            right_by_method[match.method] += right
            if not right:
                confident_wrong[category] += 1
        if right:
            right_by_category[category] += 1
        ranked = list(match.keys) or [k for k, _ in match.candidates]
        if expected and ranked and ranked[0] in expected[0]:
            first_right[category] += 1
            if category == "paraphrase":
                retold_first_by_language[case["source_language"]] += 1
        if category == "paraphrase":
            retold_by_language[case["source_language"]] += 1
        if not right:
            failures.append(
                (
                    case,
                    f"{status} {match.method} {match.confidence} {published or ranked[:2]} — {match.note or match.error}",
                )
            )

    print(
        f"store: {len(items)} items ({len(document['items'])} labelled + {args.background} background); "
        f"index built in {built:.2f} s; {len(document['cases'])} cases"
    )
    print(f"matching: median {_ms(timings, 0.5)} ms, p95 {_ms(timings, 0.95)} ms per commentary\n")
    print("precision per method (confident matches only)")
    print(f"  {'method':<12}{'confident':>10}{'right':>8}{'precision':>11}")
    for method in ("source", "link", "quote", "similarity"):
        n = made[method]
        print(
            f"  {method:<12}{n:>10}{right_by_method[method]:>8}{_ratio(right_by_method[method], n):>11}"
        )
    print("\nrecall per kind of evidence (source stored)")
    print(
        f"  {'evidence':<20}{'cases':>6}{'right':>7}{'recall':>8}{'first':>8}{'wrong+':>8}  statuses"
    )
    for category in ("link", "quote", "paraphrase"):
        n = cases_by_category[category]
        print(
            f"  {category:<20}{n:>6}{right_by_category[category]:>7}{_ratio(right_by_category[category], n):>8}"
            f"{_ratio(first_right[category], n):>8}{confident_wrong[category]:>8}  {_statuses(statuses[category])}"
        )
    print(
        "  retold, right first by the source item's language: "
        + ", ".join(
            f"{lang} {_ratio(retold_first_by_language[lang], n)} ({n})"
            for lang, n in sorted(retold_by_language.items(), key=lambda kv: -kv[1])
        )
    )
    print("\nsource never stored (right = nothing published)")
    for category in ("absent-link", "absent-quote", "absent-paraphrase"):
        n = cases_by_category[category]
        print(
            f"  {category:<20}{n:>6}{right_by_category[category]:>7}{_ratio(right_by_category[category], n):>8}"
            f"{'':>8}{confident_wrong[category]:>8}  {_statuses(statuses[category])}"
        )
    quote_cases = cases_by_category["quote"]
    print(
        "\ntargets: quote precision "
        f"{_ratio(right_by_method['quote'], made['quote'])} (>= 0.99), quote recall "
        f"{_ratio(right_by_category['quote'], quote_cases)} (>= 0.98); retold: right first "
        f"{_ratio(first_right['paraphrase'], cases_by_category['paraphrase'])} (>= 0.90), "
        f"wrong published as confident {sum(confident_wrong.values())} (= 0)"
    )
    if args.verbose:
        print("\nnot right:")
        for case, why in failures:
            print(f"  {case['id']} [{case['category']}] expected {case['expected']}: {why}")
    return 0


def _right(published: list[str], expected: list[set[str]]) -> bool:
    if not expected:
        return not published
    if len(published) != len(expected):
        return False
    remaining = list(expected)
    for key in published:
        slot = next((s for s in remaining if key in s), None)
        if slot is None:
            return False
        remaining.remove(slot)
    return True


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "-"


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.2f}"


def _statuses(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))


if __name__ == "__main__":
    sys.exit(main())
