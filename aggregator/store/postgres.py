"""PostgreSQL store: the same tables, keys and rules as the SQLite backend, for a store
shared by several processes on several hosts (fetch workers, publish by cron).

Design notes (sqlite.py's notes on keys, dedupe and times hold here too):

- The location is a libpq URL, ``postgresql://user@host:port/db``.  A password may be
  in the URL, in ``PGPASSWORD`` or in ``~/.pgpass`` (libpq reads the last two); it is
  never part of ``location`` or of a message.
- The connection runs in autocommit; every write that belongs together is one
  transaction, so readers never see half a fetch.
- Two fetches of different sources may store the same article at the same moment.
  Dedupe by canonical link has to see the other's insert, so inserting new items takes
  transaction-scoped advisory locks on the links' hashes (sorted: no deadlocks) and
  commits before they are released; a later fetch then finds the stored item.
- ``iter_items`` pages by (published, key) instead of holding a server-side cursor open,
  so a long publish holds no transaction and no locks on a store that workers write.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from aggregator.config import SourceConfig
from aggregator.models import (
    FetchPlan,
    ItemWrite,
    SeenItem,
    SourceState,
    StoredItem,
)
from aggregator.store import mask_password, schema
from aggregator.store import rows as rowmap
from aggregator.store.errors import StorageError
from aggregator.store.rows import first_key, sha1
from aggregator.text.urls import canonical_url

__all__ = ["PostgresStorage", "advisory_lock"]

# The first argument of two-key advisory locks: ours, apart from other applications'.
LOCK_SPACE = 0x61676772  # "aggr"
_MIGRATION_LOCK = 0
_LINK_LOCKS = 1  # first key LOCK_SPACE + 1; second: a canonical link's hash bucket
_NAMED_LOCKS = 2  # first key LOCK_SPACE + 2; second: a hash of the name ("run")
_LINK_BUCKETS = 1 << 20
_MAX_LINK_LOCKS = 256  # more links than this in one fetch: one lock for every link
_PAGE = 1000  # iter_items page size


@contextmanager
def advisory_lock(url: str, name: str) -> Iterator[bool]:
    """Try to hold the advisory lock ``name`` of the database at ``url``: yields whether
    this process got it.  Held by a connection of its own, so a killed holder's lock
    goes with its session (the server notices the closed socket)."""
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as e:
        raise StorageError(f"store {mask_password(url)}: {e}".strip()) from e
    try:
        # Advisory locks are the database's: the schema in the name keeps stores in
        # different schemas of one database apart.
        row = db.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s || '/' || current_schema()))",
            (LOCK_SPACE + _NAMED_LOCKS, name),
        ).fetchone()
        yield bool(row and row[0])
    finally:
        db.close()


class PostgresStorage:
    """The aggregator's store in a PostgreSQL database.

    One connection; not for concurrent use from several threads.  Any number of
    processes on any hosts may use the same database at once.
    """

    def __init__(self, url: str):
        self.url = url
        self._location = mask_password(url)
        password = urlsplit(url).password
        if password is not None:
            # Worker processes reopen the store from ``location``, which carries no
            # password: they find it where libpq looks, as if the user had set it.
            os.environ.setdefault("PGPASSWORD", unquote(password))
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:
            raise self._error(e) from e
        try:
            with self._errors():
                self._db.execute("SET TIME ZONE 'UTC'")
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    @property
    def location(self) -> str:
        return self._location

    def __enter__(self) -> PostgresStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- opening and migrating -------------------------------------------------------

    def _migrate(self) -> None:
        db = self._db
        if self._version() == schema.SCHEMA_VERSION:
            return
        with db.transaction():
            # One migrating process at a time; the others wait, then find it done.
            db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, _MIGRATION_LOCK))
            db.execute("CREATE TABLE IF NOT EXISTS aggregator_schema (version INTEGER NOT NULL)")
            version = self._version() or 0
            self._check_version(version)
            for number, script in enumerate(
                schema.POSTGRES_MIGRATIONS[version:], start=version + 1
            ):
                db.execute(script)
                db.execute("DELETE FROM aggregator_schema")
                db.execute("INSERT INTO aggregator_schema (version) VALUES (%s)", (number,))

    def _version(self) -> int | None:
        row = self._db.execute("SELECT to_regclass('aggregator_schema') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return None
        row = self._db.execute("SELECT max(version) FROM aggregator_schema").fetchone()
        version = row[0] if row and row[0] is not None else 0
        self._check_version(version)
        return version

    def _check_version(self, version: int) -> None:
        if version > len(schema.POSTGRES_MIGRATIONS):
            raise StorageError(
                f"{self._location} was written by a newer version of aggregator "
                f"(store schema {version}, this version knows up to "
                f"{len(schema.POSTGRES_MIGRATIONS)}); upgrade aggregator to use it"
            )

    # -- errors and transactions -----------------------------------------------------

    def _error(self, e: psycopg.Error) -> StorageError:
        message = str(e).strip().replace(self.url, self._location)
        password = urlsplit(self.url).password
        if password:
            message = message.replace(password, "***")
        if isinstance(e, psycopg.OperationalError):
            hint = (
                "check that the server runs and accepts connections, and the user, "
                "database and password (in the URL, PGPASSWORD or ~/.pgpass)"
            )
        elif isinstance(e, psycopg.errors.InsufficientPrivilege):
            hint = "grant the user the rights to create and write tables in this database"
        else:
            hint = "if this persists, ask the database's administrator to check the server log"
        return StorageError(f"store {self._location}: {message}: {hint}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        # Programming errors (bad SQL, violated constraints) are bugs: let them out.
        try:
            yield
        except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege) as e:
            raise self._error(e) from e

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self._errors(), self._db.transaction():
            yield self._db

    # -- sources ---------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Every configured source gets a state; a changed URL starts it over (see the
        SQLite backend for the rules)."""
        with self._transaction() as db, db.cursor() as cur:
            cur.executemany(
                "INSERT INTO sources (id, url, configured_url) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                [(s.id, s.url, s.url) for s in sources],
            )
            cur.executemany(
                """
                UPDATE sources SET
                    url = %(url)s, configured_url = %(url)s,
                    etag = NULL, last_modified = NULL, body_hash = NULL,
                    consecutive_failures = 0, last_error = NULL, last_error_at = NULL,
                    next_due = NULL, backoff_until = NULL, gone = FALSE,
                    min_interval_seconds = NULL
                WHERE id = %(id)s AND configured_url <> %(url)s
                """,
                [{"url": s.url, "id": s.id} for s in sources],
            )

    def get_source_state(self, source_id: str) -> SourceState | None:
        with self._errors():
            row = self._db.execute(f"{_SELECT_SOURCE} WHERE id = %s", (source_id,)).fetchone()
        return rowmap.source_state(row, _CODEC) if row else None

    def source_states(self, ids: Iterable[str] | None = None) -> list[SourceState]:
        """States of the given sources (those that exist), or of all, ordered by id."""
        query, params = _SELECT_SOURCE, ()
        if ids is not None:
            query += " WHERE id = ANY(%s)"
            params = (list(ids),)
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

    def _save_state(self, db: psycopg.Connection, state: SourceState) -> None:
        row = db.execute(_UPSERT_SOURCE, rowmap.source_row(state, _CODEC)).fetchone()
        assert row is not None
        state.item_count = row[0]

    def record_url_change(
        self, source_id: str, old: str, new: str, status: int, at: datetime
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO source_urls (source_id, old_url, new_url, status, at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (source_id, old, new, status, _utc(at)),
            )

    def url_history(self, source_id: str) -> list[tuple[str, str, int, datetime]]:
        with self._errors():
            rows = self._db.execute(
                "SELECT old_url, new_url, status, at FROM source_urls "
                "WHERE source_id = %s ORDER BY at, seq",
                (source_id,),
            ).fetchall()
        return [(old, new, status, _utc(at)) for old, new, status, at in rows]

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
        """Lease those of ``source_ids`` that no one holds (or whose lease expired) to
        ``holder`` for ``seconds``; with ``due_at``, only those due then (not gone, no
        backoff, next_due passed: ``schedule.is_due``'s rule), most overdue first, up to
        ``limit``.  Rows another transaction is leasing are skipped, not waited for
        (``FOR UPDATE SKIP LOCKED``); lease times are the server's clock, so hosts'
        clocks need not agree."""
        due = ""
        if due_at is not None:
            due = (
                "AND NOT gone AND (backoff_until IS NULL OR backoff_until <= %(due)s) "
                "AND (next_due IS NULL OR next_due <= %(due)s)"
            )
        query = f"""
            WITH picked AS (
                SELECT id FROM sources
                WHERE id = ANY(%(ids)s) {due}
                AND (lease_until IS NULL OR lease_until <= clock_timestamp())
                ORDER BY next_due NULLS FIRST, id
                {"LIMIT %(limit)s" if limit is not None else ""}
                FOR UPDATE SKIP LOCKED
            )
            UPDATE sources SET
                lease_until = clock_timestamp() + make_interval(secs => %(seconds)s),
                leased_by = %(holder)s
            FROM picked WHERE sources.id = picked.id
            RETURNING {", ".join(f"sources.{c}" for c in rowmap.SOURCE_COLUMNS)}
        """
        params = {
            "ids": list(source_ids),
            "due": _utc(due_at) if due_at is not None else None,
            "limit": limit,
            "seconds": float(seconds),
            "holder": holder,
        }
        with self._transaction() as db:
            rows = db.execute(query, params).fetchall()
        return sorted((rowmap.source_state(row, _CODEC) for row in rows), key=_overdue)

    def renew(self, source_ids: Sequence[str], *, holder: str, seconds: float) -> list[str]:
        """Extend ``holder``'s leases of ``source_ids`` (expired or not, while no one
        else took them) to ``seconds`` from now; the ids it still holds."""
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE sources SET lease_until = clock_timestamp() + make_interval(secs => %s) "
                "WHERE id = ANY(%s) AND leased_by = %s RETURNING id",
                (float(seconds), list(source_ids), holder),
            ).fetchall()
        return sorted(row[0] for row in rows)

    def release(self, source_ids: Iterable[str], *, holder: str) -> None:
        """End ``holder``'s leases of ``source_ids`` (others' leases stay)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE sources SET lease_until = NULL, leased_by = NULL "
                "WHERE id = ANY(%s) AND leased_by = %s",
                (list(source_ids), holder),
            )

    # -- items -----------------------------------------------------------------------

    def seen_items(self, source_id: str, item_ids: Iterable[str]) -> dict[str, SeenItem]:
        asked = {_text(i): i for i in item_ids}  # stored ids lost any NUL characters
        with self._errors():
            rows = self._db.execute(_SELECT_SEEN, (source_id, list(asked))).fetchall()
        return {
            asked[item_id]: SeenItem(
                key, source_hash, _utc(published), _utc_or_none(original), _utc(first)
            )
            for item_id, key, source_hash, published, original, first in rows
        }

    def apply_fetch(self, plan: FetchPlan) -> None:
        """Carry out one decided fetch in one transaction (see ingest/decide.py and the
        SQLite backend: the same rules)."""
        state = plan.state
        fetched = _utc(plan.fetched_at)
        with self._transaction() as db, db.cursor() as cur:
            cur.execute(_UPSERT_SOURCE, rowmap.source_row(state, _CODEC))
            fresh = [w for w in plan.writes if w.kind == "new"]
            self._insert_fresh(cur, state.source_id, fresh, fetched)
            changed = [w for w in plan.writes if w.kind == "changed"]
            if changed:
                cur.executemany(
                    _UPDATE_ITEM,
                    [
                        rowmap.item_row(w, w.key or "", _canonical(w), fetched, _CODEC)
                        for w in changed
                    ],
                )
                cur.executemany(
                    "UPDATE item_sources SET content_hash = %s, last_seen = %s "
                    "WHERE source_id = %s AND item_id = %s",
                    [(w.content_hash, fetched, state.source_id, _text(w.item.id)) for w in changed],
                )
            unchanged = [_text(w.item.id) for w in plan.writes if w.kind == "unchanged"]
            if unchanged:
                cur.execute(
                    "UPDATE item_sources SET last_seen = %s "
                    "WHERE source_id = %s AND item_id = ANY(%s)",
                    (fetched, state.source_id, unchanged),
                )
            cur.execute(
                "UPDATE sources SET item_count = "
                "(SELECT count(*) FROM item_sources WHERE source_id = %(id)s) WHERE id = %(id)s",
                {"id": state.source_id},
            )
            self._save_state(db, state)

    def _insert_fresh(
        self, cur: psycopg.Cursor, source_id: str, fresh: Sequence[ItemWrite], fetched: datetime
    ) -> None:
        if not fresh:
            return
        links = [_canonical(w) for w in fresh]
        mergeable = {link for link in links if link and urlsplit(link).path not in ("", "/")}
        stored_as: dict[str, str] = {}
        if mergeable:
            buckets = sorted({_link_bucket(link) for link in mergeable})
            if len(buckets) > _MAX_LINK_LOCKS:
                buckets = [_LINK_BUCKETS]  # one lock that every such fetch takes
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::integer[]) AS b",
                (LOCK_SPACE + _LINK_LOCKS, buckets),
            )
            cur.execute(
                """
                SELECT canonical_link, key FROM items i
                WHERE canonical_link = ANY(%s) AND NOT EXISTS
                    (SELECT 1 FROM item_sources WHERE item_key = i.key AND source_id = %s)
                ORDER BY seq
                """,
                (sorted(mergeable), source_id),
            )
            for link, key in cur.fetchall():
                stored_as.setdefault(link, key)
        keys = [first_key(source_id, w.item.id) for w in fresh]
        cur.execute("SELECT key FROM items WHERE key = ANY(%s)", (keys,))
        taken = {row[0] for row in cur.fetchall()}
        item_rows, source_rows = [], []
        for write, link, key in zip(fresh, links, keys, strict=True):
            existing = stored_as.pop(link, None) if link in mergeable else None
            if existing is not None:  # the same article, stored through another source
                key = existing
            else:
                if key in taken:
                    key = self._new_key(cur, source_id, write.item.id, taken)
                taken.add(key)
                item_rows.append(rowmap.item_row(write, key, link, fetched, _CODEC))
            source_rows.append(
                (key, source_id, _text(write.item.id), fetched, fetched, write.content_hash)
            )
        if item_rows:
            cur.executemany(_INSERT_ITEM, item_rows)
        cur.executemany(_INSERT_ITEM_SOURCE, source_rows)

    def _new_key(self, cur: psycopg.Cursor, source_id: str, item_id: str, taken: set[str]) -> str:
        key = first_key(source_id, item_id)
        attempt = 0
        while key in taken or cur.execute("SELECT 1 FROM items WHERE key = %s", (key,)).fetchone():
            attempt += 1
            key = key[:8] + sha1(f"{source_id}\0{item_id}\0{attempt}")[:12]
        return key

    def iter_items(
        self,
        *,
        source_ids: Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> Iterator[StoredItem]:
        """Stored items, by (adjusted) published time then key, read a page at a time."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if source_ids is not None:
            where.append(
                "i.key IN (SELECT item_key FROM item_sources WHERE source_id = ANY(%(sources)s))"
            )
            params["sources"] = list(source_ids)
        if since is not None:
            where.append("i.published >= %(since)s")
            params["since"] = _utc(since)
        return self._pages(where, params, limit, newest_first)

    def _pages(
        self, where: list[str], params: dict[str, Any], limit: int | None, newest_first: bool
    ) -> Iterator[StoredItem]:
        direction, after = ("DESC", "<") if newest_first else ("ASC", ">")
        left = limit
        last: tuple[datetime, str] | None = None
        while left is None or left > 0:
            conditions = list(where)
            if last is not None:
                conditions.append(f"(i.published, i.key) {after} (%(p)s, %(k)s)")
                params = {**params, "p": last[0], "k": last[1]}
            page = _PAGE if left is None else min(_PAGE, left)
            query = _SELECT_ITEM
            if conditions:
                query += " WHERE " + " AND ".join(conditions)
            query += f" ORDER BY i.published {direction}, i.key {direction} LIMIT {page}"
            with self._errors():
                rows = self._db.execute(query, params).fetchall()
            for row in rows:
                yield rowmap.stored_item(row, _CODEC)
            if len(rows) < page:
                return
            if left is not None:
                left -= len(rows)
            last = (rows[-1][6], rows[-1][0])

    def get_item(self, key: str) -> StoredItem | None:
        with self._errors():
            row = self._db.execute(f"{_SELECT_ITEM} WHERE i.key = %s", (key,)).fetchone()
        return rowmap.stored_item(row, _CODEC) if row else None

    def item_by_link(self, url: str) -> StoredItem | None:
        with self._errors():
            row = self._db.execute(
                f"{_SELECT_ITEM} WHERE i.canonical_link = %s ORDER BY i.seq LIMIT 1",
                (_text(canonical_url(url)),),
            ).fetchone()
        return rowmap.stored_item(row, _CODEC) if row else None

    def item_changes(self, since: int | None) -> tuple[int, list[str], list[str]]:
        """(a change mark now, keys stored or edited after the mark ``since``, keys
        removed after it); ``since=None``: only the mark.

        The mark is the oldest transaction still running (every older one is visible);
        rows of transactions from ``since`` on are listed, so a change committed late
        by another writer is listed now or next time, never skipped (a key may be
        listed twice; listing is idempotent)."""
        with self._errors():
            row = self._db.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
            ).fetchone()
            assert row is not None
            now = row[0]
            if since is None:
                return now, [], []
            rows = self._db.execute(
                "SELECT key, removed FROM item_changes WHERE xid >= %s ORDER BY xid, key",
                (since,),
            ).fetchall()
        return now, [k for k, r in rows if not r], [k for k, r in rows if r]

    def items_count(self) -> int:
        with self._errors():
            row = self._db.execute("SELECT count(*) FROM items").fetchone()
        return row[0] if row else 0

    def prune(self, *, retention_days: int, keep_latest: int, now: datetime) -> int:
        """Delete items older than ``retention_days`` (the SQLite backend's rules)."""
        cutoff = _utc(now) - timedelta(days=retention_days)
        with self._transaction() as db:
            deleted = db.execute(
                """
                DELETE FROM items
                WHERE published < %(cutoff)s
                AND NOT EXISTS (
                    SELECT 1 FROM item_sources
                    WHERE item_key = items.key AND last_seen >= %(cutoff)s
                )
                AND key NOT IN (
                    SELECT item_key FROM (
                        SELECT s.item_key, row_number() OVER (
                            PARTITION BY s.source_id ORDER BY i.published DESC, i.key DESC
                        ) AS n
                        FROM item_sources s JOIN items i ON i.key = s.item_key
                    ) ranked WHERE n <= %(keep)s
                )
                """,
                {"cutoff": cutoff, "keep": keep_latest},
            ).rowcount
            deleted += db.execute(
                "DELETE FROM items i WHERE NOT EXISTS "
                "(SELECT 1 FROM item_sources s WHERE s.item_key = i.key)"
            ).rowcount
            db.execute(
                "UPDATE sources SET item_count = c.n FROM (SELECT s.id, "
                "(SELECT count(*) FROM item_sources WHERE source_id = s.id) AS n "
                "FROM sources s) c WHERE sources.id = c.id AND sources.item_count <> c.n"
            )
        return deleted


