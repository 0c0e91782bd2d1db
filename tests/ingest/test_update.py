"""One ingest run end to end: a real HTTP server on loopback, real SQLite, no mocks."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from feedserver import Response

from aggregator.config import Config, FetchConfig, SiteConfig, SourceConfig, StorageConfig
from aggregator.ingest import update
from aggregator.models import HostHold
from aggregator.store import open_storage

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LOOPBACK = ("127.0.0.0/8",)


def rss(*items: tuple[str, str], title: str = "Казинформ") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>&lt;p&gt;{t}&lt;/p&gt;</description>"
        "<pubDate>Wed, 25 Nov 2026 09:00:00 +0500</pubDate></item>"
        for t, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://www.inform.kz/</link><description>d</description>"
        f"{body}</channel></rss>"
    ).encode()


FEED = rss(
    ("Токаев провёл встречу", "https://www.inform.kz/ru/a1"),
    ("Қазақстан жаңалықтары", "https://www.inform.kz/kz/a2"),
)


def make_config(*sources: SourceConfig, **fetch) -> Config:
    fetch.setdefault("backoff_base", 60)
    return Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.media/"),
        sources=tuple(sources),
        fetch=FetchConfig(allow_private_networks=LOOPBACK, **fetch),
    )


def src(sid: str, url: str, **kw) -> SourceConfig:
    return SourceConfig(id=sid, name=sid, url=url, **kw)


@pytest.fixture
def storage(store_at):
    with open_storage(store_at()) as store:
        yield store


def run(config, storage, now=NOW, **kw):
    return {r.source_id: r for r in update.update(config, storage, now=now, **kw).runs}


def test_a_first_run_stores_every_item_and_the_feed_metadata(feed_server, storage):
    feed_server.route("/rus.xml", body=FEED)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))

    runs = run(config, storage)

    assert runs["kazinform-ru"].status == "updated"
    assert runs["kazinform-ru"].new == 2
    titles = sorted(s.item.title for s in storage.iter_items())
    assert titles == ["Токаев провёл встречу", "Қазақстан жаңалықтары"]
    state = storage.get_source_state("kazinform-ru")
    assert state.title == "Казинформ"
    assert state.last_success == NOW
    assert state.item_count == 2
    assert state.next_due == NOW + timedelta(seconds=config.fetch.interval)


def test_conditional_get_turns_an_unchanged_feed_into_a_304_without_parsing(feed_server, storage):
    feed_server.route(
        "/rus.xml", body=FEED, etag='"v1"', last_modified="Wed, 25 Nov 2026 09:00:00 GMT"
    )
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))
    run(config, storage)

    runs = run(config, storage, select_all=True)

    second = feed_server.requests("/rus.xml")[-1]
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == "Wed, 25 Nov 2026 09:00:00 GMT"
    assert runs["kazinform-ru"].status == "not modified"
    assert storage.items_count() == 2


def test_a_body_with_the_same_hash_is_not_parsed_again(feed_server, storage):
    feed_server.route("/rus.xml", body=FEED)  # no validators: the server always sends 200
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))
    run(config, storage)
    assert run(config, storage, select_all=True)["kazinform-ru"].status == "unchanged"


def test_a_source_is_not_fetched_again_before_it_is_due(feed_server, storage):
    feed_server.route("/rus.xml", body=FEED)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml"), interval=600))
    run(config, storage)
    assert run(config, storage, now=NOW + timedelta(seconds=599)) == {}
    assert "kazinform-ru" in run(config, storage, now=NOW + timedelta(seconds=600))
    assert feed_server.count("/rus.xml") == 2


def test_a_feed_ttl_raises_the_interval(feed_server, storage):
    body = FEED.replace(
        b"<description>d</description>", b"<description>d</description><ttl>120</ttl>"
    )
    feed_server.route("/rus.xml", body=body)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml"), interval=600))
    run(config, storage)
    assert storage.get_source_state("kazinform-ru").next_due == NOW + timedelta(hours=2)


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_is_adopted_and_recorded(feed_server, storage, status):
    feed_server.route("/old.xml", redirect="/new.xml", status=status)
    feed_server.route("/new.xml", body=FEED)
    old, new = feed_server.url("/old.xml"), feed_server.url("/new.xml")
    config = make_config(src("kazinform-ru", old))

    run(config, storage)
    state = storage.get_source_state("kazinform-ru")
    assert state.url == new
    assert state.configured_url == old
    assert [(h[0], h[1], h[2]) for h in storage.url_history("kazinform-ru")] == [(old, new, status)]

    run(config, storage, select_all=True)
    assert feed_server.count("/old.xml") == 1  # the next run goes straight to the new URL


def test_a_redirected_fetch_left_unstored_records_its_move_once(feed_server, postgres):
    # A worker frozen inside a transaction holds the locks on this feed's articles: the
    # redirected fetch is left unstored ("locked"), so the next one starts at the old URL
    # and is redirected again.  Each recorded the move: the history said it twice.
    import psycopg

    from aggregator.store.postgres import LOCK_SPACE, _link_bucket
    from aggregator.text.urls import canonical_url

    feed_server.route("/old.xml", redirect="/new.xml", status=301)
    feed_server.route("/new.xml", body=FEED)
    old, new = feed_server.url("/old.xml"), feed_server.url("/new.xml")
    config = make_config(src("kazinform-ru", old))
    url = postgres.new_store("moved_locked")
    with open_storage(url, lock_timeout=0.3) as storage, psycopg.connect(url) as frozen:
        links = ["https://www.inform.kz/ru/a1", "https://www.inform.kz/kz/a2"]
        frozen.execute(
            "SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::integer[]) AS b",
            (LOCK_SPACE + 1, sorted({_link_bucket(canonical_url(link)) for link in links})),
        )
        for _ in range(2):
            assert run(config, storage, select_all=True)["kazinform-ru"].status == "locked"
        assert feed_server.count("/old.xml") == 2  # nothing stored: not its new URL either
        assert storage.url_history("kazinform-ru") == []
        frozen.rollback()  # the frozen session ends

        assert run(config, storage, select_all=True)["kazinform-ru"].status == "updated"
        assert storage.get_source_state("kazinform-ru").url == new
        assert [h[:3] for h in storage.url_history("kazinform-ru")] == [(old, new, 301)]


@pytest.mark.parametrize("status", [302, 307])
def test_a_temporary_redirect_keeps_the_configured_url(feed_server, storage, status):
    feed_server.route("/old.xml", redirect="/new.xml", status=status)
    feed_server.route("/new.xml", body=FEED)
    old = feed_server.url("/old.xml")
    config = make_config(src("kazinform-ru", old))
    run(config, storage)
    assert storage.get_source_state("kazinform-ru").url == old
    assert storage.url_history("kazinform-ru") == []
    assert storage.items_count() == 2


def test_410_gone_stops_fetching_visibly(feed_server, storage):
    feed_server.route("/rus.xml", status=410)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))

    runs = run(config, storage)
    assert runs["kazinform-ru"].status == "gone"
    state = storage.get_source_state("kazinform-ru")
    assert state.gone and "410" in state.last_error

    assert run(config, storage, now=NOW + timedelta(days=30), select_all=True) == {}
    assert feed_server.count("/rus.xml") == 1
    # Asking for it by name fetches it anyway: the editor may know it is back.
    assert "kazinform-ru" in run(config, storage, only=["kazinform-ru"])


@pytest.mark.parametrize(
    "retry_after, expected",
    [
        ("120", NOW + timedelta(seconds=120)),
        ("Thu, 26 Nov 2026 15:00:00 GMT", NOW + timedelta(hours=3)),
    ],
)
@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_honour_retry_after(feed_server, storage, status, retry_after, expected):
    feed_server.route("/rus.xml", status=status, headers={"Retry-After": retry_after})
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))

    assert run(config, storage)["kazinform-ru"].status == "retry later"
    state = storage.get_source_state("kazinform-ru")
    assert state.backoff_until == expected
    assert run(config, storage, now=expected - timedelta(seconds=1)) == {}


@pytest.mark.parametrize("status, retry_after", [(429, "600"), (503, None)])
def test_a_429_or_503_holds_every_feed_of_its_host_in_this_run_and_the_next(
    feed_server, storage, status, retry_after
):
    # inform.kz's three language feeds share a host; a polite crawler backs off the host.
    feed_server.route("/ru.xml", status=status, headers={"Retry-After": retry_after or ""})
    feed_server.route("/kk.xml", body=FEED)
    feed_server.route("/en.xml", body=FEED)
    feed_server.route("/other.xml", body=rss(("Басқа", "https://other.kz/1")))
    config = make_config(
        src("inform-ru", feed_server.url("/ru.xml")),
        src("inform-kk", feed_server.url("/kk.xml")),
        src("inform-en", feed_server.url("/en.xml")),
        src("other", feed_server.url("/other.xml", host="127.0.0.2")),
        per_host=1,  # the kk and en feeds wait for the ru one's answer
    )

    runs = run(config, storage)
    assert runs["inform-ru"].status == "retry later"
    assert runs["inform-kk"].status == runs["inform-en"].status == "held"
    assert "inform-ru" in runs["inform-kk"].error
    assert runs["other"].status == "updated"  # another host is not held
    assert feed_server.count("/kk.xml") == feed_server.count("/en.xml") == 0
    until = storage.get_source_state("inform-ru").backoff_until
    if retry_after:
        assert until == NOW + timedelta(seconds=600)

    # Later runs leave the host alone until its Retry-After (or backoff) has passed.
    assert run(config, storage, now=until - timedelta(seconds=1)) == {}
    assert feed_server.count("/kk.xml") == feed_server.count("/en.xml") == 0
    again = run(config, storage, now=until)
    assert again["inform-kk"].status == again["inform-en"].status == "updated"
    # Asked for by name, a held source is fetched: the editor asked for exactly that one.
    feed_server.route("/ru.xml", status=status)
    run(config, storage, now=until + timedelta(seconds=1))
    assert "inform-kk" in run(config, storage, now=until + timedelta(seconds=2), only=["inform-kk"])


def test_a_run_whose_own_hold_ended_asks_whether_another_fetcher_holds_the_host_now(
    feed_server, postgres
):
    # The run's ru feed is answered 429 with Retry-After: 1, so the run holds the host
    # for a second; while its kk feed waits (concurrency 1, behind a slow feed of another
    # host), a worker on another machine is answered 429 by that host for ten minutes.
    # The run's hold has ended when kk's turn comes: the worker's, in the store, has not.
    feed_server.route("/ru.xml", status=429, headers={"Retry-After": "1"})
    feed_server.route("/kk.xml", body=FEED)
    config = make_config(
        src("inform-1-ru", feed_server.url("/ru.xml")),
        src("other-2", feed_server.url("/other.xml", host="127.0.0.2")),
        src("inform-3-kk", feed_server.url("/kk.xml")),
        concurrency=1,
    )
    url = postgres.new_store("held-after-own")
    now = datetime.now(UTC)
    hold = HostHold("127.0.0.1", now + timedelta(minutes=10), "inform-0-en", "HTTP 429 at ...")
    with open_storage(url) as storage, open_storage(url) as worker:

        def the_worker_is_answered_429(request):
            worker.hold_host(hold, datetime.now(UTC))
            return Response(body=rss(("Басқа", "https://other.kz/1")), delay=2.0)

        feed_server.route("/other.xml", the_worker_is_answered_429)
        runs = run(config, storage, now)
    assert runs["inform-1-ru"].status == "retry later"
    assert runs["other-2"].status == "updated"
    assert runs["inform-3-kk"].status == "held"
    assert feed_server.count("/kk.xml") == 0
    with open_storage(url) as storage:
        assert storage.get_source_state("inform-3-kk").next_due >= hold.until


def test_a_run_beside_workers_sends_no_queued_request_to_a_host_another_fetcher_holds(
    feed_server, postgres
):
    # A run on a PostgreSQL store has kk in flight and en queued (per_host 1) when a
    # worker on another machine is answered 429 by their host and stores the hold.
    feed_server.route("/kk.xml", body=FEED, delay=1.0)
    feed_server.route("/en.xml", body=FEED)
    config = make_config(
        src("inform-kk", feed_server.url("/kk.xml")),
        src("inform-en", feed_server.url("/en.xml")),
        per_host=1,
        concurrency=1,  # kk first, then en
    )
    url = postgres.new_store("held-meanwhile")
    with open_storage(url) as storage, open_storage(url) as worker:
        running = threading.Thread(target=run, args=(config, storage, datetime.now(UTC)))
        running.start()
        deadline = time.monotonic() + 20
        while feed_server.count("/kk.xml") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        now = datetime.now(UTC)
        hold = HostHold("127.0.0.1", now + timedelta(minutes=10), "inform-ru", "HTTP 429 at ...")
        worker.hold_host(hold, now)
        running.join(20)
        assert feed_server.count("/en.xml") == 0
        assert storage.get_source_state("inform-en").next_due >= hold.until
        assert storage.get_source_state("inform-kk").last_success is not None
        # Started all the same (fetch --all), en is requested: the hold was there before.
        fetched = run(config, storage, datetime.now(UTC), select_all=True)
        assert fetched["inform-en"].status == "updated"
        assert feed_server.count("/en.xml") == 1


def guidless(*items: tuple[str, str]) -> bytes:
    """An RSS feed whose items have no guid: each is identified by its link."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{t}</description></item>"
        for t, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
        f"<link>https://kapital.kz/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def test_an_item_without_a_guid_whose_tracking_parameters_change_is_stored_once(
    feed_server, storage
):
    # The feed's links carry the day's campaign: the same two articles, spelled anew.
    def build(day: int) -> bytes:
        tracking = f"?utm_source=rss&amp;utm_campaign=day{day}"
        return guidless(
            ("Нацбанк сохранил ставку", f"https://kapital.kz/news/1{tracking}"),
            ("Тенге укрепился", f"http://www.kapital.kz/news/2/{tracking}"),
        )

    config = make_config(src("kapital", feed_server.url("/rss.xml")))
    feed_server.route("/rss.xml", body=build(1))
    assert run(config, storage, select_all=True)["kapital"].new == 2
    keys = {s.item.title: s.key for s in storage.iter_items()}
    for day in (2, 3):
        feed_server.route("/rss.xml", body=build(day))
        fetched = run(config, storage, now=NOW + timedelta(days=day), select_all=True)
        assert fetched["kapital"].new == 0
        stored = list(storage.iter_items())
        assert {s.item.title: s.key for s in stored} == keys  # the same entries
        assert {s.item.link.rsplit("=", 1)[1] for s in stored} == {f"day{day}"}
    assert storage.get_source_state("kapital").item_count == 2
    # Another title at that link is another entry (a live page's posts), as is a guid.
    feed_server.route(
        "/rss.xml", body=guidless(("Итоги дня", "https://kapital.kz/news/1?utm_campaign=x"))
    )
    assert run(config, storage, now=NOW + timedelta(days=4), select_all=True)["kapital"].new == 1


