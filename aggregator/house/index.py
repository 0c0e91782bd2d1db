"""The match index: every stored item a commentary may comment on, searchable by quote,
by similarity within a date window, and by language-independent evidence (skeletons of
names and numbers).  How the index is used to decide is match.py's.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import itertools
import math
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aggregator.models import StoredItem
from aggregator.text.html import plain_text
from aggregator.text.urls import canonical_url
from aggregator.text.words import STOP_WORDS, detect_language, stem_tokens, tokenize

__all__ = [
    "INDEX_MODULES",
    "MIN_QUOTE_PAIRS",
    "code_version",
    "reference_url",
    "words",
    "language_code",
    "spelled_numbers",
    "spelled_in",
    "quantities",
    "Quantity",
    "Reads",
    "WINDOW_AFTER",
    "WINDOW_BEFORE",
    "MatchIndex",
    "skeleton",
]

MIN_QUOTE_PAIRS = 3  # fewer word pairs than this is too little text to match on
# Quote matching.
_ANCHORS = 8  # rarest stems of a quote used to find candidates
_ANCHOR_POSTINGS = 8_000  # stop adding anchors (after two) once this many postings are read
_QUOTE_CANDIDATES = 12

REPRINT_WORDS = 40  # two items whose opening words are mostly the same ...
REPRINT_SHARE = 0.6  # ... (this share of their word pairs) are one text, reprinted
# Similarity.
WINDOW_BEFORE = timedelta(days=7)
WINDOW_AFTER = timedelta(days=1)
_QUERY_TERMS = 30
_RANKED = 10  # items a search returns
_WINDOW_POSTINGS = 4_000  # a word in more items than this within the window says little
_TITLE_BOOST = 2  # an item's title words count this many extra times
_K1, _B = 1.2, 0.5

# Similarity across languages (see ``skeleton``): an item in another language than the
# commentary is also scored by the skeletons its words share with the commentary's.
CROSS_WEIGHT = 1.0  # skeleton coverage counts this much for an item in another language
SAME_WEIGHT = 0.0  # ... and this much for an item in the commentary's own language
_SKELETON_LETTERS = 4  # a word's skeleton: its first letter and next consonants, this many
_SKELETON_MIN = 3  # shorter skeletons ("Кения" -> "kn") match too many words to count
_SKELETON_SHARED = 2  # one shared skeleton is chance ("верить"/"over..." -> "vrt")
_FIGURES_INSERTED = 256  # new figures put in place one by one; more: sorted in at once

# The code an index's content rests on: another version of any of these may index the
# same items otherwise, so an index kept between runs by other code is not used.
INDEX_MODULES = (
    "aggregator.house.index",
    "aggregator.text.words",
    "aggregator.text.urls",
    "aggregator.text.html",
)


@functools.cache
def code_version(modules: tuple[str, ...]) -> str:
    """A hash of the source of ``modules`` (dotted names): another whenever any of them
    changes, whatever its file's size or time says.  A module whose source cannot be
    read counts by its name and file alone."""
    import importlib

    digest = hashlib.sha256()
    for name in modules:
        module = importlib.import_module(name)
        digest.update(name.encode() + b"\0")
        try:
            with open(module.__file__ or "", "rb") as f:
                digest.update(f.read())
        except (OSError, TypeError):
            digest.update(repr(module.__file__).encode())
    return digest.hexdigest()


# "2 000", "12 000 000", English "1,200": one number, as "2000" is (tokenize drops
# one-digit words).
_DIGIT_GROUPS = re.compile(r"\b\d{1,3}(?:[ \u00a0\u202f,]\d{3})+\b")


# "16,5", "2.3": a whole part and one or two decimals (not a date "07.03.2025").
_DECIMAL = re.compile(r"(?<![\d.,])(\d{1,4})[.,](\d{1,2})(?![\d]|[.,]\d)")


_ANY_DIGIT = re.compile(r"\d")

# "16,5%": the sign is a word (tokenize drops it), "pct", which counts what "процентов",
# "percent" and "пайыз" count (``_UNITS``): "шестнадцать с половиной процентов" and
# "16,5%" are one quantity.  (Not the word "процент" itself: items with "%" would then
# share it with every post on a share of anything, and similarity would move.)
_PERCENT = re.compile(r"(?<=\d)[ \u00a0\u202f]?%")


# "25-го марта", "к 25-му числу", "2025-м", "25-ші": the ending of an ordinal or a case
# written after a figure is no word of its own (it would be read as what the figure counts).
_FIGURE_ENDING = re.compile(
    r"(?<=\d)-(?:го|му|й|я|е|ю|м|х|ми|ти|ой|ое|ая|ый|ий|ую|ые|ых|ым|ого|ому|ом|ее|ех|ью"
    r"|ші|шы|ыншы|інші|нші|ншы|сы|сі|ы|і|да|де|та|те|ға|ге|қа|ке|дан|ден|тан|тен|нан|нен)"
    r"(?![\w-])"
)

# "$1.2bn", "300mn": an English scale written into the figure is its word.
_SCALE_SUFFIX = re.compile(r"(?<=\d)\s?(bn|mn|mln|trn)\b", re.IGNORECASE)
_SCALE_WORDS = {"bn": "billion", "mn": "million", "mln": "million", "trn": "trillion"}

# A one-digit figure before its scale word ("3 млн", "5 тысяч", "2–3 тысячи", "6 million")
# is written whole ("3000000"), as "3 000 000" is: tokenize drops a one-digit word, and the
# scale word alone would be read as one of it.  A range's one-digit start takes its end's
# scale ("5–10 тысяч", "от 5 до 10 тысяч": 5 000 to 10 000).
_SMALL_SCALED = re.compile(
    r"(?<![\w.,])(\d)(?:([ \u00a0\u202f]?[–—-][ \u00a0\u202f]?|\s(?:до|по|и|или)\s)"
    r"(\d{1,3}(?:[.,]\d{1,2})?))?"
    r"[ \u00a0\u202f]+(тыс(?:яч[а-я]*|\.)?|млн|млрд|трлн|миллион[а-я]*|миллиард[а-я]*"
    r"|триллион[а-я]*|мың[а-яәғқңөұүһі]*|thousands?|millions?|billions?|trillions?)(?![\w])",
    re.IGNORECASE,
)
# "полмиллиона", "пол-тысячи", "полсотни": half of the scale.
_HALF_SCALED = re.compile(
    r"(?<!\w)пол-?(тысяч[а-я]*|миллион[а-я]*|миллиард[а-я]*|сотн[а-я]*)(?!\w)", re.IGNORECASE
)


def _scale_of(word: str) -> int:
    stem = word.casefold()
    for start, scale in (("тыс", 10**3), ("мың", 10**3), ("thousand", 10**3), ("млн", 10**6),
                         ("миллион", 10**6), ("million", 10**6), ("млрд", 10**9),
                         ("миллиард", 10**9), ("billion", 10**9), ("сотн", 100)):  # fmt: skip
        if stem.startswith(start):
            return scale
    return 10**12  # трлн, триллион, trillion


def _whole_small(match: re.Match[str]) -> str:
    first, between, end, word = match.groups()
    scale = _scale_of(word)
    if end is None:
        return str(int(first) * scale)
    if len(end) == 1:
        return f"{int(first) * scale}{between}{int(end) * scale}"
    return f"{int(first) * scale}{between}{end} {word}"


def _written_out(text: str) -> str:
    """``text`` with its figures' endings and scales written as ``words`` reads them."""
    if "-" in text:
        text = _FIGURE_ENDING.sub("", text)
    if "n" in text or "N" in text:
        text = _SCALE_SUFFIX.sub(lambda m: " " + _SCALE_WORDS[m.group(1).lower()], text)
    return _SMALL_SCALED.sub(_whole_small, text)


