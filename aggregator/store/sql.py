"""What the two backends do alike, written once: every query whose rule is the same on
SQLite and PostgreSQL (sources, URL history, storing a fetch, reading items, pruning).

A backend subclasses ``SQLStorage`` and keeps only what is its own: the connection,
transactions and errors, how ``iter_items`` reads (SQLite streams a cursor, PostgreSQL
pages), leases, change marks and the locks PostgreSQL needs.  What differs in the SQL
itself is its ``Dialect``.  Queries here are written with psycopg's placeholders
(``%s``, ``%(name)s``); the SQLite dialect rewrites them to ``?`` and ``:name``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from aggregator.config import SourceConfig
from aggregator.models import (
    FetchPlan,
    HostHold,
    ItemText,
    ItemWrite,
    SeenItem,
    SourceState,
    StoredItem,
)
from aggregator.store import retention
from aggregator.store import rows as rowmap
from aggregator.store.errors import StorageError
from aggregator.store.rows import first_key, sha1
from aggregator.text.urls import canonical_url, is_site_root

__all__ = ["Dialect", "SQLStorage"]

# A change log reader that has not said how far it read for this long is forgotten: the
# log no longer keeps what it has not read, and when it comes back, everything changed.
READER_GONE_AFTER = timedelta(days=30)

_PYFORMAT = re.compile(r"%\((\w+)\)s|%s|%%")


@dataclass(frozen=True)
class Dialect:
    """What differs in the SQL of the two backends."""

    codec: rowmap.Codec  # how times, text and flags are stored
    # A list of values as one parameter: "{column} IN ... {param}" and the value passed.
    member_of: str
    list_value: Callable[[list[str]], Any]
    # The column that orders rows as they were inserted (SQLite's rowid, our seq).
    insertion_order: str
    # An item's source ids in the order they were attached, as one column.
    source_ids: str
    # Whether an upsert can say RETURNING (SQLite only from 3.35; we support older).
    upsert_returns: bool
    qmark: bool  # placeholders ? and :name instead of %s and %(name)s
    # After a SELECT: lock the rows it reads, leaving out those another session holds
    # (PostgreSQL; SQLite's writer holds the whole database: nothing to add).
    skip_locked: str = ""
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, query: str) -> str:
        """``query`` in this backend's placeholders."""
        if not self.qmark:
            return query
        done = self._cache.get(query)
        if done is None:
            done = _PYFORMAT.sub(_qmark, query)
            self._cache[query] = done
        return done

    def in_list(self, column: str, param: str = "%s") -> str:
        return self.member_of.format(column=column, param=param)


def _qmark(match: re.Match[str]) -> str:
    if match.group(1):
        return ":" + match.group(1)
    return "?" if match.group(0) == "%s" else "%"


