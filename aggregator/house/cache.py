"""Match results kept between runs, so that a run matches in proportion to what changed.

A result is kept with the store's change mark it was computed at (``Storage.item_changes``,
on SQLite and PostgreSQL alike).  The next run asks the store what was stored, edited or
removed since, and:

- new or edited commentary (another hash of every field) is matched fully;
- unchanged commentary is matched again only when a change could change its result.  What
  a result rests on is recorded while it is matched, not guessed afterwards: the items it
  weighed (matched, candidates, related, every item its similarity ranked: ``Match``), and
  what its searches read of the store as a whole (``MatchIndex.record``: ``Reads``) -- how
  many items have each word they weighed or counted, which figures lie near its figures,
  which stems chose its quote's candidate items, which date windows they searched.  It is
  matched again when an item it weighed was edited or removed; a changed item is what one
  of its references (``source:``, links) names or holds a word pair of one of its quotes;
  one published in a window it searched has a word it weighed (a new candidate); a
  candidate item of its quote changed, or more new items have as many of the stems that
  chose them as may come before those holding the quote; the stems that choose them are
  others now; or a count it read is another now (``_counts_changed``): a word some item has that none had,
  or the reverse; a word few items have (under ``1 / REMATCH_DRIFT``: its weight moves by
  more than the store's drift moves any, and one item more with the post's figure "92",
  even a week after it, can turn a clear winner into none); the count of a name or figure
  on the other side of one of match.py's limits; another figure near one of its figures.
- Otherwise its result stands.  What is left is the drift of the store as a whole: its
  size, its items' average length, how many items have a word many items have.  Each
  moves every weight by a hair; once more than ``REMATCH_DRIFT`` of the store has changed
  since everything was last matched, everything is matched again, and a word many items
  have counts as changed once its count moved by more than that share of it.
  tests/house/test_cache.py checks that the results equal a full re-match.

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
from collections.abc import Callable, Sequence

from aggregator.config import Config
from aggregator.house.index import MatchIndex, Reads
from aggregator.house.load import Commentary, may_name
from aggregator.house.match import Match, evidence_limits, match_all, rules_version
from aggregator.house.saved import load_index
from aggregator.store import Storage, StorageError

__all__ = ["DOCUMENT", "MatchCache", "commentary_key", "match_changed"]

FORMAT = 5
DOCUMENT = "house.matches"  # its name among the store's derived documents
# Store-wide word frequencies move with every item stored; a result kept while more than
# this share of the store changed (or of the items having a word it weighed) could differ
# from a full re-match, so then it is matched again.
REMATCH_DRIFT = 0.02


def commentary_key(commentary: Commentary) -> str:
    """A hash of every field of ``commentary``: any edit gives another key."""
    return hashlib.sha256(repr(commentary).encode()).hexdigest()


def _sources_key(config: Config) -> str:
    sources = sorted((s.id, s.name, s.house) for s in config.published_sources())
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
        kept = self.get_with_reads(commentary)
        return kept[0] if kept else None

    def get_with_reads(self, commentary: Commentary) -> tuple[Match, Reads | None] | None:
        """The kept match of ``commentary`` and what it read of the store (None: only
        the items it names)."""
        entry = self._entries.get(commentary_key(commentary))
        if entry is None:
            return None
        with contextlib.suppress(TypeError, ValueError, KeyError, AttributeError):
            reads = entry["reads"]
            return _match(entry["match"]), Reads.from_json(reads) if reads else None
        return None

    def put(self, commentary: Commentary, match: Match, reads: Reads | None = None) -> None:
        """Keep ``match``, with what it read of the store as a whole (``MatchIndex.record``)."""
        entry = {"match": dataclasses.asdict(match), "reads": reads.as_json() if reads else None}
        self._entries[commentary_key(commentary)] = entry
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
    nameable = may_name(config)
    fresh = [
        stored
        for stored in map(storage.get_item, dict.fromkeys(changed))
        if stored is not None and nameable(stored)
    ]
    fresh.sort(key=lambda s: (s.published, s.key))
    changed_index = MatchIndex.build(fresh)
    arrivals = [
        (changed_index.time_of(doc), changed_index.words_of(doc)) for doc in range(len(fresh))
    ]
    loaded: list[MatchIndex] = []

    def index_of() -> MatchIndex:
        """The index of every stored item, as it is now (loaded once, when first needed)."""
        if not loaded:
            loaded.append(load_index(storage, config, save=keep))
        return loaded[0]

    results: dict[str, Match] = {}
    todo = []
    for c in commentary:
        kept = cache.get_with_reads(c)
        if kept is None or (
            touched and _affected(c, *kept, touched, changed_index, arrivals, index_of)
        ):
            todo.append(c)
        else:
            results[c.id] = kept[0]
    for c in todo:
        results[c.id], reads = _match_recorded(c, storage, config, index_of)
        cache.put(c, results[c.id], reads)
    if keep:
        cache.save(storage, commentary, mark)
        storage.changes_read("house", mark)  # the store may drop what every reader has read
    return results


def _match_recorded(
    commentary: Commentary, storage: Storage, config: Config, index_of: Callable[[], MatchIndex]
) -> tuple[Match, Reads | None]:
    """``match_all`` of one commentary, and what it read of the store as a whole (None:
    only the items it names, without the index)."""
    recorded: list[Reads] = []

    def recording() -> MatchIndex:
        index = index_of()
        recorded.append(index.record())
        return index

    try:
        match = match_all([commentary], storage, config, index_of=recording)[commentary.id]
    finally:
        if recorded:
            index_of().stop_recording()
    return match, recorded[0] if recorded else None


def _affected(
    commentary: Commentary,
    match: Match,
    reads: Reads | None,
    touched: set[str],
    fresh: MatchIndex,
    arrivals: list[tuple[float, set[str]]],
    index_of: Callable[[], MatchIndex],
) -> bool:
    """Whether items stored, edited or removed since (``touched``; the stored ones indexed
    in ``fresh``, with the time and words of each in ``arrivals``) could change the match
    of an unchanged commentary, which read ``reads`` of the store as a whole."""
    weighed = {*match.keys, *(k for k, _ in match.candidates), *match.related, *match.considered}
    if not touched.isdisjoint(weighed):
        return True  # an item it decided by is another now, or gone
    if len(fresh):
        references = (*commentary.sources, *commentary.links, *commentary.background_links)
        if any(fresh.find(reference) for reference in references):
            return True
        docs = range(len(fresh))
        if any(fresh.quote_found(q, doc) > 0 for q in commentary.quotes for doc in docs):
            return True
    if reads is None:
        return False  # it read nothing else of the store: the items its source: names
    if any(not touched.isdisjoint(kept["items"]) for kept in reads.quotes.values()):
        return True  # a candidate item of its quote is another now, or gone
    searched = set(reads.weights)
    for when, words in arrivals:
        in_window = any(since <= when <= until for since, until in reads.windows)
        if in_window and not searched.isdisjoint(words):
            return True  # a new candidate where it searched
    for kept in reads.quotes.values():
        # New items each with as many of the stems that choose its quote's candidates as
        # those holding any of it: more of them than may come first would push one out.
        anchors = {"s" + stem for stem in kept["anchors"]}
        entering = sum(len(anchors & words) >= kept["hits"] for _, words in arrivals)
        if entering > kept["slack"]:
            return True
    return _counts_changed(reads, index_of())


def _counts_changed(reads: Reads, index: MatchIndex) -> bool:
    """Whether what a match read of the store as a whole (``reads``) is another in
    ``index`` now, so far as it can change a decision: how many items have a word it
    weighed (beyond REMATCH_DRIFT of them: the same drift as of the store's size, which
    moves every weight); on which side of match.py's limits the count of a name or figure
    is; which stems choose a quote's candidates; which figures are near a figure."""
    for word, then in reads.weights.items():
        now = index.frequency(word)
        if now != then and (not then or not now or abs(now - then) > REMATCH_DRIFT * then):
            return True
    limits = tuple(zip(evidence_limits(reads.size), evidence_limits(len(index)), strict=True))
    for word, then in reads.counts.items():
        now = index.frequency(word)
        if (now == 0) != (then == 0) or any((then <= a) != (now <= b) for a, b in limits):
            return True
    for quote, kept in reads.quotes.items():
        if set(index.quote_anchors(quote)) != set(kept["anchors"]):
            return True  # other stems choose its candidates
    for span, figures in reads.figures.items():
        low, high = map(int, span.split(":"))
        if [figure for figure, _ in index.figures_between(low, high)] != figures:
            return True
    return False


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