def words(text: str) -> list[str]:
    """``tokenize``, with numbers written in digit groups ("2 000") kept whole, a decimal
    ("16,5", "2.3") as its whole part and then the decimal ("16", "16d5"), a per cent
    sign after a figure as the word "pct", a one-digit figure with its scale word whole
    ("3 млн": "3000000"; also "полмиллиона": "500000"), and no ordinal's ending after a
    figure ("25-го": "25")."""
    if "пол" in text or "Пол" in text:
        text = _HALF_SCALED.sub(lambda m: str(_scale_of(m.group(1)) // 2), text)
    if _ANY_DIGIT.search(text):
        text = _written_out(text)
        text = _DIGIT_GROUPS.sub(lambda m: re.sub(r"\D", "", m.group()), text)
        text = _DECIMAL.sub(r"\1 \1d\2", text)
        if "%" in text:
            text = _PERCENT.sub(" pct", text)
    return tokenize(text)


# "inform.kz/ru/...", "www.inform.kz/...", "//inform.kz/...": a web address without a scheme.
_BARE_ADDRESS = re.compile(r"(?://)?(?:[\w-]+\.)+[^\W\d_]{2,}(?::\d+)?(?:[/?#]\S*)?", re.ASCII)


def reference_url(reference: str) -> str | None:
    """The URL an editor's reference means, or None: a full URL as it is, and an address
    written without its scheme ("inform.kz/ru/...", "www.inform.kz/...") as https."""
    reference = reference.strip()
    if "://" in reference:
        return reference
    if _BARE_ADDRESS.fullmatch(reference):
        return "https://" + reference.removeprefix("//")
    return None


_ELLIPSIS = re.compile(r"…|\.{3,}|\[\s*\.\.\.\s*\]|\(\s*\.\.\.\s*\)")
_STOP = frozenset().union(*STOP_WORDS.values())


@dataclass
class Reads:
    """What searches read of the store as a whole while recording (``MatchIndex.record``):
    how many items have each word they weighed or counted, which figures there are near a
    figure, which stems chose a quote's candidate items, which date windows they searched.
    Kept with a match (cache.py), it says which later changes to the store could change
    that match: an item that has one of these words changes how many have it, and one in
    a window searched may be a candidate.  Words by key: "s" and a stem, "k" and a
    skeleton (both the same in every index)."""

    size: int  # items in the index
    # word -> items having it, read as a weight (similarity, coverage): moves scores
    weights: dict[str, int] = field(default_factory=dict)
    # skeleton -> items having it, read as a count (``skeleton_df``; ``evidence``: whether
    # any has it), which match.py compares with a share of the store
    counts: dict[str, int] = field(default_factory=dict)
    # quote -> {"anchors": the stems that chose its candidate items, "items": their keys,
    # "hits", "slack": how many items more with that many anchors leave them standing}
    quotes: dict[str, dict] = field(default_factory=dict)
    figures: dict[str, list[int]] = field(default_factory=dict)  # "low:high" -> figures in it
    windows: list[tuple[float, float]] = field(default_factory=list)  # (since, until)

    def as_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, kept: dict) -> Reads:
        return cls(
            size=int(kept["size"]),
            weights={str(k): int(v) for k, v in kept["weights"].items()},
            counts={str(k): int(v) for k, v in kept["counts"].items()},
            quotes={
                str(quote): {
                    "anchors": [str(a) for a in v["anchors"]],
                    "hits": int(v["hits"]),
                    "slack": int(v["slack"]),
                    "items": [str(k) for k in v["items"]],
                }
                for quote, v in kept["quotes"].items()
            },
            figures={str(k): [int(f) for f in v] for k, v in kept["figures"].items()},
            windows=[(float(a), float(b)) for a, b in kept["windows"]],
        )


class MatchIndex:
    """Every stored item that a commentary may comment on, indexed for matching.

    Items may be added in any order and removed again (``remove``), so that an index kept
    between runs is brought up to the store's changes (saved.py) instead of built anew.
    Whatever the order, every answer is the one of an index built from the same items
    oldest first: ties go by an item's place in (published, key) order (``order_of``),
    never by when it was added; words are ordered by their text, never by when they were
    first seen; a word or skeleton no item has any more is unknown again.  Items added
    oldest first make the date window of similarity a range of document numbers; an item
    added out of order joins a short "tail" that windows check one by one.
    """

    def __init__(self) -> None:
        self.keys: list[str] = []  # per document number (a removed item's stays, unused)
        self._times = array("d")
        self._ranks = array("d")  # per doc: its place in (published, key) order
        self._in_order = 0  # docs below this number were added in (published, key) order
        self._tail: list[tuple[float, str, int]] = []  # (time, key, doc) of the others, sorted
        self._alive = bytearray()
        self._count = 0
        self._crowded = False  # two neighbours' places too close for another in between
        self._sources: list[str] = []
        self._links: list[str] = []  # per doc: its canonical link ("": none)
        self._item_ids: list[str] = []  # per doc: the id its source gave it
        # Per doc, one after the other: stem ids of title + text, in order; skeleton ids.
        self._seq_flat = array("i")
        self._seq_at = array("q", [0])
        self._skel_flat = array("i")
        self._skel_at = array("q", [0])
        self._lengths = array("i")  # content words (not stop words)
        self._numpy: tuple | None = None  # numpy copies made on the first search
        self._total_length = 0
        # Stems: token -> stem id; per stem id its postings (doc << 4 | tf << 1 | title),
        # in doc order, and how many items have it at all (stop stems have no postings).
        self._stem_of: dict[str, int] = {}
        self._stem_ids: dict[str, int] = {}
        self._stem_names: list[str] = []
        self._stem_docs = array("i")
        self._stop_stems: set[int] = set()
        self._postings: list[array] = []
        self._by_key: dict[str, int] = {}
        # Link and id -> docs, made on the first look-up (a loaded index may need none).
        self._by_link: dict[str, list[int]] | None = {}
        self._by_item_id: dict[str, list[int]] | None = {}
        # Skeletons: token -> skeleton id (-1: none); per skeleton id the docs having it.
        self._languages = bytearray()
        self._skeleton_of: dict[str, int] = {}
        self._skeleton_ids: dict[str, int] = {}
        self._skeleton_names: list[str] = []
        self._skeleton_postings: list[array] = []
        # Whole numbers by value (see ``_figures``): made by ``build``, brought up to date
        # when asked for after items are added.
        self._figure_table: tuple[list[int], list[int], int] | None = None
        # Per stem id: 1 for a figure, 2 for a place name's stem ("костанайск"), else 0.
        self._marks = bytearray()
        self._reads: Reads | None = None  # what searches read, while recording

    def __len__(self) -> int:
        return self._count

    @classmethod
    def build(cls, items: Iterable[StoredItem]) -> MatchIndex:
        """The index of ``items``, with what searches read made ready: the first
        commentary matched pays for none of it."""
        index = cls()
        for stored in items:
            index.add(stored)
        index._figures()
        index._arrays()
        return index

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    @property
    def needs_rebuild(self) -> bool:
        """Whether enough was added out of order or removed that searches slow down: then
        an index built anew (the same answers) is worth its time."""
        limit = max(1000, self._count // 20)
        holes = len(self.keys) - self._count
        return self._crowded or len(self._tail) > limit or holes > 2 * limit

    def add(self, stored: StoredItem) -> None:
        """Index ``stored``, an item not in the index (``remove`` an edited one first)."""
        item = stored.item
        key = stored.key
        if key in self._by_key:
            raise ValueError(f"{key!r} is in the index already")
        doc = len(self.keys)
        when = stored.published.timestamp()
        rank = self._place(when, key, doc)
        self.keys.append(key)
        self._times.append(when)
        self._ranks.append(rank)
        self._alive.append(1)
        self._count += 1
        self._sources.append(stored.source_ids[0] if stored.source_ids else "")
        self._by_key[key] = doc
        link = canonical_url(item.link) if item.link else ""
        self._links.append(link)
        self._item_ids.append(item.id)
        if self._by_link is not None and link:
            self._by_link.setdefault(link, []).append(doc)
        if self._by_item_id is not None:
            self._by_item_id.setdefault(item.id, []).append(doc)

        text = _item_text(stored)
        title_tokens, body_tokens = words(item.title), words(text)
        title = self._stems(title_tokens)
        body = self._stems(body_tokens)
        language = item.language or detect_language(f"{item.title}\n{text[:600]}")
        self._languages.append(language_code(language))
        skeleton_of = self._skeleton_of
        skeletons = set()
        for token in (*title_tokens, *body_tokens):
            sid = skeleton_of.get(token)
            if sid is None:
                sid = skeleton_of[token] = self._new_skeleton(token)
            skeletons.add(sid)
        skeletons.discard(-1)
        for sid in skeletons:
            self._skeleton_postings[sid].append(doc)
        self._skel_flat.extend(sorted(skeletons))
        self._skel_at.append(len(self._skel_flat))
        self._seq_flat.extend(title)
        self._seq_flat.append(-1)  # no word pair spans the title's end
        self._seq_flat.extend(body)
        self._seq_at.append(len(self._seq_flat))
        stem_docs = self._stem_docs
        for stem in {*title, *body}:
            stem_docs[stem] += 1

        stop = self._stop_stems
        counts: dict[int, int] = {}
        for stem in body:
            if stem not in stop:
                counts[stem] = counts.get(stem, 0) + 1
        in_title = set(title) - stop
        for stem in in_title:
            counts.setdefault(stem, 0)
        length = sum(counts.values()) + _TITLE_BOOST * len(in_title)
        self._lengths.append(length)
        self._numpy = None
        self._total_length += length
        postings = self._postings
        base = doc << 4
        for stem, tf in counts.items():
            postings[stem].append(base | (min(tf, 7) << 1) | (stem in in_title))

    def remove(self, key: str) -> bool:
        """Take the item ``key`` out of the index; False if it was not in it."""
        doc = self._by_key.pop(key, None)
        if doc is None:
            return False
        self._alive[doc] = 0
        self._count -= 1
        self._total_length -= self._lengths[doc]
        self._lengths[doc] = 0
        self._numpy = None
        entry = doc << 4
        stop = self._stop_stems
        for stem in set(self._seq(doc)):
            if stem < 0:
                continue
            self._stem_docs[stem] -= 1
            if stem not in stop:
                _drop(self._postings[stem], entry, 4)
        for sid in self._skeletons(doc):
            _drop(self._skeleton_postings[sid], doc, 0)
        for table, value in (
            (self._by_link, self._links[doc]),
            (self._by_item_id, self._item_ids[doc]),
        ):
            docs = table.get(value) if table is not None else None
            if docs is not None and doc in docs:
                docs.remove(doc)
                if not docs:
                    del table[value]
        if doc >= self._in_order:
            at = bisect.bisect_left(self._tail, (self._times[doc], key, doc))
            del self._tail[at]
        return True

    def _place(self, when: float, key: str, doc: int) -> float:
        """The place of a new item in (published, key) order: its doc number while items
        come oldest first, else a number between its neighbours' (the item joins the tail)."""
        times, keys, ranks = self._times, self.keys, self._ranks
        settled = self._in_order
        if not self._tail and doc == settled and (not doc or (times[-1], keys[-1]) < (when, key)):
            self._in_order += 1
            return float(doc)
        end = bisect.bisect_right(times, when, 0, settled)
        start = bisect.bisect_left(times, when, 0, end)
        at = start + bisect.bisect_right(range(start, end), key, key=keys.__getitem__)
        lower = ranks[at - 1] if at else -1.0
        upper = ranks[at] if at < settled else math.inf
        tail = self._tail
        t = bisect.bisect_right(tail, (when, key, doc))
        if t:
            lower = max(lower, ranks[tail[t - 1][2]])
        if t < len(tail):
            upper = min(upper, ranks[tail[t][2]])
        tail.insert(t, (when, key, doc))
        rank = lower + 1.0 if upper == math.inf else (lower + upper) / 2
        if not lower < rank < upper:
            self._crowded = True
        return rank

    def _seq(self, doc: int) -> array:
        return self._seq_flat[self._seq_at[doc] : self._seq_at[doc + 1]]

    def _skeletons(self, doc: int) -> array:
        return self._skel_flat[self._skel_at[doc] : self._skel_at[doc + 1]]

    def _stems(self, tokens: list[str]) -> list[int]:
        ids = []
        stem_of = self._stem_of
        for token in tokens:
            stem_id = stem_of.get(token)
            if stem_id is None:
                stem_id = stem_of[token] = self._new_token(token)
            ids.append(stem_id)
        return ids

    def _new_token(self, token: str) -> int:
        # Stemmed by its own script, not the document's language: a Russian quote of a
        # Kazakh item (or a misdetected short quote) gets the same stems as the item.
        stem = stem_tokens([token], "")[0]
        stem_id = self._stem_ids.get(stem)
        if stem_id is None:
            stem_id = self._stem_ids[stem] = len(self._postings)
            self._postings.append(array("i"))
            self._stem_names.append(stem)
            self._stem_docs.append(0)
            self._marks.append(1 if stem[:1].isdigit() else 2 if stem[-2:] in _PLACE_ENDS else 0)
            # A stop word's stem, whichever word of it comes first.
            if stem in _stop_stems():
                self._stop_stems.add(stem_id)
        return stem_id

    def _new_skeleton(self, token: str) -> int:
        if token in _STOP:
            return -1
        key = skeleton(token)
        if len(key) < _SKELETON_MIN:
            return -1
        sid = self._skeleton_ids.get(key)
        if sid is None:
            sid = self._skeleton_ids[key] = len(self._skeleton_postings)
            self._skeleton_postings.append(array("i"))
            self._skeleton_names.append(key)
        return sid

    def _known(self, tokens: list[str]) -> list[int]:
        """Stem ids of a query's tokens; a word no item has gets -1."""
        ids = []
        stem_docs = self._stem_docs
        for token in tokens:
            stem_id = self._stem_of.get(token)
            if stem_id is None:
                stem_id = self._stem_ids.get(stem_tokens([token], "")[0], -1)
            if stem_id >= 0 and not stem_docs[stem_id]:
                stem_id = -1
            ids.append(stem_id)
        return ids

    def _token_skeleton(self, token: str) -> int | None:
        """The id of ``token``'s skeleton if some item has it; None for a stop word or a
        skeleton too short to count.  A word some item has was read at ``add``: its
        skeleton is looked up, not worked out again."""
        sid = self._skeleton_of.get(token)
        if sid is None:
            if token in _STOP:
                return None
            key = skeleton(token)
            return self._skeleton_id(key) if len(key) >= _SKELETON_MIN else None
        return sid if sid >= 0 and self._skeleton_postings[sid] else None

    def _skeleton_id(self, key: str) -> int | None:
        """The id of a skeleton some item has, or None."""
        sid = self._skeleton_ids.get(key)
        if sid is None or not self._skeleton_postings[sid]:
            return None
        return sid

    def _arrays(self) -> tuple:
        """(lengths, places in order, languages) as numpy arrays, made once per change."""
        if self._numpy is None:
            import numpy as np

            self._numpy = (
                np.frombuffer(self._lengths, dtype=np.int32).astype(np.float64),
                np.frombuffer(self._ranks, dtype=np.float64).copy(),
                np.frombuffer(bytes(self._languages), dtype=np.uint8),
            )
        return self._numpy

    # --- kept between runs (saved.py) ---------------------------------------------

    def __getstate__(self) -> dict:
        # Strings packed into one, postings into one array: loading then costs little
        # more than reading the bytes.  Look-up tables are made again from the rest.
        state = dict(self.__dict__)
        for name in _DERIVED:
            state[name] = None
        for name in _STRINGS:
            state[name] = _pack(state[name])
        for name in ("_postings", "_skeleton_postings"):
            lists = state[name]
            flat = array("i")
            for postings in lists:
                flat.extend(postings)
            state[name] = (flat, array("q", map(len, lists)))
        return state

    def __setstate__(self, state: dict) -> None:
        for name in ("_postings", "_skeleton_postings"):
            flat, lengths = state[name]
            lists, at = [], 0
            for length in lengths:
                lists.append(flat[at : at + length])
                at += length
            state[name] = lists
        for name in _STRINGS:
            state[name] = _unpack(state[name])
        self.__dict__.update(state)
        alive = self._alive
        self._by_key = {key: doc for doc, key in enumerate(self.keys) if alive[doc]}
        self._stem_ids = {stem: i for i, stem in enumerate(self._stem_names)}
        self._skeleton_ids = {key: i for i, key in enumerate(self._skeleton_names)}
        self._stem_of, self._skeleton_of = {}, {}
        self._reads = None

    # --- what a match read of the store (cache.py) --------------------------------

    def record(self) -> Reads:
        """Record what searches read of the store as a whole from now on (until
        ``stop_recording``), in the ``Reads`` returned."""
        self._reads = Reads(self._count)
        return self._reads

    def stop_recording(self) -> None:
        self._reads = None

    def frequency(self, word: str) -> int:
        """How many items have ``word`` (a key of ``Reads``: "s" and a stem, "k" and a
        skeleton), as searches count them."""
        if word[:1] == "s":
            stem = self._stem_ids.get(word[1:])
            return len(self._postings[stem]) if stem is not None else 0
        sid = self._skeleton_ids.get(word[1:])
        return len(self._skeleton_postings[sid]) if sid is not None else 0

    def names_in_full(self, doc: int, initial: str, surname: str) -> bool:
        """Whether item ``doc`` names the person a post writes "Б. Сапаров": the surname's
        stem next to a word that begins with the initial ("Бауыржан Сапаров", "Сапаров
        Бауыржан")."""
        stem = self._known([surname])[0]
        if stem < 0:
            return False
        seq, names, initial = self._seq(doc), self._stem_names, initial.lower()
        return any(
            0 <= j < len(seq) and seq[j] >= 0 and names[seq[j]][:1] == initial
            for at, found in enumerate(seq)
            if found == stem
            for j in (at - 1, at + 1)
        )

    def has_words(self, doc: int, tokens: list[str]) -> list[bool]:
        """Per token (as ``words`` makes them), whether item ``doc`` has its stem."""
        have = set(self._seq(doc))
        return [stem >= 0 and stem in have for stem in self._known(tokens)]

    def words_of(self, doc: int) -> set[str]:
        """The words of item ``doc`` (keys as ``Reads`` has them) that searches weigh."""
        names, stop = self._stem_names, self._stop_stems
        found = {
            "s" + names[stem] for stem in set(self._seq(doc)) if stem >= 0 and stem not in stop
        }
        found.update("k" + self._skeleton_names[sid] for sid in self._skeletons(doc))
        return found

    def _read_stems(self, tokens: Iterable[str], ids: Iterable[int]) -> None:
        """Record the weights of a query's words (stem ids ``ids``; -1: no item has it)."""
        reads, names, stop = self._reads, self._stem_names, self._stop_stems
        if reads is None:
            return
        for token, stem in zip(tokens, ids, strict=True):
            if token in _STOP:
                continue
            if stem < 0:
                reads.weights.setdefault("s" + stem_tokens([token], "")[0], 0)
            elif stem not in stop:
                reads.weights["s" + names[stem]] = len(self._postings[stem])

    def _read_skeleton(self, token: str, sid: int | None, into: dict[str, int]) -> None:
        """Record how many items have ``token``'s skeleton (``sid``; None: none has it)."""
        if sid is not None:
            into["k" + self._skeleton_names[sid]] = len(self._skeleton_postings[sid])
        elif token not in _STOP:
            key = skeleton(token)
            if len(key) >= _SKELETON_MIN:
                into.setdefault("k" + key, 0)

    # --- lookups --------------------------------------------------------------------

    def find(self, reference: str) -> str | None:
        """The key of the item a reference names: its store key, id or (canonical) URL."""
        reference = reference.strip()
        doc = self._by_key.get(reference)
        if doc is None:
            doc = self._first(self._lookup(self._item_ids, "_by_item_id").get(reference))
        url = reference_url(reference) if doc is None else None
        if url is not None:
            doc = self._first(self._lookup(self._links, "_by_link").get(canonical_url(url)))
        return self.keys[doc] if doc is not None else None

    def _lookup(self, values: list[str], name: str) -> dict[str, list[int]]:
        table = getattr(self, name)
        if table is None:
            table = {}
            alive = self._alive
            for doc, value in enumerate(values):
                if value and alive[doc]:
                    table.setdefault(value, []).append(doc)
            setattr(self, name, table)
        return table

    def _first(self, docs: list[int] | None) -> int | None:
        """The oldest (by published, key) of ``docs``."""
        return min(docs, key=self._ranks.__getitem__) if docs else None

    # --- quotes ---------------------------------------------------------------------

    def quote_scores(self, quote: str) -> tuple[int, list[tuple[float, int]]]:
        """(word pairs in the quote, [(containment, doc)] best first) for one quote."""
        pieces = [self._known(words(piece)) for piece in _ELLIPSIS.split(quote)]
        # Pairs with a word no item has still count: no item can hold them.
        pairs = [pair for ids in pieces for pair in zip(ids, ids[1:], strict=False)]
        known = [(a, b) for a, b in pairs if a >= 0 and b >= 0]
        total = len(pairs)
        if total < MIN_QUOTE_PAIRS:
            return total, []
        import numpy as np

        anchors = self._anchors(pieces)
        chosen = [np.frombuffer(self._postings[stem], dtype=np.int32) >> 4 for stem in anchors]
        if not chosen:
            if self._reads is not None:
                self._reads.quotes[quote] = {"anchors": [], "hits": 0, "slack": 0, "items": []}
            return total, []
        # The docs most anchors point at, then the newest (each doc once per stem).
        ranks = self._arrays()[1]
        docs, hits = np.unique(np.concatenate(chosen), return_counts=True)
        candidates = docs[np.lexsort((ranks[docs], hits))[::-1][:_QUOTE_CANDIDATES]].tolist()
        scored = []
        for doc in candidates:
            seq = self._seq(doc)
            have = set(zip(seq, seq[1:], strict=False))
            found = sum(1 for pair in known if pair in have)
            scored.append((found / total, doc))
        scored.sort(key=lambda s: (-s[0], self._ranks[s[1]]))
        if self._reads is not None:
            held = dict(zip(docs.tolist(), hits.tolist(), strict=True))
            self._read_quote(quote, anchors, candidates, held, scored)
        return total, scored

    def quote_anchors(self, quote: str) -> list[str]:
        """The stems that choose ``quote``'s candidate items (``quote_scores``), rarest first."""
        pieces = [self._known(words(piece)) for piece in _ELLIPSIS.split(quote)]
        if sum(max(len(ids) - 1, 0) for ids in pieces) < MIN_QUOTE_PAIRS:
            return []
        return [self._stem_names[stem] for stem in self._anchors(pieces)]

    def _anchors(self, pieces: list[list[int]]) -> list[int]:
        """The rarest stems of a quote's (ids of its pieces), which choose its candidates:
        up to _ANCHORS of them, and more than two only while their items are few."""
        names = self._stem_names
        anchors = sorted(
            {s for ids in pieces for s in ids if s >= 0 and s not in self._stop_stems},
            key=lambda s: (len(self._postings[s]), names[s]),
        )
        chosen: list[int] = []
        read = 0
        for stem in anchors[:_ANCHORS]:
            if len(chosen) >= 2 and read + len(self._postings[stem]) > _ANCHOR_POSTINGS:
                break
            chosen.append(stem)
            read += len(self._postings[stem])
        return chosen

    def _read_quote(
        self,
        quote: str,
        anchors: list[int],
        candidates: list[int],
        held: dict[int, int],
        scored: list[tuple[float, int]],
    ) -> None:
        """Record what chose ``quote``'s candidates: its anchors, the candidate items, and
        how many items more, each with at least as many anchors (``held``) as the least of
        those holding any of the quote, could come before them without pushing one out."""
        assert self._reads is not None
        holding = [doc for score, doc in scored if score > 0]
        place = {doc: at for at, doc in enumerate(candidates)}
        self._reads.quotes[quote] = {
            "anchors": [self._stem_names[stem] for stem in anchors],
            # (none holding any of it: no item more pushes out anything that counts)
            "hits": min((held[d] for d in holding), default=len(anchors) + 1),
            "slack": _QUOTE_CANDIDATES - 1 - max((place[d] for d in holding), default=-1),
            "items": [self.keys[doc] for doc in candidates],
        }

    def quote_found(self, quote: str, doc: int) -> float:
        """Containment of ``quote``'s word pairs in item ``doc`` (0 for too short a quote)."""
        pieces = [self._known(words(piece)) for piece in _ELLIPSIS.split(quote)]
        pairs = [pair for ids in pieces for pair in zip(ids, ids[1:], strict=False)]
        if len(pairs) < MIN_QUOTE_PAIRS:
            return 0.0
        seq = self._seq(doc)
        have = set(zip(seq, seq[1:], strict=False))
        return sum(1 for pair in pairs if pair in have) / len(pairs)

    def same_text(self, a: int, b: int) -> bool:
        """Whether items ``a`` and ``b`` are one text: most of the word pairs that open the
        text of either (its first REPRINT_WORDS words, title apart) are in the other, as
        when an outlet reprints an agency's lead word for word."""
        seq_a, seq_b = self._seq(a), self._seq(b)
        for one, other in ((seq_a, seq_b), (seq_b, seq_a)):
            body = one[one.index(-1) + 1 :][:REPRINT_WORDS]
            pairs = list(zip(body, body[1:], strict=False))
            if len(pairs) >= MIN_QUOTE_PAIRS:
                have = set(zip(other, other[1:], strict=False))
                if sum(1 for pair in pairs if pair in have) >= REPRINT_SHARE * len(pairs):
                    return True
        return False

    # --- similarity -----------------------------------------------------------------

    def similar(
        self,
        text: str,
        around: datetime | None,
        *,
        language: str | None = None,
        exclude: Iterable[str] = (),
    ) -> list[tuple[float, int]]:
        """[(coverage, doc)] best first, among items published near ``around``.

        Coverage is of the text's weighted stems; an item in another language than
        ``language`` (the text's, detected when None) is also scored by shared skeletons.
        """
        sentences = _sentence_words(text)  # (one tokenization for both)
        tokens = [token for sentence in sentences for token in sentence]
        tokens += _spelled_in(text)
        counts: dict[int, int] = {}
        unknown = 0
        content = [token for token in tokens if token not in _STOP]
        distinct = list(dict.fromkeys(content))
        stem_of = dict(zip(distinct, self._known(distinct), strict=True))
        if self._reads is not None:
            self._read_stems(stem_of, stem_of.values())
        for token in content:
            stem = stem_of[token]
            if stem < 0:
                if not token.isdigit():  # a number spelled out may be in no item as digits
                    unknown += 1
            elif stem not in self._stop_stems:
                counts[stem] = counts.get(stem, 0) + 1
        n = self._count
        if not n or not counts:
            return []
        idf_max = math.log(n + 1)
        weighted = []
        for stem, tf in counts.items():
            df = len(self._postings[stem])
            if df:
                idf = math.log((n - df + 0.5) / (df + 0.5) + 1)
                weighted.append((math.sqrt(tf) * idf, stem))
        names = self._stem_names
        weighted.sort(key=lambda ws: (ws[0], names[ws[1]]), reverse=True)
        weighted = weighted[:_QUERY_TERMS]
        # A word no stored item has still belongs to the commentary: an item it speaks
        # of would have it.  Counted at the highest weight, and at most a few of them.
        norm = sum(w for w, _ in weighted) + min(unknown, 5) * idf_max * 0.5
        if norm <= 0:
            return []
        window = self._window(around)
        if self._reads is not None:
            if around is None:
                self._reads.windows.append((-math.inf, math.inf))
            else:
                since, until = (around - WINDOW_BEFORE), (around + WINDOW_AFTER)
                self._reads.windows.append((since.timestamp(), until.timestamp()))
        return self._similar_in_window(
            tokens,
            weighted,
            norm,
            self._total_length / n,
            window,
            language or detect_language(text),
            exclude,
        )

    def _window(self, around: datetime | None) -> _Window:
        """The docs published from WINDOW_BEFORE before ``around`` to WINDOW_AFTER after
        it (every doc for None): a range of the docs added in order, then the tail's."""
        import numpy as np

        settled = self._in_order
        if around is None:
            lo, hi = 0, settled
            tail = [doc for _, _, doc in self._tail]
        else:
            since = (around - WINDOW_BEFORE).timestamp()
            until = (around + WINDOW_AFTER).timestamp()
            lo = bisect.bisect_left(self._times, since, 0, settled)
            hi = bisect.bisect_right(self._times, until, 0, settled)
            tail = [doc for when, _, doc in self._tail if since <= when <= until]
        places = None
        if tail:
            places = np.full(len(self.keys) - settled, -1, dtype=np.int64)
            places[np.array(tail) - settled] = np.arange(hi - lo, hi - lo + len(tail))
        docs = np.concatenate((np.arange(lo, hi), np.array(tail, dtype=np.int64)))
        return _Window(lo, hi, settled, docs, places)

    def _postings_in(self, postings: array, shift: int, window: _Window) -> tuple | None:
        """(entries, their places in the window) of one word's or skeleton's postings
        (each is its doc's number shifted left by ``shift``); None where there are none
        or more than a word that common is worth ranking by."""
        import numpy as np

        a = bisect.bisect_left(postings, window.lo << shift)
        b = bisect.bisect_left(postings, window.hi << shift)
        entries = np.frombuffer(postings, dtype=np.int32) if postings else None
        if entries is None:
            return None
        found, places = entries[a:b], (entries[a:b] >> shift) - window.lo
        if window.tail is not None:
            c = bisect.bisect_left(postings, window.settled << shift)
            later = entries[c:]
            if len(later):
                where = window.tail[(later >> shift) - window.settled]
                keep = where >= 0
                found = np.concatenate((found, later[keep]))
                places = np.concatenate((places, where[keep]))
        if not len(found) or len(found) > _WINDOW_POSTINGS:
            return None
        return found, places

    def _gather(self, lists: list[array], shift: int, window: _Window) -> tuple:
        """(entries, places, counts): ``_postings_in`` of each of ``lists`` one after the
        other, and how many entries each gave (0: none, or too common).  Read with one
        numpy operation for all of them where the window has no tail."""
        import numpy as np

        counts: list[int] = []
        if window.tail is None:
            parts = []
            lo, hi = window.lo << shift, window.hi << shift
            for postings in lists:
                a = bisect.bisect_left(postings, lo)
                n = bisect.bisect_left(postings, hi, a) - a
                if not n or n > _WINDOW_POSTINGS:
                    counts.append(0)
                    continue
                parts.append(np.frombuffer(postings, dtype=np.int32, count=n, offset=4 * a))
                counts.append(n)
            if not parts:
                return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), counts
            entries = np.concatenate(parts)
            return entries, (entries >> shift) - window.lo, counts
        found, where = [], []
        for postings in lists:
            got = self._postings_in(postings, shift, window)
            counts.append(len(got[0]) if got is not None else 0)
            if got is not None:
                found.append(got[0])
                where.append(got[1])
        if not found:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), counts
        return np.concatenate(found), np.concatenate(where), counts

    def _similar_in_window(
        self,
        tokens: list[str],
        weighted: list[tuple[float, int]],
        norm: float,
        average: float,
        window: _Window,
        language: str,
        exclude: Iterable[str],
    ) -> list[tuple[float, int]]:
        """``similar`` over the docs of ``window``: the query words' postings there are
        gathered and scored at once (numpy, imported only when a commentary is matched;
        the same arithmetic, summed per doc in the same order, as one word after another)."""
        import numpy as np

        lengths, ranks, _ = self._arrays()
        size = len(window.docs)
        entries, places, counts = self._gather(
            [self._postings[stem] for _, stem in weighted], 4, window
        )
        docs = entries >> 4
        tf = (((entries >> 1) & 7) + _TITLE_BOOST * (entries & 1)).astype(np.float64)
        saturation = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * lengths[docs] / average))
        weights = np.repeat(np.array([w for w, _ in weighted], dtype=np.float64), counts)
        # (bincount adds each doc's terms in the order given: the query's, best first)
        scores = np.bincount(places, weights=weights * saturation / (_K1 + 1), minlength=size)
        touched = np.zeros(size, dtype=bool)
        touched[places] = True
        places, coverage = self._skeleton_scores(tokens, language, window)
        if len(places):
            scores[places] = np.maximum(scores[places] / norm, coverage) * norm
            touched[places] = True
        for key in exclude:
            place = window.place(self._by_key.get(key, -1))
            if place is not None:
                touched[place] = False
        found = np.flatnonzero(touched)
        values = scores[found]
        if len(found) > _RANKED:  # only those up to the tenth best score are ordered
            keep = values >= np.partition(values, len(values) - _RANKED)[len(values) - _RANKED]
            found, values = found[keep], values[keep]
        # Best first, ties to the older item (by published, then key).
        order = np.lexsort((ranks[window.docs[found]], -values))[:_RANKED]
        return [(float(values[i]) / norm, int(window.docs[found[i]])) for i in order]

    def _skeleton_scores(self, tokens: list[str], language: str, window: _Window) -> tuple:
        """(places in ``window``, weighted share of the query's skeletons each has) for
        the docs having at least _SKELETON_SHARED of them.

        Names, numbers and loanwords are most of what a retelling shares with an item in
        another language: "Токаев"/"Tokayev"/"Тоқаев", "Актау"/"Aktau", "терминал"/
        "terminal", "2029".  Items in the query's own language are compared by stems.
        """
        import numpy as np

        none = (np.zeros(0, dtype=np.int64), np.zeros(0))
        cross, same = CROSS_WEIGHT, SAME_WEIGHT
        if cross <= 0 and same <= 0:
            return none
        query_language = language_code(language)
        n = self._count
        keys: set[int] = set()
        for token in dict.fromkeys(tokens):
            sid = self._token_skeleton(token)
            if sid is not None:
                keys.add(sid)
            if self._reads is not None:
                self._read_skeleton(token, sid, self._reads.weights)
        weighted = []
        for sid in keys:
            df = len(self._skeleton_postings[sid])
            weighted.append((math.log((n - df + 0.5) / (df + 0.5) + 1), sid))
        names = self._skeleton_names
        weighted.sort(key=lambda ws: (ws[0], names[ws[1]]), reverse=True)
        weighted = weighted[:_QUERY_TERMS]
        norm = sum(w for w, _ in weighted)
        if norm <= 0 or not len(window.docs):
            return none
        size = len(window.docs)
        _, places, counts = self._gather(
            [self._skeleton_postings[sid] for _, sid in weighted], 0, window
        )
        weights = np.repeat(np.array([w for w, _ in weighted], dtype=np.float64), counts)
        total = np.bincount(places, weights=weights, minlength=size)
        shared = np.bincount(places, minlength=size)
        places = np.flatnonzero(shared >= _SKELETON_SHARED)
        if not len(places):
            return none
        languages = self._arrays()[2][window.docs[places]]
        factor = np.where(languages == query_language, same, cross)
        return places, total[places] / norm * factor

    def doc_of(self, key: str) -> int | None:
        return self._by_key.get(key)

    def order_of(self, doc: int) -> float:
        """Item ``doc``'s place in (published, key) order: ties are broken by it."""
        return self._ranks[doc]

    def coverage(self, text: str, doc: int) -> float:
        """IDF-weighted share of ``text``'s content stems that item ``doc`` has."""
        weights = self._weights(words(text))
        norm = sum(weights.values())
        if norm <= 0:
            return 0.0
        have = set(self._seq(doc))
        return sum(w for stem, w in weights.items() if stem in have) / norm

    def _weights(self, tokens: list[str]) -> dict[int, float]:
        n = max(self._count, 1)
        weights: dict[int, float] = {}
        ids = self._known(tokens)
        if self._reads is not None:
            self._read_stems(tokens, ids)
        for token, stem in zip(tokens, ids, strict=True):
            if stem < 0 or token in _STOP or stem in self._stop_stems:
                continue
            df = len(self._postings[stem])
            weights[stem] = math.log((n - df + 0.5) / (df + 0.5) + 1)
        return weights

    def evidence(self, tokens: Iterable[str]) -> list[tuple[str, int]]:
        """(token, skeleton id) of names and numbers that some stored item also has."""
        found = []
        reads = self._reads
        for token in dict.fromkeys(tokens):
            sid = self._token_skeleton(token)
            if sid is not None:
                found.append((token, sid))
            if reads is not None:
                self._read_skeleton(token, sid, reads.counts)
        return found

    def figures_between(self, low: int, high: int) -> list[tuple[int, int]]:
        """(figure, skeleton id) of every whole number from ``low`` to ``high`` (inclusive)
        that some stored item has."""
        figures, sids = self._figures()
        a, b = bisect.bisect_left(figures, low), bisect.bisect_right(figures, high)
        postings = self._skeleton_postings  # a figure of removed items only is none
        found = [(f, sid) for f, sid in zip(figures[a:b], sids[a:b], strict=True) if postings[sid]]
        if self._reads is not None:
            self._reads.figures[f"{low}:{high}"] = [f for f, _ in found]
        return found

    def _figures(self) -> tuple[list[int], list[int]]:
        """Every whole number some item has, sorted, with its skeleton id; brought up to
        date with the skeletons added since the last call (ids are given in order): a
        few are put in their places, more sorted in with the rest."""
        known = self._figure_table
        if known is None or known[2] != len(self._skeleton_postings):
            seen = known[2] if known else 0
            new = sorted(
                (int(key[1:]), sid)
                for key, sid in itertools.islice(self._skeleton_ids.items(), seen, None)
                if key[0] == "#" and key[1:].isdigit()
            )
            if known and len(new) <= _FIGURES_INSERTED:
                figures, sids = known[0], known[1]
                for figure, sid in new:
                    lo = bisect.bisect_left(figures, figure)
                    at = bisect.bisect_left(sids, sid, lo, bisect.bisect_right(figures, figure))
                    figures.insert(at, figure)
                    sids.insert(at, sid)
            else:
                pairs = sorted([*zip(*known[:2], strict=True), *new]) if known else new
                figures = [f for f, _ in pairs]  # (a figure may be longer than 64 bits)
                sids = [sid for _, sid in pairs]
            known = (figures, sids, len(self._skeleton_postings))
            self._figure_table = known
        return known[0], known[1]

    def has_skeleton(self, doc: int, sid: int) -> bool:
        postings = self._skeleton_postings[sid]
        at = bisect.bisect_left(postings, doc)
        return at < len(postings) and postings[at] == doc

    def skeleton_df(self, sid: int) -> int:
        df = len(self._skeleton_postings[sid])
        if self._reads is not None:
            self._reads.counts["k" + self._skeleton_names[sid]] = df
        return df

    def language_of(self, doc: int) -> int:
        return self._languages[doc]

    def source_of(self, doc: int) -> str:
        """The id of the (first) source that gave item ``doc``."""
        return self._sources[doc]

    def time_of(self, doc: int) -> float:
        """When item ``doc`` was published, as a POSIX timestamp."""
        return self._times[doc]

    def same_language(self, doc: int, language: str | None) -> bool:
        """Whether item ``doc`` is in ``language`` (as given by its feed, else detected)."""
        return self._languages[doc] == language_code(language)

    def quantities(self, doc: int, *, bare: bool = False) -> list[Quantity]:
        """The figures of item ``doc`` with what they count (``quantities``; with ``bare``
        also those no word follows), read from its indexed words: an agency writes its
        figures in digits."""
        names = self._stem_names
        marks = self._marks
        seq = self._seq(doc)
        found: list[Quantity] = []
        # Only the words around a figure or a place name are read: a stretch from the
        # word before it to a few after (a scale, a range's second figure, the unit).
        for at, stem in enumerate(seq):
            if stem < 0 or not marks[stem]:
                continue
            start, end = max(at - 1, 0), at + _QUANTITY_REACH
            while end < len(seq) and seq[end - 1] >= 0 and marks[seq[end - 1]] == 1:
                end += 2  # a range or list of figures runs on
            stretch = seq[start:end]
            if -1 in stretch:  # no stretch spans the title's end
                cut = stretch.index(-1)
                stretch = stretch[cut + 1 :] if cut < at - start else stretch[:cut]
            stems = [names[s] for s in stretch]
            found += _quantities_of(stems, stems, spelled=False, bare=bare)
        return list(dict.fromkeys(found))  # the title's figure is the text's


