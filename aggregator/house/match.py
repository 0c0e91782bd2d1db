"""Match: which stored item (or items) a house commentary comments on.

Tried in order, the first that answers wins:

1. ``source`` -- the editor's explicit ``source:`` (an item's URL, its id in the source
   feed, or its store key).  It always wins; if it names nothing stored, the answer is an
   error for the editor, never a guess.
2. ``link`` -- a link in the commentary whose canonical form (``urls.canonical_url``:
   scheme, ``www.``, trailing slash and ``utm_*``-style parameters ignored) is a stored
   item's link.
3. ``quote`` -- the quoted text, found by **word-bigram containment**: the share of the
   quote's consecutive word pairs that occur in an item.  Words are compared by stem
   (``text.stem_tokens``, the same for every document whatever its language), so a
   quote that is shortened ("…" splits it into pieces, none of whose pairs span the cut),
   cut at either end, lightly edited, differently punctuated or taken from a later
   paragraph still finds its item, while another outlet's report of the same event, in
   its own words, shares only names and figures.  Candidates come from an inverted index
   of stems: the quote's rarest stems point at a handful of items, which are checked.
   Several items holding the quote (a re-reported agency text) are told apart by the
   agency named in the attribution, then by which was published first.  Each quote of a
   commentary is matched on its own, so a commentary may quote two items.
4. ``similarity`` -- BM25-weighted coverage of the commentary's stems (stop words
   removed; an item's title counts extra) by items published from three days before to
   a day after the commentary.  Only a clear winner (an absolute score and a margin over
   the runner-up) is confident.  A commentary whose quote is in no stored item gets no
   similarity match at all: its source was most likely never fetched, and the nearest
   item would be another outlet's report of the same event.

Languages.  Every word is stemmed by ``text.stem_tokens`` with the language left open,
so by its own letters: Latin by the English Snowball stemmer, Cyrillic with Kazakh letters
(ә ғ қ ң ө ұ ү һ і) by text.py's light Kazakh suffix stripper, other Cyrillic by the
Russian Snowball stemmer.  A quote and its item therefore get the same stems whatever
language a short quote is detected as -- there is no Kazakh Snowball stemmer, and
agreement matters more here than linguistic accuracy.  Stop words of all three languages
are left out of similarity.  A retelling in Russian of a Kazakh or English item shares
almost no stems with it, so an item in another language than the commentary is also scored
by language-independent evidence: word skeletons (``skeleton``: names, loanwords and
numbers in Cyrillic or Latin meet) and numbers the commentary spells out in Russian words.
Such a match ranks the item but is only ever shown for review (see
benchmarks/matching/README.md).

Confidence is one scale for every method: at or above ``CONFIDENT`` (0.8) the match is
published; from ``REVIEW`` up it is shown for an editor's decision; below it there is
no match.  The calibration comes from ``benchmarks/matching/`` (see its README).

Matching is recomputed on every publish (it is deterministic, and fast once the index
is built), so nothing about matches is stored.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.config import Config
from aggregator.house.load import Commentary
from aggregator.models import StoredItem
from aggregator.store import Storage
from aggregator.text.html import plain_text
from aggregator.text.urls import canonical_url
from aggregator.text.words import STOP_WORDS, detect_language, stem_tokens, tokenize

__all__ = [
    "CONFIDENT",
    "REVIEW",
    "Match",
    "MatchIndex",
    "match_all",
    "match_commentary",
    "skeleton",
]

CONFIDENT = 0.8  # at or above: published as the source
REVIEW = 0.45  # at or above (and below CONFIDENT): shown for review

# Quote matching.
MIN_QUOTE_PAIRS = 3  # fewer word pairs than this is too little text to match on
FULL_QUOTE_PAIRS = 8  # from this many pairs on, a quote is long enough to trust fully
QUOTE_SURE = 0.5  # containment at which a full-length quote is confidently found
QUOTE_PARTLY = 0.3  # containment from which a quote is partly found (shown for review)
QUOTE_TIE = 0.05  # items within this containment of the best are the same text
_ANCHORS = 8  # rarest stems of a quote used to find candidates
_ANCHOR_POSTINGS = 8_000  # stop adding anchors (after two) once this many postings are read
_QUOTE_CANDIDATES = 12

# Similarity.
WINDOW_BEFORE = timedelta(days=3)
WINDOW_AFTER = timedelta(days=1)
SIMILAR_SURE = 0.22  # coverage of the commentary's weight by the best item ...
SIMILAR_MARGIN = 0.50  # ... and the runner-up at most this share of the best
_QUERY_TERMS = 30
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

_ELLIPSIS = re.compile(r"…|\.{3,}|\[\s*\.\.\.\s*\]|\(\s*\.\.\.\s*\)")
_STOP = frozenset().union(*STOP_WORDS.values())


@dataclass(frozen=True)
class Match:
    """What a commentary comments on, how that was found and how sure it is."""

    keys: tuple[str, ...] = ()  # store keys of the matched items, most likely first
    method: str | None = None  # "source", "link", "quote", "similarity" or None
    confidence: float = 0.0  # 0..1, on the scale of CONFIDENT / REVIEW
    candidates: tuple[tuple[str, float], ...] = ()  # (key, confidence) for review
    quotes: tuple[int, ...] = ()  # method "quote": which quote found each of ``keys``
    error: str | None = None  # the editor's reference names nothing stored
    note: str = ""  # why, in words, for `aggregator comment list`

    @property
    def status(self) -> str:
        """ "confident", "review", "none" or "error"."""
        if self.error:
            return "error"
        if self.keys and self.confidence >= CONFIDENT:
            return "confident"
        if self.candidates and self.confidence >= REVIEW:
            return "review"
        return "none"

    @property
    def confident(self) -> bool:
        return self.status == "confident"


NO_MATCH = Match(note="no stored item matches")


class MatchIndex:
    """Every stored item that a commentary may comment on, indexed for matching.

    Add items oldest first (``storage.iter_items(newest_first=False)``): the date window
    of the similarity step is then a range of document numbers.
    """

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._times: list[float] = []
        self._sources: list[str] = []
        self._seqs: list[array] = []  # stem ids of title + text, in order
        self._lengths: list[int] = []  # content words (not stop words)
        self._total_length = 0
        self._ordered = True
        # Stems: token -> stem id; per stem id its postings (doc << 4 | tf << 1 | title).
        self._stem_of: dict[str, int] = {}
        self._stem_ids: dict[str, int] = {}
        self._stop_stems: set[int] = set()
        self._postings: list[array] = []
        self._by_key: dict[str, int] = {}
        self._by_link: dict[str, int] = {}
        self._by_item_id: dict[str, int] = {}
        # Skeletons: token -> skeleton id (-1: none); per skeleton id the docs having it.
        self._languages = bytearray()
        self._skeleton_of: dict[str, int] = {}
        self._skeleton_ids: dict[str, int] = {}
        self._skeleton_postings: list[array] = []

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(cls, items: Iterable[StoredItem]) -> MatchIndex:
        index = cls()
        for stored in items:
            index.add(stored)
        return index

    def add(self, stored: StoredItem) -> None:
        item = stored.item
        doc = len(self.keys)
        self.keys.append(stored.key)
        when = stored.published.timestamp()
        if self._times and when < self._times[-1]:
            self._ordered = False
        self._times.append(when)
        self._sources.append(stored.source_ids[0] if stored.source_ids else "")
        self._by_key[stored.key] = doc
        if item.link:
            self._by_link.setdefault(canonical_url(item.link), doc)
        self._by_item_id.setdefault(item.id, doc)

        text = _item_text(stored)
        title_tokens, body_tokens = tokenize(item.title), tokenize(text)
        title = self._stems(title_tokens)
        body = self._stems(body_tokens)
        language = item.language or detect_language(f"{item.title}\n{text[:600]}")
        self._languages.append(_language_code(language))
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
        seq = array("i", title)
        seq.append(-1)  # no word pair spans the title's end
        seq.extend(body)
        self._seqs.append(seq)

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
        self._total_length += length
        postings = self._postings
        base = doc << 4
        for stem, tf in counts.items():
            postings[stem].append(base | (min(tf, 7) << 1) | (stem in in_title))

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
        if token in _STOP:
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
        return sid

    def _known(self, tokens: list[str]) -> list[int]:
        """Stem ids of a query's tokens; a word no item has gets -1."""
        ids = []
        for token in tokens:
            stem_id = self._stem_of.get(token)
            if stem_id is None:
                stem_id = self._stem_ids.get(stem_tokens([token], "")[0], -1)
            ids.append(stem_id)
        return ids

    # --- lookups --------------------------------------------------------------------

    def find(self, reference: str) -> str | None:
        """The key of the item a reference names: its store key, id or (canonical) URL."""
        reference = reference.strip()
        doc = self._by_key.get(reference)
        if doc is None:
            doc = self._by_item_id.get(reference)
        if doc is None and "://" in reference:
            doc = self._by_link.get(canonical_url(reference))
        return self.keys[doc] if doc is not None else None

    # --- quotes ---------------------------------------------------------------------

    def quote_scores(self, quote: str) -> tuple[int, list[tuple[float, int]]]:
        """(word pairs in the quote, [(containment, doc)] best first) for one quote."""
        pieces = [self._known(tokenize(piece)) for piece in _ELLIPSIS.split(quote)]
        # Pairs with a word no item has still count: no item can hold them.
        pairs = [pair for ids in pieces for pair in zip(ids, ids[1:], strict=False)]
        known = [(a, b) for a, b in pairs if a >= 0 and b >= 0]
        total = len(pairs)
        if total < MIN_QUOTE_PAIRS:
            return total, []
        anchors = sorted(
            {s for ids in pieces for s in ids if s >= 0 and s not in self._stop_stems},
            key=lambda s: (len(self._postings[s]), s),
        )
        hits: dict[int, int] = {}
        read = read_anchors = 0
        for stem in anchors[:_ANCHORS]:
            postings = self._postings[stem]
            if not postings:
                continue
            if read_anchors >= 2 and read + len(postings) > _ANCHOR_POSTINGS:
                break
            read_anchors += 1
            read += len(postings)
            for entry in postings:
                doc = entry >> 4
                hits[doc] = hits.get(doc, 0) + 1
        if not hits:
            return total, []
        # Most anchors first, then the newest (tuples compare in C: no key function).
        candidates = [
            d for _, d in heapq.nlargest(_QUOTE_CANDIDATES, zip(hits.values(), hits, strict=True))
        ]
        scored = []
        for doc in candidates:
            seq = self._seqs[doc]
            have = set(zip(seq, seq[1:], strict=False))
            found = sum(1 for pair in known if pair in have)
            scored.append((found / total, doc))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return total, scored

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
        tokens = tokenize(text)
        tokens += _spelled_numbers(tokens)
        counts: dict[int, int] = {}
        unknown = 0
        for token in tokens:
            if token in _STOP:
                continue
            stem = self._known([token])[0]
            if stem < 0:
                if not token.isdigit():  # a number spelled out may be in no item as digits
                    unknown += 1
            elif stem not in self._stop_stems:
                counts[stem] = counts.get(stem, 0) + 1
        n = len(self.keys)
        if not n or not counts:
            return []
        lo, hi = 0, n
        if around is not None and self._ordered:
            lo = bisect.bisect_left(self._times, (around - WINDOW_BEFORE).timestamp())
            hi = bisect.bisect_right(self._times, (around + WINDOW_AFTER).timestamp())
        since = (around - WINDOW_BEFORE).timestamp() if around is not None else None
        until = (around + WINDOW_AFTER).timestamp() if around is not None else None
        idf_max = math.log(n + 1)
        weighted = []
        for stem, tf in counts.items():
            df = len(self._postings[stem])
            if df:
                idf = math.log((n - df + 0.5) / (df + 0.5) + 1)
                weighted.append((math.sqrt(tf) * idf, stem))
        weighted.sort(reverse=True)
        # A word no stored item has still belongs to the commentary: an item it speaks
        # of would have it.  Counted at the highest weight, and at most a few of them.
        norm = sum(w for w, _ in weighted[:_QUERY_TERMS]) + min(unknown, 5) * idf_max * 0.5
        if norm <= 0:
            return []
        average = self._total_length / n
        scores: dict[int, float] = {}
        times = self._times
        start, stop = lo << 4, hi << 4
        for weight, stem in weighted[:_QUERY_TERMS]:
            postings = self._postings[stem]
            if self._ordered:
                a = bisect.bisect_left(postings, start)
                b = bisect.bisect_left(postings, stop)
            else:
                a, b = 0, len(postings)
            if b - a > _WINDOW_POSTINGS:
                continue
            for position in range(a, b):
                entry = postings[position]
                doc = entry >> 4
                if not self._ordered and since is not None and not since <= times[doc] <= until:
                    continue
                tf = ((entry >> 1) & 7) + _TITLE_BOOST * (entry & 1)
                saturation = (
                    tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * self._lengths[doc] / average))
                )
                scores[doc] = scores.get(doc, 0.0) + weight * saturation / (_K1 + 1)
        for doc, coverage in self._skeleton_scores(
            tokens, language or detect_language(text), lo, hi, since, until
        ).items():
            scores[doc] = max(scores.get(doc, 0.0) / norm, coverage) * norm
        for key in exclude:
            scores.pop(self._by_key.get(key, -1), None)
        best = heapq.nlargest(10, zip(scores.values(), (-d for d in scores), strict=True))
        return [(score / norm, -negative) for score, negative in best]

    def _skeleton_scores(
        self,
        tokens: list[str],
        language: str,
        lo: int,
        hi: int,
        since: float | None,
        until: float | None,
    ) -> dict[int, float]:
        """{doc: weighted share of the query's skeletons it has}, for docs lo..hi.

        Names, numbers and loanwords are most of what a retelling shares with an item in
        another language: "Токаев"/"Tokayev"/"Тоқаев", "Актау"/"Aktau", "терминал"/
        "terminal", "2029".  Items in the query's own language are compared by stems.
        """
        cross, same = CROSS_WEIGHT, SAME_WEIGHT
        if cross <= 0 and same <= 0:
            return {}
        query_language = _language_code(language)
        n = len(self.keys)
        keys: set[int] = set()
        for token in tokens:
            if token in _STOP:
                continue
            key = skeleton(token)
            if len(key) >= _SKELETON_MIN:
                sid = self._skeleton_ids.get(key)
                if sid is not None:
                    keys.add(sid)
        weighted = []
        for sid in keys:
            df = len(self._skeleton_postings[sid])
            weighted.append((math.log((n - df + 0.5) / (df + 0.5) + 1), sid))
        weighted.sort(reverse=True)
        weighted = weighted[:_QUERY_TERMS]
        norm = sum(w for w, _ in weighted)
        if norm <= 0:
            return {}
        languages, times = self._languages, self._times
        found: dict[int, float] = {}
        shared: dict[int, int] = {}
        for weight, sid in weighted:
            postings = self._skeleton_postings[sid]
            if self._ordered:
                a, b = bisect.bisect_left(postings, lo), bisect.bisect_left(postings, hi)
            else:
                a, b = 0, len(postings)
            if b - a > _WINDOW_POSTINGS:
                continue
            for position in range(a, b):
                doc = postings[position]
                if not self._ordered and since is not None and not since <= times[doc] <= until:
                    continue
                found[doc] = found.get(doc, 0.0) + weight
                shared[doc] = shared.get(doc, 0) + 1
        return {
            doc: total / norm * (same if languages[doc] == query_language else cross)
            for doc, total in found.items()
            if shared[doc] >= _SKELETON_SHARED
        }

    def same_language(self, doc: int, language: str | None) -> bool:
        """Whether item ``doc`` is in ``language`` (as given by its feed, else detected)."""
        return self._languages[doc] == _language_code(language)


