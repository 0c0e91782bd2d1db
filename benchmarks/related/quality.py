"""Quality of the related-entries ranking on labelled Russian news.

    .venv/bin/python benchmarks/related/quality.py [--data FILE.jsonl] [--background N] [--json]

Builds the index (aggregator.related, with the product's default settings except
``count = 10``, so that ranks up to 10 are visible) over the labelled documents plus
``N`` background news (default 1,500 Russian items from benchmarks/corpus.py, spread
over the same 60 days), then asks each query's list and reports:

- first: share of queries whose same-event partner is ranked first (target >= 0.75);
- top5: share with the partner among the first five (target >= 0.94);
- MRR, empty lists, and near-duplicate handling: a *copy* (the query reprinted with
  light edits by another outlet) must never be listed.

``--data`` reads documents in the format written by ``events_ru.py`` (one JSON object
per line: id, title, text, published, and for labelled ones event + role =
query | partner | copy); without it, ``events_ru.documents()`` is used.
A partner left out (below ``min_score``, or taken for a near-duplicate) counts as a miss.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import corpus  # noqa: E402  benchmarks/corpus.py
import events_ru  # noqa: E402

from aggregator.config import RelatedConfig  # noqa: E402
from aggregator.related import Document, RelatedIndex  # noqa: E402
from aggregator.text.words import plain_text  # noqa: E402


def background(count: int) -> list[dict[str, str]]:
    """Russian news from the benchmark corpus generator, re-dated over the test period."""
    docs: list[dict[str, str]] = []
    rng = random.Random("related-background")
    feed_index = 0
    while len(docs) < count:
        plan = corpus.plan_feed("related-quality", feed_index)
        feed_index += 1
        if plan.lang != "ru":
            continue
        for serial in range(corpus.FIRST_SERIAL, corpus.FIRST_SERIAL + 10):
            item = corpus.make_item("related-quality", plan, serial)
            when = events_ru.START + timedelta(minutes=rng.randrange(events_ru.DAYS * 24 * 60))
            docs.append(
                {
                    "id": f"bg{len(docs):05d}",
                    "title": item.title,
                    "text": plain_text(item.content_html),
                    "published": when.isoformat().replace("+00:00", "Z"),
                    "tags": item.categories,
                }
            )
            if len(docs) >= count:
                break
    return docs


def to_document(raw: dict) -> Document:
    published = datetime.fromisoformat(raw["published"].replace("Z", "+00:00")).astimezone(UTC)
    return Document(
        key=raw["id"],
        published=published,
        title=raw["title"],
        text=raw.get("text", ""),
        tags=tuple(t.casefold() for t in raw.get("tags", ())),
        language=raw.get("language", "ru"),
        link=raw.get("link"),
        version=raw["id"],
    )


def evaluate(docs: list[dict], settings: RelatedConfig) -> dict[str, object]:
    started = time.perf_counter()
    index = RelatedIndex.build([to_document(d) for d in docs], settings)
    build_seconds = time.perf_counter() - started
    by_event: dict[str, dict[str, str]] = {}
    for d in docs:
        if d.get("event"):
            by_event.setdefault(d["event"], {})[d["role"]] = d["id"]
    ranks: list[int | None] = []
    empty = copies_listed = 0
    misses = []
    for event, roles in sorted(by_event.items()):
        if "query" not in roles or "partner" not in roles:
            continue
        listed = [key for key, _ in index.related(roles["query"])]
        empty += not listed
        if roles.get("copy") in listed:
            copies_listed += 1
        rank = listed.index(roles["partner"]) + 1 if roles["partner"] in listed else None
        ranks.append(rank)
        if rank != 1:
            misses.append((event, rank, listed[:3]))
    n = len(ranks)
    return {
        "queries": n,
        "documents": len(docs),
        "first": sum(r == 1 for r in ranks) / n,
        "top5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "missing": sum(r is None for r in ranks),
        "empty_lists": empty,
        "copies_listed": copies_listed,
        "copies": sum("copy" in roles for roles in by_event.values()),
        "build_seconds": round(build_seconds, 2),
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="labelled documents, JSON lines")
    parser.add_argument("--background", type=int, default=1500, help="background news to add")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    if args.data:
        with args.data.open(encoding="utf-8") as f:
            docs = [json.loads(line) for line in f if line.strip()]
    else:
        docs = events_ru.documents()
    docs += background(args.background)
    settings = replace(RelatedConfig(), count=10)
    result = evaluate(docs, settings)
    misses = result.pop("misses")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['queries']} queries, {result['documents']} documents: "
            f"partner first {result['first']:.3f} (target 0.75), "
            f"in top 5 {result['top5']:.3f} (target 0.94), MRR {result['mrr']:.3f}; "
            f"partner missing {result['missing']}, empty lists {result['empty_lists']}, "
            f"near-duplicate copies listed {result['copies_listed']} of {result['copies']}; "
            f"index built in {result['build_seconds']} s"
        )
    if args.show_misses:
        for miss in misses:
            print("  miss:", *miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
