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

Where it is kept: in the store itself (``Storage.put_derived``, a small JSON document),
on SQLite and PostgreSQL alike, so that every host running against a PostgreSQL store
shares one set of results.  The document records the configured sources matching reads
(names and the house feed) and the version of the matching rules (``match.rules_version``:
a hash of the matcher's source): another source table, other rules (an upgrade), or a
change mark that went back (a store restored from an older copy), means everything is
matched again.  Derived data
only: a missing or unreadable document only means matching runs in full, and
``store copy`` does not copy it (the target's marks are its own).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Sequence

from aggregator.config import Config
from aggregator.house.index import WINDOW_AFTER, WINDOW_BEFORE, MatchIndex
from aggregator.house.load import Commentary
from aggregator.house.match import Match, match_all, rules_version
from aggregator.house.saved import load_index
from aggregator.store import Storage, StorageError

__all__ = ["DOCUMENT", "MatchCache", "commentary_key", "match_changed"]

FORMAT = 4
DOCUMENT = "house.matches"  # its name among the store's derived documents
# Store-wide word frequencies move with every item stored; a result kept while more than
# this share of the store changed could differ from a full re-match, so then everything
# is matched again.
REMATCH_DRIFT = 0.02


def commentary_key(commentary: Commentary) -> str:
    """A hash of every field of ``commentary``: any edit gives another key."""
    return hashlib.sha256(repr(commentary).encode()).hexdigest()


def _sources_key(config: Config) -> str:
    sources = sorted((s.id, s.name, s.house) for s in config.sources)
    return hashlib.sha256(repr(sources).encode()).hexdigest()


class MatchCache:
    """Match results by commentary, with the store's change mark they are valid at."""

    def __init__(self, document: str | None, sources: str = "", rules: str = "") -> None:
        self.sources = sources
        self.rules = rules  # the matching rules' version the results must come from
        self.mark: int | None = None  # the store's change mark of the results, if any
        self.base = 0  # items stored at the last full match
        self.drift = 0  # items changed since then
        self._entries: dict[str, dict] = {}
        self._changed = False
        if document:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                kept = json.loads(document)
                if (kept["format"], kept["sources"], kept["rules"]) == (FORMAT, sources, rules):
                    self._entries = dict(kept["entries"])
                    self.mark = int(kept["mark"])
                    self.base, self.drift = int(kept["base"]), int(kept["drift"])

    @classmethod
    def for_storage(cls, storage: Storage, config: Config) -> MatchCache:
        try:
            document = storage.get_derived(DOCUMENT)
        except StorageError:
            document = None  # a store not migrated yet (read-only): matched in full
        return cls(document, _sources_key(config), rules_version())

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

    def document(self, keep: Sequence[Commentary], mark: int) -> str | None:
        """The document of the results of ``keep`` (the commentary of this run), valid
        at ``mark``; None when it would say what the stored one says."""
        wanted = {commentary_key(c) for c in keep}
        entries = {k: v for k, v in self._entries.items() if k in wanted}
        if not self._changed and len(entries) == len(self._entries) and mark == self.mark:
            return None
        document = {
            "format": FORMAT,
            "sources": self.sources,
            "rules": self.rules,
            "mark": mark,
            "base": self.base,
            "drift": self.drift,
            "entries": entries,
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True)

    def save(self, storage: Storage, keep: Sequence[Commentary], mark: int) -> None:
        """Keep the results of ``keep`` in the store, valid at ``mark``."""
        document = self.document(keep, mark)
        if document is not None:
            storage.put_derived(DOCUMENT, document)
            wanted = {commentary_key(c) for c in keep}
            self._entries = {k: v for k, v in self._entries.items() if k in wanted}
            self.mark, self._changed = mark, False


def match_changed(
    commentary: Sequence[Commentary], storage: Storage, config: Config, *, keep: bool = True
) -> dict[str, Match]:
    """``match_all``'s results (by ``Commentary.id``), matching only what may have changed
    since the last run (see the module docstring).  ``keep=False``: the results and the
    saved index are used but nothing is written (``aggregator comment list``, which may
    run beside a run that is writing them)."""
    cache = MatchCache.for_storage(storage, config)
    if cache.mark is None:
        mark, changed, removed = storage.item_changes(None)
    else:
        mark, changed, removed = storage.item_changes(cache.mark)
    touched = {*changed, *removed}
    cache.drift += len(touched)
    if cache.mark is None or mark < cache.mark or cache.drift > REMATCH_DRIFT * cache.base:
        # First run, other matching rules, another store (its mark went back), or much
        # changed: match all.
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
            match_all(
                todo, storage, config, index_of=lambda: load_index(storage, config, save=keep)
            )
        )
        for c in todo:
            cache.put(c, results[c.id])
    if keep:
        cache.save(storage, commentary, mark)
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