class SQLStorage:
    """The rules both backends share.  A subclass sets ``dialect``, opens ``_db`` and
    provides ``close`` and the hooks below (which driver errors are about the store and
    what to say, transactions, how items are read, locks before dedupe)."""

    dialect: Dialect
    lock_timeout: float | None = None  # see Storage; PostgresStorage sets its own
    _db: Any  # the backend's connection: ``execute(query, params)`` -> a cursor

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    # -- hooks -----------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The driver's errors about the store become a ``StorageError`` that says what
        to do; the others (bad SQL, a violated constraint) are bugs and stay as they are."""
        try:
            yield
        except Exception as e:
            if not self._about_the_store(e):
                raise
            raise self._error(e) from e

    def _about_the_store(self, error: Exception) -> bool:
        """Whether ``error`` is about the store (unreachable, locked, damaged, full)."""
        raise NotImplementedError

    def _error(self, error: Exception) -> StorageError:
        """``error`` as a ``StorageError``: which store, what went wrong, what to do."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Any]:
        """One write transaction (with ``_errors``); yields a cursor."""
        raise NotImplementedError

    def _select_items(
        self,
        where: list[str],
        params: dict[str, Any],
        limit: int | None,
        newest_first: bool,
        texts: bool = False,
    ) -> Iterator[Any]:
        """The items matching ``where`` (conditions with ``params``), in order: as
        StoredItems, or with ``texts`` as ItemTexts."""
        raise NotImplementedError

    def _lock_links(self, cur: Any, links: set[str]) -> None:
        """Called before looking for stored articles with these canonical links, in the
        transaction that will insert them (PostgreSQL: other writers wait)."""

    # -- helpers ---------------------------------------------------------------------

    # The change log's rows a reader at mark %s will never ask for again.
    _CHANGES_READ_BY = ""
    # Log the keys in list %s as stored (one change row per key: its last change), in
    # the transaction that stores them; edits and removals are logged by triggers.
    _LOG_STORED: tuple[str, ...] = ()

    def changes_read(self, reader: str, mark: int, *, now: datetime | None = None) -> int:
        """See ``Storage.changes_read``."""
        sql = self.dialect.sql
        at = self.dialect.codec.time(now or datetime.now(UTC))
        gone = self.dialect.codec.time((now or datetime.now(UTC)) - READER_GONE_AFTER)
        with self._transaction() as cur:
            cur.execute(
                sql(
                    "INSERT INTO change_readers (reader, mark, read_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (reader) DO UPDATE SET mark = excluded.mark, "
                    "read_at = excluded.read_at"
                ),
                (reader, mark, at),
            )
            # Readers from before read_at was kept: their time starts now.
            cur.execute(sql("UPDATE change_readers SET read_at = %s WHERE read_at IS NULL"), (at,))
            # A reader that has not read for so long has stopped (or will rebuild): it
            # no longer keeps the log growing (item_changes tells it all changed).
            cur.execute(sql("DELETE FROM change_readers WHERE read_at < %s"), (gone,))
            cur.execute(sql("SELECT min(mark) FROM change_readers"))
            oldest = cur.fetchone()[0]
            read_by = self._CHANGES_READ_BY
            if self.dialect.skip_locked:
                # A row another session holds (a worker frozen inside a transaction that
                # changed that item) is dropped by a later reader, not waited for.
                read_by = (
                    f"key IN (SELECT key FROM item_changes WHERE {read_by}"
                    f"{self.dialect.skip_locked})"
                )
            cur.execute(sql(f"DELETE FROM item_changes WHERE {read_by}"), (oldest,))
            dropped = max(cur.rowcount, 0)
            cur.execute(
                sql(
                    "INSERT INTO change_log_dropped (id, mark) VALUES (1, %s) "
                    "ON CONFLICT (id) DO UPDATE SET mark = excluded.mark "
                    "WHERE change_log_dropped.mark < excluded.mark"
                ),
                (oldest,),
            )
            return dropped

    def changes_kept(self, since: int) -> bool:
        row = self._row("SELECT mark FROM change_log_dropped")
        return row is None or since >= row[0]

    def _changes_dropped_after(self, since: int) -> list[str] | None:
        """Every stored key, when changes after ``since`` may have been dropped from the
        log (a reader away longer than ``READER_GONE_AFTER``): it is told that everything
        changed, which makes every reader of ours read or build afresh; else None."""
        if self.changes_kept(since):
            return None
        return [key for (key,) in self._rows("SELECT key FROM items ORDER BY key")]

    def _rows(self, query: str, params: Any = ()) -> list[Any]:
        with self._errors():
            return self._db.execute(self.dialect.sql(query), params).fetchall()

    def _row(self, query: str, params: Any = ()) -> Any:
        with self._errors():
            return self._db.execute(self.dialect.sql(query), params).fetchone()

    # -- sources ---------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Make sure every configured source has a state.

        A source whose configured URL changed in feeds.yaml starts over from the new
        URL: any adopted redirect, validators and error state are dropped.  States of
        sources no longer configured are kept (their items still need them).
        """
        sql = self.dialect.sql
        # Most runs change nothing here: reading first spares them a write transaction
        # of two statements per source.  The writes keep their own conditions, so a
        # source another process registers meanwhile is left as it is.
        unsynced = set(self.unsynced_sources(sources))
        sources = [s for s in sources if s.id in unsynced]
        if not sources:
            return
        with self._transaction() as cur:
            cur.executemany(
                sql(
                    "INSERT INTO sources (id, url, configured_url) VALUES (%s, %s, %s) "
                    "ON CONFLICT (id) DO NOTHING"
                ),
                [(s.id, s.url, s.url) for s in sources],
            )
            cur.executemany(
                sql(
                    """
                    UPDATE sources SET
                        url = %(url)s, configured_url = %(url)s,
                        etag = NULL, last_modified = NULL, body_hash = NULL,
                        consecutive_failures = 0, last_error = NULL, last_error_at = NULL,
                        failing_since = NULL,
                        next_due = NULL, backoff_until = NULL, gone = FALSE,
                        min_interval_seconds = NULL
                    WHERE id = %(id)s AND configured_url <> %(url)s
                    """
                ),
                [{"url": s.url, "id": s.id} for s in sources],
            )

    def unsynced_sources(self, sources: Sequence[SourceConfig]) -> list[str]:
        """See ``Storage.unsynced_sources``."""
        stored = dict(self._rows("SELECT id, configured_url FROM sources"))
        return [s.id for s in sources if stored.get(s.id) != s.url]

    def get_source_state(self, source_id: str) -> SourceState | None:
        row = self._row(f"{_SELECT_SOURCE} WHERE id = %s", (source_id,))
        return rowmap.source_state(row, self.dialect.codec) if row else None

    def source_states(self, ids: Iterable[str] | None = None) -> list[SourceState]:
        """States of the given sources (those that exist), or of all, ordered by id."""
        query, params = _SELECT_SOURCE, ()
        if ids is not None:
            query += " WHERE " + self.dialect.in_list("id")
            params = (self.dialect.list_value(list(ids)),)
        rows = self._rows(query + " ORDER BY id", params)
        return [rowmap.source_state(row, self.dialect.codec) for row in rows]

    def save_source_state(self, state: SourceState) -> None:
        """Save every field of ``state`` except item_count, which the store keeps itself."""
        with self._transaction() as cur:
            self._save_state(cur, state)

    def save_source_states(self, states: Sequence[SourceState]) -> None:
        """``save_source_state`` for each of ``states``, in one transaction (a warm run
        saves a thousand states that differ only in their times): one statement for
        all, then their item counts in one query."""
        d = self.dialect
        with self._transaction() as cur:
            if d.upsert_returns:
                for state in states:
                    self._save_state(cur, state)
                return
            cur.executemany(d.sql(_UPSERT_SOURCE), [rowmap.source_row(s, d.codec) for s in states])
            cur.execute(
                d.sql("SELECT id, item_count FROM sources WHERE " + d.in_list("id")),
                (d.list_value([s.source_id for s in states]),),
            )
            counts = dict(cur.fetchall())
        for state in states:
            state.item_count = counts[state.source_id]

    def _save_state(self, cur: Any, state: SourceState) -> None:
        """Upsert ``state`` and read back the item count the store keeps."""
        d = self.dialect
        row = rowmap.source_row(state, d.codec)
        if d.upsert_returns:
            cur.execute(d.sql(_UPSERT_SOURCE + " RETURNING item_count"), row)
        else:
            cur.execute(d.sql(_UPSERT_SOURCE), row)
            cur.execute(d.sql("SELECT item_count FROM sources WHERE id = %s"), (state.source_id,))
        state.item_count = cur.fetchone()[0]

    def hold_host(self, hold: HostHold, now: datetime) -> None:
        """See ``Storage.hold_host``."""
        time = self.dialect.codec.time
        with self._transaction() as cur:
            cur.execute(
                self.dialect.sql("DELETE FROM host_holds WHERE held_until <= %s"), (time(now),)
            )
            cur.execute(
                self.dialect.sql(
                    "INSERT INTO host_holds (host, held_until, source_id, reason) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (host) DO UPDATE SET "
                    "held_until = excluded.held_until, source_id = excluded.source_id, "
                    "reason = excluded.reason WHERE host_holds.held_until < excluded.held_until"
                ),
                (hold.host, time(hold.until), hold.source_id, hold.reason),
            )

    def host_holds(self, now: datetime) -> dict[str, HostHold]:
        """See ``Storage.host_holds``."""
        codec = self.dialect.codec
        rows = self._rows(
            "SELECT host, held_until, source_id, reason FROM host_holds WHERE held_until > %s",
            (codec.time(now),),
        )
        return {
            host: HostHold(host, codec.read_time(until), source_id, reason)
            for host, until, source_id, reason in rows
        }

    def record_url_change(
        self, source_id: str, old: str, new: str, status: int, at: datetime
    ) -> None:
        """Remember that ``source_id`` moved from ``old`` to ``new`` (HTTP ``status``)."""
        with self._transaction() as cur:
            cur.execute(
                self.dialect.sql(
                    "INSERT INTO source_urls (source_id, old_url, new_url, status, at) "
                    "VALUES (%s, %s, %s, %s, %s)"
                ),
                (source_id, old, new, status, self.dialect.codec.time(at)),
            )

    def url_history(self, source_id: str) -> list[tuple[str, str, int, datetime]]:
        """(old, new, status, at) for every URL change of ``source_id``, oldest first."""
        rows = self._rows(
            "SELECT old_url, new_url, status, at FROM source_urls "
            f"WHERE source_id = %s ORDER BY at, {self.dialect.insertion_order}",
            (source_id,),
        )
        read = self.dialect.codec.read_time
        return [(old, new, status, read(at)) for old, new, status, at in rows]

    # -- one fetch -------------------------------------------------------------------

    def seen_items(self, source_id: str, item_ids: Iterable[str]) -> dict[str, SeenItem]:
        """What the store holds of the items ``source_id`` gave before, by item id."""
        d = self.dialect
        asked = {d.codec.text(i): i for i in item_ids}  # as stored (PostgreSQL: no NULs)
        rows = self._rows(
            "SELECT s.item_id, s.item_key, s.content_hash, i.published, "
            "i.published_original, i.first_seen "
            "FROM item_sources s JOIN items i ON i.key = s.item_key "
            f"WHERE s.source_id = %s AND {d.in_list('s.item_id')}",
            (source_id, d.list_value(list(asked))),
        )
        read, read_or_none = d.codec.read_time, d.codec.read_time_or_none
        return {
            asked[item_id]: SeenItem(
                key, source_hash, read(published), read_or_none(original), read(first)
            )
            for item_id, key, source_hash, published, original, first in rows
        }

    def stored_by_link(
        self, source_id: str, canonical_links: Iterable[str]
    ) -> dict[str, list[tuple[str, str, SeenItem]]]:
        """See ``Storage.stored_by_link``."""
        d = self.dialect
        links = sorted({d.codec.text(link) for link in canonical_links})
        if not links:
            return {}
        rows = self._rows(
            "SELECT i.canonical_link, s.item_id, i.title, s.item_key, s.content_hash, "
            "i.published, i.published_original, i.first_seen "
            "FROM items i JOIN item_sources s ON s.item_key = i.key "
            f"WHERE {d.in_list('i.canonical_link')} AND s.source_id = %s",
            (d.list_value(links), source_id),
        )
        read, read_or_none = d.codec.read_time, d.codec.read_time_or_none
        found: dict[str, list[tuple[str, str, SeenItem]]] = {}
        for link, item_id, title, key, source_hash, published, original, first in rows:
            seen = SeenItem(key, source_hash, read(published), read_or_none(original), read(first))
            found.setdefault(link, []).append((item_id, title, seen))
        return found

    def apply_fetch(self, plan: FetchPlan) -> None:
        """Carry out one decided fetch in one transaction (see ingest/decide.py).

        New items whose canonical link another source already stored are attached to
        that item (the same article syndicated elsewhere); ``plan.state.item_count`` is
        set to the source's new count.
        """
        d = self.dialect
        text = d.codec.text
        state = plan.state
        fetched = d.codec.time(plan.fetched_at)
        # The rows are built before the write lock is taken: other writers (the other
        # parse workers of a run) wait for the SQL only.
        fresh = [
            (
                w.item.id,
                rowmap.item_row(
                    w, first_key(state.source_id, w.item.id), self._canonical(w), fetched, d.codec
                ),
            )
            for w in plan.writes
            if w.kind == "new"
        ]
        changed = [w for w in plan.writes if w.kind == "changed"]
        changed_rows = [
            rowmap.item_row(w, _key(w), self._canonical(w), fetched, d.codec) for w in changed
        ]
        with self._transaction() as cur:
            # First, so that item_sources can refer to the source.
            cur.execute(d.sql(_UPSERT_SOURCE), rowmap.source_row(state, d.codec))
            if plan.renamed:  # before the writes, which name these items by their new ids
                cur.executemany(
                    d.sql(
                        "UPDATE item_sources SET item_id = %s WHERE source_id = %s AND item_id = %s"
                    ),
                    [(text(new), state.source_id, text(old)) for old, new in plan.renamed],
                )
            self._insert_fresh(cur, state.source_id, fresh, fetched)
            if changed:
                # keeps key, the first source's item id, first_seen
                cur.executemany(d.sql(_UPDATE_ITEM), changed_rows)
                cur.executemany(
                    d.sql(
                        "UPDATE item_sources SET content_hash = %s, last_seen = %s "
                        "WHERE source_id = %s AND item_id = %s"
                    ),
                    [(w.content_hash, fetched, state.source_id, text(w.item.id)) for w in changed],
                )
            unchanged = [text(w.item.id) for w in plan.writes if w.kind == "unchanged"]
            if unchanged:
                cur.execute(
                    d.sql(
                        "UPDATE item_sources SET last_seen = %s "
                        f"WHERE source_id = %s AND {d.in_list('item_id')}"
                    ),
                    (fetched, state.source_id, d.list_value(unchanged)),
                )
            cur.execute(
                d.sql(
                    "UPDATE sources SET item_count = (SELECT count(*) FROM item_sources "
                    "WHERE source_id = %(id)s), listed_at = %(listed)s WHERE id = %(id)s"
                ),
                # The items this fetch listed were last seen now (retention.py).
                {"id": state.source_id, "listed": fetched},
            )
            self._save_state(cur, state)

    def _canonical(self, write: ItemWrite) -> str | None:
        link = write.item.link
        return self.dialect.codec.text(canonical_url(link)) if link else None

    def _insert_fresh(
        self, cur: Any, source_id: str, fresh: Sequence[tuple[str, dict[str, Any]]], fetched: Any
    ) -> None:
        """Attach or insert items this source never gave before, in a few statements.

        ``fresh``: (item id, its row as rowmap.item_row makes it, keyed as if first stored
        here) for each.
        An item whose canonical link is already stored through *another* source is the
        same article: the source is attached to it.  Everything else is inserted under
        a new key.  One query finds the stored articles, two executemany calls write.
        Links to a site's root page are not used: some feeds give every entry the home
        page as its link.
        """
        if not fresh:
            return
        d = self.dialect
        links = [row["canonical_link"] for _, row in fresh]
        mergeable = {link for link in links if link and not is_site_root(link)}
        stored_as: dict[str, str] = {}
        if mergeable:
            self._lock_links(cur, mergeable)
            cur.execute(
                d.sql(
                    f"""
                    SELECT canonical_link, key FROM items i
                    WHERE {d.in_list("canonical_link")} AND NOT EXISTS
                        (SELECT 1 FROM item_sources WHERE item_key = i.key AND source_id = %s)
                    ORDER BY {d.insertion_order}
                    """
                ),
                (d.list_value(sorted(mergeable)), source_id),
            )
            for link, key in cur.fetchall():
                stored_as.setdefault(link, key)
        keys = [row["key"] for _, row in fresh]
        cur.execute(d.sql("SELECT key FROM items WHERE " + d.in_list("key")), (d.list_value(keys),))
        taken = {row[0] for row in cur.fetchall()}
        item_rows, source_rows = [], []
        for (item_id, row), link, key in zip(fresh, links, keys, strict=True):
            existing = stored_as.pop(link, None) if link in mergeable else None
            if existing is not None:  # the same article, stored through another source
                key = existing
            else:
                if key in taken:
                    key = row["key"] = self._new_key(cur, source_id, item_id, taken)
                taken.add(key)
                item_rows.append(row)
            source_rows.append((key, source_id, row["id"], fetched, fetched, row["content_hash"]))
        if item_rows:
            cur.executemany(d.sql(_INSERT_ITEM), item_rows)
        cur.executemany(d.sql(_INSERT_ITEM_SOURCE), source_rows)
        # Every key stored or attached to: one statement per batch, not a trigger per row.
        stored = d.list_value(list(dict.fromkeys(row[0] for row in source_rows)))
        for statement in self._LOG_STORED:
            cur.execute(d.sql(statement), (stored,))

    def _new_key(self, cur: Any, source_id: str, item_id: str, taken: set[str]) -> str:
        key = first_key(source_id, item_id)
        attempt = 0
        exists = self.dialect.sql("SELECT 1 FROM items WHERE key = %s")
        # Only a hash collision gets here (a pruned item's key is free again).
        while key in taken or cur.execute(exists, (key,)).fetchone():
            attempt += 1
            key = key[:8] + sha1(f"{source_id}\0{item_id}\0{attempt}")[:12]
        return key

    # -- items -----------------------------------------------------------------------

    def iter_items(
        self,
        *,
        source_ids: Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        key_range: tuple[str | None, str | None] | None = None,
    ) -> Iterator[StoredItem]:
        """Stored items, by (adjusted) published time then key.

        ``source_ids``: only items that arrived through any of these sources.
        ``since``: only items published at or after it.
        ``key_range``: only keys from its first (included) to its second (excluded).
        """
        d = self.dialect
        where: list[str] = []
        params: dict[str, Any] = {}
        if source_ids is not None:
            where.append(
                "i.key IN (SELECT item_key FROM item_sources WHERE "
                f"{d.in_list('source_id', '%(sources)s')})"
            )
            params["sources"] = d.list_value(list(source_ids))
        if since is not None:
            where.append("i.published >= %(since)s")
            params["since"] = d.codec.time(since)
        _key_range_where(key_range, where, params)
        return self._select_items(where, params, limit, newest_first)

    def iter_item_texts(
        self, *, key_range: tuple[str | None, str | None] | None = None
    ) -> Iterator[ItemText]:
        """What text analysis reads of each item, oldest first (see Storage)."""
        where: list[str] = []
        params: dict[str, Any] = {}
        _key_range_where(key_range, where, params)
        return self._select_items(where, params, None, False, texts=True)

    def item_key_bounds(self, parts: int) -> list[str]:
        """Keys splitting the items into ``parts`` nearly equal parts (see Storage)."""
        count = self.items_count()
        bounds: list[str] = []
        for k in range(1, parts):
            offset = k * count // parts
            if offset == 0:
                continue  # a part before the first key would be empty
            # The key index walks to the offset: no item is read.
            row = self._row("SELECT key FROM items ORDER BY key LIMIT 1 OFFSET %s", (offset,))
            if row is not None and (not bounds or row[0] > bounds[-1]):
                bounds.append(row[0])
        return bounds

    def _select_item_text(self) -> str:
        """The query of ``ItemText`` rows: published at the same place (6) as in
        :meth:`_select_item`'s (PostgreSQL pages by it)."""
        return (
            "SELECT i.key, i.title, i.link, i.summary, i.content, i.language, i.published, "
            f"i.categories, {self.dialect.source_ids} FROM items i"
        )

    def _select_item(self) -> str:
        """The query of whole items (``WHERE`` and ``ORDER BY`` to be added)."""
        return (
            "SELECT i.key, i.id, i.title, i.link, i.summary, i.content, i.published, "
            "i.updated, i.published_raw, i.updated_raw, i.authors, i.categories, "
            f"i.enclosures, i.language, i.first_seen, {self.dialect.source_ids} FROM items i"
        )

    def get_item(self, key: str) -> StoredItem | None:
        row = self._row(f"{self._select_item()} WHERE i.key = %s", (key,))
        return rowmap.stored_item(row, self.dialect.codec) if row else None

    def item_by_link(self, url: str) -> StoredItem | None:
        """The (first stored) item whose link has the same canonical form as ``url``."""
        d = self.dialect
        row = self._row(
            f"{self._select_item()} WHERE i.canonical_link = %s "
            f"ORDER BY i.{d.insertion_order} LIMIT 1",
            (d.codec.text(canonical_url(url)),),
        )
        return rowmap.stored_item(row, d.codec) if row else None

    def items_count(self) -> int:
        row = self._row("SELECT count(*) FROM items")
        return row[0] if row else 0

    def get_derived(self, name: str) -> str | None:
        row = self._row("SELECT value FROM derived WHERE name = %s", (name,))
        return row[0] if row else None

    def put_derived(self, name: str, value: str) -> None:
        with self._transaction() as cur:
            cur.execute(
                self.dialect.sql(
                    "INSERT INTO derived (name, value) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                ),
                (name, value),
            )

    def prune(
        self,
        *,
        retention_days: int,
        keep_latest: int,
        now: datetime,
        held: list[str] | None = None,
    ) -> int:
        """Delete items older than ``retention_days``; return how many were deleted.

        Kept regardless of age: the ``keep_latest`` newest items of each source, and
        items a feed still listed within the retention period, including those of its
        last listing while it answers that its feed has not changed (deleting those
        would only bring them back as new on the next fetch).  What goes is decided by
        ``store/retention.py``; this reads what it needs and deletes.

        An item whose rows another session holds (PostgreSQL: a worker frozen or cut off
        inside a transaction) is left for a later prune, not waited for; its key is
        added to ``held``.
        """
        d = self.dialect
        read, read_or_none = d.codec.read_time, d.codec.read_time_or_none
        limit = now - timedelta(days=retention_days)
        cutoff = d.codec.time(limit)
        held = [] if held is None else held
        with self._transaction() as cur:
            deleted = 0
            listed_by: set[str] = set()  # the sources of the items that may go
            # Most runs find no listing older than the cutoff (every item a feed still
            # lists was just seen) and read nothing more; a quiet feed's last listing is
            # read once it is older, and kept by its confirmations.
            cur.execute(d.sql(retention.OLD_LISTINGS), {"cutoff": cutoff})
            listings = [
                retention.Listing(key, source, read(published), read(seen), read_or_none(listed),
                                  read_or_none(confirmed))
                for key, source, published, seen, listed, confirmed in cur.fetchall()
            ]  # fmt: skip
            unlisted = retention.unlisted_since(listings, limit)
            if unlisted:
                listed_by = {s for ids in unlisted.values() for s in ids}
                gone = retention.expired(unlisted, self._newest(cur, listed_by, keep_latest))
                gone = self._lock_items(cur, gone, held)
                delete = (
                    f"DELETE FROM items WHERE {d.in_list('key', '%(keys)s')} "
                    f"AND {retention.STILL_UNLISTED}"
                )
                for start in range(0, len(gone), _DELETE_BATCH):
                    keys = d.list_value(gone[start : start + _DELETE_BATCH])
                    deleted += cur.execute(d.sql(delete), {"keys": keys, "cutoff": cutoff}).rowcount
            # Items no source refers to cannot be listed or updated: drop them too.  Every
            # listing names a stored item (a foreign key), so there are such items only
            # when there are more items than listed ones: two counts, not a lookup each.
            cur.execute(
                "SELECT (SELECT count(*) FROM items) "
                "> (SELECT count(DISTINCT item_key) FROM item_sources)"
            )
            hand_edited = cur.fetchone()[0]
            unreferred = "NOT EXISTS (SELECT 1 FROM item_sources s WHERE s.item_key = items.key)"
            if hand_edited and not d.skip_locked:
                deleted += cur.execute(f"DELETE FROM items WHERE {unreferred}").rowcount
            elif hand_edited:
                cur.execute(f"SELECT key FROM items WHERE {unreferred}")
                orphans = self._lock_items(cur, [row[0] for row in cur.fetchall()], held)
                delete = f"DELETE FROM items WHERE {d.in_list('key')} AND {unreferred}"
                for start in range(0, len(orphans), _DELETE_BATCH):
                    keys = d.list_value(orphans[start : start + _DELETE_BATCH])
                    deleted += cur.execute(d.sql(delete), (keys,)).rowcount
            # The counts of the sources whose items went (of every source after a hand
            # edit); only those that changed: a row written is a row locked (PostgreSQL).
            # A source row another session holds keeps its count until that source's
            # next stored fetch counts again.
            count = "(SELECT count(*) FROM item_sources WHERE source_id = sources.id)"
            recount = f"UPDATE sources SET item_count = {count} WHERE item_count <> {count}"
            which = "" if hand_edited else f" WHERE {d.in_list('id')}"
            if d.skip_locked:
                recount += f" AND id IN (SELECT id FROM sources{which}{d.skip_locked})"
            elif which:
                recount += f" AND {d.in_list('id')}"
            if hand_edited:
                cur.execute(recount)
            elif deleted:
                cur.execute(d.sql(recount), (d.list_value(sorted(listed_by)),))
        return deleted

    def _lock_items(self, cur: Any, keys: list[str], held: list[str]) -> list[str]:
        """Those of ``keys`` (items to delete) whose rows, and their listings' (which the
        delete removes with them), no other session holds, locked for this transaction;
        the others are added to ``held``.  SQLite: all of them (a writer holds the whole
        database)."""
        d = self.dialect
        if not d.skip_locked or not keys:
            return keys
        free: list[str] = []
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = d.list_value(keys[start : start + _DELETE_BATCH])
            cur.execute(f"SELECT key FROM items WHERE {d.in_list('key')}{d.skip_locked}", (batch,))
            got = d.list_value([row[0] for row in cur.fetchall()])
            # While their rows are locked here, no listing of them can be added.
            cur.execute(
                f"SELECT item_key, count(*) FROM item_sources WHERE {d.in_list('item_key')} "
                "GROUP BY item_key",
                (got,),
            )
            listings = dict(cur.fetchall())
            cur.execute(
                f"SELECT item_key FROM item_sources WHERE {d.in_list('item_key')}{d.skip_locked}",
                (got,),
            )
            locked = Counter(row[0] for row in cur.fetchall())
            free.extend(key for key in got if locked[key] == listings.get(key, 0))
        taken = set(free)
        held.extend(key for key in keys if key not in taken)
        return free

    def _newest(self, cur: Any, source_ids: set[str], keep_latest: int) -> dict[str, set[str]]:
        """The keys of the ``keep_latest`` newest items of each of ``source_ids``."""
        if keep_latest <= 0:
            return {}
        d = self.dialect
        cur.execute(
            d.sql(
                f"""
                SELECT source_id, item_key FROM (
                    SELECT s.source_id, s.item_key, row_number() OVER (
                        PARTITION BY s.source_id ORDER BY i.published DESC, i.key DESC
                    ) AS n
                    FROM item_sources s JOIN items i ON i.key = s.item_key
                    WHERE {d.in_list("s.source_id", "%(sources)s")}
                ) ranked WHERE n <= %(keep)s
                """
            ),
            {"sources": d.list_value(sorted(source_ids)), "keep": keep_latest},
        )
        newest: dict[str, set[str]] = {}
        for source_id, key in cur.fetchall():
            newest.setdefault(source_id, set()).add(key)
        return newest


def _key(write: ItemWrite) -> str:
    assert write.key is not None, "a changed item keeps its stored key"
    return write.key


# -- the queries both backends run as they are ----------------------------------------

_SELECT_SOURCE = f"SELECT {', '.join(rowmap.SOURCE_COLUMNS)} FROM sources"
_UPSERT_SOURCE = (
    f"INSERT INTO sources ({', '.join(rowmap.SAVED_SOURCE_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({c})s' for c in rowmap.SAVED_SOURCE_COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in rowmap.SAVED_SOURCE_COLUMNS if c != "id")
)
_INSERT_ITEM = (
    f"INSERT INTO items ({', '.join(rowmap.ITEM_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({c})s' for c in rowmap.ITEM_COLUMNS)})"
)
_UPDATE_ITEM = (
    "UPDATE items SET "
    + ", ".join(
        f"{c} = %({c})s" for c in rowmap.ITEM_COLUMNS if c not in ("key", "id", "first_seen")
    )
    + " WHERE key = %(key)s"
)
_DELETE_BATCH = 500
_INSERT_ITEM_SOURCE = (
    "INSERT INTO item_sources (item_key, source_id, item_id, first_seen, last_seen, "
    "content_hash) VALUES (%s, %s, %s, %s, %s, %s)"
)


def _key_range_where(
    key_range: tuple[str | None, str | None] | None, where: list[str], params: dict[str, Any]
) -> None:
    """The conditions (into ``where``, ``params``) of keys from ``key_range``'s first
    (included) up to its second (excluded); None: that side is open."""
    low, high = key_range or (None, None)
    if low is not None:
        where.append("i.key >= %(key_low)s")
        params["key_low"] = low
    if high is not None:
        where.append("i.key < %(key_high)s")
        params["key_high"] = high
