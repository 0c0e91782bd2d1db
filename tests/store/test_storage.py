import dataclasses
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from stores import set_back

from aggregator.config import SourceConfig
from aggregator.ingest.update import record_fetch
from aggregator.models import Author, Enclosure, Item, SourceState, UpdateCounts
from aggregator.store import StorageError, is_postgres_url, open_storage, schema

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(store_at):
    """A new store of each backend in turn (tests/conftest.py)."""
    with open_storage(store_at()) as s:
        yield s


def state(source_id="inform", **kwargs):
    kwargs.setdefault("url", f"https://{source_id}.kz/rss")
    kwargs.setdefault("configured_url", kwargs["url"])
    return SourceState(source_id=source_id, **kwargs)


def item(n, **kwargs):
    kwargs.setdefault("title", f"Новость {n}")
    kwargs.setdefault("link", f"https://inform.kz/ru/news/{n}")
    kwargs.setdefault("published", T0 - timedelta(hours=n))
    return Item(id=f"guid-{n}", **kwargs)


def raw_column(location, key, column):
    """A column as the backend stores it; times as SQLite's fixed-width text."""
    if is_postgres_url(location):
        with psycopg.connect(location) as db:
            db.execute("SET TIME ZONE 'UTC'")
            value = db.execute(f"SELECT {column} FROM items WHERE key = %s", (key,)).fetchone()[0]
        return value.isoformat(timespec="microseconds") if value is not None else None
    with sqlite3.connect(location) as db:
        return db.execute(f"SELECT {column} FROM items WHERE key = ?", (key,)).fetchone()[0]


# -- opening, schema, migrations ------------------------------------------------------


