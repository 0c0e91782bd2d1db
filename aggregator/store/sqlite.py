"""SQLite store: the file, its migrations, transactions and errors; the queries both
backends share are in sql.py.

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
- ``iter_items`` streams from one cursor: a reader of a WAL database reads one
  snapshot and keeps no writer waiting.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from aggregator.models import SourceState
from aggregator.store import rows as rowmap
from aggregator.store import schema
from aggregator.store.errors import StorageError, StoreNotMade, older_than_read_only
from aggregator.store.rows import json_text, utc
from aggregator.store.sql import Dialect, SQLStorage

__all__ = ["SQLiteStorage", "connect_read_only"]

_BUSY_TIMEOUT_MS = 10_000
_WAL_AUTOCHECKPOINT_PAGES = 8192  # of 4 KiB
_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


# -- what differs in SQLite's SQL ------------------------------------------------------


@functools.lru_cache(maxsize=256)  # a warm run writes the same few times a thousand times
def _ts(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that text order is time order."""
    return utc(moment).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


DIALECT = Dialect(
    codec=rowmap.Codec(time=_ts, read_time=_dt, flag=int, source_ids=json.loads),
    # a list travels as one JSON text
    member_of="{column} IN (SELECT value FROM json_each({param}))",
    list_value=json_text,
    insertion_order="rowid",
    source_ids="(SELECT json_group_array(source_id) FROM "
    "(SELECT source_id FROM item_sources WHERE item_key = i.key ORDER BY rowid))",
    upsert_returns=False,
    qmark=True,
)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that reads ``path`` and writes nothing, not even a journal: fine for
    a user who may read the store, not write it or its directory.

    A store in use (its -wal or -shm beside it: a writer has it open, or a run was
    killed), or one this user owns, is read with its WAL where this user can open it.
    Another user's store that no connection has open is read as it is (immutable: the
    file alone holds every committed change then): SQLite would otherwise make a -wal
    and -shm owned by this user, which a run as the store's owner cannot write
    ("attempt to write a readonly database"), nor can this user make them in a
    read-only directory.  (As root, SQLite gives them the store's owner.)"""
    uri = Path(os.path.abspath(path)).as_uri()
    in_use = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm"))
    try:
        ours = os.geteuid() in (0, os.stat(path).st_uid)
    except OSError:
        ours = True  # not there (or not ours to stat): the opening says what is wrong
    last: sqlite3.Error | None = None
    for options in ("mode=ro", "mode=ro&immutable=1")[0 if in_use or ours else 1 :]:
        try:
            db = sqlite3.connect(
                f"{uri}?{options}", uri=True, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as e:
            last = e
            continue
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA user_version").fetchone()  # the first read: errors show here
        except sqlite3.Error as e:
            db.close()
            last = e
            if "unable to open" in str(e) or "readonly" in str(e):  # no -shm to use
                continue
            raise
        return db
    assert last is not None
    raise last


class SQLiteStorage(SQLStorage):
    """The aggregator's store in one SQLite file (the default backend).

    Not for concurrent use from several threads at once; other processes may read
    (and wait to write) at the same time.
    """

    dialect = DIALECT

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._last_states: tuple[tuple[int, int], dict[str, SourceState]] | None = None
        if read_only:
            self._open_read_only()
            return
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

    def _open_read_only(self) -> None:
        """Open for reading only, with no write of any kind (a user allowed to read the
        store, not to write it or its directory: a monitoring account's `status`)."""
        try:
            self._db = connect_read_only(self.path)
        except sqlite3.Error as e:
            raise self._error(e) from e
        version = self._user_version()
        self._check_version(version)
        if version == 0:
            self._db.close()
            raise StoreNotMade(f"store {self.path}: no run has made it yet")
        if version < len(schema.SQLITE_MIGRATIONS):
            self._db.close()
            raise older_than_read_only(str(self.path), version, len(schema.SQLITE_MIGRATIONS))

    @property
    def location(self) -> str:
        return str(self.path.resolve())

    def close(self) -> None:
        if not self.read_only:
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
                if isinstance(script, schema.RowsStep):
                    rows = self._db.execute(script.select).fetchall()
                    self._db.executemany(self.dialect.sql(script.update), script.updates(rows))
                elif isinstance(script, schema.StatementsStep):
                    rows = self._db.execute(script.select).fetchall()
                    for statement, params in script.statements(rows):
                        self._db.execute(self.dialect.sql(statement), params)
                else:
                    for statement in schema.split_sql(script):
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    # -- errors and transactions -----------------------------------------------------

    def _error(self, e: Exception) -> StorageError:
        message = str(e)
        if "locked" in message or "busy" in message:
            hint = "another process is writing to it; try again when it has finished"
        elif "not a database" in message or "malformed" in message or "corrupt" in message:
            hint = (
                "the file is not a SQLite database or is damaged; move it aside "
                "(a new, empty store is created in its place) or restore it from a backup"
            )
        elif "unable to open" in message or "readonly" in message:
            hint = (
                "check the storage.path setting and the permissions: this user must be "
                "able to write the file, its directory and the -wal and -shm files beside "
                "it (where SQLite keeps its journal); run as the store's owner (`status`, `comment list`, `comment new` "
                "and `store copy` only read it)"
            )
        elif "full" in message:
            hint = "free some disk space"
        else:
            hint = "if this persists, check the file with `sqlite3 FILE 'PRAGMA integrity_check'`"
        return StorageError(f"store {self.path}: {message}: {hint}")

    def _about_the_store(self, error: Exception) -> bool:
        # ProgrammingError, IntegrityError... are bugs; a plain DatabaseError is a
        # damaged file.
        return isinstance(error, sqlite3.OperationalError | sqlite3.NotSupportedError) or (
            type(error) is sqlite3.DatabaseError
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.cursor()
                try:
                    yield cursor
                finally:
                    cursor.close()
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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
        states = self._states_read_last(source_ids)
        if states is None:
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

    def source_states(self, ids: Iterable[str] | None = None) -> list[SourceState]:
        states = super().source_states(ids)
        if ids is None:  # what a run's plan reads: its lease needs the same states again
            self._last_states = (self._data_version(), {s.source_id: s for s in states})
        return states

    def _states_read_last(self, ids: Sequence[str]) -> list[SourceState] | None:
        """The states of ``ids`` as the last read of all states gave them, when nothing
        has written the store since (this connection or another); else None.  Once."""
        last, self._last_states = self._last_states, None
        if last is None or last[0] != self._data_version():
            return None
        states = last[1]
        return [states[i] for i in sorted(set(ids)) if i in states]

    def _data_version(self) -> tuple[int, int]:
        """Changes by other connections (``data_version``), then by this one."""
        with self._errors():
            other = self._db.execute("PRAGMA data_version").fetchone()[0]
        return other, self._db.total_changes

    def renew(self, source_ids: Sequence[str], *, holder: str, seconds: float) -> list[str]:
        """Nothing to renew: every lease holds (see :meth:`lease`)."""
        return sorted(source_ids)

    def release(self, source_ids: Iterable[str] | None, *, holder: str) -> None:
        """Nothing to release (see :meth:`lease`)."""

    # -- items -----------------------------------------------------------------------

    def _select_items(
        self,
        where: list[str],
        params: dict[str, Any],
        limit: int | None,
        newest_first: bool,
        texts: bool = False,
    ) -> Iterator[Any]:
        """Streamed from one cursor (see the notes above)."""
        query = self._select_item_text() if texts else self._select_item()
        if where:
            query += " WHERE " + " AND ".join(where)
        direction = "DESC" if newest_first else "ASC"
        query += f" ORDER BY i.published {direction}, i.key {direction}"
        if limit is not None:
            query += " LIMIT %(limit)s"
            params = {**params, "limit": limit}
        return self._stream(DIALECT.sql(query), params, texts)

    def _stream(self, query: str, params: Sequence[Any], texts: bool = False) -> Iterator[Any]:
        convert = rowmap.item_text if texts else rowmap.stored_item
        with self._errors():
            cursor = self._db.execute(query, params)
            try:
                while rows := cursor.fetchmany(500):
                    for row in rows:
                        yield convert(row, DIALECT.codec)
            finally:
                cursor.close()

    _CHANGES_READ_BY = "seq <= %s"
    _LOG_STORED = (
        "DELETE FROM item_changes WHERE key IN (SELECT value FROM json_each(%s))",
        "INSERT INTO item_changes (key, removed) SELECT value, 0 FROM json_each(%s)",
    )

    def item_changes(self, since: int | None) -> tuple[int, list[str], list[str]]:
        """(the store's change number now, keys stored or edited after change ``since``,
        keys removed after it); ``since=None``: only the number (nothing listed).

        The number is the last change's (AUTOINCREMENT keeps it in ``sqlite_sequence``):
        it never goes back, even when every change was read and dropped."""
        with self._errors():
            now = self._db.execute(
                "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'item_changes'"
            ).fetchone()[0]
            if since is None:
                return now, [], []
        everything = self._changes_dropped_after(since)
        if everything is not None:
            return now, everything, []
        with self._errors():
            rows = self._db.execute(
                "SELECT key, removed FROM item_changes WHERE seq > ? AND seq <= ? ORDER BY seq",
                (since, now),
            ).fetchall()
        return now, [k for k, r in rows if not r], [k for k, r in rows if r]
