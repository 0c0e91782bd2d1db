"""Text analysis for the related index: stored items -> documents -> stem hashes
and counts (title, text, names), in parallel over the store for a full build."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import BinaryIO, NamedTuple
from urllib.parse import urlsplit

import numpy as np

from aggregator import procs
from aggregator.config import Config, SourceConfig
from aggregator.models import StoredItem
from aggregator.related.changes import version_of
from aggregator.related.lexicon import (
    expand_abbreviations,
    figure_tokens,
    mark_figures,
    skeleton,
)
from aggregator.store import Storage, open_storage
from aggregator.text import words as _text
from aggregator.text.html import lead, plain_text
from aggregator.text.urls import canonical_url

log = logging.getLogger(__name__)

BODY_CHARS = 1500  # of an entry's text, the head is what it is about (and bounds the cost)
BODY_TERMS = 150
NAMES_CHARS = 600  # names are looked for in the title and the lead


@dataclass(frozen=True)
class Document:
    """What the index needs to know about one entry."""

    key: str  # the store key
    published: datetime
    title: str  # plain text
    text: str  # plain text of summary and content
    tags: tuple[str, ...] = ()  # casefolded categories and source tags
    language: str | None = None
    link: str | None = None  # canonical link (same link: the same story)
    version: str = ""  # fingerprint: a different one means the entry changed
    # Set by parse_document (the text is dropped after analysis): what tells a reprint.
    text_hash: int = 0  # of the whole normalized text: equal -> the same text
    sketch: bytes = b""  # the body's smallest word-shingle hashes (uint64), if it has one


def document(stored: StoredItem, sources: Mapping[str, SourceConfig]) -> Document:
    """The :class:`Document` for a stored item; ``sources`` gives tags and language."""
    item = stored.item
    tags = {c.strip().casefold() for c in item.categories if c.strip()}
    language = item.language
    for source_id in stored.source_ids:
        source = sources.get(source_id)
        if source is not None:
            tags.update(t.casefold() for t in source.tags)
            language = language or source.language
    # The head is enough (BODY_CHARS), and cutting the HTML first saves the time.
    body = plain_text((item.summary or "")[: 2 * BODY_CHARS])
    content = plain_text((item.content or "")[: 2 * BODY_CHARS])
    if content and not content.startswith(body[:200]):
        body = f"{body} {content}" if body else content
    elif content:
        body = content
    link = canonical_url(item.link) if item.link else None
    if link and urlsplit(link).path in ("", "/"):
        link = None  # feeds that give every entry their home page
    return Document(
        key=stored.key,
        published=stored.published,
        title=plain_text(item.title),
        text=body[:BODY_CHARS],
        tags=tuple(sorted(tags)),
        language=language,
        link=link,
        version=version_of(stored),
    )


class Parsed(NamedTuple):
    """A document analyzed, its text dropped: (stem hashes, counts) of title and text,
    and the hashes of its names.  Hashes, not stems: numpy arrays travel between
    processes and sort (into a vocabulary) far faster than strings."""

    doc: Document
    title: tuple[np.ndarray, np.ndarray]
    body: tuple[np.ndarray, np.ndarray]
    names: np.ndarray


def parse_document(doc: Document) -> Parsed:
    title, body, names, text_hash, sketch = analyze_with_signature(doc)
    return Parsed(
        replace(doc, title="", text="", text_hash=text_hash, sketch=sketch),
        counted(title),
        counted(body),
        counted(names)[0],
    )


SKETCH_SIZE = 16  # shingle hashes kept per text (bottom-k)
SKETCH_MIN_WORDS = 12  # shorter: only the same whole text is a reprint
_SHINGLE_A = np.uint64(0x9E3779B97F4A7C15)
_SHINGLE_B = np.uint64(0xC2B2AE3D27D4EB4F)


def reprint_signature(doc: Document) -> tuple[int, bytes]:
    """(hash of the whole normalized text, bottom-k sketch of the body's 3-word
    shingles).  Two entries are the same text when the hashes are equal, or when
    their bodies share most shingles (``index`` compares the sketches)."""
    return _signature(_text.tokenize(doc.title), _text.tokenize(doc.text))


def _signature(title_words: list[str], words: list[str]) -> tuple[int, bytes]:
    # Not through the memo: every text is another string.
    text_hash = _hash(" ".join(title_words + ["|"] + words))
    # The headline belongs to the text: a retelling that changes a word of it and one
    # of a short lead is not the same text; a reprint keeps (nearly) both.
    words = title_words + words
    if len(words) < SKETCH_MIN_WORDS:
        return text_hash, b""
    h = _hashes(words).view(np.uint64)
    with np.errstate(over="ignore"):
        shingles = h[:-2] * _SHINGLE_A + h[1:-1] * _SHINGLE_B + h[2:]
    return text_hash, np.unique(shingles)[:SKETCH_SIZE].tobytes()


@dataclass
class Batch:
    """Analyzed documents column-wise (cheap to send between processes): for title
    and text, (stem hashes, counts, stems per document); for names, (hashes, hashes
    per document, hashes per document) -- the last array is always the lengths."""

    docs: list[Document]  # texts dropped
    title: tuple[np.ndarray, np.ndarray, np.ndarray]
    body: tuple[np.ndarray, np.ndarray, np.ndarray]
    names: tuple[np.ndarray, np.ndarray, np.ndarray]

    @classmethod
    def of(cls, parsed: Sequence[Parsed]) -> Batch:
        def column(parts: list[tuple[np.ndarray, np.ndarray]]):
            lengths = np.array([len(h) for h, _ in parts], np.int32)
            counts = concat([c for _, c in parts]).astype(np.int16)  # a stem's count in a text
            return concat([h for h, _ in parts]), counts, lengths

        names = [(p.names, p.names[:0]) for p in parsed]
        return cls(
            docs=[p.doc for p in parsed],
            title=column([p.title for p in parsed]),
            body=column([p.body for p in parsed]),
            names=column(names),
        )

    @classmethod
    def join(cls, batches: Sequence[Batch], *, consume: bool = False) -> Batch:
        """One batch of several; ``consume``: free each column of theirs once copied."""

        def column(name: str):
            parts = [getattr(b, name) for b in batches]
            if consume:
                for b in batches:
                    setattr(b, name, None)
            joined = []
            while parts and parts[0]:
                joined.append(concat([p[0] for p in parts]))
                parts = [p[1:] for p in parts]
            return tuple(joined)

        return cls(
            docs=[d for b in batches for d in b.docs],
            title=column("title"),
            body=column("body"),
            names=column("names"),
        )


def concat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)


_HASHES: dict[str, int] = {}
_HASHES_MAX = 2_000_000


def _hash(text: str) -> int:
    """A stable 64-bit id of a string (Python's hash() changes between processes)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _stem_hash(stem: str) -> int:
    """:func:`_hash`, memoized: stems and words repeat across documents."""
    h = _HASHES.get(stem)
    if h is None:
        if len(_HASHES) > _HASHES_MAX:
            _HASHES.clear()
        h = _HASHES[stem] = _hash(stem)
    return h


def _hashes(words: Sequence[str]) -> np.ndarray:
    """The :func:`_stem_hash` of each word, as an int64 array.  Only the words not yet
    memoized are hashed; the rest is one lookup per word in C (no Python call each)."""
    memo = _HASHES
    missing = set(words).difference(memo)
    if missing:
        if len(memo) + len(missing) > _HASHES_MAX:
            memo.clear()
            missing = set(words)
        for word in missing:
            memo[word] = _hash(word)
    return np.fromiter(map(memo.__getitem__, words), np.int64, len(words))


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


def _parse_store_part(
    store_path: str, config: Config, key_range: tuple[str | None, str | None], out: str
) -> str:
    """Analyze the stored entries of ``key_range`` (a worker's share: it reads only
    those); write the results into the file ``out`` a chunk at a time, and return its name.

    A file, written as it goes: the worker keeps one chunk, not its whole share, and
    pickling a large result in memory would double the worker's memory at its peak."""
    sources = {s.id: s for s in config.sources}
    parsed: list[Parsed] = []
    entries: list[Entry] = []
    with open(out, "wb") as f, open_storage(store_path) as storage:
        for stored in storage.iter_items(newest_first=False, key_range=key_range):
            parsed.append(parse_document(document(stored, sources)))
            entries.append(describe_entry(stored, sources))
            if len(parsed) == _CHUNK:
                _write_chunk(f, Batch.of(parsed), entries)
                parsed, entries = [], []
        _write_chunk(f, Batch.of(parsed), entries)
    _HASHES.clear()
    _WORD_TERMS.clear()
    return out


_CHUNK = 4096  # documents: small arrays cost ~100 bytes each, so they go in chunks


def _write_chunk(f: BinaryIO, batch: Batch, entries: list[Entry]) -> None:
    # The arrays with np.save (streamed from their buffers, no copy), the rest pickled.
    for column in (batch.title, batch.body, batch.names):
        for array in column:
            np.save(f, array, allow_pickle=False)
    pickle.dump((batch.docs, entries), f, protocol=pickle.HIGHEST_PROTOCOL)


def _read_share(name: str) -> tuple[Batch, list[Entry]]:
    """What _parse_store_part wrote."""
    batches: list[Batch] = []
    entries: list[Entry] = []
    size = os.path.getsize(name)
    with open(name, "rb") as f:
        while f.tell() < size:
            columns = [tuple(np.load(f, allow_pickle=False) for _ in range(3)) for _ in range(3)]
            docs, chunk_entries = pickle.load(f)  # noqa: S301 - our own worker's file
            batches.append(Batch(docs, *columns))
            entries.extend(chunk_entries)
    return Batch.join(batches, consume=True), entries


# A sentence starts at the beginning, or after . ! ? … and spaces (quotes allowed).
_SENTENCE_START = re.compile(r"(?:^|[.!?…]+[\s«»\"'“”„]+)", re.MULTILINE)
_CAPITALIZED = re.compile(r"\b[^\W\d_a-zа-яёәғқңөұүһі][^\W_]*")


def analyze_document(doc: Document) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """(title terms, text terms, terms of names and figures) of a document; see
    :func:`analyze_with_signature`."""
    return analyze_with_signature(doc)[:3]


def analyze_with_signature(
    doc: Document,
) -> tuple[dict[str, int], dict[str, int], set[str], int, bytes]:
    """(title terms, text terms: each with its count; terms of names and figures) of a
    document, and its
    :func:`reprint_signature` (over the same words, abbreviations spelled out and
    figures in one spelling: both sides of a comparison get the same treatment).

    Terms are stems, plus what bridges the variation of real news text (lexicon.py):
    abbreviations spelled out, figures in one spelling (``n1500000``), for Russian
    and Kazakh a word's first letters (``~франц``: Франции / французский), and names
    as a Latin/Cyrillic skeleton (``~s:snrs``: Sunrise / Санрайз, Қарағанды /
    Караганда), besides its stem.  A name is a capitalized word inside a sentence,
    or a Latin word in Russian or Kazakh text.
    """
    language = (doc.language or "").strip().lower().replace("_", "-").split("-")[0]
    language = "kk" if language == "kz" else language
    if language not in _text.STOP_WORDS:
        language = _text.detect_language(f"{doc.title} {doc.text[:1000]}")
    title_text = mark_figures(expand_abbreviations(doc.title))
    body_text = mark_figures(expand_abbreviations(doc.text))
    head = body_text[:NAMES_CHARS]
    # English headlines capitalize every word: there, names come from the text.
    names = _capitalized(head if language == "en" else f"{title_text}. {head}", language)
    named: set[str] = set()
    title_words = figure_tokens(_text.tokenize(title_text))
    body_words = figure_tokens(_text.tokenize(body_text))
    title = _terms(title_words, language, names, named)
    body = _terms(body_words, language, names, named, limit=BODY_TERMS)
    return (title, body, named, *_signature(title_words, body_words))


_PREFIX_FROM = 6  # words this long also count by their first letters
_PREFIX = 5
_SKELETON_MIN = 3  # consonants; shorter skeletons (Ялта: "lt") would join unrelated names


def _terms(
    words: list[str],
    language: str,
    names: set[str],
    named: set[str],
    limit: int | None = None,
) -> dict[str, int]:
    """The terms of one text and their counts; ``named`` collects those that are
    names or figures.  Worked out once per distinct word form (the memo of
    :func:`_word_terms`), then counted: a text repeats its words."""
    stop = _text.STOP_WORDS[language]
    counts = Counter([t for t in words if t not in stop][:limit])
    distinct = list(counts)
    memo = _word_terms(distinct, language)
    terms: dict[str, int] = {}
    get = terms.get
    for token, count in counts.items():
        for term in memo[token]:
            terms[term] = get(term, 0) + count
    named.update(t for t in distinct if t[0] == "n" and t[1:2].isdigit())
    if not names.isdisjoint(distinct):
        for token in distinct:
            if token in names:
                stem = memo[token][0]
                # Latin words unstemmed: the skeleton must not depend on the
                # stemmer's language (Wildberries / Вайлдберриз).
                bone = skeleton(token if token.isascii() else stem)
                if len(bone) >= _SKELETON_MIN:
                    named.add(f"~s:{bone}")
                    terms[f"~s:{bone}"] = get(f"~s:{bone}", 0) + counts[token]
                named.add(stem)
    return terms


_WORD_TERMS: dict[str, dict[str, tuple[str, ...]]] = {}
_WORD_TERMS_MAX = 500_000  # word forms per language before the memo starts over


def _word_terms(tokens: list[str], language: str) -> dict[str, tuple[str, ...]]:
    """The memo of what each word form gives, whatever the text: its stem, and for
    Russian and Kazakh its first letters (derivational grouping: Snowball splits
    Франции / французский, России / россиян, обвиняют / обвинили; their first
    letters do not)."""
    memo = _WORD_TERMS.get(language)
    if memo is None or len(memo) > _WORD_TERMS_MAX:
        memo = _WORD_TERMS[language] = {}
    missing = [t for t in tokens if t not in memo]
    if missing:
        prefixes = language != "en"
        for token, stem in zip(missing, _text.stem_tokens(missing, language), strict=True):
            if prefixes and len(token) >= _PREFIX_FROM and not token.isascii():
                memo[token] = (stem, "~" + token[:_PREFIX])
            else:
                memo[token] = (stem,)
    return memo


def _capitalized(text: str, language: str) -> set[str]:
    """Tokens of what reads as a name: a capitalized word inside a sentence
    (Караганда, Токаев, «Казтеплосеть»), or a Latin word in Russian or Kazakh text
    (Lexus).  Same-event news share these; same-topic news share the words around."""
    starts = {m.end() for m in _SENTENCE_START.finditer(text)}
    words = [m.group() for m in _CAPITALIZED.finditer(text) if m.start() not in starts]
    if language != "en":
        words += [m.group() for m in _LATIN_WORD.finditer(text)]
    return set(_text.tokenize(" ".join(words)))


_LATIN_WORD = re.compile(r"\b[A-Za-z][A-Za-z]{2,}\b")


@dataclass(slots=True)
class Entry:
    """What an entry's list item shows."""

    key: str
    title: str
    url: str | None
    lead: str
    published: datetime
    source: str


MAX_PROCESSES = 4
_PARALLEL_FROM = 5000  # entries; below, starting processes costs more than it saves


def parse_store(
    storage: Storage, config: Config, *, processes: int | None = None
) -> tuple[Batch, dict[str, Entry]]:
    """Every stored entry analyzed, and described for the outputs; by ``processes``
    worker processes (default: one per available core, up to ``MAX_PROCESSES``, and
    none for a small store)."""
    if processes is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        processes = min(cores, MAX_PROCESSES)
        if storage.items_count() < _PARALLEL_FROM:
            processes = 1
    if processes < 2:
        sources = {s.id: s for s in config.sources}
        stored_items = list(storage.iter_items(newest_first=False))
        shares = [
            (
                Batch.of([parse_document(document(stored, sources)) for stored in stored_items]),
                [describe_entry(stored, sources) for stored in stored_items],
            )
        ]
    else:
        # Each worker reads its own part of the store (by key) and analyzes it:
        # sending the texts over would cost the main process as much as analyzing them.
        edges = [None, *storage.item_key_bounds(processes), None]
        ranges = list(zip(edges, edges[1:], strict=False))
        with tempfile.TemporaryDirectory(prefix="aggregator-related-") as temp:
            pool = procs.pool(len(ranges))  # workers that die with this process
            try:
                files = pool.starmap(
                    _parse_store_part,
                    [
                        (storage.location, config, key_range, f"{temp}/{part}.pickle")
                        for part, key_range in enumerate(ranges)
                    ],
                )
            finally:
                pool.close()
                pool.join()  # the workers' memory is free before the results are read
            shares = []
            for name in files:
                shares.append(_read_share(name))
                os.unlink(name)
    entries = {e.key: e for _, share_entries in shares for e in share_entries}
    batches = [b for b, _ in shares]
    del shares
    return Batch.join(batches, consume=True), entries


def describe_entry(stored: StoredItem, sources: Mapping[str, SourceConfig]) -> Entry:
    item = stored.item
    source = next((sources[s].name for s in stored.source_ids if s in sources), None)
    return Entry(
        key=stored.key,
        title=" ".join(item.title.split()),
        url=item.link,
        lead=lead(item.summary or item.content),
        published=stored.published.astimezone(UTC),
        source=source or (stored.source_ids[0] if stored.source_ids else ""),
    )
