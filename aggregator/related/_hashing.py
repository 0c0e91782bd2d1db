"""The hashes of the text analysis, stable across processes (Python's hash() is not):
of terms (:func:`term_hashes`: stems, first letters, skeletons; numpy over many at
once), of words (:func:`hash_all`: blake2b, what reprint sketches are made of), of a
whole text (:func:`text_hashes`: equal -> the same text) and bottom-k sketches of a
text's 3-word shingles (:func:`sketch`, :func:`bottom`), with :func:`counted`, a
text's terms as sorted hashes and counts.

Apart from ``analyze`` because a hash is a promise kept across runs (the saved index
holds them: ``persist``'s format number changes with any of these functions) and
across processes, and none of it depends on a language or a word table."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from aggregator.related import _arrays
from aggregator.text import words as _text

SKETCH_SIZE = 16  # shingle hashes kept per text (bottom-k)
SKETCH_MIN_WORDS = 12  # shorter: only the same whole text is a reprint
SHINGLE_A = np.uint64(0x9E3779B97F4A7C15)
SHINGLE_B = np.uint64(0xC2B2AE3D27D4EB4F)


def signature(title_words: list[str], words: list[str]) -> tuple[int, bytes]:
    word_hashes = _hashes(title_words + words, _WORD_HASHES, hash_all)
    # The headline belongs to the text: a retelling that changes a word of it and one
    # of a short lead is not the same text; a reprint keeps (nearly) both.
    return text_hash(word_hashes, len(title_words)), sketch(word_hashes)


def text_hash(word_hashes: np.ndarray, title_words: int) -> int:
    """The hash of a whole text (equal -> the same text) from its words' hashes (the
    reprint sketches' word hashes), of which the first ``title_words`` are its
    title's: :func:`text_hashes` of one document."""
    doc = np.zeros(len(word_hashes), np.int64)
    hashes = text_hashes(
        word_hashes[:title_words],
        doc[:title_words],
        word_hashes[title_words:],
        doc[title_words:],
        1,
    )
    return int(hashes[0])


def text_hashes(
    title: np.ndarray, title_doc: np.ndarray, body: np.ndarray, body_doc: np.ndarray, n: int
) -> np.ndarray:
    """The text hash of each of ``n`` documents from the hashes of its title's words,
    then of its text's (``title_doc``, ``body_doc``: each word's document, ascending;
    each document's words in order), as one sequence with a mark between: the sum,
    modulo 2**64, of a mix of each word's hash and its place in the sequence, mixed
    again.  By numpy over a whole batch at once (a blake2b of each text's words
    joined cost ~35 us a document, most of it gathering their bytes)."""
    title_sizes = np.bincount(title_doc, minlength=n)
    body_sizes = np.bincount(body_doc, minlength=n)
    # The mark between title and text, as a word of its own.
    total = _mixed(_TEXT_MARK + (title_sizes.astype(np.uint64) + np.uint64(1)) * _TEXT_PLACE)
    for words, doc, sizes, first in (
        (title, title_doc, title_sizes, np.zeros(n, np.int64)),
        (body, body_doc, body_sizes, title_sizes + 1),
    ):
        if not len(words):
            continue
        ends = np.cumsum(sizes)
        starts = ends - sizes
        place = (np.arange(len(doc)) - starts[doc] + first[doc] + 1).astype(np.uint64)
        sums = np.zeros(len(words) + 1, np.uint64)
        np.cumsum(_mixed(words.view(np.uint64) + place * _TEXT_PLACE), out=sums[1:])
        total += sums[ends] - sums[starts]  # wraps modulo 2**64, as it should
    return _mixed(total).view(np.int64)


_TEXT_MARK = np.uint64(0x7C7C7C7C7C7C7C7C)  # "|", the mark between title and text
_TEXT_PLACE = np.uint64(0x9E3779B97F4A7C15)


