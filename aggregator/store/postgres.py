"""PostgreSQL store: the same tables, keys and rules as the SQLite backend (the queries
they share are in sql.py), for a store shared by several processes on several hosts
(fetch workers, publish by cron).

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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from aggregator.models import SourceState
from aggregator.store import mask_password, schema
from aggregator.store import rows as rowmap
from aggregator.store.errors import (
    LockWaitTimeout,
    StorageError,
    StoreNotMade,
    older_than_read_only,
)
from aggregator.store.rows import utc
from aggregator.store.sql import Dialect, SQLStorage

__all__ = ["PostgresStorage", "advisory_lock"]

# The first argument of two-key advisory locks: ours, apart from other applications'.
LOCK_SPACE = 0x61676772  # "aggr"
_MIGRATION_LOCK = 0
_LINK_LOCKS = 1  # first key LOCK_SPACE + 1; second: a canonical link's hash bucket
_NAMED_LOCKS = 2  # first key LOCK_SPACE + 2; second: a hash of the name ("run")
_LINK_BUCKETS = 1 << 20
_MAX_LINK_LOCKS = 256  # more links than this in one fetch: one lock for every link
_PAGE = 1000  # iter_items page size


def _store_error(url: str, e: Exception) -> StorageError:
    """What went wrong with the store at ``url``, on one line (libpq's messages take
    several: "...Connection refused\n\tIs the server running..."), without the
    password, and what to do."""
    location = mask_password(url)
    message = " ".join(str(e).replace(url, location).split())
    password = urlsplit(url).password
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
    return StorageError(f"store {location}: {message}: {hint}")


@contextmanager
def advisory_lock(url: str, name: str) -> Iterator[bool]:
    """Try to hold the advisory lock ``name`` of the database at ``url``: yields whether
    this process got it.  Held by a connection of its own, so a killed holder's lock
    goes with its session (the server notices the closed socket)."""
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as e:
        raise _store_error(url, e) from e
    key = "%s, hashtext(%s || '/' || current_schema())"
    held = False
    try:
        # Advisory locks are the database's: the schema in the name keeps stores in
        # different schemas of one database apart.
        row = db.execute(
            f"SELECT pg_try_advisory_lock({key})", (LOCK_SPACE + _NAMED_LOCKS, name)
        ).fetchone()
        held = bool(row and row[0])
        yield held
    finally:
        try:
            if held and not db.closed:
                # Let go before closing: the server ends a closed session (and its locks)
                # a moment later, and a run started right after this one would find the
                # lock still held and exit as if another run were going on.
                db.execute(f"SELECT pg_advisory_unlock({key})", (LOCK_SPACE + _NAMED_LOCKS, name))
        except psycopg.Error:
            pass  # the session's end releases it all the same
        finally:
            db.close()


# -- what differs in PostgreSQL's SQL --------------------------------------------------


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters (SQLite's can): they are dropped."""
    if value is None:  # a bug upstream: let the NOT NULL constraint say so
        return value
    return value.replace("\0", "") if "\0" in value else value


DIALECT = Dialect(
    codec=rowmap.Codec(time=utc, read_time=utc, text=_text),
    member_of="{column} = ANY({param})",
    list_value=list,
    insertion_order="seq",
    source_ids="ARRAY(SELECT source_id FROM item_sources WHERE item_key = i.key ORDER BY seq)",
    upsert_returns=True,
    qmark=False,
    skip_locked=" FOR UPDATE SKIP LOCKED",
)