def _item_text(stored: StoredItem) -> str:
    item = stored.item
    summary = plain_text(item.summary)
    content = plain_text(item.content)
    if summary and content and content.startswith(summary[:80]):
        return content
    return f"{summary}\n{content}" if summary and content else summary or content


# --- language-independent evidence -------------------------------------------------

_LANGUAGE_CODES = {"ru": 1, "kk": 2, "kz": 2, "en": 3}


def _language_code(language: str | None) -> int:
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
_LATIN_DIGRAPHS = re.compile(r"dzh|zh|kh|ph|th|ck|sch|x|w|q|c(?![eiy])")
_DIGRAPH_SOUNDS = {
    "dzh": "j", "zh": "j", "kh": "h", "ph": "f", "th": "t", "ck": "k", "sch": "sh",
    "x": "ks", "w": "v", "q": "k", "c": "k",
}  # fmt: skip
_SKELETON_VOWELS = re.compile(r"(?<=.)[aeiouy]+")
_DOUBLED = re.compile(r"(.)\1+")


def skeleton(token: str) -> str:
    """The spelling-independent key of a word: Cyrillic and Latin spellings of a name meet.

    Transliterated to Latin, sounds spelled several ways made one ("dzh"/"zh"/"j",
    "kh"/"h", "c"/"k"), vowels after the first letter and doubled letters dropped, cut
    to its first few letters so that inflected forms agree::

        Токаев, Тоқаев, Токаева, Tokayev -> tkv      Актау, Aktau -> akt
        КЕГОК, KEGOC -> kgk                          терминал, terminal -> trmn

    A number is kept whole ("#2029"): it reads the same in every language.
    """
    if token.isdigit():
        return "#" + token
    word = token.replace("дж", "j").translate(_CYRILLIC_TO_LATIN)
    word = _LATIN_DIGRAPHS.sub(lambda m: _DIGRAPH_SOUNDS[m.group()], word)
    word = _DOUBLED.sub(r"\1", _SKELETON_VOWELS.sub("", word))
    return word[:_SKELETON_LETTERS]