def test_failures_back_off_exponentially_and_are_recorded(feed_server, storage):
    feed_server.route("/rus.xml", status=500)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")), backoff_base=60)
    delays = []
    now = NOW
    for _ in range(4):
        run(config, storage, now=now, select_all=True)
        state = storage.get_source_state("kazinform-ru")
        delays.append((state.backoff_until - now).total_seconds())
        now = state.backoff_until
    assert state.consecutive_failures == 4
    assert "500" in state.last_error
    for n, delay in enumerate(delays):
        assert 60 * 2**n / 2 <= delay <= 60 * 2**n


def test_one_broken_source_does_not_stop_the_others(feed_server, storage):
    feed_server.route("/good.xml", body=FEED)
    feed_server.route("/page.html", body=b"<!DOCTYPE html><html><body>Not a feed</body></html>")
    feed_server.route("/empty.xml", body=b"")
    feed_server.route("/down.xml", status=500)
    config = make_config(
        src("good", feed_server.url("/good.xml")),
        src("page", feed_server.url("/page.html")),
        src("empty", feed_server.url("/empty.xml")),
        src("down", feed_server.url("/down.xml")),
        src("missing", "/nonexistent/feed.xml"),
    )

    runs = run(config, storage)

    assert runs["good"].new == 2
    assert "HTML page" in runs["page"].error
    assert "empty" in runs["empty"].error
    assert "500" in runs["down"].error
    assert "not found" in runs["missing"].error
    for sid in ("page", "empty", "down", "missing"):
        assert storage.get_source_state(sid).consecutive_failures == 1