class PostgresStorage(SQLStorage):
    """The aggregator's store in a PostgreSQL database.

    One connection; not for concurrent use from several threads.  Any number of
    processes on any hosts may use the same database at once.
    """

    dialect = DIALECT

    def __init__(
        self, url: str, *, read_only: bool = False, lock_timeout: float | None = None
    ) -> None:
        """``lock_timeout``: seconds a statement waits for a lock another session holds
        before it fails with ``LockWaitTimeout`` (a fetch worker's: a frozen worker's
        open transaction must not stop it); None: as long as it takes."""
        self.url = url
        self.lock_timeout = lock_timeout  # a run's parse pool opens its stores with it
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
                if read_only:
                    self._db.execute("SET default_transaction_read_only = on")
                    self._check_current()
                else:
                    self._migrate()
                if lock_timeout is not None:
                    # After migrating: another process's migration is waited for whole.
                    ms = max(1, round(lock_timeout * 1000))
                    self._db.execute(f"SET lock_timeout = {ms}")
        except BaseException:
            self._db.close()
            raise

    @property
    def location(self) -> str:
        return self._location

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
                if isinstance(script, schema.RowsStep):
                    rows = db.execute(script.select).fetchall()
                    with db.cursor() as cur:
                        cur.executemany(script.update, script.updates(rows))
                elif isinstance(script, schema.StatementsStep):
                    rows = db.execute(script.select).fetchall()
                    for statement, params in script.statements(rows):
                        db.execute(statement, params)
                else:
                    db.execute(script)
                db.execute("DELETE FROM aggregator_schema")
                db.execute("INSERT INTO aggregator_schema (version) VALUES (%s)", (number,))

    def _check_current(self) -> None:
        """Read-only: the store must be of this version's schema (nothing is migrated)."""
        version = self._version()
        if version is None:
            raise StoreNotMade(f"store {self._location}: no run has made it yet")
        if version < schema.SCHEMA_VERSION:
            raise older_than_read_only(self._location, version, schema.SCHEMA_VERSION)

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

    def _error(self, e: Exception) -> StorageError:
        if isinstance(e, psycopg.errors.LockNotAvailable):
            return LockWaitTimeout(
                f"store {self._location}: another session holds a lock this write needs "
                "(a worker frozen or cut off inside a transaction?)"
            )
        return _store_error(self.url, e)

    def _about_the_store(self, error: Exception) -> bool:
        return isinstance(error, psycopg.OperationalError | psycopg.errors.InsufficientPrivilege)

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor]:
        with self._errors(), self._db.transaction(), self._db.cursor() as cur:
            yield cur

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
            "due": utc(due_at) if due_at is not None else None,
            "limit": limit,
            "seconds": float(seconds),
            "holder": holder,
        }
        with self._transaction() as db:
            rows = db.execute(query, params).fetchall()
        return sorted((rowmap.source_state(row, DIALECT.codec) for row in rows), key=_overdue)

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

    def release(self, source_ids: Iterable[str] | None, *, holder: str) -> None:
        """End ``holder``'s leases of ``source_ids``, or all of them (others' stay)."""
        with self._transaction() as db:
            if source_ids is None:
                db.execute(
                    "UPDATE sources SET lease_until = NULL, leased_by = NULL WHERE leased_by = %s",
                    (holder,),
                )
                return
            db.execute(
                "UPDATE sources SET lease_until = NULL, leased_by = NULL "
                "WHERE id = ANY(%s) AND leased_by = %s",
                (list(source_ids), holder),
            )

    # -- items -----------------------------------------------------------------------

    def _lock_links(self, cur: psycopg.Cursor, links: set[str]) -> None:
        """Two fetches storing the same article at once: the second waits for the first
        to commit, then finds its item (see the notes above)."""
        buckets = sorted({_link_bucket(link) for link in links})
        if len(buckets) > _MAX_LINK_LOCKS:
            buckets = [_LINK_BUCKETS]  # one lock that every such fetch takes
        cur.execute(
            "SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::integer[]) AS b",
            (LOCK_SPACE + _LINK_LOCKS, buckets),
        )

    def _select_items(
        self,
        where: list[str],
        params: dict[str, Any],
        limit: int | None,
        newest_first: bool,
        texts: bool = False,
    ) -> Iterator[Any]:
        """Read a page at a time (see the notes above)."""
        select, convert = (
            (self._select_item_text(), rowmap.item_text)
            if texts
            else (self._select_item(), rowmap.stored_item)
        )
        direction, after = ("DESC", "<") if newest_first else ("ASC", ">")
        left = limit
        last: tuple[datetime, str] | None = None
        while left is None or left > 0:
            conditions = list(where)
            if last is not None:
                conditions.append(f"(i.published, i.key) {after} (%(p)s, %(k)s)")
                params = {**params, "p": last[0], "k": last[1]}
            page = _PAGE if left is None else min(_PAGE, left)
            query = select
            if conditions:
                query += " WHERE " + " AND ".join(conditions)
            query += f" ORDER BY i.published {direction}, i.key {direction} LIMIT {page}"
            with self._errors():
                rows = self._db.execute(query, params).fetchall()
            for row in rows:
                yield convert(row, DIALECT.codec)
            if len(rows) < page:
                return
            if left is not None:
                left -= len(rows)
            last = (rows[-1][6], rows[-1][0])

    _CHANGES_READ_BY = "xid < %s"  # a reader at mark m asks for xid >= m
    _LOG_STORED = (
        "INSERT INTO item_changes (key, removed, xid) "
        "SELECT key, FALSE, pg_current_xact_id()::text::bigint FROM unnest(%s::text[]) AS key "
        "ORDER BY key ON CONFLICT (key) DO UPDATE SET removed = excluded.removed, xid = excluded.xid",
    )

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
        everything = self._changes_dropped_after(since)
        if everything is not None:
            return now, everything, []
        with self._errors():
            rows = self._db.execute(
                "SELECT key, removed FROM item_changes WHERE xid >= %s ORDER BY xid, key",
                (since,),
            ).fetchall()
        return now, [k for k, r in rows if not r], [k for k, r in rows if r]


def _overdue(state: SourceState) -> tuple[bool, datetime, str]:
    """Sort key: never fetched first, then the longest overdue."""
    return (
        state.next_due is not None,
        state.next_due or datetime.min.replace(tzinfo=UTC),
        state.source_id,
    )


def _link_bucket(link: str) -> int:
    return int.from_bytes(hashlib.sha1(link.encode()).digest()[:4]) % _LINK_BUCKETS