# Russian number words, by the start of every form ("сорок", "сорока"; "двухсот").
_NUMBER_WORDS = [
    (re.compile(pattern), value)
    for pattern, value in (
        ("одиннадцат", 11), ("двенадцат", 12), ("тринадцат", 13), ("четырнадцат", 14),
        ("пятнадцат", 15), ("шестнадцат", 16), ("семнадцат", 17), ("восемнадцат", 18),
        ("девятнадцат", 19), ("десят[иь]?$", 10), ("двадцат", 20), ("тридцат", 30),
        ("сорок", 40), ("пят[иь]десят", 50), ("шест[иь]десят", 60), ("сем[иь]десят", 70),
        ("вос[еь]м[иь]десят", 80), ("девяност", 90), ("ст[оа]$", 100),
        ("двест|двухсот|двумст", 200), ("трист|трехсот|тремст", 300),
        ("четырест|четырехсот", 400), ("пятьсот|пятисот", 500), ("шестьсот|шестисот", 600),
        ("семьсот|семисот", 700), ("восемьсот|восьмисот", 800), ("девятьсот|девятисот", 900),
        ("(один|одна|одно|одного|одной|одному|одним)$", 1), ("(два|две|двух|двум|двумя)$", 2),
        ("(три|трех|трем|тремя)$", 3), ("четыр(е|ех|ем|ьмя)$", 4), ("пят[иь]ю?$", 5),
        ("шест[иь]ю?$", 6), ("сем[иь]ю?$", 7), ("вос[еь]м[иь]?ю?$", 8), ("девят[иь]ю?$", 9),
        ("полтор|полутор", 1.5),
    )
]  # fmt: skip
_THOUSAND = re.compile("тысяч")
_MILLIONS = re.compile("миллион|миллиард|млн$|млрд$|трлн$|триллион")


