"""Finding a site's feeds from its address, against a real site on loopback.

The site serves a page advertising an RSS, an Atom and a JSON Feed (one of them
through the HTTP Link header), like a news site's front page does.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from feedserver import FeedServer

from aggregator.config import FetchConfig
from aggregator.ingest.discover import (
    Discovery,
    DiscoveryError,
    advertised_feeds,
    discover,
    html_page_hint,
)
from aggregator.ingest.fetch import Fetcher

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "feeds"
LOOPBACK = FetchConfig(allow_private_networks=("127.0.0.1/32",), timeout=5)
RSS = (EXAMPLES / "delovoy-almaty.xml").read_bytes()
ATOM = (EXAMPLES / "dala-zhanalyktary.atom").read_bytes()
JSON_FEED = (EXAMPLES / "steppe-wire.json").read_bytes()

PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Деловой Алматы</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Новости (RSS)" href="/rss.xml">
<link rel="alternate" type="application/atom+xml" title="Новости (Atom)" href="atom/news.atom">
<link rel="alternate" hreflang="kk" href="/kk/">
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body><h1>Деловой Алматы</h1><a href="/feed">not a feed link</a></body></html>"""


def run(address: str, config: FetchConfig = LOOPBACK) -> Discovery:
    async def go() -> Discovery:
        async with Fetcher(config) as fetcher:
            return await discover(address, fetcher)

    return asyncio.run(go())


@pytest.fixture
def site(feed_server: FeedServer) -> FeedServer:
    json_feed = feed_server.url("/feed.json")
    feed_server.route(
        "/",
        body=PAGE.encode(),
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Link": f'<{json_feed}>; rel="alternate"; type="application/feed+json"; title="JSON"',
        },
    )
    feed_server.route("/rss.xml", body=RSS, headers={"Content-Type": "application/rss+xml"})
    feed_server.route("/atom/news.atom", body=ATOM)
    feed_server.route("/feed.json", body=JSON_FEED)
    return feed_server


def test_a_page_leads_to_every_feed_it_advertises_link_header_first(site: FeedServer) -> None:
    found = run(site.url("/"))
    assert found.page_url == site.url("/")
    assert [f.url for f in found.feeds] == [
        site.url("/feed.json"),
        site.url("/rss.xml"),
        site.url("/atom/news.atom"),
    ]
    json_feed, rss, atom = found.feeds
    assert json_feed.feed.format.startswith("json") and json_feed.link.title == "JSON"
    assert rss.feed.format == "rss20" and rss.link.title == "Новости (RSS)"
    assert atom.feed.format == "atom10"
    assert rss.feed.title and len(rss.feed.items) > 0
    assert found.problems == ()
    assert site.count("/feed") == 0  # advertised feeds found: no guessing of paths


def test_a_feed_url_is_its_own_feed(site: FeedServer) -> None:
    found = run(site.url("/rss.xml"))
    assert found.page_url is None
    assert [f.url for f in found.feeds] == [site.url("/rss.xml")]
    assert site.count("/") == 0


def test_a_page_advertising_nothing_falls_back_to_the_usual_paths(
    feed_server: FeedServer,
) -> None:
    feed_server.route("/news/today", body=b"<html><body>no links</body></html>")
    feed_server.route("/atom.xml", body=ATOM)
    feed_server.route("/rss", body=b"<html><body>a page, not a feed</body></html>")
    found = run(feed_server.url("/news/today"))
    assert [f.url for f in found.feeds] == [feed_server.url("/atom.xml")]
    for path in ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.json"):
        assert feed_server.count(path) == 1, path


def test_a_page_with_no_feed_anywhere_says_what_was_tried(feed_server: FeedServer) -> None:
    feed_server.route("/", body=b"<!DOCTYPE html><html><body>hello</body></html>")
    with pytest.raises(DiscoveryError) as caught:
        run(feed_server.url("/"))
    message = str(caught.value)
    assert "an HTML page that advertises no feed" in message
    assert "/feed, /rss, /rss.xml, /atom.xml, /feed.json" in message


def test_a_feed_advertised_on_a_private_address_is_refused(feed_server: FeedServer) -> None:
    # The page is on 127.0.0.1, which this test allows; the feed it advertises is
    # on 127.0.0.2, which it does not: a page must not lead us into a network.
    inside = feed_server.url("/internal.rss", host="127.0.0.2")
    feed_server.route("/internal.rss", body=RSS)
    feed_server.route(
        "/",
        body=f'<html><head><link rel="alternate" type="application/rss+xml" href="{inside}">'
        "</head></html>".encode(),
    )
    with pytest.raises(DiscoveryError) as caught:
        run(feed_server.url("/"))
    assert "refused: 127.0.0.2 is a loopback address" in str(caught.value)
    assert feed_server.count("/internal.rss") == 0


def test_the_page_itself_on_a_private_address_is_refused(feed_server: FeedServer) -> None:
    feed_server.route("/", body=PAGE.encode())
    with pytest.raises(DiscoveryError, match="refused: 127.0.0.1 is a loopback address"):
        run(feed_server.url("/"), FetchConfig())
    assert feed_server.count() == 0


def test_broken_advertised_feeds_are_reported_beside_the_good_one(
    feed_server: FeedServer,
) -> None:
    feed_server.route("/good.rss", body=RSS)
    feed_server.route("/gone.rss", status=404)
    feed_server.route(
        "/",
        body=b'<html><head><link rel="alternate" type="application/rss+xml" href="/gone.rss">'
        b'<link rel="alternate" type="application/rss+xml" href="/good.rss"></head></html>',
    )
    found = run(feed_server.url("/"))
    assert [f.url for f in found.feeds] == [feed_server.url("/good.rss")]
    assert found.problems == (f"{feed_server.url('/gone.rss')}: HTTP 404 Not Found",)


def test_a_document_that_is_neither_page_nor_feed_is_an_error(feed_server: FeedServer) -> None:
    feed_server.route(
        "/data", body=json.dumps({"a": 1}).encode(), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(DiscoveryError, match="not a feed: JSON document that is not a JSON Feed"):
        run(feed_server.url("/data"))


def test_advertised_links_resolve_against_base_href_and_keep_http_only() -> None:
    page = b"""<html><head><base href="https://cdn.example.kz/site/">
    <link rel="ALTERNATE stylesheet" type="application/rss+xml; charset=utf-8" href="rss">
    <link rel="alternate" type="application/atom+xml" href="ftp://example.kz/feed">
    </head></html>"""
    links = advertised_feeds(page, "https://example.kz/page", {})
    assert [(link.url, link.type) for link in links] == [
        ("https://cdn.example.kz/site/rss", "application/rss+xml")
    ]


def test_the_html_page_error_of_a_source_lists_the_advertised_feeds() -> None:
    hint = html_page_hint(PAGE.encode(), "https://delovoy.example.kz/", {})
    assert hint == (
        "; the page advertises https://delovoy.example.kz/rss.xml (RSS), "
        "https://delovoy.example.kz/atom/news.atom (Atom): set the source's url to one of them"
    )
    assert html_page_hint(b"<html><body></body></html>", "https://x.example/", {}) == ""


def test_a_permanent_redirect_moves_the_address_and_a_temporary_one_keeps_it(
    site: FeedServer,
) -> None:
    site.route("/moved", redirect="/rss.xml", status=301)
    site.route("/today", redirect="/rss.xml", status=302)
    assert [f.url for f in run(site.url("/moved")).feeds] == [site.url("/rss.xml")]
    assert [f.url for f in run(site.url("/today")).feeds] == [site.url("/today")]