@dataclass(frozen=True)
class _Window:
    """The docs of a date window: numbers lo..hi of those added in order (below
    ``settled``), then those of the tail whose places ``tail`` gives (-1: not in it)."""

    lo: int
    hi: int
    settled: int
    docs: Any  # numpy array: the doc at each place
    tail: Any  # numpy array over docs from ``settled`` on, or None: no tail doc in it

    def place(self, doc: int) -> int | None:
        if self.lo <= doc < self.hi:
            return doc - self.lo
        if self.tail is not None and doc >= self.settled:
            place = int(self.tail[doc - self.settled])
            return place if place >= 0 else None
        return None


def _drop(postings: array, entry: int, shift: int) -> None:
    """Remove the posting of doc ``entry >> shift`` from ``postings`` (sorted by doc)."""
    at = bisect.bisect_left(postings, entry)
    if at < len(postings) and postings[at] >> shift == entry >> shift:
        del postings[at]


# What __getstate__ leaves out (made again on load or on first use), and packs.
_DERIVED = ("_numpy", "_by_key", "_by_link", "_by_item_id", "_stem_of", "_stem_ids",
            "_skeleton_of", "_skeleton_ids", "_reads")  # fmt: skip
_STRINGS = ("keys", "_sources", "_links", "_item_ids", "_stem_names", "_skeleton_names")


