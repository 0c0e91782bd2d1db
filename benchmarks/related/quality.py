"""Quality of the related-entries ranking on labelled news (ru/kk/en).

    .venv/bin/python benchmarks/related/quality.py [--split dev|test|all] [--json]
        [--data FILE.jsonl] [--background N] [--show-misses]

By default it reads ``real/documents.jsonl`` (hand-written news from many outlets,
independently of the code; see real/README.md) and evaluates one split: the index
(aggregator.related, the product's default settings, ``count`` = 4 as published) is
built over that split's documents only.  Tune on ``dev``; report on ``test``.

For each event with a query and a same-event partner (another outlet's retelling):

- first: share of queries whose partner is listed first (target >= 0.85);
- listed: share whose partner is among the listed (target >= 0.95);
- reprints: a *copy* (the query reprinted) must never be listed in the query's list,
  and no list may carry a query and its copy as two entries (a story is listed once).

A listed document of the same real-world ``story`` in another language (the Russian
version of a Kazakh pair) is skipped when ranking the partner, as README.md advises.
Figures are broken down by language and by variation tag.  ``--data FILE.jsonl`` runs
another set in the same format (``events_ru.py`` writes the old template set).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import corpus  # noqa: E402  benchmarks/corpus.py
import events_ru  # noqa: E402

from aggregator.config import RelatedConfig  # noqa: E402
from aggregator.related import Document, RelatedIndex  # noqa: E402
from aggregator.text.html import plain_text  # noqa: E402

REAL = HERE / "real" / "documents.jsonl"


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
    by_id = {d["id"]: d for d in docs}
    by_event: dict[str, dict[str, str]] = {}
    for d in docs:
        if d.get("event"):
            by_event.setdefault(d["event"], {})[d["role"]] = d["id"]
    copy_pairs = {
        frozenset((roles["query"], roles["copy"]))
        for roles in by_event.values()
        if "query" in roles and "copy" in roles
    }
    rows: list[dict] = []
    copies_listed = 0
    for event, roles in sorted(by_event.items()):
        if "query" not in roles or "partner" not in roles:
            continue
        query, partner = by_id[roles["query"]], roles["partner"]
        listed = [key for key, _ in index.related(query["id"])]
        if roles.get("copy") in listed:
            copies_listed += 1
        story = query.get("story") or event
        ranked = [
            k
            for k in listed
            if k == partner
            or (by_id[k].get("story") or by_id[k].get("event")) != story
            or by_id[k].get("event") == event
        ]
        rank = ranked.index(partner) + 1 if partner in ranked else None
        rows.append(
            {
                "event": event,
                "rank": rank,
                "lang": query.get("lang") or query.get("language") or "ru",
                "variation": [v for v in query.get("variation", ()) if v not in ("kk", "en")],
                "listed": listed,
            }
        )
    # A story listed twice: a query and its copy in one list.
    listed_twice = sum(
        1 for key in index.keys for pair in copy_pairs if pair <= {k for k, _ in index.related(key)}
    )

    def figures(subset: list[dict]) -> dict[str, object]:
        n = len(subset)
        return {
            "queries": n,
            "first": round(sum(r["rank"] == 1 for r in subset) / n, 3) if n else None,
            "listed": round(sum(r["rank"] is not None for r in subset) / n, 3) if n else None,
        }

    by_lang: dict[str, list[dict]] = defaultdict(list)
    by_variation: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_lang[r["lang"]].append(r)
        for v in r["variation"]:
            by_variation[v].append(r)
    n = len(rows)
    return {
        **figures(rows),
        "mrr": round(sum(1 / r["rank"] for r in rows if r["rank"]) / n, 3),
        "documents": len(docs),
        "empty_lists": sum(not r["listed"] for r in rows),
        "copies": len(copy_pairs),
        "copies_listed": copies_listed,
        "stories_listed_twice": listed_twice,
        "build_seconds": round(build_seconds, 2),
        "by_language": {k: figures(v) for k, v in sorted(by_lang.items())},
        "by_variation": {k: figures(v) for k, v in sorted(by_variation.items())},
        "misses": [(r["event"], r["rank"], r["listed"][:3]) for r in rows if r["rank"] != 1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REAL, help="labelled documents, JSON lines")
    parser.add_argument("--split", default="test", choices=["dev", "test", "all"])
    parser.add_argument("--background", type=int, default=0, help="generated news to add")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    with args.data.open(encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    if args.split != "all":
        docs = [d for d in docs if d.get("split", args.split) == args.split]
    docs += background(args.background)
    result = evaluate(docs, RelatedConfig())
    misses = result.pop("misses")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(
            f"{args.data.name} [{args.split}]: {result['queries']} queries, "
            f"{result['documents']} documents: partner first {result['first']:.3f} "
            f"(target 0.85), listed {result['listed']:.3f} (target 0.95), "
            f"MRR {result['mrr']:.3f}; empty lists {result['empty_lists']}; reprints: "
            f"copy listed {result['copies_listed']} of {result['copies']}, a story listed "
            f"twice {result['stories_listed_twice']}; index built in {result['build_seconds']} s"
        )
        for group in ("by_language", "by_variation"):
            print(f"  {group.replace('_', ' ')}:")
            for name, f in result[group].items():
                print(
                    f"    {name:13} {f['queries']:4}  first {f['first']:.3f}  listed {f['listed']:.3f}"
                )
    if args.show_misses:
        for miss in misses:
            print("  miss:", *miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
