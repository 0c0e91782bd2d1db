"""Fetch workers against one PostgreSQL store: several processes, each source fetched
once per due period, nothing lost when a worker is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from configs import STAMP
from feedserver import Response

from aggregator.config import Config, FetchConfig, SiteConfig, SourceConfig
from aggregator.ingest.update import record_fetch
from aggregator.ingest.worker import LOCK_TIMEOUT_SECONDS, work
from aggregator.models import HostHold, Item
from aggregator.store import open_storage
from aggregator.store.postgres import LOCK_SPACE, _link_bucket
from aggregator.text.urls import canonical_url

ROOT = Path(__file__).resolve().parents[2]
FEEDS = 300
OWN = 4  # items only this feed has; plus one article every feed of its trio syndicates


def rss(n: int) -> bytes:
    items = [
        f"<item><title>Новость {n}-{i}</title><link>https://s{n}.example.kz/news/{i}</link>"
        f"<guid>s{n}-{i}</guid><description>Текст {n} {i}</description></item>"
        for i in range(OWN)
    ]
    trio = n // 3
    items.append(
        f"<item><title>Общая новость {trio}</title><link>https://wire.example.kz/{trio}</link>"
        f"<guid>shared-{n}</guid></item>"
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Лента {n}</title><link>https://s{n}.example.kz/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


def write_config(tmp_path: Path, url: str, feed_server, feeds: int = FEEDS) -> Path:
    lines = [
        "site: {title: Евразия24, link: 'https://eurasia24.kz/'}",
        f"storage: {{url: '{url}'}}",
        "fetch: {interval: 1h, allow_private_networks: [127.0.0.0/8], per_host: 64}",
        "sources:",
    ]
    for n in range(feeds):
        lines.append(f"  - {{id: s{n}, name: Лента {n}, url: '{feed_server.url(f'/f{n}.xml')}'}}")
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_worker(
    config: Path, lease: float = 3, *, verbose: bool = False, name: str = "aggregator-worker"
) -> subprocess.Popen:
    """A worker process; ``name`` is its connections' application_name (pg_stat_activity
    tells them apart by it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", *(["-v"] if verbose else []), "--config",
         str(config), "worker", "--concurrency", "8", "--lease", str(lease), "--poll", "0.3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PGAPPNAME": name},
    )  # fmt: skip


