"""What only the PostgreSQL backend has: its schema versions, its connection errors, the
password kept out of every message, and several writers at once.  Everything both
backends share is in test_storage.py, which runs on both."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner
from configs import unstamped

from aggregator.cli import EXIT_LOCKED, cli
from aggregator.config import load_config
from aggregator.ingest.update import record_fetch
from aggregator.models import Item, SourceState
from aggregator.store import (
    LockWaitTimeout,
    StorageError,
    describe_location,
    mask_password,
    open_storage,
    schema,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def state(source_id):
    return SourceState(source_id, f"https://{source_id}.kz/rss", f"https://{source_id}.kz/rss")


def version_of(url):
    with psycopg.connect(url) as db:
        return db.execute("SELECT version FROM aggregator_schema").fetchall()


def test_a_new_database_gets_the_schema_at_the_one_version_both_backends_share(postgres):
    url = postgres.new_store()
    open_storage(url).close()
    assert version_of(url) == [(schema.SCHEMA_VERSION,)]
    assert len(schema.POSTGRES_MIGRATIONS) == len(schema.SQLITE_MIGRATIONS)


def test_an_older_schema_is_migrated_on_open(postgres, monkeypatch):
    url = postgres.new_store()
    with open_storage(url) as s:
        record_fetch(s, state("inform"), [Item(id="1", title="Новость")], fetched_at=T0)
    step = "ALTER TABLE items ADD COLUMN score INTEGER NOT NULL DEFAULT 7;"
    monkeypatch.setattr(schema, "POSTGRES_MIGRATIONS", [*schema.POSTGRES_MIGRATIONS, step])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)

    with open_storage(url) as s:
        assert s.items_count() == 1
    assert version_of(url) == [(schema.SCHEMA_VERSION,)]
    with psycopg.connect(url) as db:
        assert db.execute("SELECT score FROM items").fetchone() == (7,)


def test_a_failed_migration_leaves_the_store_as_it_was(postgres, monkeypatch):
    url = postgres.new_store()
    open_storage(url).close()
    steps = ["CREATE TABLE half (x INTEGER);", "THIS IS NOT SQL;"]
    monkeypatch.setattr(schema, "POSTGRES_MIGRATIONS", [*schema.POSTGRES_MIGRATIONS, *steps])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 2)
    with pytest.raises(psycopg.errors.SyntaxError):
        open_storage(url)
    with psycopg.connect(url) as db:
        assert db.execute("SELECT to_regclass('half')").fetchone() == (None,)
    monkeypatch.undo()
    assert version_of(url) == [(schema.SCHEMA_VERSION,)]


def test_a_store_written_by_a_newer_version_is_refused_with_what_to_do(postgres):
    url = postgres.new_store()
    open_storage(url).close()
    with psycopg.connect(url) as db:
        db.execute("UPDATE aggregator_schema SET version = 99")
    with pytest.raises(StorageError, match="newer version of aggregator.*upgrade"):
        open_storage(url)


def test_a_server_that_refuses_says_what_to_check_and_never_shows_the_password(postgres):
    url = postgres.url("aggregator").replace("aggregator@", "nobody:s3cret-pw@")
    with pytest.raises(StorageError) as caught:
        open_storage(url)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "postgresql://nobody@127.0.0.1" in message
    assert "PGPASSWORD" in message


def test_locations_and_descriptions_hide_the_password():
    url = "postgresql://news:p%40ss@db.example.kz:5433/agg?sslmode=require"
    assert mask_password(url) == "postgresql://news@db.example.kz:5433/agg?sslmode=require"
    assert describe_location(url) == (
        "PostgreSQL postgresql://news@db.example.kz:5433/agg?sslmode=require"
    )
    assert describe_location("/srv/agg/aggregator.sqlite") == "SQLite /srv/agg/aggregator.sqlite"


def test_the_same_article_stored_by_two_writers_at_once_is_stored_once(postgres):
    """Two connections (two workers) insert the same canonical link at the same moment:
    the link locks make the second one attach to the first one's item."""
    url = postgres.new_store()
    stores = [open_storage(url), open_storage(url)]
    barrier = threading.Barrier(2)
    errors = []

    def fetch(n):
        try:
            barrier.wait()
            for run in range(20):
                items = [
                    Item(id=f"{n}-{run}-{i}", title="Т", link=f"https://shared.kz/{run}/{i}")
                    for i in range(10)
                ]
                record_fetch(
                    stores[n], state(f"s{n}"), items, fetched_at=T0 + timedelta(minutes=run)
                )
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stores[0].items_count() == 200
    assert all(len(s.source_ids) == 2 for s in stores[0].iter_items())
    for s in stores:
        s.close()


