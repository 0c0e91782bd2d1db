"""Plain data passed between the stages: config -> fetch -> parse -> store -> publish.

Every stage takes and returns these types and nothing richer, so that a stage can be
tested, replaced or benchmarked on its own.  All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True)
class Author:
    name: str | None = None
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True)
class Item:
    """One normalized feed entry, as the parser hands it over.

    ``published``/``updated`` are what the feed said, converted to UTC, or None;
    the update stage turns them into the stored (adjusted) times, because only it
    knows when the item was first seen and when it was fetched.
    """

    id: str  # stable: guid, else link, else a hash of title and content
    title: str  # plain text, never HTML
    link: str | None = None  # absolute http(s) URL or None
    summary: str | None = None  # sanitized HTML
    content: str | None = None  # sanitized HTML
    published: datetime | None = None
    updated: datetime | None = None
    published_raw: str | None = None  # the feed's own spelling of the date
    updated_raw: str | None = None
    authors: tuple[Author, ...] = ()
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    language: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document says about itself, plus its items."""

    format: str  # e.g. "rss20", "rss10", "rss091u", "atom10", "atom03", "json10", "json11"
    title: str | None = None
    link: str | None = None  # the feed's home page (absolute)
    description: str | None = None
    language: str | None = None
    updated: datetime | None = None
    updated_raw: str | None = None  # the feed's own spelling of ``updated``
    ttl_seconds: int | None = None  # RSS <ttl> (given in minutes) or similar, in seconds
    items: tuple[Item, ...] = ()
    encoding: str | None = None  # how the bytes were decoded: "utf-8", "big5 (detected)"
    problem: str | None = None  # what was wrong with a document read all the same
    # A date it gives that says no offset (read in its source's zone), as it spells it
    zoneless_date: str | None = None
    # Which comes first in its numeric dates, "day" or "month", as they (or its source's
    # earlier ones) show; an ambiguous one ("04/05/2025") none shows the order of, unread
    date_order: str | None = None
    ambiguous_date: str | None = None


class FetchOutcome(enum.Enum):
    OK = "ok"  # a body to parse
    NOT_MODIFIED = "not_modified"  # 304: nothing to parse
    GONE = "gone"  # 410: stop fetching this source
    RETRY_LATER = "retry_later"  # 429/503: honour Retry-After
    HELD = "held"  # not sent: another feed of its host was answered 429/503 (Fetcher.holds)
    ERROR = "error"  # anything else: network, deadline, cap, SSRF refusal, 4xx/5xx


@dataclass(frozen=True)
class HostHold:
    """A host that answered 429 or 503: none of its sources is fetched before ``until``
    (its Retry-After, else the answering source's backoff), in any run or worker."""

    host: str  # lowercased host name, as fetch connects to it
    until: datetime
    source_id: str  # the source whose fetch was answered so
    reason: str  # that fetch's error: "HTTP 429 at https://...: the server asked ..."


@dataclass(frozen=True)
class FetchRequest:
    url: str  # http(s) URL, file:// URL or local path
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # extra per-source headers
    timeout: float | None = None  # whole-request deadline in seconds; None = fetcher default
    allow_networks: tuple[str, ...] = ()  # extra CIDRs this source may reach ("127.0.0.0/8")
    method: str = "GET"  # "POST" for WebSub pings (publish/websub.py); redirects are not followed
    body: bytes | None = None  # the request body of a POST


@dataclass(frozen=True)
class FetchResult:
    request: FetchRequest
    outcome: FetchOutcome
    final_url: str  # URL the body came from, after redirects
    permanent_url: str | None = None  # set when every redirect hop was 301/308: adopt it
    status_code: int | None = None
    body: bytes | None = None  # decoded from Content-Encoding, at most the body cap
    headers: dict[str, str] = field(default_factory=dict)  # response headers, names lowercased
    error: str | None = None  # human-readable: what went wrong, where
    redirects: tuple[tuple[int, str], ...] = ()  # (status, location) for every hop
    elapsed: float = 0.0  # seconds


