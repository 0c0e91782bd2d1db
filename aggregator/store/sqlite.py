"""SQLite store: the schema (defined once, in ``_MIGRATIONS``), migrations and every query.

Design notes:

- One file, WAL mode, ``synchronous=NORMAL``: a process killed at any moment loses at
  most the transaction in flight, and every transaction leaves the store consistent,
  so the next open simply carries on.
- Every write that belongs together is one ``BEGIN IMMEDIATE ... COMMIT`` (rolled back
  on any error), so readers (publish) never see half a fetch.
- Times are stored as fixed-width ISO 8601 text in UTC
  (``2024-05-01T09:30:00.000000+00:00``), which sorts correctly as text and stays
  readable in the ``sqlite3`` shell.
- An item's key is 20 hex digits derived from the (source id, item id) pair that first
  stored it: ``sha1(source_id)[:8] + sha1(source_id + "\\0" + item_id)[:12]``.  It is
  stored, never recomputed, so it stays the same in every run and every output; and
  an item pruned and seen again gets its old key back.  The per-source prefix keeps
  a fetch's new keys next to each other in the indexes, which keeps commits small.
- Item dedupe: an item is the one already stored for (source id, item id); failing
  that, an item *another* source stored with the same canonical link
  (``urls.canonical_url``) -- the same article syndicated elsewhere; failing that,
  a new item.  Links to a site's root page are not used for dedupe: some feeds give
  every entry the home page as its link.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aggregator.config import SourceConfig
from aggregator.models import (
    FetchPlan,
    ItemWrite,
    SeenItem,
    SourceState,
    StoredItem,
)
from aggregator.store import rows as rowmap
from aggregator.store import schema
from aggregator.store.errors import StorageError
from aggregator.store.rows import first_key, json_text, sha1
from aggregator.text.urls import canonical_url

__all__ = ["SQLiteStorage"]

_BUSY_TIMEOUT_MS = 10_000
_WAL_AUTOCHECKPOINT_PAGES = 8192  # of 4 KiB
_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


class SQLiteStorage:
    """The aggregator's store in one SQLite file (the default backend).

    Not for concurrent use from several threads at once; other processes may read
    (and wait to write) at the same time.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(
                f"cannot create the directory for the store {self.path}: {e.strerror}; "
                "check the storage.path setting and the directory's permissions"
            ) from e
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves.
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise self._error(e) from e
        try:
            self._setup()
        except BaseException:
            self._db.close()
            raise

    @property
    def location(self) -> str:
        return str(self.path.resolve())

    def __enter__(self) -> SQLiteStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with suppress(sqlite3.Error):  # only a query-planner hint; closing matters more
            self._db.execute("PRAGMA optimize")
        self._db.close()

    # -- opening and migrating -------------------------------------------------------

    def _setup(self) -> None:
        with self._errors():
            db = self._db
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            # The first statement that reads the file: "not a database" shows up here.
            db.execute("PRAGMA journal_mode = WAL").fetchone()
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a damaged schema
            db.execute("PRAGMA synchronous = NORMAL")
            # A cold run writes tens of MB; checkpointing every 4 MB (the default) rewrote
            # the same index pages again and again and made commits as costly as the
            # writes themselves.  The WAL may grow to 32 MB, and is cut back after.
            db.execute(f"PRAGMA wal_autocheckpoint = {_WAL_AUTOCHECKPOINT_PAGES}")
            db.execute(f"PRAGMA journal_size_limit = {_JOURNAL_SIZE_LIMIT}")
            version = self._user_version()
            self._check_version(version)
            if version < len(schema.SQLITE_MIGRATIONS):
                self._migrate()

    def _user_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _check_version(self, version: int) -> None:
        if version > len(schema.SQLITE_MIGRATIONS):
            raise StorageError(
                f"{self.path} was written by a newer version of aggregator "
                f"(store schema {version}, this version knows up to {len(schema.SQLITE_MIGRATIONS)}); "
                "upgrade aggregator to use it"
            )

    def _migrate(self) -> None:
        with self._transaction():
            # Read again under the write lock: another process may have just migrated.
            version = self._user_version()
            self._check_version(version)
            for number, script in enumerate(schema.SQLITE_MIGRATIONS[version:], start=version + 1):
                for statement in schema.split_sql(script):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    # -- errors and transactions -----------------------------------------------------

    def _error(self, e: sqlite3.Error) -> StorageError:
        message = str(e)
        if "locked" in message or "busy" in message:
            hint = "another process is writing to it; try again when it has finished"
        elif "not a database" in message or "malformed" in message or "corrupt" in message:
            hint = (
                "the file is not a SQLite database or is damaged; move it aside "
                "(a new, empty store is created in its place) or restore it from a backup"
            )
        elif "unable to open" in message or "readonly" in message:
            hint = "check the storage.path setting and the file's permissions"
        elif "full" in message:
            hint = "free some disk space"
        else:
            hint = "if this persists, check the file with `sqlite3 FILE 'PRAGMA integrity_check'`"
        return StorageError(f"store {self.path}: {message}: {hint}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        # Programming errors (ProgrammingError, IntegrityError...) are bugs: let them out.
        try:
            yield
        except (sqlite3.OperationalError, sqlite3.NotSupportedError) as e:
            raise self._error(e) from e
        except sqlite3.DatabaseError as e:
            if type(e) is not sqlite3.DatabaseError:
                raise
            raise self._error(e) from e

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- sources ---------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Make sure every configured source has a state.

        A source whose configured URL changed in feeds.yaml starts over from the new
        URL: any adopted redirect, validators and error state are dropped.  States of
        sources no longer configured are kept (their items still need them).
        """
        with self._transaction() as db:
            for source in sources:
                row = db.execute(
                    "SELECT configured_url FROM sources WHERE id = ?", (source.id,)
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO sources (id, url, configured_url) VALUES (?, ?, ?)",
                        (source.id, source.url, source.url),
                    )
                elif row[0] != source.url:
                    db.execute(
                        """
                        UPDATE sources SET
                            url = :url, configured_url = :url,
                            etag = NULL, last_modified = NULL, body_hash = NULL,
                            consecutive_failures = 0, last_error = NULL, last_error_at = NULL,
                            next_due = NULL, backoff_until = NULL, gone = 0,
                            min_interval_seconds = NULL
                        WHERE id = :id
                        """,
                        {"url": source.url, "id": source.id},
                    )

    def get_source_state(self, source_id: str) -> SourceState | None:
        with self._errors():
            row = self._db.execute(f"{_SELECT_SOURCE} WHERE id = ?", (source_id,)).fetchone()
        return rowmap.source_state(row, _CODEC) if row else None

    def source_states(self, ids: Iterable[str] | None = None) -> list[SourceState]:
        """States of the given sources (those that exist), or of all, ordered by id."""
        query = _SELECT_SOURCE
        params: tuple[Any, ...] = ()
        if ids is not None:
            query += " WHERE id IN (SELECT value FROM json_each(?))"
            params = (json.dumps(list(ids)),)
        with self._errors():
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [rowmap.source_state(row, _CODEC) for row in rows]

    def save_source_state(self, state: SourceState) -> None:
        """Save every field of ``state`` except item_count, which the store keeps itself."""
        with self._transaction() as db:
            self._save_state(db, state)

    def save_source_states(self, states: Sequence[SourceState]) -> None:
        """``save_source_state`` for each of ``states``, in one transaction (a warm run
        saves a thousand states that differ only in their times)."""
        with self._transaction() as db:
            for state in states:
                self._save_state(db, state)

    def _save_state(self, db: sqlite3.Connection, state: SourceState) -> None:
        db.execute(_UPSERT_SOURCE, rowmap.source_row(state, _CODEC))
        state.item_count = db.execute(
            "SELECT item_count FROM sources WHERE id = ?", (state.source_id,)
        ).fetchone()[0]

    def record_url_change(
        self, source_id: str, old: str, new: str, status: int, at: datetime
    ) -> None:
        """Remember that ``source_id`` moved from ``old`` to ``new`` (HTTP ``status``)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO source_urls (source_id, old_url, new_url, status, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (source_id, old, new, status, _ts(at)),
            )

    def url_history(self, source_id: str) -> list[tuple[str, str, int, datetime]]:
        """(old, new, status, at) for every URL change of ``source_id``, oldest first."""
        with self._errors():
            rows = self._db.execute(
                "SELECT old_url, new_url, status, at FROM source_urls "
                "WHERE source_id = ? ORDER BY at, rowid",
                (source_id,),
            ).fetchall()
        return [(old, new, status, _dt(at)) for old, new, status, at in rows]

    # -- leases ----------------------------------------------------------------------

    def lease(
        self,
        source_ids: Sequence[str],
        *,
        holder: str,
        seconds: float,
        limit: int | None = None,
        due_at: datetime | None = None,
    ) -> list[SourceState]:
        """Every asked source (due at ``due_at``, when given), up to ``limit``: a SQLite
        store has one host and one run at a time (the run lock), so nothing is leased
        for real; fetch workers need PostgreSQL."""
        states = self.source_states(source_ids)
        if due_at is not None:
            states = [
                s
                for s in states
                if not s.gone
                and (s.backoff_until is None or s.backoff_until <= due_at)
                and (s.next_due is None or s.next_due <= due_at)
            ]
        return states if limit is None else states[:limit]

    def renew(self, source_ids: Sequence[str], *, holder: str, seconds: float) -> list[str]:
        """Nothing to renew: every lease holds (see :meth:`lease`)."""
        return sorted(source_ids)

    def release(self, source_ids: Iterable[str], *, holder: str) -> None:
        """Nothing to release (see :meth:`lease`)."""

    # -- items -----------------------------------------------------------------------

    def seen_items(self, source_id: str, item_ids: Iterable[str]) -> dict[str, SeenItem]:
        """What the store holds of the items ``source_id`` gave before, by item id."""
        ids = json.dumps(list(item_ids), ensure_ascii=False)
        with self._errors():
            rows = self._db.execute(
                f"{_SELECT_SEEN} AND s.item_id IN (SELECT value FROM json_each(?))",
                (source_id, ids),
            ).fetchall()
        return {
            item_id: SeenItem(key, source_hash, _dt(published), _dt_or_none(original), _dt(first))
            for item_id, key, source_hash, published, original, first in rows
        }

    def apply_fetch(self, plan: FetchPlan) -> None:
        """Carry out one decided fetch in one transaction (see ingest/decide.py).

        New items whose canonical link another source already stored are attached to
        that item (the same article syndicated elsewhere); ``plan.state.item_count`` is
        set to the source's new count.
        """
        state = plan.state
        fetched = _ts(plan.fetched_at)
        with self._transaction() as db:
            # First, so that item_sources can refer to the source.
            db.execute(_UPSERT_SOURCE, rowmap.source_row(state, _CODEC))
            fresh = [w for w in plan.writes if w.kind == "new"]
            self._insert_fresh(db, state.source_id, fresh, fetched)
            for write in plan.writes:
                if write.kind == "changed":
                    self._update_item(db, state.source_id, write, fetched)
            db.executemany(
                "UPDATE item_sources SET last_seen = ? WHERE source_id = ? AND item_id = ?",
                [
                    (fetched, state.source_id, w.item.id)
                    for w in plan.writes
                    if w.kind == "unchanged"
                ],
            )
            db.execute(
                "UPDATE sources SET item_count = "
                "(SELECT count(*) FROM item_sources WHERE source_id = :id) WHERE id = :id",
                {"id": state.source_id},
            )
            self._save_state(db, state)

    def _insert_fresh(
        self,
        db: sqlite3.Connection,
        source_id: str,
        fresh: Sequence[ItemWrite],
        fetched: str,
    ) -> None:
        """Attach or insert items this source never gave before, in a few statements.

        An item whose canonical link is already stored through *another* source is the
        same article: the source is attached to it.  Everything else is inserted under
        a new key.  One query finds the stored articles, two executemany calls write.
        """
        if not fresh:
            return
        links = [canonical_url(w.item.link) if w.item.link else None for w in fresh]
        mergeable = {link for link in links if link and urlsplit(link).path not in ("", "/")}
        stored_as: dict[str, str] = {}
        if mergeable:
            rows = db.execute(
                """
                SELECT canonical_link, key FROM items i
                WHERE canonical_link IN (SELECT value FROM json_each(?)) AND NOT EXISTS
                    (SELECT 1 FROM item_sources WHERE item_key = i.key AND source_id = ?)
                ORDER BY rowid
                """,
                (json_text(sorted(mergeable)), source_id),
            )
            for link, key in rows:
                stored_as.setdefault(link, key)
        keys = [first_key(source_id, w.item.id) for w in fresh]
        taken = {
            row[0]
            for row in db.execute(
                "SELECT key FROM items WHERE key IN (SELECT value FROM json_each(?))",
                (json_text(keys),),
            )
        }
        item_rows, source_rows = [], []
        for write, link, key in zip(fresh, links, keys, strict=True):
            existing = stored_as.pop(link, None) if link in mergeable else None
            if existing is not None:  # the same article, stored through another source
                key = existing
            else:
                if key in taken:
                    key = self._new_key(db, source_id, write.item.id, taken)
                taken.add(key)
                item_rows.append(rowmap.item_row(write, key, link, fetched, _CODEC))
            source_rows.append(
                (key, source_id, write.item.id, fetched, fetched, write.content_hash)
            )
        db.executemany(_INSERT_ITEM, item_rows)
        db.executemany(_INSERT_ITEM_SOURCE, source_rows)

    def _new_key(
        self, db: sqlite3.Connection, source_id: str, item_id: str, taken: Iterable[str] = ()
    ) -> str:
        key = first_key(source_id, item_id)
        attempt = 0
        # Only a hash collision gets here (a pruned item's key is free again).
        while key in taken or db.execute("SELECT 1 FROM items WHERE key = ?", (key,)).fetchone():
            attempt += 1
            key = key[:8] + sha1(f"{source_id}\0{item_id}\0{attempt}")[:12]
        return key

    def _update_item(
        self, db: sqlite3.Connection, source_id: str, write: ItemWrite, fetched: str
    ) -> None:
        link = canonical_url(write.item.link) if write.item.link else None
        assert write.key is not None
        row = rowmap.item_row(write, write.key, link, fetched, _CODEC)
        db.execute(_UPDATE_ITEM, row)  # keeps key, the first source's item id, first_seen
        db.execute(
            "UPDATE item_sources SET content_hash = ?, last_seen = ? "
            "WHERE source_id = ? AND item_id = ?",
            (write.content_hash, fetched, source_id, write.item.id),
        )

    def iter_items(
        self,
        *,
        source_ids: Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> Iterator[StoredItem]:
        """Stored items, by (adjusted) published time then key, streamed from a cursor.

        ``source_ids``: only items that arrived through any of these sources.
        ``since``: only items published at or after it.
        """
        where: list[str] = []
        params: list[Any] = []
        if source_ids is not None:
            where.append(
                "i.key IN (SELECT item_key FROM item_sources "
                "WHERE source_id IN (SELECT value FROM json_each(?)))"
            )
            params.append(json.dumps(list(source_ids)))
        if since is not None:
            where.append("i.published >= ?")
            params.append(_ts(since))
        query = _SELECT_ITEM
        if where:
            query += " WHERE " + " AND ".join(where)
        direction = "DESC" if newest_first else "ASC"
        query += f" ORDER BY i.published {direction}, i.key {direction}"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        return self._stream(query, params)

    def _stream(self, query: str, params: Sequence[Any]) -> Iterator[StoredItem]:
        with self._errors():
            cursor = self._db.execute(query, params)
            try:
                while rows := cursor.fetchmany(500):
                    for row in rows:
                        yield rowmap.stored_item(row, _CODEC)
            finally:
                cursor.close()

    def get_item(self, key: str) -> StoredItem | None:
        with self._errors():
            row = self._db.execute(f"{_SELECT_ITEM} WHERE i.key = ?", (key,)).fetchone()
        return rowmap.stored_item(row, _CODEC) if row else None

    def item_by_link(self, url: str) -> StoredItem | None:
        """The (first stored) item whose link has the same canonical form as ``url``."""
        with self._errors():
            row = self._db.execute(
                f"{_SELECT_ITEM} WHERE i.canonical_link = ? ORDER BY i.rowid LIMIT 1",
                (canonical_url(url),),
            ).fetchone()
        return rowmap.stored_item(row, _CODEC) if row else None

    def item_changes(self, since: int | None) -> tuple[int, list[str], list[str]]:
        """(the store's change number now, keys stored or edited after change ``since``,
        keys removed after it); ``since=None``: only the number (nothing listed)."""
        with self._errors():
            now = self._db.execute("SELECT coalesce(max(seq), 0) FROM item_changes").fetchone()[0]
            if since is None:
                return now, [], []
            rows = self._db.execute(
                "SELECT key, removed FROM item_changes WHERE seq > ? AND seq <= ? ORDER BY seq",
                (since, now),
            ).fetchall()
        return now, [k for k, r in rows if not r], [k for k, r in rows if r]

    def items_count(self) -> int:
        with self._errors():
            return self._db.execute("SELECT count(*) FROM items").fetchone()[0]

    def prune(self, *, retention_days: int, keep_latest: int, now: datetime) -> int:
        """Delete items older than ``retention_days``; return how many were deleted.

        Kept regardless of age: the ``keep_latest`` newest items of each source, and
        items a feed still listed within the retention period (deleting those would
        only bring them back as new on the next fetch).
        """
        cutoff = _ts(now - timedelta(days=retention_days))
        with self._transaction() as db:
            deleted = db.execute(
                """
                DELETE FROM items
                WHERE published < :cutoff
                AND NOT EXISTS (
                    SELECT 1 FROM item_sources WHERE item_key = items.key AND last_seen >= :cutoff
                )
                AND key NOT IN (
                    SELECT item_key FROM (
                        SELECT s.item_key, row_number() OVER (
                            PARTITION BY s.source_id ORDER BY i.published DESC, i.key DESC
                        ) AS n
                        FROM item_sources s JOIN items i ON i.key = s.item_key
                    ) WHERE n <= :keep
                )
                """,
                {"cutoff": cutoff, "keep": keep_latest},
            ).rowcount
            # Items no source refers to cannot be listed or updated: drop them too.
            deleted += db.execute(
                "DELETE FROM items WHERE key NOT IN (SELECT item_key FROM item_sources)"
            ).rowcount
            db.execute(
                "UPDATE sources SET item_count = "
                "(SELECT count(*) FROM item_sources WHERE source_id = sources.id)"
            )
        return deleted


# -- rows <-> types -------------------------------------------------------------------

_SELECT_SOURCE = f"SELECT {', '.join(rowmap.SOURCE_COLUMNS)} FROM sources"
_UPSERT_SOURCE = (
    f"INSERT INTO sources ({', '.join(rowmap.SAVED_SOURCE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in rowmap.SAVED_SOURCE_COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in rowmap.SAVED_SOURCE_COLUMNS if c != "id")
)


_INSERT_ITEM = (
    f"INSERT INTO items ({', '.join(rowmap.ITEM_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in rowmap.ITEM_COLUMNS)})"
)
_UPDATE_ITEM = (
    "UPDATE items SET "
    + ", ".join(f"{c} = :{c}" for c in rowmap.ITEM_COLUMNS if c not in ("key", "id", "first_seen"))
    + " WHERE key = :key"
)
_SELECT_ITEM = (
    "SELECT i.key, i.id, i.title, i.link, i.summary, i.content, i.published, i.updated, "
    "i.published_raw, i.updated_raw, i.authors, i.categories, i.enclosures, i.language, "
    "i.first_seen, "
    # source ids in the order they were attached (rowid order of item_sources)
    "(SELECT json_group_array(source_id) FROM "
    "(SELECT source_id FROM item_sources WHERE item_key = i.key ORDER BY rowid)) "
    "FROM items i"
)
_INSERT_ITEM_SOURCE = (
    "INSERT INTO item_sources (item_key, source_id, item_id, first_seen, last_seen, "
    "content_hash) VALUES (?, ?, ?, ?, ?, ?)"
)
_SELECT_SEEN = (
    "SELECT s.item_id, s.item_key, s.content_hash, i.published, i.published_original, "
    "i.first_seen FROM item_sources s JOIN items i ON i.key = s.item_key "
    "WHERE s.source_id = ?"
)


# -- small helpers --------------------------------------------------------------------


def _ts(dt: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that text order is time order."""
    if dt.tzinfo is None:  # the contract is aware UTC; don't let local time creep in
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _ts_or_none(dt: datetime | None) -> str | None:
    return None if dt is None else _ts(dt)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _dt_or_none(text: str | None) -> datetime | None:
    return None if text is None else _dt(text)


_CODEC = rowmap.Codec(time=_ts, read_time=_dt, flag=int, source_ids=json.loads)
