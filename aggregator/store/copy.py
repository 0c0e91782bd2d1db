"""Copying a whole store into another (``aggregator store copy --to``): SQLite into
PostgreSQL when one host is no longer enough, and back.

What is copied is every table that holds what was fetched: the sources and their
fetch states, the URL changes adopted, the items and every (source, item id) they
arrived through.  Not copied: leases (a fetcher's, meaningless in another store) and
the change log, which the target's own triggers write as the rows arrive (a stage
keeping derived data, the related index, sees every item as new there).

Rows stream in batches: a server-side cursor or SQLite's stepping cursor on the
source side, ``COPY ... FROM STDIN`` or batched inserts on the target, so neither side
needs all rows in memory or a round trip per row.  The source is read in one snapshot
(a REPEATABLE READ transaction, SQLite's read transaction), so workers or a run
writing meanwhile do not tear the copy; what they write after it began is not in it.
The target is written in one transaction, counted table by table against the source
before it commits: a copy that fails or does not add up leaves the target as it was.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aggregator.store import (
    describe_location,
    is_postgres_url,
    mask_password,
    open_for_reading,
    open_storage,
)
from aggregator.store.errors import StorageError
from aggregator.store.rows import ITEM_COLUMNS, SOURCE_COLUMNS, SOURCE_TIMES
from aggregator.store.sqlite import connect_read_only
from aggregator.text.counts import counted

__all__ = ["NOT_COPIED", "TABLES", "CopyReport", "Table", "copy_store"]

BATCH = 2000  # rows per batch read from the source and written to the target


@dataclass(frozen=True)
class Table:
    """A copied table: its columns, those holding times and flags (stored differently
    by each backend), and the order rows are copied in (the order of insertion, where
    it means something: an item's first source, the first item stored with a link)."""

    name: str
    label: str  # for people
    columns: tuple[str, ...]
    times: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    sqlite_order: str = "rowid"
    postgres_order: str = "seq"


TABLES: tuple[Table, ...] = (
    Table(
        "sources",
        "sources",
        (*SOURCE_COLUMNS, "listed_at"),  # listed_at: the store's own, not in SourceState
        times=frozenset((*SOURCE_TIMES, "listed_at")),
        flags=frozenset(("gone",)),
        sqlite_order="id",
        postgres_order="id",
    ),
    Table(
        "source_urls",
        "URL changes",
        ("source_id", "old_url", "new_url", "status", "at"),
        times=frozenset(("at",)),
    ),
    Table(
        "items",
        "items",
        tuple(ITEM_COLUMNS),
        times=frozenset(
            ("published", "updated", "published_original", "updated_original", "first_seen")
        ),
    ),
    Table(
        "item_sources",
        "item sources",
        ("item_key", "source_id", "item_id", "first_seen", "last_seen", "content_hash"),
        times=frozenset(("first_seen", "last_seen")),
    ),
)

# What the schema holds that is not copied, and why (tests check that every other
# column of every table is in TABLES).
NOT_COPIED: dict[str, str] = {
    "sources.lease_until": "a fetcher's lease belongs to the store it fetches for",
    "sources.leased_by": "a fetcher's lease belongs to the store it fetches for",
    "*.seq": "PostgreSQL numbers rows as they arrive, in the copied order",
    "item_changes": "the target logs every copied item as changed",
    "change_readers": "how far the source's readers read its change log; the target's own",
    "host_holds": "a host's 429/503 hold is short-lived; the fetchers of the target ask again",
    "change_log_dropped": "how far the source's change log was dropped; the target's own",
    "derived": "derived from the items at the source's change marks; the target's own",
    "aggregator_schema": "the target's own schema version (the same: both are migrated)",
}


@dataclass
class CopyReport:
    source: str  # described, no password
    target: str
    counts: dict[str, int] = field(default_factory=dict)  # table label -> rows, verified
    replaced: int = 0  # rows the target held before (``replace``)
    seconds: float = 0.0


def copy_store(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    replace: bool = False,
    on_table: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every source, fetch state, URL change and item of the store at ``source``
    into the store at ``target`` (a SQLite path or a ``postgresql://`` URL each).

    A target that holds anything is refused unless ``replace``: then its rows are
    deleted in the same transaction as the copy is written.  Raises StorageError
    (nothing changed in the target) when either store cannot be used, the target is
    not empty, or the counts do not agree at the end."""
    started = time.monotonic()
    if _same_store(source, target):
        raise StorageError(
            f"{describe_location(source)} is the store to copy from and to: give --to another store"
        )
    if not is_postgres_url(source) and not Path(source).exists():
        raise StorageError(f"there is no store at {source} to copy from: check storage.path / --db")
    # Opening migrates both to the current schema (and says so if one cannot be used);
    # the source only where it is of an earlier one: else it may be read-only.
    open_for_reading(source).close()
    open_storage(target).close()
    report = CopyReport(describe_location(source), describe_location(target))
    with _end(source, reading=True) as reader, _end(target, reading=False) as writer:
        held = {t.label: writer.count(t) for t in TABLES}
        if any(held.values()) and not replace:
            raise StorageError(
                f"{report.target} already holds "
                + ", ".join(rows(n, label) for label, n in held.items() if n)
                + ": copying into it would mix two stores; copy into an empty store, or "
                "pass --replace to delete what it holds (in the same transaction as the "
                "copy: if the copy fails, it keeps what it had)"
            )
        if any(held.values()):
            writer.clear()
            report.replaced = sum(held.values())
        expected = {t.label: reader.count(t) for t in TABLES}
        for table in TABLES:
            convert = _converter(table, reader.kind, writer.kind)
            written = writer.write(table, (convert(batch) for batch in reader.read(table)))
            if on_table is not None:
                on_table(table.label, written)
            report.counts[table.label] = written
        writer.log_items()
        found = {t.label: writer.count(t) for t in TABLES}
        if not (found == expected == report.counts):
            raise StorageError(
                f"the copy into {report.target} does not add up, so it was rolled back "
                f"(the target is as it was): in {report.source} "
                + _counts(expected)
                + f"; copied {_counts(report.counts)}; in the target {_counts(found)}. "
                "Run it again; if it persists, report it"
            )
        writer.commit()
    report.seconds = time.monotonic() - started
    return report


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(rows(n, label) for label, n in counts.items())


def rows(n: int, label: str) -> str:
    """``n`` rows of the table ``label`` names (plural): ``1 item``, ``0 URL changes``."""
    return counted(n, label.removesuffix("s"), label)


def _same_store(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    if is_postgres_url(a) or is_postgres_url(b):
        return (
            is_postgres_url(a)
            and is_postgres_url(b)
            and mask_password(str(a)) == (mask_password(str(b)))
        )
    return Path(a).resolve() == Path(b).resolve()


# -- converting rows between the backends ------------------------------------------


def _converter(
    table: Table, source: str, target: str
) -> Callable[[Sequence[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """Rows of ``table`` as ``source`` stores them -> as ``target`` stores them."""
    steps: list[Callable[[Any], Any] | None] = []
    for column in table.columns:
        if column in table.times:
            steps.append(_TIMES[(source, target)])
        elif column in table.flags:
            steps.append(bool if target == "postgresql" else int)
        elif target == "postgresql" and source == "sqlite":
            steps.append(_postgres_text)
        else:
            steps.append(None)

    def convert(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [
            tuple(
                value if step is None or value is None else step(value)
                for step, value in zip(steps, row, strict=True)
            )
            for row in rows
        ]

    return convert


def _sqlite_time(moment: datetime) -> str:
    """SQLite stores times as fixed-width UTC ISO 8601 text (text order = time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _postgres_text(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL characters (SQLite's can): they are dropped, as
    the PostgreSQL backend drops them."""
    if isinstance(value, str) and "\0" in value:
        return value.replace("\0", "")
    return value


def _same(value: Any) -> Any:
    return value


_TIMES: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("sqlite", "postgresql"): datetime.fromisoformat,
    ("postgresql", "sqlite"): _sqlite_time,
    ("sqlite", "sqlite"): _same,
    ("postgresql", "postgresql"): _same,
}


# -- the two ends --------------------------------------------------------------------


class _End:
    """What both ends do alike (each has ``db``, a DB-API connection, and ``errors``)."""

    db: Any

    def errors(self) -> _translate:
        raise NotImplementedError

    def count(self, table: Table) -> int:
        with self.errors():
            row = self.db.execute(f"SELECT count(*) FROM {table.name}").fetchone()
        return row[0] if row else 0

    def clear(self) -> None:
        with self.errors():
            for table in reversed(TABLES):  # the referencing tables first
                self.db.execute(f"DELETE FROM {table.name}")

    # Every copied item logged as stored, as storing a fetch logs it (store/schema.py, 7).
    LOG_ITEMS: tuple[str, ...] = ()

    def log_items(self) -> None:
        with self.errors():
            for statement in self.LOG_ITEMS:
                self.db.execute(statement)


class _SQLiteEnd(_End):
    kind = "sqlite"
    LOG_ITEMS = (
        "DELETE FROM item_changes WHERE key IN (SELECT key FROM items)",
        "INSERT INTO item_changes (key, removed) SELECT key, 0 FROM items ORDER BY rowid",
    )

    def __init__(self, path: Path, reading: bool) -> None:
        self.where = str(path)
        with self.errors():
            # Reading: read-only, so that a store this user may only read (a backup
            # mounted read-only) is copied too, and no run waits for the copy.
            self.db = (
                connect_read_only(path) if reading else sqlite3.connect(path, isolation_level=None)
            )
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute("PRAGMA foreign_keys = ON")
            # Reading: one snapshot for the whole copy.  Writing: the write lock now,
            # so that no run writes between the emptiness check and the commit.
            self.db.execute("BEGIN" if reading else "BEGIN IMMEDIATE")
            if reading:
                self.db.execute("SELECT count(*) FROM sources").fetchone()  # the snapshot

    def errors(self) -> _translate:
        return _translate(sqlite3.OperationalError, f"SQLite {self.where}")

    def read(self, table: Table) -> Iterator[list[tuple[Any, ...]]]:
        with self.errors():
            cursor = self.db.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {table.sqlite_order}"
            )
            try:
                while rows := cursor.fetchmany(BATCH):
                    yield rows
            finally:
                cursor.close()

    def write(self, table: Table, batches: Iterator[list[tuple[Any, ...]]]) -> int:
        insert = (
            f"INSERT INTO {table.name} ({', '.join(table.columns)}) "
            f"VALUES ({', '.join('?' for _ in table.columns)})"
        )
        written = 0
        with self.errors():
            for rows in batches:
                self.db.executemany(insert, rows)
                written += len(rows)
        return written

    def commit(self) -> None:
        with self.errors():
            self.db.execute("COMMIT")

    def close(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()


class _PostgresEnd(_End):
    kind = "postgresql"
    LOG_ITEMS = (
        "INSERT INTO item_changes (key, removed, xid) "
        "SELECT key, FALSE, pg_current_xact_id()::text::bigint FROM items ORDER BY key "
        "ON CONFLICT (key) DO UPDATE SET removed = excluded.removed, xid = excluded.xid",
    )

    def __init__(self, url: str, reading: bool) -> None:
        import psycopg

        self.psycopg = psycopg
        self.url = url
        self.where = mask_password(url)
        with self.errors():
            self.db = psycopg.connect(url, connect_timeout=10)
            if reading:
                # One snapshot for the whole copy, however long; workers keep writing.
                self.db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                self.db.read_only = True
            self.db.execute("SET TIME ZONE 'UTC'")

    def errors(self) -> _translate:
        return _translate(self.psycopg.OperationalError, describe_location(self.url), self.url)

    def read(self, table: Table) -> Iterator[list[tuple[Any, ...]]]:
        with self.errors(), self.db.cursor(name=f"aggregator_copy_{table.name}") as cursor:
            cursor.itersize = BATCH
            cursor.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.name} "
                f"ORDER BY {table.postgres_order}"
            )
            while rows := cursor.fetchmany(BATCH):
                yield rows

    def write(self, table: Table, batches: Iterator[list[tuple[Any, ...]]]) -> int:
        written = 0
        with (
            self.errors(),
            self.db.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy,
        ):
            for rows in batches:
                for row in rows:
                    copy.write_row(row)
                written += len(rows)
        return written

    def commit(self) -> None:
        with self.errors():
            self.db.commit()

    def close(self) -> None:
        self.db.close()  # an open transaction is rolled back


class _translate:
    """A failure of either end as a StorageError that names the store (no password)."""

    def __init__(self, kind: type[Exception], where: str, url: str = "") -> None:
        self.kind = kind
        self.where = where
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb) -> bool:
        if exc is None or not isinstance(exc, self.kind):
            return False
        message = str(exc).strip()
        if self.url:
            message = message.replace(self.url, mask_password(self.url))
            password = urlsplit(self.url).password
            if password:
                message = message.replace(password, "***")
        raise StorageError(
            f"{self.where}: {message}: the copy stopped and the target keeps what it had; "
            "check that both stores can be reached and written, then run it again"
        ) from exc


class _end:
    """``with _end(location, reading=...) as end``: one side of the copy."""

    def __init__(self, location: str | os.PathLike[str], *, reading: bool) -> None:
        self.location = location
        self.reading = reading

    def __enter__(self) -> _SQLiteEnd | _PostgresEnd:
        if is_postgres_url(self.location):
            self.end: _SQLiteEnd | _PostgresEnd = _PostgresEnd(str(self.location), self.reading)
        else:
            self.end = _SQLiteEnd(Path(self.location), self.reading)
        return self.end

    def __exit__(self, *exc_info: object) -> None:
        self.end.close()
