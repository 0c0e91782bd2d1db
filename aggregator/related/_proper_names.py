"""Where the names and figures of a text are: the words that read as names (a
capitalized word inside a sentence, a Latin word in Russian or Kazakh text:
:func:`names`, :func:`capitalized`), and where a batch's digits and possible name starts
are (:func:`digit_places`, :func:`name_starts`), found by numpy over every text's code
points at once through a table of what each code point is (:func:`_code_kinds`).

Apart from ``analyze`` because it reads characters, not words: no stemmer, no word
table, no hash; the patterns and the table that must agree with them live together."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from aggregator.text import words as _text

NAMES_CHARS = 600  # names are looked for in the title and the lead


# A sentence starts at the beginning, or after . ! ? … and spaces (quotes allowed).
_SENTENCE_START = re.compile(r"(?:^|[.!?…]+[\s«»\"'“”„]+)", re.MULTILINE)
_CAPITALIZED = re.compile(r"[^\W\d_a-zа-яёәғқңөұүһі][^\W_]*")


def names(language: str, title_text: str, body_text: str) -> set[str]:
    """The words of a document that are names (its texts' figures marked)."""
    return capitalized(names_text(language, title_text, body_text), language)


def names_text(language: str, title_text: str, body_text: str) -> str:
    """The text names are looked for in: the title and the head of the text."""
    head = body_text[:NAMES_CHARS]
    # English headlines capitalize every word: there, names come from the text.
    return head if language == "en" else f"{title_text}. {head}"


def digit_places(texts: list[str]) -> list[list[int]]:
    """Where each text's digits are (what the pattern ``\\d`` matches: a decimal
    digit of any script), ascending: by numpy over all the texts' code points at
    once, through a table of what each code point is."""
    return _places(texts, _DIGIT)


def name_starts(texts: list[str]) -> list[list[int]]:
    """Where in each text a match of ``_CAPITALIZED`` not after a word character can
    start (the start of each such match, ascending): a letter that is not lowercase
    Latin or Cyrillic, after no word character; found as :func:`digit_places`."""
    return _places(texts, _NAME_START)


def _places(texts: list[str], kind: int) -> list[list[int]]:
    """Where in each text the code points of ``kind`` are (``_NAME_START``: those of
    _CAPITALIZED_FIRST after no word character), ascending."""
    found: list[list[int]] = []
    sizes = np.fromiter(map(len, texts), np.int64, len(texts)) + 1
    ends = np.cumsum(sizes)
    first = 0
    while first < len(texts):  # ~1,000,000 characters at a time: the arrays stay small
        last = max(first + 1, int(np.searchsorted(ends, ends[first] - sizes[first] + _SLICE)))
        joined = "\0".join(texts[first:last])  # not a word character: each text apart
        data = joined.encode("utf-16-le", "surrogatepass")
        if len(data) == 2 * len(joined):  # no character past the BMP: 2 bytes each
            codes = np.frombuffer(data, np.uint16)
        else:
            codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
        if kind == _DIGIT:
            places = _digits_at(codes)
        else:
            # By intp indices: a gather by uint16 or uint32 ones is ~4 times slower.
            kinds = np.take(_code_kinds(), codes.astype(np.intp))
            places = np.flatnonzero(kinds & _CAPITALIZED_FIRST)
            before = np.zeros(len(places), np.uint8)
            before[places > 0] = kinds[places[places > 0] - 1]
            places = places[(before & _WORD) == 0]
        starts = ends[first:last] - sizes[first:last] - (ends[first] - sizes[first])
        bounds = np.append(np.searchsorted(places, starts), len(places))
        places -= np.repeat(starts, np.diff(bounds))
        flat, cuts = places.tolist(), bounds.tolist()
        found += [flat[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
        first = last
    return found


def _digits_at(codes: np.ndarray) -> np.ndarray:
    """Where the decimal digits are among code points: ASCII ones by a comparison,
    the few code points from the first other digit (U+0660) up through the table."""
    places = np.flatnonzero((codes - codes.dtype.type(48)) < 10)  # wraps below "0"
    high = np.flatnonzero(codes >= _FIRST_OTHER_DIGIT)
    if len(high):
        digit = np.take(_code_kinds(), codes[high].astype(np.intp)) & _DIGIT
        if digit.any():
            places = np.union1d(places, high[digit != 0])
    return places


def _code_kinds() -> np.ndarray:
    """By code point, bits: what ``\\d`` matches in a str pattern (str.isdecimal),
    what ``\\w`` matches (str.isalnum, or "_"), what _CAPITALIZED's first character
    class matches (a word character but a digit, "_" and the lowercase letters it
    names; a test checks all three against the patterns).  Made when first needed
    (~0.2 s)."""
    if not _CODE_KINDS:
        kinds = np.zeros(0x110000, np.uint8)
        lower = frozenset("abcdefghijklmnopqrstuvwxyzабвгдежзийклмнопрстуфхцчшщъыьэюяёәғқңөұүһі")
        for c in range(_LAST_LETTER_PLANE_END):
            char = chr(c)
            if char.isalnum():
                if char.isdecimal():
                    kinds[c] = _DIGIT | _WORD
                else:
                    kinds[c] = _WORD if char in lower else _WORD | _CAPITALIZED_FIRST
        kinds[ord("_")] = _WORD
        _CODE_KINDS.append(kinds)
    return _CODE_KINDS[0]


_DIGIT, _WORD, _CAPITALIZED_FIRST, _NAME_START = 1, 2, 4, 8
_FIRST_OTHER_DIGIT = 0x660  # ARABIC-INDIC DIGIT ZERO: no decimal digit between it and 9
# Past plane 3 no code point is a letter or digit: planes 4-13 are unassigned, 14 holds
# tags and variation selectors, 15-16 private use (the test asks every code point);
# asking only those before costs each rebuild worker ~0.05 s instead of ~0.2 s.
_LAST_LETTER_PLANE_END = 0x40000
_CODE_KINDS: list[np.ndarray] = []
_SLICE = 1_000_000  # characters looked at at once


def capitalized(text: str, language: str, starts: Iterable[int] | None = None) -> set[str]:
    """Tokens of what reads as a name: a capitalized word inside a sentence
    (Караганда, Токаев, «Казтеплосеть»), or a Latin word in Russian or Kazakh text
    (Lexus).  Same-event news share these; same-topic news share the words around.
    ``starts``: where a capitalized word not after a word character starts
    (:func:`name_starts`), when known: the same words, without a scan for them."""
    if starts is None:
        # The patterns start with a letter, not with a word boundary (a scan for a
        # letter is fast): a match inside a word is dropped here, as \b would.
        starts = [
            m.start() for m in _CAPITALIZED.finditer(text) if not _after_word(text, m.start())
        ]
    # A match of _CAPITALIZED is a run of word characters but "_": one starting
    # after no word character is never inside another, so each is matched alone.
    match = _CAPITALIZED.match
    words = [match(text, at).group() for at in starts if not _sentence_starts_at(text, at)]
    # A run of Latin letters is one among the text's ASCII characters too (a scan of
    # those few is fast; of the whole text for a Latin letter, slow).
    if language != "en" and _LATIN_BYTES.search(text.encode("ascii", "ignore")):
        words += [
            m.group()
            for m in _LATIN_WORD.finditer(text)
            if not _after_word(text, m.start()) and not _WORD_CHAR.match(text, m.end())
        ]
    return set(_text.tokenize(" ".join(words)))


def _sentence_starts_at(text: str, at: int) -> bool:
    """Whether a sentence starts at ``at``, a letter: where a match of
    ``_SENTENCE_START`` ends (the start of a line, or after . ! ? … and spaces or
    quotes).  Looked at backwards from the few capitalized words, not by running
    that pattern over the whole text (it is slow to try at every position)."""
    if at == 0 or text[at - 1] == "\n":
        return True
    i = at - 1
    while i >= 0 and (text[i] in _SPACE_QUOTES or text[i].isspace()):
        i -= 1
    return i < at - 1 and i >= 0 and text[i] in ".!?…"


_SPACE_QUOTES = frozenset("«»\"'“”„")


def _after_word(text: str, at: int) -> bool:
    return at > 0 and _WORD_CHAR.match(text, at - 1) is not None


_WORD_CHAR = re.compile(r"\w")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_LATIN_BYTES = re.compile(rb"[A-Za-z]{3}")
