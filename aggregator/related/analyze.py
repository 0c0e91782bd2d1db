"""Text analysis for the related index: stored items -> documents -> stem hashes
and counts (title, text, names), and each entry's list item (:class:`Entry`).

Two paths give the same terms (a test holds them together): word by word in Python
(:func:`analyze_with_signature`), for an entry added to a saved index, and by numpy
over the word numbers of a table of word forms (:func:`parse_document`,
:func:`parse_batch`), for a full build.  What they lean on lives apart: the data types
(``_documents``), the word table (``_words``), the hashes and reprint sketches
(``_hashing``), where names and figures are (``_proper_names``), numpy primitives
(``_arrays``); the whole store analyzed by worker processes is ``_parse_store``."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from aggregator.config import SourceConfig
from aggregator.models import ItemText, StoredItem
from aggregator.related import _arrays, _hashing, _proper_names
from aggregator.related._documents import Batch, Document, Parsed
from aggregator.related._words import (
    BODY_TERMS,
    PREFIX,
    PREFIX_FROM,
    SKELETON_MIN,
    Words,
)
from aggregator.related.changes import text_version
from aggregator.related.lexicon import (
    expand_abbreviations,
    figure_tokens,
    mark_figures,
    skeleton,
)
from aggregator.text import words as _text
from aggregator.text.html import lead, plain_text, shorten
from aggregator.text.urls import canonical_url, is_site_root

log = logging.getLogger(__name__)

BODY_CHARS = 1500  # of an entry's text, the head is what it is about (and bounds the cost)


def document(stored: StoredItem, sources: Mapping[str, SourceConfig]) -> Document:
    """The :class:`Document` for a stored item; ``sources`` gives tags and language."""
    text = stored.text()
    return _document(text, sources, *_summary_and_content(text))


def _summary_and_content(item: ItemText) -> tuple[str, str]:
    """The plain text of an item's summary and content, each of its HTML's head: the
    head is enough (``BODY_CHARS``), and cutting the HTML first saves the time; of
    each text, its first ``BODY_CHARS`` characters (all that a document and a list
    item read of it)."""
    return (
        plain_text((item.summary or "")[: 2 * BODY_CHARS], BODY_CHARS),
        plain_text((item.content or "")[: 2 * BODY_CHARS], BODY_CHARS),
    )


def _document(
    item: ItemText, sources: Mapping[str, SourceConfig], body: str, content: str
) -> Document:
    tags = {c.strip().casefold() for c in item.categories if c.strip()}
    language = item.language
    for source_id in item.source_ids:
        source = sources.get(source_id)
        if source is not None:
            tags.update(t.casefold() for t in source.tags)
            language = language or source.language
    if content and not content.startswith(body[:200]):
        body = f"{body} {content}" if body else content
    elif content:
        body = content
    link = canonical_url(item.link) if item.link else None
    if link and is_site_root(link):
        link = None  # feeds that give every entry their home page
    return Document(
        key=item.key,
        published=item.published,
        title=plain_text(item.title),
        text=body[:BODY_CHARS],
        tags=tuple(sorted(tags)),
        language=language,
        link=link,
        version=text_version(item),
    )


def document_and_entry(
    item: ItemText, sources: Mapping[str, SourceConfig]
) -> tuple[Document, Entry]:
    """:func:`document` and :func:`describe_entry` of one item, the plain text of its
    summary (or content) worked out once for both when the lead's HTML is the head
    the document reads."""
    summary, content = _summary_and_content(item)
    fragment = item.summary or item.content
    if fragment and len(fragment) <= 2 * BODY_CHARS:
        teaser = shorten(summary if item.summary else content, LEAD_CHARS)
    else:
        teaser = lead(fragment, LEAD_CHARS)
    return _document(item, sources, summary, content), _entry(item, sources, teaser)


def parse_document(doc: Document) -> Parsed:
    """:func:`analyze_with_signature` as stem hashes and counts, the text dropped.

    The same result (a test checks), worked out faster: each distinct word form is
    analyzed once per process (:class:`Words`: stem, prefix and skeleton hashes,
    stop word, figure), and a text's terms are counted by numpy over word numbers,
    not by Python over its words and terms."""
    language, title_words, body_words, names = _words_of(doc)
    table = Words.of(language)
    title_ids = table.ids(title_words)
    body_ids = table.ids(body_words)
    named: list[np.ndarray] = []
    title = table.terms(title_ids, names, named)
    body = table.terms(body_ids, names, named, limit=BODY_TERMS)
    word_hashes = table.word_hash[np.concatenate([title_ids, body_ids])]
    text_hash = _hashing.text_hash(word_hashes, len(title_ids))
    sketch = _hashing.sketch(word_hashes)
    return Parsed(
        replace(doc, title="", text="", text_hash=text_hash, sketch=sketch),
        title,
        body,
        _arrays.unique(_arrays.concat(named)),
    )


def parse_batch(docs: Sequence[Document]) -> Batch:
    """:func:`parse_document` of many documents at once, as a :class:`Batch` (the
    documents grouped by language, in order within each): the same stems and counts
    (a test checks), counted by numpy over the whole batch instead of text by text."""
    groups: dict[str, list] = {}
    expanded = [_expanded(doc) for doc in docs]
    # Where the digits are, found for all the texts at once: mark_figures tries its
    # pattern only there (scanning each text for a digit cost ~25 us a document).
    digits = iter(
        _proper_names.digit_places([text for _, title, body in expanded for text in (title, body)])
    )
    marked = [
        (language, mark_figures(title, next(digits)), mark_figures(body, next(digits)))
        for language, title, body in expanded
    ]
    # So are where names can start (a scan for a capital cost ~15 us a document).
    heads = [_proper_names.names_text(language, title, body) for language, title, body in marked]
    for doc, (language, title, body), head, starts in zip(
        docs, marked, heads, _proper_names.name_starts(heads), strict=True
    ):
        names = _proper_names.capitalized(head, language, starts)
        groups.setdefault(language, []).append((doc, title, body, names))
    batches = [Words.of(language).batch(texts) for language, texts in groups.items()]
    if len(batches) == 1:
        return batches[0]
    return Batch.join(batches) if batches else Batch.of([])


def reprint_signature(doc: Document) -> tuple[int, bytes]:
    """(hash of the whole normalized text, bottom-k sketch of the body's 3-word
    shingles).  Two entries are the same text when the hashes are equal, or when
    their bodies share most shingles (``index`` compares the sketches)."""
    return _hashing.signature(_text.tokenize(doc.title), _text.tokenize(doc.text))


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
    language, title_words, body_words, names = _words_of(doc)
    named: set[str] = set()
    title = _terms(title_words, language, names, named)
    body = _terms(body_words, language, names, named, limit=BODY_TERMS)
    return (title, body, named, *_hashing.signature(title_words, body_words))


def _words_of(doc: Document) -> tuple[str, list[str], list[str], set[str]]:
    """(language, title words, text words, the words that are names): the tokens,
    abbreviations spelled out and figures in one spelling."""
    language, title_text, body_text, names = _texts_of(doc)
    title_words = figure_tokens(_text.tokenize(title_text), language)
    body_words = figure_tokens(_text.tokenize(body_text), language)
    return language, title_words, body_words, names


def _texts_of(doc: Document) -> tuple[str, str, str, set[str]]:
    """(language, title, text, the words that are names) before tokenizing: the
    abbreviations spelled out and the figures in digits marked."""
    language, title, body = _expanded(doc)
    title_text, body_text = mark_figures(title), mark_figures(body)
    return language, title_text, body_text, _proper_names.names(language, title_text, body_text)


def _expanded(doc: Document) -> tuple[str, str, str]:
    """(language, title, text), the abbreviations spelled out."""
    language = _text.primary_language(doc.language)
    if language not in _text.STOP_WORDS:
        language = _text.detect_language(f"{doc.title} {doc.text[:1000]}")
    return language, expand_abbreviations(doc.title), expand_abbreviations(doc.text)


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
                if len(bone) >= SKELETON_MIN:
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
            if prefixes and len(token) >= PREFIX_FROM and not token.isascii():
                memo[token] = (stem, "~" + token[:PREFIX])
            else:
                memo[token] = (stem,)
    return memo


@dataclass(slots=True)
class Entry:
    """What an entry's list item shows."""

    key: str
    title: str
    url: str | None
    lead: str
    published: datetime
    source: str


# Worker processes a full build starts at most: to analyze the store (_parse_store),
# compute the lists (_build) and write the files (export).
MAX_PROCESSES = 4


def describe_entry(stored: StoredItem, sources: Mapping[str, SourceConfig]) -> Entry:
    item = stored.item
    return _entry(stored.text(), sources, lead(item.summary or item.content, LEAD_CHARS))


LEAD_CHARS = 200  # of an entry's summary (or content) in its list item


def _entry(item: ItemText, sources: Mapping[str, SourceConfig], teaser: str) -> Entry:
    source = None
    for source_id in item.source_ids:  # a loop, not next() of a generator (~1 us less)
        if source_id in sources:
            source = sources[source_id].name
            break
    return Entry(
        key=item.key,
        title=" ".join(item.title.split()),
        url=item.link,
        lead=teaser,
        published=item.published.astimezone(UTC),
        source=source or (item.source_ids[0] if item.source_ids else ""),
    )