def write_config(tmp_path, url):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "site: {title: Евразия24, link: 'https://eurasia24.kz/'}\n"
        f"storage: {{url: '{url}'}}\n"
        f"sources:\n  - {{id: a, name: A, url: {tmp_path / 'a.xml'}}}\n",
        encoding="utf-8",
    )
    return path


def test_with_a_lock_timeout_a_write_another_session_holds_up_fails_and_nothing_of_it_stays(
    postgres,
):
    # A fetch worker's store: a frozen worker's open transaction must not stop it.
    url = postgres.new_store("lock_timeout")
    with open_storage(url, lock_timeout=0.2) as store:
        store.save_source_state(state("inform"))
        with psycopg.connect(url) as other:  # one transaction, left open
            other.execute("SELECT 1 FROM sources WHERE id = 'inform' FOR UPDATE")
            changed = state("inform")
            changed.etag = '"v2"'
            with pytest.raises(LockWaitTimeout) as raised:
                store.save_source_state(changed)
            assert "another session holds a lock this write needs" in str(raised.value)
            assert isinstance(raised.value, StorageError)  # unhandled, a store error still
            assert store.get_source_state("inform").etag is None
            store.save_source_state(state("tengri"))  # the connection goes on
        store.save_source_state(changed)
        assert store.get_source_state("inform").etag == '"v2"'
    with open_storage(url) as store, psycopg.connect(url) as db:  # none: as before
        assert db.execute("SHOW lock_timeout").fetchone() == ("0",)
        assert store._db.execute("SHOW lock_timeout").fetchone() == ("0",)


def test_check_config_and_status_say_which_store_is_used(postgres, tmp_path):
    url = postgres.new_store()
    config = write_config(tmp_path, url)
    checked = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert checked.exit_code == 0, checked.output
    assert f"store PostgreSQL {url}" in checked.output
    status = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert status.exit_code == 0, status.output
    # Nothing is made by a look: an empty database is said to be one, as a missing file.
    assert f"store: PostgreSQL {url} (none there yet: a fetch or run makes it" in status.output
    sqlite = CliRunner().invoke(
        cli, ["--config", str(config), "--db", str(tmp_path / "x.sqlite"), "check-config"]
    )
    assert f"store SQLite {tmp_path / 'x.sqlite'}" in sqlite.output


def test_status_as_a_role_that_may_only_read_the_store(postgres, tmp_path):
    url = postgres.new_store("monitored")
    open_storage(url).close()  # made (and migrated) by its owner; source "a" not yet known
    schema_name = url.rsplit("%3D", 1)[1]
    role = f"monitor_{schema_name}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
        db.execute(f"GRANT USAGE ON SCHEMA {schema_name} TO {role}")
        db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema_name} TO {role}")
    monitor = url.replace("aggregator@", f"{role}@", 1)
    config = write_config(tmp_path, monitor)
    status = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert status.exit_code == 0, status.output
    assert status.output.splitlines()[1].split()[:2] == ["a", "new"]
    with psycopg.connect(url) as db:  # nothing written
        assert db.execute("SELECT count(*) FROM sources").fetchone() == (0,)


def leased_site(postgres, tmp_path, *, holder: str, more_sources: str = ""):
    """(its store, its config): a site whose one source, a feed without items, is leased
    to ``holder`` for ten minutes (``more_sources``: YAML lines of others)."""
    url = postgres.new_store("leased")
    config = write_config(tmp_path, url)
    if more_sources:
        config.write_text(config.read_text(encoding="utf-8") + more_sources, encoding="utf-8")
    (tmp_path / "a.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>'
        "<link>https://a.kz/</link><description>d</description></channel></rss>",
        encoding="utf-8",
    )
    with open_storage(url) as storage:
        storage.sync_sources(load_config(config).sources)
        assert storage.lease(["a"], holder=holder, seconds=600)
    return url, config


