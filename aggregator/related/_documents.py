"""What the text analysis makes and the index reads: a :class:`Document` (one entry's
texts, and once analyzed what tells a reprint), and analyzed documents column-wise:
:class:`Documents` (their fields), :class:`Batch` (term numbers, counts and lengths of
titles, texts and names, with the batch's term table and document frequency) and
:class:`Parsed` (one document's, as hashes).

Apart from ``analyze`` because these are the data that cross modules and processes
(the full build's workers send batches, the index reads their columns): types, their
joins and counts, no text analysis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np

from aggregator.related import _arrays


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


class Documents(Sequence[Document]):
    """Analyzed documents (texts dropped) column-wise, as the full build's workers send
    them: the index reads the columns, and 100,000 :class:`Document` objects are not
    made in the main process (~1 s of its serial time).  Indexed (not sliced), each
    is a :class:`Document`."""

    def __init__(
        self,
        keys: list[str],
        times: np.ndarray,  # publication times, POSIX seconds
        tag_lists: list[tuple[str, ...]],
        tags: np.ndarray,  # each document's tags: its place in ``tag_lists``
        languages: list[str | None],
        links: list[str | None],
        versions: list[str],
        text_hashes: np.ndarray,
        sketches: list[bytes],
    ) -> None:
        self.keys, self.times, self.tag_lists, self.tags = keys, times, tag_lists, tags
        self.languages, self.links, self.versions = languages, links, versions
        self.text_hashes, self.sketches = text_hashes, sketches

    def columns(self) -> tuple:
        """The constructor's arguments, in its order (what a worker sends)."""
        return (
            self.keys,
            self.times,
            self.tag_lists,
            self.tags,
            self.languages,
            self.links,
            self.versions,
            self.text_hashes,
            self.sketches,
        )

    @classmethod
    def of(cls, docs: Sequence[Document]) -> Documents:
        if isinstance(docs, Documents):
            return docs
        numbers: dict[tuple[str, ...], int] = {}
        tags = np.fromiter((numbers.setdefault(d.tags, len(numbers)) for d in docs), np.int32)
        return cls(
            [d.key for d in docs],
            np.fromiter((d.published.timestamp() for d in docs), np.float64, len(docs)),
            list(numbers),
            tags,
            [d.language for d in docs],
            [d.link for d in docs],
            [d.version for d in docs],
            np.fromiter((d.text_hash for d in docs), np.int64, len(docs)),
            [d.sketch for d in docs],
        )

    @classmethod
    def join(cls, parts: Sequence[Sequence[Document]]) -> Documents:
        columns = [cls.of(p) for p in parts]
        offsets = np.cumsum([0] + [len(c.tag_lists) for c in columns])
        return cls(
            [k for c in columns for k in c.keys],
            _arrays.concat([c.times for c in columns]).astype(np.float64),
            [t for c in columns for t in c.tag_lists],
            _arrays.concat([c.tags + offset for c, offset in zip(columns, offsets, strict=False)]),
            [x for c in columns for x in c.languages],
            [x for c in columns for x in c.links],
            [x for c in columns for x in c.versions],
            _arrays.concat([c.text_hashes for c in columns]).astype(np.int64),
            [x for c in columns for x in c.sketches],
        )

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> Document:  # type: ignore[override]  (no slices)
        return Document(
            key=self.keys[i],
            published=datetime.fromtimestamp(float(self.times[i]), UTC),
            title="",
            text="",
            tags=self.tag_lists[self.tags[i]],
            language=self.languages[i],
            link=self.links[i],
            version=self.versions[i],
            text_hash=int(self.text_hashes[i]),
            sketch=self.sketches[i],
        )


class Parsed(NamedTuple):
    """A document analyzed, its text dropped: (stem hashes, counts) of title and text,
    and the hashes of its names.  Hashes, not stems: numpy arrays travel between
    processes and sort (into a vocabulary) far faster than strings."""

    doc: Document
    title: tuple[np.ndarray, np.ndarray]
    body: tuple[np.ndarray, np.ndarray]
    names: np.ndarray


