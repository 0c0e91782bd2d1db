"""The store: the one interface every other stage reads and writes items through.

``Storage`` is a protocol: ingest, house, related and publish depend on it, never on a
backend's class (tests/store/test_protocol.py runs publish on an in-memory fake to keep
it so).  ``open_storage`` picks the backend from the configured location.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from aggregator.config import SourceConfig
from aggregator.models import FetchPlan, HostHold, ItemText, SeenItem, SourceState, StoredItem
from aggregator.store.errors import LockWaitTimeout, StorageError, StoreNotMade, StoreOutdated
from aggregator.text.urls import is_postgres_url

__all__ = [
    "LockWaitTimeout",
    "Storage",
    "StorageError",
    "StoreNotMade",
    "describe_location",
    "is_postgres_url",
    "mask_password",
    "open_for_reading",
    "open_storage",
    "postgres_lock",
]


class Storage(Protocol):
    """Sources, their fetch states and URL history, and the stored items."""

    # Seconds a statement waits for a lock another session holds before it fails with
    # ``LockWaitTimeout`` (``open_storage(lock_timeout=...)``, PostgreSQL); None: as long
    # as it takes (SQLite always: a writer holds the whole database, and waits its
    # busy timeout).  Processes that reopen the store from ``location`` open it so too.
    lock_timeout: float | None

    @property
    def location(self) -> str:
        """Where the store is, for messages and to reopen it in another process (a path
        or a URL; never a password)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Storage: ...

    def __exit__(self, *exc_info: object) -> None: ...

    # -- sources
    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Every configured source gets a state; a changed URL starts it over."""
        ...

    def unsynced_sources(self, sources: Sequence[SourceConfig]) -> list[str]:
        """The ids of ``sources`` that ``sync_sources`` would write: not stored yet, or
        stored under another configured URL."""
        ...

    def get_source_state(self, source_id: str) -> SourceState | None: ...

    def source_states(self, ids: Iterable[str] | None = None) -> list[SourceState]: ...

    def save_source_state(self, state: SourceState) -> None:
        """Save every field of ``state`` except item_count, which the store keeps."""
        ...

    def save_source_states(self, states: Sequence[SourceState]) -> None:
        """``save_source_state`` for each of ``states``, in one transaction."""
        ...

    def record_url_change(
        self, source_id: str, old: str, new: str, status: int, at: datetime
    ) -> None: ...

    def url_history(self, source_id: str) -> list[tuple[str, str, int, datetime]]: ...

    def hold_host(self, hold: HostHold, now: datetime) -> None:
        """Hold ``hold.host`` until ``hold.until`` (a later hold already stored stays),
        forgetting the holds over at ``now``."""
        ...

    def host_holds(self, now: datetime) -> dict[str, HostHold]:
        """The holds of hosts still held at ``now``, by host."""
        ...

    # -- leases: several fetchers (workers, runs on other hosts) share the due sources
    def lease(
        self,
        source_ids: Sequence[str],
        *,
        holder: str,
        seconds: float,
        limit: int | None = None,
        due_at: datetime | None = None,
    ) -> list[SourceState]:
        """Lease those of ``source_ids`` no one else holds to ``holder`` for ``seconds``;
        with ``due_at``, only those due then (``schedule.is_due``'s rule), most overdue
        first, up to ``limit``.  Their states.  (SQLite: one host, one run at a time
        under the run lock, so every asked source is granted and nothing is recorded.)"""
        ...

    def renew(self, source_ids: Sequence[str], *, holder: str, seconds: float) -> list[str]:
        """Extend ``holder``'s leases of ``source_ids`` to ``seconds`` from now: those
        it still holds (an expired lease no one else took is renewed too)."""
        ...

    def release(self, source_ids: Iterable[str] | None, *, holder: str) -> None:
        """End ``holder``'s leases of ``source_ids`` (None: all of them, a killed run's)."""
        ...

    # -- one fetch: read what the source gave before, then apply the decided plan
    def seen_items(self, source_id: str, item_ids: Iterable[str]) -> Mapping[str, SeenItem]:
        """What the store holds of the items ``source_id`` gave before, by item id."""
        ...

    def stored_by_link(
        self, source_id: str, canonical_links: Iterable[str]
    ) -> Mapping[str, list[tuple[str, str, SeenItem]]]:
        """The items ``source_id`` gave before whose canonical link is one of
        ``canonical_links``, by that link: (its item id, its title, what is seen of it)."""
        ...

    def apply_fetch(self, plan: FetchPlan) -> None:
        """Write one decided fetch (items and the source's state) in one transaction."""
        ...

    # -- items
    def iter_items(
        self,
        *,
        source_ids: Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        key_range: tuple[str | None, str | None] | None = None,
    ) -> Generator[StoredItem, None, None]:
        """Streamed, newest first by (adjusted) published time then key; closing the
        generator releases what it holds (a cursor).  ``key_range`` (low, high): only
        keys from low (included) up to high (excluded); None: that side is open."""
        ...

    def iter_item_texts(
        self, *, key_range: tuple[str | None, str | None] | None = None
    ) -> Generator[ItemText, None, None]:
        """What text analysis reads of each stored item (``key_range`` as in
        ``iter_items``), oldest first by (adjusted) published time then key, as
        ``iter_items(newest_first=False)``: the same fields without a StoredItem (a
        full related rebuild reads every item; building those cost it a third of its
        reading)."""
        ...

    def item_key_bounds(self, parts: int) -> list[str]:
        """The keys that split the stored items into ``parts`` parts of nearly equal
        size by key (ascending, ``parts - 1`` of them, fewer when there are fewer
        items): with ``iter_items(key_range=...)`` each of several processes reads
        its own part of the store instead of all of it."""
        ...

    def get_item(self, key: str) -> StoredItem | None: ...

    def item_by_link(self, url: str) -> StoredItem | None: ...

    def item_changes(self, since: int | None) -> tuple[int, list[str], list[str]]:
        """(change number now, keys stored or edited after ``since``, keys removed after
        it): what a stage keeping derived data reads instead of every item.  When the
        changes after ``since`` were dropped (see ``changes_read``): every stored key, as
        changed, and none removed: the reader has to read afresh."""
        ...

    def changes_kept(self, since: int) -> bool:
        """Whether the change log still holds every change after ``since``; False when
        some were dropped (a reader away too long): ``item_changes(since)`` then lists
        every stored key and no removal, so derived data that must lose what was removed
        is built afresh instead."""
        ...

    def changes_read(self, reader: str, mark: int, *, now: datetime | None = None) -> int:
        """``reader`` (a stage keeping derived data) has read the changes up to ``mark``
        and will ask for those after it next: record that, and drop from the change log
        what every reader has read.  Returns how many changes were dropped.  A stage that
        keeps a mark between runs says so after each run, or changes it has not read may
        be dropped.  A reader that has not said so for 30 days (``READER_GONE_AFTER``: a
        cron line that no longer runs it) is forgotten, so that the log does not grow
        with every item changed or pruned since; when it asks again, everything
        changed."""
        ...

    def items_count(self) -> int: ...

    # -- what a stage derives from the items and keeps between runs (a small document)
    def get_derived(self, name: str) -> str | None:
        """The document saved as ``name``, or None."""
        ...

    def put_derived(self, name: str, value: str) -> None:
        """Save ``value`` as ``name`` (replacing what was saved as it)."""
        ...

    def prune(
        self,
        *,
        retention_days: int,
        keep_latest: int,
        now: datetime,
        held: list[str] | None = None,
    ) -> int:
        """Delete the items the retention rule removes (``store/retention.py``); how
        many went.  An item whose rows another session holds (a worker frozen inside a
        transaction) is left for a later prune, its key added to ``held``."""
        ...


def mask_password(url: str) -> str:
    """``url`` without its password (the user, host, port and database stay)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def describe_location(location: str | os.PathLike[str]) -> str:
    """Which store ``location`` is, for people: the backend and where (no password)."""
    if is_postgres_url(location):
        return f"PostgreSQL {mask_password(str(location))}"
    return f"SQLite {location}"


def open_storage(
    location: str | os.PathLike[str],
    *,
    read_only: bool = False,
    lock_timeout: float | None = None,
) -> Storage:
    """The store at ``location``: a ``postgresql://user@host/db`` URL, or a SQLite file
    path (the default backend, nothing to install).  ``read_only``: for a command that
    only reads (``status``), as a user who may only read the store: nothing is made,
    migrated or written (a store of an earlier schema is an error saying so).
    ``lock_timeout`` (PostgreSQL only): seconds a statement waits for another session's
    lock before ``LockWaitTimeout``."""
    if is_postgres_url(location):
        from aggregator.store.postgres import PostgresStorage

        return PostgresStorage(str(location), read_only=read_only, lock_timeout=lock_timeout)
    from aggregator.store.sqlite import SQLiteStorage

    return SQLiteStorage(location, read_only=read_only)


def open_for_reading(location: str | os.PathLike[str]) -> Storage:
    """The store at ``location`` for a command that only reads it (``comment list``,
    ``store copy``'s source): read-only, so that it works on a store this user may only
    read (a backup mounted read-only, another user's store) and never waits for, nor
    holds up, a run writing it.  Only a store that is not there yet, or is of an earlier
    schema, is opened as a run opens it: made or upgraded (which needs a user who may
    write it), as it was before reading was read-only."""
    if is_postgres_url(location) or os.path.exists(location):
        try:
            return open_storage(location, read_only=True)
        except (StoreNotMade, StoreOutdated):
            pass
    return open_storage(location)


def postgres_lock(url: str, name: str) -> contextlib.AbstractContextManager[bool]:
    """``with postgres_lock(url, "run") as held:`` one holder at a time across every host
    using the database (a PostgreSQL advisory lock; released when the holder exits or
    dies)."""
    from aggregator.store.postgres import advisory_lock

    return advisory_lock(url, name)
