"""Leases outlive a slow fetch or parse: the holder renews them while it works, so no
second fetcher takes a source that is still being fetched (PostgreSQL, short leases)."""

from __future__ import annotations

import threading
import time

import psycopg
from test_worker import start_worker, write_config

from aggregator.ingest.leases import LeaseKeeper
from aggregator.models import SourceState
from aggregator.store import open_storage


def states(*ids):
    return [SourceState(i, f"https://{i}.kz/rss", f"https://{i}.kz/rss") for i in ids]


def new_store(postgres, *ids):
    url = postgres.new_store("leases")
    with open_storage(url) as store:
        for state in states(*ids):
            store.save_source_state(state)
    return url


def test_a_renewed_lease_stays_with_its_holder_and_a_taken_one_is_not_renewed(postgres):
    url = new_store(postgres, "a", "b")
    with open_storage(url) as first, open_storage(url) as second:
        assert [s.source_id for s in first.lease(["a", "b"], holder="one", seconds=0.5)] == [
            "a",
            "b",
        ]
        assert first.renew(["a"], holder="one", seconds=60) == ["a"]
        time.sleep(0.6)  # b's lease ran out, a's was renewed
        assert [s.source_id for s in second.lease(["a", "b"], holder="two", seconds=60)] == ["b"]
        assert first.renew(["a", "b"], holder="one", seconds=60) == ["a"]  # b is two's now


def test_an_expired_lease_no_one_took_is_renewed(postgres):
    url = new_store(postgres, "a")
    with open_storage(url) as store:
        store.lease(["a"], holder="one", seconds=0.1)
        time.sleep(0.2)
        assert store.renew(["a"], holder="one", seconds=60) == ["a"]
        assert store.lease(["a"], holder="two", seconds=60) == []


def test_the_keeper_renews_while_the_fetcher_is_blocked_longer_than_the_lease(postgres):
    url = new_store(postgres, "slow", "other")
    with open_storage(url) as fetcher, open_storage(url) as rival:
        fetcher.lease(["slow", "other"], holder="one", seconds=1.0)
        with LeaseKeeper(fetcher.location, "one", 1.0) as keeper:
            keeper.hold(["slow"])  # "other" is not in flight: its lease runs out
            # This thread stands for a parse blocking the fetcher's event loop for 3.5
            # lease times; the rival tries all along.
            deadline = time.monotonic() + 3.5
            taken = []
            while time.monotonic() < deadline:
                taken += [s.source_id for s in rival.lease(["slow"], holder="two", seconds=60)]
                time.sleep(0.05)
            assert taken == []
            assert keeper.renewals >= 5
            assert keeper.lost == set()
            keeper.drop(["slow"])
        fetcher.release(["slow"], holder="one")
        assert [s.source_id for s in rival.lease(["slow", "other"], holder="two", seconds=60)] == [
            "other",
            "slow",
        ]


def test_without_renewals_the_rival_would_take_the_source(postgres):
    """The control for the test above: a lease not renewed goes to another fetcher."""
    url = new_store(postgres, "slow")
    with open_storage(url) as fetcher, open_storage(url) as rival:
        fetcher.lease(["slow"], holder="one", seconds=1.0)
        time.sleep(1.1)
        assert [s.source_id for s in rival.lease(["slow"], holder="two", seconds=60)] == ["slow"]


def test_a_lease_another_fetcher_took_meanwhile_is_reported_lost_not_taken_back(postgres):
    url = new_store(postgres, "a", "b")
    with open_storage(url) as fetcher, open_storage(url) as rival:
        fetcher.lease(["a", "b"], holder="one", seconds=0.2)
        time.sleep(0.3)  # this fetcher was frozen longer than the lease
        rival.lease(["a"], holder="two", seconds=60)
        with LeaseKeeper(fetcher.location, "one", 0.3) as keeper:
            keeper.hold(["a", "b"])
            time.sleep(0.35)
        assert keeper.lost == {"a"}
        with psycopg.connect(url) as db:
            held = db.execute("SELECT id, leased_by FROM sources ORDER BY id").fetchall()
        assert held == [("a", "two"), ("b", "one")]


def test_a_fetch_slower_than_the_lease_is_fetched_by_one_worker_only(
    postgres, feed_server, tmp_path
):
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Медленная</title>'
        "<item><title>Новость</title><guid>1</guid></item></channel></rss>"
    ).encode()
    for n in range(3):
        # Four lease times (--lease 1) to answer: without renewals every worker polling
        # meanwhile would fetch it again.
        feed_server.route(f"/f{n}.xml", body=feed, delay=4.0 if n == 0 else 0)
    url = postgres.new_store("slow")
    config = write_config(tmp_path, url, feed_server, feeds=3)
    open_storage(url).close()
    first = start_worker(config, lease=1)
    workers = [first]
    try:
        deadline = time.monotonic() + 30
        while feed_server.count("/f0.xml") == 0:  # the slow fetch is in flight
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        workers += [start_worker(config, lease=1), start_worker(config, lease=1)]
        with psycopg.connect(url, autocommit=True) as db:
            while db.execute("SELECT last_success FROM sources WHERE id = 's0'").fetchone() == (
                None,
            ):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        time.sleep(1.5)  # a wrong second fetch would show now
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.communicate(timeout=30)
    assert feed_server.count("/f0.xml") == 1
    assert all(worker.returncode == 0 for worker in workers)


def test_a_run_longer_than_its_leases_keeps_its_sources_from_workers(
    postgres, feed_server, monkeypatch
):
    from datetime import UTC, datetime

    from aggregator.config import Config, FetchConfig, SiteConfig, SourceConfig
    from aggregator.ingest import schedule, update

    feed_server.route(
        "/slow.xml",
        body=b'<rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
        b"<title>x</title></item></channel></rss>",
        delay=3.0,
    )
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.media/"),
        sources=(SourceConfig(id="slow", name="slow", url=feed_server.url("/slow.xml")),),
        fetch=FetchConfig(allow_private_networks=("127.0.0.0/8",)),
    )
    monkeypatch.setattr(schedule, "lease_seconds", lambda fetch, sources: 0.6)
    url = postgres.new_store("run")
    taken = []
    stop = threading.Event()

    leased = threading.Event()  # the run holds its lease: from then on a rival polls
    released = threading.Event()  # from then on the source is free to take

    def rival() -> None:  # a worker polling all along
        with open_storage(url) as store:
            leased.wait(timeout=30)  # a rival first would simply win the source
            while not stop.is_set():
                got = [s.source_id for s in store.lease(["slow"], holder="w", seconds=60)]
                if not released.is_set():
                    taken.extend(got)
                time.sleep(0.05)

    with open_storage(url) as store:
        store.sync_sources(config.sources)
        release = store.release

        def release_then_free(source_ids, *, holder):
            released.set()
            release(source_ids, holder=holder)

        monkeypatch.setattr(store, "release", release_then_free)
        lease = store.lease

        def lease_then_tell(*args, **kwargs):
            try:
                return lease(*args, **kwargs)
            finally:
                leased.set()

        monkeypatch.setattr(store, "lease", lease_then_tell)
        thread = threading.Thread(target=rival)
        thread.start()
        try:
            report = update.update(config, store, now=datetime.now(UTC))
        finally:
            stop.set()
            thread.join()
    assert [(r.status, r.new) for r in report.runs] == [("updated", 1)]
    assert feed_server.count("/slow.xml") == 1
    assert taken == []
