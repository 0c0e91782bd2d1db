"""Which stored entries each output carries: the sources publish knows, the filters of
an output, and the scans of the store that pick its entries, newest first."""

from __future__ import annotations

import contextlib
import heapq
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from aggregator.config import (
    Config,
    ConfigError,
    OutputConfig,
    SourceConfig,
    config_dir,
    shown_name,
)
from aggregator.health import public_feed_uri
from aggregator.house import HouseCommentary, HouseEntry
from aggregator.models import Item, SourceState, StoredItem, configured
from aggregator.publish.feeds import SourceView, feed_url, language_tag, site_url
from aggregator.publish.language import guess_language
from aggregator.store import Storage
from aggregator.text.html import plain_text
from aggregator.text.urls import http_uri
from aggregator.text.xml import clean_text

KINDS = ("source", "commentary")
PAGES_DIR = "commentary"  # output/commentary/<slug>.html: a page per house commentary


def commentary_pages(house: HouseCommentary) -> dict[str, str]:
    """Each commentary's page, ``commentary/<slug>.html``; a slug two commentaries share
    (a file and a post of the house feed) gets ``-2``, ``-3`` in order of publication."""
    pages: dict[str, str] = {}
    taken: set[str] = set()
    entries = sorted(house.entries.values(), key=lambda e: (e.stored.published, e.stored.key))
    for entry in entries:
        base = _SLUG_UNSAFE.sub("-", entry.commentary.slug).strip("-.") or "commentary"
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        pages[entry.stored.key] = f"{PAGES_DIR}/{slug}.html"
    return pages


_SLUG_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")

# A source's language is guessed from the start of each of its newest items, so that
# every item has its say (guess_language reads the first few thousand characters).
_SOURCE_SAMPLE = 30
_SAMPLE_CHARS = 100


def _item_text(item: Item) -> str:
    return " ".join((item.title, plain_text(item.summary), plain_text(item.content)))


