"""related.js in a real browser: a third-party page includes it with one tag.

Debian's chromium (``apt-get install chromium``) loads a page served on one localhost
port that includes the widget from output/ served on another (so the JSON is fetched
cross-origin, as from a real partner site), and dumps the DOM after the scripts ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from browser import rendered, rendered_in_windows_1251, serve, serve_directory
from news import HEADLINE_ONLY, HOSTILE, NEWS, REPRINT, key_of, site_config, store_items

from aggregator.publish import publish
from aggregator.related import relate
from aggregator.serve import make_server
from aggregator.store import open_storage


@pytest.fixture
def output(tmp_path: Path):
    config = site_config(tmp_path)
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config, title_of={"fuel-b": HOSTILE + NEWS[4][2]})
        relate(config, storage, tmp_path / "output")
        publish(config, storage, out_dir=tmp_path / "output")
        keys = {item_id: key_of(storage, item_id) for item_id in ("fuel-a", "school-a")}
    return config, tmp_path / "output", keys


@pytest.fixture
def feeds_url(output) -> Iterator[str]:
    """output/ on one origin (aggregator's preview server: it sends CORS headers)."""
    with serve(make_server(output[1], host="127.0.0.1", port=0)) as base:
        yield base


@pytest.fixture
def partner_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A third-party site on another origin: (its directory, its URL)."""
    site = tmp_path / "partner-site"
    site.mkdir()
    with serve_directory(site) as base:
        yield site, base


def page(partner_site: tuple[Path, str], html: str) -> str:
    site, base = partner_site
    (site / "article.html").write_text(html, encoding="utf-8")
    return f"{base}/article.html"


def blocks(dom: lxml.html.HtmlElement) -> dict[str, lxml.html.HtmlElement]:
    return {box.get("id") or "": box for box in dom.xpath("//*[@data-agg-related]")}


def titles(box: lxml.html.HtmlElement) -> list[str]:
    return [a.text_content() for a in box.xpath(".//*[contains(@class,'agg-related__link')]")]


def test_one_tag_renders_the_related_block_of_an_article_by_url_id_or_key(
    output, feeds_url: str, partner_site, tmp_path: Path
):
    config, _, keys = output
    html = f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Партнёр</title></head>
<body>
<article><h1>Бензин в Шымкенте подорожал</h1></article>
<div id="by-url"><script src="{feeds_url}/related.js" async
  data-article="https://www.tengri.example.kz/news/fuel-a/"></script></div>
<div id="by-id"></div>
<script src="{feeds_url}/related.js" async data-target="#by-id"
  data-article="{config.site.item_id(keys["school-a"])}" data-heading="Тоже о школах"></script>
<div id="by-key"></div>
<script src="{feeds_url}/related.js" async data-target="#by-key" data-article="{keys["school-a"]}"
  data-count="1"></script>
<div id="unknown"></div>
<script src="{feeds_url}/related.js" async data-target="#unknown"
  data-article="https://nowhere.example/none"></script>
</body></html>"""
    dom = rendered(page(partner_site, html), tmp_path)
    found = blocks(dom)

    by_url = dom.xpath("//div[@id='by-url']/div[@data-agg-related]")
    assert len(by_url) == 1, lxml.html.tostring(dom, encoding="unicode")[:3000]
    assert by_url[0].get("data-agg-related") == "ready"
    assert titles(by_url[0])[0] == HOSTILE + NEWS[4][2]
    assert by_url[0].xpath(".//h2")[0].text_content() == "Читать далее"
    link = by_url[0].xpath(".//a[contains(@class,'agg-related__link')]")[0]
    assert link.get("href") == "https://vlast.example.kz/news/fuel-b"

    assert found["by-id"].get("data-agg-related") == "ready"
    assert titles(found["by-id"])[0] == NEWS[1][2]
    assert found["by-id"].xpath(".//h2")[0].text_content() == "Тоже о школах"
    assert titles(found["by-key"]) == [NEWS[1][2]]  # data-count="1"
    assert found["unknown"].get("data-agg-related") == "empty"
    assert not found["unknown"].xpath(".//li")


def test_the_widget_reads_right_on_a_windows_1251_page_whose_server_names_no_charset(
    output, tmp_path: Path
):
    # The article page and output/ on one plain static server (no charset for .js).
    body = (
        '<h1>Бензин в Шымкенте подорожал</h1><script src="related.js" '
        'data-article="https://www.tengri.example.kz/news/fuel-a/"></script>'
    )
    dom = rendered_in_windows_1251(output[1], body, tmp_path)
    (box,) = blocks(dom).values()
    assert box.get("data-agg-related") == "ready", lxml.html.tostring(dom, encoding="unicode")[
        :3000
    ]
    assert box.xpath(".//h2")[0].text_content() == "Читать далее"
    assert " · " in box.xpath(".//*[contains(@class,'agg-related__meta')]")[0].text_content()


def test_an_article_is_found_by_its_canonical_link_though_its_feed_link_has_utm(
    tmp_path: Path, partner_site
):
    """Feeds often link "...?utm_source=rss&from=rss"; the article's page names itself
    without them, and the widget looks it up by that."""
    config = site_config(tmp_path)
    with open_storage(tmp_path / "store.sqlite") as storage:
        tracked = {"fuel-a": "?utm_source=rss&utm_medium=feed&from=rss"}
        store_items(storage, config, query_of=tracked)
        relate(config, storage, tmp_path / "output")
    with serve(make_server(tmp_path / "output", host="127.0.0.1", port=0)) as feeds_url:
        html = f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Партнёр</title>
<link rel="canonical" href="https://tengri.example.kz/news/fuel-a"></head><body>
<div id="box"></div>
<script src="{feeds_url}/related.js" async data-target="#box"></script>
</body></html>"""
        dom = rendered(page(partner_site, html), tmp_path)
    box = blocks(dom)["box"]
    assert box.get("data-agg-related") == "ready", lxml.html.tostring(dom, encoding="unicode")
    assert titles(box)[0] == NEWS[4][2]


def test_markup_in_a_title_shows_as_text_and_never_runs(
    output, feeds_url: str, partner_site, tmp_path: Path
):
    _, _, keys = output
    html = f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Партнёр</title></head><body>
<div id="box"></div>
<script src="{feeds_url}/related.js" async data-target="#box" data-article="{keys["fuel-a"]}"></script>
</body></html>"""
    dom = rendered(page(partner_site, html), tmp_path)
    box = blocks(dom)["box"]
    assert box.get("data-agg-related") == "ready"
    assert titles(box)[0] == HOSTILE + NEWS[4][2]
    assert not box.xpath(".//img")  # the title's <img onerror> was not parsed as markup
    assert not dom.xpath("//img")
    # The styles are zero-specificity (:where), so the partner's own CSS wins.
    style = dom.xpath("//style[@id='agg-related-css']")[0].text_content()
    assert ":where(.agg-related)" in style


def test_a_reprint_shows_its_other_outlets_and_a_lead_equal_to_the_title_is_not_repeated(
    tmp_path: Path, partner_site
):
    config = site_config(tmp_path)
    with open_storage(tmp_path / "store.sqlite") as storage:
        store_items(storage, config, rows=[*NEWS, REPRINT, HEADLINE_ONLY])
        relate(config, storage, tmp_path / "output")
        key = key_of(storage, "school-a")
    with serve(make_server(tmp_path / "output", host="127.0.0.1", port=0)) as feeds_url:
        html = f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Партнёр</title></head><body>
<div id="box"></div>
<script src="{feeds_url}/related.js" async data-target="#box" data-article="{key}"></script>
</body></html>"""
        dom = rendered(page(partner_site, html), tmp_path)
    box = blocks(dom)["box"]
    assert box.get("data-agg-related") == "ready"
    items = box.xpath(".//li")
    school_b = [li for li in items if titles(li) == [NEWS[1][2]]]
    assert len(school_b) == 1  # the reprint is not a second entry
    also = school_b[0].xpath(".//*[contains(@class,'agg-related__also')]")[0]
    assert also.text_content() == "также: Steppe Wire"
    assert also.xpath(".//a/@href") == ["https://wire.example.kz/news/school-b-reprint"]
    (headline_only,) = [li for li in items if titles(li) == [HEADLINE_ONLY[2]]]
    assert not headline_only.xpath(".//*[contains(@class,'agg-related__lead')]")
