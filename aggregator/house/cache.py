"""Match results kept between runs, so that a run matches in proportion to what changed.

A result is kept with the store's change mark it was computed at (``Storage.item_changes``,
on SQLite and PostgreSQL alike).  The next run asks the store what was stored, edited or
removed since, and:

- new or edited commentary (another hash of every field) is matched fully;
- unchanged commentary is re-checked against the changed items only, and matched fully
  again just when one of them could change its result: an item its result was built on
  (matched, candidate, related, or a rival it weighed) was edited or removed; a changed
  item is what one of its references (``source:``, links) names; holds a word pair of one
  of its quotes; or, where its match goes by similarity (no source, link or confident
  quote), is published in its date window and shares a word with it.
- Otherwise its result stands: matching reads nothing else of the store but the
  store-wide word frequencies of similarity and quote search, which a few items more
  shift by a hair.  They are the reason for one rule: once more than ``REMATCH_DRIFT``
  of the store has changed since everything was last matched, everything is matched
  again.  tests/house/test_cache.py checks that results equal a full re-match.

Where it is kept: a JSON file beside a SQLite store (``<store>.matches.json``); for a
PostgreSQL store, which has no file to sit beside, in the config file's directory as
``<database>.matches.json``, as the related index is.  The file records the store it is
for (its location, password masked) and the configured sources matching reads (names and
the house feed): another store, a change mark that went back or another source table
means everything is matched again.  A derived file rather than a table, so a store stays
the fetched data only and the cache can be deleted at any time; a missing, unreadable or
outdated file only means matching runs in full.  Written atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from aggregator.config import Config, config_dir
from aggregator.files import write_if_changed
from aggregator.house.index import WINDOW_AFTER, WINDOW_BEFORE, MatchIndex
from aggregator.house.load import Commentary
from aggregator.house.match import Match, match_all
from aggregator.house.saved import load_index
from aggregator.store import Storage, is_postgres_url

__all__ = ["MatchCache", "cache_path", "commentary_key", "match_changed"]

FORMAT = 2
# Store-wide word frequencies move with every item stored; a result kept while more than
# this share of the store changed could differ from a full re-match, so then everything
# is matched again.
REMATCH_DRIFT = 0.02


def commentary_key(commentary: Commentary) -> str:
    """A hash of every field of ``commentary``: any edit gives another key."""
    return hashlib.sha256(repr(commentary).encode()).hexdigest()


def cache_path(location: str, directory: Path | None = None) -> Path | None:
    """Where the match cache of the store at ``location`` is kept (None: nowhere)."""
    if is_postgres_url(location):
        database = urlsplit(location).path.strip("/") or "aggregator"
        return (directory or Path.cwd()) / f"{database}.matches.json"
    if not location or not Path(location).exists():
        return None
    return Path(f"{location}.matches.json")


def _sources_key(config: Config) -> str:
    sources = sorted((s.id, s.name, s.house) for s in config.sources)
    return hashlib.sha256(repr(sources).encode()).hexdigest()


class MatchCache:
    """Match results by commentary, with the store's change mark they are valid at."""

    def __init__(self, path: Path | None, store: str, sources: str = "") -> None:
        self.path = path
        self.store = store
        self.sources = sources
        self.mark: int | None = None  # the store's change mark of the results, if any
        self.base = 0  # items stored at the last full match
        self.drift = 0  # items changed since then
        self._entries: dict[str, dict] = {}
        self._changed = False
        if path is not None:
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                document = json.loads(path.read_text(encoding="utf-8"))
                if (
                    document["format"] == FORMAT
                    and document["store"] == store
                    and document["sources"] == sources
                ):
                    self._entries = dict(document["entries"])
                    self.mark = int(document["mark"])
                    self.base, self.drift = int(document["base"]), int(document["drift"])

    @classmethod
    def for_storage(cls, storage: Storage, config: Config) -> MatchCache:
        location = storage.location
        return cls(cache_path(location, config_dir(config)), location, _sources_key(config))

    def get(self, commentary: Commentary) -> Match | None:
        entry = self._entries.get(commentary_key(commentary))
        if entry is None:
            return None
        with contextlib.suppress(TypeError, ValueError, KeyError):
            return _match(entry)
        return None

    def put(self, commentary: Commentary, match: Match) -> None:
        self._entries[commentary_key(commentary)] = dataclasses.asdict(match)
        self._changed = True

    def forget(self) -> None:
        """Drop every result: everything is matched again."""
        self._changed = True
        self._entries = {}

    def save(self, keep: Sequence[Commentary], mark: int) -> None:
        """Write the results of ``keep`` (the commentary of this run), valid at ``mark``."""
        if self.path is None:
            return
        wanted = {commentary_key(c) for c in keep}
        entries = {k: v for k, v in self._entries.items() if k in wanted}
        if not self._changed and len(entries) == len(self._entries) and mark == self.mark:
            return
        document = {
            "format": FORMAT,
            "store": self.store,
            "sources": self.sources,
            "mark": mark,
            "base": self.base,
            "drift": self.drift,
            "entries": entries,
        }
        with contextlib.suppress(OSError):
            data = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_if_changed(self.path, data, durable=False)