def _number_value(token: str) -> float | None:
    for pattern, value in _NUMBER_WORDS:
        if pattern.match(token):
            return value
    return None


def _spelled_numbers(tokens: list[str]) -> list[str]:
    """Numbers written in Russian words, as digits: "сорока двух" -> "42".

    Other languages write figures in digits, so a retelling's "двенадцать километров"
    meets an item's "12 km".  A figure before "тысяч" gives both the figure and its
    thousands ("двести тысяч" -> "200", "200000"); before "миллион"/"миллиард" only the
    figure, as "4.1 million" is written.  One-digit numbers are left out, as tokenize
    leaves them out.
    """
    found: list[str] = []
    group = 0.0
    for token in (*tokens, ""):
        value = _number_value(token) if token and token[0] in "дтчпшсвон" else None
        if value is not None:
            # "сто двадцать": add; "два двадцать" (two numbers side by side): start anew.
            if group and not (value < 10 <= group % 100 < 20) and value >= _magnitude(group):
                _add_number(found, group)
                group = 0.0
            group += value
            continue
        if group:
            if _THOUSAND.match(token):
                _add_number(found, group)
                _add_number(found, group * 1000)
            else:
                _add_number(found, group)
            group = 0.0
    return found


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


# --- matching one commentary ---------------------------------------------------------


