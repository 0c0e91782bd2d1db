"""Candidates, not all pairs (see ``index``): how many candidates an entry keeps
(``CANDIDATES``) and the rare-stem score one needs (``CANDIDATE_FLOOR``), the full
build's posting lists in time slices that find each block's candidates
(:class:`TimeSlices`), and the best few of each row's pairs, ties decided at
``SCORE_DECIMALS`` then by key, as every list is ordered (:func:`top_per_row`).

Apart from ``index`` because the full build's workers (``_build``) choose candidates and
order lists by the same rules as the index's incremental path, and import them from
here, not from the index (which imports the workers' code: no circle)."""

from __future__ import annotations

import numpy as np

from aggregator.related import _sparse
from aggregator.related._sparse import sp

CANDIDATES = 40  # exactly scored candidates per entry
# A candidate must share rare stems worth this much cosine: sharing one rare word in
# passing is no relation, and the cut keeps the candidate products small.
CANDIDATE_FLOOR = 0.03
SCORE_DECIMALS = 6  # ties are decided at this precision, then by key

_SLICES_PER_WINDOW = 4
_MAX_SLICES = 64


class TimeSlices:
    """The rare parts of the vectors transposed (stem -> the entries having it: posting
    lists), in slices of entries by time, ``window / _SLICES_PER_WINDOW`` long, so that
    a block of rows is multiplied with the postings of the entries in its window only
    (and the slices' edges), never with every entry of the store's whole time span.

    Block rows times postings, not the window's rows times the block transposed: each
    window row visited each of its stems for each block, whether the block had it or
    not (most of that product's cost).  Both orders add the same products in the same
    order (by stem) for a pair: the candidates' rare scores are the same, bit for bit.
    """

    def __init__(
        self,
        rare: sp.csr_matrix,
        times: np.ndarray,
        window: float,
        slices: list[tuple[int, int, sp.csr_matrix]] | None = None,
    ) -> None:
        self.rare, self.times, self.window = rare, times, window
        if slices is not None:  # made before (in another process)
            self.slices = slices
            return
        n = len(times)
        span = float(times[-1] - times[0])
        width = max(window / _SLICES_PER_WINDOW, span / _MAX_SLICES, 1.0)
        inner = np.searchsorted(times, times[0] + width * np.arange(1, span // width + 1))
        edges = np.unique(np.concatenate([[0], inner, [n]])).tolist()
        self.slices = [
            (first, last, _sparse.row_slice(rare, first, last).T.tocsr())
            for first, last in zip(edges, edges[1:], strict=False)
        ]

    def candidates(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, rare scores) of the pairs of a row start..stop-1 with a later
        row (col > row) inside the window whose rare scores reach ``CANDIDATE_FLOOR``,
        sorted by row, then col.  Each pair once: a pair's rare score is the same from
        either side, bit for bit (the same products, summed in stem order), so the
        earlier row's block finds it for both (``_build.ListInputs.lists``), and a block is
        multiplied with the postings of the window after it only."""
        times, window = self.times, self.window
        hi = int(np.searchsorted(times, times[stop - 1] + window, side="right"))
        block = _sparse.row_slice(self.rare, start, stop)
        found = []
        for first, last, postings in self.slices:
            if last <= start or first >= hi:
                continue
            product = (block @ postings).tocoo()
            keep = np.flatnonzero(product.data >= CANDIDATE_FLOOR)
            rows = product.row[keep].astype(np.int64) + start
            cols = product.col[keep].astype(np.int64) + first
            scores = product.data[keep]
            keep = (cols > rows) & (np.abs(times[rows] - times[cols]) <= window)
            found.append((rows[keep], cols[keep], scores[keep]))
        rows, cols, scores = (np.concatenate(parts) for parts in zip(*found, strict=True))
        order = np.argsort(rows * len(times) + cols)
        return rows[order], cols[order], scores[order]


def top_per_row(
    rows: np.ndarray,
    cols: np.ndarray,
    scores: np.ndarray,
    k: int,
    key_rank: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best (row, col, score) of each row, sorted by row then best first;
    ties by col, or with ``key_rank``, at ``SCORE_DECIMALS`` then by key."""
    at = top_per_row_at(rows, cols, scores, k, key_rank)
    return rows[at], cols[at], scores[at]


def top_per_row_at(
    rows: np.ndarray,
    cols: np.ndarray,
    scores: np.ndarray,
    k: int,
    key_rank: np.ndarray | None = None,
) -> np.ndarray:
    """Where :func:`top_per_row`'s pairs are in the arrays given, in its order."""
    if key_rank is None:
        # One float key sorts faster than three; scores are cosines (<= 1).
        order = np.argsort(rows * 4.0 + (2.0 - scores), kind="stable")
    else:
        order = np.lexsort((key_rank[cols], -np.round(scores, SCORE_DECIMALS), rows))
    rows = rows[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    return order[rank < k]
