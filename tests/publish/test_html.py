"""The HTML pages as a reader sees them: index.html and a page per house commentary,
rendered by headless Chromium (Debian's ``chromium``), screenshots kept as artifacts.

Screenshots go to ``$AGGREGATOR_ARTIFACTS`` (default: the test's tmp directory); the
test prints where.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
import yaml
from browser import chromium, serve
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "related"))
from news import key_of, site_config, store_items  # noqa: E402

from aggregator.config import ConfigError, HouseConfig, PublishConfig  # noqa: E402
from aggregator.publish import publish  # noqa: E402
from aggregator.publish.html import TEMPLATES  # noqa: E402
from aggregator.related import relate  # noqa: E402
from aggregator.serve import make_server  # noqa: E402
from aggregator.store import open_storage  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"
TITLE = "Бензин дорожает: что делать водителям"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
COMMENTARY = """---
title: "Бензин дорожает: что делать водителям"
date: 2026-03-02 12:00
slug: benzin
author: Редакция
source: {key}
---
Цены на топливо растут второй месяц; водителям стоит присмотреться к газу.
"""


@contextlib.contextmanager
def served(page: Path) -> Iterator[str]:
    """The page's URL on aggregator's preview server for output/ (127.0.0.1)."""
    out = next(p for p in page.parents if p.name == "output")
    with serve(make_server(out, host="127.0.0.1", port=0)) as base:
        yield f"{base}/{page.relative_to(out).as_posix()}"


def seen(tmp_path: Path, page: Path) -> lxml.html.HtmlElement:
    """The DOM Chromium built from the page."""
    with served(page) as url:
        return lxml.html.fromstring(chromium(tmp_path, url, "--dump-dom").stdout)


def screenshots(tmp_path: Path, page: Path, name: str) -> list[Path]:
    artifacts = Path(os.environ.get("AGGREGATOR_ARTIFACTS") or tmp_path / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    shots = []
    for size, (width, height) in SIZES.items():
        shot = artifacts / f"{name}-{size}.png"
        with served(page) as url:
            chromium(tmp_path, url, f"--screenshot={shot}", f"--window-size={width},{height}")
        assert shot.stat().st_size > 2000, shot  # a real picture, not an empty one
        shots.append(shot)
    print(f"\nscreenshots of {page.name}: {artifacts}")
    return shots


def make_site(tmp_path: Path, language: str = "ru"):
    config = site_config(tmp_path)
    config = replace(
        config,
        site=replace(config.site, house="Евразия24", language=language),
        house=HouseConfig(commentary_dir=str(tmp_path / "commentary")),
        publish=PublishConfig(dir=str(tmp_path / "output")),
    )
    (tmp_path / "commentary").mkdir()
    out = tmp_path / "output"
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config)
        source_key = key_of(storage, "fuel-a")
        (tmp_path / "commentary" / "2026-03-02-benzin.md").write_text(
            COMMENTARY.format(key=source_key), encoding="utf-8"
        )
        relate(config, storage, out)
        publish(config, storage, out_dir=out)
    return config, out, source_key


@pytest.fixture
def site(tmp_path: Path):
    return make_site(tmp_path)


def test_a_commentary_page_shows_the_comment_its_source_and_the_read_more_block(tmp_path, site):
    config, out, source_key = site
    page = out / "commentary" / "benzin.html"
    dom = seen(tmp_path, page)
    assert dom.xpath("string(//h1)") == "Бензин дорожает: что делать водителям"
    assert dom.get("lang") == "ru"
    text = dom.text_content()
    assert "Евразия24 комментирует:" in text
    assert "водителям стоит присмотреться к газу" in text
    # The attributed quote links to the item it comments on.
    assert "https://tengri.example.kz/news/fuel-a" in dom.xpath("//article//a/@href")
    # Written 12:00 Astana time (UTC+5): shown as such, not as 07:00 UTC.
    assert dom.xpath("string(//article//time)") == "2026-03-02 12:00"
    # The "Читать далее" block, as static HTML from the relate stage's list.
    block = dom.xpath("//section[contains(@class, 'read-more')]")
    assert block and block[0].xpath("string(h2)") == "Читать далее"
    listed = json.loads((out / "related" / f"{source_key}.json").read_bytes())["related"]
    assert block[0].xpath(".//li/a/@href") == [item["url"] for item in listed] != []
    # Head: canonical, Open Graph, the house's feed for auto-discovery.
    head = dom.xpath("//head")[0]
    canonical = "https://eurasia24.kz/commentary/benzin.html"
    assert head.xpath("link[@rel='canonical']/@href") == [canonical]
    assert head.xpath("meta[@property='og:title']/@content") == [
        "Бензин дорожает: что делать водителям"
    ]
    assert head.xpath("meta[@property='og:url']/@content") == [canonical]
    assert "../all.atom" in head.xpath("link[@rel='alternate']/@href")
    screenshots(tmp_path, page, "commentary")


def test_a_commentary_without_a_link_links_to_its_page_in_every_format(site):
    _config, out, _key = site
    canonical = "https://eurasia24.kz/commentary/benzin.html"
    atom = etree.parse(str(out / "all.atom")).getroot()
    entry = next(e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == TITLE)
    assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == canonical
    rss = etree.parse(str(out / "all.rss"))
    item = next(i for i in rss.iter("item") if i.findtext("title") == TITLE)
    assert item.findtext("link") == canonical
    assert item.find("source") is not None
    items = json.loads((out / "all.json").read_bytes())["items"]
    assert next(i for i in items if i["title"] == TITLE)["url"] == canonical
    listing = lxml.html.fromstring((out / "commentary" / "index.html").read_bytes())
    assert listing.xpath("//article//a/@href") == ["benzin.html"]


def test_index_html_reads_in_the_sites_language_and_astana_time(tmp_path, site):
    _config, out, _key = site
    dom = seen(tmp_path, out / "index.html")
    assert dom.get("lang") == "ru"
    assert dom.xpath("//h2/text()")[:2] == ["Последние новости", "Ленты"]
    # Formats by their names (Atom is not an acronym), on every feed line and in the head.
    labels = dom.xpath("//li[1]/a/text()")
    assert labels[:3] == ["Atom", "RSS", "JSON Feed"]
    assert "ATOM" not in dom.xpath("string(/)") and "(ATOM)" not in str(dom.xpath("//link/@title"))
    articles = dom.xpath("//article")
    assert articles
    # Astana time (UTC+5) for every entry: 11:00 UTC reads 16:00.
    for time in dom.xpath("//article//time"):
        utc = datetime.fromisoformat(time.get("datetime"))
        assert time.text == (utc + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    assert dom.xpath("//article//time")[0].text == "2026-03-04 16:00"
    # English items say so; Russian ones inherit the page's language.
    langs = {a.xpath("string(.//h3)"): a.get("lang") for a in articles}
    assert any(lang == "en" for lang in langs.values())
    screenshots(tmp_path, out / "index.html", "index")


@pytest.mark.parametrize(
    ("language", "lang", "headings"),
    [
        ("kk", "kk", ["Соңғы жаңалықтар", "Арналар"]),
        ("kz", "kk", ["Соңғы жаңалықтар", "Арналар"]),  # Kazakhstan's code, meant as Kazakh
        ("en", "en", ["Latest news", "Feeds"]),
    ],
)
def test_index_html_headings_follow_the_sites_language(tmp_path, language, lang, headings):
    _config, out, _key = make_site(tmp_path, language)
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    assert page.get("lang") == lang
    assert page.xpath("//h2/text()")[:2] == headings


def test_an_empty_store_says_so_and_how_to_fill_it(tmp_path):
    config = site_config(tmp_path)
    with open_storage(tmp_path / "store.sqlite") as storage:
        storage.sync_sources(config.sources)
        publish(config, storage, out_dir=tmp_path / "o")
    page = lxml.html.fromstring((tmp_path / "o" / "index.html").read_bytes())
    assert "aggregator fetch" in page.xpath("string(//div[@class='empty'])")


def test_a_publishers_templates_replace_the_shipped_ones_and_values_are_escaped(tmp_path):
    config = site_config(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "index.html").write_text(
        "<p id=title>{{ site_title }}</p><p id=latest>{{ t.latest }}</p>", encoding="utf-8"
    )
    (templates / "strings.yaml").write_text("ru:\n  latest: Свежее\n", encoding="utf-8")
    config = replace(
        config,
        site=replace(config.site, title="<b>Евразия24</b>"),
        publish=PublishConfig(templates=str(templates)),
    )
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config)
        publish(config, storage, out_dir=tmp_path / "o")
    html = (tmp_path / "o" / "index.html").read_text(encoding="utf-8")
    assert html == "<p id=title>&lt;b&gt;Евразия24&lt;/b&gt;</p><p id=latest>Свежее</p>"


@pytest.mark.parametrize(
    ("name", "written", "said"),
    [
        ("strings.yaml", b"ru:\n  latest: [\xd0\xa1\n", "strings.yaml:3: not valid YAML: "),
        ("strings.yaml", b"- ru\n- kk\n", "strings.yaml: expected the words by language"),
        ("strings.yaml", b"ru: 5\n", "strings.yaml: expected the words by language"),
        ("strings.yaml", b"\xff\xfe", "strings.yaml: not UTF-8; save it as UTF-8"),
        ("index.html", b"<p>{% if entries %}</p>\n", "index.html:1: the template cannot be read"),
        ("index.html", b"{{ t.no_such.word }}", "index.html: the template cannot be rendered"),
        ("index.html", b"\xff\xfe<p>", "index.html: not UTF-8; save it as UTF-8"),
    ],
)
def test_a_mistake_in_a_publishers_template_is_said_with_its_file_not_as_a_bug(
    tmp_path, name, written, said
):
    # Each stopped publish with "internal error: TemplateSyntaxError (or YAMLError,
    # AttributeError, UnicodeDecodeError) ...; this is a bug".
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / name).write_bytes(written)
    config = replace(site_config(tmp_path), publish=PublishConfig(templates=str(templates)))
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config)
        with pytest.raises(ConfigError) as raised:
            publish(config, storage, out_dir=tmp_path / "o")
    assert str(raised.value).startswith(f"{templates}/{said}")


def test_leads_have_no_space_before_punctuation():
    from aggregator.publish.html import reader_lead

    assert reader_lead("rivers , from the north . Главные ») новости") == (
        "rivers, from the north. Главные») новости"
    )


def test_the_shipped_strings_are_the_words_the_templates_use_in_every_language():
    # A word no template shows is dead weight a translator would still keep up to date;
    # a word missing in one language would show the English one on that page.
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_]+)", template.read_text(encoding="utf-8")))
    strings = yaml.safe_load((TEMPLATES / "strings.yaml").read_text(encoding="utf-8"))
    assert sorted(strings) == ["en", "kk", "ru"]
    for language, words in strings.items():
        assert sorted(words) == sorted(used), language
