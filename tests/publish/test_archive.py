"""Complete archives (RFC 5005 section 4): an output with `archive: true` keeps every
entry it ever selected in monthly archive documents chained from the subscription
document; feedparser and newsboat, walking the chain, see every entry once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from validators import newsboat_entries, relaxng_errors, rss_errors

from aggregator.config import Config, OutputConfig, PublishConfig, SiteConfig, SourceConfig
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.publish import publish
from aggregator.store import Storage, open_storage

FEEDS = "https://eurasia24.kz/feeds/"
FH = "{http://purl.org/syndication/history/1.0}archive"
START = datetime(2026, 9, 10, 12, tzinfo=UTC)


def config(max_entries: int = 10) -> Config:
    return Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/", feeds_url=FEEDS),
        sources=(SourceConfig(id="tengri", name="Tengrinews", url="https://tengrinews.kz/rss"),),
        outputs=(
            OutputConfig(name="all", max_entries=max_entries, archive=True),
            OutputConfig(name="plain", max_entries=max_entries),
        ),
        publish=PublishConfig(),
    )


def items(first: int, count: int, every: timedelta = timedelta(days=3)) -> list[Item]:
    return [
        Item(
            id=f"https://tengrinews.kz/news/{n}",
            title=f"Новость {n}",
            link=f"https://tengrinews.kz/news/{n}",
            content=f"<p>Текст {n}</p>",
            published=START + every * n,
        )
        for n in range(first, first + count)
    ]


def store(storage: Storage, cfg: Config, new: list[Item]) -> None:
    storage.sync_sources(cfg.sources)
    state = storage.get_source_state("tengri")
    state.title = "Tengrinews"
    newest = max(i.published for i in new)
    record_fetch(storage, state, new, fetched_at=newest + timedelta(hours=1))


def local(url: str, out: Path) -> Path:
    assert url.startswith(FEEDS), url
    return out / url.removeprefix(FEEDS)


def walk(out: Path, fmt: str) -> list[Path]:
    """The documents of the chain, subscription document first, by prev-archive links."""
    chain = [out / f"all.{fmt}"]
    while True:
        parsed = feedparser.parse(chain[-1].read_bytes())
        prev = [link.href for link in parsed.feed.get("links", []) if link.rel == "prev-archive"]
        if not prev:
            return chain
        assert len(prev) == 1
        chain.append(local(prev[0], out))
        assert len(chain) < 50, "the chain loops"


def ids_along(chain: list[Path]) -> list[str]:
    return [
        entry.id for document in chain for entry in feedparser.parse(document.read_bytes()).entries
    ]


@pytest.fixture
def published(tmp_path: Path):
    cfg = config()
    storage = open_storage(tmp_path / "store.sqlite")
    for first in range(0, 40, 10):  # 40 entries over five months, fetched as they came
        store(storage, cfg, items(first, 10))
    out = tmp_path / "output"
    publish(cfg, storage, out_dir=out)
    yield cfg, storage, out
    storage.close()


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feedparser_walking_the_chain_sees_every_entry_once(published, fmt):
    cfg, storage, out = published
    chain = walk(out, fmt)
    ids = ids_along(chain)
    assert len(ids) == len(set(ids)) == 40
    assert len(feedparser.parse(chain[0].read_bytes()).entries) == 10
    assert [p.name for p in chain[1:]] == [f"2026-{m:02}.{fmt}" for m in (12, 11, 10, 9)]


def test_archive_documents_carry_the_rfc_5005_marks(published):
    _, _, out = published
    chain = walk(out, "atom")
    for position, document in enumerate(chain[1:], start=1):
        root = etree.parse(str(document)).getroot()
        assert root.find(FH) is not None, document
        links = {
            (link.rel, link.href) for link in feedparser.parse(document.read_bytes()).feed.links
        }
        assert ("current", FEEDS + "all.atom") in links
        assert ("self", FEEDS + "all/archive/" + document.name) in links
        if position > 1:
            assert ("next-archive", FEEDS + "all/archive/" + chain[position - 1].name) in links
        assert not relaxng_errors(document)
    assert etree.parse(str(chain[0])).getroot().find(FH) is None
    for document in walk(out, "rss")[1:]:
        assert rss_errors(document) == []
        assert etree.parse(str(document)).getroot().find("channel").find(FH) is not None


def test_newsboat_sees_every_entry_once_across_the_chain(published, tmp_path):
    _, _, out = published
    seen: list[str] = []
    for n, document in enumerate(walk(out, "atom")):
        seen += [entry["id"] for entry in newsboat_entries(document, tmp_path / f"nb{n}")]
    assert len(seen) == len(set(seen)) == 40


def test_an_output_without_archive_writes_none(published):
    _, _, out = published
    assert not (out / "plain").exists()
    assert b"prev-archive" not in (out / "plain.atom").read_bytes()


def test_final_months_are_never_rewritten_and_the_open_one_grows(published, tmp_path):
    cfg, storage, out = published
    archive = out / "all" / "archive"
    before = {p.name: p.read_bytes() for p in archive.glob("*.atom")}
    final = [m + ".atom" for m in (archive / ".final.json").read_text().split('"')[1::2]]
    assert final, "the older months are final"

    store(storage, cfg, items(40, 6))  # six newer entries push six more into the archive
    publish(cfg, storage, out_dir=out)
    after = {p.name: p.read_bytes() for p in archive.glob("*.atom")}
    for name in final:
        assert after[name] == before[name], f"{name} is final but changed"
    ids = ids_along(walk(out, "atom"))
    assert len(ids) == len(set(ids)) == 46

    # The store forgets old items (retention); the final archives keep them.
    assert storage.prune(retention_days=0, keep_latest=10, now=datetime(2026, 12, 1, tzinfo=UTC))
    publish(cfg, storage, out_dir=out)
    for name in final:
        assert (archive / name).read_bytes() == before[name]
    assert len(set(ids_along(walk(out, "atom")))) == 46
