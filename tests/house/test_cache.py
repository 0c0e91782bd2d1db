"""Match results kept between runs, valid for one commentary and one store state."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from aggregator.config import SourceConfig
from aggregator.house.cache import MatchCache
from aggregator.house.load import Commentary
from aggregator.house.match import Match
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.store import open_storage

WHEN = datetime(2025, 3, 7, 9, 0, tzinfo=UTC)
SOURCES = [SourceConfig(id="kazinform", name="Казинформ", url="https://inform.kz/rss")]


def item(n: int) -> Item:
    return Item(id=f"i{n}", title=f"Новость {n}", link=f"https://inform.kz/{n}", published=WHEN)


def test_a_result_is_reused_until_the_commentary_or_the_store_changes(tmp_path):
    storage = open_storage(tmp_path / "aggregator.sqlite")
    try:
        storage.sync_sources(SOURCES)
        record_fetch(storage, storage.get_source_state("kazinform"), [item(1)], fetched_at=WHEN)
        commentary = Commentary(
            id="file:a", title="A", published=WHEN, slug="a", comment_html="<p>Текст.</p>"
        )
        match = Match(("k1",), "similarity", 0.9, candidates=(("k1", 0.9),), quotes=(-1,),
                      evidence=("shares 16 with k1",))  # fmt: skip
        cache = MatchCache.for_storage(storage)
        assert cache.get(commentary) is None
        cache.put(commentary, match)
        cache.save([commentary])

        assert MatchCache.for_storage(storage).get(commentary) == match
        edited = dataclasses.replace(commentary, comment_html="<p>Другой текст.</p>")
        assert MatchCache.for_storage(storage).get(edited) is None

        state = dataclasses.replace(storage.get_source_state("kazinform"), body_hash="new")
        record_fetch(storage, state, [item(1), item(2)], fetched_at=WHEN)
        assert MatchCache.for_storage(storage).get(commentary) is None
    finally:
        storage.close()


def test_an_unreadable_cache_file_only_means_matching_again(tmp_path):
    storage = open_storage(tmp_path / "aggregator.sqlite")
    try:
        storage.sync_sources(SOURCES)
        (tmp_path / "aggregator.sqlite.matches.json").write_text("{not json", encoding="utf-8")
        commentary = Commentary(
            id="file:a", title="A", published=WHEN, slug="a", comment_html="<p>Текст.</p>"
        )
        assert MatchCache.for_storage(storage).get(commentary) is None
    finally:
        storage.close()