def match_changed(
    commentary: Sequence[Commentary], storage: Storage, config: Config
) -> dict[str, Match]:
    """``match_all``'s results (by ``Commentary.id``), matching only what may have changed
    since the last run (see the module docstring)."""
    cache = MatchCache.for_storage(storage, config)
    if cache.mark is None:
        mark, changed, removed = storage.item_changes(None)
    else:
        mark, changed, removed = storage.item_changes(cache.mark)
    touched = {*changed, *removed}
    cache.drift += len(touched)
    if cache.mark is None or mark < cache.mark or cache.drift > REMATCH_DRIFT * cache.base:
        # First run, another store (its mark went back), or much changed: match all.
        cache.forget()
        cache.base, cache.drift = storage.items_count(), 0
    house = {s.id for s in config.sources if s.house}
    fresh = [
        stored
        for stored in map(storage.get_item, dict.fromkeys(changed))
        if stored is not None and not house.intersection(stored.source_ids)
    ]
    fresh.sort(key=lambda s: (s.published, s.key))
    changed_index = MatchIndex.build(fresh)
    results: dict[str, Match] = {}
    todo = []
    for c in commentary:
        kept = cache.get(c)
        if kept is None or (touched and _affected(c, kept, touched, changed_index)):
            todo.append(c)
        else:
            results[c.id] = kept
    if todo:
        results.update(
            match_all(todo, storage, config, index_of=lambda: load_index(storage, config))
        )
        for c in todo:
            cache.put(c, results[c.id])
    cache.save(commentary, mark)
    storage.changes_read("house", mark)  # the store may drop what every reader has read
    return results


def _affected(commentary: Commentary, match: Match, touched: set[str], fresh: MatchIndex) -> bool:
    """Whether items stored, edited or removed since (``touched``; the stored ones indexed
    in ``fresh``) could change the match of an unchanged commentary."""
    weighed = {*match.keys, *(k for k, _ in match.candidates), *match.related, *match.considered}
    if not touched.isdisjoint(weighed):
        return True
    if not len(fresh):
        return False
    references = (*commentary.sources, *commentary.links, *commentary.background_links)
    if any(fresh.find(reference) for reference in references):
        return True
    docs = range(len(fresh))
    if any(fresh.quote_found(quote, doc) > 0 for quote in commentary.quotes for doc in docs):
        return True
    if match.method in ("source", "link") or (match.method == "quote" and match.confident):
        return False  # settled before similarity: the new items are no source, link or quote
    around = commentary.published
    since = (around - WINDOW_BEFORE).timestamp()
    until = (around + WINDOW_AFTER).timestamp()
    if not any(since <= fresh.time_of(doc) <= until for doc in docs):
        return False
    return bool(fresh.similar(commentary.text, around, language=commentary.language))


def _match(entry: dict) -> Match:
    return Match(
        keys=tuple(entry["keys"]),
        method=entry["method"],
        confidence=float(entry["confidence"]),
        candidates=tuple((str(k), float(c)) for k, c in entry["candidates"]),
        quotes=tuple(int(n) for n in entry["quotes"]),
        error=entry["error"],
        note=entry["note"],
        related=tuple(entry["related"]),
        evidence=tuple(entry["evidence"]),
        considered=tuple(entry["considered"]),
    )
