"""What a relate run gives back (:class:`Refresh`, :class:`UpdateStats`) and the
fingerprint that tells an edited entry (:func:`version_of`): light on imports, so that
a run with nothing new loads neither numpy nor scipy."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aggregator.models import ItemText, StoredItem
from aggregator.text.counts import counted

# The index and entry types live in modules that load numpy (index.py, analyze.py),
# which import this one: typed loosely here, so that this module imports neither.
RelatedIndex = Any
Entry = Any

__all__ = ["NOTHING_CHANGED", "Refresh", "UpdateStats", "text_version", "version_of"]

NOTHING_CHANGED = "nothing changed"  # the reason of a run that left the index as it was


def version_of(stored: StoredItem) -> str:
    """A fingerprint of everything :func:`document` reads from a stored item (cheap:
    a run computes it for every stored entry to find the edited ones).

    Each field length-prefixed (``None`` apart from ""), so that different items give
    different texts; the text as UTF-16 (a copy for most text, where UTF-8 must
    encode each Cyrillic letter) into SHA-1 (in hardware on current x86 CPUs: about
    twice as fast as blake2b here), 64 bits of it."""
    item = stored.item
    return _version(
        (item.title, item.summary, item.content, item.language, item.link),
        stored.published,
        (item.categories, stored.source_ids),
    )


def text_version(text: ItemText) -> str:
    """:func:`version_of` of the stored item ``text`` was read from (the same value)."""
    return _version(
        (text.title, text.summary, text.content, text.language, text.link),
        text.published,
        (text.categories, text.source_ids),
    )


def _version(
    fields: Sequence[str | None], published: datetime, lists: Sequence[Sequence[str]]
) -> str:
    """:func:`version_of` of an item's title, summary, content, language and link, its
    published time, and its categories and source ids."""
    parts = []
    for value in (*fields, published.isoformat()):
        parts.append("-" if value is None else f"{len(value)}:{value}")
    for values in lists:
        parts.append(f"{len(values)}[")
        parts.extend([f"{len(v)}:{v}" for v in values])
    data = "".join(parts).encode("utf-16-le", "surrogatepass")
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()[:16]


@dataclass
class UpdateStats:
    rebuilt: bool = False
    reason: str = ""
    added: int = 0
    removed: int = 0
    changed: int = 0
    lists_changed: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.reason == NOTHING_CHANGED:
            return "related index up to date: no entry stored, edited or removed since it was saved"
        if self.rebuilt:
            what = f"rebuilt ({self.reason})"
        else:
            what = f"+{self.added} -{self.removed} ~{self.changed}"
        lists = counted(self.lists_changed, "list")
        return f"related index {what}, {lists} changed, {self.seconds:.1f}s"


@dataclass
class Refresh:
    """An up-to-date index and what publishing its lists needs.

    ``unchanged``: nothing changed since the saved index; it was not even loaded
    (``index`` loads it when asked, with ``load``), and no file needs writing."""

    index_or_none: RelatedIndex | None
    entries: dict[str, Entry]  # by key: every entry whose file is rewritten, and theirs
    stats: UpdateStats
    changed: set[str] = field(default_factory=set)  # keys whose lists changed
    rewrite: set[str] | None = None  # keys whose files may have changed; None: all
    removed: list[str] = field(default_factory=list)  # keys no longer stored
    removed_ids: list[int] = field(default_factory=list)  # numbers left: removed, edited
    unchanged: bool = False
    entry_count: int = 0
    load: Callable[[], RelatedIndex | None] | None = None
    # Every entry that has reprints -> its story's keys (``RelatedIndex.stories``), when
    # the run worked it out already; None: ask the index.
    stories: dict[str, list[str]] | None = None
    # The name of the saved index this state is (persist.save_index); None: not saved.
    saved: str | None = None
    # What was found wrong with the index's files in the output directory (they are
    # written again: related.json and every list block); None: nothing.
    damage: str | None = None

    @property
    def index(self) -> RelatedIndex:
        if self.index_or_none is None and self.load is not None:
            self.index_or_none = self.load()
        if self.index_or_none is None:
            raise RuntimeError("the related index is gone")
        return self.index_or_none