def _pack(strings: list[str]) -> tuple[str, array]:
    return "".join(strings), array("q", map(len, strings))


def _unpack(packed: tuple[str, array]) -> list[str]:
    text, lengths = packed
    ends = list(itertools.accumulate(lengths))
    return [text[end - length : end] for end, length in zip(ends, lengths, strict=True)]


@functools.cache
def _stop_stems() -> frozenset[str]:
    return frozenset(stem_tokens(sorted(_STOP), ""))


def _item_text(stored: StoredItem) -> str:
    item = stored.item
    summary = plain_text(item.summary)
    content = plain_text(item.content)
    if summary and content and content.startswith(summary[:80]):
        return content
    return f"{summary}\n{content}" if summary and content else summary or content


# --- language-independent evidence -------------------------------------------------

_LANGUAGE_CODES = {"ru": 1, "kk": 2, "kz": 2, "en": 3}


def language_code(language: str | None) -> int:
    """A small number per language ("ru-RU" is "ru"); 0 for any other or none."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return _LANGUAGE_CODES.get(code, 0)


# Russian and Kazakh letters in Latin, close to how their names are spelled in English.
_CYRILLIC_TO_LATIN = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфхцыэ", "abvgdeziiklmnoprstufhcie", strict=True)),
        **dict(zip("әғқңөұүһі", "agknouuhi", strict=True)),
        "ё": "e", "ж": "j", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ь": "",
        "ю": "iu", "я": "ia",
    }
)  # fmt: skip
_LATIN_DIGRAPHS = re.compile(r"dzh|zh|kh|ph|th|ck|sch|ch|x|w|q|c(?![eiy])")
_DIGRAPH_SOUNDS = {
    "dzh": "j", "zh": "j", "kh": "h", "ph": "f", "th": "t", "ck": "k", "sch": "sh",
    "x": "ks", "w": "v", "q": "k", "c": "k", "ch": "sh",
}  # fmt: skip
_SKELETON_VOWELS = re.compile(r"(?<=.)[aeiouy]+")
_DOUBLED = re.compile(r"(.)\1+")


_DECIMAL_TOKEN = re.compile(r"\d+d\d+")


@functools.lru_cache(maxsize=1 << 16)
def skeleton(token: str) -> str:
    """The spelling-independent key of a word: Cyrillic and Latin spellings of a name meet.

    Transliterated to Latin, sounds spelled several ways made one ("dzh"/"zh"/"j",
    "kh"/"h", "c"/"k"), vowels after the first letter and doubled letters dropped, cut
    to its first few letters so that inflected forms agree::

        Токаев, Тоқаев, Токаева, Tokayev -> tkv      Актау, Aktau -> akt
        КЕГОК, KEGOC -> kgk                          терминал, terminal -> trmn
        Чарын, Шарын, Charyn -> shrn  (Kazakh writes ш for Russian ч: Шымкент, Шу)

    A number is kept whole ("#2029"): it reads the same in every language.
    """
    if token.isdigit():
        return "#" + token
    if "d" in token and _DECIMAL_TOKEN.fullmatch(token):
        return "#" + token.replace("d", ".")
    word = token.replace("дж", "j").translate(_CYRILLIC_TO_LATIN)
    word = _LATIN_DIGRAPHS.sub(_digraph_sound, word)
    word = _DOUBLED.sub(_first_letter, _SKELETON_VOWELS.sub("", word))
    return word[:_SKELETON_LETTERS]


# (functions, not a lambda made anew or a template parsed at every call)
def _digraph_sound(match: re.Match[str]) -> str:
    return _DIGRAPH_SOUNDS[match.group()]


def _first_letter(match: re.Match[str]) -> str:
    return match.group(1)


_ORDINAL = "(ый|ой|ая|ое|ого|ом|ому|ую|ые|ых|ым|ыми|ой)$"

# Russian number words, by the start of every form ("сорок", "сорока"; "двухсот"), and
# the ordinals that end a spelled date or year ("двадцать пятого", "две тысячи двадцать
# пятом"): one-digit ones alone are left out as one-digit numbers are.
_NUMBER_WORDS = [
    (re.compile(pattern), value)
    for pattern, value in (
        ("одиннадцат", 11), ("двенадцат", 12), ("тринадцат", 13), ("четырнадцат", 14),
        ("пятнадцат", 15), ("шестнадцат", 16), ("семнадцат", 17), ("восемнадцат", 18),
        ("девятнадцат", 19), ("десят[иь]?$", 10), ("двадцат", 20), ("тридцат", 30),
        ("сорок", 40), ("пят[иь]десят", 50), ("шест[иь]десят", 60), ("сем[иь]десят", 70),
        ("вос[еь]м[иь]десят", 80), ("девяност", 90), ("ст[оа]$", 100),
        ("двест|двухс[о]?т|двумст", 200), ("трист|трехс[о]?т|тремст", 300),
        ("четырест|четырехс[о]?т", 400), ("пятьсот|пятис[о]?т", 500),
        ("шестьсот|шестис[о]?т", 600), ("семьсот|семис[о]?т", 700),
        ("восемьсот|восьмис[о]?т", 800), ("девятьсот|девятис[о]?т", 900),
        ("(один|одна|одно|одну|одного|одной|одному|одним|одном)$", 1), ("(два|две|двух|двум|двумя)$", 2),
        ("(три|трех|трем|тремя)$", 3), ("четыр(е|ех|ем|ьмя)$", 4), ("пят[иь]ю?$", 5),
        ("шест[иь]ю?$", 6), ("сем[иь]ю?$", 7), ("вос[еь]м[иь]?ю?$", 8), ("девят[иь]ю?$", 9),
        ("полтор|полутор", 1.5),
        (f"перв{_ORDINAL}", 1), (f"втор{_ORDINAL}", 2), ("трет(ий|ья|ье|ьего|ьей|ьем|ьему|ьи|ьих)$", 3),
        (f"четверт{_ORDINAL}", 4), (f"пят{_ORDINAL}", 5), (f"шест{_ORDINAL}", 6),
        (f"седьм{_ORDINAL}", 7), (f"восьм{_ORDINAL}", 8), (f"девят{_ORDINAL}", 9),
        (f"десят{_ORDINAL}", 10),
    )
]  # fmt: skip
_THOUSAND = re.compile("тысяч(а|и|у|е|ей|ью|ам|ами|ах)?$")  # (not "тысячелетие")
_TENS = re.compile("десят(ок|ка|ку|ком|ков)$")  # "три десятка": a group times ten
_HUNDREDS = re.compile("сот(ня|ни|ен|ню|нями|нях)$")
_MILLIONS = re.compile("миллион|миллиард|млн$|млрд$|трлн$|триллион")


# Any of them: most words are none, and one match tells so (not one per pattern).
_ANY_NUMBER_WORD = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _NUMBER_WORDS))


# What may follow a number word's root: a case's ending ("двадцати", "сорока", "двести"),
# an ordinal's ("двадцатого", "сороковой"), a group's ("двадцатка") or an age's
# ("шестнадцатилетнего": 16 лет).  Not another word's root: "трехсторонней",
# "одиннадцатиметрового", "Сорокин" name no figure.
_NUMBER_ENDING = re.compile(
    r"(?:ь|и|ью|а|о|ы|(?:ов)?(?:ый|ой|ого|ому|ом|ая|ую|ое|ые|ых|ым|ыми)|ий|ам|ами|ах|ка|ки|ку|кой"
    r"|[аи]?лет\w*)?$"
)


@functools.lru_cache(maxsize=1 << 16)
def _number_value(token: str) -> float | None:
    if not _ANY_NUMBER_WORD.match(token):
        return None
    for pattern, value in _NUMBER_WORDS:
        found = pattern.match(token)
        if found:
            return value if _NUMBER_ENDING.match(token, found.end()) else None
    return None


def spelled_numbers(tokens: list[str]) -> list[str]:
    """Numbers written in Russian words, as digits: "сорока двух" -> "42".

    Other languages write figures in digits, so a retelling's "двенадцать километров"
    meets an item's "12 km".  A figure before "тысяч" gives both the figure and its
    thousands ("двести тысяч" -> "200", "200000"), and what follows is added to the
    thousands ("две тысячи сто" -> "2100", "двух тысяч двадцать пятого года" -> "2025",
    "тысячи ста" -> "1100");
    before "миллион"/"миллиард" only the figure, as "4.1 million" is written.  "Три
    десятка" is thirty, "шесть сотен" six hundred.  One-digit numbers are left out, as tokenize leaves them out.
    """
    found: list[str] = []
    group = 0.0
    thousands = 0.0  # "две тысячи ...": the thousands of a number still being spelled
    inverted = False  # "тысяч тридцать": the thousands come first
    last = ""  # the number word read last
    minuend = 0.0  # "X без Y": X, while Y is read
    for token in (*tokens, ""):
        value = _number_value(token) if token and token[0] in "дтчпшсвон" else None
        if value is not None:
            if _thousands_left_out(group, thousands, value, last):
                # "три восемьсот девяносто" (a price): 3 890, the thousand left unsaid
                thousands, group = group * 1000, 0.0
            # "сто двадцать": add; "два двадцать" (two numbers side by side): start anew.
            elif group and not (value < 10 <= group % 100 < 20) and value >= _magnitude(group):
                _add_number(found, thousands + group if thousands else group)
                group = thousands = 0.0
            group += value
            last = token
            continue
        if group and not thousands and _year_of_century(group, last, token):
            # "пандемийного двадцатого года", "в двадцать седьмом году": 2020, 2027
            _add_number(found, _century_year(group))
            group, inverted, last = 0.0, False, ""
            continue
        if group and _TENS.match(token) and group < 10:
            group *= 10
            continue
        if group and _HUNDREDS.match(token) and group < 10:
            group *= 100  # "шесть сотен", "полторы сотни": 600, 150
            continue
        if _THOUSAND.match(token) and not thousands:
            if group:
                _add_number(found, group)
                _add_number(found, group * 1000)
            # "тысяча двести": a thousand, if number words follow; "тысяч тридцать" (the
            # plural first): about thirty thousand
            inverted = not group and token == "тысяч"
            thousands, group = (group or 1) * 1000, 0.0
            continue
        if group or thousands:
            before = len(found)
            if group and inverted:
                _add_number(found, group * 1000)
            elif group and thousands:
                _add_number(found, thousands + group)
            elif group:
                _add_number(found, group)
            number = group * 1000 if inverted else thousands + group
            if minuend and number < minuend:
                # "пятидесяти тысяч без десяти": 49 990, and no 10 of its own
                del found[before:]
                found[-1:] = [str(int(minuend - number))] if minuend - number >= 10 else []
            minuend = number if token == "без" else 0.0
            group = thousands = 0.0
            inverted = False
        elif token != "без":
            minuend = 0.0
    return found


# Where a sentence (or a line: a title, a quote) ends: punctuation or a line break before
# a capital letter.  No spelled number runs on across it.
_SENTENCE_BREAK = re.compile(r"(?:[.!?…]+[»\"”)]*\s+|\s*\n\s*)(?=[«\"„“(]?[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")


def spelled_in(text: str) -> list[str]:
    """``spelled_numbers`` of each sentence of ``text`` in turn: "…заплачу десять тысяч.
    Двенадцать тысяч человек…" is 10 000 and 12 000, never 10 012."""
    return list(_spelled_in(text))