def backends(url: str, name: str, *, terminate: bool = False) -> list[tuple[str, bool]]:
    """The server's sessions of the worker named ``name`` (their state, and whether one
    is inside a transaction), or, with ``terminate``, ended as a dropped connection is."""
    what = "pg_terminate_backend(pid)::text, true" if terminate else "state, xact_start IS NOT NULL"
    with psycopg.connect(url, autocommit=True) as db:
        return db.execute(
            f"SELECT {what} FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()


def fetched(url: str) -> int:
    with psycopg.connect(url) as db:
        return db.execute("SELECT count(*) FROM sources WHERE last_success IS NOT NULL").fetchone()[
            0
        ]


def wait_for(condition, workers, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for worker in workers:
            if worker.poll() not in (None, -signal.SIGKILL):
                raise AssertionError(f"a worker exited: {worker.stderr.read().decode()}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stop(workers: list[subprocess.Popen]) -> list[str]:
    """SIGTERM to each of ``workers`` at once, then what each said on stderr: each must
    stop cleanly (exit status 0)."""
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    said = []
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err.decode()
        said.append(err.decode())
    return said


def kill_left(workers: list[subprocess.Popen]) -> None:
    """Kill whatever of ``workers`` still runs (after a failed assertion)."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def stopped_worker(
    config: Path, until: Callable[[], bool], *, linger: float = 0.0, verbose: bool = False
) -> tuple[int, str, str]:
    """A worker process run until ``until()`` holds (and ``linger`` seconds more), then
    stopped with SIGTERM: its exit status, what it printed and what it said on stderr."""
    worker = start_worker(config, verbose=verbose)
    try:
        wait_for(until, [worker])
        time.sleep(linger)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        kill_left([worker])
    return worker.returncode, out.decode(), err.decode()


def test_three_workers_fetch_every_source_once_per_due_period_and_a_killed_one_loses_nothing(
    postgres, feed_server, tmp_path
):
    for n in range(FEEDS):
        feed_server.route(f"/f{n}.xml", body=rss(n), delay=0.1)
    url = postgres.new_store("workers")
    config = write_config(tmp_path, url, feed_server)
    open_storage(url).close()  # the schema, before the workers race to create it
    workers = [start_worker(config) for _ in range(3)]
    try:
        wait_for(lambda: fetched(url) >= FEEDS // 4, workers)
        workers[0].send_signal(signal.SIGKILL)  # mid-run: up to 8 fetches in flight
        workers[0].wait()
        wait_for(lambda: fetched(url) == FEEDS, workers)

        # The next due period: every source is due again; the two left fetch them all.
        first_period = {n: feed_server.count(f"/f{n}.xml") for n in range(FEEDS)}
        with psycopg.connect(url) as db:
            db.execute(
                "UPDATE sources SET next_due = now() - interval '1 second', last_success = NULL"
            )
        wait_for(lambda: fetched(url) == FEEDS, workers)
        time.sleep(1)  # long enough for a wrong second fetch to show
        stop(workers[1:])
    finally:
        kill_left(workers)

    # Fetched once per period; only what the killed worker had in flight, again.
    again = [n for n, count in first_period.items() if count > 1]
    assert all(count <= 2 for count in first_period.values())
    assert len(again) <= 8, again
    second = {n: feed_server.count(f"/f{n}.xml") - first_period[n] for n in range(FEEDS)}
    assert set(second.values()) == {1}
    # Every item stored once: a trio's shared article is one item with three sources.
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (FEEDS * OWN + FEEDS // 3,)
        assert db.execute("SELECT count(*) FROM item_sources").fetchone() == (FEEDS * (OWN + 1),)
        shared = db.execute(
            "SELECT count(*) FROM item_sources s JOIN items i ON i.key = s.item_key "
            "WHERE i.canonical_link LIKE 'https://wire.example.kz/%' GROUP BY i.key"
        ).fetchall()
        assert shared == [(3,)] * (FEEDS // 3)
        assert db.execute("SELECT count(*) FROM sources WHERE lease_until > now()").fetchone() == (
            0,
        )


async def work_meanwhile(config: Config, storage, meanwhile: Callable[[], Awaitable[None]]) -> None:
    """A worker fetches while ``meanwhile`` runs (20 s at most), then stops."""
    stop = asyncio.Event()
    working = asyncio.ensure_future(work(config, storage, stop, lease_seconds=30, poll_seconds=0.1))
    try:
        async with asyncio.timeout(20):
            await meanwhile()
    finally:
        stop.set()
        await working


def test_a_worker_leaves_the_feeds_of_a_held_host_until_the_hold_ends(postgres, feed_server):
    # Another worker was answered 429 by 127.0.0.1: the hold is in the store, for all.
    feed_server.route("/kk.xml", body=rss(1))
    feed_server.route("/other.xml", body=rss(2))
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/"),
        sources=(
            SourceConfig(id="inform-kk", name="kk", url=feed_server.url("/kk.xml")),
            SourceConfig(
                id="other", name="other", url=feed_server.url("/other.xml", host="127.0.0.2")
            ),
        ),
        fetch=FetchConfig(allow_private_networks=("127.0.0.0/8",)),
    )
    now = datetime.now(UTC)
    until = (now + timedelta(minutes=10)).replace(microsecond=0)
    with open_storage(postgres.new_store("held")) as storage:
        storage.sync_sources(config.sources)
        storage.hold_host(HostHold("127.0.0.1", until, "inform-ru", "HTTP 429 at ..."), now)

        async def other_is_fetched() -> None:
            while feed_server.count("/other.xml") == 0:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # long enough for a wrong fetch of the held feed

        asyncio.run(work_meanwhile(config, storage, other_is_fetched))
        assert feed_server.count("/kk.xml") == 0
        # Due when the hold ends, so that no worker leases it again meanwhile.
        assert storage.get_source_state("inform-kk").next_due == until


def two_feeds(postgres, feed_server, tmp_path: Path, store: str) -> tuple[str, Path]:
    """Feeds s0 and s1 on 127.0.0.1, a new store named ``store``: (its URL, feeds.yaml)."""
    for n in range(2):
        feed_server.route(f"/f{n}.xml", body=rss(n))
    url = postgres.new_store(store)
    return url, write_config(tmp_path, url, feed_server, feeds=2)


def test_a_worker_says_until_when_it_leaves_the_feeds_of_a_held_host(
    postgres, feed_server, tmp_path
):
    url, config = two_feeds(postgres, feed_server, tmp_path, "held-said")
    now = datetime.now(UTC)
    until = (now + timedelta(minutes=10)).replace(microsecond=0)
    with open_storage(url) as storage:
        storage.hold_host(HostHold("127.0.0.1", until, "inform-ru", "HTTP 429 at ..."), now)
        status, out, err = stopped_worker(
            config,
            lambda: all(
                (state := storage.get_source_state(f"s{n}")) and state.next_due == until
                for n in range(2)
            ),
            verbose=True,
        )
    assert status == 0, err
    assert feed_server.count("/f0.xml") == feed_server.count("/f1.xml") == 0
    # In the site's time (Asia/Almaty), as `fetch` says it: each source as it is left,
    # and the summary when the worker stops.
    shown = until.astimezone(ZoneInfo("Asia/Almaty")).strftime("%Y-%m-%d %H:%M")
    assert f"  s0: held until {shown} (not fetched: its host 127.0.0.1 answered inform-ru" in out
    assert f"  s1: held until {shown} " in out
    assert f", 2 held until {shown} at the latest (their host asked to retry later" in out, out


def test_a_mistake_in_one_sources_entry_costs_the_workers_that_source_alone(
    postgres, feed_server, tmp_path
):
    # As in a run: a typo in one entry must not stop every worker on every host (under
    # systemd, restarted again and again, fetching nothing).
    url, config = two_feeds(postgres, feed_server, tmp_path, "held-entry")
    text = config.read_text(encoding="utf-8").replace("{id: s1, ", "{id: s1, intervl: 5m, ")
    config.write_text(text, encoding="utf-8")
    open_storage(url).close()  # the schema, for fetched() to read
    # Lingering long enough for a wrong fetch of s1.
    status, _, err = stopped_worker(config, lambda: fetched(url) == 1, linger=0.5)
    assert status == 0, err
    assert feed_server.count("/f0.xml") == 1 and feed_server.count("/f1.xml") == 0
    assert "sources[1].intervl: unknown key; did you mean 'interval'?" in err
    assert "worker: 1 source left out for the problems above in" in err


def test_a_hold_another_worker_makes_stops_the_feeds_of_its_host_queued_here(postgres, feed_server):
    # This worker has kk in flight and en queued behind it (per_host 1) when a worker on
    # another machine is answered 429 by their host: en is not requested.
    feed_server.route("/kk.xml", body=rss(1), delay=1.0)
    feed_server.route("/en.xml", body=rss(2))
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/"),
        sources=(  # leased in id order
            SourceConfig(id="inform-1-kk", name="kk", url=feed_server.url("/kk.xml")),
            SourceConfig(id="inform-2-en", name="en", url=feed_server.url("/en.xml")),
        ),
        fetch=FetchConfig(allow_private_networks=("127.0.0.0/8",), per_host=1),
    )
    url = postgres.new_store("held-meanwhile")
    with open_storage(url) as storage, open_storage(url) as elsewhere:
        now = datetime.now(UTC)
        until = (now + timedelta(minutes=10)).replace(microsecond=0)
        hold = HostHold("127.0.0.1", until, "inform-0-ru", "HTTP 429 at ...")

        async def another_worker_is_answered_429() -> None:
            while feed_server.count("/kk.xml") == 0:
                await asyncio.sleep(0.02)
            elsewhere.hold_host(hold, now)
            while storage.get_source_state("inform-2-en").next_due is None:
                await asyncio.sleep(0.05)

        asyncio.run(work_meanwhile(config, storage, another_worker_is_answered_429))
        assert feed_server.count("/en.xml") == 0
        assert storage.get_source_state("inform-1-kk").last_success is not None
        en = storage.get_source_state("inform-2-en")
        assert en.next_due == hold.until and en.consecutive_failures == 0


def test_a_worker_fetches_a_held_host_again_once_its_retry_after_has_passed(store_at, feed_server):
    # The worker itself is answered 429 with Retry-After: 1 (once); it runs on past it.
    answers = iter([Response(status=429, headers={"Retry-After": "1"})])
    feed_server.route("/ru.xml", lambda request: next(answers, Response(body=rss(0))))
    feed_server.route("/kk.xml", body=rss(1))
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/"),
        sources=(  # leased in id order: ru's answer comes first
            SourceConfig(id="inform-1-ru", name="ru", url=feed_server.url("/ru.xml")),
            SourceConfig(id="inform-2-kk", name="kk", url=feed_server.url("/kk.xml")),
        ),
        fetch=FetchConfig(allow_private_networks=("127.0.0.0/8",), per_host=1),
    )
    with open_storage(store_at("retry")) as storage:

        async def kk_is_fetched() -> None:
            while feed_server.count("/kk.xml") == 0:
                await asyncio.sleep(0.05)

        started = time.monotonic()
        asyncio.run(work_meanwhile(config, storage, kk_is_fetched))
        assert time.monotonic() - started >= 0.9  # not before the Retry-After
        assert storage.get_source_state("inform-2-kk").last_success is not None


# libpq's words for a session the server ended (pg_terminate_backend, a restart, a cut).
LOST_CONNECTION = (
    "terminating connection",  # the server's message, read
    "closed the connection",  # "server closed the connection unexpectedly"
    "Connection reset by peer",  # a query sent as the session ended: its socket reset
    "Broken pipe",  # ... or written to after it closed
    "could not receive data from server",
    "could not send data to server",
)


def test_a_worker_whose_connection_drops_says_so_in_one_line_and_the_others_go_on(
    postgres, feed_server, tmp_path
):
    # It printed the release's "the connection is lost" (not why), then asyncio's
    # "Task exception was never retrieved" and a traceback for each fetch in flight.
    for n in range(FEEDS):
        feed_server.route(f"/f{n}.xml", body=rss(n), delay=0.1)
    url = postgres.new_store("dropped")
    config = write_config(tmp_path, url, feed_server)
    open_storage(url).close()
    names = [f"{tmp_path.name}-{k}" for k in range(3)]
    workers = [start_worker(config, name=name) for name in names]
    try:
        wait_for(lambda: fetched(url) >= FEEDS // 4, workers)
        assert backends(url, names[0], terminate=True)  # as a server restart or a cut does
        _, err = workers[0].communicate(timeout=60)
        assert workers[0].returncode == 1
        errors = [line for line in err.decode().splitlines() if " Error: " in line]
        assert len(errors) == 1, err.decode()
        assert "Traceback" not in err.decode() and "never retrieved" not in err.decode()
        (error,) = errors
        assert STAMP.match(error)
        assert "Error: worker stopped: store postgresql://" in error
        # Why, in libpq's words, which depend on when the worker's next statement meets
        # the ended session: the server's own message read, the socket found closed, or,
        # a query sent as the server went (load), reset.  Not psycopg's "the connection
        # is closed/lost": that is a later statement's failure, said instead of the first.
        assert any(why in error for why in LOST_CONNECTION), error
        assert "the connection is closed" not in error and "connection is lost" not in error
        assert "go to the other workers when its leases end (within 3 s)" in error

        wait_for(lambda: fetched(url) == FEEDS, workers[1:])
        stop(workers[1:])
    finally:
        kill_left(workers)
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (FEEDS * OWN + FEEDS // 3,)
        assert db.execute("SELECT count(*) FROM item_sources").fetchone() == (FEEDS * (OWN + 1),)


def hold_as_a_frozen_worker_storing_s0(url: str, frozen: psycopg.Connection, feed_server) -> None:
    """In ``frozen``'s open transaction, what a worker frozen while storing s0 holds: its
    source row (apply_fetch's upsert) and the locks on its articles' links (_lock_links),
    the one it shares with s1 and s2 included; s0's feed has moved since it was stored."""
    with psycopg.connect(url, autocommit=True) as db:
        old = feed_server.url("/moved-from.xml")
        db.execute(
            "INSERT INTO sources (id, url, configured_url) VALUES ('s0', %s, %s) ON CONFLICT "
            "(id) DO UPDATE SET url = excluded.url, configured_url = excluded.configured_url",
            (old, old),
        )
    frozen.execute(
        "UPDATE sources SET leased_by = 'frozen pid 1', lease_until = now() + "
        "interval '1 hour' WHERE id = 's0'"
    )
    links = [f"https://s0.example.kz/news/{i}" for i in range(OWN)]
    buckets = sorted({_link_bucket(canonical_url(link)) for link in [*links, WIRE0]})
    frozen.execute(
        "SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::integer[]) AS b",
        (LOCK_SPACE + 1, buckets),
    )


FROZEN_FEEDS = 6  # two trios: s0-s2 share wire.example.kz/0, s3-s5 wire.example.kz/1


def serve_feeds_with_a_store(postgres, feed_server, tmp_path, name: str) -> tuple[str, Path]:
    """``FROZEN_FEEDS`` feeds served, a PostgreSQL store named ``name`` and a config
    reading them into it: the scene of the frozen-worker tests."""
    for n in range(FROZEN_FEEDS):
        feed_server.route(f"/f{n}.xml", body=rss(n))
    url = postgres.new_store(name)
    return url, write_config(tmp_path, url, feed_server, feeds=FROZEN_FEEDS)


def run_aggregator(config: Path) -> subprocess.CompletedProcess:
    """``aggregator run`` on ``config``, as cron runs it."""
    return subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(config), "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,  # a run that waits for a frozen transaction fails here, not hangs
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_worker_frozen_inside_a_transaction_costs_the_others_only_its_sources(
    postgres, feed_server, tmp_path
):
    # A worker frozen mid-store (a paused VM, a cut network) keeps its transaction's
    # locks until TCP gives up, hours later: the others waited for them, at their
    # startup registration of the sources and when storing an article it was storing.
    feeds = FROZEN_FEEDS
    url, config = serve_feeds_with_a_store(postgres, feed_server, tmp_path, "frozen")
    open_storage(url).close()
    frozen = psycopg.connect(url)  # not autocommit: one transaction, left open
    workers: list[subprocess.Popen] = []
    try:
        hold_as_a_frozen_worker_storing_s0(url, frozen, feed_server)

        workers = [start_worker(config, lease=2) for _ in range(2)]
        # The others are registered, fetched and stored meanwhile, within a bound.
        stored = ["s3", "s4", "s5"]
        wait_for(lambda: stored_sources(url) == stored, workers, timeout=40)
        wait_for(lambda: all(feed_server.count(f"/f{n}.xml") for n in (1, 2)), workers, 20)
        time.sleep(LOCK_TIMEOUT_SECONDS + 1)  # their stores time out meanwhile
        assert stored_sources(url) == stored
        # Each fetched again when its lease ended, and left again: said once all the same.
        wait_for(lambda: all(feed_server.count(f"/f{n}.xml") >= 2 for n in (1, 2)), workers, 40)
        assert stored_sources(url) == stored
        assert feed_server.count("/f0.xml") == 0  # not fetched at its old URL either

        frozen.rollback()  # its session ends at last
        wait_for(lambda: stored_sources(url) == [f"s{n}" for n in range(feeds)], workers, 40)
        time.sleep(1)  # long enough for a wrong second store to show
        errs = stop(workers)
    finally:
        frozen.close()
        kill_left(workers)

    said = "".join(errs)
    assert "Traceback" not in said, said
    # Each held source said in one line by a worker that left it (once per hold, not
    # every lease period): which, why, and when it comes again.
    for source in ("s1", "s2"):
        lines = [line for line in said.splitlines() if f"source {source}: not stored" in line]
        assert lines, said
        assert all(
            "another worker holds its rows" in line
            and "fetched again when its lease ends (within 2s)" in line
            for line in lines
        ), lines
        for err in errs:
            assert err.count(f"source {source}: not stored") <= 1, err
    # The sources it cannot register, said once by each worker, though tried each period.
    for err in errs:
        registered = [line for line in err.splitlines() if "not registered yet" in line]
        assert len(registered) == 1, err
        assert (
            "new or changed sources not registered yet, their rows held by another worker"
            in registered[0]
        )
        assert ": s0; tried again every 2s, the others are fetched" in registered[0]
    # Every item stored once, the held sources' too; s0 from where its feed is now.
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (feeds * OWN + 2,)
        assert db.execute(
            "SELECT source_id, count(*) FROM item_sources GROUP BY source_id ORDER BY source_id"
        ).fetchall() == [(f"s{n}", OWN + 1) for n in range(feeds)]
        assert db.execute("SELECT url FROM sources WHERE id = 's0'").fetchone() == (
            feed_server.url("/f0.xml"),
        )


WIRE0 = "https://wire.example.kz/0"


def stored_sources(url: str) -> list[str]:
    """The sources that have items stored."""
    with psycopg.connect(url) as db:
        rows = db.execute("SELECT DISTINCT source_id FROM item_sources ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def test_a_run_beside_a_worker_frozen_inside_a_transaction_leaves_only_the_sources_it_holds(
    postgres, feed_server, tmp_path
):
    # `aggregator run` may run beside workers (PostgreSQL): one frozen mid-store keeps
    # its transaction's locks for hours, and the run waited for them, at its registration
    # of the sources and when storing an article the frozen one was storing.
    feeds = FROZEN_FEEDS
    url, config = serve_feeds_with_a_store(postgres, feed_server, tmp_path, "frozen_run")
    open_storage(url).close()
    frozen = psycopg.connect(url)  # not autocommit: one transaction, left open

    try:
        hold_as_a_frozen_worker_storing_s0(url, frozen, feed_server)

        first = run_aggregator(config)
        assert first.returncode == 0, first.stderr
        assert stored_sources(url) == ["s3", "s4", "s5"]
        assert feed_server.count("/f0.xml") == 0  # not registered: not fetched, nor at its old URL
        assert feed_server.count("/moved-from.xml") == 0

        frozen.rollback()  # its session ends at last
        second = run_aggregator(config)
        assert second.returncode == 0, second.stderr
    finally:
        frozen.close()

    said = first.stdout + first.stderr
    assert "Traceback" not in said, said
    for source in ("s1", "s2"):  # one line each: which, why, when it comes again
        lines = [line for line in said.splitlines() if f"source {source}: not stored" in line]
        assert len(lines) == 1, said
        assert "another worker holds its rows" in lines[0], lines
        assert "fetched again next run" in lines[0], lines
    registered = [line for line in said.splitlines() if "not registered" in line]
    assert (
        len(registered) == 1
        and ": s0; not fetched this run, tried again next run" in (registered[0])
    ), said
    assert "2 not stored for another worker's locks (fetched again next run)" in said, said
    assert "Traceback" not in second.stderr, second.stderr
    # The next run stores what was left, once; s0 from where its feed is now.
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (feeds * OWN + 2,)
        assert db.execute(
            "SELECT source_id, count(*) FROM item_sources GROUP BY source_id ORDER BY source_id"
        ).fetchall() == [(f"s{n}", OWN + 1) for n in range(feeds)]
        assert db.execute("SELECT url FROM sources WHERE id = 's0'").fetchone() == (
            feed_server.url("/f0.xml"),
        )


def test_a_runs_prune_leaves_what_a_frozen_worker_holds_and_the_run_publishes(
    postgres, feed_server, tmp_path
):
    # A run prunes after it stored something new: its DELETE waited for an item row a
    # frozen worker holds (it was storing that item's edit) and its recount for s0's
    # source row, failed the run after 5 s, and nothing was published.
    feeds = FROZEN_FEEDS
    url, config = serve_feeds_with_a_store(postgres, feed_server, tmp_path, "frozen_prune")
    text = config.read_text(encoding="utf-8").replace(
        f"storage: {{url: '{url}'}}",
        f"storage: {{url: '{url}', retention_days: 30, keep_latest: 0}}",
    )
    config.write_text(text, encoding="utf-8")
    # A year ago s0, s4 and s5 listed an item each that no feed lists any more.
    long_ago = datetime.now(UTC) - timedelta(days=400)
    old = {}
    with open_storage(url) as storage:
        storage.sync_sources(
            [SourceConfig(id=f"s{n}", name=f"Лента {n}", url=feed_server.url(f"/f{n}.xml"))
             for n in (0, 4, 5)]
        )  # fmt: skip
        for n in (0, 4, 5):
            item = Item(id=f"old-{n}", title=f"Старая новость {n}", published=long_ago,
                        link=f"https://s{n}.example.kz/old")  # fmt: skip
            record_fetch(storage, storage.get_source_state(f"s{n}"), [item], fetched_at=long_ago)
            old[n] = dict(storage.seen_items(f"s{n}", [f"old-{n}"]))[f"old-{n}"].key
    frozen = psycopg.connect(url)  # not autocommit: one transaction, left open

    def kept() -> list[int]:
        with psycopg.connect(url) as db:
            keys = {row[0] for row in db.execute("SELECT key FROM items").fetchall()}
        return [n for n, key in old.items() if key in keys]

    try:
        hold_as_a_frozen_worker_storing_s0(url, frozen, feed_server)
        frozen.execute("UPDATE items SET title = 'Старая новость 5, правка' WHERE key = %s",
                       (old[5],))  # fmt: skip

        started = time.monotonic()
        first = run_aggregator(config)
        assert first.returncode == 0, first.stderr
        assert (tmp_path / "output" / "all.atom").exists()  # published
        assert stored_sources(url) == ["s3", "s4", "s5"]
        assert kept() == [5]  # s0's and s4's old items went; the one held stays
        assert time.monotonic() - started < 40

        frozen.rollback()  # its session ends at last
        second = run_aggregator(config)
        assert second.returncode == 0, second.stderr
    finally:
        frozen.close()

    said = first.stdout + first.stderr
    assert "Traceback" not in said, said
    lines = [line for line in said.splitlines() if "old item" in line and "not pruned" in line]
    assert len(lines) == 1, said
    assert STAMP.match(lines[0]), lines
    assert "1 old item not pruned this run: another worker holds its rows" in lines[0], lines
    assert "pruned by a later run" in lines[0], lines
    assert "2 old items pruned" in first.stdout, first.stdout
    # The next run prunes what was held; every source's count is right again.
    assert kept() == []
    with psycopg.connect(url) as db:
        assert db.execute("SELECT id, item_count FROM sources ORDER BY id").fetchall() == [
            (f"s{n}", OWN + 1) for n in range(feeds)
        ]


def test_a_source_a_frozen_worker_holds_is_left_by_the_runs_parse_processes_too(
    postgres, feed_server, caplog
):
    # With many changed feeds a run parses and stores them in worker processes, each
    # with its own connection: the store's lock timeout and the "locked" skip must hold
    # there as in the run's own process.
    from aggregator.ingest import update

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: a run parses in its own process")
    feeds = 12  # first fetches, more than PARSE_POOL_THRESHOLD: parsed in the pool
    assert feeds > update.PARSE_POOL_THRESHOLD
    for n in range(feeds):
        feed_server.route(f"/f{n}.xml", body=rss(n))
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/"),
        sources=tuple(
            SourceConfig(id=f"s{n:02}", name=f"Лента {n}", url=feed_server.url(f"/f{n}.xml"))
            for n in range(feeds)
        ),
        fetch=FetchConfig(allow_private_networks=("127.0.0.0/8",)),
    )
    url = postgres.new_store("frozen_pool")
    with open_storage(url, lock_timeout=0.5) as storage, psycopg.connect(url) as frozen:
        # A worker frozen while storing s4's own first article (the one no other shares);
        # ended by the server after 30 s, should a process wait for it (fails, not hangs).
        frozen.execute("SET idle_in_transaction_session_timeout = '30s'")
        bucket = _link_bucket(canonical_url("https://s4.example.kz/news/0"))
        frozen.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE + 1, bucket))
        with caplog.at_level("WARNING", logger="aggregator.ingest.update"):
            report = update.update(config, storage, select_all=True)
        frozen.rollback()
        runs = {run.source_id: run.status for run in report.runs}
        assert report.stored_by_workers == feeds  # every body went to the pool
        assert runs.pop("s04") == "locked"
        assert set(runs.values()) == {"updated"}, runs
        assert [r.source_id for r in report.locked] == ["s04"]
        lines = [r.getMessage() for r in caplog.records if "not stored" in r.getMessage()]
        assert lines == [
            "source s04: not stored: another worker holds its rows (frozen or cut off inside "
            "a transaction?); fetched again next run"
        ]
        assert storage.get_source_state("s04").last_success is None  # nothing of it stored
        # The lock gone, the next run stores it, once.
        again = update.update(config, storage, only=["s04"], select_all=True)
        assert [(r.source_id, r.status, r.new) for r in again.runs] == [("s04", "updated", OWN + 1)]
