"""parse.py: bytes + headers + URL -> ParsedFeed, for every format and encoding we meet."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.models import Author, Enclosure
from aggregator.parse import ParseError, parse_feed

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realfeeds"
URL = "https://agency.example.kz/rss/news.xml"

RU = "Президент подписал закон о бюджете, Ёжик и съезд"
KK = "Қазақстан: әлем, ғылым, қала, өңір, өнер, ұлт, үміт, һәм, іс"


def rss(items: str, channel: str = "", *, version: str = "2.0", decl: str = "") -> bytes:
    return (
        f'{decl}<rss version="{version}" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        f' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>Feed</title><link>https://agency.example.kz/</link>{channel}"
        f"{items}</channel></rss>"
    ).encode()


def atom(entries: str, feed: str = "", *, base: str = "") -> bytes:
    xml_base = f' xml:base="{base}"' if base else ""
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom"{xml_base}><title>Atom feed</title>'
        f"<id>urn:feed</id><updated>2024-01-01T00:00:00Z</updated>{feed}{entries}</feed>"
    ).encode()


def only_item(body: bytes, url: str = URL, headers=None):
    feed = parse_feed(body, url, headers)
    assert len(feed.items) == 1
    return feed.items[0]


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


# --- items ---------------------------------------------------------------------


def test_rss_item_fields():
    item = only_item(
        rss(
            """<item>
              <title>  Breaking:  &lt;b&gt;budget&lt;/b&gt; &amp; more </title>
              <link>https://agency.example.kz/news/1</link>
              <guid isPermaLink="false"> news-1 </guid>
              <description>&lt;p onclick="x()"&gt;Short&lt;/p&gt;</description>
              <content:encoded><![CDATA[<p>Full <script>alert(1)</script>text</p>]]></content:encoded>
              <pubDate>Mon, 06 Sep 2021 16:45:00 +0600</pubDate>
              <author>desk@agency.example.kz (News Desk)</author>
              <dc:creator>Айгерим Нурланова</dc:creator>
              <category>Politics</category><category> Politics </category><category>Economy</category>
              <enclosure url="/media/1.jpg" type="image/jpeg" length="2048"/>
            </item>""",
            "<language>ru</language>",
        )
    )
    assert item.id == "news-1"
    assert item.title == "Breaking: budget & more"
    assert item.link == "https://agency.example.kz/news/1"
    assert item.summary == "<p>Short</p>"
    assert item.content == "<p>Full text</p>"
    assert item.published == datetime(2021, 9, 6, 10, 45, tzinfo=UTC)
    assert item.published_raw == "Mon, 06 Sep 2021 16:45:00 +0600"
    assert item.updated is None and item.updated_raw is None
    assert item.authors == (
        Author(name="News Desk", email="desk@agency.example.kz"),
        Author(name="Айгерим Нурланова"),
    )
    assert item.categories == ("Politics", "Economy")
    assert item.enclosures == (
        Enclosure(url="https://agency.example.kz/media/1.jpg", type="image/jpeg", length=2048),
    )
    assert item.language == "ru"


def test_missing_title_is_an_empty_string():
    assert only_item(rss("<item><link>https://a.example/1</link></item>")).title == ""


def test_when_only_content_exists_summary_is_none():
    item = only_item(
        rss("<item><title>t</title><content:encoded>&lt;p&gt;c&lt;/p&gt;</content:encoded></item>")
    )
    assert item.summary is None
    assert item.content == "<p>c</p>"


def test_when_only_description_exists_content_is_none():
    item = only_item(rss("<item><title>t</title><description>d</description></item>"))
    assert item.summary == "d"
    assert item.content is None


def test_atom_entry_fields():
    item = only_item(
        atom(
            """<entry xml:lang="kk">
              <id> tag:agency.example.kz,2024:1 </id>
              <title type="html">&lt;em&gt;Қазақстан&lt;/em&gt; жаңалықтары</title>
              <link rel="related" href="https://other.example/"/>
              <link rel="alternate" type="application/pdf" href="https://a.example/1.pdf"/>
              <link rel="alternate" type="text/html" href="https://a.example/1"/>
              <link rel="enclosure" type="audio/mpeg" length="12x" href="https://a.example/1.mp3"/>
              <summary>Plain &lt;summary&gt;</summary>
              <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body</p></div></content>
              <published>2024-03-01T10:00:00+06:00</published>
              <updated>2024-03-01T12:30:00+06:00</updated>
              <author><name>Ә. Сейітқали</name><email>a@a.example</email><uri>/authors/a</uri></author>
              <category term="Саясат"/>
            </entry>""",
            base="https://a.example/",
        )
    )
    assert item.id == "tag:agency.example.kz,2024:1"
    assert item.title == "Қазақстан жаңалықтары"
    assert item.link == "https://a.example/1"  # rel=alternate, HTML preferred
    assert item.summary == "Plain &lt;summary&gt;"  # text construct: escaped, not markup
    assert item.content == "<p>Body</p>"
    assert item.published == datetime(2024, 3, 1, 4, 0, tzinfo=UTC)
    assert item.updated == datetime(2024, 3, 1, 6, 30, tzinfo=UTC)
    assert item.published_raw == "2024-03-01T10:00:00+06:00"
    assert item.updated_raw == "2024-03-01T12:30:00+06:00"
    assert item.authors == (
        Author(name="Ә. Сейітқали", email="a@a.example", uri="https://a.example/authors/a"),
    )
    assert item.categories == ("Саясат",)
    assert item.enclosures == (Enclosure(url="https://a.example/1.mp3", type="audio/mpeg"),)
    assert item.language == "kk"


def test_atom_entries_inherit_the_feed_author():
    item = only_item(
        atom("<entry><id>urn:1</id><title>t</title></entry>", "<author><name>Desk</name></author>")
    )
    assert item.authors == (Author(name="Desk"),)


def test_unparseable_dates_keep_the_raw_string():
    item = only_item(rss("<item><title>t</title><pubDate>вчера вечером</pubDate></item>"))
    assert item.published is None
    assert item.published_raw == "вчера вечером"


def test_missing_dates_are_left_missing():
    item = only_item(rss("<item><title>t</title></item>"))
    assert (item.published, item.updated, item.published_raw, item.updated_raw) == (None,) * 4


def test_dc_date_is_an_updated_time_in_utc():
    item = only_item(
        rss("<item><title>t</title><dc:date>2024-05-01T23:30:00-02:00</dc:date></item>")
    )
    assert item.updated == datetime(2024, 5, 2, 1, 30, tzinfo=UTC)
    assert item.updated.tzinfo is UTC


# --- ids -------------------------------------------------------------------------


def test_ids_are_stable_across_runs():
    body = rss(
        "<item><title>a</title><guid>g1</guid></item>"
        "<item><title>b</title><link>https://a.example/b</link></item>"
        "<item><title>c</title><description>only text</description></item>"
    )
    first = [item.id for item in parse_feed(body, URL).items]
    second = [item.id for item in parse_feed(body, URL).items]
    assert first == second
    assert first[:2] == ["g1", "https://a.example/b"]


@pytest.mark.parametrize("attribute", ["", ' isPermaLink="false"', ' isPermaLink="true"'])
def test_opaque_guid_is_kept_as_written_and_is_not_a_link(attribute):
    item = only_item(rss(f"<item><title>a</title><guid{attribute}>12345</guid></item>"))
    assert item.id == "12345"  # not resolved into https://agency.example.kz/rss/12345
    assert item.link is None


def test_permalink_guid_with_a_path_is_the_link_when_there_is_no_link():
    item = only_item(rss("<item><title>a</title><guid>/news/12345</guid></item>"))
    assert item.id == "/news/12345"
    assert item.link == "https://agency.example.kz/news/12345"


def test_permalink_guid_is_the_link_when_there_is_no_link():
    item = only_item(rss("<item><title>a</title><guid>https://a.example/p/1</guid></item>"))
    assert item.id == "https://a.example/p/1"
    assert item.link == "https://a.example/p/1"


def test_id_falls_back_to_the_link():
    item = only_item(rss("<item><title>a</title><link>/news/7</link></item>"))
    assert item.id == "https://agency.example.kz/news/7"


def test_id_falls_back_to_a_hash_of_title_and_content():
    a = only_item(rss("<item><title>a</title><description>x</description></item>"))
    b = only_item(rss("<item><title>a</title><description>y</description></item>"))
    assert a.id.startswith("sha256:") and len(a.id) == len("sha256:") + 64
    assert a.id != b.id


# --- links and relative URLs ------------------------------------------------------


def test_relative_links_resolve_against_the_feed_url():
    item = only_item(
        rss(
            "<item><title>t</title><link>news/1.html</link>"
            '<description>&lt;a href="../x"&gt;x&lt;/a&gt;&lt;img src="/i.png"&gt;</description>'
            '<enclosure url="m.mp3" type="audio/mpeg" length="1"/></item>'
        ),
        url="https://agency.example.kz/rss/news.xml",
    )
    assert item.link == "https://agency.example.kz/rss/news/1.html"
    assert (
        item.summary
        == '<a href="https://agency.example.kz/x">x</a><img src="https://agency.example.kz/i.png">'
    )
    assert item.enclosures[0].url == "https://agency.example.kz/rss/m.mp3"


def test_relative_links_resolve_against_xml_base():
    body = atom(
        """<entry xml:base="2024/">
          <id>urn:1</id><title>t</title><link href="post.html"/>
          <content type="html" xml:base="/media/">&lt;img src="a.jpg"&gt;&lt;a href="b"&gt;b&lt;/a&gt;</content>
        </entry>""",
        base="blog/",
    )
    item = only_item(body, url="https://site.example/feeds/atom.xml")
    assert item.link == "https://site.example/feeds/blog/2024/post.html"
    assert item.content == (
        '<img src="https://site.example/media/a.jpg"><a href="https://site.example/media/b">b</a>'
    )


def test_absolute_xml_base_overrides_the_feed_url():
    item = only_item(
        atom('<entry><id>urn:1</id><link href="p/1"/></entry>', base="https://cdn.example/x/"),
        url="https://site.example/atom.xml",
    )
    assert item.link == "https://cdn.example/x/p/1"


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java&#x09;script:alert(1)",
        "data:text/html,hi",
        "mailto:desk@agency.example.kz",
        "ftp://files.example/x",
        "vbscript:x",
        "news:comp.lang.python",
    ],
)
def test_non_http_links_are_dropped(link):
    item = only_item(rss(f"<item><title>t</title><link>{link}</link><guid>g</guid></item>"))
    assert item.link is None


def test_enclosures_with_non_http_urls_are_dropped_and_bad_lengths_become_none():
    item = only_item(
        rss(
            "<item><title>t</title>"
            '<enclosure url="javascript:x" type="audio/mpeg" length="1"/>'
            '<enclosure url="https://a.example/a.mp3" type="audio/mpeg" length="lots"/></item>'
        )
    )
    assert item.enclosures == (Enclosure(url="https://a.example/a.mp3", type="audio/mpeg"),)


def test_hostile_content_is_sanitized():
    item = only_item(
        rss(
            "<item><title>&lt;script&gt;x&lt;/script&gt;Title</title><description><![CDATA["
            '<p style="x" onmouseover="alert(1)">ok</p><iframe src="https://evil.example"></iframe>'
            '<a href="&#106;avascript:alert(1)">a</a><img src="data:image/png;base64,AA">'
            "]]></description></item>"
        )
    )
    assert item.summary == "<p>ok</p><a>a</a>"
    assert "<" not in item.title


# --- encodings --------------------------------------------------------------------


def encoded_rss(text: str, encoding: str, *, declare: str | None = None) -> bytes:
    decl = f'<?xml version="1.0" encoding="{declare}"?>\n' if declare else ""
    doc = (
        f'{decl}<rss version="2.0"><channel><title>{text}</title>'
        f"<item><title>{text}</title><description>{text}</description></item></channel></rss>"
    )
    return doc.encode(encoding)


def assert_text(body: bytes, expected: str, headers=None):
    feed = parse_feed(body, URL, headers)
    assert feed.title == expected
    assert feed.items[0].title == expected
    assert feed.items[0].summary == expected


ENCODING_CASES = {
    "windows-1251 declared": (encoded_rss(RU, "cp1251", declare="windows-1251"), RU, None),
    "koi8-r declared": (encoded_rss(RU, "koi8-r", declare="KOI8-R"), RU, None),
    "windows-1251 undeclared": (encoded_rss(RU, "cp1251"), RU, None),
    "koi8-r undeclared": (encoded_rss(RU, "koi8-r"), RU, None),
    "windows-1251 in the header only": (
        encoded_rss(RU, "cp1251"),
        RU,
        {"Content-Type": "text/xml; charset=windows-1251"},
    ),
    "windows-1251 declared, header says utf-8": (
        encoded_rss(RU, "cp1251", declare="windows-1251"),
        RU,
        {"Content-Type": "application/rss+xml; charset=UTF-8"},
    ),
    "windows-1251 declared, header says ISO-8859-1": (
        encoded_rss(RU, "cp1251", declare="windows-1251"),
        RU,
        {"Content-Type": "text/xml; charset=ISO-8859-1"},
    ),
    "windows-1251 undeclared, header says ISO-8859-1": (
        encoded_rss(RU, "cp1251"),
        RU,
        {"Content-Type": "text/xml; charset=ISO-8859-1"},
    ),
    "koi8-r declared, header says windows-1251": (
        encoded_rss(RU, "koi8-r", declare="koi8-r"),
        RU,
        {"Content-Type": "text/xml; charset=windows-1251"},
    ),
    "utf-8, header says windows-1251": (
        encoded_rss(KK, "utf-8", declare="utf-8"),
        KK,
        {"Content-Type": "text/xml; charset=windows-1251"},
    ),
    "utf-8 with BOM": (b"\xef\xbb\xbf" + encoded_rss(KK, "utf-8", declare="utf-8"), KK, None),
    "utf-16 with BOM": (encoded_rss(KK, "utf-16", declare="UTF-16"), KK, None),
    "utf-16-be with BOM": (b"\xfe\xff" + encoded_rss(KK, "utf-16-be", declare="UTF-16"), KK, None),
    "utf-16 declared, no BOM": (
        encoded_rss(KK, "utf-16-le", declare="UTF-16"),
        KK,
        {"Content-Type": "application/xml; charset=utf-16"},
    ),
    "kz-1048 declared": (encoded_rss(KK, "kz1048", declare="KZ-1048"), KK, None),
    "ISO-8859-1 undeclared": (encoded_rss("Thérapie, être à côté", "latin-1"), "Thérapie, être à côté", None),
    "ISO-8859-1, header says utf-8": (
        encoded_rss("Müller über Größe", "latin-1"),
        "Müller über Größe",
        {"Content-Type": "text/xml; charset=utf-8"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", ENCODING_CASES)
def test_text_comes_out_right_whatever_the_encoding(case):
    body, expected, headers = ENCODING_CASES[case]
    assert_text(body, expected, headers)


def test_utf8_with_a_few_broken_bytes_is_still_read_as_utf8():
    body = encoded_rss(RU + " " + KK, "utf-8", declare="utf-8")
    broken = body.replace("Ёжик".encode(), "Ёжик".encode()[:-1], 1)  # cut "к" in half
    feed = parse_feed(broken, URL, {"Content-Type": "text/xml; charset=windows-1251"})
    assert feed.title.startswith("Президент подписал закон о бюджете, Ёжи\ufffd")
    assert feed.title.endswith(KK)


def test_kazakh_letters_survive_every_unicode_encoding():
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert_text(encoded_rss(KK, encoding, declare=encoding.upper()), KK)


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


# --- JSON Feed ------------------------------------------------------------------


def json_feed(version: str, **extra) -> bytes:
    return json.dumps(
        {"version": f"https://jsonfeed.org/version/{version}", "title": "J", **extra}
    ).encode()


def test_json_feed_1_0_with_author():
    feed = parse_feed(
        json_feed(
            "1",
            home_page_url="/",
            description="Desc",
            author={"name": "Feed Author", "url": "/about"},
            items=[
                {
                    "id": 42,
                    "url": "posts/42",
                    "title": "Hello &amp; <i>world</i>",
                    "content_html": '<p>Body<script>x()</script> <a href="/r">r</a></p>',
                    "summary": "A <plain> summary",
                    "date_published": "2024-03-01T10:00:00+06:00",
                    "date_modified": "2024-03-01T05:00:00Z",
                    "tags": ["a", " a ", "b"],
                },
                {"id": "2", "title": "Own author", "author": {"name": "Item Author"}},
            ],
        ),
        "https://j.example/feed.json",
        {"Content-Type": "application/feed+json"},
    )
    assert feed.format == "json10"
    assert feed.title == "J"
    assert feed.link == "https://j.example/"
    assert feed.description == "Desc"
    first, second = feed.items
    assert first.id == "42"
    assert first.link == "https://j.example/posts/42"
    assert first.title == "Hello & world"
    assert first.content == '<p>Body <a href="https://j.example/r">r</a></p>'
    assert first.summary == "A &lt;plain&gt; summary"
    assert first.published == datetime(2024, 3, 1, 4, 0, tzinfo=UTC)
    assert first.updated == datetime(2024, 3, 1, 5, 0, tzinfo=UTC)
    assert first.published_raw == "2024-03-01T10:00:00+06:00"
    assert first.categories == ("a", "b")
    assert first.authors == (Author(name="Feed Author", uri="https://j.example/about"),)
    assert second.authors == (Author(name="Item Author"),)


def test_json_feed_1_1_with_authors_language_and_attachments():
    feed = parse_feed(
        json_feed(
            "1.1",
            language="ru",
            authors=[{"name": "A"}, {"name": "B", "url": "javascript:x"}],
            items=[
                {
                    "id": "x1",
                    "external_url": "https://elsewhere.example/story",
                    "content_text": "Строка 1\nСтрока <2>",
                    "language": "kk",
                    "attachments": [
                        {"url": "/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 1234},
                        {"url": "data:audio/mpeg;base64,AA", "mime_type": "audio/mpeg"},
                        {"url": "https://j.example/b.ogg", "size_in_bytes": "big"},
                    ],
                },
                {"id": "x2", "title": "inherits", "authors": []},
            ],
        ),
        "https://j.example/feed.json",
    )
    assert feed.format == "json11"
    assert feed.language == "ru"
    first, second = feed.items
    assert first.link == "https://elsewhere.example/story"
    assert first.content == "Строка 1<br>Строка &lt;2&gt;"
    assert first.summary is None
    assert first.language == "kk"
    assert second.language == "ru"
    assert first.authors == (Author(name="A"), Author(name="B"))
    assert second.authors == first.authors
    assert first.enclosures == (
        Enclosure(url="https://j.example/a.mp3", type="audio/mpeg", length=1234),
        Enclosure(url="https://j.example/b.ogg"),
    )


def test_json_feed_is_detected_by_content_not_only_content_type():
    feed = parse_feed(b"  \n" + json_feed("1.1", items=[]), URL, {"Content-Type": "text/plain"})
    assert feed.format == "json11"
    assert feed.items == ()


def test_json_feed_ids_fall_back_to_url_then_hash():
    feed = parse_feed(
        json_feed("1.1", items=[{"url": "https://j.example/1"}, {"content_text": "t"}]), URL
    )
    assert feed.items[0].id == "https://j.example/1"
    assert feed.items[1].id.startswith("sha256:")
    assert (
        feed.items[1].id
        == parse_feed(json_feed("1.1", items=[{"content_text": "t"}]), URL).items[0].id
    )


def test_json_feed_dates_without_offset_are_utc_and_garbage_is_none():
    feed = parse_feed(
        json_feed(
            "1.1",
            items=[
                {"id": "1", "date_published": "2024-01-02T03:04:05"},
                {"id": "2", "date_published": "soon"},
            ],
        ),
        URL,
    )
    assert feed.items[0].published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert feed.items[1].published is None
    assert feed.items[1].published_raw == "soon"


def test_json_feed_in_utf16_with_bom():
    body = json_feed("1.1", items=[{"id": "1", "title": KK}]).decode().encode("utf-16")
    assert parse_feed(body, URL).items[0].title == KK


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