@dataclass
class SourceState:
    """What the store remembers about one source between runs."""

    source_id: str
    url: str  # the URL to fetch now (the configured one, or one adopted after a 301/308)
    configured_url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    title: str | None = None  # from the feed itself
    link: str | None = None
    feed_updated: datetime | None = None  # the feed's own date, else when its body last changed
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    next_due: datetime | None = None
    backoff_until: datetime | None = None
    gone: bool = False
    item_count: int = 0
    min_interval_seconds: int | None = None  # from the feed's ttl / Cache-Control max-age
    encoding: str | None = None  # how its last body was decoded: "windows-1251 (detected)"
    # Since when its feed gives its items new guids on every fetch: they are known by
    # their link (ingest/decide.regenerated)
    guids_unstable: datetime | None = None
    # Since when its fetches fail, every one (the first failure after a success): what a
    # monitor asks of a failing source (health.json)
    failing_since: datetime | None = None
    # What its last parsed feed's dates were like (ParsedFeed's fields of these names):
    # one without an offset, the order of day and month shown, one that shows neither
    zoneless_date: str | None = None
    date_order: str | None = None
    ambiguous_date: str | None = None


@dataclass(frozen=True)
class StoredItem:
    """An item as the store gives it back to the publish/match/relate stages."""

    key: str  # the store's primary key; stable across runs and outputs
    item: Item  # with adjusted published/updated times
    source_ids: tuple[str, ...]  # every source it arrived through, first one first
    first_seen: datetime
    published: datetime  # adjusted: never None, never in the future of its fetch
    updated: datetime

    def text(self) -> ItemText:
        """What text analysis reads of it (what ``Storage.iter_item_texts`` gives)."""
        item = self.item
        return ItemText(
            self.key,
            item.title,
            item.link,
            item.summary,
            item.content,
            item.language,
            self.published,
            item.categories,
            self.source_ids,
        )


class ItemText(NamedTuple):
    """What text analysis reads of a stored item (``Storage.iter_item_texts``): the
    fields of :class:`StoredItem` and its :class:`Item` that say what it is about,
    without building those (a full related rebuild reads every stored item)."""

    key: str
    title: str
    link: str | None
    summary: str | None
    content: str | None
    language: str | None
    published: datetime  # adjusted, as StoredItem.published
    categories: tuple[str, ...]
    source_ids: tuple[str, ...]  # first one first


@dataclass(frozen=True)
class UpdateCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class SeenItem:
    """What the store holds of an item a source gave before (for deciding a fetch)."""

    key: str | None  # None: written earlier in the same fetch, key not assigned yet
    content_hash: str  # of this source's version, to notice its edits
    published: datetime  # as stored (adjusted)
    published_original: datetime | None  # as the feed gave it
    first_seen: datetime


@dataclass(frozen=True)
class ItemWrite:
    """One decided write of a fetch: insert a new item, replace a changed one, or only
    note that the source still lists it ("unchanged")."""

    kind: str  # "new" | "changed" | "unchanged"
    item: Item
    content_hash: str
    published: datetime  # adjusted times to store
    updated: datetime
    key: str | None = None  # the stored item's key ("changed", "unchanged")


@dataclass(frozen=True)
class FetchPlan:
    """Everything one successful fetch writes, decided before any of it is written."""

    state: SourceState  # the source's new state (item_count is the store's to set)
    writes: tuple[ItemWrite, ...]
    fetched_at: datetime
    counts: UpdateCounts
    # (stored id, new id): items the source now lists under another id (decide.relisted),
    # renamed before the writes, which name them by the new one
    renamed: tuple[tuple[str, str], ...] = ()


def configured(source_ids: Sequence[str], sources: Collection[str]) -> bool:
    """Whether an item that came through ``source_ids`` is still published (and so
    related): a source removed from the configuration (not in ``sources``) publishes
    nothing more, though the store keeps its items (were it added back, they would be
    published again); an item of no source (a commentary file) is the house's own."""
    return not source_ids or any(source_id in sources for source_id in source_ids)
