"""The retention rule (store/retention.py): which stored items go, as a pure decision, and
the same rule in the store's SQL."""

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import combinations_with_replacement

import psycopg
import pytest

from aggregator.ingest.update import record_fetch
from aggregator.models import Item, SourceState
from aggregator.store import is_postgres_url, open_storage, retention
from aggregator.store.retention import Listing, expired, last_listed, unlisted_since

CUTOFF = datetime(2026, 9, 1, tzinfo=UTC)
OLD = CUTOFF - timedelta(days=30)
DAY = timedelta(days=1)


def listing(key="a", source="inform", *, published=OLD, seen=OLD, listed=OLD, confirmed=OLD):
    return Listing(key, source, published, seen, listed, confirmed)


def test_an_item_of_the_last_listing_was_listed_when_the_source_last_confirmed_it():
    assert last_listed(listing(seen=OLD, listed=OLD, confirmed=CUTOFF + DAY)) == CUTOFF + DAY


def test_an_item_the_source_dropped_was_listed_when_a_parsed_fetch_last_listed_it():
    dropped = listing(seen=OLD, listed=OLD + DAY, confirmed=CUTOFF + DAY)
    assert last_listed(dropped) == OLD


def test_a_source_without_a_recorded_listing_counts_parsed_fetches_only():
    assert last_listed(listing(listed=None, confirmed=CUTOFF + DAY)) == OLD
    assert last_listed(listing(confirmed=None)) == OLD


def test_old_items_no_source_listed_since_the_cutoff_are_unlisted_with_their_sources():
    listings = [
        listing("gone", "inform"),
        listing("gone", "tengri"),
        listing("recent", published=CUTOFF + DAY),
        listing("still listed", seen=CUTOFF),
        listing("listed by one", "inform"),
        listing("listed by one", "tengri", seen=CUTOFF + DAY, listed=CUTOFF + DAY),
        listing("confirmed", "inform", listed=OLD, confirmed=CUTOFF),
    ]
    assert unlisted_since(listings, CUTOFF) == {"gone": {"inform", "tengri"}}


def test_an_unlisted_item_among_the_newest_of_any_of_its_sources_is_kept():
    unlisted = {"a": {"inform"}, "b": {"inform", "tengri"}, "c": {"tengri"}, "d": {"kapital"}}
    newest = {"inform": {"x"}, "tengri": {"b"}}
    assert expired(unlisted, newest) == ["a", "c", "d"]


# -- the rule in SQL decides as the rule in Python -------------------------------------
#
# The store applies the rule in SQL (retention.listed_since_sql, and the read and the
# delete's re-check built from it).  On a table of cases stored in a real store of each
# backend, every SQL form must decide as last_listed / unlisted_since do on the same
# stored facts.

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
RETENTION_DAYS = 90
LIMIT = NOW - timedelta(days=RETENTION_DAYS)
WHEN = {"before": LIMIT - timedelta(days=30), "at": LIMIT, "after": LIMIT + timedelta(days=10)}


@dataclass(frozen=True)
class Way:
    """How one source lists a case's item."""

    seen: str  # its last parsed fetch that listed the item: before / at / after the limit
    listing: str  # "last": that fetch is the source's last listing; "older": a later
    # parsed fetch (an hour on) no longer had it; "unrecorded": listed_at unknown (NULL)
    confirmed: str | None  # the source's last success (a 304, same body): when, or never


SINGLE = [
    Way(seen, listing, confirmed)
    for seen in WHEN
    for listing in ("last", "older", "unrecorded")
    for confirmed in (None, *WHEN)
]
PAIRED = [
    Way("before", "last", "before"),  # unlisted
    Way("before", "last", "after"),  # listed: confirmed
    Way("before", "older", "after"),  # unlisted: dropped, then confirmed
    Way("before", "unrecorded", "after"),  # unlisted: no listing to confirm
    Way("at", "last", None),  # listed: at the limit
    Way("after", "older", None),  # listed: seen since
]
CASES = [(f"c{n}", published, (way,)) for n, (published, way) in
         enumerate((p, w) for p in WHEN for w in SINGLE)] + [
    (f"p{n}", "before", pair) for n, pair in enumerate(combinations_with_replacement(PAIRED, 2))
]  # fmt: skip


