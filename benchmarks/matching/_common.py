"""Shared by evaluate.py and speed.py: the cases, the stored items, background items."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent))  # benchmarks/corpus.py

import corpus  # noqa: E402

from aggregator.config import Config, SiteConfig, SourceConfig  # noqa: E402
from aggregator.models import Author, Item, StoredItem  # noqa: E402

SEED = "aggregator-bench-1"


def load_cases() -> dict:
    return json.loads((HERE / "cases.json").read_text(encoding="utf-8"))


def config_for(document: dict) -> Config:
    sources = tuple(
        SourceConfig(
            id=sid, name=s["name"], url=f"https://{sid}.example/rss", language=s["language"]
        )
        for sid, s in document["sources"].items()
    )
    site = SiteConfig(
        title=document["house"],
        link="https://eurasia24.media/",
        house=document["house"],
        repost_notice="Перепечатка и копирование материалов допускаются только с указанием "
        "ссылки на eurasia24.media",
    )
    return Config(site=site, sources=sources)


def stored_items(document: dict) -> list[StoredItem]:
    items = []
    for entry in document["items"]:
        published = datetime.fromisoformat(entry["published"]).astimezone(UTC)
        item = Item(
            id=entry["id"],
            title=entry["title"],
            link=entry["link"],
            summary=entry["summary"],
            content=entry["content"],
            published=published,
            language=entry["language"],
        )
        items.append(
            StoredItem(entry["key"], item, (entry["source"],), published, published, published)
        )
    return items


def background(
    count: int, *, start: datetime, end: datetime, first_feed: int = 0
) -> Iterator[StoredItem]:
    """``count`` corpus items (benchmarks/corpus.py: seeded templates in ru/kk/en about
    Kazakhstan), their dates spread evenly from ``start`` to ``end``, oldest first."""
    span = (end - start) / max(count, 1)
    made = 0
    feed = first_feed
    while made < count:
        plan = corpus.plan_feed(SEED, feed)
        for serial in range(corpus.FIRST_SERIAL, corpus.FIRST_SERIAL + corpus.ITEMS_PER_FEED):
            if made >= count:
                break
            it = corpus.make_item(SEED, plan, serial)
            link = it.link if it.link.startswith("http") else f"https://{plan.site}{it.link}"
            published = start + span * made
            item = Item(
                id=it.guid,
                title=it.title,
                link=link,
                summary=it.summary_text,
                content=it.content_html,
                published=published,
                authors=(Author(name=it.author),),
                categories=tuple(it.categories),
                language=plan.lang,
            )
            yield StoredItem(
                f"bg{feed:05d}-{serial}", item, (f"bg{feed:05d}",), published, published, published
            )
            made += 1
        feed += 1


def merged(*streams: list[StoredItem]) -> list[StoredItem]:
    every = [s for stream in streams for s in stream]
    every.sort(key=lambda s: (s.published, s.key))
    return every


# The weeks the labelled items fall in, padded: background items are spread over them.
OCTOBER = datetime(2024, 9, 25, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC)
