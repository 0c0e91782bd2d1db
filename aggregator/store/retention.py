"""Pure: which stored items the retention rule removes.  The store reads the facts
(``SQLStorage.prune``) and deletes what these functions return; nothing here does I/O
or reads a clock.

The rule (``storage.retention_days``, ``storage.keep_latest``): an item goes when it was
published before the cutoff, no source has listed it since the cutoff, and it is not
among the ``keep_latest`` newest items of any source that listed it.

When a source listed an item last: the last fetch that parsed a listing with it
(``item_sources.last_seen``); for the items of the source's last listing, also every
fetch since that found the feed unchanged (a 304, or the same body: the source's last
success), because such a fetch is the source saying it still lists them.  Counting
only parsed fetches would prune what a quiet feed keeps listing, and bring it back as
new items when the feed next changes.

The store applies the same rule in SQL (``listed_since_sql``, and the read and the
re-check built from it, ``OLD_LISTINGS`` and ``STILL_UNLISTED``): they are here beside
the Python so that the two are read and changed together, and
tests/store/test_retention.py checks on a table of cases, against real stores of both
backends, that they decide alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "OLD_LISTINGS",
    "STILL_UNLISTED",
    "Listing",
    "expired",
    "last_listed",
    "listed_since_sql",
    "unlisted_since",
]


@dataclass(frozen=True)
class Listing:
    """One source's listing of one stored item, with what the rule needs of both."""

    item_key: str
    source_id: str
    published: datetime  # the item's (adjusted) published time
    last_seen: datetime  # the last parsed fetch of the source that listed the item
    listed_at: datetime | None  # the source's last parsed fetch (its last listing)
    confirmed: datetime | None  # the source's last successful fetch (parsed, 304, same body)


def last_listed(listing: Listing) -> datetime:
    """When the source last listed the item: the last parsed fetch that listed it, or,
    when it is in the source's last listing, the last fetch that found that listing
    unchanged."""
    in_last_listing = listing.listed_at is not None and listing.last_seen == listing.listed_at
    if in_last_listing and listing.confirmed is not None:
        return max(listing.last_seen, listing.confirmed)
    return listing.last_seen


def unlisted_since(listings: Iterable[Listing], cutoff: datetime) -> dict[str, set[str]]:
    """The items published before ``cutoff`` that no source has listed since it, each
    with the sources that listed it.  ``listings``: every listing of each item asked
    about (an item one of whose sources still lists it is kept)."""
    sources: dict[str, set[str]] = {}
    listed: set[str] = set()
    for listing in listings:
        if listing.published >= cutoff or last_listed(listing) >= cutoff:
            listed.add(listing.item_key)
        else:
            sources.setdefault(listing.item_key, set()).add(listing.source_id)
    return {key: ids for key, ids in sources.items() if key not in listed}


def expired(
    unlisted: Mapping[str, Collection[str]], newest: Mapping[str, Collection[str]]
) -> list[str]:
    """The keys of ``unlisted`` (see ``unlisted_since``) to delete: those not among the
    newest items of any source that listed them (``newest``: source id -> the keys of
    its ``keep_latest`` newest items, for every source in ``unlisted``)."""
    return sorted(
        key
        for key, source_ids in unlisted.items()
        if not any(key in newest.get(source_id, ()) for source_id in source_ids)
    )


# -- the same rule in SQL (placeholders in pyformat: the store's dialect converts them) --


def listed_since_sql(listing: str, source: str, cutoff: str = "%(cutoff)s") -> str:
    """``last_listed(listing) >= cutoff`` as an SQL condition, for ``listing`` a row of
    item_sources and ``source`` its source's row of sources: true when the source has
    listed the item since the cutoff; false or NULL (a NULL listed_at or last_success
    counts as no confirmation, as None does in ``last_listed``) when not."""
    return (
        f"({listing}.last_seen >= {cutoff} OR ({listing}.last_seen = {source}.listed_at "
        f"AND {source}.last_success >= {cutoff}))"
    )


# Every listing (``Listing``'s fields, in order) of each item published before the
# cutoff that some source has not listed since it: what ``unlisted_since`` needs.  The
# scan of item_sources finds no such listing in one pass on most runs (every item a
# feed lists was seen at its last parsed fetch); those a quiet source confirmed since
# the cutoff are not read.
OLD_LISTINGS = f"""
    SELECT s.item_key, s.source_id, i.published, s.last_seen, src.listed_at, src.last_success
    FROM item_sources s
    JOIN items i ON i.key = s.item_key
    JOIN sources src ON src.id = s.source_id
    WHERE i.published < %(cutoff)s AND s.item_key IN (
        SELECT o.item_key FROM item_sources o JOIN sources os ON os.id = o.source_id
        WHERE o.last_seen < %(cutoff)s
        AND CASE WHEN {listed_since_sql("o", "os")} THEN 0 ELSE 1 END = 1
    )
"""
# ``unlisted_since`` again, as the condition of a DELETE FROM items: at the delete, a
# writer that committed since prune read the listings (another host's fetch,
# PostgreSQL) may have listed the item again.
STILL_UNLISTED = f"""
    published < %(cutoff)s AND NOT EXISTS (
        SELECT 1 FROM item_sources s JOIN sources src ON src.id = s.source_id
        WHERE s.item_key = items.key AND {listed_since_sql("s", "src")}
    )
"""
