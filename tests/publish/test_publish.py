"""publish: store -> output/ (Atom, RSS, JSON Feed, index.html, sources.opml, health.json)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree
from validators import (
    ATOM,
    DC,
    FETCHED_AT,
    HOSTILE_TITLES,
    KAZAKH,
    RUSSIAN,
    atom_entries,
    build_store,
    jsonfeed_errors,
    relaxng_errors,
    rss_entries,
    rss_errors,
    sample_config,
)

from aggregator.config import Config, ConfigError, OutputConfig, expand_outputs
from aggregator.ingest.update import record_fetch
from aggregator.models import Item, StoredItem
from aggregator.publish import publish
from aggregator.store import Storage, open_storage

FEED_FILES = ("atom", "rss", "json")


# The shared store and output are read-only by convention: a test that changes
# the store uses `fresh_storage` and publishes into its own tmp_path.


@pytest.fixture(scope="module")
def config() -> Config:
    return sample_config()


@pytest.fixture(scope="module")
def storage(module_store_at, config: Config):
    storage = build_store(module_store_at("store"), config)
    yield storage
    storage.close()


@pytest.fixture(scope="module")
def out(tmp_path_factory, config: Config, storage: Storage) -> Path:
    out = tmp_path_factory.mktemp("published") / "output"
    publish(config, storage, out_dir=out)
    return out


@pytest.fixture
def fresh_storage(store_at, tmp_path: Path, config: Config):
    storage = build_store(store_at("fresh"), config)
    yield storage
    storage.close()


def feed_files(out: Path) -> list[Path]:
    return sorted(
        p for p in out.iterdir() if p.suffix in (".atom", ".rss", ".json") and p.stem != "health"
    )


def json_ids(path: Path) -> list[str]:
    return [item["id"] for item in json.loads(path.read_text(encoding="utf-8"))["items"]]


def stored(storage: Storage) -> list[StoredItem]:
    return list(storage.iter_items())


# --- layout and selection ----------------------------------------------------------


def test_every_output_is_written_in_three_formats_next_to_the_site_files(out: Path):
    names = {p.name for p in out.iterdir()}
    stems = [
        "all",
        "source-tengri",
        "source-inform-kk",
        "source-bbc",
        "source-house",
        "tag-kz",
        "tag-news",
        "tag-world",
        "commentary",
        "kazakh",
    ]
    assert names == {f"{s}.{ext}" for s in stems for ext in FEED_FILES} | {
        "index.html",
        "sources.opml",
        "health.json",
        "commentary",  # a page per house commentary, and their index
        "embed.js",
        "embed",
    }


def test_per_rules_expand_with_name_and_title_substituted(config: Config):
    outputs = {o.name: o for o in expand_outputs(config)}
    assert outputs["source-bbc"].sources == ("bbc",)
    assert outputs["source-bbc"].title == "BBC <World>"
    assert outputs["tag-world"].tags == ("world",)
    assert outputs["tag-world"].title == "Евразия24: world"
    assert all(o.per is None for o in outputs.values())


def test_no_outputs_configured_means_one_combined_feed_named_all(tmp_path, config, storage):
    report = publish(replace(config, outputs=()), storage, out_dir=tmp_path / "o")
    assert dict(report.entries) == {"all": len(stored(storage))}


def test_the_combined_feed_carries_every_item_newest_first(out: Path, storage: Storage):
    ids = json_ids(out / "all.json")
    assert len(ids) == 12
    expected = [f"tag:eurasia24.kz,2026:item/{s.key}" for s in stored(storage)]
    assert ids == expected


def test_a_per_source_output_carries_only_that_sources_items(out: Path, storage: Storage):
    entries = json.loads((out / "source-bbc.json").read_text(encoding="utf-8"))["items"]
    assert [e["title"] for e in entries] == ["World news & analysis", "Markets <rally>", "Weather"]
    assert {e["_source"]["name"] for e in entries} == {"BBC <World>"}


def test_tags_match_source_tags_or_item_categories(tmp_path, config, storage):
    outputs = (
        OutputConfig(name="kz", tags=("kz",)),  # source tag: tengri + inform-kk
        OutputConfig(name="politics", tags=("политика",)),  # item category, any case
    )
    publish(
        replace(config, outputs=outputs, publish=replace(config.publish, main_output="kz")),
        storage,
        out_dir=tmp_path / "o",
    )
    kz = json.loads((tmp_path / "o/kz.json").read_text(encoding="utf-8"))["items"]
    assert {e["_source"]["name"] for e in kz} == {"Tengrinews", "Kazinform (қазақша)"}
    politics = json.loads((tmp_path / "o/politics.json").read_text(encoding="utf-8"))["items"]
    assert len(politics) == 4 and all(e["tags"] == ["Политика"] for e in politics)


def test_languages_select_by_item_or_source_language(out: Path):
    items = json.loads((out / "kazakh.json").read_text(encoding="utf-8"))["items"]
    assert [e["title"] for e in items] == [KAZAKH, HOSTILE_TITLES[1], "Үкімет отырысы өтті"]
    assert {e["language"] for e in items} == {"kk"}


def test_include_and_exclude_patterns_match_title_and_content_text(tmp_path, config, storage):
    outputs = (
        OutputConfig(name="all"),
        # "tengri" is only in the content (inside <b>), never in a title.
        OutputConfig(name="inc", include=("Текст: tengri",)),
        OutputConfig(name="exc", exclude=("(?i)экономика", "Weather")),
    )
    publish(replace(config, outputs=outputs), storage, out_dir=tmp_path / "o")
    inc = json.loads((tmp_path / "o/inc.json").read_text(encoding="utf-8"))["items"]
    assert {e["_source"]["name"] for e in inc} == {"Tengrinews"} and len(inc) == 3
    exc = [
        e["title"]
        for e in json.loads((tmp_path / "o/exc.json").read_text(encoding="utf-8"))["items"]
    ]
    assert "Экономика: курс тенге" not in exc and "Weather" not in exc and len(exc) == 10


def test_include_and_exclude_ignore_case_unless_a_pattern_asks_for_it(tmp_path, config, storage):
    # An editor writes "экономика" and means the title "Экономика: ..." too; Kazakh
    # letters fold as well.  (?-i:...) keeps a part case-sensitive (an acronym).
    outputs = (
        OutputConfig(name="all"),
        OutputConfig(name="exc", exclude=("экономика",)),
        OutputConfig(name="kk", include=("ҮКІМЕТ",)),
        OutputConfig(name="exact", exclude=("(?-i:экономика)",)),
    )
    publish(replace(config, outputs=outputs), storage, out_dir=tmp_path / "o")

    def titles(name: str) -> list[str]:
        feed = json.loads((tmp_path / "o" / f"{name}.json").read_text(encoding="utf-8"))
        return [e["title"] for e in feed["items"]]

    assert "Экономика: курс тенге" not in titles("exc")
    assert titles("kk") == ["Үкімет отырысы өтті"]
    assert "Экономика: курс тенге" in titles("exact")


def test_kinds_separate_house_commentary_from_source_items(tmp_path, config, storage):
    outputs = (
        OutputConfig(name="all", kinds=("source",)),
        OutputConfig(name="commentary", kinds=("commentary",)),
    )
    publish(replace(config, outputs=outputs), storage, out_dir=tmp_path / "o")
    source_items = json.loads((tmp_path / "o/all.json").read_text(encoding="utf-8"))["items"]
    commentary = json.loads((tmp_path / "o/commentary.json").read_text(encoding="utf-8"))["items"]
    assert "Евразия24 CMS" not in {e["_source"]["name"] for e in source_items}
    assert {e["_source"]["name"] for e in commentary} == {"Евразия24 CMS"} and len(commentary) == 3


def test_max_entries_keeps_the_newest(tmp_path, config, storage):
    outputs = (OutputConfig(name="all", max_entries=2), OutputConfig(name="none", max_entries=0))
    report = publish(replace(config, outputs=outputs), storage, out_dir=tmp_path / "o")
    assert json_ids(tmp_path / "o/all.json") == [
        f"tag:eurasia24.kz,2026:item/{s.key}" for s in stored(storage)[:2]
    ]
    assert report.entries["none"] == 0


def test_max_age_counts_back_from_the_newest_stored_item_not_the_clock(tmp_path, config, storage):
    # The store's newest item is from FETCHED_AT (2026); the clock is irrelevant.
    outputs = (
        OutputConfig(name="all", max_age=int(timedelta(hours=10, minutes=30).total_seconds())),
    )
    publish(replace(config, outputs=outputs), storage, out_dir=tmp_path / "o")
    titles = [
        e["title"]
        for e in json.loads((tmp_path / "o/all.json").read_text(encoding="utf-8"))["items"]
    ]
    # tengri (0-2 h old) and the newest inform-kk item (10 h old).
    assert titles == [RUSSIAN, HOSTILE_TITLES[0], "Экономика: курс тенге", KAZAKH]


def test_an_empty_store_publishes_valid_empty_feeds_dated_by_their_first_publication(
    store_at, tmp_path, config
):
    first = datetime(2026, 3, 20, 9, 15, 42, 123456, tzinfo=UTC)
    with open_storage(store_at("empty")) as empty:
        report = publish(config, empty, out_dir=tmp_path / "o", now=first)
        assert set(report.entries.values()) == {0} and not report.fetched
        assert relaxng_errors(tmp_path / "o/all.atom") == ""
        assert jsonfeed_errors(tmp_path / "o/all.json") == []
        assert rss_errors(tmp_path / "o/all.rss") == []
        # Not 1970: the time the feed was first published, in whole seconds ...
        (feed,) = atom_feed_updated(tmp_path / "o/all.atom")
        assert feed == "2026-03-20T09:15:42+00:00"
        rss = (tmp_path / "o/all.rss").read_text(encoding="utf-8")
        assert "<lastBuildDate>Fri, 20 Mar 2026 09:15:42 +0000</lastBuildDate>" in rss
        # ... kept on the next run, so the files do not change every run.
        again = publish(config, empty, out_dir=tmp_path / "o", now=first + timedelta(hours=1))
    assert not [p for p in again.written if p.suffix in (".atom", ".rss", ".json")]


def atom_feed_updated(path: Path) -> list[str]:
    root = etree.parse(str(path)).getroot()
    return [element.text for element in root.findall("{http://www.w3.org/2005/Atom}updated")]


@pytest.mark.parametrize(
    "outputs, message",
    [
        ((OutputConfig(name="all", include=("(unclosed",)),), "not a valid regular expression"),
        ((OutputConfig(name="all"), OutputConfig(name="all")), "two outputs are named 'all'"),
        ((OutputConfig(name="all"), OutputConfig(name="health")), "clashes with health.*"),
        ((OutputConfig(name="../evil"),), "not usable as a file name"),
        ((OutputConfig(name="all", kinds=("opinion",)),), "kinds ['opinion'] unknown"),
        ((OutputConfig(name="x-{id}", per="author"),), "per must be 'source' or 'tag'"),
        ((OutputConfig(name="news"),), "publish.main_output: 'all' names no output"),
    ],
)
def test_an_unpublishable_output_config_is_a_clear_config_error(
    tmp_path, config, storage, outputs, message
):
    with pytest.raises(ConfigError) as error:
        publish(replace(config, outputs=outputs), storage, out_dir=tmp_path / "o")
    assert message in str(error.value)


# --- identity, attribution, content ----------------------------------------------


def test_an_entry_has_the_same_id_in_every_output_and_format(out: Path, storage: Storage):
    key = next(s.key for s in stored(storage) if s.item.title == KAZAKH)
    expected = f"tag:eurasia24.kz,2026:item/{key}"
    for stem in ("all", "source-inform-kk", "tag-kz", "kazakh"):
        assert expected in [e["id"] for e in atom_entries(out / f"{stem}.atom")]
        assert expected in [e["id"] for e in rss_entries(out / f"{stem}.rss")]
        assert expected in json_ids(out / f"{stem}.json")


def test_feeds_carry_self_link_stable_id_language_and_the_newest_entrys_time(out: Path):
    atom = etree.parse(str(out / "tag-kz.atom")).getroot()
    assert atom.findtext(f"{ATOM}id") == "tag:eurasia24.kz,2026:feed/tag-kz"
    assert (
        atom.find(f"{ATOM}link[@rel='self']").get("href")
        == "https://eurasia24.kz/feeds/tag-kz.atom"
    )
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
    # Newest kz entry: tengri's, published FETCHED_AT, updated 5 minutes later
    # (but never after the fetch, so the store clamps it to FETCHED_AT).
    newest = max(e.findtext(f"{ATOM}updated") for e in atom.iter(f"{ATOM}entry"))
    assert atom.findtext(f"{ATOM}updated") == newest == "2026-03-02T12:00:00+00:00"

    rss = etree.parse(str(out / "tag-kz.rss")).getroot().find("channel")
    assert rss.findtext("lastBuildDate") == "Mon, 02 Mar 2026 12:00:00 +0000"
    assert rss.findtext("language") == "ru"
    assert (
        rss.find("{http://www.w3.org/2005/Atom}link[@rel='self']").get("href")
        == "https://eurasia24.kz/feeds/tag-kz.rss"
    )

    feed = json.loads((out / "tag-kz.json").read_text(encoding="utf-8"))
    assert feed["feed_url"] == "https://eurasia24.kz/feeds/tag-kz.json"
    assert feed["language"] == "ru"


def test_without_feeds_url_self_links_assume_output_is_served_at_the_site_root(tmp_path, storage):
    config = sample_config(feeds_url="")
    publish(config, storage, out_dir=tmp_path / "o")
    feed = json.loads((tmp_path / "o/all.json").read_text(encoding="utf-8"))
    assert feed["feed_url"] == "https://eurasia24.kz/all.json"


def test_atom_source_names_the_source_feed_with_id_title_link_and_updated(out: Path):
    atom = etree.parse(str(out / "all.atom")).getroot()
    entry = next(e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == KAZAKH)
    source = entry.find(f"{ATOM}source")
    assert source.findtext(f"{ATOM}id") == "https://www.inform.kz/rss/kaz.xml"
    assert source.findtext(f"{ATOM}title") == "Kazinform (қазақша)"
    assert source.find(f"{ATOM}link[@rel='alternate']").get("href") == "https://inform-kk.example/"
    assert (
        source.find(f"{ATOM}link[@rel='self']").get("href") == "https://www.inform.kz/rss/kaz.xml"
    )
    assert source.findtext(f"{ATOM}updated") == "2026-03-02T11:30:00Z"
    # The source's own id for the item stays visible.
    assert entry.findtext(f"{DC}identifier") == "https://inform-kk.example/guid/0"


def test_rss_items_carry_source_url_a_non_permalink_guid_and_rfc822_dates(out: Path):
    channel = etree.parse(str(out / "all.rss")).getroot().find("channel")
    item = next(i for i in channel.iter("item") if i.findtext("title") == KAZAKH)
    assert item.find("source").get("url") == "https://www.inform.kz/rss/kaz.xml"
    assert item.findtext("source") == "Kazinform (қазақша)"
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.findtext("pubDate") == "Mon, 02 Mar 2026 02:00:00 +0000"
    assert item.findtext("author") == "desk@example.kz (Desk)"
    assert item.findtext(f"{DC}creator") == "Айгүл Сәрсенова"


def test_json_feed_items_carry_a_source_extension_object(out: Path):
    items = json.loads((out / "all.json").read_text(encoding="utf-8"))["items"]
    item = next(i for i in items if i["title"] == KAZAKH)
    assert item["_source"] == {
        "id": "https://www.inform.kz/rss/kaz.xml",
        "name": "Kazinform (қазақша)",
        "url": "https://inform-kk.example/",
        "feed_url": "https://www.inform.kz/rss/kaz.xml",
        "updated": "2026-03-02T11:30:00Z",
        "item_id": "https://inform-kk.example/guid/0",
    }


def test_entries_carry_authors_categories_enclosures_and_iri_links_as_uris(out: Path):
    items = json.loads((out / "all.json").read_text(encoding="utf-8"))["items"]
    item = next(i for i in items if i["title"] == HOSTILE_TITLES[1])
    assert item["url"] == "https://inform-kk.example/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1"
    assert item["authors"] == [{"name": "Айгүл Сәрсенова"}, {"name": "Desk"}]
    assert item["tags"] == ["Экономика", "Спорт"]
    assert item["attachments"] == [
        {
            "url": "https://inform-kk.example/photo1.jpg",
            "mime_type": "image/jpeg",
            "size_in_bytes": 12345,
        }
    ]
    atom = etree.parse(str(out / "all.atom")).getroot()
    entry = next(
        e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == HOSTILE_TITLES[1]
    )
    enclosure = entry.find(f"{ATOM}link[@rel='enclosure']")
    assert (enclosure.get("type"), enclosure.get("length")) == ("image/jpeg", "12345")
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["Экономика", "Спорт"]
    assert [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")] == [
        "Айгүл Сәрсенова",
        "Desk",
    ]


def test_the_repost_notice_is_appended_only_where_the_output_asks(out: Path):
    notice = (
        "Перепечатка и копирование материалов допускаются только с указанием ссылки на источник."
    )
    with_notice = json.loads((out / "all.json").read_text(encoding="utf-8"))["items"]
    without = json.loads((out / "source-bbc.json").read_text(encoding="utf-8"))["items"]
    assert all(notice in i["content_html"] for i in with_notice)
    assert not any(notice in i["content_html"] for i in without)
    atom = (out / "all.atom").read_text(encoding="utf-8")
    assert atom.count(notice) == len(with_notice)
    # index.html shows "all", but a lead is the article's own text, not the notice.
    assert notice not in (out / "index.html").read_text(encoding="utf-8")


# --- escaping ------------------------------------------------------------------------


def test_hostile_titles_arrive_as_text_in_every_format(out: Path):
    titles = {e["title"] for e in atom_entries(out / "all.atom")}
    assert set(HOSTILE_TITLES) <= titles
    assert set(HOSTILE_TITLES) <= {e["title"] for e in rss_entries(out / "all.rss")}
    items = json.loads((out / "all.json").read_text(encoding="utf-8"))["items"]
    assert set(HOSTILE_TITLES) <= {i["title"] for i in items}
    # JSON that is safe even inside someone's <script> block.
    assert "<" not in (out / "all.json").read_text(encoding="utf-8")


def test_nothing_from_a_source_becomes_markup_in_index_html(out: Path):
    text = (out / "index.html").read_text(encoding="utf-8")
    page = lxml.html.fromstring(text)
    assert page.xpath("//script") == []
    assert page.xpath("//img") == []
    assert page.xpath("//@*[starts-with(name(), 'on')]") == []
    headings = [h.text_content() for h in page.xpath("//article/h3")]
    assert set(HOSTILE_TITLES) <= set(headings)  # shown, as text


def test_script_in_stored_content_does_not_reach_any_feed(store_at, tmp_path, config):
    with open_storage(store_at("s")) as storage:
        storage.sync_sources(config.sources[:1])
        state = storage.get_source_state("tengri")
        evil = Item(
            id="evil",
            title="ok",
            link="javascript:alert(1)",
            content='<p onclick="x()">hi<script>alert(1)</script><iframe src="https://evil"></iframe></p>',
        )
        record_fetch(storage, state, [evil], fetched_at=FETCHED_AT)
        publish(replace(config, outputs=()), storage, out_dir=tmp_path / "o")
    item = json.loads((tmp_path / "o/all.json").read_text(encoding="utf-8"))["items"][0]
    assert "url" not in item  # a javascript: link is no link
    assert "script" not in item["content_html"] and "onclick" not in item["content_html"]
    assert "iframe" not in item["content_html"]
    assert "alert" not in (tmp_path / "o/all.atom").read_text(encoding="utf-8")


def test_characters_xml_cannot_carry_are_dropped_not_fatal(store_at, tmp_path, config):
    with open_storage(store_at("s")) as storage:
        storage.sync_sources(config.sources[:1])
        state = storage.get_source_state("tengri")
        record_fetch(
            storage,
            state,
            [Item(id="c", title="bell\x07 and\x00 nul", content="x\x0b")],
            fetched_at=FETCHED_AT,
        )
        publish(replace(config, outputs=()), storage, out_dir=tmp_path / "o")
    assert atom_entries(tmp_path / "o/all.atom")[0]["title"] == "bell and nul"


# --- the site files ----------------------------------------------------------------


def test_index_html_lists_the_main_outputs_entries_and_links_every_feed(out: Path, config: Config):
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    alternates = {
        (link.get("type"), link.get("href")) for link in page.xpath("//head/link[@rel='alternate']")
    }
    assert alternates == {
        ("application/atom+xml", "all.atom"),
        ("application/rss+xml", "all.rss"),
        ("application/feed+json", "all.json"),
    }
    hrefs = set(page.xpath("//body//a/@href"))
    for output in expand_outputs(config):
        assert {f"{output.name}.atom", f"{output.name}.rss", f"{output.name}.json"} <= hrefs
    assert len(page.xpath("//article")) == 12
    assert page.xpath("//article//a/@href")[0].startswith("https://")


def test_sources_opml_lists_every_source(out: Path, config: Config):
    opml = etree.parse(str(out / "sources.opml")).getroot()
    assert opml.get("version") == "2.0"
    outlines = opml.findall("body/outline")
    assert [o.get("text") for o in outlines] == [s.name for s in config.sources]
    inform = outlines[1]
    assert inform.get("xmlUrl") == "https://www.inform.kz/rss/kaz.xml"
    assert inform.get("htmlUrl") == "https://inform-kk.example/"
    assert inform.get("language") == "kk"
    assert inform.get("category") == "/kz"
    assert [
        p.get("text") for p in feedparser.parse(str(out / "sources.opml")).get("entries", [])
    ] == []


def test_health_json_reports_each_sources_state_in_utc(tmp_path, config, fresh_storage):
    storage = fresh_storage
    state = storage.get_source_state("bbc")
    state.consecutive_failures = 3
    state.last_error = "HTTP 503 from https://feeds.bbci.co.uk/news/world/rss.xml"
    state.last_error_at = FETCHED_AT + timedelta(hours=1)
    state.backoff_until = FETCHED_AT + timedelta(hours=2)
    storage.save_source_state(state)
    publish(config, storage, out_dir=tmp_path / "o")
    health = json.loads((tmp_path / "o/health.json").read_text(encoding="utf-8"))
    by_id = {s["id"]: s for s in health["sources"]}
    assert by_id["tengri"]["state"] == "ok"
    assert by_id["tengri"]["last_success"] == "2026-03-02T12:00:00Z"
    assert by_id["tengri"]["item_count"] == 3
    bbc = by_id["bbc"]
    assert (bbc["state"], bbc["consecutive_failures"], bbc["gone"]) == ("failing", 3, False)
    assert bbc["last_error"].startswith("HTTP 503")
    assert bbc["backoff_until"] == "2026-03-02T14:00:00Z"
    assert health["states"] == {"failing": 1, "ok": 3}


# --- determinism and atomic writes -----------------------------------------------


def test_publishing_twice_gives_identical_bytes_and_leaves_files_alone(
    store_at, tmp_path, config, storage, out: Path
):
    def files(directory: Path) -> list[Path]:
        return [p for p in directory.rglob("*") if p.is_file()]

    before = {p.relative_to(out): (p.read_bytes(), p.stat().st_mtime_ns) for p in files(out)}
    time.sleep(0.01)
    report = publish(config, storage, out_dir=out)
    after = {p.relative_to(out): (p.read_bytes(), p.stat().st_mtime_ns) for p in files(out)}
    assert after == before
    assert report.written == () and len(report.unchanged) == len(before)
    # A second store with the same content gives the same bytes, too.
    again = tmp_path / "again"
    with build_store(store_at("again"), config) as store:
        publish(config, store, out_dir=again)
    assert {p.relative_to(again): p.read_bytes() for p in files(again)} == {
        n: b for n, (b, _) in before.items()
    }


def test_a_new_item_rewrites_only_the_files_it_appears_in(tmp_path, config, fresh_storage):
    storage, out = fresh_storage, tmp_path / "output"
    publish(config, storage, out_dir=out)
    state = storage.get_source_state("bbc")
    record_fetch(
        storage,
        state,
        [Item(id="new", title="Breaking", published=FETCHED_AT)],
        fetched_at=FETCHED_AT,
    )
    report = publish(config, storage, out_dir=out)
    written = {p.name for p in report.written}
    assert {"all.atom", "source-bbc.rss", "tag-world.json", "index.html"} <= written
    assert not written & {"source-tengri.atom", "kazakh.json", "commentary.rss", "sources.opml"}


def test_publish_leaves_no_temporary_files(out: Path):
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


# --- validity, judged by third-party tools ----------------------------------------


def test_every_atom_output_validates_against_the_rfc4287_relaxng_schema(out: Path):
    for path in out.glob("*.atom"):
        assert relaxng_errors(path) == "", path.name


def test_every_json_feed_validates_against_the_json_feed_11_schema(out: Path):
    for path in out.glob("*.json"):
        if path.name != "health.json":
            assert jsonfeed_errors(path) == [], path.name


def test_the_json_feed_check_really_checks_uri_formats(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": "t",
                "items": [{"id": "1", "url": "https://example.kz/новости", "content_html": "x"}],
            }
        ),
        encoding="utf-8",
    )
    assert any("uri" in e for e in jsonfeed_errors(bad))


def test_every_rss_output_follows_the_rss_20_rules(out: Path):
    for path in out.glob("*.rss"):
        assert rss_errors(path) == [], path.name


def json_entries(path: Path) -> list[dict[str, str]]:
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    return [{"id": i["id"], "title": i["title"], "link": i.get("url", "")} for i in items]


def test_atom_rss_and_json_feed_carry_the_same_entries(out: Path):
    for path in out.glob("*.atom"):
        expected = atom_entries(path)
        assert rss_entries(path.with_suffix(".rss")) == expected, path.stem
        assert json_entries(path.with_suffix(".json")) == expected, path.stem


def test_feedparser_reads_back_the_same_ids_titles_and_links(out: Path):
    # feedparser 6 reads Atom and RSS only; JSON Feed is checked by the schema
    # and by the same-entries test above.
    for path in feed_files(out):
        if path.suffix == ".json":
            continue
        expected = atom_entries(path) if path.suffix == ".atom" else rss_entries(path)
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path.name, parsed.get("bozo_exception"))
        got = [
            {"id": e.get("id"), "title": e.get("title"), "link": e.get("link", "")}
            for e in parsed.entries
        ]
        assert got == expected, path.name


def test_cyrillic_and_kazakh_text_round_trips_exactly(out: Path):
    expected = {KAZAKH, RUSSIAN, "Пікір: ә ғ қ ң ө ұ ү һ і"}
    for name in ("all.atom", "all.rss"):
        titles = {e.title for e in feedparser.parse((out / name).read_bytes()).entries}
        assert expected <= titles, name
    assert expected <= {e["title"] for e in json_entries(out / "all.json")}
    authors = feedparser.parse((out / "all.atom").read_bytes()).entries[0].authors
    assert authors[0]["name"] == "Айгүл Сәрсенова"


# --- real-world feeds ----------------------------------------------------------------

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realfeeds"
REAL_SAMPLES = {
    "ibash": "miniflux/encoding_WINDOWS-1251.xml",
    "koi8": "miniflux/encoding-koi8r.xml",
    "urdu": "miniflux/urdu_UTF8.xml",
    "dustri": "miniflux/large_atom.xml",
    "guardian": "rss-parser/guardian.rss",
    "giantbomb": "rss-parser/giantbomb-podcast.rss",
}


def test_real_world_feeds_republish_as_valid_feeds_that_round_trip(store_at, tmp_path: Path):
    if not REALFEEDS.is_dir():
        pytest.skip(f"{REALFEEDS} is absent (the shared sample feeds live next to the repository)")
    from aggregator.config import SourceConfig
    from aggregator.parse import parse_feed

    sources = tuple(
        SourceConfig(id=sid, name=sid, url=f"https://{sid}.example/feed") for sid in REAL_SAMPLES
    )
    config = replace(
        sample_config(),
        sources=sources,
        outputs=(
            OutputConfig(name="all", repost_notice=True),
            OutputConfig(name="s-{id}", per="source"),
        ),
    )
    expected_titles: dict[str, set[str]] = {}
    with open_storage(store_at("real")) as storage:
        storage.sync_sources(sources)
        for source in sources:
            parsed = parse_feed((REALFEEDS / REAL_SAMPLES[source.id]).read_bytes(), source.url)
            state = storage.get_source_state(source.id)
            state.title, state.link = parsed.title, parsed.link
            record_fetch(storage, state, parsed.items, fetched_at=FETCHED_AT)
            expected_titles[source.id] = {i.title for i in parsed.items}
        counts = {
            s.id: min(100, sum(1 for _ in storage.iter_items(source_ids=[s.id]))) for s in sources
        }
        publish(config, storage, out_dir=tmp_path / "o")
    for source in sources:
        stem = tmp_path / "o" / f"s-{source.id}"
        assert relaxng_errors(stem.with_suffix(".atom")) == "", source.id
        assert jsonfeed_errors(stem.with_suffix(".json")) == [], source.id
        assert rss_errors(stem.with_suffix(".rss")) == [], source.id
        for suffix in (".atom", ".rss"):
            parsed = feedparser.parse(stem.with_suffix(suffix).read_bytes())
            assert not parsed.bozo, (source.id, suffix, parsed.get("bozo_exception"))
            assert {e.title for e in parsed.entries} <= expected_titles[source.id] | {"(untitled)"}
            assert len(parsed.entries) == counts[source.id] > 0, (source.id, suffix)
    assert relaxng_errors(tmp_path / "o/all.atom") == ""
    assert jsonfeed_errors(tmp_path / "o/all.json") == []
