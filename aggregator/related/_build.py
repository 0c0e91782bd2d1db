"""The full build's lists, a block of time-ordered rows at a time, alone or in worker
processes: what the lists of a block need (:class:`ListInputs`, saved to files the
workers map), the workers' tasks (each chunk's scored pairs, then each chunk's lists;
weighing a block of vectors), and starting the workers (:func:`build_workers`).

Apart from ``index`` because it is the one part of the build that crosses processes:
what is pickled, mapped or handed to a worker is here, and each task a worker is given
is a function of this module.  It does not import ``index`` (which imports it): a worker
makes its scratch index of the class the caller names (``type(index)``, pickled by
reference)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from aggregator import procs
from aggregator.config import RelatedConfig
from aggregator.related import _sparse
from aggregator.related._candidates import CANDIDATES, TimeSlices, top_per_row, top_per_row_at
from aggregator.related._sparse import sp
from aggregator.related.analyze import MAX_PROCESSES

# Entries from which the full build weighs the vectors and computes the lists in
# worker processes: below, starting them costs more than it saves.
_PARALLEL_FROM = 20_000


class ListInputs:
    """What the lists of a block of rows need: the index (its per-row arrays that
    scoring reads), the candidates' postings, the common and the name/figure parts of
    the vectors, the keys' ranks (ties); saved to files that worker processes map."""

    # The index's per-row arrays that scoring a pair reads (``_score_pairs``).
    _SCORED = ("_times", "_tags", "_links", "_text_hash", "_sketch", "_sketch_len")

    def __init__(
        self,
        index: Any,  # a RelatedIndex: settings, the arrays _score_pairs reads
        postings: TimeSlices | None,  # None, and the next two: for ``lists`` only
        common: sp.csr_matrix | None,
        named: sp.csr_matrix | None,
        key_rank: np.ndarray,
    ) -> None:
        self.index, self.postings = index, postings
        self.common, self.named, self.key_rank = common, named, key_rank

    def pairs(self, blocks: list[tuple[int, int]]) -> dict[str, np.ndarray]:
        """Every candidate pair of a row of ``blocks`` (consecutive) with a later row,
        scored (:meth:`TimeSlices.candidates`; ``_score_pairs`` is symmetric too):
        rows, cols, rare scores, scores and flags (1: usable, 2: the same story) by row
        then col, and the positions in col order with the cols so sorted, for
        :meth:`lists` to find the pairs of its rows on either side."""
        parts = []
        for start, stop in blocks:
            rows, cols, rare_scores = self.postings.candidates(start, stop)
            cosine = rare_scores.astype(np.float64) + _sparse.pair_dots(self.common, rows, cols)
            names = _sparse.pair_dots(self.named, rows, cols)
            score, usable, duplicate = self.index._score_pairs(rows, cols, cosine, names)
            flags = usable.astype(np.uint8) | (duplicate.astype(np.uint8) << 1)
            parts.append((rows.astype(np.int32), cols.astype(np.int32), rare_scores, score, flags))
        rows, cols, rare_scores, score, flags = (
            np.concatenate(p) for p in zip(*parts, strict=True)
        )
        by_col = np.argsort(cols, kind="stable").astype(np.int32)
        return {
            "rows": rows,
            "cols": cols,
            "rare": rare_scores,
            "score": score,
            "flags": flags,
            "by_col": by_col,
            "sorted_cols": cols[by_col],
        }

    def lists(
        self, blocks: list[tuple[int, int]], pairs: Sequence[Mapping[str, np.ndarray]]
    ) -> list[tuple[tuple[np.ndarray, ...], np.ndarray]]:
        """For each of ``blocks`` (consecutive): ((rows, cols, scores) of the best
        ``4 * count`` usable pairs of each of its rows, by row, best first; the pairs
        of reprints found, 2 x k).  ``pairs``: :meth:`pairs` of every block (of those
        that do not reach these rows, only a bisection is read)."""
        first, end = blocks[0][0], blocks[-1][1]
        found = []
        for part in pairs:
            lo, hi = np.searchsorted(part["rows"], [first, end])
            if hi > lo:
                at = slice(lo, hi)
                found.append((part["rows"][at], part["cols"][at], *_pair_fields(part, at)))
            lo, hi = np.searchsorted(part["sorted_cols"], [first, end])
            if hi > lo:  # the same pairs from the later row's side
                at = np.asarray(part["by_col"][lo:hi])
                found.append((part["cols"][at], part["rows"][at], *_pair_fields(part, at)))
        n = len(self.key_rank)
        if not found:  # no row of these blocks has a candidate
            found.append((np.zeros(0, np.int32),) * 2 + _pair_fields(pairs[0], slice(0, 0)))
        rows, cols, rare_scores, score, flags = (
            np.concatenate(p) for p in zip(*found, strict=True)
        )
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        order = np.argsort(rows * n + cols)
        rows, cols, rare_scores, score, flags = (
            a[order] for a in (rows, cols, rare_scores, score, flags)
        )
        # Enough to fill each list even after dropping repeats of one story.
        count = 4 * self.index.settings.count
        results = []
        for start, stop in blocks:
            lo, hi = np.searchsorted(rows, [start, stop])
            at = lo + top_per_row_at(rows[lo:hi], cols[lo:hi], rare_scores[lo:hi], CANDIDATES)
            block_rows, block_cols, block_score = rows[at], cols[at], score[at]
            usable, duplicate = (flags[at] & 1) != 0, (flags[at] & 2) != 0
            reprints = np.stack([block_rows[duplicate], block_cols[duplicate]])
            kept = top_per_row(
                block_rows[usable], block_cols[usable], block_score[usable], count, self.key_rank
            )
            results.append((kept, reprints))
        return results

    def save(self, folder: str) -> dict:
        """Every array into ``folder`` (one .npy file each); returns the manifest that
        :meth:`load` needs with it."""
        n = len(self.postings.times)
        arrays: dict[str, np.ndarray] = {
            name: getattr(self.index, name)[:n] for name in self._SCORED
        }
        arrays["exclude_codes"] = self.index._exclude_codes
        arrays["key_rank"] = self.key_rank
        shapes = {}
        matrices = {"rare": self.postings.rare, "common": self.common, "named": self.named}
        for k, (_, _, postings) in enumerate(self.postings.slices):
            matrices[f"slice{k}"] = postings
        for name, matrix in matrices.items():
            shapes[name] = matrix.shape
            for part in ("data", "indices", "indptr"):
                arrays[f"{name}.{part}"] = getattr(matrix, part)
        for name, array in arrays.items():
            np.save(os.path.join(folder, f"{name}.npy"), array, allow_pickle=False)
        return {
            "index": type(self.index),  # what a worker makes its scratch index of
            "settings": self.index.settings,
            "window": self.postings.window,
            "bounds": [(first, last) for first, last, _ in self.postings.slices],
            "shapes": shapes,
        }

    @classmethod
    def load(cls, folder: str, manifest: dict) -> ListInputs:
        """The inputs :meth:`save` wrote, mapped from its files (read-only)."""

        def array(name: str) -> np.ndarray:
            return np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="r")

        def matrix(name: str) -> sp.csr_matrix:
            parts = (array(f"{name}.{part}") for part in ("data", "indices", "indptr"))
            return sp.csr_matrix(tuple(parts), shape=manifest["shapes"][name], copy=False)

        index = manifest["index"](manifest["settings"])
        for name in cls._SCORED:
            setattr(index, name, array(name))
        index._exclude_codes = array("exclude_codes")
        slices = [
            (first, last, matrix(f"slice{k}")) for k, (first, last) in enumerate(manifest["bounds"])
        ]
        postings = TimeSlices(matrix("rare"), index._times, manifest["window"], slices)
        return cls(index, postings, matrix("common"), matrix("named"), array("key_rank"))