def test_a_slow_source_does_not_delay_the_others(feed_server, storage):
    feed_server.route("/slow.xml", body=FEED, drip=0.05)  # ~20 s for the whole body
    for n in range(5):
        feed_server.route(f"/fast{n}.xml", body=FEED)
    config = make_config(
        src("slow", feed_server.url("/slow.xml"), timeout=1.5),
        *[src(f"fast{n}", feed_server.url(f"/fast{n}.xml")) for n in range(5)],
    )
    order = []
    report = update.update(config, storage, now=NOW, on_result=lambda r: order.append(r.source_id))
    assert order[-1] == "slow"
    runs = {r.source_id: r for r in report.runs}
    assert "deadline" in runs["slow"].error
    assert all(runs[f"fast{n}"].status == "updated" for n in range(5))


def test_the_same_article_through_two_feeds_is_stored_once(feed_server, storage):
    feed_server.route("/a.xml", body=rss(("Новость", "https://www.inform.kz/ru/a1?utm_source=rss")))
    feed_server.route("/b.xml", body=rss(("Новость", "http://inform.kz/ru/a1/")))
    config = make_config(src("a", feed_server.url("/a.xml")), src("b", feed_server.url("/b.xml")))
    run(config, storage)
    [stored] = list(storage.iter_items())
    assert set(stored.source_ids) == {"a", "b"}