def match_commentary(
    commentary: Commentary,
    index: MatchIndex,
    *,
    source_names: Mapping[str, str] | None = None,
    resolve: Mapping[str, str] | None = None,
) -> Match:
    """Find what ``commentary`` comments on; see the module docstring for the order.

    ``source_names`` (source id -> name) lets the agency named in an attribution break
    ties between items holding the same text.  ``resolve`` maps references (URLs, ids)
    already resolved by the caller to store keys; others are looked up in ``index``.
    """
    resolve = resolve or {}
    if commentary.sources:
        keys, missing = [], []
        for reference in commentary.sources:
            key = resolve.get(reference) or index.find(reference)
            (keys if key else missing).append(key or reference)
        if missing:
            return Match(
                method="source",
                error=f"source: {missing[0]!r} is not a stored item; give the URL, id or key "
                "of an item `aggregator comment list` can see, or wait until its feed is fetched",
                note="the editor's source is not stored",
            )
        return Match(tuple(dict.fromkeys(keys)), "source", 1.0, note="the editor's source:")

    linked = [resolve.get(link) or index.find(link) for link in commentary.links]
    linked = [k for k in dict.fromkeys(linked) if k]
    if linked:
        return Match(tuple(linked), "link", 0.98, note="a link in the commentary")

    if commentary.quotes:
        found, quote_failed = _match_quotes(commentary, index, source_names or {})
        if found is not None:
            return found
        if quote_failed:
            # The quote is in no stored item: its source was most likely never fetched,
            # and the nearest item would be another outlet's report of the same event.
            return Match(note="the quote is in no stored item")

    return _match_similar(commentary, index)


