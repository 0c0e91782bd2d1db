"""The index's key columns as a loaded base file gives them, standing in for a list
and a dict of every key: :class:`Strings` (a column of strings: the file's array, then
those appended) and :class:`RowOf` (key -> row, by bisection in the keys' saved sorted
order; the keys added or removed since in a dict).

Apart from ``index`` because they are views of saved arrays, not ranking: the index
reads them as it would a list and a dict, and a run that loads 100,000 keys to change
a few builds neither (that cost every run more than its work)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence

import numpy as np


class Strings(Sequence[str]):
    """A column of strings as loaded: the base file's (an array mapped from it) and
    those appended since.  Turning 100,000 keys into a list cost every run more than
    the few it reads."""

    def __init__(self, base: np.ndarray) -> None:
        self._base = base
        self._tail: list[str] = []

    def __len__(self) -> int:
        return len(self._base) + len(self._tail)

    def __getitem__(self, i: int) -> str:  # type: ignore[override]  (no slices)
        if i < 0:
            i += len(self)
        at = i - len(self._base)
        return str(self._base[i]) if at < 0 else self._tail[at]

    def __iter__(self) -> Iterator[str]:
        yield from self._base.tolist()
        yield from self._tail

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def append(self, value: str) -> None:
        self._tail.append(value)


class RowOf(MutableMapping[str, int]):
    """Key -> row of the live entries, as loaded: the base file's keys are found by
    bisection in their saved sorted order (``key_order``), the keys added or removed
    since in a dict.  Building a dict of 100,000 keys cost every run ~20 ms."""

    def __init__(self, keys: np.ndarray, order: np.ndarray) -> None:
        self._keys, self._order = keys, order
        self._changed: dict[str, int | None] = {}  # None: removed
        self._size = len(keys)

    def _base_row(self, key: str) -> int | None:
        at = int(np.searchsorted(self._keys, key, sorter=self._order))
        if at < len(self._order):
            row = int(self._order[at])
            if self._keys[row] == key:
                return row
        return None

    def __getitem__(self, key: str) -> int:
        row = self._changed[key] if key in self._changed else self._base_row(key)
        if row is None:
            raise KeyError(key)
        return row

    def __setitem__(self, key: str, row: int) -> None:
        if key not in self:
            self._size += 1
        self._changed[key] = row

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 (KeyError when absent)
        self.drop(key)

    def drop(self, key: str) -> None:
        """``del self[key]`` of a key known to be here (no lookup)."""
        self._changed[key] = None
        self._size -= 1

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        """In row order (the base file's rows, then those appended)."""
        changed = self._changed
        yield from (k for k in self._keys.tolist() if k not in changed)
        added = sorted((row, k) for k, row in changed.items() if row is not None)
        yield from (k for _, k in added)
