"""Helpers that run inside our own venv (they import aggregator), for benchmarks/run.py.

    python benchmarks/storetool.py count --config feeds.yaml --db aggregator.sqlite
    python benchmarks/storetool.py build --config feeds.yaml --db aggregator.sqlite

``count`` prints the store's item count and how many sources failed their last fetch.
``build`` fills a fresh store with 50 corpus items for every configured source straight
through ``Storage.record_fetch`` (no HTTP, no parsing), for the publish-from-100k benchmark.
Both print one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

from aggregator.config import load_config
from aggregator.ingest.update import record_fetch
from aggregator.models import Author, Item
from aggregator.store import Storage, open_storage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402


def count(storage: Storage) -> dict:
    states = storage.source_states()
    failing = [s for s in states if s.consecutive_failures > 0 or s.gone]
    return {
        "items": storage.items_count(),
        "sources": len(states),
        "sources_failing": len(failing),
        "first_errors": [f"{s.source_id}: {s.last_error}" for s in failing[:3]],
    }


def corpus_items(seed: str, index: int) -> list[Item]:
    """The 50 items of corpus feed ``index`` as the parser would hand them over."""
    _, plan = corpus.render_feed(seed, index)  # calibrates the items' size as in the corpus
    items = []
    for it in corpus.feed_items(seed, plan):
        link = it.link if it.link.startswith("http") else f"https://{plan.site}{it.link}"
        items.append(
            Item(
                id=it.guid,
                title=it.title,
                link=link,
                summary=it.summary_text,
                content=it.content_html,
                published=it.published,
                updated=it.published,
                published_raw=it.published.isoformat(),
                authors=(Author(name=it.author),),
                categories=tuple(it.categories),
                language=plan.lang,
            )
        )
    return items


def build(config_path: Path, storage: Storage, seed: str) -> dict:
    config = load_config(config_path)
    storage.sync_sources(config.sources)
    fetched_at = corpus.BASE_TIME + timedelta(hours=1)
    started = time.perf_counter()
    for source in config.sources:
        index = int(re.sub(r"\D", "", source.id))
        state = storage.get_source_state(source.id)
        state.last_attempt = state.last_success = fetched_at.astimezone(UTC)
        record_fetch(storage, state, corpus_items(seed, index), fetched_at=fetched_at)
    return {"items": storage.items_count(), "seconds": round(time.perf_counter() - started, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["count", "build"])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--seed", default="aggregator-bench-1")
    args = parser.parse_args()
    storage = open_storage(args.db)
    try:
        result = (
            count(storage) if args.command == "count" else build(args.config, storage, args.seed)
        )
    finally:
        storage.close()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