def _match_quotes(
    commentary: Commentary, index: MatchIndex, names: Mapping[str, str]
) -> tuple[Match | None, bool]:
    """(a match, or None to go on; whether a usable quote matched nothing)."""
    keys: list[str] = []
    confidences: list[float] = []
    quoted: list[int] = []
    review: list[tuple[str, float]] = []
    usable = 0
    for number, quote in enumerate(commentary.quotes):
        pairs, scored = index.quote_scores(quote)
        if pairs < MIN_QUOTE_PAIRS:
            continue
        usable += 1
        if not scored:
            continue
        best = scored[0][0]
        confidence = _quote_confidence(best, pairs)
        tied = [doc for score, doc in scored if score >= best - QUOTE_TIE]
        if len(tied) > 1 and pairs < FULL_QUOTE_PAIRS:
            confidence = min(confidence, CONFIDENT - 0.01)  # a short phrase several items share
        doc = _tie_break(tied, index, commentary, names)
        key = index.keys[doc]
        if confidence >= CONFIDENT:
            if key not in keys:
                keys.append(key)
                confidences.append(confidence)
                quoted.append(number)
        elif confidence >= REVIEW:
            review.append((key, round(confidence, 3)))
    if keys:
        return Match(
            tuple(keys),
            "quote",
            round(min(confidences), 3),
            candidates=tuple((k, round(c, 3)) for k, c in zip(keys, confidences, strict=True)),
            quotes=tuple(quoted),
            note="the quoted text" + (" (two items)" if len(keys) > 1 else ""),
        ), False
    if review:
        best = max(review, key=lambda r: r[1])
        return Match(
            (),
            "quote",
            best[1],
            candidates=tuple(sorted(review, key=lambda r: -r[1])),
            note="the quote is only partly found",
        ), False
    return None, usable > 0