@functools.lru_cache(maxsize=64)
def _spelled_in(text: str) -> tuple[str, ...]:
    # (a post's text is read several times over in one match)
    return tuple(n for tokens in _sentence_words(text) for n in spelled_numbers(tokens))


@functools.lru_cache(maxsize=64)
def _sentence_words(text: str) -> tuple[list[str], ...]:
    """``words`` of each sentence of ``text`` (a post's text is read several times over:
    the lists are shared, never to be changed)."""
    return tuple(words(sentence) for sentence in _SENTENCE_BREAK.split(text))


@dataclass(frozen=True)
class Quantity:
    """A figure and what it counts: "1 200 гектаров" is (1200, "гектар"), "23 мая" is
    (23, "ма"), "446,8 тысячи человек" is (446800, "человек"); a figure after a short
    name is also that name's ("АИ-92": (92, "аи-")).  A place fills its slot the same
    way: "в Костанайской области" is ("костанайск", "област")."""

    value: float | str
    unit: str  # the stem of the word after the figure (and its "тысяч", "млн", ...)
    # Given as approximate ("почти двести", "около 1 200"): a rounding, maybe of a figure
    # of its own ("почти двести километров" for the stretch from km 19 to km 214).
    approximate: bool = field(default=False, compare=False)
    # Which side of it the figure lies, as the word before it says: -1 "почти", "менее"
    # (at most it), +1 "свыше", "более" (at least it), 0 "около", "примерно" (either).
    bound: int = field(default=0, compare=False)
    # Given as what was replaced ("вместо полутора сотен"): the earlier figure, not the news.
    replaced: bool = field(default=False, compare=False)
    # Given as a difference ("на три сотни больше", "на 7% меньше"): an item may give it as
    # the two figures it lies between (3 200 places, 2 900 a year before).
    change: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, float) and value == int(value):
            value = int(value)
        return f"{value} {self.unit}" if self.unit[-1:] != "-" else f"{self.unit}{value}"


