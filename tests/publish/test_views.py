"""What a subscriber or an embedding site sees in every entry: its real language, no
local paths, a complete atom:source, no beacons, no empty content (issue 12)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from validators import ATOM, DC, FETCHED_AT, build_store, sample_config

from aggregator.config import OutputConfig, SourceConfig
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.publish import publish
from aggregator.publish.language import guess_language, shared_language

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def publish_with(
    store_at, tmp_path: Path, config, extra: dict[str, list[Item]] | None = None
) -> Path:
    """Publish the sample store (plus ``extra`` items per source id), in a store of
    each backend in turn (``store_at``), into tmp_path/o."""
    storage = build_store(store_at("s"), sample_config())
    try:
        storage.sync_sources(config.sources)
        for source_id, items in (extra or {}).items():
            state = storage.get_source_state(source_id)
            record_fetch(storage, state, items, fetched_at=FETCHED_AT)
        publish(config, storage, out_dir=tmp_path / "o")
    finally:
        storage.close()
    return tmp_path / "o"


def atom(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def item(source: str, n: int, title: str, content: str, **fields) -> Item:
    return Item(
        id=f"https://{source}.example/{n}",
        title=title,
        link=f"https://{source}.example/{n}",
        content=content,
        published=FETCHED_AT.replace(hour=11, minute=n),
        **fields,
    )


# --- 1. language labels --------------------------------------------------------------


def test_a_kazakh_only_output_is_labelled_kazakh_in_every_format(store_at, tmp_path):
    out = publish_with(store_at, tmp_path, sample_config())
    assert atom(out / "kazakh.atom").get(XML_LANG) == "kk"
    assert etree.parse(str(out / "kazakh.rss")).findtext("channel/language") == "kk"
    assert json.loads((out / "kazakh.json").read_bytes())["language"] == "kk"
    # One source's feed carries that source's language, not the site's.
    assert atom(out / "source-bbc.atom").get(XML_LANG) == "en"
    assert json.loads((out / "source-bbc.json").read_bytes())["language"] == "en"
    # A mixed output falls back to site.language.
    assert atom(out / "all.atom").get(XML_LANG) == "ru"


def test_an_outputs_language_key_wins(store_at, tmp_path):
    config = sample_config()
    config = replace(
        config, outputs=(*config.outputs, OutputConfig(name="mixed-en", language="en"))
    )
    out = publish_with(store_at, tmp_path, config)
    assert atom(out / "mixed-en.atom").get(XML_LANG) == "en"
    assert etree.parse(str(out / "mixed-en.rss")).findtext("channel/language") == "en"


def test_entries_of_a_feed_that_declares_no_language_carry_their_texts_not_ru(store_at, tmp_path):
    config = sample_config()
    source = SourceConfig(id="heise", name="heise", url="https://heise.example/rss")
    config = replace(config, sources=(*config.sources, source))
    german = item(
        "heise",
        1,
        "Neue Regeln für die Cloud",
        "<p>Die Bundesregierung hat sich auf neue Regeln für die Cloud geeinigt, "
        "die ab dem nächsten Jahr für alle Anbieter gelten und nicht verhandelbar sind.</p>",
    )
    out = publish_with(store_at, tmp_path, config, {"heise": [german]})
    entry = next(
        e
        for e in atom(out / "all.atom").iter(f"{ATOM}entry")
        if "Cloud" in e.findtext(f"{ATOM}title")
    )
    assert entry.get(XML_LANG) == "de"
    rss = etree.parse(str(out / "all.rss"))
    rss_item = next(i for i in rss.iter("item") if "Cloud" in i.findtext("title"))
    assert rss_item.findtext(f"{DC}language") == "de"
    items = json.loads((out / "all.json").read_bytes())["items"]
    assert next(i for i in items if "Cloud" in i["title"])["language"] == "de"
    # Every entry of every output says its language in Atom and RSS.
    for entry in atom(out / "all.atom").iter(f"{ATOM}entry"):
        assert entry.get(XML_LANG), entry.findtext(f"{ATOM}title")


def test_an_item_too_short_to_tell_takes_the_language_its_sources_items_show(store_at, tmp_path):
    # heise's RDF feed declares no language; some items are a headline and one line.
    config = sample_config()
    source = SourceConfig(id="heise", name="heise", url="https://heise.example/rss")
    config = replace(
        config,
        sources=(*config.sources, source),
        outputs=(*config.outputs, OutputConfig(name="heise", sources=("heise",))),
    )
    items = [
        item("heise", 1, "Fujitsu schließt Werk in Augsburg", "<p>Fujitsu plant einen Umbau.</p>"),
        item(
            "heise",
            2,
            "Zahlen geschönt? FBI-Untersuchung gegen Tesla",
            "<p>Es besteht der Verdacht, dass Tesla die Zahlen für das Jahr mit Absicht "
            "überoptimistisch angegeben hat.</p>",
        ),
        item(
            "heise",
            3,
            "Vorschau: Neue PC-Spiele im November",
            "<p>Jeden Monat schicken die Hersteller zahlreiche neue Titel ins Rennen, "
            "die wir für euch auf der Liste haben.</p>",
        ),
    ]
    out = publish_with(store_at, tmp_path, config, {"heise": items})
    root = atom(out / "heise.atom")
    assert root.get(XML_LANG) == "de"
    assert [e.get(XML_LANG, "(the feed's)") for e in root.iter(f"{ATOM}entry")] == ["de"] * 3
    (short,) = [
        e
        for e in atom(out / "all.atom").iter(f"{ATOM}entry")
        if "Fujitsu" in e.findtext(f"{ATOM}title")
    ]
    assert short.get(XML_LANG) == "de"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The government said that the new rules were agreed and will apply from May.", "en"),
        (
            "Die Regierung sagte, dass die neuen Regeln ab Mai für alle gelten und nicht neu sind.",
            "de",
        ),
        ("Le gouvernement a dit que les nouvelles règles sont pour tous et dans la loi.", "fr"),
        ("O governo disse que as novas regras não são para todos e foi por isso que mais.", "pt"),
        ("Правительство утвердило новые правила, которые вступят в силу в мае.", "ru"),
        ("Үкімет жаңа ережелерді бекітті, олар мамыр айынан бастап күшіне енеді.", "kk"),
        ("حکومت نے نئے قوانین کی منظوری دے دی", None),
        ("OK", None),
    ],
)
def test_the_language_of_an_undeclared_text_is_guessed_or_left_unknown(text, language):
    assert guess_language(text) == language


def test_an_outputs_shared_language_needs_every_entry_to_share_it():
    assert shared_language(["en-gb", "en-us"]) == "en"
    assert shared_language(["kk", "kk"]) == "kk"
    assert shared_language(["kk", "ru"]) is None
    assert shared_language(["kk", None]) is None
    assert shared_language([]) is None


# --- 2. no local paths ------------------------------------------------------------------


def test_a_source_read_from_a_file_leaves_no_local_path_in_any_output(store_at, tmp_path):
    config = sample_config()
    local = SourceConfig(id="local", name="Local", url="feeds/local.xml", language="ru")
    config = replace(config, sources=(*config.sources, local))
    extra = {"local": [item("local", 1, "Местная новость", "<p>Текст новости.</p>")]}
    out = publish_with(store_at, tmp_path, config, extra)
    for path in out.rglob("*"):
        if path.is_file():
            assert b"file:" not in path.read_bytes(), path.name
            assert str(tmp_path).encode() not in path.read_bytes(), path.name
    entry = next(e for e in atom(out / "source-local.atom").iter(f"{ATOM}entry"))
    assert entry.findtext(f"{ATOM}source/{ATOM}id") == "tag:eurasia24.kz,2026:source/local"
    assert entry.find(f"{ATOM}source/{ATOM}link[@rel='self']") is None
    health = json.loads((out / "health.json").read_bytes())
    assert next(s for s in health["sources"] if s["id"] == "local")["url"] is None


# --- 3. atom:source is complete -----------------------------------------------------------


def test_every_atom_source_carries_id_title_and_updated(store_at, tmp_path):
    out = publish_with(store_at, tmp_path, sample_config())
    for name in ("all.atom", "commentary.atom", "source-house.atom"):
        for source in atom(out / name).iter(f"{ATOM}source"):
            assert source.findtext(f"{ATOM}id")
            assert source.findtext(f"{ATOM}title")
            assert source.findtext(f"{ATOM}updated"), name


# --- 6. content hygiene ------------------------------------------------------------------


def test_tracking_pixels_go_and_an_empty_body_gives_no_empty_content(store_at, tmp_path):
    config = sample_config()
    extra = {
        "tengri": [
            item(
                "tengri",
                1,
                "С пикселем",
                '<p>Текст.</p><img src="https://t.example/p.gif" width="1" height="1">',
            ),
            item(
                "tengri",
                2,
                "Без текста",
                '<img src="https://t.example/q.gif" width="1" height="1" />',
            ),
        ]
    }
    out = publish_with(store_at, tmp_path, config, extra)
    data = (out / "all.atom").read_text(encoding="utf-8")
    assert "t.example" not in data
    for entry in atom(out / "all.atom").iter(f"{ATOM}entry"):
        content = entry.find(f"{ATOM}content")
        assert content is None or (content.text or "").strip(), entry.findtext(f"{ATOM}title")
    bare = next(
        e
        for e in atom(out / "source-tengri.atom").iter(f"{ATOM}entry")
        if e.findtext(f"{ATOM}title") == "Без текста"
    )
    assert bare.findtext(f"{ATOM}summary") == "Без текста"
    items = json.loads((out / "source-tengri.json").read_bytes())["items"]
    assert next(i for i in items if i["title"] == "Без текста")["content_text"] == "Без текста"


def test_a_listing_with_nothing_in_it_is_not_published(store_at, tmp_path):
    # Le Cercle Psy's feed has an <item> with an empty title, link and description: an
    # "(untitled)" entry leading nowhere, on which readers do not even agree.
    empty = Item(id="placeholder", title="", link=None, published=FETCHED_AT.replace(hour=11))
    only_a_title = replace(empty, id="headline", title="Заголовок без ссылки")
    out = publish_with(store_at, tmp_path, sample_config(), {"tengri": [empty, only_a_title]})
    for name in ("all.json", "source-tengri.json"):
        titles = [i.get("title") for i in json.loads((out / name).read_bytes())["items"]]
        assert "(untitled)" not in titles and "Заголовок без ссылки" in titles, name


def test_the_repost_notice_and_the_source_link_are_separate_sentences(store_at, tmp_path):
    out = publish_with(store_at, tmp_path, sample_config())
    items = json.loads((out / "all.json").read_bytes())["items"]
    russian = next(i for i in items if i["_source"]["name"] == "Tengrinews")
    assert "на источник. Источник: <a href=" in russian["content_html"]
    english = next(i for i in items if i["_source"]["name"] == "BBC <World>")
    assert ". Source: <a href=" in english["content_html"]


# --- 11. wording --------------------------------------------------------------------------


def test_the_publish_report_counts_in_words_a_person_writes():
    from aggregator.publish import PublishReport

    one = PublishReport(written=(Path("a"),), unchanged=(), entries={"all": 3})
    assert str(one) == "1 output, 1 file written, 0 unchanged"
    two = PublishReport(
        written=(Path("a"), Path("b")), unchanged=(Path("c"),), entries={"a": 1, "b": 2}
    )
    assert str(two) == "2 outputs, 2 files written, 1 unchanged"