def _quote_confidence(containment: float, pairs: int) -> float:
    length = min(1.0, 0.6 + 0.4 * (pairs - MIN_QUOTE_PAIRS) / (FULL_QUOTE_PAIRS - MIN_QUOTE_PAIRS))
    raw = containment * length
    if raw >= QUOTE_SURE:
        return CONFIDENT + (1 - CONFIDENT) * (raw - QUOTE_SURE) / (1 - QUOTE_SURE)
    if raw >= QUOTE_PARTLY:
        return REVIEW + (CONFIDENT - REVIEW) * (raw - QUOTE_PARTLY) / (QUOTE_SURE - QUOTE_PARTLY)
    return REVIEW * raw / QUOTE_PARTLY


def _tie_break(
    docs: Sequence[int], index: MatchIndex, commentary: Commentary, names: Mapping[str, str]
) -> int:
    """Among items with the same text: the one from the agency named, else the first published."""
    if len(docs) > 1 and commentary.agency:
        agency = _name_key(commentary.agency)
        named = [
            d for d in docs if agency and agency in _name_key(names.get(index._sources[d], ""))
        ]
        if named:
            docs = named
    return min(docs, key=lambda d: (index._times[d], d))


def _name_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _match_similar(commentary: Commentary, index: MatchIndex) -> Match:
    ranked = index.similar(commentary.text, commentary.published, language=commentary.language)
    if not ranked:
        return NO_MATCH
    best, doc = ranked[0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    confidence = _similar_confidence(best, second)
    if not index.same_language(doc, commentary.language):
        # Names and numbers across languages rank the right item first, but chance
        # skeleton overlaps come close enough that an editor should confirm it.
        confidence = min(confidence, CONFIDENT - 0.01)
    candidates = tuple(
        (index.keys[d], round(_similar_confidence(s, second if d == doc else best), 3))
        for s, d in ranked[:3]
    )
    note = "similar title and text"
    if confidence < REVIEW:
        return Match(candidates=candidates, note="no stored item is similar enough")
    return Match(
        (index.keys[doc],), "similarity", round(confidence, 3), candidates=candidates, note=note
    )


def _similar_confidence(best: float, second: float) -> float:
    """One number for 'the best item is similar enough, and clearly the best'."""
    if best <= 0:
        return 0.0
    share = second / best
    strength = min(best / SIMILAR_SURE, (1 - share) / (1 - SIMILAR_MARGIN))
    if strength >= 1:
        return min(1.0, CONFIDENT + (1 - CONFIDENT) * min(1.0, (strength - 1) / 2))
    return CONFIDENT * max(strength, 0.0)


# --- every commentary against the store ----------------------------------------------


def match_all(
    commentary: Sequence[Commentary], storage: Storage, config: Config
) -> dict[str, Match]:
    """Match every commentary (by ``Commentary.id``) against everything stored.

    References are looked up in the store first; the index (every item that is not a post
    of the house feed, oldest first) is only built when a commentary needs it.
    """
    names = {s.id: s.name for s in config.sources}
    house = {s.id for s in config.sources if s.house}
    resolve: dict[str, str] = {}
    for c in commentary:
        for reference in (*c.sources, *c.links):
            found = storage.get_item(reference.strip())
            if found is None and "://" in reference:
                found = storage.item_by_link(reference)
            if found is not None and not house.intersection(found.source_ids):
                resolve[reference] = found.key
    index: MatchIndex | None = None
    matches: dict[str, Match] = {}
    for c in commentary:
        known = [r for r in c.sources if r in resolve]
        if c.sources and len(known) == len(c.sources):
            keys = tuple(dict.fromkeys(resolve[r] for r in c.sources))
            matches[c.id] = Match(keys, "source", 1.0, note="the editor's source:")
            continue
        if index is None:
            index = MatchIndex.build(
                s
                for s in storage.iter_items(newest_first=False)
                if not house.intersection(s.source_ids)
            )
        matches[c.id] = match_commentary(c, index, source_names=names, resolve=resolve)
    return matches
