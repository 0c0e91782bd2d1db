"""`aggregator store copy`: a whole store into another, SQLite -> PostgreSQL and back,
on real SQLite files and the test PostgreSQL server; what is read back is the same."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.ingest.update import record_fetch
from aggregator.models import Author, Enclosure, Item, SourceState
from aggregator.store import StorageError, open_storage
from aggregator.store import copy as storecopy
from aggregator.store.copy import NOT_COPIED, TABLES, copy_store

T0 = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)
SOURCES = ("inform-ru", "inform-kk", "tengri")


def item(source: str, n: int, **kwargs) -> Item:
    kwargs.setdefault("title", f"Новость {source} {n}")
    kwargs.setdefault("link", f"https://{source}.kz/news/{n}")
    kwargs.setdefault("published", T0 - timedelta(hours=n, microseconds=n))
    return Item(id=f"{source}-{n}", **kwargs)


def fill(location: str) -> None:
    """A store as months of runs leave it: several fetches, an article two sources
    carry, an edited item, a moved feed, a failing and a gone source, every field."""
    with open_storage(location) as store:
        for s, source in enumerate(SOURCES):
            state = SourceState(source, f"https://{source}.kz/rss", f"https://{source}.kz/rss")
            items = [item(source, n) for n in range(12)]
            items.append(
                Item(
                    id=f"{source}-full",
                    title="Қазақстан: «полный» пункт",
                    link="https://wire.kz/shared/1",  # the same article in every source
                    summary="<p>Кратко</p>",
                    content="<p>Полный текст</p>",
                    published=T0,
                    updated=T0 + timedelta(minutes=5),
                    published_raw="Fri, 20 Nov 2026 14:30:15 +0500",
                    updated_raw="2026-11-20T14:35:15+05:00",
                    authors=(Author("Айгерим", "a@inform.kz", "https://inform.kz/a"),),
                    categories=("Политика", "Экономика"),
                    enclosures=(Enclosure("https://inform.kz/a.jpg", "image/jpeg", 1234),),
                    language="kk",
                )
            )
            record_fetch(store, state, items, fetched_at=T0 + timedelta(minutes=s))
            # A later fetch: one item edited, one new.
            items[0] = item(source, 0, title=f"Новость {source} 0 (исправлено)")
            items.append(item(source, 99))
            record_fetch(store, state, items, fetched_at=T0 + timedelta(hours=1))
        moved = store.get_source_state("tengri")
        moved.url = "https://tengrinews.kz/rss"
        moved.etag = '"abc"'
        moved.last_modified = "Fri, 20 Nov 2026 09:00:00 GMT"
        moved.body_hash = "f" * 40
        moved.title = "Tengrinews"
        moved.link = "https://tengrinews.kz/"
        moved.feed_updated = T0
        moved.last_attempt = moved.last_success = T0 + timedelta(hours=1)
        moved.next_due = T0 + timedelta(hours=2)
        moved.min_interval_seconds = 900
        moved.encoding = "windows-1251 (detected)"
        store.save_source_state(moved)
        store.record_url_change(
            "tengri", "https://tengri.kz/rss", moved.url, 301, T0 + timedelta(hours=1)
        )
        failing = store.get_source_state("inform-kk")
        failing.last_error = "HTTP 503 Service Unavailable"
        failing.last_error_at = T0 + timedelta(hours=1)
        failing.consecutive_failures = 3
        failing.backoff_until = T0 + timedelta(hours=3)
        store.save_source_state(failing)
        store.save_source_state(
            SourceState("old", "https://old.kz/rss", "https://old.kz/rss", gone=True)
        )
        store.lease(["inform-ru"], holder="a worker", seconds=600)


def contents(location: str) -> dict:
    """Everything the store gives back through the Storage interface."""
    with open_storage(location) as store:
        items = list(store.iter_items())
        return {
            "sources": store.source_states(),
            "history": {s: store.url_history(s) for s in (*SOURCES, "old")},
            "items": items,
            "by_link": store.item_by_link("https://wire.kz/shared/1"),
            "seen": {
                s: store.seen_items(s, [f"{s}-{n}" for n in (0, 1, 99)] + [f"{s}-full"])
                for s in SOURCES
            },
            "count": store.items_count(),
        }


@pytest.fixture
def filled_sqlite(tmp_path):
    path = str(tmp_path / "aggregator.sqlite")
    fill(path)
    return path


def test_sqlite_to_postgresql_and_back_gives_back_the_same_store(
    filled_sqlite, postgres, tmp_path, monkeypatch
):
    monkeypatch.setattr(storecopy, "BATCH", 7)  # many batches, one cut inside each table
    original = contents(filled_sqlite)
    assert original["count"] == 3 * 13 + 1  # the shared article is one item

    url = postgres.new_store("copy")
    report = copy_store(filled_sqlite, url)
    assert report.counts == {
        "sources": 4,
        "URL changes": 1,
        "items": 40,
        "item sources": 42,
    }
    assert contents(url) == original

    back = str(tmp_path / "back" / "aggregator.sqlite")
    assert copy_store(url, back).counts == report.counts
    assert contents(back) == original


def test_leases_are_not_copied_and_the_targets_change_log_lists_every_item(filled_sqlite, postgres):
    url = postgres.new_store("copy")
    copy_store(filled_sqlite, url)
    with psycopg.connect(url) as db:
        assert db.execute(
            "SELECT count(*) FROM sources WHERE leased_by IS NOT NULL"
        ).fetchone() == (0,)
    with open_storage(url) as store:
        _, changed, removed = store.item_changes(0)
        assert sorted(changed) == sorted(s.key for s in store.iter_items()) and removed == []


def test_a_sqlite_targets_change_log_lists_every_item(filled_sqlite, tmp_path):
    copied = str(tmp_path / "copy.sqlite")
    copy_store(filled_sqlite, copied)
    with open_storage(copied) as store:
        _, changed, removed = store.item_changes(0)
        assert sorted(changed) == sorted(s.key for s in store.iter_items()) and removed == []


def test_postgresql_to_postgresql_and_sqlite_to_sqlite_work_too(filled_sqlite, postgres, tmp_path):
    original = contents(filled_sqlite)
    copied = str(tmp_path / "copy.sqlite")
    copy_store(filled_sqlite, copied)
    assert contents(copied) == original
    first, second = postgres.new_store("one"), postgres.new_store("two")
    copy_store(copied, first)
    copy_store(first, second)
    assert contents(second) == original


def test_a_target_that_holds_anything_is_refused_unless_replace_is_given(
    filled_sqlite, tmp_path, postgres
):
    url = postgres.new_store("busy")
    with open_storage(url) as store:
        record_fetch(
            store, SourceState("x", "https://x.kz/rss", "https://x.kz/rss"), [item("x", 1)],
            fetched_at=T0,
        )  # fmt: skip
    with pytest.raises(
        StorageError, match=r"already holds 1 source, 1 item, 1 item source.*--replace"
    ):
        copy_store(filled_sqlite, url)
    assert contents(url)["count"] == 1

    report = copy_store(filled_sqlite, url, replace=True)
    assert report.replaced == 3
    assert contents(url) == contents(filled_sqlite)


def test_counts_that_do_not_add_up_roll_the_copy_back(filled_sqlite, tmp_path, monkeypatch):
    """A fault we cannot cause for real: the target counts one item less than was written."""
    target = str(tmp_path / "target.sqlite")
    open_storage(target).close()
    real_count = storecopy._SQLiteEnd.count

    def short_count(end, table):
        n = real_count(end, table)
        return n - 1 if n and table.name == "items" and end.where == target else n

    monkeypatch.setattr(storecopy._SQLiteEnd, "count", short_count)
    with pytest.raises(StorageError, match="does not add up, so it was rolled back"):
        copy_store(filled_sqlite, target)
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM sources").fetchone() == (0,)


def test_copying_a_store_onto_itself_or_from_nothing_is_refused(filled_sqlite, tmp_path):
    with pytest.raises(StorageError, match="to copy from and to"):
        copy_store(filled_sqlite, filled_sqlite)
    with pytest.raises(StorageError, match="no store at .* to copy from"):
        copy_store(str(tmp_path / "missing.sqlite"), str(tmp_path / "new.sqlite"))
    assert not (tmp_path / "new.sqlite").exists()


def test_every_column_the_schema_holds_is_copied_or_said_why_not(postgres, tmp_path):
    """A column added by a future migration must be copied (or listed in NOT_COPIED)."""
    path = tmp_path / "schema.sqlite"
    open_storage(path).close()
    copied = {f"{t.name}.{c}" for t in TABLES for c in t.columns}
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        in_sqlite = {
            f"{t}.{row[1]}"
            for t in tables
            if t not in NOT_COPIED and not t.startswith("sqlite_")
            for row in db.execute(f"PRAGMA table_info({t})")
        }
    url = postgres.new_store("schema")
    open_storage(url).close()
    schema_name = url.rsplit("%3D", 1)[1]
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s",
            (schema_name,),
        ).fetchall()
    in_postgres = {f"{t}.{c}" for t, c, _ in rows if t not in NOT_COPIED and c != "seq"}
    not_copied = {name for name in NOT_COPIED if "." in name and not name.startswith("*")}
    assert in_sqlite - not_copied == copied
    assert in_postgres - not_copied == copied
    # Times and flags are converted between the backends: the lists match the types.
    by_type = {(t, c): kind for t, c, kind in rows}
    for table in TABLES:
        for column in table.columns:
            kind = by_type[(table.name, column)]
            assert (kind == "timestamp with time zone") == (column in table.times), column
            assert (kind == "boolean") == (column in table.flags), column


def test_the_command_copies_says_what_it_verified_and_never_shows_the_password(
    filled_sqlite, postgres, tmp_path
):
    url = postgres.new_store("cli").replace("aggregator@", "aggregator:s3cr3t@")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "site: {title: Евразия24, link: 'https://eurasia24.kz/'}\n"
        f"storage: {{path: '{filled_sqlite}'}}\n"
        "sources:\n  - {id: tengri, name: Tengrinews, url: 'https://tengrinews.kz/rss'}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "store", "copy", "--to", url])
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.output
    assert "verified" in result.output and "40 items" in result.output
    assert "aggregator@127.0.0.1" in result.output

    again = runner.invoke(cli, ["--config", str(config), "store", "copy", "--to", url])
    assert again.exit_code == 1
    assert "already holds" in again.output and "--replace" in again.output
    assert "s3cr3t" not in again.output
    replaced = runner.invoke(
        cli, ["--config", str(config), "store", "copy", "--to", url, "--replace"]
    )
    assert replaced.exit_code == 0, replaced.output

    # And back, with --db naming the PostgreSQL store to copy from.
    back = tmp_path / "back.sqlite"
    result = runner.invoke(
        cli, ["--config", str(config), "--db", url, "store", "copy", "--to", str(back)]
    )
    assert result.exit_code == 0, result.output
    assert contents(str(back)) == contents(filled_sqlite)