# Words that scale the figure before them, by stem.
_SCALES = {
    "тыс": 1e3, "тысяч": 1e3, "млн": 1e6, "миллион": 1e6, "млрд": 1e9, "миллиард": 1e9,
    "трлн": 1e12, "триллион": 1e12, "thousand": 1e3, "million": 1e6, "billion": 1e9,
    "мың": 1e3,
}  # fmt: skip


@functools.lru_cache(maxsize=64)
def quantities(text: str, *, bare: bool = False) -> tuple[Quantity, ...]:
    """The figures of ``text`` (in digits or in Russian words) with the word each counts:
    what two reports of one kind of quantity can be compared by ("800 гектаров" against
    "1 200 гектаров", "23 мая" against "30 мая").  A year is no quantity.  With ``bare``,
    also the figures no word follows (unit ""): every figure of the text by its value,
    however written ("2,1 млн", "два миллиона сто тысяч", "2 100 000")."""
    found: list[Quantity] = []
    for tokens in _sentence_words(text):
        found += _quantities_of(tokens, stem_tokens(tokens, ""), spelled=True, bare=bare)
    return tuple(found)


def _quantities_of(
    tokens: list[str], stems: list[str], *, spelled: bool, bare: bool = False
) -> list[Quantity]:
    found = []
    n = len(tokens)
    i = 0
    values: list[float] = []  # a range ("16–18 часов") waits for the word after its end
    unscaled: list[int] = []  # ... those of its figures written without a scale word
    round_years: list[int] = []  # ... those that are a year if a year's word follows
    clock = False  # ... said as hours of a time of day ("вечером, с шести до десяти")
    scaled: Quantity | None = None  # the figure just read, where it has a scale word
    while i < n:
        if stems[i][-2:] in _PLACE_ENDS:
            # "Костанайской области"; each of a list: "в Павлодарской и Карагандинской областях"
            head = i + 1
            while head < min(n, i + _PLACE_LIST) and stems[head][-2:] in _PLACE_ENDS:
                head += 1
            if head < n and stems[head] in _PLACE_HEADS:
                found.append(Quantity(stems[i], stems[head]))
        token = tokens[i]
        if not (token[0].isdigit() or (spelled and (_spelled_part(token) or token in _ONE_OF))):
            i, values, unscaled, round_years, clock = i + 1, [], [], [], False
            continue
        value, j = _figure_at(tokens, stems, i, spelled)
        if value is None or (spelled and j == i + 1 and _DECADE.match(token)):
            # (a decade, "в шестидесятые", is a time, no count: an item writes "1960s")
            i, values, unscaled, round_years, scaled = j, [], [], [], None
            continue
        if spelled and j + 1 < n and tokens[j] == "без" and _spelled_part(tokens[j + 1]):
            # "три тысячи двести без двадцати": 3 180, and no 20 of its own
            less, after = _figure_at(tokens, stems, j + 1, spelled)
            if less is None and stems[j + 1] in _ONE_UNIT:
                # "полторы тысячи без сотни": 1 400 ("сотни" alone is one hundred)
                less, after = _ONE_UNIT[stems[j + 1]], j + 2
            if less is not None and less < value:
                value, j = value - less, after
        if not (i and tokens[i - 1] in _RANGE):  # (a range's end keeps its start's reading)
            # ("с" itself is no token: too short)
            start = i - 1 if i and tokens[i - 1] in _FROM else i
            clock = (
                value <= 24
                and start >= 1
                and stems[start - 1] in _DAYTIME
                and tokens[j : j + 1] == ["до"]
            )
        scale = next((_SCALES[stems[k]] for k in range(i, j) if stems[k] in _SCALES), 1.0)
        if scale > 1.0:
            # "с 2,1 до 3,4 млн тонн": the range's scale is written once, at its end
            # (each figure of it alike in size: "с 800 до 1,2 млн" keeps its 800)
            for at in unscaled:
                if 0.01 <= values[at] * scale / value <= 100:
                    values[at] = round(values[at] * scale, 6)
            unscaled = []
        # A year is no quantity; nor is a one-digit whole figure, which the words of an
        # item never hold (tokenize leaves them out): there is nothing to compare it with.
        # A round one ("2 000 человек", "две тысячи") is a year only before a year's word.
        if value % 100 == 0 and 1900 <= value <= 2100:
            round_years.append(len(values))
        if (
            value != int(value)
            or 10 <= value < 1900
            or value >= 2100
            or round_years[-1:] == [len(values)]
        ):
            if scale == 1.0:
                unscaled.append(len(values))
            values.append(value)
            label = stems[i - 1] if i else ""
            # (a short word's: "АИ-92", not a stem's, "дом" of "дома 25")
            if (
                len(tokens[i - 1] if i else "") <= 3
                and label.isalpha()
                and label not in _label_stop()
            ):
                found.append(Quantity(value, label + "-"))  # "АИ-92", "Ту-154"
        if j < n and tokens[j][:1].isdigit():
            i = j
            continue
        # "с 52 372 до 65 465 тенге", "с 19 по 214 км", "14 и 15 домов": one word for both.
        if (
            j + 1 < n
            and tokens[j] in _RANGE
            and (tokens[j + 1][:1].isdigit() or (spelled and _spelled_part(tokens[j + 1])))
        ):
            i = j + 1
            continue
        # (the word before it, or a comparative before "чем": "больше чем двух миллионов")
        said = i - 2 if i > 1 and tokens[i - 1] == "чем" and stems[i - 2] in _THAN else i - 1
        approximate = said >= 0 and stems[said] in _APPROXIMATE
        bound = _BOUNDS.get(stems[said], 0) if approximate else 0
        # (its unit and comparative after "с лишним": "на сто двадцать с лишним тенге больше")
        more = int(j < n and stems[j] in _MORE_AFTER)
        change = (
            i > 0
            and tokens[i - 1] == "на"
            and any(s in _COMPARATIVES for s in stems[j + more : j + more + 2])
        )
        if j < n and stems[j] in _MORE_AFTER:  # "двести с лишним километров": at least 200
            approximate, bound, j = True, 1, j + 1
        elif j + 1 < n and tokens[j] == "без" and stems[j + 1] in _LITTLE:
            # "двух с половиной без малого": just under 2,5
            approximate, bound, j = True, -1, j + 2
        elif _more_within(stems, i, j):  # "шестьдесят с лишним тысяч": at least 60 000
            approximate, bound = True, 1
        elif spelled and tokens[i] == "тысяч":  # "тысяч тридцать туристов": about 30 000
            approximate = True
        replaced = "вместо" in tokens[max(i - _REPLACED_REACH, 0) : i]
        if j < n and stems[j] in _YEAR_WORDS and round_years:
            values = [v for at, v in enumerate(values) if at not in round_years]
        after = j
        if j + 1 < n and stems[j] in _SMALLER_UNITS and values in ([value], []):
            # (a one-digit figure with its smaller unit's is a figure: "три километра
            # восемьсот метров" is 3,8 km)
            whole, after = _with_smaller_unit(tokens, stems, j, value, spelled)
            values = [whole] if whole is not None else values
        own_unit = (
            j < n
            and (tokens[j] not in _STOP or tokens[j] in _TIME_STOPS)
            and not _spelled_part(tokens[j])
        )
        last, scaled = scaled, None  # (only the figure right before "из" lends its scale)
        if clock:
            pass  # hours of the day, no count: an item writes "с 18:00 до 22:00"
        elif own_unit:
            unit = _UNITS.get(stems[j], stems[j])
            found += [Quantity(v, unit, approximate, bound, replaced, change) for v in values]
            if scale > 1.0 and values:
                scaled = found[-1]
        elif last is not None and scale == 1.0 and _of_another(tokens, stems, i, value, last):
            # "двадцать шесть миллиардов долларов из почти сорока семи": 47 billion dollars,
            # the scale and the unit said once, with the first figure
            found += [Quantity(value * last.value / _unscaled(last.value), last.unit,
                               approximate, bound, replaced, change)]  # fmt: skip
        elif bare:
            found += [Quantity(v, "", approximate, bound, replaced, change) for v in values]
        i, values, unscaled, round_years, clock = after, [], [], [], False
    return found


