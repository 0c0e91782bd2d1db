"""ingest/decide.py: what a fetch writes, decided from data alone (no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from aggregator.ingest.decide import (
    content_hash,
    more_stored_times_needed,
    plan_items,
    undated_times,
)
from aggregator.models import Author, Enclosure, Item, SeenItem

FETCHED = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def test_new_changed_and_unchanged_items_are_told_apart_by_their_content():
    old = Item(id="a", title="Старый заголовок", link="https://a.kz/1")
    seen = {
        "a": SeenItem("k1", content_hash(old), FETCHED - timedelta(days=1), None, FETCHED),
        "b": SeenItem(
            "k2",
            content_hash(Item(id="b", title="Без изменений")),
            FETCHED - timedelta(days=1),
            None,
            FETCHED,
        ),
    }
    items = [
        Item(id="a", title="Новый заголовок", link="https://a.kz/1"),
        Item(id="b", title="Без изменений"),
        Item(id="c", title="Новость"),
    ]
    writes, counts = plan_items(items, seen, FETCHED)
    assert [(w.item.id, w.kind, w.key) for w in writes] == [
        ("a", "changed", "k1"),
        ("b", "unchanged", "k2"),
        ("c", "new", None),
    ]
    assert (counts.new, counts.updated, counts.unchanged) == (1, 1, 1)


def test_an_edit_that_keeps_the_feeds_date_keeps_the_stored_published_time():
    published = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    first = Item(id="a", title="Заголовок", published=published)
    stored = SeenItem("k1", content_hash(first), published, published, FETCHED)
    edited = Item(id="a", title="Заголовок (обновлено)", published=published)
    (write,), _ = plan_items([edited], {"a": stored}, FETCHED + timedelta(hours=1))
    assert write.published == published


def test_future_dates_are_clamped_to_the_fetch():
    item = Item(id="a", title="Из будущего", published=FETCHED + timedelta(days=3))
    (write,), _ = plan_items([item], {}, FETCHED)
    assert write.published == write.updated == FETCHED


def test_undated_items_take_the_feeds_date_in_whole_seconds_one_second_apart():
    feed_date = datetime(2018, 6, 1, 12, 0, 0, tzinfo=UTC)
    items = [Item(id=str(n), title=f"Без даты {n}") for n in range(3)]
    writes, _ = plan_items(items, {}, FETCHED, feed_updated=feed_date)
    assert [w.published for w in writes] == [
        feed_date,
        feed_date - timedelta(seconds=1),
        feed_date - timedelta(seconds=2),
    ]
    assert all(w.updated == w.published for w in writes)


def test_undated_items_of_a_feed_without_a_date_take_the_fetch_without_microseconds():
    items = [Item(id=str(n), title=f"Без даты {n}") for n in range(2)]
    writes, _ = plan_items(items, {}, FETCHED)
    assert [w.published for w in writes] == [
        FETCHED.replace(microsecond=0),
        FETCHED.replace(microsecond=0) - timedelta(seconds=1),
    ]


# --- items without any date (undated_times) ------------------------------------------------

SECOND = timedelta(seconds=1)
WHOLE = FETCHED.replace(microsecond=0)


def test_an_undated_item_that_appears_in_a_later_fetch_is_dated_when_first_seen():
    # A source fetched before: what is new in this fetch appeared since the last one,
    # whatever dates its neighbours carry.
    dated = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    times = undated_times(
        [dated, None, None], FETCHED, previous_fetch=FETCHED - timedelta(minutes=30)
    )
    assert times == [None, WHOLE, WHOLE - SECOND]


def test_a_later_fetch_takes_the_feeds_date_only_when_the_feed_changed_after_the_last_fetch():
    previous = FETCHED - timedelta(minutes=30)
    fresh = WHOLE - timedelta(minutes=10)
    assert undated_times([None], FETCHED, feed_updated=fresh, previous_fetch=previous) == [fresh]
    stale = datetime(2002, 4, 3, 15, 0, tzinfo=UTC)  # a feed date nobody updates
    assert undated_times([None], FETCHED, feed_updated=stale, previous_fetch=previous) == [WHOLE]


def test_the_backlog_of_a_first_fetch_goes_below_the_newest_item_already_stored():
    # A feed that dates nothing, added to a running site: its items are of unknown
    # age and must not top the news that carries real dates.
    newest_news = datetime(2026, 3, 2, 9, 0, 0, 500000, tzinfo=UTC)
    times = undated_times([None, None, None], FETCHED, first_fetch=True, stored_times=[newest_news])
    below = newest_news.replace(microsecond=0) - SECOND
    assert times == [below, below - SECOND, below - 2 * SECOND]


def test_undated_items_never_take_a_time_a_stored_item_has():
    # A second feed without dates added beside the first: in a combined output no two
    # entries share a time because of how we dated them.
    news = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first_backlog = [news - SECOND, news - 2 * SECOND]
    times = undated_times(
        [None, None], FETCHED, first_fetch=True, stored_times=[news, *first_backlog]
    )
    assert times == [news - 3 * SECOND, news - 4 * SECOND]
    later = undated_times([None], FETCHED, previous_fetch=news, stored_times=[WHOLE])
    assert later == [WHOLE - SECOND]


def test_more_stored_times_are_asked_for_while_they_could_hide_a_time_in_between():
    news = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    dense = [news - n * SECOND for n in range(5)]
    assert more_stored_times_needed(3, dense)
    assert not more_stored_times_needed(3, [news, news - timedelta(hours=1)])
    assert not more_stored_times_needed(3, [])


def test_in_a_first_fetch_an_undated_item_goes_just_below_the_item_listed_above_it():
    first, second = datetime(2026, 3, 1, 18, 0, tzinfo=UTC), datetime(2026, 2, 27, 7, 0, tzinfo=UTC)
    times = undated_times([first, None, None, second, None], FETCHED, first_fetch=True)
    assert times == [None, first - SECOND, first - 2 * SECOND, None, second - SECOND]


def test_a_first_fetch_into_an_empty_store_dates_its_backlog_by_the_feeds_date_else_the_fetch():
    feed_date = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)
    assert undated_times([None, None], FETCHED, first_fetch=True, feed_updated=feed_date) == [
        feed_date,
        feed_date - SECOND,
    ]
    assert undated_times([None], FETCHED, first_fetch=True) == [WHOLE]


def test_plan_items_gives_undated_new_items_those_times_and_keeps_stored_ones():
    newest_news = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    items = [Item(id=str(n), title=f"Без даты {n}") for n in range(2)]
    writes, _ = plan_items(items, {}, FETCHED, first_fetch=True, stored_times=[newest_news])
    assert [w.published for w in writes] == [newest_news - SECOND, newest_news - 2 * SECOND]
    assert all(w.updated == w.published for w in writes)


def test_one_link_listed_under_two_ids_is_one_item_the_newer_listing():
    older = Item(
        id="guid-1",
        title="Токаев подписал закон",
        link="https://inform.kz/ru/news/123?utm_source=rss",
        published=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    )
    newer = Item(
        id="guid-2",
        title="Токаев  подписал закон",
        summary="<p>Обновлено: подробности.</p>",
        link="https://www.inform.kz/ru/news/123",
        published=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    )
    writes, counts = plan_items([older, newer], {}, FETCHED)
    assert [w.item.id for w in writes] == ["guid-2"]
    assert counts.new == 1


def test_entries_of_a_live_page_sharing_its_link_stay_separate():
    live = "https://inform.kz/ru/live"
    items = [
        Item(id="1", title="09:00 Начало", link=live),
        Item(id="2", title="09:05 Итог", link=live),
    ]
    writes, _ = plan_items(items, {}, FETCHED)
    assert [w.item.id for w in writes] == ["1", "2"]


def test_items_without_a_link_or_linking_the_home_page_are_never_merged():
    items = [
        Item(id="1", title="Один"),
        Item(id="2", title="Два"),
        Item(id="3", title="Три", link="https://inform.kz/"),
        Item(id="4", title="Четыре", link="https://inform.kz/"),
    ]
    writes, _ = plan_items(items, {}, FETCHED)
    assert [w.item.id for w in writes] == ["1", "2", "3", "4"]


def test_an_id_listed_twice_keeps_its_later_version():
    items = [Item(id="a", title="Первый"), Item(id="a", title="Второй")]
    writes, counts = plan_items(items, {}, FETCHED)
    assert [(w.item.title, w.kind) for w in writes] == [("Второй", "new")]
    assert (counts.new, counts.updated) == (1, 1)


def test_a_feed_without_a_date_of_its_own_is_dated_when_its_body_changed():
    from aggregator.config import FetchConfig, SourceConfig
    from aggregator.ingest.decide import plan_fetch
    from aggregator.models import ParsedFeed, SourceState

    source = SourceConfig(id="a", url="https://a.kz/rss")
    state = SourceState(source_id="a", url=source.url, configured_url=source.url)
    feed = ParsedFeed(format="rss20", title="A", items=(Item(id="1", title="Новость"),))
    plan, _ = plan_fetch(
        source, state, feed, {}, body_hash="h1", max_age=None, fetch=FetchConfig(), now=FETCHED
    )
    # What publish gives as its atom:source updated: moved only by a changed body, never
    # by a fetch that finds the feed as it was.
    assert plan.state.feed_updated == FETCHED
    dated = ParsedFeed(format="rss20", updated=FETCHED - timedelta(days=2))
    plan, _ = plan_fetch(
        source, state, dated, {}, body_hash="h2", max_age=None, fetch=FetchConfig(), now=FETCHED
    )
    assert plan.state.feed_updated == FETCHED - timedelta(days=2)


def test_a_content_hash_stays_what_earlier_versions_stored():
    # Stored hashes are compared with new ones: a changed spelling would make every
    # stored item look edited on the next fetch.
    item = Item(
        id="a",
        title="Заголовок «новости»",
        link="https://inform.kz/ru/1",
        summary="<p>Кратко</p>",
        content="<p>Текст</p>",
        published=datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=5))),
        updated=datetime(2026, 3, 1, 3, 30, tzinfo=UTC),
        published_raw="Sun, 01 Mar 2026 08:00:00 +0500",
        authors=(Author(name="Редакция", email="news@inform.kz"),),
        categories=("Политика", "Экономика"),
        enclosures=(Enclosure(url="https://inform.kz/a.jpg", type="image/jpeg", length=1024),),
        language="ru",
    )
    assert content_hash(item) == "9f95cfcded053228993a7e51aaf7dc959b759a09"
