"""Sparse-matrix helpers of the related index: CSR rows kept as bare arrays
(:class:`Rows`), and the row-wise steps the vectors go through (TF-IDF weights,
normalizing, keeping each row's heaviest stems, dot products of pairs of rows).

Apart from ``index`` because none of them knows what a row means: they take and give
CSR arrays, the same bits as scipy's own operations would (the lists must not change
with the way they are computed).  scipy itself is imported when first used (``sp``):
a run adding a few entries to a loaded index reads and slices :class:`Rows` only."""

from __future__ import annotations

import numpy as np


class _SciPySparse:
    """``scipy.sparse``, imported when first used: the full build needs it, while a run
    adding a few entries to a loaded index reads and slices CSR arrays only
    (:class:`Rows`), and importing scipy would cost it more than its work."""

    def __getattr__(self, name: str) -> object:
        import scipy.sparse

        return getattr(scipy.sparse, name)


sp = _SciPySparse()


class Rows:
    """Rows of a sparse matrix as CSR arrays (``data``, ``indices``, ``indptr``,
    ``shape``, as scipy's ``csr_matrix`` names them): what the incremental path reads,
    selects rows of and appends to.  :func:`scipy` makes one a scipy matrix."""

    def __init__(
        self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
    ) -> None:
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    @classmethod
    def empty(cls) -> Rows:
        return cls(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), (0, 0))

    def take(self, rows: np.ndarray) -> Rows:
        """These rows, in this order."""
        at, sizes = segments(self.indptr, rows)
        indptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(sizes, out=indptr[1:])
        return Rows(self.data[at], self.indices[at], indptr, (len(rows), self.shape[1]))


def scipy(matrix: sp.csr_matrix | Rows) -> sp.csr_matrix:
    """``matrix`` as a scipy CSR matrix (of :class:`Rows`, their arrays as they are)."""
    if isinstance(matrix, Rows):
        return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
    return matrix


