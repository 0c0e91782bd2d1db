"""related: "Читать далее / Related" lists, their index, and what publish writes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from aggregator.cli import cli
from aggregator.config import (
    Config,
    OutputConfig,
    PublishConfig,
    RelatedConfig,
    SiteConfig,
    SourceConfig,
)
from aggregator.models import Item
from aggregator.publish import publish
from aggregator.related import (
    Document,
    RelatedIndex,
    commentary_sources,
    index_path,
    refresh,
    relate,
    url_key,
    url_shard,
)
from aggregator.store import Storage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = RelatedConfig()
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<img src=x onerror="alert(1)"> & '

# (key, hours after T0, title, text, tags, language)
NEWS = [
    (
        "school-a",
        0,
        "В Караганде открыли новую школу на 1200 мест",
        "Здание на улице Абая построила компания «Сарыарка Строй». Аким Ерлан Жумабеков "
        "сообщил, что в школе есть бассейн и 12 кабинетов робототехники.",
        ("общество",),
        "ru",
    ),
    (
        "school-b",
        5,
        "Карагандинские школьники пошли в новую школу на 1200 учеников",
        "Учебный корпус на улице Абая возвели строители «Сарыарка Строй». По словам "
        "Ерлана Жумабекова, там оборудованы бассейн и 12 классов робототехники.",
        ("общество",),
        "ru",
    ),
    (
        "school-other",
        30,
        "В Павлодаре открыли новую школу на 600 мест",
        "Здание на улице Ленина построила компания «Ертіс Құрылыс». Аким Мурат Исмаилов "
        "сообщил, что в школе есть спортзал и 4 компьютерных класса.",
        ("общество",),
        "ru",
    ),
    (
        "fuel-a",
        10,
        "Бензин в Шымкенте подорожал до 245 тенге за литр",
        "Сеть заправок «Оңтүстік Ойл» подняла цену АИ-92 на 7 тенге. Дина Ахметова из "
        "управления предпринимательства обещает проверить обоснованность роста.",
        ("экономика",),
        "ru",
    ),
    (
        "fuel-b",
        12,
        "Шымкентские АЗС продают АИ-92 по 245 тенге",
        "Автомобилисты заметили, что на станциях «Оңтүстік Ойл» топливо стало дороже на "
        "7 тенге. Дина Ахметова пообещала проверку ценообразования.",
        ("экономика",),
        "ru",
    ),
    (
        "bridge-kk-a",
        20,
        "Семейде Ертіс өзені арқылы жаңа көпір ашылды",
        "Ұзындығы 1400 метр көпірді «Ертіс Құрылыс» компаниясы салды. Ашылу салтанатына "
        "Бауыржан Оспанов қатысты.",
        ("қоғам",),
        "kk",
    ),
    (
        "bridge-kk-b",
        22,
        "Семейдегі 1400 метрлік жаңа көпірде қозғалыс басталды",
        "Ертіс үстіндегі көпірдің құрылысын «Ертіс Құрылыс» жүргізді. Бауыржан Оспановтың "
        "айтуынша, көпір қаланың екі бөлігін жалғайды.",
        ("қоғам",),
        "kk",
    ),
    (
        "quake-en-a",
        40,
        "Magnitude 5.1 earthquake shakes Almaty, no damage reported",
        "The tremor was centred 180 kilometres south-east of the city, emergency officials "
        "said. Residents of Almaty felt the shaking at 03:40.",
        ("world",),
        "en",
    ),
    (
        "quake-en-b",
        41,
        "Almaty residents woken by 5.1 quake",
        "Seismologists placed the epicentre 180 km from Almaty. The emergencies ministry "
        "said there were no reports of damage after the 03:40 tremor.",
        ("world",),
        "en",
    ),
    (
        "weather",
        50,
        "Синоптики обещают в Актау жару до 41 градуса",
        "Горячий воздух из Туркменистана задержится на побережье Каспия до конца недели.",
        ("погода",),
        "ru",
    ),
]


def doc(key: str, hours: float, title: str, text: str, tags=(), lang="ru", **kw) -> Document:
    return Document(
        key=key,
        published=T0 + timedelta(hours=hours),
        title=title,
        text=text,
        tags=tuple(tags),
        language=lang,
        version=kw.pop("version", "1"),
        **kw,
    )


def corpus() -> list[Document]:
    return [doc(*row) for row in NEWS]


def keys(index: RelatedIndex, key: str) -> list[str]:
    return [k for k, _ in index.related(key)]


# --- ranking -------------------------------------------------------------------------


def test_the_same_event_in_other_words_is_related_first():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert keys(index, "school-a")[0] == "school-b"
    assert keys(index, "school-b")[0] == "school-a"
    assert keys(index, "fuel-a")[0] == "fuel-b"


def test_kazakh_and_english_entries_find_their_partners():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert keys(index, "bridge-kk-a")[:1] == ["bridge-kk-b"]
    assert keys(index, "quake-en-a")[:1] == ["quake-en-b"]


def test_an_entry_with_nothing_related_gets_an_empty_list_not_a_bad_one():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert index.related("weather") == []
    assert all(score >= SETTINGS.min_score for k in index.keys for _, score in index.related(k))


def test_lists_hold_at_most_count_entries_best_first():
    index = RelatedIndex.build(corpus(), replace(SETTINGS, count=2, min_score=0.0))
    for key in index.keys:
        scores = [s for _, s in index.related(key)]
        assert len(scores) <= 2
        assert scores == sorted(scores, reverse=True)


def test_a_lightly_edited_reprint_is_the_same_story_and_never_fills_a_list():
    docs = corpus()
    reprint = doc(
        "school-reprint",
        1,
        NEWS[0][2],
        "Как сообщает «Степной вестник»: " + NEWS[0][3],
        NEWS[0][4],
    )
    index = RelatedIndex.build([*docs, reprint], SETTINGS)
    assert "school-reprint" not in keys(index, "school-a")
    assert "school-a" not in keys(index, "school-reprint")
    # A third entry lists one telling of the story, not both.
    assert len({"school-a", "school-reprint"} & set(keys(index, "school-b"))) == 1


def test_entries_sharing_a_canonical_link_are_one_story():
    docs = corpus()
    docs[0] = replace(docs[0], link="https://example.kz/news/1")
    docs[1] = replace(docs[1], link="https://example.kz/news/1")
    index = RelatedIndex.build(docs, SETTINGS)
    assert "school-b" not in keys(index, "school-a")


def test_exclude_keeps_a_commentary_and_its_source_item_apart():
    index = RelatedIndex.build(corpus(), SETTINGS, exclude={"fuel-b": {"fuel-a"}})
    assert "fuel-a" not in keys(index, "fuel-b")
    assert "fuel-b" not in keys(index, "fuel-a")


def test_entries_further_apart_than_the_window_are_not_compared():
    docs = corpus()
    docs[1] = replace(docs[1], published=T0 + timedelta(days=40))
    index = RelatedIndex.build(docs, replace(SETTINGS, window=30 * 86400))
    assert "school-b" not in keys(index, "school-a")


def test_shared_tags_raise_the_score():
    plain = RelatedIndex.build(corpus(), replace(SETTINGS, tag_weight=0.0))
    tagged = RelatedIndex.build(corpus(), replace(SETTINGS, tag_weight=0.5))
    assert dict(tagged.related("fuel-a"))["fuel-b"] > dict(plain.related("fuel-a"))["fuel-b"]


def test_a_recent_candidate_outranks_an_equal_older_one():
    docs = corpus()
    twin = replace(docs[1], key="school-b-old", published=T0 - timedelta(days=20))
    index = RelatedIndex.build([*docs, twin], replace(SETTINGS, duplicate_threshold=1.01))
    listed = keys(index, "school-a")
    assert listed.index("school-b") < listed.index("school-b-old")


def test_the_same_input_gives_the_same_lists():
    first = RelatedIndex.build(corpus(), SETTINGS)
    second = RelatedIndex.build(list(reversed(corpus())), SETTINGS)
    assert list(first.lists()) == sorted(second.lists(), key=lambda kl: first.keys.index(kl[0]))


# --- incremental updates ----------------------------------------------------------------


def test_adding_an_entry_updates_its_list_and_the_lists_it_enters_only():
    docs = corpus()
    index = RelatedIndex.build([d for d in docs if d.key != "fuel-b"], SETTINGS)
    before = dict(index.lists())
    changed = index.add(next(d for d in docs if d.key == "fuel-b"))
    assert keys(index, "fuel-b")[0] == "fuel-a"
    assert keys(index, "fuel-a")[0] == "fuel-b"
    assert changed >= {"fuel-a", "fuel-b"}
    for key, listed in index.lists():
        if key not in changed:
            assert listed == before[key]


def test_removing_entries_takes_them_out_of_every_list():
    index = RelatedIndex.build(corpus(), SETTINGS)
    changed = index.update([], removed=["school-b"])
    assert "school-b" not in index
    assert "school-a" in changed
    assert all("school-b" not in keys(index, k) for k in index.keys)


def test_an_edited_entry_is_reanalyzed():
    index = RelatedIndex.build(corpus(), SETTINGS)
    assert keys(index, "weather") == []
    edited = doc("weather", 50, NEWS[3][2], NEWS[3][3], version="2")  # fuel-a, reprinted
    index.update([edited])
    assert keys(index, "weather") == ["fuel-b"]  # fuel-a is the same story


def test_a_saved_index_loads_back_with_the_same_lists(tmp_path: Path):
    index = RelatedIndex.build(corpus(), SETTINGS)
    index.save(tmp_path / "x.npz")
    loaded = RelatedIndex.load(tmp_path / "x.npz", SETTINGS)
    assert loaded is not None
    assert list(loaded.lists()) == list(index.lists())
    loaded.add(doc("late", 60, "Бензин в Шымкенте снова подорожал: 245 тенге", NEWS[4][3]))
    assert "late" in keys(loaded, "fuel-a") or "late" in keys(loaded, "fuel-b")


def test_an_index_made_with_other_settings_is_not_loaded(tmp_path: Path):
    RelatedIndex.build(corpus(), SETTINGS).save(tmp_path / "x.npz")
    assert RelatedIndex.load(tmp_path / "x.npz", replace(SETTINGS, count=6)) is None


# --- the store, publish and the CLI ----------------------------------------------------


def site_config(tmp_path: Path) -> Config:
    sources = (
        SourceConfig(id="tengri", name="Tengrinews", url="t.xml", language="ru", tags=("kz",)),
        SourceConfig(id="vlast", name="Власть <Vlast>", url="v.xml", language="ru"),
        SourceConfig(id="kaz", name="Қазақпарат", url="k.xml", language="kk"),
        SourceConfig(id="wire", name="Steppe Wire", url="w.xml", language="en"),
    )
    return Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/"),
        sources=sources,
        outputs=(OutputConfig(name="all"),),
        publish=PublishConfig(dir=str(tmp_path / "output")),
        path=str(tmp_path / "feeds.yaml"),
    )


SOURCE_OF = {
    "school-a": "tengri",
    "school-b": "vlast",
    "school-other": "tengri",
    "fuel-a": "tengri",
    "fuel-b": "vlast",
    "bridge-kk-a": "kaz",
    "bridge-kk-b": "kaz",
    "quake-en-a": "wire",
    "quake-en-b": "wire",
    "weather": "vlast",
}


def store_items(storage: Storage, config: Config, rows=NEWS, title_of=None) -> None:
    storage.sync_sources(config.sources)
    by_source: dict[str, list[Item]] = {}
    for key, hours, title, text, tags, lang in rows:
        published = T0 + timedelta(hours=hours)
        item = Item(
            id=key,
            title=(title_of or {}).get(key, title),
            link=f"https://{SOURCE_OF[key]}.example.kz/news/{key}",
            summary=f"<p>{text}</p>",
            published=published,
            updated=published,
            categories=tags,
            language=lang,
        )
        by_source.setdefault(SOURCE_OF[key], []).append(item)
    for source_id, items in by_source.items():
        state = storage.get_source_state(source_id)
        storage.record_fetch(state, items, fetched_at=T0 + timedelta(days=3))


@pytest.fixture
def published(tmp_path: Path):
    config = site_config(tmp_path)
    storage = Storage(tmp_path / "store.sqlite")
    store_items(storage, config, title_of={"fuel-b": HOSTILE + NEWS[4][2]})
    relate(config, storage, tmp_path / "output")  # then publish, as `aggregator run` does
    publish(config, storage, out_dir=tmp_path / "output")
    yield config, storage, tmp_path / "output"
    storage.close()


def key_of(storage: Storage, item_id: str) -> str:
    return next(s.key for s in storage.iter_items() if s.item.id == item_id)


def test_publish_writes_every_entrys_list_under_the_entry_ids_of_the_feeds(published):
    config, storage, out = published
    everything = json.loads((out / "related.json").read_text(encoding="utf-8"))
    atom = etree.parse(str(out / "all.atom"))
    feed_ids = {e.findtext(f"{ATOM}id") for e in atom.iter(f"{ATOM}entry")}
    assert set(everything) == feed_ids
    school_a = everything[config.site.item_id(key_of(storage, "school-a"))]
    first = school_a[0]
    assert first["id"] == config.site.item_id(key_of(storage, "school-b"))
    assert first["title"] == NEWS[1][2]
    assert first["url"] == "https://vlast.example.kz/news/school-b"
    assert first["source"] == "Власть <Vlast>"
    assert first["published"] == "2026-03-02T14:00:00Z"
    assert first["lead"].startswith("Учебный корпус на улице Абая")
    assert 0 < first["score"] <= 1.5
    assert set(first) == {"id", "title", "url", "lead", "published", "source", "score"}


def test_publish_writes_a_file_per_entry_and_the_url_map_the_widget_reads(published):
    config, storage, out = published
    key = key_of(storage, "fuel-a")
    page = json.loads((out / "related" / f"{key}.json").read_text(encoding="utf-8"))
    assert page["id"] == config.site.item_id(key)
    assert page["related"][0]["title"] == HOSTILE + NEWS[4][2]
    url = "https://www.tengri.example.kz/news/fuel-a/"  # spelled differently
    shard = json.loads((out / "related" / "urls" / f"{url_shard(url_key(url))}.json").read_text())
    assert shard[url_key(url)] == key
    assert {p.name for p in (out / "related").glob("*.json")} == {
        f"{s.key}.json" for s in storage.iter_items()
    }
    assert "textContent" in (out / "related.js").read_text(encoding="utf-8")
    assert (out / "related.css").exists()


def test_markup_in_titles_stays_data_in_the_json(published):
    _, storage, out = published
    for path in (out / "related.json", out / "related" / f"{key_of(storage, 'fuel-a')}.json"):
        text = path.read_text(encoding="utf-8")
        assert "<img" not in text and "\\u003cimg src=x" in text
        document = json.loads(text)
        lists = document.values() if path.name == "related.json" else [document["related"]]
        assert HOSTILE + NEWS[4][2] in [item["title"] for listed in lists for item in listed]


def test_atom_entries_link_to_their_related_entries(published):
    _, _, out = published
    atom = etree.parse(str(out / "all.atom"))
    links = {
        e.findtext(f"{ATOM}title"): [
            (link.get("href"), link.get("title"))
            for link in e.findall(f"{ATOM}link")
            if link.get("rel") == "related"
        ]
        for e in atom.iter(f"{ATOM}entry")
    }
    assert links[NEWS[0][2]][0] == ("https://vlast.example.kz/news/school-b", NEWS[1][2])


def test_publishing_again_gives_byte_identical_files(published):
    config, storage, out = published
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    report = publish(config, storage, out_dir=out)
    assert report.written == ()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_run_with_new_items_updates_the_index_without_rebuilding(published):
    config, storage, out = published
    late = ("fuel-c", 14, "Цена АИ-92 в Шымкенте — 245 тенге", NEWS[4][3], ("экономика",), "ru")
    SOURCE_OF["fuel-c"] = "tengri"
    store_items(storage, config, rows=[late])
    result = refresh(config, storage)
    assert not result.stats.rebuilt or "changed since" in result.stats.reason
    fuel_c = key_of(storage, "fuel-c")
    assert fuel_c in [k for k, _ in result.index.related(key_of(storage, "fuel-a"))]


def test_a_damaged_index_file_is_rebuilt(published):
    config, storage, _ = published
    index_path(storage.path).write_bytes(b"not an index")
    result = refresh(config, storage)
    assert result.stats.rebuilt
    assert len(result.index) == storage.items_count()


def test_pruned_entries_lose_their_files(published, tmp_path: Path):
    config, storage, out = published
    gone = key_of(storage, "school-a")  # not the newest of its source
    storage.prune(retention_days=1, keep_latest=1, now=T0 + timedelta(days=30))
    relate(config, storage, out)
    assert not (out / "related" / f"{gone}.json").exists()
    everything = json.loads((out / "related.json").read_text(encoding="utf-8"))
    assert config.site.item_id(gone) not in everything


def test_the_related_command_rebuilds_on_request(tmp_path: Path):
    (tmp_path / "feeds.yaml").write_text(
        "site: {title: Евразия24, link: 'https://eurasia24.kz/'}\n"
        "sources:\n"
        + "".join(
            f"  - {{id: {s}, name: {s}, url: {s}.xml}}\n" for s in sorted(set(SOURCE_OF.values()))
        ),
        encoding="utf-8",
    )
    from aggregator.config import load_config

    config = load_config(tmp_path / "feeds.yaml")
    with Storage(tmp_path / "aggregator.sqlite") as storage:
        store_items(storage, config, rows=NEWS)
    runner = CliRunner()
    args = ["--config", str(tmp_path / "feeds.yaml"), "related"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "rebuilt (no usable index)" in first.output
    again = runner.invoke(cli, args)
    assert "+0 -0 ~0" in again.output
    rebuilt = runner.invoke(cli, [*args, "--rebuild"])
    assert "rebuilt (asked to)" in rebuilt.output
    assert (tmp_path / "output" / "related.js").exists()
    assert index_path(tmp_path / "aggregator.sqlite").exists()


# --- URL keys (the widget computes the same) ----------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("https://www.tengri.kz/news/1/", "http://tengri.kz/news/1"),
        ("https://TENGRI.kz/news/1#top", "https://tengri.kz/news/1"),
        (
            "https://tengri.kz/ru/новость",
            "https://tengri.kz/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D1%8C",
        ),
        ("https://информ.кз/a", "https://xn--h1aicekw.xn--g1af/a"),
    ],
)
def test_url_keys_ignore_spelling_differences(a: str, b: str):
    assert url_key(a) == url_key(b)


def test_url_keys_keep_what_names_another_article():
    assert url_key("https://tengri.kz/news?id=1") != url_key("https://tengri.kz/news?id=2")
    assert url_key("https://tengri.kz:8443/news") != url_key("https://tengri.kz/news")
    assert url_key("ftp://tengri.kz/news") is None
    assert url_shard("tengri.kz/news/1") == url_shard("tengri.kz/news/1")
    assert len(url_shard("tengri.kz/news/1")) == 2


def test_a_commentarys_own_source_item_is_its_source_never_its_related_entry(tmp_path: Path):
    config = site_config(tmp_path)
    house = SourceConfig(id="house", name="Евразия24", url="h.xml", language="ru", house=True)
    config = replace(config, sources=(*config.sources, house))
    quoted = NEWS[0][3]  # school-a's text, quoted whole
    post = Item(
        id="house-1",
        title="Школа с бассейном",
        link="https://eurasia24.kz/comment/1",
        content=(
            f"<p>Tengrinews сообщает: «{quoted}»</p>"
            "<p>Евразия24 комментирует:</p>"
            "<p>Хорошо, что в Караганде строят школы; теперь нужны учителя робототехники.</p>"
        ),
        published=T0 + timedelta(hours=8),
        language="ru",
    )
    with Storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config)
        storage.record_fetch(
            storage.get_source_state("house"), [post], fetched_at=T0 + timedelta(days=3)
        )
        commentary = next(s.key for s in storage.iter_items() if s.item.id == "house-1")
        source = key_of(storage, "school-a")
        partner = key_of(storage, "school-b")
        assert commentary_sources(config, storage) == {commentary: {source}}

        relate(config, storage, tmp_path / "output")

    page = json.loads((tmp_path / "output" / "related" / f"{commentary}.json").read_bytes())
    assert config.site.item_id(source) not in {e["id"] for e in page["related"]}
    assert [e["id"] for e in page["source"]] == [config.site.item_id(source)]
    assert config.site.item_id(partner) in {e["id"] for e in page["related"]}
