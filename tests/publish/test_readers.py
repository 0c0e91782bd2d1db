"""Real feed readers (newsboat, sfeed) see the entries exactly as we wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest
from validators import (
    HOSTILE_TITLES,
    KAZAKH,
    atom_entries,
    build_store,
    newsboat_entries,
    rss_entries,
    sample_config,
    sfeed_entries,
)

from aggregator.publish import publish


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    config = sample_config()
    tmp = tmp_path_factory.mktemp("readers")
    with build_store(tmp / "store.sqlite", config) as storage:
        publish(config, storage, out_dir=tmp / "output")
    return tmp / "output"


def ours(path: Path) -> list[dict[str, str]]:
    return atom_entries(path) if path.suffix == ".atom" else rss_entries(path)


@pytest.mark.parametrize("name", ["all.atom", "all.rss", "source-inform-kk.atom", "tag-kz.rss"])
def test_newsboat_sees_our_ids_titles_and_links(out: Path, tmp_path: Path, name: str):
    seen = newsboat_entries(out / name, tmp_path / "newsboat")
    expected = ours(out / name)
    key = lambda e: e["id"]  # noqa: E731 - newsboat orders equal dates its own way
    assert sorted(seen, key=key) == sorted(expected, key=key)
    assert {KAZAKH, *HOSTILE_TITLES} & {e["title"] for e in seen}


@pytest.mark.parametrize("name", ["all.atom", "all.rss", "source-inform-kk.atom", "tag-kz.rss"])
def test_sfeed_sees_our_ids_titles_and_links(out: Path, name: str):
    seen = sfeed_entries(out / name)
    assert [{"id": e["id"], "title": e["title"], "link": e["link"]} for e in seen] == ours(
        out / name
    )


def test_sfeed_reads_our_dates_authors_and_enclosures(out: Path):
    seen = {e["title"]: e for e in sfeed_entries(out / "all.atom")}
    kazakh = seen[KAZAKH]
    assert kazakh["timestamp"] == "1772416800"  # 2026-03-02T02:00:00Z
    assert "Айгүл Сәрсенова" in kazakh["author"]
    assert seen[HOSTILE_TITLES[1]]["enclosure"] == "https://inform-kk.example/photo1.jpg"