# A figure said in a unit and its hundredth or thousandth ("сорока двух метров с сорока
# сантиметрами" is 42,4 m, "сорок тенге девяносто один тиын" 40,91 tenge): one figure.
_SMALLER_UNITS = {
    "метр": ("сантиметр", 100), "тенг": ("тиын", 100), "рубл": ("копе", 100),
    "доллар": ("цент", 100), "километр": ("метр", 1000), "килограмм": ("грамм", 1000),
}  # fmt: skip


def _with_smaller_unit(
    tokens: list[str], stems: list[str], j: int, value: float, spelled: bool
) -> tuple[float | None, int]:
    """The figure ``value`` whose unit is token ``j`` with the smaller unit's figure after
    it added, and the token where reading goes on; (None, ``j``) when none follows."""
    smaller, per = _SMALLER_UNITS[stems[j]]
    if not (tokens[j + 1][:1].isdigit() or (spelled and _spelled_part(tokens[j + 1]))):
        return None, j
    part, end = _figure_at(tokens, stems, j + 1, spelled)
    if part is None or part >= per or end >= len(tokens) or not stems[end].startswith(smaller):
        return None, j
    return round(value + part / per, 6), end + 1


# Stop words that still say what a figure counts: a span of time ("девятнадцать лет назад").
_TIME_STOPS = frozenset(("лет", "год", "года", "раз"))  # ("пятьдесят четыре года")

# The words after a year ("в 2000 году", "2000 жылы", "in the year 2000"), by stem.
_YEAR_WORDS = frozenset(stem_tokens(["год", "года", "году", "годы", "годах", "гг", "жыл",
                                     "жылы", "жылғы", "year", "years"], ""))  # fmt: skip


@functools.cache
def _label_stop() -> frozenset[str]:
    """Stems of the short words before a figure that name nothing ("на 92", "до 100"):
    a stop word's, a scale's, a month's.  (Compared by stem: an item's words are.)"""
    short = [w for w in _STOP if len(w) >= 2]
    months = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
    # (nor a unit's short form before the next figure: "214 км, двести" is no "км-200")
    return frozenset(stem_tokens([*short, *months.split()], "")).union(_SCALES, _UNITS)


# Words that make the figure after them approximate (by stem; "без малого": "малого").
_APPROXIMATE = frozenset(
    stem_tokens(
        [
            "почти",
            "около",
            "свыше",
            "более",
            "больше",
            "примерно",
            "порядка",
            "приблизительно",
            "малого",
            "менее",
            "меньше",
            "ориентировочно",
            "четверть",  # "четверть миллиона"
        ],
        "",
    )
)

# ... and the side of the figure they put it on ("почти двести": at most 200).
_BOUNDS = dict(
    zip(stem_tokens(["почти", "малого", "менее", "меньше"], ""), [-1] * 4, strict=True)
) | dict(zip(stem_tokens(["свыше", "более", "больше"], ""), [1] * 3, strict=True))

# A scale said alone, without a figure before it: one of it ("без сотни", "без десятка").
_ONE_UNIT = dict(
    zip(
        stem_tokens(["сотни", "сотен", "сотня", "десятка", "десятков", "тысячи"], ""),
        (100, 100, 100, 10, 10, 1000),
        strict=True,
    )
)

_MORE_AFTER = frozenset(("лишн", "лишк", "небольш"))  # "с лишним", "с небольшим" (by stem)
_LITTLE = frozenset(stem_tokens(["малого"], ""))  # "двух с половиной без малого": under 2,5