class Catalog:
    """What publish knows about sources: their config and their stored state."""

    def __init__(
        self, config: Config, states: Sequence[SourceState], storage: Storage | None = None
    ) -> None:
        self.config = config
        self.storage = storage  # for a source's language, guessed from its newest items
        self.sources: dict[str, SourceConfig] = config.publishing_sources()
        self.states: dict[str, SourceState] = {s.source_id: s for s in states}
        self.base_dir = config_dir(config)
        self._views: dict[str, SourceView] = {}
        self._guessed: dict[str, str | None] = {}
        self._source_guessed: dict[str, str | None] = {}
        self.related_dir: Path | None = None  # output/related/, written by the relate stage
        self.house = HouseCommentary()  # the house's commentary, matched to its sources
        self.house_feed: str | None = None
        self.pages: dict[str, str] = {}  # commentary store key -> "commentary/<slug>.html"

    def use_house(self, house: HouseCommentary, house_feed: str | None) -> None:
        """The matched commentary, and the output that is the house's own feed (its
        commentary entries' atom:source / RSS <source>)."""
        self.house = house
        self.house_feed = house_feed
        self.pages = commentary_pages(house)

    def configured(self, stored: StoredItem) -> bool:
        """Whether a source that gave ``stored`` is still in the configuration (or it is
        a commentary file, from none): a source removed from feeds.yaml publishes
        nothing more, though the store keeps its history (were it added back, its items
        would be published again)."""
        return configured(stored.source_ids, self.sources)

    def page_url(self, key: str) -> str | None:
        """The public URL of a commentary's page (output/commentary/<slug>.html)."""
        page = self.pages.get(key)
        return site_url(self.config, page) if page else None

    def house_feed_url(self) -> str | None:
        return feed_url(self.config, self.house_feed, "rss") if self.house_feed else None

    def commentary(self, stored: StoredItem) -> HouseEntry | None:
        return self.house.entries.get(stored.key)

    def with_commentary(
        self, items: Iterable[StoredItem], source_ids: Sequence[str], since: datetime | None
    ) -> Iterator[StoredItem]:
        """Stored items merged, newest first, with the commentary files that pass the
        store's filters (files come through no source, so a source filter drops them)."""
        files = [] if source_ids else self.house.files()
        if since is not None:
            files = [f for f in files if f.published >= since]
        if not files:
            return iter(items)
        return heapq.merge(items, files, key=lambda s: (s.published, s.key), reverse=True)

    def related_links(self, key: str) -> tuple[tuple[str, str], ...]:
        """(href, title) of an entry's related entries, from ``related/<key>.json``.

        Reading the few files of the entries being published keeps publishing cheap
        and the data flowing one way: ``aggregator related`` computes, publish reads.
        """
        if self.related_dir is None or not key.isalnum():
            return ()
        try:
            data = json.loads((self.related_dir / f"{key}.json").read_bytes())
        except (OSError, ValueError):
            return ()  # not computed yet (or unreadable): no links rather than a failure
        links = []
        for entry in data.get("related", ()) if isinstance(data, dict) else ():
            href = http_uri(entry.get("url")) if isinstance(entry, dict) else None
            if href:
                links.append((href, clean_text(entry.get("title"))))
        return tuple(links)

    def kind(self, stored: StoredItem) -> str:
        # Commentary: a commentary file, or a post of the house's own feed.
        if stored.key in self.house.entries:
            return "commentary"
        for source_id in stored.source_ids:
            source = self.sources.get(source_id)
            if source is not None and source.house:
                return "commentary"
        return "source"

    def tags(self, stored: StoredItem) -> set[str]:
        tags = {c.casefold() for c in stored.item.categories}
        for source_id in stored.source_ids:
            source = self.sources.get(source_id)
            if source is not None:
                tags.update(t.casefold() for t in source.tags)
        return tags

    def language(self, stored: StoredItem) -> str | None:
        """The item's own language, else its source's, else guessed from its text;
        None when unsure (never the site's: a wrong label is worse than none)."""
        house = self.house.entries.get(stored.key)
        if house is not None:
            return house.commentary.language  # what its entry view says, too
        if stored.item.language:
            return stored.item.language
        for source_id in stored.source_ids:
            source = self.sources.get(source_id)
            if source is not None and source.language:
                return source.language
        if stored.key not in self._guessed:
            guessed = guess_language(_item_text(stored.item))
            if guessed is None:
                # Too little text to tell (a headline, a link): the language its source
                # writes in, as its newest items together show it.
                guessed = next(filter(None, map(self._source_language, stored.source_ids)), None)
            self._guessed[stored.key] = guessed
        return self._guessed[stored.key]

    def _source_language(self, source_id: str) -> str | None:
        if source_id not in self._source_guessed:
            guessed = None
            if self.storage is not None:
                newest = self.storage.iter_items(source_ids=[source_id], limit=_SOURCE_SAMPLE)
                with contextlib.closing(newest) as items:
                    texts = [_item_text(stored.item)[:_SAMPLE_CHARS] for stored in items]
                guessed = guess_language(" ".join(texts)) if len(texts) > 1 else None
            self._source_guessed[source_id] = guessed
        return self._source_guessed[source_id]

    def source_view(self, source_id: str) -> SourceView:
        view = self._views.get(source_id)
        if view is None:
            view = self._views[source_id] = self._make_source_view(source_id)
        return view

    def _make_source_view(self, source_id: str) -> SourceView:
        config = self.sources.get(source_id)
        state = self.states.get(source_id)
        url = state.url if state is not None else config.url if config is not None else None
        feed_url = self.feed_uri(url)
        # RFC 4287 4.2.11: atom:source SHOULD carry updated; the feed's own time, else
        # when we last read it.
        updated = None
        if state is not None:
            updated = state.feed_updated or state.last_success or state.last_attempt
        return SourceView(
            id=feed_url or self.config.site.tag_uri(f"source/{quote(source_id, safe='')}"),
            name=shown_name(source_id, config, state and state.title),
            feed_url=feed_url,
            home_url=http_uri(state.link) if state is not None else None,
            updated=updated,
        )

    def feed_uri(self, url: str | None) -> str | None:
        """``health.public_feed_uri``: None for a local file, no login."""
        return public_feed_uri(url)