def test_an_item_seen_again_is_updated_in_place(feed_server, storage):
    feed_server.route("/rus.xml", body=FEED)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))
    run(config, storage)
    keys = sorted(s.key for s in storage.iter_items())
    feed_server.route("/rus.xml", body=FEED.replace("встречу".encode(), "две встречи".encode()))

    runs = run(config, storage, select_all=True)

    assert (runs["kazinform-ru"].new, runs["kazinform-ru"].updated) == (0, 1)
    assert sorted(s.key for s in storage.iter_items()) == keys
    assert "Токаев провёл две встречи" in {s.item.title for s in storage.iter_items()}


def test_an_item_without_a_date_gets_its_first_seen_time_and_keeps_it(feed_server, storage):
    body = FEED.replace(b"<pubDate>Wed, 25 Nov 2026 09:00:00 +0500</pubDate>", b"")
    feed_server.route("/rus.xml", body=body)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))
    run(config, storage)
    first = {s.key: s.published for s in storage.iter_items()}
    feed_server.route("/rus.xml", body=body + b" ")  # new hash: parsed again
    run(config, storage, now=NOW + timedelta(hours=1), select_all=True)
    assert {s.key: s.published for s in storage.iter_items()} == first
    # whole seconds of the first fetch, one second apart: no two share a time
    assert len(set(first.values())) == len(first)
    assert all(NOW - timedelta(minutes=1) < t <= NOW and t.microsecond == 0 for t in first.values())