def test_opening_creates_the_file_its_directory_and_the_current_schema(tmp_path):
    path = tmp_path / "data" / "nested" / "store.sqlite"
    open_storage(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(schema.SQLITE_MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_the_data(tmp_path):
    path = tmp_path / "store.sqlite"
    with open_storage(path) as s:
        record_fetch(s, state(), [item(1)], fetched_at=T0)
    with open_storage(path) as s:
        assert s.items_count() == 1


def test_store_of_an_older_schema_is_migrated_on_open(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    with open_storage(path) as s:
        record_fetch(s, state(), [item(1)], fetched_at=T0)
    step = "ALTER TABLE items ADD COLUMN score INTEGER NOT NULL DEFAULT 7;"
    monkeypatch.setattr(schema, "SQLITE_MIGRATIONS", [*schema.SQLITE_MIGRATIONS, step])

    with open_storage(path) as s:
        assert s.items_count() == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(schema.SQLITE_MIGRATIONS)
        assert db.execute("SELECT score FROM items").fetchone()[0] == 7


def test_failed_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    open_storage(path).close()
    applied = len(schema.SQLITE_MIGRATIONS)
    steps = "CREATE TABLE half_done (x); SELECT * FROM no_such_table;"
    monkeypatch.setattr(schema, "SQLITE_MIGRATIONS", [*schema.SQLITE_MIGRATIONS, steps])

    with pytest.raises(StorageError, match="no such table"):
        open_storage(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == applied
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in tables


def test_store_written_by_a_newer_version_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "store.sqlite"
    open_storage(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(schema.SQLITE_MIGRATIONS) + 1}")
    with pytest.raises(StorageError, match="newer version.*upgrade aggregator") as e:
        open_storage(path)
    assert str(path) in str(e.value)


def test_file_that_is_not_a_database_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("sources:\n  - id: inform\n" * 200)
    with pytest.raises(StorageError, match="not a SQLite database.*move it aside") as e:
        open_storage(path)
    assert str(path) in str(e.value)
    assert path.read_text().startswith("sources:")  # left alone


def test_damaged_database_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "store.sqlite"
    with open_storage(path) as s:
        record_fetch(s, state(), [item(n) for n in range(50)], fetched_at=T0)
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)  # the schema page, after the header
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="move it aside") as e:
        open_storage(path)
    assert str(path) in str(e.value)


def test_directory_that_cannot_be_created_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageError, match="cannot create the directory"):
        open_storage(blocker / "store.sqlite")


# -- record_fetch ---------------------------------------------------------------------


def test_record_fetch_counts_new_updated_and_unchanged_items(store):
    counts = record_fetch(store, state(), [item(1), item(2), item(3)], fetched_at=T0)
    assert counts == UpdateCounts(new=3, updated=0, unchanged=0)

    later = T0 + timedelta(minutes=30)
    counts = record_fetch(
        store, state(), [item(1), item(2, title="Новость 2 (обновлено)"), item(4)], fetched_at=later
    )
    assert counts == UpdateCounts(new=1, updated=1, unchanged=1)
    assert store.items_count() == 4


def test_a_feed_listing_one_id_twice_stores_one_item_with_the_last_version(store):
    twice = [
        item(1),
        item(1, title="Новость 1 (исправлено)"),
        item(1, title="Новость 1 (исправлено)"),
    ]
    counts = record_fetch(store, state(), twice, fetched_at=T0)
    assert counts == UpdateCounts(new=1, updated=1, unchanged=1)
    (stored,) = store.iter_items()
    assert stored.item.title == "Новость 1 (исправлено)"


def test_record_fetch_saves_the_state_and_its_item_count(store):
    st = state(etag='"abc"', last_success=T0, consecutive_failures=0, title="Казинформ")
    record_fetch(store, st, [item(1), item(2)], fetched_at=T0)
    assert st.item_count == 2
    assert store.get_source_state("inform") == st


def test_item_seen_again_with_changes_is_updated_in_place(store):
    record_fetch(store, state(), [item(1, summary="<p>Первая версия</p>")], fetched_at=T0)
    (before,) = store.iter_items()

    later = T0 + timedelta(hours=2)
    edited = item(1, title="Исправлено", summary="<p>Вторая версия</p>", updated=later)
    record_fetch(store, state(), [edited], fetched_at=later)

    (after,) = store.iter_items()
    assert after.key == before.key
    assert after.item.title == "Исправлено"
    assert after.item.summary == "<p>Вторая версия</p>"
    assert after.first_seen == before.first_seen == T0
    assert after.published == before.published
    assert after.updated == later


def test_every_item_field_round_trips(store):
    full = Item(
        id="urn:uuid:1",
        title="Қазақстан жаңалықтары",
        link="https://kaz.inform.kz/news/1",
        summary="<p>Қысқаша</p>",
        content="<p>Толық мәтін</p>",
        published=T0 - timedelta(hours=1),
        updated=T0 - timedelta(minutes=5),
        published_raw="Wed, 01 May 2024 16:00:00 +0500",
        updated_raw="2024-05-01T16:55:00+05:00",
        authors=(Author(name="Әлия", email="a@inform.kz"), Author(uri="https://inform.kz/a")),
        categories=("Саясат", "Экономика"),
        enclosures=(Enclosure("https://inform.kz/1.jpg", "image/jpeg", 12345),),
        language="kk",
    )
    record_fetch(store, state(), [full], fetched_at=T0)
    (stored,) = store.iter_items()
    assert stored.item == full
    assert stored.source_ids == ("inform",)
    assert stored.first_seen == T0


def test_same_article_through_two_sources_is_stored_once_with_both_sources(store):
    record_fetch(store, state("inform"), [item(1)], fetched_at=T0)
    copy = Item(
        id="https://www.tengrinews.kz/?p=77",
        title="Перепечатка",
        link="http://www.inform.kz/ru/news/1/?utm_source=tengri",
    )
    counts = record_fetch(store, state("tengri"), [copy], fetched_at=T0 + timedelta(minutes=5))

    assert counts == UpdateCounts(new=1)  # new for this source, not a new item
    (stored,) = store.iter_items()
    assert stored.source_ids == ("inform", "tengri")
    assert stored.item.title == "Новость 1"  # the first source's version
    assert [s.item_count for s in store.source_states()] == [1, 1]
    assert [s.key for s in store.iter_items(source_ids=["tengri"])] == [stored.key]

    counts = record_fetch(store, state("tengri"), [copy], fetched_at=T0 + timedelta(minutes=35))
    assert counts == UpdateCounts(unchanged=1)
    assert store.items_count() == 1


def test_items_of_one_source_sharing_a_link_stay_separate(store):
    # some feeds give every entry the same link; only other sources' items are matched
    same_link = "https://inform.kz/ru/live"
    counts = record_fetch(
        store, state(), [item(1, link=same_link), item(2, link=same_link)], fetched_at=T0
    )
    assert counts == UpdateCounts(new=2)
    assert store.items_count() == 2


def test_links_to_a_home_page_are_not_used_to_merge_sources(store):
    record_fetch(store, state("inform"), [item(1, link="https://inform.kz/")], fetched_at=T0)
    other = Item(id="x", title="Другое", link="http://www.inform.kz")
    record_fetch(store, state("tengri"), [other], fetched_at=T0)
    assert store.items_count() == 2


def test_failed_record_fetch_stores_nothing(store):
    record_fetch(store, state(), [item(1)], fetched_at=T0)
    broken = dataclasses.replace(item(3), title=None)  # violates the schema mid-way
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        record_fetch(
            store, state(etag='"new"'), [item(2), broken], fetched_at=T0 + timedelta(hours=1)
        )
    assert store.items_count() == 1
    assert store.get_source_state("inform").etag is None
    record_fetch(store, state(), [item(2)], fetched_at=T0 + timedelta(hours=2))  # still usable
    assert store.items_count() == 2


# -- time adjustment ------------------------------------------------------------------


def test_item_without_dates_is_published_when_first_seen_and_stays_there(store):
    undated = item(1, published=None)
    record_fetch(store, state(), [undated], fetched_at=T0)
    later = T0 + timedelta(days=1)
    record_fetch(store, state(), [dataclasses.replace(undated, title="Edit")], fetched_at=later)

    (stored,) = store.iter_items()
    assert stored.published == stored.updated == stored.first_seen == T0
    assert stored.item.title == "Edit"
    assert raw_column(store.location, stored.key, "published_original") is None


def test_item_with_only_an_updated_date_is_published_then(store):
    record_fetch(
        store, state(), [item(1, published=None, updated=T0 - timedelta(hours=3))], fetched_at=T0
    )
    (stored,) = store.iter_items()
    assert stored.published == stored.updated == T0 - timedelta(hours=3)


def test_dates_in_the_future_are_clamped_to_the_fetch_and_originals_kept(store):
    future = T0 + timedelta(days=3)
    record_fetch(
        store,
        state(),
        [item(1, published=future, updated=future, published_raw="Sat, 04 May 2024 12:00:00 GMT")],
        fetched_at=T0,
    )
    (stored,) = store.iter_items()
    assert stored.published == stored.updated == T0
    assert stored.item.published_raw == "Sat, 04 May 2024 12:00:00 GMT"
    path = store.location
    assert raw_column(path, stored.key, "published_original") == future.isoformat(
        timespec="microseconds"
    )
    assert raw_column(path, stored.key, "updated_original") == future.isoformat(
        timespec="microseconds"
    )


def test_updated_is_never_before_published(store):
    record_fetch(store, state(), [item(1, updated=T0 - timedelta(days=400))], fetched_at=T0)
    (stored,) = store.iter_items()
    assert stored.updated == stored.published == T0 - timedelta(hours=1)


def test_non_utc_datetimes_are_stored_as_utc(store):
    almaty = datetime(2024, 5, 1, 17, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Almaty"))
    record_fetch(store, state(), [item(1, published=almaty)], fetched_at=T0 + timedelta(days=1))
    (stored,) = store.iter_items()
    assert stored.published == datetime(2024, 5, 1, 17, 0, tzinfo=UTC)
    assert stored.published.utcoffset() == timedelta(0)


# -- keys -----------------------------------------------------------------------------


def test_keys_are_stable_across_reopen_and_across_fresh_stores(store_at):
    def keys(path):
        with open_storage(path) as s:
            record_fetch(s, state(), [item(1), item(2)], fetched_at=T0)
        with open_storage(path) as s:
            return {s_.item.id: s_.key for s_ in s.iter_items()}

    first = keys(store_at("a"))
    assert first == keys(store_at("b"))
    # the documented derivation: per-source prefix, then the (source, item id) hash
    prefix = hashlib.sha1(b"inform").hexdigest()[:8]
    assert first["guid-1"] == prefix + hashlib.sha1(b"inform\0guid-1").hexdigest()[:12]
    assert first["guid-2"].startswith(prefix) and first["guid-2"] != first["guid-1"]


def test_get_item_and_item_by_link(store):
    record_fetch(store, state(), [item(1), item(2)], fetched_at=T0)
    by_link = store.item_by_link("http://www.inform.kz/ru/news/2/?utm_source=tg#top")
    assert by_link is not None and by_link.item.id == "guid-2"
    assert store.get_item(by_link.key) == by_link
    assert store.get_item("no-such-key") is None
    assert store.item_by_link("https://inform.kz/ru/news/999") is None


# -- listing --------------------------------------------------------------------------


def test_iter_items_lists_newest_first_by_published_then_key(store):
    same_time = [item(n, published=T0) for n in range(3)]
    record_fetch(store, state(), [item(5), *same_time, item(9)], fetched_at=T0)
    listed = list(store.iter_items())
    assert [s.published for s in listed] == sorted((s.published for s in listed), reverse=True)
    tied = [s.key for s in listed if s.published == T0]
    assert tied == sorted(tied, reverse=True)
    assert list(store.iter_items(newest_first=False)) == listed[::-1]


def test_key_bounds_split_the_items_into_parts_each_read_once(store):
    record_fetch(store, state(), [item(n) for n in range(1, 11)], fetched_at=T0)
    every = sorted(s.key for s in store.iter_items())
    bounds = store.item_key_bounds(3)
    assert bounds == sorted(bounds) and len(bounds) == 2
    edges = [None, *bounds, None]
    parts = [
        [s.key for s in store.iter_items(key_range=(low, high))]
        for low, high in zip(edges, edges[1:], strict=False)
    ]
    assert sorted(k for part in parts for k in part) == every  # each item in one part
    assert [len(p) for p in parts] == [3, 3, 4]
    assert [s.key for s in store.iter_items(key_range=(bounds[0], None))] == [
        s.key for s in store.iter_items() if s.key >= bounds[0]
    ]


def test_item_texts_are_what_iter_items_gives_of_the_same_items_in_its_order(store, monkeypatch):
    # Several sources, categories or none, a missing summary, content and language,
    # tied times; PostgreSQL reads a few rows a page here, so that paging is seen.
    monkeypatch.setattr("aggregator.store.postgres._PAGE", 3)
    record_fetch(
        store,
        state(),
        [
            item(1, summary="<p>Лид</p>", content="Текст", categories=("Экономика", "Мир")),
            item(2, language="kk", link=None),
            *[item(n, published=T0, summary=f"лид {n}") for n in range(3, 9)],
        ],
        fetched_at=T0,
    )
    record_fetch(store, state("tengri"), [item(1), item(3, title="Другой")], fetched_at=T0)
    every = list(store.iter_items(newest_first=False))
    assert any(len(s.source_ids) == 2 for s in every)

    def fields(s):
        i = s.item
        return (s.key, i.title, i.link, i.summary, i.content, i.language, s.published)

    texts = list(store.iter_item_texts())
    assert [t[:7] for t in texts] == [fields(s) for s in every]
    assert [(t.categories, t.source_ids) for t in texts] == [
        (s.item.categories, s.source_ids) for s in every
    ]
    bounds = store.item_key_bounds(2)
    assert [t.key for t in store.iter_item_texts(key_range=(None, bounds[0]))] == [
        s.key for s in every if s.key < bounds[0]
    ]
    assert [t.key for t in store.iter_item_texts(key_range=(bounds[0], None))] == [
        s.key for s in every if s.key >= bounds[0]
    ]


def test_key_bounds_of_a_store_with_fewer_items_than_parts(store):
    assert store.item_key_bounds(4) == []
    record_fetch(store, state(), [item(1), item(2)], fetched_at=T0)
    bounds = store.item_key_bounds(4)
    edges = [None, *bounds, None]
    parts = [list(store.iter_items(key_range=r)) for r in zip(edges, edges[1:], strict=False)]
    assert [len(p) for p in parts] == [1, 1]  # no empty part


def test_iter_items_filters_by_source_since_and_limit(store):
    record_fetch(store, state("inform"), [item(n) for n in range(1, 6)], fetched_at=T0)
    record_fetch(
        store,
        state("tengri"),
        [Item(id=f"t{n}", title="t", published=T0 - timedelta(hours=n)) for n in range(1, 4)],
        fetched_at=T0,
    )
    assert len(list(store.iter_items())) == 8
    assert {s.source_ids for s in store.iter_items(source_ids=["tengri"])} == {("tengri",)}
    assert len(list(store.iter_items(source_ids=["tengri", "inform"]))) == 8
    assert list(store.iter_items(source_ids=[])) == []
    since = list(store.iter_items(since=T0 - timedelta(hours=2)))
    assert len(since) == 4 and all(s.published >= T0 - timedelta(hours=2) for s in since)
    newest = list(store.iter_items(source_ids=["inform"], limit=2))
    assert [s.item.id for s in newest] == ["guid-1", "guid-2"]


def test_iter_items_is_lazy(store):
    record_fetch(store, state(), [item(n) for n in range(1, 4)], fetched_at=T0)
    listing = store.iter_items()
    assert isinstance(listing, types.GeneratorType)
    assert next(listing).item.id == "guid-1"
    listing.close()


# -- pruning --------------------------------------------------------------------------


def test_prune_deletes_old_items_but_keeps_the_latest_of_each_source(store):
    old = T0 - timedelta(days=200)
    record_fetch(
        store,
        state("inform"),
        [item(n, published=old - timedelta(hours=n)) for n in range(10)],
        fetched_at=old,
    )
    record_fetch(
        store,
        state("tengri"),
        [Item(id=f"t{n}", title="t", published=old - timedelta(hours=n)) for n in range(3)],
        fetched_at=old,
    )
    record_fetch(store, state("inform"), [item(100, published=T0)], fetched_at=T0)

    deleted = store.prune(retention_days=90, keep_latest=4, now=T0)

    assert deleted == 7  # 11 inform items minus the latest 4; tengri has only 3
    inform = [s.item.id for s in store.iter_items(source_ids=["inform"])]
    assert inform == ["guid-100", "guid-0", "guid-1", "guid-2"]
    assert len(list(store.iter_items(source_ids=["tengri"]))) == 3
    assert {s.source_id: s.item_count for s in store.source_states()} == {
        "inform": 4,
        "tengri": 3,
    }


def test_prune_keeps_old_items_a_feed_still_lists(store):
    old = T0 - timedelta(days=200)
    evergreen = item(1, published=old)
    record_fetch(store, state(), [evergreen], fetched_at=old)
    record_fetch(store, state(), [evergreen], fetched_at=T0 - timedelta(days=1))
    assert store.prune(retention_days=90, keep_latest=0, now=T0) == 0
    assert store.prune(retention_days=90, keep_latest=0, now=T0 + timedelta(days=100)) == 1
    assert store.items_count() == 0
    assert store.get_source_state("inform").item_count == 0


def test_prune_keeps_the_last_listing_of_a_source_that_answers_it_has_not_changed(store):
    old = T0 - timedelta(days=200)
    listed = state(last_success=old)
    record_fetch(store, listed, [item(n, published=old) for n in range(3)], fetched_at=old)
    dropped = state(last_success=old + timedelta(hours=1))  # the feed drops item 2
    record_fetch(store, dropped, [item(0, published=old), item(1, published=old)],
                 fetched_at=old + timedelta(hours=1))  # fmt: skip
    # Then a 304 (or the same body) every day: the fetch saves only the source's state.
    store.save_source_state(dataclasses.replace(dropped, last_success=T0 - timedelta(days=1)))

    assert store.prune(retention_days=90, keep_latest=0, now=T0) == 1
    assert sorted(s.item.id for s in store.iter_items()) == ["guid-0", "guid-1"]
    assert store.get_source_state("inform").item_count == 2
    # When the answers stop (the source fails, or is no longer fetched), its last
    # listing ages like any other.
    assert store.prune(retention_days=90, keep_latest=0, now=T0 + timedelta(days=90)) == 2


def test_a_store_from_before_listings_were_recorded_counts_each_source_s_last_fetch(
    store_at,
):
    location = store_at()
    old = T0 - timedelta(days=200)
    with open_storage(location) as s:
        record_fetch(s, state(), [item(n, published=old) for n in range(3)], fetched_at=old)
        later = old + timedelta(hours=1)
        record_fetch(s, state(), [item(0, published=old)], fetched_at=later)
        s.save_source_state(state(last_success=T0 - timedelta(days=1)))  # 304s since
    # As the version before schema step 8 left it: no sources.listed_at (nor the
    # tables of later steps).
    set_back(
        str(location),
        7,
        "DROP TABLE host_holds",
        "DROP TABLE change_log_dropped",
        "ALTER TABLE change_readers DROP COLUMN read_at",
    )

    with open_storage(location) as s:  # migrated: the last fetch that listed items
        assert s.prune(retention_days=90, keep_latest=0, now=T0) == 2
        assert [i.item.id for i in s.iter_items()] == ["guid-0"]


def test_a_source_failing_before_schema_step_12_fails_since_its_last_error_at_least(store_at):
    location = store_at()
    with open_storage(location) as s:
        s.save_source_state(state(last_error="HTTP 500", last_error_at=T0, consecutive_failures=3))
        s.save_source_state(state("ok", last_success=T0))
    # As the version before step 12 left it: no sources.failing_since.
    set_back(str(location), 11)
    with open_storage(location) as s:
        assert s.get_source_state("inform").failing_since == T0  # the earliest it knows of
        assert s.get_source_state("ok").failing_since is None


def test_an_article_two_sources_gave_under_two_sessions_is_one_item_after_step_15(store_at):
    # Before 298679f each session of a link was its own canonical link: a second source
    # carrying the article (as a first source's next fetch would) stored it again.
    location = store_at()
    as_stored_then = "UPDATE items SET canonical_link = link"  # the session kept
    listings = [
        ("inform", "Новость", "первый текст", "a1"),
        ("tengri", "Новость, другой заголовок", "новый текст", "b2"),
    ]
    for hour, (source_id, title, text, token) in enumerate(listings):
        link = f"https://inform.kz/ru/news/1?PHPSESSID={token * 13}"
        with open_storage(location) as s:
            at = T0 + timedelta(hours=hour)
            listed = Item(id=link, title=title, link=link, summary=text, published=T0)
            record_fetch(s, state(source_id), [listed], fetched_at=at)
            if hour == 0:
                first_key = next(s.iter_items()).key
        set_back(str(location), schema.SCHEMA_VERSION, as_stored_then)
    set_back(str(location), 12)
    with open_storage(location) as s:  # upgraded
        (merged,) = s.iter_items()
        counts = {state.source_id: state.item_count for state in s.source_states()}
    assert merged.key == first_key and merged.source_ids == ("inform", "tengri")
    assert merged.item.summary == "новый текст"
    assert counts == {"inform": 1, "tengri": 1}


def test_hundreds_of_articles_each_stored_three_times_are_one_item_each_after_step_15(store_at):
    # Step 15 decides every merge, then applies them all at once (a few statements for
    # the whole store, their rows sent many at a time): here more rows than one such
    # statement takes, each article given by inform, by tengri, then by inform again,
    # each time under a new session.
    location = store_at()
    as_stored_then = "UPDATE items SET canonical_link = link"  # the session kept
    articles = 250

    def listing(session: str, version: str) -> list[Item]:
        return [
            Item(
                id=(link := f"https://inform.kz/ru/news/{n}?PHPSESSID={session * 26}"),
                title=f"Новость {n}",
                link=link,
                summary=f"{version} {n}",
                published=T0 - timedelta(minutes=n),
            )
            for n in range(articles)
        ]

    fetches = [("inform", "a1", "первый"), ("tengri", "b2", "второй"), ("inform", "c3", "третий")]
    for hour, (source_id, session, version) in enumerate(fetches):
        with open_storage(location) as s:
            at = T0 + timedelta(hours=hour)
            record_fetch(s, state(source_id), listing(session, version), fetched_at=at)
            if hour == 0:
                first_keys = {i.item.link: i.key for i in s.iter_items()}
                mark = s.item_changes(None)[0]
        set_back(location, schema.SCHEMA_VERSION, as_stored_then)
    set_back(location, 12)
    with open_storage(location) as s:  # upgraded
        items = list(s.iter_items())
        counts = {st.source_id: st.item_count for st in s.source_states()}
        _, changed, removed = s.item_changes(mark)
    assert len(items) == articles and counts == {"inform": articles, "tengri": articles}
    first = {link.split("?")[0]: key for link, key in first_keys.items()}
    for merged in items:
        n = int(merged.item.link.split("?")[0].rsplit("/", 1)[1])
        assert merged.key == first[f"https://inform.kz/ru/news/{n}"]
        # inform gave it first, and is named first: its own earlier listing renamed
        assert merged.source_ids == ("inform", "tengri")
        assert merged.item.summary == f"третий {n}"  # the text last listed
        assert merged.item.link.endswith("c3" * 26)
    assert sorted(changed) == sorted(first.values()) and len(removed) == 2 * articles
    # inform's listing is the one it gave last, since the first time it gave the article
    listings = item_source_rows(location, "inform")
    assert len(listings) == articles
    assert {item_id.rsplit("=", 1)[1] for item_id, _ in listings} == {"c3" * 26}
    assert {first_seen for _, first_seen in listings} == {T0}


def item_source_rows(location: str, source_id: str) -> list[tuple[str, datetime]]:
    """(item id, first seen) of each listing of ``source_id``."""
    query = "SELECT item_id, first_seen FROM item_sources WHERE source_id = %s"
    if is_postgres_url(location):
        with psycopg.connect(location) as db:
            return db.execute(query, (source_id,)).fetchall()
    with sqlite3.connect(location) as db:
        rows = db.execute(query.replace("%s", "?"), (source_id,)).fetchall()
    return [(item_id, datetime.fromisoformat(first_seen)) for item_id, first_seen in rows]


def test_a_store_the_first_version_made_is_upgraded_through_every_step(store_at):
    # Schema 1 as the first version wrote it: a source that was failing, an article it
    # stored twice under two sessions of its link, another article.  Every step runs on
    # it in one upgrade: the change log, the leases, the listing times, failing_since,
    # the links read again, the article made one item.
    location = store_at()
    times = [T0 + timedelta(days=n) for n in range(3)]
    links = [
        "https://kapital.kz/news/1?PHPSESSID=" + "a1" * 16,
        "https://kapital.kz/news/1?PHPSESSID=" + "b2" * 16,
        "https://kapital.kz/news/2",
    ]
    statements = [
        (
            "INSERT INTO sources (id, url, configured_url, item_count, last_attempt, "
            "last_success, last_error, last_error_at, consecutive_failures) "
            "VALUES ('kapital', 'https://kapital.kz/rss', 'https://kapital.kz/rss', 3, "
            "%s, %s, 'HTTP 500', %s, 2)",
            (times[2], times[1], times[2]),
        )
    ]
    for n, (link, at) in enumerate(zip(links, times, strict=True)):
        title = "Новость 2" if n == 2 else "Новость 1"
        statements += [
            (
                "INSERT INTO items (key, id, canonical_link, title, link, summary, published, "
                "updated, first_seen, content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (f"k{n}", link, link, title, link, f"<p>версия {n}</p>", at, at, at, f"h{n}"),
            ),
            (
                "INSERT INTO item_sources (item_key, source_id, item_id, first_seen, last_seen, "
                "content_hash) VALUES (%s, 'kapital', %s, %s, %s, %s)",
                (f"k{n}", link, at, at, f"h{n}"),
            ),
        ]
    first_version_store(location, statements)

    with open_storage(location) as s:  # upgraded
        items = {i.key: i for i in s.iter_items()}
        source = s.get_source_state("kapital")
        mark = s.item_changes(None)[0]
        record_fetch(s, state("kapital"), [item(9)], fetched_at=times[2] + timedelta(hours=1))
        (new,) = s.item_changes(mark)[1]
        assert s.source_states()[0].item_count == 3
    assert sorted(items) == ["k0", "k2"]
    assert (items["k0"].item.link, items["k0"].item.summary) == (links[1], "<p>версия 1</p>")
    assert items["k0"].source_ids == ("kapital",) and items["k0"].first_seen == times[0]
    assert (source.item_count, source.failing_since) == (2, times[2])
    assert new not in items


def first_version_store(location: str, statements: list[tuple[str, tuple]]) -> None:
    """A store at ``location`` as the first version made it (schema step 1), holding what
    ``statements`` (SQL with %s, and their parameters) insert."""
    if is_postgres_url(location):
        with psycopg.connect(location) as db:
            db.execute("CREATE TABLE aggregator_schema (version INTEGER NOT NULL)")
            db.execute("INSERT INTO aggregator_schema (version) VALUES (1)")
            db.execute(schema.POSTGRES_MIGRATIONS[0])
            for sql, params in statements:
                db.execute(sql, params)
        return
    with sqlite3.connect(location) as db:
        for statement in schema.split_sql(schema.SQLITE_MIGRATIONS[0]):
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        for sql, params in statements:
            as_text = [
                p.isoformat(timespec="microseconds") if isinstance(p, datetime) else p
                for p in params
            ]
            db.execute(sql.replace("%s", "?"), as_text)


def test_prune_drops_items_no_source_lists_any_more(store):
    record_fetch(store, state(), [item(1), item(2)], fetched_at=T0)
    keys = {s.item.id: s.key for s in store.iter_items()}
    # Nothing writes such an item today; a store edited by hand (or by an older
    # version) may hold one, and it could never be listed or updated again.
    location = store.location
    if is_postgres_url(location):
        with psycopg.connect(location) as db:
            db.execute("DELETE FROM item_sources WHERE item_key = %s", (keys["guid-2"],))
    else:
        with sqlite3.connect(location) as db:
            db.execute("DELETE FROM item_sources WHERE item_key = ?", (keys["guid-2"],))
    assert store.prune(retention_days=90, keep_latest=50, now=T0) == 1
    assert [s.item.id for s in store.iter_items()] == ["guid-1"]
    assert store.prune(retention_days=90, keep_latest=50, now=T0) == 0


def test_item_changes_lists_only_what_was_stored_edited_or_removed_since_a_mark(store):
    record_fetch(store, state(), [item(1), item(2), item(3)], fetched_at=T0)
    mark, changed, removed = store.item_changes(None)
    assert (changed, removed) == ([], [])
    assert store.item_changes(mark) == (mark, [], [])

    later = T0 + timedelta(hours=1)
    record_fetch(store, state(), [item(1), item(2, title="Исправлено"), item(4)], fetched_at=later)
    keys = {s.item.id: s.key for s in store.iter_items()}
    now, changed, removed = store.item_changes(mark)
    assert now > mark and removed == []
    assert sorted(changed) == sorted([keys["guid-2"], keys["guid-4"]])  # 1 was unchanged

    store.prune(retention_days=1, keep_latest=0, now=T0 + timedelta(days=400))
    _, changed, removed = store.item_changes(now)
    assert changed == [] and sorted(removed) == sorted(keys.values())


def test_an_item_another_source_attaches_to_is_logged_as_changed_once(store):
    record_fetch(store, state(), [item(1), item(2)], fetched_at=T0)
    mark = store.item_changes(None)[0]
    (first,) = [s.key for s in store.iter_items() if s.item.id == "guid-1"]
    # tengri gives the same article (its link) under its own id, and a new one
    syndicated = dataclasses.replace(item(1), id="tengri-1")
    own = dataclasses.replace(item(9, link="https://tengrinews.kz/9"), id="tengri-9")
    record_fetch(store, state("tengri"), [syndicated, own], fetched_at=T0 + timedelta(hours=1))
    (new,) = [s.key for s in store.iter_items() if s.item.id == "tengri-9"]
    now, changed, removed = store.item_changes(mark)
    assert now > mark and removed == []
    assert sorted(changed) == sorted([first, new])  # each key once: its last change
    assert store.item_changes(now)[1:] == ([], [])


def test_the_change_log_drops_what_every_reader_has_read_and_nothing_else(store):
    record_fetch(store, state(), [item(1), item(2), item(3)], fetched_at=T0)
    first, changed, _ = store.item_changes(0)
    assert len(changed) == 3
    assert store.changes_read("related", first) == 3  # its only reader read them all
    now, changed, removed = store.item_changes(first)
    assert now >= first and (changed, removed) == ([], [])  # the mark never goes back

    record_fetch(store, state(), [item(4)], fetched_at=T0 + timedelta(hours=1))
    (new,) = [s.key for s in store.iter_items() if s.item.id == "guid-4"]
    store.changes_read("house", first)  # a second reader, which has not read item 4
    second = store.item_changes(first)[0]
    assert store.changes_read("related", second) == 0  # kept for the house
    assert store.item_changes(first)[1:] == ([new], [])
    assert store.changes_read("house", second) == 1
    assert change_log_rows(store.location) == 0

    store.prune(retention_days=1, keep_latest=0, now=T0 + timedelta(days=400))
    now, changed, removed = store.item_changes(second)
    assert changed == [] and len(removed) == 4 and now > second  # removals are listed too
    assert store.changes_read("related", now) == 0 and store.changes_read("house", now) == 4


def change_log_rows(location: str) -> int:
    if is_postgres_url(location):
        with psycopg.connect(location) as db:
            return db.execute("SELECT count(*) FROM item_changes").fetchone()[0]
    with sqlite3.connect(location) as db:
        return db.execute("SELECT count(*) FROM item_changes").fetchone()[0]


def test_a_change_log_reader_that_stopped_is_forgotten_and_told_everything_changed(store):
    # `run` read once, then cron ran `related && publish` only: `run` stopped reading.
    record_fetch(store, state(), [item(1), item(2)], fetched_at=T0)
    once = store.item_changes(None)[0]
    store.changes_read("run", once, now=T0)
    day = T0
    for n in range(3, 40):  # related reads every day while items come and go
        day += timedelta(days=1)
        record_fetch(store, state(), [item(n, published=day)], fetched_at=day)
        store.prune(retention_days=10, keep_latest=0, now=day)
        store.changes_read("related", store.item_changes(None)[0], now=day)
        if day < T0 + timedelta(days=30):  # `run` holds back what it has not read
            assert change_log_rows(store.location) >= n - 2
    # Thirty days on, `run` no longer holds the log: it keeps what related has not read.
    assert change_log_rows(store.location) == 0

    # Back after all: what it missed is gone, so everything changed (and it rebuilds).
    now, changed, removed = store.item_changes(once)
    assert sorted(changed) == sorted(s.key for s in store.iter_items()) and removed == []
    assert now == store.item_changes(None)[0]
    store.changes_read("run", now, now=day)
    assert store.item_changes(now)[1:] == ([], [])


def test_item_pruned_and_seen_again_gets_its_old_key_back(store):
    old = T0 - timedelta(days=200)
    record_fetch(store, state(), [item(1, published=old)], fetched_at=old)
    (before,) = store.iter_items()
    store.prune(retention_days=90, keep_latest=0, now=T0)
    record_fetch(store, state(), [item(1, published=old)], fetched_at=T0)
    (after,) = store.iter_items()
    assert after.key == before.key


# -- sources --------------------------------------------------------------------------


def test_sync_sources_creates_states_for_new_sources(store):
    store.sync_sources([SourceConfig(id="inform", name="Kazinform", url="https://inform.kz/rss")])
    assert store.get_source_state("inform") == SourceState(
        source_id="inform", url="https://inform.kz/rss", configured_url="https://inform.kz/rss"
    )
    assert store.get_source_state("nope") is None


def test_sync_sources_keeps_an_adopted_url_while_the_configured_one_is_unchanged(store):
    config = SourceConfig(id="inform", name="Kazinform", url="http://inform.kz/rss")
    store.sync_sources([config])
    st = store.get_source_state("inform")
    st.url, st.etag = "https://www.inform.kz/rss", '"v1"'
    store.save_source_state(st)
    store.sync_sources([config])
    assert store.get_source_state("inform") == st


def test_sync_sources_starts_over_when_the_configured_url_changes(store):
    store.sync_sources([SourceConfig(id="inform", name="K", url="https://inform.kz/rss")])
    st = store.get_source_state("inform")
    st.url = "https://inform.kz/rss2"
    st.etag, st.last_modified, st.body_hash = '"v1"', "Wed, 01 May 2024 10:00:00 GMT", "abc"
    st.consecutive_failures, st.gone, st.title = 3, True, "Казинформ"
    store.save_source_state(st)

    store.sync_sources([SourceConfig(id="inform", name="K", url="https://inform.kz/ru/rss")])
    after = store.get_source_state("inform")
    assert after.url == after.configured_url == "https://inform.kz/ru/rss"
    assert (after.etag, after.last_modified, after.body_hash) == (None, None, None)
    assert (after.consecutive_failures, after.gone) == (0, False)
    assert after.title == "Казинформ"


def test_the_sources_a_sync_would_write_are_the_new_and_the_moved_ones(store):
    # What a worker leaves out while another session holds their rows.
    store.sync_sources([SourceConfig(id="a", name="A", url="https://a.kz/rss")])
    configured = [
        SourceConfig(id="a", name="A", url="https://a.kz/rss"),
        SourceConfig(id="b", name="B", url="https://b.kz/rss"),
    ]
    assert store.unsynced_sources(configured) == ["b"]
    configured[0] = SourceConfig(id="a", name="A", url="https://a.kz/feed")
    assert store.unsynced_sources(configured) == ["a", "b"]
    store.sync_sources(configured)
    assert store.unsynced_sources(configured) == []


def test_sources_removed_from_the_config_keep_their_state(store):
    store.sync_sources([SourceConfig(id="a", name="A", url="https://a.kz/rss")])
    store.sync_sources([SourceConfig(id="b", name="B", url="https://b.kz/rss")])
    assert [s.source_id for s in store.source_states()] == ["a", "b"]
    assert [s.source_id for s in store.source_states(["b", "zzz"])] == ["b"]


def test_save_source_state_round_trips_every_field_but_item_count(store):
    st = SourceState(
        source_id="inform",
        url="https://inform.kz/rss",
        configured_url="http://inform.kz/rss",
        etag='W/"1"',
        last_modified="Wed, 01 May 2024 10:00:00 GMT",
        body_hash="0123",
        title="Казинформ",
        link="https://inform.kz/",
        feed_updated=T0 - timedelta(minutes=1),
        last_attempt=T0,
        last_success=T0 - timedelta(hours=1),
        last_error="HTTP 503 from https://inform.kz/rss",
        last_error_at=T0,
        consecutive_failures=2,
        next_due=T0 + timedelta(minutes=30),
        backoff_until=T0 + timedelta(minutes=10),
        gone=True,
        item_count=999,  # the store counts items itself
        min_interval_seconds=3600,
        encoding="windows-1251 (detected)",
    )
    store.save_source_state(st)
    assert st.item_count == 0
    assert store.get_source_state("inform") == st


def test_url_history_lists_changes_oldest_first(store):
    store.sync_sources([SourceConfig(id="inform", name="K", url="http://inform.kz/rss")])
    store.record_url_change("inform", "http://inform.kz/rss", "https://inform.kz/rss", 301, T0)
    later = T0 + timedelta(days=2)
    store.record_url_change(
        "inform", "https://inform.kz/rss", "https://inform.kz/ru/rss", 308, later
    )
    assert store.url_history("inform") == [
        ("http://inform.kz/rss", "https://inform.kz/rss", 301, T0),
        ("https://inform.kz/rss", "https://inform.kz/ru/rss", 308, later),
    ]
    assert store.url_history("other") == []


# -- crash safety and speed -----------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from aggregator.models import Item, SourceState
    from aggregator.ingest.update import record_fetch
    from aggregator.store import open_storage

    store = open_storage(sys.argv[1])
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    run = 0
    while True:
        for n in range(6):
            sid = f"s{n}"
            st = store.get_source_state(sid) or SourceState(sid, f"https://{sid}.kz", f"https://{sid}.kz")
            items = [
                Item(id=f"{run}-{i}", title=f"Новость {run} {i}", link=f"https://shared.kz/{run}/{i % 20}",
                     content="<p>Текст</p>" * 50, published=t0 + timedelta(minutes=run))
                for i in range(50)
            ]
            record_fetch(store, st, items, fetched_at=t0 + timedelta(minutes=run))
            if run % 7 == 0:
                store.prune(retention_days=1, keep_latest=30, now=t0 + timedelta(minutes=run, days=1))
        if run == 0:
            print("ready", flush=True)
        run += 1
    """
)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5])
def test_store_killed_mid_write_reopens_consistent(tmp_path, delay):
    path = tmp_path / "store.sqlite"
    for attempt in range(2):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            assert writer.stdout.readline() == b"ready\n"
            time.sleep(delay + attempt * 0.03)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            writer.stdout.close()

        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        with open_storage(path) as s:
            states = s.source_states()
            assert states
            for st in states:
                assert st.item_count == sum(1 for _ in s.iter_items(source_ids=[st.source_id]))
            before = s.items_count()
            record_fetch(s, state("after"), [item(attempt, link=None)], fetched_at=T0)
            assert s.items_count() == before + 1


def test_every_refetch_of_fifty_changed_items_stores_each_change_under_the_same_keys(store):
    # How long this takes is measured by benchmarks/store_speed.py, not asserted here.
    def batch(run):
        return [item(i, title=f"{run}-{i}", content="<p>Текст новости</p>" * 30) for i in range(50)]

    record_fetch(store, state(), batch(0), fetched_at=T0)
    first = {s.item.id: s for s in store.iter_items()}
    for run in range(1, 21):
        counts = record_fetch(store, state(), batch(run), fetched_at=T0 + timedelta(minutes=run))
        assert (counts.new, counts.updated) == (0, 50)

    now = {s.item.id: s for s in store.iter_items()}
    assert now.keys() == first.keys() and len(now) == 50 == store.items_count()
    for item_id, stored in now.items():
        assert stored.key == first[item_id].key
        assert stored.first_seen == T0
        assert stored.item.title == f"20-{item_id.removeprefix('guid-')}"
    assert store.get_source_state("inform").item_count == 50