# A worker's inputs, mapped once (by folder) for every chunk of blocks it is given.
_WORKER_INPUTS: dict[str, ListInputs] = {}


def _worker_inputs(folder: str, manifest: dict) -> ListInputs:
    inputs = _WORKER_INPUTS.get(folder)
    if inputs is None:
        _WORKER_INPUTS.clear()
        inputs = _WORKER_INPUTS[folder] = ListInputs.load(folder, manifest)
    return inputs


_PAIR_FIELDS = ("rows", "cols", "rare", "score", "flags", "by_col", "sorted_cols")


def _pair_fields(part: Mapping[str, np.ndarray], at: slice | np.ndarray) -> tuple:
    return part["rare"][at], part["score"][at], part["flags"][at]


def _pairs_of_chunk(folder: str, manifest: dict, chunk: int, blocks: list[tuple[int, int]]) -> int:
    """In a worker process: :meth:`ListInputs.pairs` of ``blocks`` into ``folder``'s
    files ``pairs<chunk>.<field>.npy``; returns how many pairs."""
    pairs = _worker_inputs(folder, manifest).pairs(blocks)
    for name, array in pairs.items():
        np.save(os.path.join(folder, f"pairs{chunk}.{name}.npy"), array, allow_pickle=False)
    return len(pairs["rows"])