@dataclass
class Batch:
    """Analyzed documents column-wise (cheap to send between processes): ``terms``,
    the batch's distinct stem hashes (sorted); for title and text, (term numbers:
    positions in ``terms``, counts, terms per document); for names, (term numbers,
    nothing, terms per document) -- the last array is always the lengths.  Numbers,
    not hashes: joining batches remaps their small term tables, and the index takes
    the numbers as its columns, instead of sorting and searching every hash."""

    docs: Sequence[Document]  # texts dropped: a list, or Documents (columns)
    title: tuple[np.ndarray, np.ndarray, np.ndarray]
    body: tuple[np.ndarray, np.ndarray, np.ndarray]
    names: tuple[np.ndarray, np.ndarray, np.ndarray]
    terms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # Per term: how many documents have it in their title or text, once counted
    # (:meth:`document_frequency`; the full build's workers count it chunk by chunk,
    # and a join adds the chunks' up: the index's IDF needs it of every document).
    df: np.ndarray | None = None

    def document_frequency(self) -> np.ndarray:
        if self.df is None:
            self.df = document_frequency(self.title, self.body, len(self.terms))
        return self.df

    @classmethod
    def of(cls, parsed: Sequence[Parsed]) -> Batch:
        def column(parts: list[tuple[np.ndarray, np.ndarray]]):
            lengths = np.array([len(h) for h, _ in parts], np.int32)
            counts = _arrays.concat([c for _, c in parts]).astype(
                np.int16
            )  # a stem's count in a text
            return _arrays.concat([h for h, _ in parts]), counts, lengths

        names = [(p.names, p.names[:0]) for p in parsed]
        return cls.of_hashes(
            [p.doc for p in parsed],
            column([p.title for p in parsed]),
            column([p.body for p in parsed]),
            column(names),
        )

    @classmethod
    def of_hashes(
        cls,
        docs: list[Document],
        *columns: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> Batch:
        """The batch of (stem hashes, counts, lengths) columns: title, text, names."""
        terms = _arrays.unique(_arrays.concat([c[0] for c in columns]))
        numbered = [
            (np.searchsorted(terms, hashes).astype(np.int32), counts, lengths)
            for hashes, counts, lengths in columns
        ]
        return cls(docs, *numbered, terms=terms)

    def hashes(self, column: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        """A column's stem hashes (its term numbers looked up)."""
        return self.terms[column[0]]

    @classmethod
    def join(cls, batches: Sequence[Batch], *, consume: bool = False) -> Batch:
        """One batch of several; ``consume``: free each column of theirs once copied."""
        terms = _arrays.unique(_arrays.concat([b.terms for b in batches]))
        # Each batch's term numbers -> the joined table's (both tables sorted).
        renumber = [np.searchsorted(terms, b.terms).astype(np.int32) for b in batches]

        def column(name: str):
            parts = [getattr(b, name) for b in batches]
            if consume:
                for b in batches:
                    setattr(b, name, None)
            joined = [
                _arrays.concat([np.take(new, p[0]) for p, new in zip(parts, renumber, strict=True)])
            ]
            joined[0] = joined[0].astype(np.int32, copy=False)
            for k in (1, 2):
                joined.append(_arrays.concat([p[k] for p in parts]))
            return tuple(joined)

        if all(isinstance(b.docs, list) for b in batches):
            docs: Sequence[Document] = [d for b in batches for d in b.docs]
        else:
            docs = Documents.join([b.docs for b in batches])
        df = None
        if any(b.df is not None for b in batches):  # the others are few (commentary)
            df = np.zeros(len(terms), np.int64)
            for b, new in zip(batches, renumber, strict=True):
                df[new] += b.document_frequency()  # a batch's terms are distinct
        return cls(
            docs=docs,
            title=column("title"),
            body=column("body"),
            names=column("names"),
            terms=terms,
            df=df,
        )


_DF_ROWS = 8192  # documents at a time: bincount copies its input as intp


def document_frequency(
    title: tuple[np.ndarray, np.ndarray, np.ndarray],
    body: tuple[np.ndarray, np.ndarray, np.ndarray],
    terms: int,
) -> np.ndarray:
    """How many documents have each term in ``title`` or ``body`` ((term numbers,
    counts, lengths) columns, each document's numbers sorted): in each, less in both,
    found by bisection of each title term's place (document * terms + term: ascending)
    among the text's, a block of documents at a time."""
    df = np.zeros(terms, np.int64)
    (a_all, _, a_lengths), (b_all, _, b_lengths) = title, body
    a_ends = np.concatenate([[0], np.cumsum(a_lengths)])
    b_ends = np.concatenate([[0], np.cumsum(b_lengths)])
    n = len(a_lengths)
    for start in range(0, n, _DF_ROWS):
        stop = min(start + _DF_ROWS, n)
        a = a_all[a_ends[start] : a_ends[stop]]
        b = b_all[b_ends[start] : b_ends[stop]]
        df += np.bincount(a, minlength=terms)
        df += np.bincount(b, minlength=terms)
        if not len(a) or not len(b):
            continue
        rows = np.arange(stop - start, dtype=np.int64) * terms
        places = [
            np.repeat(rows, a_lengths[start:stop]) + a,
            np.repeat(rows, b_lengths[start:stop]) + b,
        ]
        at = np.minimum(np.searchsorted(places[1], places[0]), len(places[1]) - 1)
        df -= np.bincount(a[places[1][at] == places[0]], minlength=terms)
    return df