def raw_sql(store, query: str, params: dict | None = None) -> list[tuple]:
    """``query`` (pyformat placeholders) on the store's own database, beside the store."""
    query = store.dialect.sql(query)
    if is_postgres_url(store.location):
        with psycopg.connect(store.location) as db:
            cur = db.execute(query, params)
            return cur.fetchall() if cur.description else []
    with sqlite3.connect(store.location) as db:
        return db.execute(query, params or {}).fetchall()


def store_cases(store) -> None:
    for case, published, ways in CASES:
        link = f"https://news.kz/{case}"  # the same article from each of its sources
        for n, way in enumerate(ways):
            source = f"{case}-{n}"
            seen = WHEN[way.seen]
            state = SourceState(source, url=f"https://{source}.kz/rss",
                                configured_url=f"https://{source}.kz/rss")  # fmt: skip
            item = Item(id=f"{case}-{n}", title=case, link=link, published=WHEN[published])
            record_fetch(store, replace(state, last_success=seen), [item], fetched_at=seen)
            if way.listing == "older":
                later = seen + timedelta(hours=1)
                other = Item(id="other", title="other", link=f"{link}/{n}", published=later)
                record_fetch(store, replace(state, last_success=later), [other], fetched_at=later)
            elif way.listing == "unrecorded":  # a store whose migration found no listing
                raw_sql(store, "UPDATE sources SET listed_at = NULL WHERE id = %(id)s",
                        {"id": source})  # fmt: skip
            confirmed = WHEN[way.confirmed] if way.confirmed else None
            store.save_source_state(replace(state, last_success=confirmed))


def stored_listings(store, query: str) -> list[Listing]:
    read, read_or_none = store.dialect.codec.read_time, store.dialect.codec.read_time_or_none
    rows = raw_sql(store, query, {"cutoff": store.dialect.codec.time(LIMIT)})
    return [Listing(key, source, read(published), read(seen), read_or_none(listed),
                    read_or_none(confirmed))
            for key, source, published, seen, listed, confirmed in rows]  # fmt: skip


def test_the_rule_in_sql_decides_as_the_rule_in_python(store):
    store_cases(store)
    cutoff = {"cutoff": store.dialect.codec.time(LIMIT)}
    every = stored_listings(store, """
        SELECT s.item_key, s.source_id, i.published, s.last_seen, src.listed_at, src.last_success
        FROM item_sources s JOIN items i ON i.key = s.item_key
        JOIN sources src ON src.id = s.source_id
    """)  # fmt: skip
    unlisted = unlisted_since(every, LIMIT)
    by_listing = {(x.item_key, x.source_id): last_listed(x) >= LIMIT for x in every}
    # The table reaches every way of deciding: both verdicts, kept by a confirmation.
    assert 0 < len(unlisted) < len({x.item_key for x in every})
    assert any(x.last_seen < LIMIT <= last_listed(x) for x in every)

    # When each source last listed each item, in SQL.
    listed_since = retention.listed_since_sql("s", "src")
    in_sql = raw_sql(store, f"""
        SELECT s.item_key, s.source_id, CASE WHEN {listed_since} THEN 1 ELSE 0 END
        FROM item_sources s JOIN sources src ON src.id = s.source_id
    """, cutoff)  # fmt: skip
    assert {(key, source): bool(yes) for key, source, yes in in_sql} == by_listing
    # prune's read leaves out no listing the decision needs.
    assert unlisted_since(stored_listings(store, retention.OLD_LISTINGS), LIMIT) == unlisted
    # The delete's re-check.
    still = raw_sql(store, f"SELECT key FROM items WHERE {retention.STILL_UNLISTED}", cutoff)
    assert {key for (key,) in still} == set(unlisted)
    # And prune, all of it (keep_latest 0: age and listings alone decide).
    kept = {stored.key for stored in store.iter_items()} - set(unlisted)
    assert store.prune(retention_days=RETENTION_DAYS, keep_latest=0, now=NOW) == len(unlisted)
    assert {stored.key for stored in store.iter_items()} == kept


@pytest.fixture
def store(store_at):
    """A new store of each backend in turn (tests/conftest.py)."""
    with open_storage(store_at()) as s:
        yield s