# -- rows <-> types -------------------------------------------------------------------

_SELECT_SOURCE = f"SELECT {', '.join(rowmap.SOURCE_COLUMNS)} FROM sources"
_UPSERT_SOURCE = (
    f"INSERT INTO sources ({', '.join(rowmap.SAVED_SOURCE_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({c})s' for c in rowmap.SAVED_SOURCE_COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in rowmap.SAVED_SOURCE_COLUMNS if c != "id")
    + " RETURNING item_count"
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
_SELECT_ITEM = (
    "SELECT i.key, i.id, i.title, i.link, i.summary, i.content, i.published, i.updated, "
    "i.published_raw, i.updated_raw, i.authors, i.categories, i.enclosures, i.language, "
    "i.first_seen, "
    "ARRAY(SELECT source_id FROM item_sources WHERE item_key = i.key ORDER BY seq) "
    "FROM items i"
)
_INSERT_ITEM_SOURCE = (
    "INSERT INTO item_sources (item_key, source_id, item_id, first_seen, last_seen, "
    "content_hash) VALUES (%s, %s, %s, %s, %s, %s)"
)
_SELECT_SEEN = (
    "SELECT s.item_id, s.item_key, s.content_hash, i.published, i.published_original, "
    "i.first_seen FROM item_sources s JOIN items i ON i.key = s.item_key "
    "WHERE s.source_id = %s AND s.item_id = ANY(%s)"
)


def _overdue(state: SourceState) -> tuple[bool, datetime, str]:
    """Sort key: never fetched first, then the longest overdue."""
    return (
        state.next_due is not None,
        state.next_due or datetime.min.replace(tzinfo=UTC),
        state.source_id,
    )


def _canonical(write: ItemWrite) -> str | None:
    return _text(canonical_url(write.item.link)) if write.item.link else None


def _link_bucket(link: str) -> int:
    return int.from_bytes(hashlib.sha1(link.encode()).digest()[:4]) % _LINK_BUCKETS


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:  # the contract is aware UTC; don't let local time creep in
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _utc_or_none(dt: datetime | None) -> datetime | None:
    return None if dt is None else _utc(dt)


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters (SQLite's can): they are dropped."""
    if value is None:  # a bug upstream: let the NOT NULL constraint say so
        return value
    return value.replace("\0", "") if "\0" in value else value


def _text_or_none(value: str | None) -> str | None:
    return None if value is None else _text(value)


_CODEC = rowmap.Codec(time=_utc, read_time=_utc, text=_text)
