"""Related entries ("Читать далее / Related"): for every stored entry, the few others
a reader should see next, kept in an index that a run updates incrementally.

Ranking
    Every entry is a TF-IDF vector over the stems of its title and the head of its
    text (``text``: stop words dropped, Snowball for Russian and English, the light
    Kazakh stemmer).  Title and text are weighted (``1 + ln tf`` times IDF; names and
    figures -- capitalized words inside a sentence, numbers -- ``name_weight`` times
    more, because same-event news share them while same-topic news share the words
    around them) and L2-normalized separately, added with the title ``title_weight``
    times as heavy, cut to the ``TERMS_PER_ENTRY`` heaviest stems and normalized
    again.  The text similarity of two entries is the cosine of their vectors (a title
    word matching the other's text counts too).  The score is::

        cosine * (1 + tag_weight * jaccard(tags)) * recency

    where tags are the item's categories and its sources' tags (casefolded), and
    ``recency = 1 - recency_weight * (1 - 2 ** (-|Δt| / recency_half_life))``.
    Only entries published within ``window`` of each other are compared.  Lists keep
    at most ``count`` entries scoring at least ``min_score`` (an empty list is fine),
    best first, ties (at 6 decimals) broken by key: the same input, the same lists.

Reprints and retellings
    Entries with the same text are one *story*: the same canonical link, the same
    whole normalized text, or headline and text sharing at least
    ``duplicate_threshold`` of their 3-word shingles (Jaccard, estimated from bottom-k
    sketches).  Headline similarity never makes a story: two outlets' headlines that
    differ by one word are a retelling, the most related entry there is.  An entry
    never lists its own story and lists at most one entry of any other (the export
    names the others as ``also``).  Entries the caller names in ``exclude`` (a
    commentary and its source item) never list each other.

Evidence
    Names and figures (terms ``analyze`` marks; see ``lexicon``) count only together
    with other shared content: the part of the cosine they make is scaled by
    ``min(1, rest / CONTENT_FLOOR)``.

Candidates, not all pairs
    Comparing 100,000 entries pairwise is 10^10 cosines.  Instead each vector is
    split by column into its *rare* stems (document frequency at most
    ``max(MIN_PRUNE_DF, PRUNE_DF_FRACTION of the entries)``) and its *common* ones.
    A sparse product of the rare parts (an inverted-index join: rare stems have short
    posting lists) gives every entry its ``CANDIDATES`` best candidates sharing rare
    stems worth at least ``CANDIDATE_FLOOR``; their exact cosine is that product plus
    the dot product of their common parts, for those pairs only.  An entry sharing no
    rare stem with another (only words like "Казахстан", "заявил") has no candidates:
    no list rather than a bad one.  The full build goes through the entries in time
    order, a block of rows at a time, each against the slice of entries inside the
    window, so memory stays bounded (no n x n matrix, dense or sparse).  A pair's
    product and score are the same from either side, so each pair is found and scored
    once, by its earlier row's block against the window after it, and the rows' lists
    are put together from those pairs after.  It analyzes the texts in parallel, one
    process per core, and so computes the blocks' pairs and lists (worker processes
    mapping the vectors from files; the same lists as alone).

Incremental updates and IDF drift
    The index (stem hashes, IDF, the vectors as a CSR matrix, tags, stories, lists) is
    saved beside the store (``persist``) with the store's change number.  A run asks
    the store for the entries stored, edited or removed since (``refresh``): new
    entries get vectors (with the saved IDF) and lists, and enter the lists of the
    entries they beat (scores are symmetric); removed or edited entries leave, and
    the lists that held them are recomputed.  Nothing else is touched: a removed
    entry's row stays as a *tombstone* (marked dead, never a candidate, listed or
    exported) until the next base file is written, so neither a run nor loading the
    saved removals renumbers the rows (that cost a pass over every array).  IDF is frozen
    at the last full build (a stem first seen later gets the IDF of a stem seen once),
    so after many updates weights drift; the index is rebuilt from scratch when the
    entries added, removed or edited since the last full build exceed
    ``REBUILD_DRIFT`` (10%) of the entries it was built from, when the ``related``
    settings or the index format change, when the file is unreadable, and on
    ``aggregator related --rebuild``.  An incremental list can differ a little from
    what a rebuild would give (IDF drift; stories merged later); the rebuild settles it.

Where the code is
    This module holds :class:`RelatedIndex`: lookups, the full build's steps, scoring
    pairs, incremental changes, and its state for ``persist`` to save.  Apart from it:
    choosing candidates and the lists' order (``_candidates``), the full build's lists
    block by block, alone or in worker processes (``_build``), CSR helpers
    (``_sparse``), the key columns as loaded (``_loaded``); the texts' analysis is
    ``analyze`` and the modules it names.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import math
import os
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import asdict, replace

import numpy as np

from aggregator import procs
from aggregator.config import RelatedConfig
from aggregator.related import _build, _sparse
from aggregator.related._candidates import (
    CANDIDATE_FLOOR,
    CANDIDATES,
    SCORE_DECIMALS,
    TimeSlices,
)
from aggregator.related._documents import Batch, Document, Documents
from aggregator.related._hashing import SKETCH_SIZE, counted
from aggregator.related._loaded import RowOf, Strings
from aggregator.related._sparse import Rows, sp
from aggregator.related.analyze import analyze_with_signature, parse_batch

log = logging.getLogger(__name__)


REBUILD_DRIFT = 0.10
# Names and figures count fully once the rest of two texts shares this much cosine.
CONTENT_FLOOR = 0.12
TAGS_PER_ENTRY = 8
TERMS_PER_ENTRY = 48  # an entry's vector keeps its heaviest stems only
MIN_PRUNE_DF = 100
PRUNE_DF_FRACTION = 0.005
_BLOCK_ROWS = 2048
_LIST_CHUNKS = 16  # of consecutive blocks, handed to the workers
_WEIGH_ROWS = 8192
_MERGE_PENDING = 2000  # rows added one by one, then merged into the main matrix
_NO_LINK = -1


# One array per entry row, by its name in the saved index -> the attribute holding it.
# The delta file carries the rows it adds, but not their lists and scores: those of
# changed entries travel apart (``dirty_lists``/``dirty_scores``).
_ENTRY_ARRAYS = {
    "ids": "_ids",
    "times": "_times",
    "tags": "_tags",
    "links": "_links",
    "lists": "_lists",
    "scores": "_scores",
    "groups": "_group",
    "text_hash": "_text_hash",
    "sketch": "_sketch",
    "sketch_len": "_sketch_len",
}
# One value per stem, saved under the attribute's own name.
_TERM_ARRAYS = ("term_hash", "idf", "common", "named")
_DELTA_ENTRY_ARRAYS = {
    name: attribute for name, attribute in _ENTRY_ARRAYS.items() if name not in ("lists", "scores")
}


class RelatedIndex:
    """The related-entries index; see the module docstring.

    Rows are entries; ``related(key)`` gives a list.  Build with :meth:`build`,
    change with :meth:`add` / :meth:`remove` / :meth:`update`, persist with
    :meth:`save` / :meth:`load`.
    """

    def __init__(self, settings: RelatedConfig) -> None:
        self.settings = settings
        # Every row's key and version (a removed entry's too, until ``_drop_dead``);
        # ``row_of``: the live entries' rows.  Loaded: lazy (``Strings``, ``RowOf``).
        self.keys: list[str] | Strings = []
        self.versions: list[str] | Strings = []
        self.row_of: dict[str, int] | RowOf = {}
        self.term_hash = np.zeros(0, np.int64)  # column -> stem hash
        self._term_id: dict[int, int] | None = None  # stem hash -> column, built when needed
        self.idf = np.zeros(0, np.float32)
        self.common = np.zeros(0, bool)  # per term: left out of candidate generation
        self.named = np.zeros(0, bool)  # per term: a name or a figure (mostly)
        self.built_from = 0  # entries at the last full build
        self.drift = 0  # entries added, removed or edited since then
        self.store_mark: int | None = None  # the store's change number it is up to date with
        self.tag_names: list[str] = []
        self.tag_id: dict[str, int] = {}
        self.exclude: dict[str, tuple[str, ...]] = {}
        # Entry numbers: stable while the entry stays (rows move up when others leave),
        # never reused, in row order; a full build numbers the entries 0..n-1.
        self.next_id = 0
        # What the saved base file holds (persist): entries numbered below ``base_id``,
        # the first ``base_terms`` stems; since then, the base
        # entries removed and the entries whose lists changed (by number).
        self.base_id = 0
        self.base_terms = 0
        self.base_removed: list[int] = []
        self.dirty: set[int] = set()
        self.base_generation: str | None = None
        self.notes: dict = {}  # the caller's, saved with the index (JSON)
        self._sorted_terms = 0  # term_hash[:this] is sorted (looked up by bisection)
        n = 0
        self._ids = np.zeros(n, np.int64)
        self._times = np.zeros(n, np.float64)
        self._tags = np.full((n, TAGS_PER_ENTRY), -1, np.int32)
        self._links = np.full(n, _NO_LINK, np.int64)
        self._lists = np.full((n, max(settings.count, 1)), -1, np.int32)
        self._scores = np.zeros((n, max(settings.count, 1)), np.float32)
        self._group = np.zeros(n, np.int64)  # story number: reprints share one
        self._text_hash = np.zeros(n, np.int64)  # of the whole text (analyze.reprint_signature)
        self._sketch = np.zeros((n, SKETCH_SIZE), np.uint64)  # body shingles, smallest first
        self._sketch_len = np.zeros(n, np.int8)
        # Per row: removed (a tombstone).  Rows stay where they are until the index is
        # saved as a new base (``state``); ``row_of`` names the live rows only.
        self._dead = np.zeros(n, bool)
        self._next_group = 0
        self._matrix: sp.csr_matrix | Rows = Rows.empty()  # rows 0..m-1 ("main")
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # rows m..n-1
        self._new_terms: list[int] = []
        self._term_buffers: tuple[np.ndarray, ...] | None = None
        # The rare stems of the pending rows, as (row, stem column, weight) columns.
        self._postings = np.zeros((3, 0))
        self._postings_used = 0
        self._rare_t: sp.csr_matrix | Rows | None = None  # rare columns of main, transposed
        self._exclude_codes = np.zeros(0, np.int64)  # row << 32 | row, both ways

    # -- sizes and lookups -----------------------------------------------------

    def __len__(self) -> int:
        return len(self.row_of)  # live entries (``keys`` holds every row's key)

    def __contains__(self, key: str) -> bool:
        return key in self.row_of

    def related(self, key: str) -> list[tuple[str, float]]:
        """The related entries of ``key`` as (key, score), best first; [] if unknown."""
        row = self.row_of.get(key)
        if row is None:
            return []
        return [
            (self.keys[j], float(s))
            for j, s in zip(self._lists[row], self._scores[row], strict=True)
            if j >= 0
        ]

    def ids(self) -> np.ndarray:
        """Every entry's number (ascending, in row order); see ``next_id``."""
        n = len(self.keys)
        return self._ids[:n][~self._dead[:n]]

    def live_keys(self) -> list[str]:
        """Every entry's key, in row order."""
        return list(self.row_of)  # rows are only ever appended: its order is theirs

    def numbered(
        self, first: int, end: int
    ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        """The entries numbered ``first`` to ``end - 1``: (their numbers, keys, lists as
        entry numbers, -1 after the last, and scores), in number order."""
        n = len(self.keys)
        lo, hi = np.searchsorted(self._ids[:n], [first, end])
        rows = lo + np.flatnonzero(~self._dead[lo:hi])
        lists = self._lists[rows]
        listed = np.where(lists >= 0, self._ids[np.maximum(lists, 0)], -1)
        return self._ids[rows], [self.keys[r] for r in rows.tolist()], listed, self._scores[rows]

    def id_of(self, key: str) -> int | None:
        row = self.row_of.get(key)
        return None if row is None else int(self._ids[row])

    def holders(self, keys: Collection[str]) -> set[str]:
        """The entries whose lists hold any of ``keys``."""
        rows = [self.row_of[k] for k in keys if k in self.row_of]
        if not rows:
            return set()
        n = len(self.keys)
        held = np.isin(self._lists[:n], np.array(rows, np.int32)).any(axis=1)
        return {self.keys[i] for i in np.flatnonzero(held).tolist()}

    def story_of(self, key: str) -> list[str]:
        """The keys of ``key``'s story (itself and its reprints), sorted; [] if unknown."""
        row = self.row_of.get(key)
        if row is None:
            return []
        n = len(self.keys)
        members = np.flatnonzero((self._group[:n] == self._group[row]) & ~self._dead[:n])
        return sorted(self.keys[i] for i in members.tolist())

    def stories(self) -> dict[str, list[str]]:
        """Every entry that has reprints -> its whole story's keys (sorted)."""
        n = len(self.keys)
        live = np.flatnonzero(~self._dead[:n])
        groups, inverse, counts = np.unique(
            self._group[live], return_inverse=True, return_counts=True
        )
        shared = np.flatnonzero(counts[inverse] > 1)
        members: dict[int, list[str]] = {}
        for i in shared.tolist():
            members.setdefault(int(inverse[i]), []).append(self.keys[int(live[i])])
        return {k: sorted(v) for v in members.values() for k in v}

    def lists(self) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        for key in self.live_keys():
            yield key, self.related(key)

    # -- building ----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        settings: RelatedConfig,
        *,
        exclude: Mapping[str, Collection[str]] | None = None,
    ) -> RelatedIndex:
        """A new index of ``documents`` (any order), with every list computed."""
        return cls.from_batch(parse_batch(list(documents)), settings, exclude=exclude)

    @classmethod
    def from_batch(
        cls,
        batch: Batch,
        settings: RelatedConfig,
        *,
        exclude: Mapping[str, Collection[str]] | None = None,
        processes: int | None = None,
        workers: concurrent.futures.Executor | None = None,
    ) -> RelatedIndex:
        """A new index of an analyzed batch, with every list computed.

        ``processes``: worker processes weighing the vectors and computing the lists,
        a block of rows at a time (default: one per available core, up to
        ``MAX_PROCESSES``, and none below ``_build._PARALLEL_FROM`` entries); the index is the
        same either way.  ``workers``: those processes started before
        (:func:`_build.build_workers`), used instead and shut down."""
        if workers is not None:
            return cls._from_batch(batch, settings, exclude or {}, workers)
        if processes is None:
            processes = _build.build_processes(len(batch.docs))
        with _build.workers(processes) as pool:
            return cls._from_batch(batch, settings, exclude or {}, pool)

    @classmethod
    def _from_batch(
        cls,
        batch: Batch,
        settings: RelatedConfig,
        exclude: Mapping[str, Collection[str]],
        pool: concurrent.futures.Executor | None,
    ) -> RelatedIndex:
        index = cls(settings)
        docs = Documents.of(batch.docs)  # the workers' columns as they are
        batch.docs = []  # consumed
        n = len(docs)
        # The vocabulary: every distinct stem hash, in hash order (deterministic); the
        # batch's columns are numbers in it already.
        df = batch.document_frequency()
        columns = [batch.title, batch.body, batch.names]
        batch.title = batch.body = batch.names = None  # consumed: memory is the limit here
        vocabulary = batch.terms
        index.term_hash = vocabulary
        index._sorted_terms = len(vocabulary)
        v = len(vocabulary)
        matrices = []
        while columns:
            # Hashes are sorted within each document, so are their numbers: CSR as is.
            # The counts stay int16 (the weighing takes their logarithms in float32):
            # half the bytes to copy and to hand the workers.
            indices, counts, lengths = columns.pop(0)
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            data = counts if len(matrices) < 2 else np.ones(len(indices), np.float32)
            del counts
            matrices.append(sp.csr_matrix((data, indices, indptr), (n, v)))
        index.idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        index.common = df > max(MIN_PRUNE_DF, PRUNE_DF_FRACTION * n)
        index.named = 2 * np.bincount(matrices[2].indices, minlength=v) >= np.maximum(df, 1)
        index.built_from = n
        documents, ranked = [docs], []
        del docs

        def fill() -> None:
            # While the workers weigh (if any): the rows in time order, ties by key
            # (keys are unique: one sort of two arrays), and filled.
            docs = documents.pop()  # then let go
            key_rank = _ranks(docs.keys)
            order = np.lexsort((key_rank, docs.times))
            index._append_all(docs, order)
            ranked.extend((key_rank, order))

        # Rows are in batch order until here; the (pruned) vectors are cheap to reorder.
        matrix = index._weigh(matrices, pool, meanwhile=fill)
        key_rank, order = ranked
        index._matrix = matrix[order]
        del matrix
        index._set_exclude(exclude)
        index._compute_all_lists(pool, key_rank[order])
        return index

    def _append_all(self, docs: Documents, order: np.ndarray) -> None:
        """:meth:`_append_meta` of each document in ``order`` (their rows), into an
        empty index: the same rows, filled column by column from the columns."""
        n = len(docs)
        self._grow(max(16, n))
        rows_docs = order.tolist()
        self.keys = [docs.keys[i] for i in rows_docs]
        self.versions = [docs.versions[i] for i in rows_docs]
        self.row_of = {key: row for row, key in enumerate(self.keys)}
        self._ids[:n] = np.arange(n)
        self.next_id = n
        self._times[:n] = docs.times[order]
        # Entries share a few tag lists (their sources'): each is numbered once, tags
        # in the order the rows first show them (as adding the rows one by one would).
        tag_numbers = docs.tags[order]
        lists, first = np.unique(tag_numbers, return_index=True)
        table = np.full((len(docs.tag_lists), TAGS_PER_ENTRY), -1, np.int32)
        for number in lists[np.argsort(first)].tolist():
            ids = sorted({self._intern_tag(t) for t in docs.tag_lists[number]})[:TAGS_PER_ENTRY]
            table[number, : len(ids)] = ids
        self._tags[:n] = table[tag_numbers]
        links = [docs.links[i] for i in rows_docs]
        linked = [row for row, link in enumerate(links) if link]
        if linked:
            self._links[linked] = _link_codes([links[row] for row in linked])
        self._group[:n] = np.arange(n)
        self._next_group = n
        self._text_hash[:n] = docs.text_hashes[order]
        sketches = [docs.sketches[i][: 8 * SKETCH_SIZE] for i in rows_docs]
        lengths = np.fromiter(map(len, sketches), np.int64, n) // 8
        rows = np.repeat(np.arange(n), lengths)
        slots = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        self._sketch[rows, slots] = np.frombuffer(b"".join(sketches), np.uint64)
        self._sketch_len[:n] = lengths

    def _append_meta(self, doc: Document) -> int:
        tag_ids = sorted({self._intern_tag(t) for t in doc.tags})[:TAGS_PER_ENTRY]
        sketch = np.frombuffer(doc.sketch, np.uint64)[:SKETCH_SIZE]
        row = self._append_row(
            doc.key,
            doc.version,
            self.next_id,
            doc.published.timestamp(),
            tag_ids,
            _link_code(doc.link) if doc.link else _NO_LINK,
            self._next_group,
            doc.text_hash,
            sketch,
        )
        self._next_group += 1
        return row

    def _append_row(
        self,
        key: str,
        version: str,
        entry_id: int,
        time: float,
        tag_ids: Sequence[int] | np.ndarray,
        link: int,
        group: int,
        text_hash: int,
        sketch: np.ndarray,
    ) -> int:
        row = len(self.keys)
        if row >= len(self._times):
            self._grow(max(16, 2 * row))
        self.keys.append(key)
        self.versions.append(version)
        self.row_of[key] = row
        self._ids[row] = entry_id
        self.next_id = max(self.next_id, entry_id + 1)
        self._times[row] = time
        tag_ids = [t for t in tag_ids if t >= 0]
        self._tags[row] = -1
        self._tags[row, : len(tag_ids)] = tag_ids
        self._links[row] = link
        self._lists[row] = -1
        self._scores[row] = 0
        self._group[row] = group
        self._text_hash[row] = text_hash
        self._sketch[row] = 0
        self._sketch[row, : len(sketch)] = sketch
        self._sketch_len[row] = len(sketch)
        self._dead[row] = False
        return row

    def _grow(self, capacity: int) -> None:
        extra = capacity - len(self._times)
        width = self._lists.shape[1]
        self._times = np.concatenate([self._times, np.zeros(extra)])
        self._ids = np.concatenate([self._ids, np.zeros(extra, np.int64)])
        self._tags = np.concatenate([self._tags, np.full((extra, TAGS_PER_ENTRY), -1, np.int32)])
        self._links = np.concatenate([self._links, np.full(extra, _NO_LINK, np.int64)])
        self._lists = np.concatenate([self._lists, np.full((extra, width), -1, np.int32)])
        self._scores = np.concatenate([self._scores, np.zeros((extra, width), np.float32)])
        self._group = np.concatenate([self._group, np.zeros(extra, np.int64)])
        self._text_hash = np.concatenate([self._text_hash, np.zeros(extra, np.int64)])
        self._sketch = np.concatenate([self._sketch, np.zeros((extra, SKETCH_SIZE), np.uint64)])
        self._sketch_len = np.concatenate([self._sketch_len, np.zeros(extra, np.int8)])
        self._dead = np.concatenate([self._dead, np.zeros(extra, bool)])

    def _intern_tag(self, tag: str) -> int:
        tid = self.tag_id.get(tag)
        if tid is None:
            tid = self.tag_id[tag] = len(self.tag_names)
            self.tag_names.append(tag)
        return tid

    def _weigh(
        self,
        matrices: list[sp.csr_matrix],
        pool: concurrent.futures.Executor | None = None,
        meanwhile: Callable[[], None] = lambda: None,
    ) -> sp.csr_matrix:
        """[title counts, text counts, names] (consumed) -> the rows' combined,
        L2-normalized TF-IDF vectors.  A block of rows at a time (every step is
        row by row): the full intermediate matrices would be several times the
        result, which keeps ``TERMS_PER_ENTRY`` stems a row.  With a ``pool``, its
        workers weigh the blocks, mapping the counts from files, and ``meanwhile``
        runs as they do (else first)."""
        title, body, names = matrices
        matrices.clear()
        n = title.shape[0]
        if pool is None:
            meanwhile()
            blocks = [
                self._weigh_rows([m[start : start + _WEIGH_ROWS] for m in (title, body, names)])
                for start in range(0, n, _WEIGH_ROWS)
            ]
        else:
            # Workers weigh smaller blocks: each holds a block's intermediate matrices.
            rows = _WEIGH_ROWS // 4
            with procs.scratch_directory("weigh") as folder:
                shapes = {}
                for name, matrix in (("title", title), ("body", body), ("names", names)):
                    shapes[name] = matrix.shape
                    for part in ("data", "indices", "indptr"):
                        path = os.path.join(folder, f"{name}.{part}.npy")
                        np.save(path, getattr(matrix, part), allow_pickle=False)
                np.save(os.path.join(folder, "idf.npy"), self.idf, allow_pickle=False)
                inputs = (type(self), self.settings, folder, shapes)
                # Every block at once (each is a row range): the results are a tenth
                # of the counts, and this process fills the rows meanwhile.
                futures = [
                    pool.submit(_build.weigh_block, inputs, start, min(start + rows, n))
                    for start in range(0, n, rows)
                ]
                meanwhile()
                blocks = [future.result() for future in futures]
        if not blocks:
            return _sparse.normalized(_sparse.keep_heaviest(title, TERMS_PER_ENTRY))
        return sp.vstack(blocks, format="csr", dtype=np.float32)

    def _weigh_rows(self, matrices: list[sp.csr_matrix]) -> sp.csr_matrix:
        boost = np.float32(self.settings.name_weight - 1.0)
        names = matrices.pop()
        parts = []
        for weight in (self.settings.title_weight, 1.0):
            tfidf = _sparse.tfidf(matrices.pop(0), self.idf)
            tfidf = _sparse.normalized(tfidf + tfidf.multiply(names) * boost)
            tfidf.data *= np.float32(weight)
            parts.append(tfidf)
        combined = (parts[0] + parts[1]).tocsr()
        del parts
        combined.sort_indices()
        return _sparse.normalized(_sparse.keep_heaviest(combined, TERMS_PER_ENTRY))

    def _set_exclude(self, exclude: Mapping[str, Collection[str]]) -> None:
        self.exclude = {k: tuple(sorted(set(v))) for k, v in sorted(exclude.items()) if v}
        codes = set()
        for key, others in self.exclude.items():
            i = self.row_of.get(key)
            for other in others:
                j = self.row_of.get(other)
                if i is not None and j is not None:
                    codes |= {i << 32 | j, j << 32 | i}
        self._exclude_codes = np.array(sorted(codes), np.int64)

    # -- full computation of the lists ------------------------------------------

    def _compute_all_lists(
        self,
        pool: concurrent.futures.Executor | None = None,
        key_rank: np.ndarray | None = None,
    ) -> None:
        """Every row's list, a block of time-ordered rows against its window at a time.

        Only valid right after :meth:`build` (rows sorted by time, nothing pending).
        In two passes over chunks of consecutive blocks: each block's pairs with later
        rows, scored (:meth:`_build.ListInputs.pairs`), then each row's list from its pairs
        on either side (:meth:`_build.ListInputs.lists`).  With a ``pool``, its workers
        compute the chunks (the same lists), and it is shut down after.  ``key_rank``: each row's key's rank among the keys, if known.
        """
        n = len(self.keys)
        count = self.settings.count
        self._lists[:n] = -1
        self._scores[:n] = 0
        self._group[:n] = np.arange(n)
        self._next_group = n
        if n < 2 or count <= 0:
            return
        rare, common = self._split(self._matrix)
        inputs = _build.ListInputs(
            self,
            TimeSlices(rare, self._times[:n], float(self.settings.window)),
            common,
            self._named_part(self._matrix),
            _ranks(self.keys) if key_rank is None else key_rank,
        )
        del rare, common
        blocks = [(start, min(start + _BLOCK_ROWS, n)) for start in range(0, n, _BLOCK_ROWS)]
        chunks = _build.chunked(blocks, _LIST_CHUNKS)
        if pool is None:
            pairs = [inputs.pairs(chunk) for chunk in chunks]
            results = [r for chunk in chunks for r in inputs.lists(chunk, pairs)]
            del inputs, pairs
        else:
            with procs.scratch_directory("lists") as folder:
                manifest = inputs.save(folder)
                rare = inputs.postings.rare
                del inputs  # the workers map the files: this process needs none of it

                def transpose() -> None:
                    # What saving the index would do after (its inverted index), done
                    # while the workers compute the lists: this process waits else.
                    self._rare_t = rare.T.tocsr()

                results = _build.lists_in_workers(pool, folder, manifest, chunks, transpose)
                del rare, transpose
            # Its last use: the workers' memory is free before the lists are put together.
            pool.shutdown()
        same_story = [np.zeros((2, 0), np.int64)] + [pairs for _, pairs in results]
        kept = [lists for lists, _ in results]
        del results
        self._group_stories(np.concatenate(same_story, axis=1))
        rows, cols, score = (np.concatenate(parts) for parts in zip(*kept, strict=True))
        group = self._group[cols]
        # The sort is (row, score, key) already: keep the first of each (row, story).
        fresh = group != self._group[rows]
        rows, cols, score, group = rows[fresh], cols[fresh], score[fresh], group[fresh]
        # (row, story) as one number: a 1-d unique, far faster than over pairs.
        _, first = np.unique(rows * max(n, 1) + group, return_index=True)
        first.sort()
        rows, cols, score = rows[first], cols[first], score[first]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        keep = rank < count
        self._lists[rows[keep], rank[keep]] = cols[keep]
        self._scores[rows[keep], rank[keep]] = score[keep]

    def _group_stories(self, pairs: np.ndarray) -> None:
        """Number the stories: rows joined by near-duplicate pairs or a shared link."""
        n = len(self.keys)
        links = self._links[:n]
        linked = np.flatnonzero(links != _NO_LINK)
        order = linked[np.argsort(links[linked], kind="stable")]
        same = links[order[1:]] == links[order[:-1]]
        edges = np.concatenate([pairs, np.stack([order[:-1][same], order[1:][same]])], axis=1)
        from scipy.sparse.csgraph import connected_components

        graph = sp.coo_matrix((np.ones(edges.shape[1]), (edges[0], edges[1])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        self._group[:n] = labels
        self._next_group = int(labels.max()) + 1 if n else 0

    def _score_pairs(
        self, rows: np.ndarray, cols: np.ndarray, cosine: np.ndarray, names: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(score, usable, same story) for pairs of rows with their cosine and the part
        of it that names and figures make; see the module docstring.  The score is
        exact where usable (elsewhere it may be less)."""
        s = self.settings
        delta = np.abs(self._times[rows] - self._times[cols])
        recency = 1.0 - s.recency_weight * (1.0 - np.exp2(-delta / max(s.recency_half_life, 1)))
        # Names and figures count only together with other shared content: "35" alone
        # (35-я экспедиция / 35 лидеров) or a city alone is no relation.
        content = np.maximum(cosine - names, 0.0)
        evidence = content + names * np.clip(content / CONTENT_FLOOR, 0.0, 1.0)
        # Tags only for the pairs that all tags shared would lift to ``min_score`` (the
        # product is monotonic, rounding too): most candidates stay below it anyway.
        jaccard = np.zeros(len(rows))
        maybe = np.flatnonzero(
            (evidence * (1.0 + s.tag_weight) * recency >= s.min_score)
            | (recency < 0)
            | (s.tag_weight < 0)
        )
        jaccard[maybe] = self._jaccard(rows[maybe], cols[maybe])
        score = evidence * (1.0 + s.tag_weight * jaccard) * recency
        duplicate = self._same_text(rows, cols, cosine)
        excluded = np.zeros(len(rows), bool)
        if len(self._exclude_codes):
            excluded = np.isin(rows.astype(np.int64) << 32 | cols, self._exclude_codes)
        usable = ~duplicate & ~excluded & (delta <= s.window) & (score >= s.min_score)
        return score, usable & (rows != cols), duplicate & (rows != cols)

    def _same_text(self, rows: np.ndarray, cols: np.ndarray, cosine: np.ndarray) -> np.ndarray:
        """Reprints: the same canonical link, the same whole text, or bodies sharing at
        least ``duplicate_threshold`` of their word shingles.  Never headline
        similarity: two outlets' headlines differing by a word are a retelling."""
        links = self._links[rows]
        same = (links != _NO_LINK) & (links == self._links[cols])
        hashes = self._text_hash[rows]
        same |= (hashes != 0) & (hashes == self._text_hash[cols])
        both = (self._sketch_len[rows] > 0) & (self._sketch_len[cols] > 0) & (cosine >= 0.1)
        at = np.flatnonzero(both & ~same)
        if len(at):
            same[at] = self._resemblance(rows[at], cols[at]) >= self.settings.duplicate_threshold
        return same

    def _resemblance(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Estimated Jaccard resemblance of pairs' shingle sets, from their bottom-k
        sketches: of the k smallest hashes of both together, the share found in both."""
        empty = np.iinfo(np.uint64).max
        slots = np.arange(SKETCH_SIZE)[None, :]
        a = np.where(slots < self._sketch_len[rows, None], self._sketch[rows], empty)
        b = np.where(slots < self._sketch_len[cols, None], self._sketch[cols], empty)
        both = np.sort(np.concatenate([a, b], axis=1), axis=1)
        valid = both != empty
        first = np.ones(both.shape, bool)
        first[:, 1:] = both[:, 1:] != both[:, :-1]
        first &= valid
        shared = np.zeros(both.shape, bool)
        shared[:, :-1] = first[:, :-1] & (both[:, 1:] == both[:, :-1])
        rank = np.cumsum(first, axis=1) - 1
        k = np.minimum(first.sum(axis=1), SKETCH_SIZE)
        top = first & (rank < k[:, None])
        return (shared & top).sum(axis=1) / np.maximum(k, 1)

    def _named_part(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """``matrix`` with only its name and figure columns."""
        named = np.zeros(matrix.shape[1], bool)
        named[: len(self.named)] = self.named[: matrix.shape[1]]
        part = matrix.copy()
        part.data = np.where(named[part.indices], part.data, 0).astype(np.float32)
        part.eliminate_zeros()
        return part

    def _jaccard(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        a, b = self._tags[rows], self._tags[cols]
        size_a, size_b = (a >= 0).sum(axis=1), (b >= 0).sum(axis=1)
        # Tags fill each row from the left: past the most any of these has, only -1.
        width = int(max(size_a.max(initial=0), size_b.max(initial=0)))
        a, b = a[:, :width], b[:, :width]
        shared = np.zeros(len(rows), np.int64)
        for k in range(width):
            column = a[:, k : k + 1]
            shared += ((column == b) & (column >= 0)).any(axis=1)
        union = size_a + size_b - shared
        return np.divide(shared, union, out=np.zeros(len(rows)), where=union > 0)

    def _split(self, matrix: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(rare columns, common columns) of ``matrix``, same shape each."""
        matrix = _sparse.scipy(matrix).tocsr()
        common = np.zeros(matrix.shape[1], bool)
        common[: len(self.common)] = self.common[: matrix.shape[1]]
        is_common = common[matrix.indices]
        parts = []
        for mask in (~is_common, is_common):
            part = matrix.copy()
            part.data = np.where(mask, part.data, 0).astype(np.float32)
            part.eliminate_zeros()
            parts.append(part)
        return parts[0], parts[1]

    # -- incremental changes ------------------------------------------------------

    def diff(self, versions: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
        """(added, removed, changed) keys, comparing ``versions`` (key -> fingerprint)."""
        added = sorted(k for k in versions if k not in self.row_of)
        removed = sorted(k for k in self.row_of if k not in versions)
        changed = sorted(
            k
            for k, v in versions.items()
            if k in self.row_of and self.versions[self.row_of[k]] != v
        )
        return added, removed, changed

    def update(
        self,
        documents: Iterable[Document],
        removed: Iterable[str] = (),
        *,
        exclude: Mapping[str, Collection[str]] | None = None,
    ) -> set[str]:
        """Add ``documents`` (new or edited entries) and drop ``removed`` keys.

        Returns the keys whose lists changed.  ``exclude``, when given, replaces the
        exclusions; entries whose exclusions changed have their lists recomputed.
        """
        documents = list({d.key: d for d in documents}.values())  # the last one wins
        gone = set(removed) | {d.key for d in documents if d.key in self.row_of}
        touched: set[int] = set()
        changed_rows: set[int] = set()
        if gone:
            touched |= self._remove(gone)
            changed_rows |= touched  # they lost an entry
        old_exclude = self.exclude
        if exclude is not None:
            self._set_exclude(exclude)
            for key in set(old_exclude) | set(self.exclude):
                if old_exclude.get(key) == self.exclude.get(key):
                    continue
                for other in (key, *old_exclude.get(key, ()), *self.exclude.get(key, ())):
                    if other in self.row_of:
                        touched.add(self.row_of[other])
        before = {i: self._list_of(i) for i in touched}
        for doc in sorted(documents, key=lambda d: (d.published, d.key)):
            changed_rows |= self._add(doc)
        for row in sorted(touched):
            self._recompute(row)
            if self._list_of(row) != before[row]:
                changed_rows.add(row)
        self.drift += len(gone) + len(documents) - len(gone & {d.key for d in documents})
        return {self.keys[i] for i in changed_rows}

    def add(self, doc: Document) -> set[str]:
        """Add one new entry; returns the keys whose lists changed (its own included)."""
        if doc.key in self.row_of:
            return self.update([doc])
        self.drift += 1
        return {self.keys[i] for i in self._add(doc)}

    def _list_of(self, row: int) -> list[tuple[int, float]]:
        return list(zip(self._lists[row].tolist(), self._scores[row].tolist(), strict=True))

    def _add(self, doc: Document) -> set[int]:
        title, body, names, text_hash, sketch = analyze_with_signature(doc)
        doc = replace(doc, text="", text_hash=text_hash, sketch=sketch)
        indices, values = self._vector(title, body, names)
        row = self._append_meta(doc)
        self._pending.append((indices, values))
        if self.exclude:
            self._set_exclude(self.exclude)
        cols, cosine, names = self._query(indices, values, row)
        changed = {row}
        if len(cols) and self.settings.count > 0:
            rows = np.full(len(cols), row, np.int64)
            score, usable, duplicate = self._score_pairs(rows, cols, cosine, names)
            self._join_stories(row, cols[duplicate])
            cols, score = cols[usable], score[usable]
            self._set_list(row, list(zip(cols.tolist(), score.tolist(), strict=True)))
            # Symmetric scores: the new entry may now belong in its candidates' lists
            # (those not full, or whose last entry it may beat).
            last = self._lists[cols, -1]
            worst = np.round(self._scores[cols, -1], SCORE_DECIMALS)
            maybe = (last < 0) | (np.round(score, SCORE_DECIMALS) >= worst)
            for j, s in zip(cols[maybe].tolist(), score[maybe].tolist(), strict=True):
                current = self._list_of(j)
                worst = current[-1]
                if worst[0] < 0 or self._better((row, s), worst):
                    self._set_list(j, [*((i, x) for i, x in current if i >= 0), (row, s)])
                    if self._list_of(j) != current:
                        changed.add(j)
        rare = ~self._is_common(indices)
        self._post(row, indices[rare], values[rare])
        if len(self._pending) >= _MERGE_PENDING:
            self._merge_pending()
        return changed

    def _post(self, row: int, terms: np.ndarray, weights: np.ndarray) -> None:
        used, size = self._postings_used, len(terms)
        if used + size > self._postings.shape[1]:
            grown = np.zeros((3, max(1024, 2 * (used + size))))
            grown[:, :used] = self._postings[:, :used]
            self._postings = grown
        self._postings[:, used : used + size] = (np.full(size, row), terms, weights)
        self._postings_used += size

    def _is_common(self, indices: np.ndarray) -> np.ndarray:
        inside = indices < len(self.common)
        result = np.zeros(len(indices), bool)
        result[inside] = self.common[indices[inside]]
        return result

    def _better(self, a: tuple[int, float], b: tuple[int, float]) -> bool:
        return self._order(a) < self._order(b)

    def _order(self, entry: tuple[int, float]) -> tuple[float, str]:
        return (-round(entry[1], SCORE_DECIMALS), self.keys[entry[0]])

    def _join_stories(self, row: int, duplicates: np.ndarray) -> None:
        """Put a new row into the story of its near-duplicates."""
        self._group[row] = self._next_group
        self._next_group += 1
        n = len(self.keys)
        links = self._links[:n]
        if links[row] != _NO_LINK:
            same_link = np.flatnonzero((links == links[row]) & ~self._dead[:n])
            duplicates = np.concatenate([duplicates, same_link])
        if len(duplicates):
            # Joins the oldest story; stories it bridges stay apart until a rebuild
            # (relabelling them would cost a pass over every entry).
            self._group[row] = self._group[duplicates].min()

    def _set_list(self, row: int, entries: list[tuple[int, float]]) -> None:
        """Keep the best entries, one per story, none of ``row``'s own story."""
        group = self._group
        stories = {int(group[row])}
        best_rows, best_scores = [], []
        for j, s in sorted(entries, key=self._order):
            story = int(group[j])
            if story not in stories:
                stories.add(story)
                best_rows.append(j)
                best_scores.append(s)
                if len(best_rows) == self.settings.count:
                    break
        k = len(best_rows)
        self.dirty.add(int(self._ids[row]))
        self._lists[row, :k] = best_rows
        self._lists[row, k:] = -1
        self._scores[row, :k] = best_scores
        self._scores[row, k:] = 0

    def _recompute(self, row: int) -> None:
        indices, values = self._row_vector(row)
        cols, cosine, names = self._query(indices, values, row)
        if len(cols):
            rows = np.full(len(cols), row, np.int64)
            score, usable, _ = self._score_pairs(rows, cols, cosine, names)
            self._set_list(
                row, list(zip(cols[usable].tolist(), score[usable].tolist(), strict=True))
            )
        else:
            self._set_list(row, [])

    def _row_vector(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        m = self._matrix.shape[0]
        if row < m:
            start, stop = self._matrix.indptr[row], self._matrix.indptr[row + 1]
            return self._matrix.indices[start:stop], self._matrix.data[start:stop]
        return self._pending[row - m]

    def _vector(
        self, title: list[str], body: list[str], names: set[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A new entry's vector, with the frozen IDF (new stems: as if seen once)."""
        n = max(self.built_from, 1)
        new_idf = np.float32(math.log((1.0 + n) / 2.0) + 1.0)
        if self._term_id is None:
            # Only the stems after the sorted ones (those first seen since the build)
            # go in a dict: building one of the whole vocabulary costs a run ~0.2 s.
            tail = self.term_hash[self._sorted_terms :].tolist()
            self._term_id = {h: self._sorted_terms + i for i, h in enumerate(tail)}
        term_id = self._term_id
        sorted_terms = self.term_hash[: self._sorted_terms]
        name_hashes = set(counted(names)[0].tolist())
        parts = []
        new_named = []
        for hashes, counts in (counted(title), counted(body)):
            if len(sorted_terms):
                at = np.minimum(np.searchsorted(sorted_terms, hashes), len(sorted_terms) - 1)
                found = sorted_terms[at] == hashes
            else:
                at, found = np.zeros(len(hashes), np.int64), np.zeros(len(hashes), bool)
            ids = []
            for h, k, hit in zip(hashes.tolist(), at.tolist(), found.tolist(), strict=True):
                if hit:
                    ids.append(k)
                    continue
                tid = term_id.get(h)
                if tid is None:
                    tid = term_id[h] = len(self.term_hash) + len(self._new_terms)
                    self._new_terms.append(h)
                    new_named.append(h in name_hashes)
                ids.append(tid)
            named = np.array([h in name_hashes for h in hashes.tolist()], bool)
            parts.append((np.array(ids, np.int64), counts, named))
        if self._new_terms:
            self._append_terms(
                np.array(self._new_terms, np.int64), new_idf, np.array(new_named, bool)
            )
            self._new_terms = []
        all_terms, all_weights = [], []
        for (tids, tf, named), weight in zip(parts, (self.settings.title_weight, 1.0), strict=True):
            if not len(tids):
                continue
            w = (1.0 + np.log(tf)) * self.idf[tids]
            if named.any():
                w[named] *= self.settings.name_weight
            all_terms.append(tids)
            all_weights.append(w * (weight / max(float(np.sqrt(w @ w)), 1e-12)))
        if not all_terms:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        indices, where = np.unique(np.concatenate(all_terms), return_inverse=True)
        values = np.bincount(where, weights=np.concatenate(all_weights))
        if len(indices) > TERMS_PER_ENTRY:  # as _sparse.keep_heaviest: weight, then column
            keep = np.sort(np.lexsort((indices, -values))[:TERMS_PER_ENTRY])
            indices, values = indices[keep], values[keep]
        values /= max(float(np.sqrt(values @ values)), 1e-12)
        return indices.astype(np.int32), values.astype(np.float32)

    def _append_terms(
        self, hashes: np.ndarray, idf: np.float32 | np.ndarray, named: np.ndarray
    ) -> None:
        """New stems (not in the last full build): rare, with the given IDF.  The arrays
        grow by doubling, so that adding one entry does not copy the vocabulary."""
        old, new = len(self.term_hash), len(self.term_hash) + len(hashes)
        if self._term_buffers is None or new > len(self._term_buffers[0]):
            size = max(2 * new, 1024)
            buffers = (
                np.zeros(size, np.int64),
                np.zeros(size, np.float32),
                np.zeros(size, bool),
                np.zeros(size, bool),
            )
            for buffer, current in zip(
                buffers, (self.term_hash, self.idf, self.common, self.named), strict=True
            ):
                buffer[: len(current)] = current
            self._term_buffers = buffers
        term_hash, idf_, common, named_ = self._term_buffers
        term_hash[old:new] = hashes
        idf_[len(self.idf) : new] = idf
        common[len(self.common) : new] = False
        named_[old:new] = named
        self.term_hash, self.idf = term_hash[:new], idf_[:new]
        self.common, self.named = common[:new], named_[:new]

    def _query(
        self, indices: np.ndarray, values: np.ndarray, row: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The best candidates of a vector (not ``row`` itself), their exact cosines and
        the parts of those that names and figures make."""
        if not len(indices):
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        rare = ~self._is_common(indices)
        m = self._matrix.shape[0]
        found_cols: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        rare_t = self._rare_transposed()
        inside = rare & (indices < rare_t.shape[0])
        if m and inside.any():
            # q @ rare_t by hand: the posting lists of the query's rare stems, summed.
            postings, sizes = _sparse.segments(rare_t.indptr, indices[inside])
            weights = rare_t.data[postings] * np.repeat(values[inside], sizes)
            found, where = np.unique(rare_t.indices[postings], return_inverse=True)
            found_cols.append(found.astype(np.int64))
            found_scores.append(np.bincount(where, weights=weights, minlength=len(found)))
        if self._postings_used and rare.any():
            rows, terms, weights = self._postings[:, : self._postings_used]
            query_terms, query_weights = indices[rare], values[rare]  # sorted by term
            at = np.minimum(np.searchsorted(query_terms, terms), len(query_terms) - 1)
            hit = query_terms[at] == terms
            scores = np.bincount(
                rows[hit].astype(np.int64) - m,
                weights=weights[hit] * query_weights[at[hit]],
                minlength=len(self._pending),
            )
            found = np.flatnonzero(scores)
            found_cols.append(found + m)
            found_scores.append(scores[found])
        if not found_cols:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        cols = np.concatenate(found_cols)
        rare_scores = np.concatenate(found_scores)
        keep = (
            (rare_scores >= CANDIDATE_FLOOR)
            & (cols != row)
            & ~self._dead[cols]
            & (np.abs(self._times[cols] - self._times[row]) <= self.settings.window)
        )
        cols, rare_scores = cols[keep], rare_scores[keep]
        if len(cols) > CANDIDATES:
            # The same choice as the full build: best rare scores, ties by row.
            order = np.lexsort((cols, -rare_scores))[:CANDIDATES]
            cols = cols[order]
        cols = np.sort(cols)
        # The query's weights at the candidates' stems, found by bisection in its own
        # (sorted) stems: no dense vector of the vocabulary to fill and mask per query.
        order = np.argsort(indices, kind="stable")
        stems, weights = indices[order], values[order].astype(np.float32)
        named = np.zeros(len(stems), bool)
        inside = stems < len(self.named)
        named[inside] = self.named[stems[inside]]
        named_weights = np.where(named, weights, np.float32(0))

        def at_stems(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """(the query's weight, its name/figure weight) at each of ``columns``."""
            where = np.minimum(np.searchsorted(stems, columns), len(stems) - 1)
            hit = stems[where] == columns
            return (
                np.where(hit, weights[where], np.float32(0)),
                np.where(hit, named_weights[where], np.float32(0)),
            )

        cosine = np.empty(len(cols))
        names = np.empty(len(cols))
        main = cols < m
        if main.any():
            matrix = self._matrix
            at, sizes = _sparse.segments(matrix.indptr, cols[main])
            owner = np.repeat(np.arange(len(sizes)), sizes)
            for out, query in zip((cosine, names), at_stems(matrix.indices[at]), strict=True):
                products = matrix.data[at] * query
                out[main] = np.bincount(owner, weights=products, minlength=len(sizes))
        for k in np.flatnonzero(~main).tolist():
            idx, val = self._pending[int(cols[k]) - m]
            query, query_names = at_stems(idx)
            cosine[k] = float(query @ val)
            names[k] = float(query_names @ val)
        return cols, cosine, names

    def _rare_transposed(self) -> sp.csr_matrix | Rows:
        if self._rare_t is None:
            rare, _ = self._split(self._matrix)
            self._rare_t = rare.T.tocsr()
        return self._rare_t

    def _remove(self, keys: Collection[str], *, close_holes: bool = True) -> set[int]:
        """Mark rows dead (tombstones); return the rows whose lists held one of them.

        No row moves: the dead rows' vectors stay in the matrix and the inverted index
        (``_query`` passes them over) until the index is saved as a new base
        (:meth:`_drop_dead`), so a run that expires a few entries costs in proportion to
        them.  ``close_holes=False``: the lists that held them are left as they are (the
        caller sets them, as a saved delta does)."""
        rows = (self.row_of.get(k) for k in keys)
        gone = np.array(sorted(r for r in rows if r is not None), np.int64)
        return self._remove_rows(gone, close_holes=close_holes)

    def _remove_rows(self, gone: np.ndarray, *, close_holes: bool = True) -> set[int]:
        """:meth:`_remove` of live rows (sorted)."""
        if not len(gone):
            return set()
        ids = self._ids[gone]
        self.base_removed.extend(ids[ids < self.base_id].tolist())
        self.dirty.difference_update(ids.tolist())
        row_of = self.row_of
        for row in gone.tolist():
            if isinstance(row_of, RowOf):
                row_of.drop(self.keys[row])
            else:
                del row_of[self.keys[row]]
        self._dead[gone] = True
        self._lists[gone] = -1
        self._scores[gone] = 0
        self._set_exclude(self.exclude)
        if not close_holes:
            return set()
        n = len(self.keys)
        held = np.flatnonzero(np.isin(self._lists[:n], gone).any(axis=1))
        # Removed entries leave holes: close them up, keeping the order.
        for row in held.tolist():
            entries = [
                (int(j), float(s))
                for j, s in zip(self._lists[row], self._scores[row], strict=True)
                if j >= 0 and not self._dead[j]
            ]
            self._set_list(row, entries)
        return set(held.tolist())

    def _drop_dead(self) -> None:
        """Drop the dead rows for good: the rows after them move up; the main matrix,
        its inverted index, the pending rows' postings and the lists are renumbered (a
        few vector passes over every array: done when a new base is written)."""
        n = len(self.keys)
        keep = ~self._dead[:n]
        if keep.all():
            return
        new_row = np.cumsum(keep) - 1
        lists = self._lists[:n]
        remap = np.where(lists >= 0, new_row[np.maximum(lists, 0)], -1)
        kept = np.flatnonzero(keep)
        m = self._matrix.shape[0]
        main_keep = keep[:m]
        if not main_keep.all():
            self._matrix = _sparse.take_rows(self._matrix, np.flatnonzero(main_keep))
            if self._rare_t is not None:
                self._rare_t = _sparse.drop_columns(self._rare_t, main_keep, new_row[:m])
        if self._pending:
            pending_keep = keep[m:]
            self._pending = [
                p for p, k in zip(self._pending, pending_keep.tolist(), strict=True) if k
            ]
            used = self._postings_used
            rows = self._postings[0, :used].astype(np.int64)
            alive = keep[rows]
            self._postings = self._postings[:, :used][:, alive].copy()
            self._postings[0] = new_row[rows[alive]]
            self._postings_used = self._postings.shape[1]
        self.keys = [self.keys[i] for i in kept.tolist()]
        self.versions = [self.versions[i] for i in kept.tolist()]
        self.row_of = {k: i for i, k in enumerate(self.keys)}
        width = self._lists.shape[1]
        self._times = self._times[:n][kept]
        self._ids = self._ids[:n][kept]
        self._tags = self._tags[:n][kept]
        self._links = self._links[:n][kept]
        self._lists = remap[kept].astype(np.int32).reshape(-1, width)
        self._scores = self._scores[:n][kept]
        self._group = self._group[:n][kept]
        self._text_hash = self._text_hash[:n][kept]
        self._sketch = self._sketch[:n][kept]
        self._sketch_len = self._sketch_len[:n][kept]
        self._dead = np.zeros(len(kept), bool)
        self._set_exclude(self.exclude)

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        main = self._matrix
        width = max(len(self.term_hash), main.shape[1])
        sizes = np.array([len(i) for i, _ in self._pending], np.int64)
        self._matrix = Rows(
            np.concatenate([main.data, *(v for _, v in self._pending)]).astype(np.float32),
            np.concatenate([main.indices, *(i for i, _ in self._pending)]).astype(np.int32),
            np.concatenate([main.indptr, main.indptr[-1] + np.cumsum(sizes)]).astype(np.int64),
            (main.shape[0] + len(sizes), width),
        )
        self._pending = []
        self._postings_used = 0
        self._rare_t = None

    # -- persistence (the files themselves: persist.py) -------------------------------

    def state(self, spare: int = 0) -> tuple[dict, dict[str, np.ndarray]]:
        """(meta, arrays): the whole index, everything :meth:`from_state` needs to make
        it again (the inverted index of the rare stems too: it costs a pass to make).
        Dead rows are dropped first: a base holds none.  ``spare``: empty rows saved
        after the entries' (a run appends entries there: growing every per-entry array
        copied them all), and the keys' sorted order (see :class:`RowOf`)."""
        self._drop_dead()
        self._merge_pending()
        n = len(self.keys)
        keys = np.array(list(self.keys), dtype="U")
        matrix = self._matrix  # its width is the vocabulary's, as saved
        rare_t = self._rare_transposed()
        meta = {
            **self._meta(),
            "sorted_terms": self._sorted_terms,
        }
        arrays = {
            "keys": keys,
            "key_order": np.argsort(keys, kind="stable").astype(np.int32),
            "versions": np.array(list(self.versions), dtype="U"),
            **{
                name: _padded(array, spare)
                for name, array in self._entry_arrays(0, n, _ENTRY_ARRAYS).items()
            },
            **{name: getattr(self, name) for name in _TERM_ARRAYS},
            "tag_names": np.array(self.tag_names, dtype="U"),
            "data": matrix.data,
            "indices": matrix.indices,
            "indptr": matrix.indptr,
            "rare_data": rare_t.data,
            "rare_indices": rare_t.indices,
            "rare_indptr": rare_t.indptr,
        }
        return meta, arrays

    def _entry_arrays(self, first: int, end: int, names: Mapping[str, str]) -> dict:
        """The per-entry arrays of rows first..end, under their names in the file."""
        return {name: getattr(self, attribute)[first:end] for name, attribute in names.items()}

    def _meta(self) -> dict:
        return {
            "settings": asdict(self.settings),
            "built_from": self.built_from,
            "drift": self.drift,
            "store_mark": self.store_mark,
            "exclude": self.exclude,
            "entries": len(self.keys),
            "next_id": self.next_id,
            "notes": self.notes,
        }

    def based_on(self, generation: str) -> None:
        """Everything in the index is now in the saved base file ``generation``."""
        self.base_generation = generation
        self.base_id = self.next_id
        self.base_terms = len(self.term_hash)
        self.base_removed = []
        self.dirty = set()

    def delta_size(self) -> int:
        """Entries added or removed since the base file: what the delta file holds."""
        return len(self._added_rows()) + len(self.base_removed)

    def _added_rows(self) -> np.ndarray:
        """The live rows added since the base file (those added and removed since are
        in neither file)."""
        n = len(self.keys)
        first = int(np.searchsorted(self._ids[:n], self.base_id))
        return first + np.flatnonzero(~self._dead[first:n])

    def delta_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(meta, arrays): what changed since the base file (``base_generation``): the
        base entries removed, the entries added (rows, vectors, new stems),
        and the lists changed (as entry numbers).  Its size follows the changes since
        the base, not the index."""
        n = len(self.keys)
        ids = self._ids[:n]
        added = self._added_rows()
        vectors = [self._row_vector(row) for row in added.tolist()]
        indptr = np.zeros(len(vectors) + 1, np.int64)
        indptr[1:] = np.cumsum([len(i) for i, _ in vectors])
        dirty = np.array(sorted(self.dirty), np.int64)
        dirty_rows = np.searchsorted(ids, dirty)
        lists = self._lists[dirty_rows]
        meta = {**self._meta(), "generation": self.base_generation}
        arrays = {
            "removed": np.array(self.base_removed, np.int64),
            "keys": np.array([self.keys[r] for r in added.tolist()], dtype="U"),
            "versions": np.array([self.versions[r] for r in added.tolist()], dtype="U"),
            **{
                name: getattr(self, attribute)[added]
                for name, attribute in _DELTA_ENTRY_ARRAYS.items()
            },
            "vector_indptr": indptr,
            "vector_indices": _concat([i for i, _ in vectors], np.int32),
            "vector_data": _concat([v for _, v in vectors], np.float32),
            "term_hash": self.term_hash[self.base_terms :],
            "idf": self.idf[self.base_terms :],
            "named": self.named[self.base_terms :],
            "tag_names": np.array(self.tag_names, dtype="U"),
            "dirty": dirty,
            "dirty_lists": np.where(lists >= 0, ids[np.maximum(lists, 0)], -1),
            "dirty_scores": self._scores[dirty_rows],
        }
        return meta, arrays

    def apply_delta(self, meta: Mapping, arrays: Mapping[str, np.ndarray]) -> None:
        """Bring a base index (just loaded) to the state :meth:`delta_state` saved: the
        removed entries become tombstones (the saved lists already leave them out)."""
        ids = self._ids[: len(self.keys)]
        removed = arrays["removed"]
        rows = np.searchsorted(ids, removed)
        rows = rows[(rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == removed)]
        rows = rows[~self._dead[rows]]
        self._remove_rows(np.sort(rows), close_holes=False)
        self.base_removed = removed.tolist()
        if len(arrays["term_hash"]):
            self._append_terms(arrays["term_hash"], arrays["idf"], arrays["named"])
            self._term_id = None
        self.tag_names = arrays["tag_names"].tolist()
        self.tag_id = {t: i for i, t in enumerate(self.tag_names)}
        indptr, indices, data = (
            arrays["vector_indptr"],
            arrays["vector_indices"],
            arrays["vector_data"],
        )
        for k, key in enumerate(arrays["keys"].tolist()):
            row = self._append_row(
                key,
                str(arrays["versions"][k]),
                int(arrays["ids"][k]),
                float(arrays["times"][k]),
                arrays["tags"][k],
                int(arrays["links"][k]),
                int(arrays["groups"][k]),
                int(arrays["text_hash"][k]),
                arrays["sketch"][k][: int(arrays["sketch_len"][k])],
            )
            vector = (indices[indptr[k] : indptr[k + 1]], data[indptr[k] : indptr[k + 1]])
            self._pending.append(vector)
            rare = ~self._is_common(vector[0])
            self._post(row, vector[0][rare], vector[1][rare])
        n = len(self.keys)
        self._next_group = int(self._group[:n].max()) + 1 if n else 0
        ids = self._ids[:n]
        dirty = arrays["dirty"]
        if len(dirty):
            rows = np.searchsorted(ids, dirty)
            listed = arrays["dirty_lists"]
            self._lists[rows] = np.where(listed >= 0, np.searchsorted(ids, listed), -1)
            self._scores[rows] = arrays["dirty_scores"]
        self.dirty = set(dirty.tolist())
        self.next_id = int(meta["next_id"])
        self.drift = meta["drift"]
        self.store_mark = meta.get("store_mark")
        self.notes = meta.get("notes") or {}
        self._set_exclude(meta.get("exclude") or {})

    @classmethod
    def from_state(
        cls, settings: RelatedConfig, meta: Mapping, arrays: Mapping[str, np.ndarray]
    ) -> RelatedIndex | None:
        """The index :meth:`state` described, or None if it was made with other settings."""
        if meta.get("settings") != asdict(settings):
            return None
        index = cls(settings)
        keys = arrays["keys"]
        index.keys = Strings(keys)
        index.versions = Strings(arrays["versions"])
        order = arrays.get("key_order")
        index.row_of = RowOf(keys, np.argsort(keys) if order is None else order)
        for name in _TERM_ARRAYS:
            setattr(index, name, arrays[name])
        index.tag_names = arrays["tag_names"].tolist()
        for name, attribute in _ENTRY_ARRAYS.items():
            setattr(index, attribute, arrays[name])
        # Per-entry arrays may hold spare rows (``state``): rows up to len(keys) are used.
        index._dead = np.zeros(len(index._times), bool)
        index._next_group = int(index._group.max()) + 1 if len(index._group) else 0
        n, v = len(index.keys), len(index.term_hash)
        index._matrix = Rows(arrays["data"], arrays["indices"], arrays["indptr"], (n, v))
        rare_indptr = arrays["rare_indptr"]
        index._rare_t = Rows(
            arrays["rare_data"],
            arrays["rare_indices"],
            rare_indptr,
            (len(rare_indptr) - 1, n),
        )
        index._sorted_terms = int(meta["sorted_terms"])
        index.built_from = meta["built_from"]
        index.drift = meta["drift"]
        index.store_mark = meta.get("store_mark")
        index.next_id = int(meta["next_id"])
        index.notes = meta.get("notes") or {}
        index.tag_id = {t: i for i, t in enumerate(index.tag_names)}
        index._set_exclude(meta.get("exclude") or {})
        index.based_on(meta["generation"])
        return index


def _padded(array: np.ndarray, spare: int) -> np.ndarray:
    """``array`` with ``spare`` more rows (zeros) after its own."""
    if not spare:
        return array
    padded = np.zeros((len(array) + spare, *array.shape[1:]), array.dtype)
    padded[: len(array)] = array
    return padded


def _link_code(link: str) -> int:
    """A canonical link as a number (63 bits of its hash, never ``_NO_LINK``): rows
    compare links by it, and the index keeps no link text (100,000 of them were 15 MB
    to save and load, and a dict to build, every run)."""
    digest = hashlib.blake2b(link.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _link_codes(links: Sequence[str]) -> np.ndarray:
    """:func:`_link_code` of each link (the digests read as one array)."""
    blake2b = hashlib.blake2b
    digests = b"".join(
        [blake2b(link.encode("utf-8", "surrogatepass"), digest_size=8).digest() for link in links]
    )
    return (np.frombuffer(digests, "<u8") >> np.uint64(1)).astype(np.int64)


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)


def _ranks(keys: Sequence[str]) -> np.ndarray:
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), np.int64)
    rank[order] = np.arange(len(keys))
    return rank