def _lists_of_chunk(
    folder: str, manifest: dict, chunks: int, blocks: list[tuple[int, int]]
) -> list:
    """In a worker process: :meth:`ListInputs.lists` of ``blocks``, the pairs of
    every chunk mapped from the files :func:`_pairs_of_chunk` wrote."""
    pairs = [
        {
            name: np.load(os.path.join(folder, f"pairs{k}.{name}.npy"), mmap_mode="r")
            for name in _PAIR_FIELDS
        }
        for k in range(chunks)
    ]
    # Every pair is found: the vectors and postings mapped for them go (the pages of
    # them that a worker read count in its memory through the rest of the build).
    _WORKER_INPUTS.clear()
    key_rank = np.load(os.path.join(folder, "key_rank.npy"), mmap_mode="r")
    inputs = ListInputs(manifest["index"](manifest["settings"]), None, None, None, key_rank)
    return inputs.lists(blocks, pairs)


def lists_in_workers(
    pool: concurrent.futures.Executor,
    folder: str,
    manifest: dict,
    chunks: list[list[tuple[int, int]]],
    meanwhile: Callable[[], None] = lambda: None,
) -> list:
    """The lists of every block by the ``pool``'s workers, a chunk of consecutive
    blocks at a time (several per worker: one slow worker does not hold up the rest):
    first each chunk's pairs (into files), then, once all are there, each chunk's
    lists; the results in block order.  ``meanwhile`` runs as the pairs are found."""
    k = len(chunks)
    found = pool.map(_pairs_of_chunk, [folder] * k, [manifest] * k, range(k), chunks)
    meanwhile()
    list(found)
    done = pool.map(_lists_of_chunk, [folder] * k, [manifest] * k, [k] * k, chunks)
    return [result for chunk in done for result in chunk]


def chunked(blocks: list[tuple[int, int]], chunks: int) -> list[list[tuple[int, int]]]:
    """``blocks`` in at most ``chunks`` runs of consecutive blocks."""
    chunks = max(1, min(len(blocks), chunks))
    edges = [len(blocks) * k // chunks for k in range(chunks + 1)]
    return [blocks[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]


def weigh_block(
    inputs: tuple[type, RelatedConfig, str, dict], start: int, stop: int
) -> sp.csr_matrix:
    """In a worker process: :meth:`RelatedIndex._weigh_rows` of rows start..stop-1,
    their counts mapped from the files :meth:`RelatedIndex._weigh` wrote (and let go
    after: the pages read are not held through the rest of the build)."""
    index_type, settings, folder, shapes = inputs  # index_type: RelatedIndex
    index = index_type(settings)
    index.idf = np.load(os.path.join(folder, "idf.npy"), mmap_mode="r")
    matrices = []
    for name in ("title", "body", "names"):
        parts = (
            np.load(os.path.join(folder, f"{name}.{part}.npy"), mmap_mode="r")
            for part in ("data", "indices", "indptr")
        )
        whole = sp.csr_matrix(tuple(parts), shape=shapes[name], copy=False)
        block = _sparse.row_slice(whole, start, stop)
        matrices.append(
            sp.csr_matrix(
                (np.array(block.data), np.array(block.indices), np.array(block.indptr)),
                shape=block.shape,
            )
        )
    return index._weigh_rows(matrices)


def build_workers(
    entries: int,
) -> contextlib.AbstractContextManager[concurrent.futures.Executor | None]:
    """The worker processes :meth:`RelatedIndex.from_batch` would start for ``entries``
    entries (None: it builds alone), started now, for its ``workers``: they import
    numpy, scipy and this module (~0.5 CPU-s each) while the caller still reads
    what the analysis sent, with a core to spare, not as the build waits for them."""
    return workers(build_processes(entries))


def build_processes(entries: int) -> int:
    return min(_cores(), MAX_PROCESSES) if entries >= _PARALLEL_FROM else 1


@contextlib.contextmanager
def workers(processes: int) -> Iterator[concurrent.futures.Executor | None]:
    """``processes`` workers (None below 2), started at once: they import numpy, scipy
    and this module while the build fills the entries' rows."""
    if processes < 2:
        yield None
        return
    with procs.executor(processes) as pool:
        for _ in range(processes):
            pool.submit(_cores)  # any task: each starts a worker
        yield pool


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