def test_a_source_added_later_without_dates_lists_its_backlog_below_the_news(feed_server, storage):
    feed_server.route("/rus.xml", body=FEED)  # dated: Wed, 25 Nov 2026 09:00 +0500
    dated = src("kazinform-ru", feed_server.url("/rus.xml"))
    run(make_config(dated), storage)
    undated = FEED.replace(b"<pubDate>Wed, 25 Nov 2026 09:00:00 +0500</pubDate>", b"")
    undated = undated.replace(b"inform.kz/", b"undated.kz/")
    feed_server.route("/undated.xml", body=undated)
    added = make_config(dated, src("undated", feed_server.url("/undated.xml")))

    run(added, storage, now=NOW + timedelta(hours=1), only=["undated"])

    news = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    backlog = [s.published for s in storage.iter_items(source_ids=["undated"])]
    assert backlog == [news - timedelta(seconds=1), news - timedelta(seconds=2)]
    # What appears in a later fetch is new: dated when first seen.
    later = undated.replace(b"<item>", b"<item><title>Fresh</title><guid>f</guid></item><item>", 1)
    feed_server.route("/undated.xml", body=later)
    run(added, storage, now=NOW + timedelta(hours=2), only=["undated"])
    (fresh,) = [s for s in storage.iter_items(source_ids=["undated"]) if s.item.id == "f"]
    assert fresh.published == NOW + timedelta(hours=2)