@dataclass(frozen=True)
class Selection:
    output: OutputConfig
    sources: frozenset[str]  # empty: all
    tags: frozenset[str]  # casefolded; empty: all
    languages: tuple[str, ...]  # casefolded
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    kinds: frozenset[str]
    since: datetime | None

    @classmethod
    def compile(cls, output: OutputConfig, catalog: Catalog, newest: datetime | None):
        where = f"outputs: {output.name!r}"
        unknown = [k for k in output.kinds if k not in KINDS]
        if unknown:
            raise ConfigError(f"{where}: kinds {unknown} unknown; use 'source' and/or 'commentary'")
        since = None
        if output.max_age is not None and newest is not None:
            since = newest - timedelta(seconds=output.max_age)
        return cls(
            output=output,
            sources=frozenset(output.sources),
            tags=frozenset(t.casefold() for t in output.tags),
            languages=tuple((language_tag(lang) or lang).casefold() for lang in output.languages),
            include=tuple(_regex(p, f"{where} include") for p in output.include),
            exclude=tuple(_regex(p, f"{where} exclude") for p in output.exclude),
            kinds=frozenset(output.kinds),
            since=since,
        )

    @property
    def scan_key(self) -> tuple[tuple[str, ...], datetime | None]:
        """What the store can filter for us; selections with the same key share a scan."""
        return tuple(sorted(self.sources)), self.since

    @property
    def store_filters_all(self) -> bool:
        """True when the store's filters alone decide: the scan may stop at max_entries."""
        return not (
            self.tags or self.languages or self.include or self.exclude or len(self.kinds) < 2
        )

    def matches(self, stored: StoredItem, catalog: Catalog, text: _LazyText) -> bool:
        if self.sources and self.sources.isdisjoint(stored.source_ids):
            return False
        if self.since is not None and stored.published < self.since:
            return False
        if len(self.kinds) < len(KINDS) and catalog.kind(stored) not in self.kinds:
            return False
        if self.tags and self.tags.isdisjoint(catalog.tags(stored)):
            return False
        if self.languages:
            language = (language_tag(catalog.language(stored)) or "").casefold()
            if not any(language == w or language.startswith(w + "-") for w in self.languages):
                return False
        if (
            self.include
            and not any(p.search(text.title) for p in self.include)
            and not any(p.search(text.full) for p in self.include)
        ):
            return False
        return not (self.exclude and any(p.search(text.full) for p in self.exclude))


class _LazyText:
    """The text include/exclude patterns see: the title, then the title plus the
    text of summary and content, each computed once per item and only if asked."""

    def __init__(self, stored: StoredItem) -> None:
        self._item = stored.item
        self._full: str | None = None

    @property
    def title(self) -> str:
        return self._item.title

    @property
    def full(self) -> str:
        if self._full is None:
            item = self._item
            self._full = "\n".join((item.title, plain_text(item.summary), plain_text(item.content)))
        return self._full


def _regex(pattern: str, where: str) -> re.Pattern[str]:
    # Case ignored (Unicode-wide: Cyrillic and Kazakh letters too), as an editor writing
    # "нефть" means "Нефть" at the head of a title; every pattern the example configs
    # carried began with (?i) for that.  (?-i:...) keeps a part case-sensitive.
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(
            f"{where}: {pattern!r} is not a valid regular expression: {exc}"
        ) from None


def is_empty(item: Item) -> bool:
    """A listing with nothing in it (no title, link, text or enclosure: feeds have such
    placeholders): published, it would be an "(untitled)" entry leading nowhere."""
    return not (
        item.title.strip()
        or item.link
        or item.enclosures
        or plain_text(item.summary).strip()
        or plain_text(item.content).strip()
    )


def newest_item(storage: Storage) -> datetime | None:
    with contextlib.closing(iter(storage.iter_items(limit=1, newest_first=True))) as items:
        for stored in items:
            return stored.published
    return None


def select_entries(
    storage: Storage, selections: Sequence[Selection], catalog: Catalog
) -> dict[str, list[StoredItem]]:
    """Pick each output's entries, newest first, in as few store scans as possible.

    Outputs whose store-side filters agree share one scan, which stops as soon as
    every one of them is full, so memory stays bounded by the outputs' sizes.
    """
    picked: dict[str, list[StoredItem]] = {s.output.name: [] for s in selections}
    groups: dict[tuple[tuple[str, ...], datetime | None], list[Selection]] = {}
    for selection in selections:
        if selection.output.max_entries > 0:
            groups.setdefault(selection.scan_key, []).append(selection)
    for (source_ids, since), group in groups.items():
        limit = None
        if all(s.store_filters_all for s in group):
            limit = max(s.output.max_entries for s in group)
        active = list(group)
        items = storage.iter_items(
            source_ids=list(source_ids) or None, since=since, limit=limit, newest_first=True
        )
        items = catalog.with_commentary(items, source_ids, since)
        with contextlib.closing(iter(items)) as items:
            for stored in items:
                if is_empty(stored.item) or not catalog.configured(stored):
                    continue
                text = _LazyText(stored)
                for selection in list(active):
                    if selection.matches(stored, catalog, text):
                        chosen = picked[selection.output.name]
                        chosen.append(stored)
                        if len(chosen) >= selection.output.max_entries:
                            active.remove(selection)
                if not active:
                    break
    for chosen in picked.values():
        # The store's order may tie; ours must not.
        chosen.sort(key=lambda s: (s.published, s.key), reverse=True)
    return picked