def segments(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in a CSR matrix's data/indices of the given rows, concatenated;
    the rows' sizes)."""
    starts = indptr[rows].astype(np.int64)
    sizes = indptr[rows + 1].astype(np.int64) - starts
    shift = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
    return shift + np.arange(len(shift)), sizes


def take_rows(matrix: sp.csr_matrix | Rows, rows: np.ndarray) -> Rows:
    if not isinstance(matrix, Rows):
        matrix = Rows(matrix.data, matrix.indices, matrix.indptr, matrix.shape)
    return matrix.take(rows)


def drop_columns(matrix: sp.csr_matrix | Rows, keep: np.ndarray, new_col: np.ndarray) -> Rows:
    """``matrix`` without the columns not in ``keep``, the others renumbered.  A few
    vector passes over the stored values; the rows' bounds move by the dropped
    values before them (found by bisection: there are few)."""
    alive = keep[matrix.indices]
    dead = np.flatnonzero(~alive)
    rows = np.searchsorted(matrix.indptr, dead, side="right") - 1
    dropped = np.zeros(matrix.shape[0] + 1, np.int64)
    dropped[1:] = np.cumsum(np.bincount(rows, minlength=matrix.shape[0]))
    return Rows(
        matrix.data[alive],
        new_col[matrix.indices[alive]].astype(np.int32),
        matrix.indptr - dropped,
        (matrix.shape[0], int(keep.sum())),
    )


def tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Counts -> ``(1 + ln tf) * idf``, in place (the counts are not needed after)."""
    data = counts.data.astype(np.float32, copy=False)
    np.log(data, out=data)
    data += 1
    data *= idf[counts.indices]
    counts.data = data
    return counts


def normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length, in place."""
    matrix = matrix.tocsr()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    squares = np.bincount(
        rows, weights=matrix.data.astype(np.float64) ** 2, minlength=matrix.shape[0]
    )
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    matrix.data = (matrix.data / norms[rows]).astype(np.float32)
    return matrix


def keep_heaviest(matrix: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """Each row's ``count`` largest values (ties: the lower column); the rest dropped.

    One sort of each block of rows' values as 64-bit numbers: row, then the value's
    bits (flipped: largest first), then its place in the row (the lower column first
    of equal values); the first ``count`` of each row stay.  numpy sorts 64-bit
    numbers with SIMD: ~2.5 times faster than partitioning each row as a padded table."""
    matrix = matrix.tocsr()
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or lengths.max() <= count:
        return matrix
    n = len(lengths)
    place_bits = max(1, int(lengths.max() - 1).bit_length())
    value_shift = np.uint64(place_bits)
    row_shift = np.uint64(32 + place_bits)
    data, indptr = matrix.data, matrix.indptr
    kept = []
    rows_at_once = 1 << min(32 - place_bits, 12)  # the row's bits fit (memory bounded too)
    for first in range(0, n, rows_at_once):
        last = min(first + rows_at_once, n)
        lo, hi = int(indptr[first]), int(indptr[last])
        sizes = lengths[first:last]
        starts = (indptr[first:last] - lo).astype(np.int64)
        bits = (data[lo:hi].astype(np.float32) + np.float32(0)).view(np.uint32)  # -0 as 0
        # The values' order as unsigned numbers (negative ones' bits flipped), reversed.
        flip = (bits >> np.uint32(31)) * np.uint32(0x7FFFFFFF) | np.uint32(0x80000000)
        key = (~(bits ^ flip)).astype(np.uint64) << value_shift
        rows = np.arange(last - first, dtype=np.uint64) << row_shift
        key += np.repeat(rows - starts.astype(np.uint64), sizes)  # row, less the row's start
        key += np.arange(hi - lo, dtype=np.uint64)  # ... plus the place: the place in the row
        key.sort()
        # Each row's first ``count`` (rows stay where they were: the same starts).
        firsts = np.minimum(sizes, count)
        top = key[
            np.arange(int(firsts.sum())) + np.repeat(starts - (np.cumsum(firsts) - firsts), firsts)
        ]
        at = (top & np.uint64((1 << place_bits) - 1)).astype(np.int64)
        at += starts[(top >> row_shift).astype(np.intp)] + lo
        kept.append(at)
    at = np.sort(np.concatenate(kept))
    at = at[data[at] != 0]  # as eliminate_zeros would
    sizes = np.bincount(np.searchsorted(indptr, at, side="right") - 1, minlength=n)
    new_indptr = np.zeros(n + 1, indptr.dtype)
    np.cumsum(sizes, out=new_indptr[1:])
    return sp.csr_matrix(
        (data[at].astype(np.float32), matrix.indices[at], new_indptr), shape=matrix.shape
    )


def row_slice(matrix: sp.csr_matrix, start: int, stop: int) -> sp.csr_matrix:
    """Rows start..stop of a CSR matrix as a view of its arrays (slicing copies them)."""
    first, last = matrix.indptr[start], matrix.indptr[stop]
    return sp.csr_matrix(
        (
            matrix.data[first:last],
            matrix.indices[first:last],
            matrix.indptr[start : stop + 1] - first,
        ),
        shape=(stop - start, matrix.shape[1]),
        copy=False,
    )


def pair_dots(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The dot products of pairs of rows of a CSR matrix with sorted indices.

    The same values, bit for bit, as ``matrix[rows].multiply(matrix[cols]).sum(axis=1)``
    (the lists must not change with the way they are computed): float32 products of the
    stems both rows have, in column order, summed by ``np.add.reduceat`` per pair as
    scipy's row sum does; without its two fancy-indexed copies and product matrix."""
    if not len(rows):
        return np.zeros(0)
    at_a, sizes_a = segments(matrix.indptr, rows)
    at_b, sizes_b = segments(matrix.indptr, cols)
    pairs = np.arange(len(rows), dtype=np.int64)
    width = max(matrix.shape[1], 1)
    # (pair, column) as one number per stored value of each side, ascending.
    key_a = np.repeat(pairs, sizes_a) * width + matrix.indices[at_a]
    key_b = np.repeat(pairs, sizes_b) * width + matrix.indices[at_b]
    result = np.zeros(len(rows), np.float32)
    if len(key_a) and len(key_b):
        where = np.minimum(np.searchsorted(key_b, key_a), len(key_b) - 1)
        hit = np.flatnonzero(key_b[where] == key_a)
        products = matrix.data[at_a[hit]] * matrix.data[at_b[where[hit]]]
        owner = key_a[hit] // width
        nonzero = products != 0  # scipy's product keeps no zeros
        products, owner = products[nonzero], owner[nonzero]
        if len(products):
            starts = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
            result[owner[starts]] = np.add.reduceat(products, starts)
    return result.astype(np.float64)