def _mixed(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer of each value (a new uint64 array)."""
    shift = np.uint64(33)
    h = h ^ (h >> shift)
    h *= np.uint64(_MIX[0])
    h ^= h >> shift
    h *= np.uint64(_MIX[1])
    h ^= h >> shift
    return h


def sketch(word_hashes: np.ndarray) -> bytes:
    """The bottom-k sketch of the 3-word shingles of a text's word hashes."""
    if len(word_hashes) < SKETCH_MIN_WORDS:
        return b""
    h = word_hashes.view(np.uint64)
    with np.errstate(over="ignore"):
        shingles = h[:-2] * SHINGLE_A + h[1:-1] * SHINGLE_B + h[2:]
    return _arrays.unique(shingles)[:SKETCH_SIZE].tobytes()


def bottom(
    shingles: np.ndarray, owner: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shingles, text) of each text's ``SKETCH_SIZE`` smallest distinct shingles, by
    text then shingle, and the number of distinct shingles of each text."""
    # By text, then shingle: sorted by shingle, then (stable) by text number, a
    # radix sort for 16 bits -- what np.lexsort gives, several times faster.
    order = _arrays.argsort(shingles)
    small = np.uint16 if n <= 0xFFFF else np.int64
    order = order[np.argsort(owner[order].astype(small), kind="stable")]
    shingles, owner = shingles[order], owner[order]
    first = np.ones(len(owner), bool)
    first[1:] = (owner[1:] != owner[:-1]) | (shingles[1:] != shingles[:-1])
    shingles, owner = shingles[first], owner[first]
    distinct = np.bincount(owner, minlength=n)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(distinct) - distinct, distinct)
    return shingles[rank < SKETCH_SIZE], owner[rank < SKETCH_SIZE], distinct


_HASHES: dict[str, int] = {}
_HASHES_MAX = 2_000_000


def hash_all(texts: Sequence[str]) -> np.ndarray:
    """A stable 64-bit id of each text by blake2b (Python's hash() changes between
    processes), as an int64 array (the digests joined and read as little-endian
    int64): the word hashes reprint sketches are made of.  Terms have their own,
    cheaper hash (:func:`term_hash`)."""
    # A copy of a fresh 8-byte blake2b, then the text: the same digest as
    # blake2b(text, digest_size=8), a third cheaper (no keywords parsed a text).
    copy = _BLAKE2B_8.copy
    digests = []
    for t in texts:
        h = copy()
        h.update(t.encode("utf-8", "surrogatepass"))
        digests.append(h.digest())
    return np.frombuffer(b"".join(digests), "<i8").astype(np.int64)


_BLAKE2B_8 = hashlib.blake2b(digest_size=8)


# The hash of a term (a word form, stem, first letters, skeleton): stable across
# processes, and worked out for a whole list of words at once by numpy (a call of
# blake2b a word cost more than the rest of the word's table row).  Horner's
# polynomial of the UTF-8 bytes modulo 2**64 with an odd multiplier, the byte
# length mixed in, then MurmurHash3's finalizer (every bit of the sum moves every
# bit of the hash).  No collision among the 855,331 distinct words, stems and
# first letters of half of speed.py's store (checked); the known weakness of such
# polynomials modulo 2**64 needs texts of thousands of bytes, not words.
_MULTIPLIER = 0x9E3779B97F4A7C15  # text.words' multiplier: its powers are shared (hash_powers)
_MIX = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)
_MASK = (1 << 64) - 1
_HASH_SLICE = 8192  # terms hashed together (~200 KB of UTF-8 for words)


def term_hash(text: str) -> int:
    """The stable 64-bit hash of a term (:func:`term_hashes` of one, in Python)."""
    data = text.encode("utf-8", "surrogatepass")
    h = 0
    for byte in data:
        h = (h * _MULTIPLIER + byte) & _MASK
    h ^= len(data)
    h ^= h >> 33
    h = (h * _MIX[0]) & _MASK
    h ^= h >> 33
    h = (h * _MIX[1]) & _MASK
    h ^= h >> 33
    return h - (1 << 64) if h >> 63 else h


def term_hashes(texts: Sequence[str]) -> np.ndarray:
    """:func:`term_hash` of each text (none holding a NUL character), as an int64
    array: the texts are joined by NUL into one buffer, and each byte at ``i`` is
    weighed by M**(size - 1 - i); the sum over a text, brought down by
    M**-(size - end), is its polynomial sum of byte * M**(end - 1 - i)."""
    n = len(texts)
    if not n:
        return np.zeros(0, np.int64)
    if n > _HASH_SLICE:  # a slice at a time: the buffer and its powers stay small
        return np.concatenate(
            [term_hashes(texts[i : i + _HASH_SLICE]) for i in range(0, n, _HASH_SLICE)]
        )
    data = ("\0".join(texts) + "\0").encode("utf-8", "surrogatepass")
    buffer = np.frombuffer(data, np.uint8)
    size = len(buffer)
    ends = np.flatnonzero(buffer == 0)
    if len(ends) != n:
        raise ValueError("a term holds a NUL character")
    power, inverse = _text.hash_powers(size)
    starts = np.zeros(n, np.int64)
    starts[1:] = ends[:-1] + 1
    # Each slice ends with its NUL (weighed 0): none is empty.
    h = np.add.reduceat(power[size - 1 :: -1] * buffer, starts)
    h *= inverse[size - ends]
    h ^= (ends - starts).astype(np.uint64)
    shift = np.uint64(33)
    h ^= h >> shift
    h *= np.uint64(_MIX[0])
    h ^= h >> shift
    h *= np.uint64(_MIX[1])
    h ^= h >> shift
    return h.view(np.int64)


def _hashes(
    words: Sequence[str],
    memo: dict[str, int] | None = None,
    hash_all: Callable[[Sequence[str]], np.ndarray] = term_hashes,
) -> np.ndarray:
    """The hash of each word (:func:`term_hash`; or ``hash_all``'s, memoized in
    ``memo``), as an int64 array.  Only the words not yet memoized are hashed; the
    rest is one lookup per word in C (no Python call each)."""
    memo = _HASHES if memo is None else memo
    missing = set(words).difference(memo)
    if missing:
        if len(memo) + len(missing) > _HASHES_MAX:
            memo.clear()
            missing = set(words)
        missing_words = list(missing)
        memo.update(zip(missing_words, hash_all(missing_words).tolist(), strict=True))
    return np.fromiter(map(memo.__getitem__, words), np.int64, len(words))


_WORD_HASHES: dict[str, int] = {}  # words -> hash_all's (what reprint sketches are made of)


def counted(terms: Mapping[str, int] | Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct stem hashes, their counts), of terms given as a
    term -> count mapping or as a sequence with repeats."""
    if not isinstance(terms, Mapping):
        terms = Counter(terms)
    if not terms:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    hashes = _hashes(list(terms))
    counts = np.fromiter(terms.values(), np.int64, len(terms))
    order = np.argsort(hashes)
    return hashes[order], counts[order]
