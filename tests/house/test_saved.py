"""The match index kept between runs: brought up to the store's changes, it answers
exactly as an index built from scratch on the same store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from test_cache import REAL, background, feeds_yaml, real_site, store, store_labelled

import aggregator.house.saved as saved
from aggregator.config import load_config
from aggregator.house import house_source_ids, load_all, match_commentary
from aggregator.house.index import MatchIndex
from aggregator.house.saved import index_path, load_index
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.store import open_storage


def from_scratch(storage, config) -> MatchIndex:
    house = set(house_source_ids(config))
    return MatchIndex.build(
        s for s in storage.iter_items(newest_first=False) if house.isdisjoint(s.source_ids)
    )


def contents(index: MatchIndex) -> dict:
    """What the index holds, by item key and word, whatever its document numbers."""
    live = sorted({index.doc_of(k) for k in index.keys} - {None})
    return {
        "items": [
            (index.keys[d], index.time_of(d), index.source_of(d), index.language_of(d))
            for d in sorted(live, key=index.order_of)
        ],
        "lengths": {index.keys[d]: index._lengths[d] for d in live},
        "words": {
            name: sorted((index.keys[e >> 4], e & 15) for e in index._postings[stem])
            for stem, name in enumerate(index._stem_names)
            if index._postings[stem]
        },
        "skeletons": {
            name: sorted(index.keys[d] for d in index._skeleton_postings[sid])
            for sid, name in enumerate(index._skeleton_names)
            if index._skeleton_postings[sid]
        },
        "stop": sorted(index._stem_names[s] for s in index._stop_stems if index._stem_docs[s]),
        # made by the build, kept with the index and brought up to date with it
        "figures": sorted(
            (f, index._skeleton_names[s]) for f, s in index.figures_between(0, 10**30)
        ),
        "marks": {
            name: index._marks[stem]
            for stem, name in enumerate(index._stem_names)
            if index._stem_docs[stem]
        },
        "total": (len(index), index._total_length),
    }


@pytest.mark.parametrize("save_after", [1, 10_000], ids=["saved-each-run", "changes-reapplied"])
def test_an_index_kept_between_runs_answers_as_one_built_from_scratch(
    tmp_path, store_at, monkeypatch, save_after
):
    """The labelled set and 1,500 generated items are stored; then items arrive older
    than the newest (out of order), one is edited, old ones are pruned, and a house post
    quoting nothing is stored.  After each step the saved index, loaded and brought up to
    date, holds what a full build holds, and every commentary's match -- its items,
    method, confidence, candidates and evidence -- is the same from both."""
    monkeypatch.setattr(saved, "SAVE_AFTER", save_after)
    items = yaml.safe_load((REAL / "items.yaml").read_text(encoding="utf-8"))
    posts = yaml.safe_load((REAL / "posts.yaml").read_text(encoding="utf-8"))["posts"]
    config = real_site(tmp_path, store_at("aggregator"), items["sources"], posts)
    names = {s.id: s.name for s in config.sources}
    entries = sorted(items["items"], key=lambda e: e["date"])

    def check(storage) -> MatchIndex:
        kept = load_index(storage, config)
        full = from_scratch(storage, config)
        assert contents(kept) == contents(full)
        commentary = load_all(config, storage.iter_items(source_ids=house_source_ids(config)))
        for c in commentary.commentary:
            assert match_commentary(c, kept, source_names=names) == match_commentary(
                c, full, source_names=names
            ), c.id
        return kept

    storage = open_storage(config.storage.url)
    try:
        storage.sync_sources(config.sources)
        store(storage, "kapital-kz", background(1500), datetime(2025, 4, 27, tzinfo=UTC))
        store_labelled(storage, entries[:5], datetime(2025, 3, 5, tzinfo=UTC))
        first = check(storage)  # built: nothing saved yet
        assert index_path(config.storage.url, tmp_path).exists()
        assert len(first) == 1505
        # Items dated before the newest stored one (the generated ones run to April):
        # the kept index puts them in a tail, the full build in date order.
        store_labelled(storage, entries[5:-10], datetime(2025, 4, 20, tzinfo=UTC))
        assert check(storage)._tail
        store_labelled(storage, entries[-10:], datetime(2025, 4, 23, tzinfo=UTC))
        check(storage)
        # An edited item.
        edited = next(e for e in entries if e["id"] == "nbrate-kazinform")
        store_labelled(storage, [edited], datetime(2025, 6, 1, tzinfo=UTC), title="Ставка: 16,5%")
        check(storage)
        # Pruned: old items go (holes in the kept index, none in the full build).
        now = datetime(2025, 4, 25, tzinfo=UTC)
        assert storage.prune(retention_days=45, keep_latest=0, now=now) == 5
        check(storage)
        # A post of the house feed is never a source.
        house_post = Item(
            id="https://e24.example/p/1",
            title="Комментарий",
            link="https://e24.example/p/1",
            content="<p>Евразия24 комментирует: ставка снова растёт.</p>",
            published=now - timedelta(hours=1),
            updated=now - timedelta(hours=1),
        )
        store(storage, "house", [house_post], now)
        assert len(check(storage)) == len(first) + len(entries) - 10
    finally:
        storage.close()


def test_a_saved_index_of_another_store_or_a_mark_that_went_back_is_built_anew(tmp_path, store_at):
    """The file names the store it was built from; a store restored from an older copy
    (its change mark behind the file's) gets a full build, never a stale index."""
    (tmp_path / "feeds.yaml").write_text(
        feeds_yaml([{"id": "kapital-kz", "name": "Капитал"}], store_at("aggregator")), "utf-8"
    )
    config = load_config(tmp_path / "feeds.yaml")
    storage = open_storage(config.storage.url)
    try:
        storage.sync_sources(config.sources)
        items = background(30)
        record_fetch(
            storage,
            storage.get_source_state("kapital-kz"),
            items[:20],
            fetched_at=items[19].published,
        )
        assert len(load_index(storage, config)) == 20
        path = index_path(config.storage.url, tmp_path)
        document = saved.pickle.loads(path.read_bytes())
        document["mark"] += 10**6  # as if the store went back
        path.write_bytes(saved.pickle.dumps(document))
        record_fetch(
            storage,
            storage.get_source_state("kapital-kz"),
            items[20:],
            fetched_at=items[29].published,
        )
        assert contents(load_index(storage, config)) == contents(from_scratch(storage, config))
        document = saved.pickle.loads(path.read_bytes())
        document["identity"] = "another store"
        path.write_bytes(saved.pickle.dumps(document))
        assert len(load_index(storage, config)) == 30
    finally:
        storage.close()


def test_where_the_index_is_kept(tmp_path):
    """Beside a SQLite store; for PostgreSQL in the config file's directory, and nowhere
    for a config built in code (never in whatever directory the process runs in)."""
    sqlite = tmp_path / "aggregator.sqlite"
    sqlite.touch()
    assert index_path(str(sqlite)) == tmp_path / "aggregator.sqlite.matchindex"
    assert index_path(str(tmp_path / "missing.sqlite")) is None
    url = "postgresql://aggregator@db.example:5432/news"
    kept = index_path(url, tmp_path)
    assert kept is not None and kept.parent == tmp_path and kept.name.startswith("news-")
    assert index_path(url, None) is None


def test_an_index_saved_by_other_index_code_is_built_anew(tmp_path, store_at, monkeypatch):
    """The file names the code that made it (a hash of the index's and the text
    analysis' source): another version of it may index the same items otherwise."""
    (tmp_path / "feeds.yaml").write_text(
        feeds_yaml([{"id": "kapital-kz", "name": "Капитал"}], store_at("aggregator")), "utf-8"
    )
    config = load_config(tmp_path / "feeds.yaml")
    built: list[int] = []
    build = MatchIndex.build
    monkeypatch.setattr(MatchIndex, "build", lambda items: built.append(1) or build(items))
    with open_storage(config.storage.url) as storage:
        storage.sync_sources(config.sources)
        items = background(20)
        state = storage.get_source_state("kapital-kz")
        record_fetch(storage, state, items, fetched_at=items[-1].published)
        assert len(load_index(storage, config)) == 20 and len(built) == 1
        assert len(load_index(storage, config)) == 20 and len(built) == 1  # the saved one
        monkeypatch.setattr(saved, "code_version", lambda modules: "the next release's")
        assert len(load_index(storage, config)) == 20 and len(built) == 2
        assert len(load_index(storage, config)) == 20 and len(built) == 2


def labelled_site(tmp_path, store_at):
    """The labelled set's site (its config) and items, oldest first, nothing stored."""
    items = yaml.safe_load((REAL / "items.yaml").read_text(encoding="utf-8"))
    posts = yaml.safe_load((REAL / "posts.yaml").read_text(encoding="utf-8"))["posts"]
    config = real_site(tmp_path, store_at("aggregator"), items["sources"], posts)
    return config, sorted(items["items"], key=lambda e: e["date"])


def test_an_index_unread_for_a_month_is_built_anew_without_the_items_pruned_meanwhile(
    tmp_path, store_at
):
    """The change log forgets a reader that has not read for 30 days and later tells it
    that everything changed, listing no removal: brought up to date from that, a saved
    index would keep the items pruned meanwhile.  It is built anew instead."""
    config, entries = labelled_site(tmp_path, store_at)
    storage = open_storage(config.storage.url)
    try:
        storage.sync_sources(config.sources)
        store_labelled(storage, entries[:40], datetime(2025, 3, 5, tzinfo=UTC))
        assert len(load_index(storage, config)) == 40  # built, saved, read up to now
        # Old items are pruned; only the related stage reads the log, a month on.
        assert storage.prune(
            retention_days=45, keep_latest=0, now=datetime(2025, 4, 25, tzinfo=UTC)
        )
        month_on = datetime.now(UTC) + timedelta(days=31)
        storage.changes_read("related", storage.item_changes(None)[0], now=month_on)

        kept = load_index(storage, config)
        assert contents(kept) == contents(from_scratch(storage, config))
        assert len(kept) == storage.items_count() < 40
    finally:
        storage.close()


def test_a_saved_index_in_use_says_every_run_how_far_it_read(tmp_path, store_at):
    """Brought up to date without being saved again (fewer than SAVE_AFTER changes), the
    saved index still tells the change log it is reading, so a store with few changes a
    month never takes it for a reader gone."""
    config, entries = labelled_site(tmp_path, store_at)
    storage = open_storage(config.storage.url)
    try:
        storage.sync_sources(config.sources)
        store_labelled(storage, entries[:20], datetime(2025, 3, 5, tzinfo=UTC))
        load_index(storage, config)
        path = index_path(config.storage.url, tmp_path)
        saved_mark = saved._read(path, saved._identity(storage.location, config))[1]
        store_labelled(storage, entries[20:25], datetime(2025, 3, 6, tzinfo=UTC))
        # Its last save was 40 days ago; now it is brought up to date (5 changes: not
        # saved again) ...
        long_ago = datetime.now(UTC) - timedelta(days=40)
        storage.changes_read(saved.READER, saved_mark, now=long_ago)
        load_index(storage, config)
        assert saved._read(path, saved._identity(storage.location, config))[1] == saved_mark
        # ... and another reader has read everything: the log keeps the 5 for it.
        storage.changes_read("related", storage.item_changes(None)[0])
        assert storage.changes_kept(saved_mark)
        assert len(storage.item_changes(saved_mark)[1]) == 5
    finally:
        storage.close()
