"""parse_feed: bytes + headers + URL -> ParsedFeed, for every format we meet; what is not a feed."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from parse_documents import URL, atom, rss

from aggregator.parse import ParseError, parse_feed

# Every test runs on both parse paths (conftest.py), "auto" (lxml where it can) and "feedparser".
pytestmark = pytest.mark.usefixtures("both_parse_paths")

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realfeeds"


# --- formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (rss("<item><title>a</title></item>", version="0.91"), "rss091u"),
        (rss("<item><title>a</title></item>", version="0.92"), "rss092"),
        (rss("<item><title>a</title></item>", version="0.93"), "rss093"),
        (rss("<item><title>a</title></item>", version="0.94"), "rss094"),
        (rss("<item><title>a</title></item>"), "rss20"),
        (b"<rss><channel><title>x</title><item><title>a</title></item></channel></rss>", "rss20"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
            b' "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
            b"<title>x</title><item><title>a</title></item></channel></rss>",
            "rss091n",
        ),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            b' xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>x</title></channel>'
            b"<item><title>a</title><link>https://a.example/1</link></item></rdf:RDF>",
            "rss090",
        ),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>x</title></channel>'
            b'<item rdf:about="https://a.example/1"><title>a</title><link>https://a.example/1</link>'
            b"</item></rdf:RDF>",
            "rss10",
        ),
        (
            b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>x</title>'
            b"<entry><title>a</title><id>urn:1</id><issued>2004-01-01T00:00:00Z</issued></entry></feed>",
            "atom03",
        ),
        (atom("<entry><title>a</title><id>urn:1</id></entry>"), "atom10"),
    ],
)
def test_every_xml_format_is_recognized(body, expected):
    feed = parse_feed(body, URL)
    assert feed.format == expected
    assert [item.title for item in feed.items] == ["a"]


def test_a_valid_feed_without_items_is_not_an_error():
    feed = parse_feed(rss(""), URL)
    assert feed.format == "rss20"
    assert feed.title == "Feed"
    assert feed.items == ()


def test_rss_channel_metadata():
    feed = parse_feed(
        rss(
            "",
            "<description>Latest &lt;b&gt;news&lt;/b&gt;</description><language>ru</language>"
            "<ttl>15</ttl><lastBuildDate>Mon, 06 Sep 2021 16:45:00 +0600</lastBuildDate>",
        ),
        URL,
    )
    assert feed.title == "Feed"
    assert feed.link == "https://agency.example.kz/"
    assert feed.description == "Latest news"
    assert feed.language == "ru"
    assert feed.ttl_seconds == 15 * 60
    assert feed.updated == datetime(2021, 9, 6, 10, 45, tzinfo=UTC)


@pytest.mark.parametrize("ttl", ["abc", "-5", "0", "", "1.5h"])
def test_garbage_ttl_is_ignored(ttl):
    assert parse_feed(rss("", f"<ttl>{ttl}</ttl>"), URL).ttl_seconds is None


def test_feed_home_page_link_is_made_absolute():
    body = b'<rss version="2.0"><channel><title>x</title><link>/home</link></channel></rss>'
    assert parse_feed(body, URL).link == "https://agency.example.kz/home"


def test_atom_feed_metadata():
    feed = parse_feed(
        atom(
            "",
            '<subtitle type="html">&lt;p&gt;All &amp;amp; more&lt;/p&gt;</subtitle>'
            '<link rel="self" href="https://a.example/feed.atom"/>'
            '<link rel="alternate" type="text/html" href="https://a.example/"/>',
        ).replace(b"<feed ", b'<feed xml:lang="kk" '),
        URL,
    )
    assert feed.title == "Atom feed"
    assert feed.link == "https://a.example/"
    assert feed.description == "All & more"
    assert feed.language == "kk"
    assert feed.updated == datetime(2024, 1, 1, tzinfo=UTC)


def test_feed_language_falls_back_to_content_language_header():
    feed = parse_feed(rss("<item><title>a</title></item>"), URL, {"Content-Language": "kk"})
    assert feed.language == "kk"
    assert feed.items[0].language == "kk"


# --- not a feed -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"   \r\n\t ", "empty document"),
        (
            b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body>hi</body></html>",
            "not a feed: the document is an HTML page (<html> root)",
        ),
        (b"\xef\xbb\xbf<!-- x --><html lang=ru><body>x", "not a feed: the document is an HTML page"),
        (b"Service temporarily unavailable, try later", "not a feed: plain text"),
        (random.Random(7).randbytes(512).replace(b"{", b"").replace(b"[", b""), "not a feed"),
        (b'<?xml version="1.0"?><sitemap><url/></sitemap>', "not a feed: XML document with root <sitemap>"),
        (b'{"data": [1, 2]}', "not a feed: JSON document that is not a JSON Feed"),
        (b'{"version": "https://example.org/v1", "items": []}', "not a feed: JSON document that is not a JSON Feed"),
        (b"[1, 2, 3]", "not a feed: JSON document that is not a JSON Feed"),
        (b'{"version": ', "not a feed: invalid JSON at line 1"),
    ],
)  # fmt: skip
def test_documents_that_are_not_feeds_raise_parse_error(body, message):
    with pytest.raises(ParseError) as excinfo:
        parse_feed(body, URL)
    assert message in str(excinfo.value)


def test_binary_data_is_called_binary():
    body = bytes(range(256)) * 4
    with pytest.raises(ParseError, match="binary"):
        parse_feed(body.replace(b"{", b"").replace(b"[", b""), URL)


def test_json_content_type_with_a_non_json_body_is_an_error():
    with pytest.raises(ParseError, match="Content-Type is 'application/json'"):
        parse_feed(b"Not Found", URL, {"Content-Type": "application/json"})


def test_truncated_feed_still_yields_the_items_before_the_break():
    body = rss("<item><title>a</title></item><item><title>b</title></item><item><title>c")
    titles = [item.title for item in parse_feed(body[: body.rindex(b"<title>c")], URL).items]
    assert titles[:2] == ["a", "b"]


# --- real-world feeds -------------------------------------------------------------

REAL_COUNTS = {
    "miniflux/encoding-koi8r.xml": ("rss20", 2),
    "miniflux/encoding_ISO-8859-1.xml": ("rss20", 40),
    "miniflux/encoding_WINDOWS-1251.xml": ("rss20", 50),
    "miniflux/large_atom.xml": ("atom10", 25),
    "miniflux/large_rss.xml": ("rss20", 25),
    "miniflux/no_encoding_ISO-8859-1.xml": ("rss20", 10),
    "miniflux/rdf_UTF8.xml": ("rss090", 60),
    "miniflux/small_atom.xml": ("atom10", 20),
    "miniflux/urdu_UTF8.xml": ("rss20", 26),
    "rss-parser/craigslist.rss": ("rss10", 25),
    "rss-parser/encoding.rss": ("rss20", 40),
    "rss-parser/feedburner.atom": ("atom10", 25),
    "rss-parser/giantbomb-podcast.rss": ("rss20", 730),
    "rss-parser/guardian.rss": ("rss20", 55),
    "rss-parser/heise.atom": ("atom10", 15),
    "rss-parser/heraldsun.rss": ("rss092", 2),
    "rss-parser/instant-article.rss": ("rss20", 1),
    "rss-parser/reddit.rss": ("rss20", 24),
    "rss-parser/uolNoticias.rss": ("rss20", 15),
}


def real_feed(name: str) -> bytes:
    path = REALFEEDS / name
    if not path.is_file():
        pytest.skip(f"real-world sample {path} is absent (it lives outside the repo, in ../shared)")
    return path.read_bytes()


@pytest.mark.parametrize("name", REAL_COUNTS)
def test_real_feed_parses_with_the_right_item_count(name):
    fmt, count = REAL_COUNTS[name]
    feed = parse_feed(real_feed(name), "https://feeds.example/" + name)
    assert (feed.format, len(feed.items)) == (fmt, count)
    assert all(item.id for item in feed.items)
    assert len({item.id for item in feed.items}) == count
    for item in feed.items:
        assert item.link is None or item.link.startswith(("http://", "https://"))
        for field in (item.summary or "", item.content or ""):
            assert "<script" not in field and "javascript:" not in field.lower()


# Served the way a misconfigured server would: the header charset is wrong or absent.
REAL_TEXT = {
    "miniflux/encoding_WINDOWS-1251.xml": (
        "text/xml; charset=ISO-8859-1",
        lambda f: (
            f.items[0].title == "Цитата #17703"
            and "есть у кого жаба программер" in f.items[0].summary
            and f.description == "Новый цитатник Рунета"
        ),
    ),
    "miniflux/encoding-koi8r.xml": (
        "text/xml; charset=utf-8",
        lambda f: (
            f.title == "Пример RSS ленты"
            and f.items[0].title == "Первая новость"
            and "Ёжик" in f.items[0].summary
        ),
    ),
    "miniflux/encoding_ISO-8859-1.xml": (
        "application/rss+xml; charset=utf-8",
        lambda f: "Viele Spieler wünschen sich eine PC-Version" in f.items[0].summary,
    ),
    "miniflux/no_encoding_ISO-8859-1.xml": (
        "text/xml",
        lambda f: "nombre d'études montrent" in f.items[0].summary,
    ),
    "rss-parser/encoding.rss": (
        "text/xml; charset=utf-8",
        lambda f: (
            f.title == "Jornal de Notícias - Últimas Notícias"
            and f.items[0].title == "Mãe de utente é a nova presidente da Raríssimas"
        ),
    ),
    "rss-parser/uolNoticias.rss": (
        "text/xml; charset=utf-8",
        lambda f: (
            f.description == "Últimas Notícias"
            and f.items[0].title.endswith("em simulações de 2º turno")
        ),
    ),
    "rss-parser/craigslist.rss": (
        None,
        lambda f: (
            f.items[0].title.startswith("Bright, Spacious Beautiful Victorian")
            and "$4300" in f.items[0].title
        ),
    ),
    "miniflux/rdf_UTF8.xml": (
        "application/xml",
        lambda f: f.items[0].title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen",
    ),
}


@pytest.mark.parametrize("name", REAL_TEXT)
def test_real_feed_text_comes_out_right_even_with_a_wrong_header(name):
    content_type, check = REAL_TEXT[name]
    headers = {"Content-Type": content_type} if content_type else None
    feed = parse_feed(real_feed(name), "https://feeds.example/" + name, headers)
    assert check(feed), (feed.title, feed.description, feed.items[0].title)


def test_real_feed_ids_are_the_same_on_every_parse():
    body = real_feed("miniflux/large_atom.xml")
    first = [i.id for i in parse_feed(body, "https://dustri.org/b/feeds/atom.xml").items]
    again = [i.id for i in parse_feed(body, "https://dustri.org/b/feeds/atom.xml").items]
    assert first == again


@pytest.mark.parametrize(
    "raw, name, email",
    [
        ("news@eurasia24.media (Редакция)", "Редакция", "news@eurasia24.media"),
        (
            "redakciya@delovoy-almaty.example (Редакция)",
            "Редакция",
            "redakciya@delovoy-almaty.example",
        ),
        ("Иван Петров &lt;ivan@kapital.kz&gt;", "Иван Петров", "ivan@kapital.kz"),
        ("ivan@kapital.kz", None, "ivan@kapital.kz"),
    ],
)
def test_rss_author_emails_with_long_top_level_domains_are_kept_whole(raw, name, email):
    feed = parse_feed(rss(f"<item><title>t</title><author>{raw}</author></item>"), URL)
    [author] = feed.items[0].authors
    assert (author.name, author.email) == (name, email)


def test_an_unknown_parser_choice_is_refused():
    with pytest.raises(ValueError, match="expected one of auto, feedparser"):
        parse_feed(rss(""), URL, parser="lxml")


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "item_link", "href"),
    [
        # The example's business feed, read from a file as examples/feeds.yaml does.
        (
            REPO / "examples" / "feeds" / "delovoy-almaty.xml",
            "https://delovoy-almaty.example/news/khorgos-hub",
            "https://delovoy-almaty.example/news/khorgos-hub/foto",
        ),
        # craigslist's RSS 1.0: "show contact info" links are site-relative.
        (
            REALFEEDS / "rss-parser" / "craigslist.rss",
            "http://sfbay.craigslist.org/pen/apa/6178016537.html",
            "http://sfbay.craigslist.org/fb/sfo/apa/6178016537",
        ),
    ],
)
def test_site_relative_links_of_a_real_feed_read_from_a_file_lead_to_the_site(
    path, item_link, href
):
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared sample feeds live next to the repository)")
    feed = parse_feed(path.read_bytes(), path.as_uri())
    (item,) = [item for item in feed.items if item.link == item_link]
    assert f'href="{href}"' in (item.summary or "") + (item.content or "")
    for item in feed.items:
        assert "file:" not in (item.summary or "") + (item.content or ""), item.link
