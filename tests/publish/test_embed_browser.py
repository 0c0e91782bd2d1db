"""embed.js in a real browser: a partner site shows one of our outputs with one tag.

Debian's chromium loads a page from one localhost port that includes embed.js from
output/ served on another (aggregator's preview server, which sends CORS headers), and
dumps the DOM after the scripts ran.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from browser import rendered, rendered_in_windows_1251, serve, serve_directory
from validators import HOSTILE_TITLES, build_store, sample_config

from aggregator.publish import publish
from aggregator.serve import make_server


def shown(url: str, tmp_path: Path) -> lxml.html.HtmlElement:
    """The partner's page as a reader in Almaty sees it."""
    return rendered(url, tmp_path, timezone="Asia/Almaty")


@pytest.fixture
def output(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    storage = build_store(tmp_path / "store.sqlite", sample_config())
    try:
        publish(sample_config(), storage, out_dir=out)
    finally:
        storage.close()
    return out


@pytest.fixture
def feeds_url(output: Path) -> Iterator[str]:
    with serve(make_server(output, host="127.0.0.1", port=0)) as base:
        yield base


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    site = tmp_path / "partner"
    site.mkdir()
    with serve_directory(site) as base:
        yield site, base


def page(partner: tuple[Path, str], body: str, lang: str = "ru") -> str:
    site, base = partner
    (site / "index.html").write_text(
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Партнёр</title>'
        f"</head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return f"{base}/index.html"


def boxes(dom) -> dict[str, lxml.html.HtmlElement]:
    return {b.get("id") or "": b for b in dom.xpath("//*[@data-agg-news]")}


def test_one_tag_shows_the_latest_entries_of_an_output(output, feeds_url, partner, tmp_path):
    data = json.loads((output / "embed" / "all.json").read_text(encoding="utf-8"))
    body = f"""
<div id="all"></div>
<script src="{feeds_url}/embed.js" async data-target="#all" data-output="all" data-count="3"
  data-lead="true"></script>
<div id="kazakh"></div>
<script src="{feeds_url}/embed.js" async data-target="#kazakh" data-output="kazakh"
  data-lang="kk" data-heading=""></script>
<div id="missing"></div>
<script src="{feeds_url}/embed.js" async data-target="#missing" data-output="nope"></script>
<div id="hostile"></div>
<script src="{feeds_url}/embed.js" async data-target="#hostile" data-output="../health"></script>
"""
    dom = shown(page(partner, body), tmp_path)
    found = boxes(dom)
    box = found["all"]
    assert box.get("data-agg-news") == "ready", lxml.html.tostring(dom, encoding="unicode")[:3000]
    assert box.xpath(".//h2")[0].text_content() == data["title"]
    items = box.xpath(".//li")
    assert len(items) == 3  # data-count
    titles = [li.xpath(".//*[contains(@class,'agg-news__link')]")[0].text_content() for li in items]
    assert titles == [e["title"] for e in data["entries"][:3]]
    first = data["entries"][0]
    link = items[0].xpath(".//a[contains(@class,'agg-news__link')]")[0]
    assert link.get("href") == first["url"]
    assert items[0].xpath(".//*[@class='agg-news__source']")[0].text_content() == first["source"]
    assert items[0].xpath(".//p[@class='agg-news__lead']")[0].text_content() == first["lead"]
    time = items[0].xpath(".//time")[0]
    assert time.get("datetime").startswith(first["published"][:10])
    assert box.xpath(".//a[@class='agg-news__more']")[0].text_content() == "Все новости"

    kazakh = found["kazakh"]
    assert kazakh.get("data-agg-news") == "ready"
    assert not kazakh.xpath(".//h2")  # data-heading=""
    assert not kazakh.xpath(".//p[@class='agg-news__lead']")  # leads only with data-lead
    assert kazakh.xpath(".//a[@class='agg-news__more']")[0].text_content() == "Барлық жаңалықтар"

    assert found["missing"].get("data-agg-news") == "error"
    assert found["hostile"].get("data-agg-news") == "error"  # not a path out of embed/
    style = dom.xpath("//style[@id='agg-news-css']")
    assert len(style) == 1 and ":where(.agg-news)" in style[0].text_content()


def test_the_box_reads_right_on_a_windows_1251_page_whose_server_names_no_charset(output, tmp_path):
    # The page and output/ on one plain static server (text/javascript, no charset).
    body = '<p>Новости партнёра</p><script src="embed.js" data-output="all"></script>'
    dom = rendered_in_windows_1251(output, body, tmp_path, timezone="Asia/Almaty")
    (box,) = boxes(dom).values()
    assert box.get("data-agg-news") == "ready", lxml.html.tostring(dom, encoding="unicode")[:3000]
    assert box.xpath(".//a[@class='agg-news__more']")[0].text_content() == "Все новости"
    assert " · " in box.xpath(".//p[@class='agg-news__meta']")[0].text_content()


def test_markup_in_titles_stays_text_and_only_http_links_are_links(
    output, feeds_url, partner, tmp_path
):
    path = output / "embed" / "all.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["entries"] = [
        {
            "title": HOSTILE_TITLES[1],
            "url": "javascript:alert(1)",
            "source": HOSTILE_TITLES[0],
            "published": "2026-11-25T10:00:00Z",
            "lead": "",
        },
        *data["entries"][:2],
    ]
    path.write_text(json.dumps(data), encoding="utf-8")
    body = f'<div id="box"></div><script src="{feeds_url}/embed.js" async data-target="#box" data-output="all" data-css="none"></script>'
    dom = shown(page(partner, body), tmp_path)
    box = boxes(dom)["box"]
    assert box.get("data-agg-news") == "ready"
    first = box.xpath(".//li")[0]
    assert first.xpath("./span[@class='agg-news__link']")[0].text_content() == HOSTILE_TITLES[1]
    assert not first.xpath(".//a[@class='agg-news__link']")  # javascript: is not linked
    assert not dom.xpath("//img") and not dom.xpath("//body//script[not(@src)]")
    assert not dom.xpath("//style[@id='agg-news-css']")  # data-css="none"


def test_publish_writes_a_small_json_per_output_and_the_script(output):
    names = sorted(p.stem for p in (output / "embed").glob("*.json"))
    assert names == sorted(p.stem for p in output.glob("*.atom"))
    data = json.loads((output / "embed" / "all.json").read_text(encoding="utf-8"))
    assert set(data) == {"title", "home_page_url", "language", "entries"}
    assert 0 < len(data["entries"]) <= 20
    assert set(data["entries"][0]) == {"title", "url", "source", "published", "lead"}
    assert "textContent" in (output / "embed.js").read_text(encoding="utf-8")
