"""ingest/decide.py: what a fetch writes, decided from data alone (no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.ingest.decide import content_hash, plan_items
from aggregator.models import Item, SeenItem

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
