"""The store's schema, defined once per backend: each backend's migration steps.

Each entry of a list is one migration step; the store records how many it has applied
(SQLite: ``PRAGMA user_version``; PostgreSQL: the ``aggregator_schema`` table).  The two
lists are versioned together: step N is the same change in both, so one schema version
number means the same tables on either backend.  Never edit a released step: append a
new one to both lists.  A step is SQL, or a :class:`RowsStep` where a rule of ours (in
Python) rewrites stored values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aggregator.text.urls import canonical_url, is_site_root


@dataclass(frozen=True)
class RowsStep:
    """A migration step SQL alone cannot say: ``select`` (no parameters) reads rows,
    ``change`` turns each into the parameters of ``update`` (``%s`` placeholders), or
    None where the row stays as it is.  Run in the migration's transaction."""

    select: str
    update: str
    change: Callable[[tuple[Any, ...]], tuple[Any, ...] | None]

    def updates(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [params for row in rows if (params := self.change(row)) is not None]


@dataclass(frozen=True)
class StatementsStep:
    """A migration step whose statements a rule of ours (in Python) derives from what
    ``select`` (no parameters) reads: ``statements(rows)`` gives each (SQL with ``%s``
    placeholders, its parameters), run in order in the migration's transaction."""

    select: str
    statements: Callable[[Sequence[tuple[Any, ...]]], Iterable[tuple[str, tuple[Any, ...]]]]


def _recanonicalized(row: tuple[Any, ...]) -> tuple[Any, ...] | None:
    key, link, stored = row
    canonical = canonical_url(link)
    return (canonical, key) if canonical != stored else None


# Links that may hold a session id (the names, in any case): only they are read.
_SESSION_LINKS = (
    "link IS NOT NULL AND (lower(link) LIKE '%sessid%' OR lower(link) LIKE '%sessionid%' OR "
    "lower(link) LIKE '%cfid%' OR lower(link) LIKE '%cftoken%' OR lower(link) LIKE '%sid=%')"
)

# Step 13: items stored before session ids left an article's identity (298679f:
# PHPSESSID, jsessionid also as ";jsessionid=" in the path, ASPSESSIONID..., CFID, CFTOKEN,
# sid with a token's value) keep the canonical link they were stored with, so such an
# item and its refetched self (under another session) would be two items.  Only links
# that may hold one are read (the names, in any case); canonical_url decides.
_LINKS_WITHOUT_SESSIONS = RowsStep(
    select=f"SELECT key, link, canonical_link FROM items WHERE {_SESSION_LINKS}",
    update="UPDATE items SET canonical_link = %s WHERE key = %s",
    change=_recanonicalized,
)

# What an item takes from the newer of two it is merged from; key, id, published and
# first_seen stay the older one's.
_CONTENT = (
    "title, link, summary, content, updated, published_original, updated_original, "
    "published_raw, updated_raw, authors, categories, enclosures, language, content_hash"
)


@dataclass
class _Listing:
    """A row of item_sources as step 15 leaves it."""

    row: str  # the item id its row has in the store (the row, by its source)
    item_id: str  # the item id it is to have: that of the listing given last
    first: Any  # first seen
    last: Any  # last seen
    content_hash: str


@dataclass
class _Stored:
    key: str
    title: str
    first_seen: Any
    sources: dict[str, _Listing]  # by source id


# The work tables step 15 fills with its decisions, then applies in a few statements: a
# statement per merge cost ~0.65 ms on PostgreSQL, minutes for a large store.  Made from
# the tables they stand for, so that each backend gives their columns its own types.
_LISTINGS = "aggregator_step15_listings"  # (source, item id): its item after, or dropped
_MERGES = "aggregator_step15_merges"  # a kept item and whose content it takes, or removed
_PARAMETERS_A_STATEMENT = 900  # below SQLite's oldest limit, 999


def _merged(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The statements merging the items of ``rows`` (``_ITEMS_STORED_TWICE.select``'s)
    that are one article (see step 15): every decision is made here, written into two
    work tables, and applied to the store by a few set-based statements."""
    groups: dict[str, dict[str, _Stored]] = {}
    for link, key, title, first_seen, source_id, item_id, first, last, content in rows:
        stored = groups.setdefault(link, {}).setdefault(key, _Stored(key, title, first_seen, {}))
        stored.sources[source_id] = _Listing(item_id, item_id, first, last, content)
    # (source id, row's item id) -> (its item's key, the listing it is), None: dropped
    listings: dict[tuple[str, str], tuple[str, _Listing] | None] = {}
    merges: list[tuple[str, str | None]] = []  # (kept key, newest key), (merged key, None)
    for link, items in groups.items():
        if is_site_root(link):
            continue  # feeds that link every entry to the home page: never one article
        kept: list[_Stored] = []  # oldest first
        newest: dict[str, _Stored] = {}  # by kept key: whose content it takes
        absorbed: set[str] = set()  # the kept keys another item was merged into
        for item in items.values():  # oldest first (the select's order)
            into = next((k for k in kept if _same_article(k, item, link)), None)
            if into is None:
                kept.append(item)
                newest[item.key] = item
                continue
            if _last_listed(item) >= _last_listed(newest[into.key]):
                newest[into.key] = item
            listings.update(_moved(item, into))
            absorbed.add(into.key)
        # (also from itself: the change log then says the item changed)
        merges += [(k.key, newest[k.key].key) for k in kept if k.key in absorbed]
        merges += [(i.key, None) for i in items.values() if all(i is not k for k in kept)]
    if not merges:
        return
    moves = [(*row, *_listed(after)) for row, after in listings.items()]
    columns = "source_id, item_id, item_key, first_seen, item_id AS listed_id, last_seen"
    yield from _work_table(
        _LISTINGS, f"{columns}, content_hash", "source_id, item_id", "item_sources", moves
    )
    yield from _work_table(_MERGES, "key, key AS newest", "key", "items", merges)
    listed = f"(source_id, item_id) IN (SELECT source_id, item_id FROM {_LISTINGS} WHERE item_key"
    yield f"DELETE FROM item_sources WHERE {listed} IS NULL)", ()
    # (a row renamed takes the id of a row deleted above: never one another row has)
    yield (
        "UPDATE item_sources SET (item_key, first_seen, item_id, last_seen, content_hash) = "
        "(SELECT m.item_key, m.first_seen, m.listed_id, m.last_seen, m.content_hash "
        f"FROM {_LISTINGS} AS m WHERE m.source_id = item_sources.source_id "
        f"AND m.item_id = item_sources.item_id) WHERE {listed} IS NOT NULL)",
        (),
    )
    yield (
        f"UPDATE items SET ({_CONTENT}) = (SELECT {_CONTENT} FROM items AS n "
        f"JOIN {_MERGES} AS m ON n.key = m.newest WHERE m.key = items.key) "
        f"WHERE key IN (SELECT key FROM {_MERGES} WHERE newest IS NOT NULL)",
        (),
    )
    yield f"DELETE FROM items WHERE key IN (SELECT key FROM {_MERGES} WHERE newest IS NULL)", ()
    yield (
        "UPDATE sources SET item_count = (SELECT count(*) FROM item_sources "
        f"WHERE source_id = sources.id) WHERE id IN (SELECT source_id FROM {_LISTINGS})",
        (),
    )
    yield f"DROP TABLE {_LISTINGS}", ()
    yield f"DROP TABLE {_MERGES}", ()


def _listed(after: tuple[str, _Listing] | None) -> tuple[Any, ...]:
    """A row's item key, first seen, item id, last seen and content hash after step 15;
    NULLs for a row dropped."""
    if after is None:
        return (None,) * 5
    key, listing = after
    return key, listing.first, listing.item_id, listing.last, listing.content_hash


def _work_table(
    name: str, columns: str, key: str, like: str, rows: Sequence[tuple[Any, ...]]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """A temporary table ``name`` of ``like``'s ``columns`` (their types there) indexed
    on ``key``, and the statements filling it with ``rows``, many rows a statement, then
    analyzing it."""
    yield f"CREATE TEMPORARY TABLE {name} AS SELECT {columns} FROM {like} WHERE 1 = 0", ()
    yield f"CREATE INDEX {name}_key ON {name} ({key})", ()
    width = len(rows[0]) if rows else 1
    per_statement = _PARAMETERS_A_STATEMENT // width
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        row = "(" + ", ".join(["%s"] * width) + ")"
        yield (
            f"INSERT INTO {name} VALUES " + ", ".join([row] * len(chunk)),
            tuple(value for values in chunk for value in values),
        )
    # Its size and keys told to the planner: guessed, PostgreSQL took the statements
    # reading it for costly ones and compiled them (JIT), a third of their time.
    yield f"ANALYZE {name}", ()


def _last_listed(item: _Stored) -> tuple[Any, Any]:
    """When a feed last listed ``item`` (then when it was stored): the newer content."""
    return max(listing.last for listing in item.sources.values()), item.first_seen


def _same_article(kept: _Stored, item: _Stored, link: str) -> bool:
    """Whether ``item`` is ``kept``'s article: each source both came through gave both
    under spellings of their link, with the same title."""
    shared = kept.sources.keys() & item.sources.keys()
    if not shared:
        return True
    if " ".join(kept.title.casefold().split()) != " ".join(item.title.casefold().split()):
        return False
    return all(
        canonical_url(kept.sources[s].item_id) == link == canonical_url(item.sources[s].item_id)
        for s in shared
    )


def _moved(
    item: _Stored, into: _Stored
) -> Iterator[tuple[tuple[str, str], tuple[str, _Listing] | None]]:
    """``item``'s sources moved to ``into``: each (source id, row's item id) with its
    item's key and listing after, or None where the row is dropped.  A source both came
    through keeps ``into``'s row, the earlier (so the sources stay in the order they gave
    the article, the first one named), with the listing it gave last, since the first
    time it gave either: as a source relisting an article under a new id renames it."""
    for source_id, listing in item.sources.items():
        mine = into.sources.get(source_id)
        if mine is None:
            into.sources[source_id] = listing
            yield (source_id, listing.row), (into.key, listing)
            continue
        mine.first = min(listing.first, mine.first)
        if listing.last > mine.last:
            mine.item_id, mine.last = listing.item_id, listing.last
            mine.content_hash = listing.content_hash
        yield (source_id, listing.row), None
        yield (source_id, mine.row), (into.key, mine)


# Step 15: an article stored twice before step 13 (under two sessions of its link, each
# its own canonical link then) is one item again, as the store would have kept it had it
# known: the items of a canonical link step 13 gave back are merged (_merged) when they
# came through other sources (a source attaches to a stored article of another), or
# through one source under its link's spellings with the same title (decide.relisted);
# not where the ids are guids of their own (a daily column under one page).
_ITEMS_STORED_TWICE = StatementsStep(
    select=(
        "SELECT i.canonical_link, i.key, i.title, i.first_seen, s.source_id, "
        "s.item_id, s.first_seen, s.last_seen, s.content_hash FROM items i "
        "JOIN item_sources s ON s.item_key = i.key WHERE i.canonical_link IN "
        f"(SELECT canonical_link FROM items WHERE {_SESSION_LINKS}) AND i.canonical_link IN "
        "(SELECT canonical_link FROM items GROUP BY canonical_link HAVING count(*) > 1) "
        "ORDER BY i.canonical_link, i.first_seen, i.key"
    ),
    statements=_merged,
)
SQLITE_MIGRATIONS: list[str | RowsStep | StatementsStep] = [
    # 1: initial schema
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        configured_url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        title TEXT,
        link TEXT,
        feed_updated TEXT,
        last_attempt TEXT,
        last_success TEXT,
        last_error TEXT,
        last_error_at TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_due TEXT,
        backoff_until TEXT,
        gone INTEGER NOT NULL DEFAULT 0,
        item_count INTEGER NOT NULL DEFAULT 0,
        min_interval_seconds INTEGER
    );

    -- Permanent redirects adopted, for the health page; kept after a source is dropped.
    CREATE TABLE source_urls (
        source_id TEXT NOT NULL,
        old_url TEXT NOT NULL,
        new_url TEXT NOT NULL,
        status INTEGER NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX source_urls_by_source ON source_urls (source_id, at);

    CREATE TABLE items (
        key TEXT PRIMARY KEY,
        id TEXT NOT NULL,  -- the item id in the source that first stored it
        canonical_link TEXT,
        title TEXT NOT NULL,
        link TEXT,
        summary TEXT,
        content TEXT,
        published TEXT NOT NULL,  -- adjusted: never NULL, never after the fetch
        updated TEXT NOT NULL,
        published_original TEXT,  -- as the feed gave them, in UTC
        updated_original TEXT,
        published_raw TEXT,  -- the feed's own spelling
        updated_raw TEXT,
        first_seen TEXT NOT NULL,
        authors TEXT NOT NULL DEFAULT '[]',  -- JSON
        categories TEXT NOT NULL DEFAULT '[]',
        enclosures TEXT NOT NULL DEFAULT '[]',
        language TEXT,
        content_hash TEXT NOT NULL
    );
    CREATE INDEX items_by_published ON items (published, key);
    CREATE INDEX items_by_canonical_link ON items (canonical_link);

    -- Every (source, item id) an item arrived through; rowid order = first one first.
    CREATE TABLE item_sources (
        item_key TEXT NOT NULL REFERENCES items (key) ON DELETE CASCADE,
        source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        -- Last fetch that listed it; kept here, not in items, so that refreshing it
        -- does not rewrite whole articles.
        last_seen TEXT NOT NULL,
        content_hash TEXT NOT NULL,  -- of this source's version, to notice its edits
        PRIMARY KEY (source_id, item_id)
    );
    CREATE INDEX item_sources_by_item ON item_sources (item_key);
    """,
    # 2: a change log, so that a stage that keeps derived data (the related index)
    # reads only what changed since it last looked, not the whole store.  One row per
    # key: its last change.
    """
    CREATE TABLE item_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        removed INTEGER NOT NULL
    );
    CREATE INDEX item_changes_by_key ON item_changes (key);
    CREATE TRIGGER item_inserted AFTER INSERT ON items BEGIN
        DELETE FROM item_changes WHERE key = NEW.key;
        INSERT INTO item_changes (key, removed) VALUES (NEW.key, 0);
    END;
    CREATE TRIGGER item_updated
    AFTER UPDATE OF title, link, summary, content, published, categories, language ON items
    BEGIN
        DELETE FROM item_changes WHERE key = NEW.key;
        INSERT INTO item_changes (key, removed) VALUES (NEW.key, 0);
    END;
    CREATE TRIGGER item_deleted AFTER DELETE ON items BEGIN
        DELETE FROM item_changes WHERE key = OLD.key;
        INSERT INTO item_changes (key, removed) VALUES (OLD.key, 1);
    END;
    CREATE TRIGGER item_source_added AFTER INSERT ON item_sources BEGIN
        DELETE FROM item_changes WHERE key = NEW.item_key;
        INSERT INTO item_changes (key, removed) VALUES (NEW.item_key, 0);
    END;
    """,
    # 3: how the source's last body was decoded ("windows-1251 (detected)")
    """
    ALTER TABLE sources ADD COLUMN encoding TEXT;
    """,
    # 4: leases of sources to fetchers (unused by SQLite: one host, one run at a time;
    # kept so that both schemas stay the same)
    """
    ALTER TABLE sources ADD COLUMN lease_until TEXT;
    ALTER TABLE sources ADD COLUMN leased_by TEXT;
    """,
    # 5: how far each stage keeping derived data has read the change log, so that what
    # every one of them has read is dropped (Storage.changes_read)
    """
    CREATE TABLE change_readers (
        reader TEXT PRIMARY KEY,
        mark INTEGER NOT NULL
    );
    """,
    # 6: small documents a stage derives from the items and keeps between runs (house's
    # match results), here so that every host running against the store shares them
    """
    CREATE TABLE derived (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 7: items stored (inserted, or attached to another source) are logged by the
    # statement that stores them, one change row per item and batch
    # (SQLStorage._LOG_STORED), not by two row triggers each: a cold fetch spent ~15% of its store
    # writes in them.  Edits and removals keep their triggers.
    """
    DROP TRIGGER item_inserted;
    DROP TRIGGER item_source_added;
    """,
    # 8: when each source last listed its items (the fetch that last parsed its feed:
    # the items of that listing have item_sources.last_seen = listed_at).  While the
    # source answers 304 or the same body, its last_success confirms that listing, and
    # prune counts those items as seen then, without a write per item per fetch.
    # Stores from before: the last fetch that listed any item.
    """
    ALTER TABLE sources ADD COLUMN listed_at TEXT;
    UPDATE sources SET listed_at =
        (SELECT max(last_seen) FROM item_sources WHERE source_id = sources.id);
    """,
    # 9: hosts that answered 429/503: none of their sources is fetched before held_until
    # (ingest/schedule.host_hold), by any run or worker
    """
    CREATE TABLE host_holds (
        host TEXT PRIMARY KEY,
        held_until TEXT NOT NULL,
        source_id TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
    # 10: when each change log reader last said how far it read, so that one that
    # stopped (a cron line that no longer runs it) stops holding the log back; and how
    # far the log was dropped, so that a reader whose changes went with it is told
    # that everything changed (SQLStorage.changes_read / item_changes)
    """
    ALTER TABLE change_readers ADD COLUMN read_at TEXT;
    CREATE TABLE change_log_dropped (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        mark INTEGER NOT NULL
    );
    """,
    # 11: since when a source's feed gives its items new guids on every fetch (a CMS
    # putting a session token or a build time in them): its items are known by their
    # link (ingest/decide.regenerated)
    """
    ALTER TABLE sources ADD COLUMN guids_unstable TEXT;
    """,
    # 12: since when a source's fetches fail (health.json); a source failing already
    # gets its last failure's time, the earliest the store knows of
    """
    ALTER TABLE sources ADD COLUMN failing_since TEXT;
    UPDATE sources SET failing_since = last_error_at WHERE consecutive_failures > 0;
    """,
    # 13: canonical links without session ids (_LINKS_WITHOUT_SESSIONS)
    _LINKS_WITHOUT_SESSIONS,
    # 14: what a source's last parsed feed's dates were like (`status` says it): one
    # without an offset, which comes first in its numeric dates, one that shows neither
    """
    ALTER TABLE sources ADD COLUMN zoneless_date TEXT;
    ALTER TABLE sources ADD COLUMN date_order TEXT;
    ALTER TABLE sources ADD COLUMN ambiguous_date TEXT;
    """,
    # 15: an article stored twice before step 13 is one item (_ITEMS_STORED_TWICE)
    _ITEMS_STORED_TWICE,
]


# PostgreSQL: the same tables.  Times are timestamptz (microseconds, like SQLite's
# text); identifiers collate as "C" so that ORDER BY id is byte order, as in SQLite;
# ``seq`` columns stand in for SQLite's rowid where the order of insertion matters
# (the first source an item arrived through, the first item stored with a link).
POSTGRES_MIGRATIONS: list[str | RowsStep | StatementsStep] = [
    # 1: initial schema
    """
    CREATE TABLE sources (
        id TEXT COLLATE "C" PRIMARY KEY,
        url TEXT NOT NULL,
        configured_url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        title TEXT,
        link TEXT,
        feed_updated TIMESTAMPTZ,
        last_attempt TIMESTAMPTZ,
        last_success TIMESTAMPTZ,
        last_error TEXT,
        last_error_at TIMESTAMPTZ,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_due TIMESTAMPTZ,
        backoff_until TIMESTAMPTZ,
        gone BOOLEAN NOT NULL DEFAULT FALSE,
        item_count INTEGER NOT NULL DEFAULT 0,
        min_interval_seconds INTEGER
    );

    CREATE TABLE source_urls (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        source_id TEXT COLLATE "C" NOT NULL,
        old_url TEXT NOT NULL,
        new_url TEXT NOT NULL,
        status INTEGER NOT NULL,
        at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX source_urls_by_source ON source_urls (source_id, at, seq);

    CREATE TABLE items (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        key TEXT COLLATE "C" PRIMARY KEY,
        id TEXT NOT NULL,
        canonical_link TEXT,
        title TEXT NOT NULL,
        link TEXT,
        summary TEXT,
        content TEXT,
        published TIMESTAMPTZ NOT NULL,
        updated TIMESTAMPTZ NOT NULL,
        published_original TIMESTAMPTZ,
        updated_original TIMESTAMPTZ,
        published_raw TEXT,
        updated_raw TEXT,
        first_seen TIMESTAMPTZ NOT NULL,
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        enclosures TEXT NOT NULL DEFAULT '[]',
        language TEXT,
        content_hash TEXT NOT NULL
    );
    CREATE INDEX items_by_published ON items (published, key);
    CREATE INDEX items_by_canonical_link ON items (canonical_link, seq);

    CREATE TABLE item_sources (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        item_key TEXT COLLATE "C" NOT NULL REFERENCES items (key) ON DELETE CASCADE,
        source_id TEXT COLLATE "C" NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
        item_id TEXT COLLATE "C" NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL,
        content_hash TEXT NOT NULL,
        PRIMARY KEY (source_id, item_id)
    );
    CREATE INDEX item_sources_by_item ON item_sources (item_key, seq);
    """,
    # 2: the change log (SQLite's step 2).  Several writers commit in any order, so a
    # sequence number would let a reader skip a change committed late; each row keeps
    # its writer's transaction id instead, and a reader's mark is the oldest transaction
    # still running then (everything older is visible): see PostgresStorage.item_changes.
    """
    CREATE TABLE item_changes (
        key TEXT COLLATE "C" PRIMARY KEY,
        removed BOOLEAN NOT NULL,
        xid BIGINT NOT NULL
    );
    CREATE INDEX item_changes_by_xid ON item_changes (xid);
    CREATE FUNCTION aggregator_item_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed TEXT;
    BEGIN
        IF TG_TABLE_NAME = 'item_sources' THEN
            changed := NEW.item_key;
        ELSIF TG_OP = 'DELETE' THEN
            changed := OLD.key;
        ELSE
            changed := NEW.key;
        END IF;
        INSERT INTO item_changes (key, removed, xid)
        VALUES (changed, TG_OP = 'DELETE', pg_current_xact_id()::text::bigint)
        ON CONFLICT (key) DO UPDATE SET removed = excluded.removed, xid = excluded.xid;
        RETURN NULL;
    END;
    $$;
    CREATE TRIGGER item_inserted AFTER INSERT ON items
        FOR EACH ROW EXECUTE FUNCTION aggregator_item_changed();
    CREATE TRIGGER item_updated
        AFTER UPDATE OF title, link, summary, content, published, categories, language ON items
        FOR EACH ROW EXECUTE FUNCTION aggregator_item_changed();
    CREATE TRIGGER item_deleted AFTER DELETE ON items
        FOR EACH ROW EXECUTE FUNCTION aggregator_item_changed();
    CREATE TRIGGER item_source_added AFTER INSERT ON item_sources
        FOR EACH ROW EXECUTE FUNCTION aggregator_item_changed();
    """,
    # 3: how the source's last body was decoded ("windows-1251 (detected)")
    """
    ALTER TABLE sources ADD COLUMN encoding TEXT;
    """,
    # 4: leases: which fetcher (a worker, a run) fetches a source now, until when
    """
    ALTER TABLE sources ADD COLUMN lease_until TIMESTAMPTZ;
    ALTER TABLE sources ADD COLUMN leased_by TEXT;
    """,
    # 5: the change log's readers (SQLite's step 5); a mark is a transaction id here
    """
    CREATE TABLE change_readers (
        reader TEXT COLLATE "C" PRIMARY KEY,
        mark BIGINT NOT NULL
    );
    """,
    # 6: documents derived from the items, kept between runs (SQLite's step 6)
    """
    CREATE TABLE derived (
        name TEXT COLLATE "C" PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 7: items stored are logged by the statement that stores them (SQLite's step 7)
    """
    DROP TRIGGER item_inserted ON items;
    DROP TRIGGER item_source_added ON item_sources;
    """,
    # 8: when each source last listed its items (SQLite's step 8)
    """
    ALTER TABLE sources ADD COLUMN listed_at TIMESTAMPTZ;
    UPDATE sources SET listed_at =
        (SELECT max(last_seen) FROM item_sources WHERE source_id = sources.id);
    """,
    # 9: hosts that answered 429/503 (SQLite's step 9)
    """
    CREATE TABLE host_holds (
        host TEXT COLLATE "C" PRIMARY KEY,
        held_until TIMESTAMPTZ NOT NULL,
        source_id TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
    # 10: when each change log reader last read; how far the log was dropped (SQLite's
    # step 10)
    """
    ALTER TABLE change_readers ADD COLUMN read_at TIMESTAMPTZ;
    CREATE TABLE change_log_dropped (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        mark BIGINT NOT NULL
    );
    """,
    # 11: since when a source's feed gives new guids on every fetch (SQLite's step 11)
    """
    ALTER TABLE sources ADD COLUMN guids_unstable TIMESTAMPTZ;
    """,
    # 12: since when a source's fetches fail (SQLite's step 12)
    """
    ALTER TABLE sources ADD COLUMN failing_since TIMESTAMPTZ;
    UPDATE sources SET failing_since = last_error_at WHERE consecutive_failures > 0;
    """,
    # 13: canonical links without session ids (SQLite's step 13)
    _LINKS_WITHOUT_SESSIONS,
    # 14: what a source's last parsed feed's dates were like (SQLite's step 14)
    """
    ALTER TABLE sources ADD COLUMN zoneless_date TEXT;
    ALTER TABLE sources ADD COLUMN date_order TEXT;
    ALTER TABLE sources ADD COLUMN ambiguous_date TEXT;
    """,
    # 15: an article stored twice before step 13 is one item (SQLite's step 15)
    _ITEMS_STORED_TWICE,
]

if len(POSTGRES_MIGRATIONS) != len(SQLITE_MIGRATIONS):  # pragma: no cover - a dev's slip
    raise AssertionError("schema steps must be added to both backends at once")

SCHEMA_VERSION = len(SQLITE_MIGRATIONS)  # the one version number of both backends


def split_sql(script: str) -> Iterator[str]:
    """The statements of a migration script (execute() takes one at a time;
    executescript() would commit the migration's transaction)."""
    statement = ""
    for part in script.split(";"):
        statement += part + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \t\n;"):
                yield statement.strip()
            statement = ""
    if statement.strip(" \t\n;"):
        yield statement.strip()