def test_items_stored_by_an_older_version_are_parsed_again_though_the_feed_is_unchanged(
    feed_server, storage
):
    # An older version resolved an item's relative links against the feed's URL; the
    # server answers 304 to the validators it kept, so only an unconditional fetch and a
    # fresh parse can mend what it stored.
    relative = "&lt;p&gt;&lt;a href=&quot;/ru/a1/photo&quot;&gt;Фото&lt;/a&gt;&lt;/p&gt;"
    body = FEED.replace(b"&lt;p&gt;\xd0\xa2", relative.encode() + b"&lt;p&gt;\xd0\xa2", 1)
    assert body != FEED
    feed_server.route("/rus.xml", body=body, etag='"v1"')
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))
    run(config, storage)
    state = storage.get_source_state("kazinform-ru")
    (stored,) = [s for s in storage.iter_items() if s.item.link.endswith("/a1")]
    assert 'href="https://www.inform.kz/ru/a1/photo"' in stored.item.summary
    wrong = stored.item.summary.replace("https://www.inform.kz/", feed_server.url("/"))
    old = replace(stored.item, summary=wrong)
    update.record_fetch(storage, state, [old], fetched_at=NOW)
    storage.save_source_state(replace(state, body_hash=hashlib.sha256(body).hexdigest()))

    runs = run(config, storage, now=NOW + timedelta(hours=1), select_all=True)

    assert "if-none-match" not in feed_server.requests("/rus.xml")[-1].headers
    assert (runs["kazinform-ru"].status, runs["kazinform-ru"].updated) == ("updated", 1)
    (mended,) = [s for s in storage.iter_items() if s.item.link.endswith("/a1")]
    assert 'href="https://www.inform.kz/ru/a1/photo"' in mended.item.summary
    # Parsed under the current rules now: the next fetch is conditional again (304).
    assert (
        run(config, storage, now=NOW + timedelta(hours=2), select_all=True)["kazinform-ru"].status
        == "not modified"
    )


@pytest.mark.parametrize(
    ("first", "then"),
    [({"timezone": "Asia/Almaty"}, {"timezone": "UTC"}), ({}, {"encoding": "windows-1251"})],
)
def test_a_source_whose_timezone_or_encoding_is_set_has_its_feed_read_again_though_unchanged(
    feed_server, storage, first, then
):
    # status said its dates say no offset (or how its bytes were guessed); the editor
    # sets the key. The server answers 304 to the validators kept: only an unconditional
    # fetch brings the body back to be read by the key.
    body = FEED.replace(b"Wed, 25 Nov 2026 09:00:00 +0500", b"2026-11-25T09:00:00")
    feed_server.route("/rus.xml", body=body, etag='"v1"')
    run(make_config(src("kazinform-ru", feed_server.url("/rus.xml"), **first)), storage)
    assert run(
        make_config(src("kazinform-ru", feed_server.url("/rus.xml"), **first)),
        storage, now=NOW + timedelta(hours=1), select_all=True,
    )["kazinform-ru"].status == "not modified"  # fmt: skip

    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml"), **then))
    runs = run(config, storage, now=NOW + timedelta(hours=2), select_all=True)
    assert "if-none-match" not in feed_server.requests("/rus.xml")[-1].headers
    assert runs["kazinform-ru"].status == "updated", runs["kazinform-ru"]
    stored = {s.item.link: s for s in storage.iter_items()}["https://www.inform.kz/ru/a1"]
    if "timezone" in then:  # 09:00 read as UTC now, not as Almaty's 04:00 UTC
        assert stored.published == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    else:  # the UTF-8 bytes read as windows-1251, as the editor asked
        assert stored.item.title != "Токаев провёл встречу"
    # Read under its keys now: the next fetch is conditional again (304).
    again = run(config, storage, now=NOW + timedelta(hours=3), select_all=True)
    assert again["kazinform-ru"].status == "not modified"