# The words a range of hours follows ("утром, с шести до девяти"), by stem, and its "со".
_DAYTIME = frozenset(stem_tokens(["утром", "вечером", "ночью", "днём"], ""))
_FROM = frozenset(("со",))

# Between a scaled figure and one of the same size said without its scale and unit:
# "26 млрд долларов из 47", "3 млн тонн против 2,5".
_OF_ANOTHER = frozenset(("из", "против"))


def _unscaled(value: float) -> float:
    """``value`` without its scale word: 26 000 000 000 -> 26."""
    for scale in (1e12, 1e9, 1e6, 1e3):
        if value >= scale:
            return value / scale
    return value


def _of_another(
    tokens: list[str], stems: list[str], i: int, value: float, scaled: Quantity
) -> bool:
    """Whether the bare figure at token ``i`` is said of the same size as ``scaled``, the
    sentence's scaled figure before it, after "из" or "против" (an approximate word
    between: "из почти сорока семи"), and is of its size: a tenth to ten times it."""
    said = i - 2 if i > 1 and stems[i - 1] in _APPROXIMATE else i - 1
    if said < 0 or tokens[said] not in _OF_ANOTHER or isinstance(scaled.value, str):
        return False
    return 0.1 <= value / _unscaled(scaled.value) <= 10


# Comparatives a bound is said with before "чем" ("больше чем двух миллионов"), by stem.
_THAN = frozenset(stem_tokens(["больше", "более", "меньше", "менее"], ""))

# Comparatives after a figure said as a difference ("на три сотни больше"), by stem.
_COMPARATIVES = frozenset(
    stem_tokens(
        ["больше", "меньше", "выше", "ниже", "дороже", "дешевле", "длиннее", "короче",
         "старше", "моложе", "раньше", "позже", "быстрее", "медленнее"],
        "",
    )
)  # fmt: skip


def _is_scale(token: str, value: float) -> bool:
    """Whether ``token`` scales the figure ``value`` before it: "тысяч", "млрд", or
    hundreds after a one-digit figure ("три с лишним сотни")."""
    stem = stem_tokens([token], "")[0] if token else ""
    return stem in _SCALES or (value < 10 and bool(_HUNDREDS.match(token)))


def _more_within(stems: list[str], i: int, j: int) -> bool:
    """Whether the figure read from token ``i`` to ``j`` was said as at least it ("с
    лишним" before its scale)."""
    return any(stems[k] in _MORE_AFTER for k in range(i + 1, j))


_REPLACED_REACH = 3  # "вместо обещанных утром полутора сотен": words before a replaced figure
_RANGE = frozenset(("до", "по", "и", "или"))  # between the figures of a range or list

# A unit written short is the unit written out (by stem).
_UNITS = {"км": "километр", "га": "гектар", "кг": "килограмм", "тг": "тенг", "куб": "кубометр",
          "мвт": "мегаватт", "pct": "процент", "percent": "процент", "пайыз": "процент"}  # fmt: skip

# What a place name before it is the name of: its slot ("Костанайской области").
_PLACE_HEADS = frozenset(("област", "район", "округ"))
_PLACE_ENDS = ("ск", "цк")  # how the stem of a place's adjective ends
_PLACE_LIST = 5  # place adjectives one slot word may follow ("Акмолинской, Павлодарской и …")
_QUANTITY_REACH = 6  # words read after a figure: its scale, a range's end, its unit

# A part of a scale word ("четверть миллиона", "половину миллиарда"); 0: no figure of its
# own ("две трети миллиарда" is a rounding of no figure the text gives).
_PARTS_OF = {"четверть": 0.25, "половину": 0.5, "половина": 0.5, "половины": 0.5, "треть": 0.0,
             "трети": 0.0, "третью": 0.0, "четверти": 0.0}  # fmt: skip

# "миллиард тенге", "от миллиарда трехсот миллионов": a scale word alone is one of it.
_ONE_OF = frozenset(("миллиард", "миллиарда", "миллион", "миллиона", "триллион", "триллиона"))


def _figure_at(
    tokens: list[str], stems: list[str], i: int, spelled: bool
) -> tuple[float | None, int]:
    """The figure that starts at token ``i`` with its scale words ("1,3 млрд", "миллиарда
    трехсот миллионов", "два миллиона сто тысяч") and the token after it; (None, i + 1)
    when no figure starts there."""
    n = len(tokens)
    total, last, any_part, skip = 0.0, math.inf, False, i + 1
    while i < n:
        value, j = _bare_figure(tokens, i, spelled)
        if value is None and spelled and tokens[i] in _ONE_OF:
            # "четверть миллиона": a quarter of one; "две трети миллиарда": no figure of
            # its own, and never one whole
            part = _PARTS_OF.get(tokens[i - 1], 1.0) if i else 1.0
            value, j = (part, i) if part else (None, i + 1)
        if value is None:
            skip = max(skip, j) if not any_part else skip  # past words that make no figure
            break
        if j < n and stems[j] == "половин":  # "шесть с половиной" ("с" is no token)
            value, j = value + 0.5, j + 1
        elif j + 1 < n and stems[j] in _MORE_AFTER and _is_scale(tokens[j + 1], value):
            # "шестьдесят с лишним тысяч", "три с лишним сотни": at least 60 000, 300 (the
            # reader sees "с лишним" among the figure's words: ``_more_within``)
            j += 1
        if value < 10 and j < n and _HUNDREDS.match(tokens[j]) and not tokens[i].isdigit():
            value, j = value * 100, j + 1  # "три с половиной сотни": 350
        scale = 1.0
        while j < n and stems[j] in _SCALES:
            scale *= _SCALES[stems[j]]
            j += 1
        if j == i or (any_part and scale >= last):
            break
        if any_part and scale == 1.0 and last >= 1e6 and 10 <= value < 1000 and tokens[i].isalpha():
            scale = last / 1000  # "миллиарда ста", "миллион двести": 1,1 млрд, 1,2 млн
        # (rounded: "4,1 млн" is 4 100 000, not the product 4099999.9999999995)
        total, last, any_part, i = round(total + value * scale, 6), scale, True, j
        if scale == 1.0:
            break
    return (total, i) if any_part else (None, skip)


def _bare_figure(tokens: list[str], i: int, spelled: bool) -> tuple[float | None, int]:
    """A figure in digits ("16", "16d5") or in words at token ``i``, without its scale."""
    token = tokens[i]
    j = i + 1
    if token[:1].isdigit():
        if _DECIMAL_TOKEN.fullmatch(token):
            return float(token.replace("d", ".")), j
        if token.isdigit():
            if j < len(tokens) and tokens[j].startswith(token + "d"):  # "16", "16d5"
                return float(tokens[j].replace("d", ".")), j + 1
            return float(token), j
        return None, j
    if not (spelled and _spelled_part(token)):
        return None, j
    while j < len(tokens) and _spelled_part(tokens[j]):
        j += 1
    if j < len(tokens) and tokens[j] in _YEAR_FORMS:
        # "пандемийного двадцатого года": a year (no quantity), not 20
        figures = spelled_numbers(tokens[i : j + 1])
        if figures and int(figures[-1]) in _CENTURIES:
            return float(figures[-1]), j
    if j == i + 1:
        value = _number_value(token)
        return (float(value), j) if value is not None else (None, j)
    if _FRACTION.match(tokens[j - 1]):
        return None, j  # "четыре и семь десятых", "одна десятая": no figure of ours
    figures = [float(v) for v in spelled_numbers(tokens[i:j])]
    # "двести тысяч" gives 200 and 200000, "две тысячи сто" 2000 and 2100: the last is it.
    return (figures[-1], j) if figures else (None, j)


_DECADE = re.compile(
    "(?:двадцат|тридцат|сороков|пятидесят|шестидесят|семидесят|восьмидесят|девяност)(?:ые|ых|ым|ыми)$"
)
_FRACTION = re.compile("(десят|сот)(ая|ых|ой|ую|ые)$")


@functools.lru_cache(maxsize=1 << 16)
def _spelled_part(token: str) -> bool:
    """Whether ``token`` may be part of a number spelled in words."""
    if token[0] in "дтчпшсвон" and _number_value(token) is not None:
        return True
    return bool(_THOUSAND.match(token) or _TENS.match(token) or _HUNDREDS.match(token))


def _thousands_left_out(group: float, thousands: float, value: float, last: str) -> bool:
    """Whether a one-digit number word before hundreds ("три восемьсот", "пять двести
    сорок") is thousands said without the word, as prices are: 3 800, 5 240.  (Not an
    ordinal, nor another case: "с третьего восемьсот", "трех восемьсот".)"""
    return (
        not thousands
        and 1 <= group <= 9
        and group == int(group)
        and 200 <= value <= 900
        and value % 100 == 0
        and last in _PRICE_UNITS
    )


# The units as a price says them before its hundreds ("стоит три восемьсот").
_PRICE_UNITS = frozenset(
    ("один", "одна", "два", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
)
# An ordinal's ending as a year of the century takes it after "с", "в", "до", "к":
# "двадцатого года", "в двадцать третьем году", "к тридцатому году"; not a cardinal's
# ("сорока одного года", "двадцати четырем").
_ORDINAL_FORM = re.compile("(?:[ое]го|[ое]м|[ое]му)$")
_CARDINAL = re.compile(r"одн\w*|четыр(?:е|ех|ем|ём|ьмя)")
_YEAR_FORMS = frozenset(("года", "году"))
_CENTURIES = range(1900, 2100)
CENTURY_PIVOT = 30  # a year of the century up to this is this century's ("двадцать седьмого")


def _year_of_century(group: float, last: str, token: str) -> bool:
    """Whether a two-digit ordinal before a year's word is a year of the century:
    "пандемийного двадцатого года" is 2020, not 20 (a year's word after a cardinal is
    an age or a span: "сорока одного года")."""
    return (
        token in _YEAR_FORMS
        and 10 <= group <= 99
        and group == int(group)
        and bool(_ORDINAL_FORM.search(last))
        and not _CARDINAL.fullmatch(last)
    )


def _century_year(group: float) -> int:
    """The year a year of the century names: this century's up to CENTURY_PIVOT ("в
    двадцать седьмом году": 2027), the last one's after it ("семьдесят восьмого года",
    "в сорок пятом году": 1978, 1945)."""
    return int(group) + (2000 if group <= CENTURY_PIVOT else 1900)


def _magnitude(group: float) -> float:
    """The smallest number that may not follow ``group`` in one spelled number."""
    if group % 10:
        return 1  # units are last
    if group % 100:
        return 10  # tens: only units may follow
    return 100  # hundreds: tens and units may follow


def _add_number(found: list[str], value: float) -> None:
    if value == int(value) and value >= 10:
        found.append(str(int(value)))
