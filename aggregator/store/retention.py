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
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Listing", "expired", "last_listed", "unlisted_since"]


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