def test_a_fetch_says_which_due_sources_another_fetcher_holds(postgres, tmp_path):
    # A run killed with -9 on another host keeps its leases until they end: a run here,
    # started at once, fetches nothing of them, and says so rather than "fetched 0 sources".
    _, config = leased_site(postgres, tmp_path, holder="run on h pid 4242")
    fetched = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert (
        "fetched 0 sources: 0 new items, 0 failed; 1 due source left to another fetcher "
        "that leased it (a): a worker, or another host's run (a killed one's leases end "
        "within 2 min)"
    ) in fetched.output


def test_the_leases_said_to_end_are_as_long_as_the_run_leased_its_due_sources(postgres, tmp_path):
    # b is not due (disabled) and has a 15-minute deadline: the run leases only a, for
    # 4 x 30 s (at least 2 min), and so would a run elsewhere that leased a.
    _, config = leased_site(
        postgres,
        tmp_path,
        holder="run on h pid 4242",
        more_sources="  - {id: b, url: 'https://b.kz/rss', timeout: 900, enabled: false}\n",
    )
    fetched = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert "left to another fetcher that leased it (a)" in fetched.output
    assert "(a killed one's leases end within 2 min)" in fetched.output


def test_the_run_after_one_killed_on_this_host_takes_back_its_leases(postgres, tmp_path):
    # The killed run's pid is in <database>.run (it could not empty it): its leases are
    # no live run's, and would keep its sources from this one until they end.
    from aggregator.related.persist import index_path

    killed = f"run on {socket.gethostname()} pid 4242"  # as a run names its leases
    url, config = leased_site(postgres, tmp_path, holder=killed)
    marker = index_path(url, tmp_path).with_suffix("").with_suffix(".run")
    marker.write_text("pid 4242", encoding="utf-8")
    fetched = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert "fetched 1 source: 0 new items, 0 failed\n" in fetched.output
    assert marker.read_text(encoding="utf-8") == ""  # this run ended


def test_a_run_on_another_host_holds_the_database_lock_so_this_one_waits(postgres, tmp_path):
    from aggregator.store import postgres_lock

    url = postgres.new_store()
    config = write_config(tmp_path, url)
    with postgres_lock(url, "run") as held:
        assert held
        result = CliRunner().invoke(cli, ["--config", str(config), "publish"])
    assert result.exit_code == EXIT_LOCKED
    assert "another aggregator run is using PostgreSQL" in result.output
    after = CliRunner().invoke(cli, ["--config", str(config), "publish"])
    assert after.exit_code == 0, after.output


def test_the_database_lock_is_free_the_moment_its_holder_lets_go(postgres):
    """Cron may start the next run right after one ends (or one command after another in
    a script): the server ends a closed session, and its locks, only a moment after the
    client hangs up, so the holder unlocks before it closes."""
    from aggregator.store import postgres_lock

    url = postgres.new_store()
    for attempt in range(40):
        with postgres_lock(url, "run") as held:
            assert held, f"attempt {attempt}: the lock was not free to take"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["status", "run"])
def test_a_store_that_cannot_be_reached_is_one_line_on_stderr(tmp_path, command):
    """libpq's own message takes two lines ("Connection refused" and a tab-indented
    "Is the server running..."): a cron log gets one line, what went wrong, where, and
    what to do (the run takes the database's lock first; status opens the store)."""
    url = f"postgresql://news:s3cret-pw@127.0.0.1:{_closed_port()}/aggregator"
    config = write_config(tmp_path, url)
    done = subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(config), command],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert unstamped(done.stderr)[0].startswith("Error: store "), done.stderr
    assert "Connection refused" in done.stderr and "PGPASSWORD" in done.stderr
    assert "s3cret-pw" not in done.stderr
