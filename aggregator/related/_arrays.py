"""numpy primitives of the text analysis, for the int64/uint64 hashes it sorts and
looks up by the million: sorting (:func:`argsort`, :func:`unique`, :func:`summed`)
faster than numpy's own on such values, searching in sorted order (:func:`search`),
joining (:func:`concat`).

Apart from ``analyze`` because they know nothing of texts (arrays in, arrays out) and
the word table, the hashes and the batches all use them."""

from __future__ import annotations

import numpy as np


def summed(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct keys, ascending; the sum of each one's weights), of int64 keys and
    weights, none negative: each key sorted with its weight in its low bits (numpy
    sorts 64-bit numbers with SIMD instructions), the sums from a running sum over
    them.  No argsort, nor the scatter of every key's place back
    that an inverse takes (a third of the time); keys too large to share an int64
    with their weights (none a batch makes) go through ``np.unique``."""
    weights = weights.astype(np.int64, copy=False)
    if not len(keys):
        return keys, weights
    bits = max(int(weights.max()).bit_length(), 1)
    if int(keys.max()).bit_length() + bits > 63:
        keys, where = np.unique(keys, return_inverse=True)
        return keys, np.bincount(where, weights=weights, minlength=len(keys)).astype(np.int64)
    packed = keys << bits | weights
    packed.sort()
    ordered = packed >> bits
    first = np.ones(len(packed), bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    # Each run's sum from a running sum at its last key (np.add.reduceat is ~5 times
    # slower over so many short runs).
    last = np.flatnonzero(np.append(first[1:], True))
    sums = np.cumsum(packed & ((1 << bits) - 1))[last]
    sums[1:] -= sums[:-1].copy()
    return ordered[last], sums


def concat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)


def search(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.searchsorted(table, values)``, the values looked up in their sorted order:
    each search then starts where the last one ended (numpy does so), instead of at
    random places in a table larger than the CPU's caches (~3 times faster)."""
    if len(values) < 1024 or not (values[1:] < values[:-1]).any():  # few, or sorted
        return np.searchsorted(table, values)
    order = argsort(values, exact=False)
    found = np.empty(len(values), np.int64)
    found[order] = np.searchsorted(table, values[order])
    return found


def argsort(values: np.ndarray, exact: bool = True) -> np.ndarray:
    """An order that sorts ``values`` (int64 or uint64; equal ones in any order), as
    ``np.argsort`` gives, about twice as fast: ``np.sort`` of each value with its
    place in its low bits (numpy sorts 64-bit numbers with SIMD instructions, but
    argsorts them one comparison at a time, ~100 ns a value here), the places read
    back from the low bits.  Values that need those bits themselves (two alike in
    all but them: rare for hashes) are argsorted after all, unless ``exact`` is
    false: then such values may come out of order (a sort that only brings alike
    values together, for the cache's sake)."""
    n = len(values)
    if n < 4096:
        return np.argsort(values)
    bits = (n - 1).bit_length()
    kind = values.dtype.type
    low = kind((1 << bits) - 1)
    places = np.arange(n, dtype=values.dtype)
    if kind is np.int64 and values.min() >= 0 and int(values.max()) >> (63 - bits) == 0:
        keys = values << kind(bits) | places  # small values: the whole value and its place
        keys.sort()
        return keys & low
    keys = (values & ~low) | places
    keys.sort()
    order = (keys & low).astype(np.intp, copy=False)
    if exact:
        ordered = values[order]
        if (ordered[1:] < ordered[:-1]).any():
            return np.argsort(values)
    return order


def unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (the distinct values, sorted), by a sort: numpy 2.4's
    np.unique looks for them with a hash table first, which on 64-bit hashes is 10-40
    times slower than sorting (3,000,000 of them: 5.7 s against 0.24 s)."""
    values = np.sort(values)
    if len(values) > 1:
        keep = np.empty(len(values), bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        values = values[keep]
    return values