def test_a_date_in_the_far_future_is_clamped_to_the_fetch_time(feed_server, storage):
    body = FEED.replace(b"Wed, 25 Nov 2026", b"Sat, 25 Nov 2034")
    feed_server.route("/rus.xml", body=body)
    config = make_config(src("kazinform-ru", feed_server.url("/rus.xml")))
    run(config, storage)
    stored = next(storage.iter_items())
    assert stored.published == NOW
    assert stored.item.published_raw == "Sat, 25 Nov 2034 09:00:00 +0500"


def test_ssrf_guard_refuses_loopback_unless_allowed(feed_server, storage):
    feed_server.route("/rus.xml", body=FEED)
    source = src("kazinform-ru", feed_server.url("/rus.xml"))
    closed = Config(site=SiteConfig(title="t", link="https://eurasia24.media/"), sources=(source,))
    runs = run(closed, storage)
    assert "loopback" in runs["kazinform-ru"].error
    assert feed_server.count("/rus.xml") == 0

    per_source = Config(
        site=closed.site,
        sources=(
            src("kazinform-ru", feed_server.url("/rus.xml"), allow_private_networks=LOOPBACK),
        ),
    )
    assert run(per_source, storage, select_all=True)["kazinform-ru"].new == 2


def test_local_files_are_sources_too(tmp_path, storage):
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    config = make_config(src("local", str(path)), src("file-url", path.as_uri()))
    runs = run(config, storage)
    assert runs["local"].new == 2
    assert storage.items_count() == 2  # the same articles through both


def test_past_the_first_few_changed_feeds_workers_parse_and_store_the_rest(feed_server, storage):
    count = update.PARSE_POOL_THRESHOLD + 2
    sources = []
    for n in range(count):
        feed_server.route(f"/f{n}.xml", body=rss((f"Новость {n}", f"https://kapital.kz/n/{n}")))
        sources.append(src(f"s{n}", feed_server.url(f"/f{n}.xml", host=f"127.0.0.{2 + n % 3}")))
    config = make_config(*sources)
    report = update.update(config, storage, now=NOW)
    # More first fetches than a run parses itself: every body goes to the workers.
    assert report.new_items == count
    assert report.stored_by_workers == count
    assert storage.items_count() == count

    for n in range(count):  # every feed changes: the first few are parsed in the run itself
        feed_server.route(f"/f{n}.xml", body=rss((f"Ещё {n}", f"https://kapital.kz/m/{n}")))
    report = update.update(config, storage, now=NOW + timedelta(hours=1), select_all=True)
    assert report.new_items == count
    assert report.stored_by_workers == count - update.PARSE_POOL_THRESHOLD
    assert storage.items_count() == 2 * count


def test_items_past_retention_are_pruned_but_the_latest_per_source_stay(feed_server, storage):
    old = rss(("Старая 1", "https://kapital.kz/o1"), ("Старая 2", "https://kapital.kz/o2"))
    feed_server.route("/rus.xml", body=old.replace(b"Nov 2026", b"Nov 2020"))
    config = Config(
        site=SiteConfig(title="t", link="https://eurasia24.media/"),
        sources=(src("kapital", feed_server.url("/rus.xml")),),
        fetch=FetchConfig(allow_private_networks=LOOPBACK),
        storage=StorageConfig(retention_days=1, keep_latest=1),
    )
    run(config, storage)
    assert storage.items_count() == 2  # old, but the feed still lists them

    feed_server.route("/rus.xml", body=rss(("Новая", "https://kapital.kz/n1")))
    report = update.update(config, storage, now=NOW + timedelta(days=2), select_all=True)

    assert report.pruned == 2
    assert [s.item.title for s in storage.iter_items()] == ["Новая"]
    assert storage.get_source_state("kapital").item_count == 1


# -- retention: what a quiet feed keeps listing is kept ---------------------------------

RETENTION = StorageConfig(retention_days=90, keep_latest=50)


def dated_feed(numbers, *, newest: datetime | None = None) -> bytes:
    """A feed listing item n of ``numbers`` dated n hours before a day before NOW (and,
    with ``newest``, one more item dated then, on top)."""
    entries = [(f"Новость {n}", NOW - timedelta(days=1, hours=n)) for n in numbers]
    if newest is not None:
        entries.insert(0, ("Свежая новость", newest))
    body = "".join(
        f"<item><title>{title}</title><link>https://kapital.kz/{sha(title)}</link>"
        f"<guid>https://kapital.kz/{sha(title)}</guid>"
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item>"
        for title, when in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Капитал</title><link>https://kapital.kz/</link><description>d</description>"
        f"{body}</channel></rss>"
    ).encode()


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def quiet_and_busy(feed_server) -> Config:
    """A quiet source and a busy one, whose news every run makes the run prune."""
    return replace(
        make_config(
            src("quiet", feed_server.url("/quiet.xml")), src("busy", feed_server.url("/busy.xml"))
        ),
        storage=RETENTION,
    )


def run_on(config, storage, feed_server, day: int) -> dict:
    """A run ``day`` days after NOW in which the busy source brings one new item."""
    feed_server.route("/busy.xml", body=rss((f"Новость дня {day}", f"https://busy.kz/{day}")))
    report = update.update(config, storage, now=NOW + timedelta(days=day), select_all=True)
    assert {r.source_id: r.new for r in report.runs}["busy"] == 1  # so the run prunes
    return {r.source_id: r for r in report.runs}


def stored(storage, source_id="quiet") -> dict:
    return {s.item.title: (s.key, s.first_seen) for s in storage.iter_items(source_ids=[source_id])}


@pytest.mark.parametrize(
    ("validators", "answer"), [({"etag": '"v1"'}, "not modified"), ({}, "unchanged")]
)
def test_a_feed_unchanged_for_longer_than_retention_days_keeps_every_item_it_lists(
    feed_server, storage, validators, answer
):
    # 60 items, more than keep_latest protects; the feed then answers 304 (or sends the
    # same body) for 120 days: each such answer says it still lists all 60.
    feed_server.route("/quiet.xml", body=dated_feed(range(60)), **validators)
    config = quiet_and_busy(feed_server)
    run_on(config, storage, feed_server, 0)
    first = stored(storage)
    assert len(first) == 60

    for day in range(10, 130, 10):
        assert run_on(config, storage, feed_server, day)["quiet"].status == answer
    assert stored(storage) == first

    # When the feed changes at last, only its new item is new: none of the 60 comes
    # back as new (re-published, re-matched) under a new key.
    feed_server.route(
        "/quiet.xml", body=dated_feed(range(60), newest=NOW + timedelta(days=129)), etag='"v2"'
    )
    quiet = run_on(config, storage, feed_server, 130)["quiet"]
    assert (quiet.status, quiet.new, quiet.updated) == ("updated", 1, 0)
    now = stored(storage)
    assert len(now) == 61 and {title: now[title] for title in first} == first


def test_an_item_a_feed_drops_is_pruned_retention_days_after_it_was_last_listed(
    feed_server, storage
):
    feed_server.route("/quiet.xml", body=dated_feed(range(60)), etag='"v1"')
    config = quiet_and_busy(feed_server)
    run_on(config, storage, feed_server, 0)
    # A day later the feed drops its oldest item (beyond the newest 50 kept in any
    # case), then answers 304: that answer confirms the 59 it lists, not the one it
    # dropped.
    feed_server.route("/quiet.xml", body=dated_feed(range(59)), etag='"v2"')
    assert run_on(config, storage, feed_server, 1)["quiet"].status == "no new items"
    for day in range(10, 100, 10):
        assert run_on(config, storage, feed_server, day)["quiet"].status == "not modified"
    assert len(stored(storage)) == 60  # day 90: last listed 90 days ago, not before

    assert run_on(config, storage, feed_server, 91)["quiet"].status == "not modified"
    assert set(first := stored(storage)) == {f"Новость {n}" for n in range(59)}
    assert storage.get_source_state("quiet").item_count == 59
    for day in range(100, 200, 10):  # the 59 it still lists stay
        run_on(config, storage, feed_server, day)
    assert stored(storage) == first
