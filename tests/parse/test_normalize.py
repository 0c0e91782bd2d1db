"""normalize.py: what every item of an RSS or Atom feed comes out as, on both XML paths:
plain-text titles, sanitized HTML, absolute http(s) links, UTC times, stable ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from parse_documents import URL, atom, only_item, rss

from aggregator.models import Author, Enclosure
from aggregator.parse import parse_feed

# Every test runs on both parse paths (conftest.py), "auto" (lxml where it can) and "feedparser".
pytestmark = pytest.mark.usefixtures("both_parse_paths")


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


def test_relative_item_links_resolve_against_the_feed_url_and_html_against_the_item_link():
    item = only_item(
        rss(
            "<item><title>t</title><link>news/1.html</link>"
            '<description>&lt;a href="../x"&gt;x&lt;/a&gt;&lt;img src="/i.png"&gt;</description>'
            '<enclosure url="m.mp3" type="audio/mpeg" length="1"/></item>'
        ),
        url="https://agency.example.kz/rss/news.xml",
    )
    assert item.link == "https://agency.example.kz/rss/news/1.html"
    # The HTML is the article's: its references mean what they mean on the article's page.
    assert (
        item.summary
        == '<a href="https://agency.example.kz/rss/x">x</a><img src="https://agency.example.kz/i.png">'
    )
    assert item.enclosures[0].url == "https://agency.example.kz/rss/m.mp3"


def test_html_of_a_feed_served_from_another_host_resolves_against_the_article():
    # FeedBurner-style: the feed lives on feeds.*, the articles on www.*; "/news/2"
    # in an article is www's page, not a path on the feed host.
    item = only_item(
        rss(
            "<item><title>t</title><link>https://www.agency.example.kz/news/2024/1.html</link>"
            '<description>&lt;a href="/news/2"&gt;Ещё&lt;/a&gt; &lt;img src="pic.jpg"&gt;'
            "</description></item>"
        ),
        url="https://feeds.agency.example.kz/rss.xml",
    )
    assert item.summary == (
        '<a href="https://www.agency.example.kz/news/2">Ещё</a>'
        ' <img src="https://www.agency.example.kz/news/2024/pic.jpg">'
    )


FILE_URL = "file:///srv/aggregator/feeds/agency.xml"


def test_html_of_a_file_source_resolves_against_the_item_link_never_the_file():
    item = only_item(
        rss(
            "<item><title>t</title><link>https://agency.example.kz/news/khorgos</link>"
            '<description>&lt;p&gt;Порт. &lt;a href="/news/khorgos/foto"&gt;Фото&lt;/a&gt;&lt;/p&gt;'
            "</description></item>"
        ),
        url=FILE_URL,
    )
    assert item.summary == (
        '<p>Порт. <a href="https://agency.example.kz/news/khorgos/foto">Фото</a></p>'
    )


def test_relative_links_of_a_file_source_resolve_against_the_feeds_site_link():
    # A file has no web address of its own; the channel's <link> is the site's.
    item = only_item(
        rss(
            "<item><title>t</title><link>/news/1</link>"
            '<description>&lt;a href="foto"&gt;Фото&lt;/a&gt;</description>'
            '<enclosure url="/media/1.mp3" type="audio/mpeg" length="1"/></item>'
        ),
        url=FILE_URL,
    )
    assert item.link == "https://agency.example.kz/news/1"
    assert item.summary == '<a href="https://agency.example.kz/news/foto">Фото</a>'
    assert item.enclosures[0].url == "https://agency.example.kz/media/1.mp3"


def test_a_file_source_with_no_web_address_at_all_keeps_the_text_and_drops_the_href():
    body = (
        b'<rss version="2.0"><channel><title>Feed</title>'
        b"<item><title>t</title><guid>1</guid>"
        b"<description>&lt;a href=&quot;/news/1&quot;&gt;text&lt;/a&gt;</description></item>"
        b"</channel></rss>"
    )
    item = only_item(body, url=FILE_URL)
    assert item.link is None
    assert item.summary == "<a>text</a>"


def test_atom_xml_base_wins_over_the_item_link():
    body = atom(
        """<entry><id>urn:1</id><title>t</title><link href="https://www.site.example/a/1"/>
          <content type="html" xml:base="https://static.site.example/m/">&lt;img src="a.jpg"&gt;</content>
        </entry>"""
    )
    item = only_item(body, url=FILE_URL)
    assert item.content == '<img src="https://static.site.example/m/a.jpg">'


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


# --- titles: the words a reader sees, never script ----------------------------------


def atom03(entry: str) -> bytes:
    return f'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>{entry}</entry></feed>'.encode()


SCRIPT = "<script type=\"text/javascript\">document.location='http:/'+'/evil.example/';</script>"
ESCAPED_SCRIPT = SCRIPT.replace("<", "&lt;")

TITLES = {
    "rss, script in CDATA": (rss(f"<item><title><![CDATA[Новости{SCRIPT} дня]]></title></item>"), "Новости дня"),
    "rss, escaped script": (rss(f"<item><title>Новости{ESCAPED_SCRIPT} дня</title></item>"), "Новости дня"),
    "rss, escaped style": (rss("<item><title>&lt;style&gt;p{color:red}&lt;/style&gt;Новости</title></item>"), "Новости"),
    "rss, unclosed comment": (rss("<item><title>Новости&lt;!--</title></item>"), "Новости"),
    "atom html, script": (atom(f'<entry><title type="html">Новости{ESCAPED_SCRIPT} дня</title></entry>'), "Новости дня"),
    "atom html, script in CDATA": (atom(f'<entry><title type="html"><![CDATA[Новости{SCRIPT} дня]]></title></entry>'), "Новости дня"),
    "atom xhtml, script": (atom(f'<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Новости{SCRIPT} дня</div></title></entry>'), "Новости дня"),
    "atom 0.3 xhtml, script inline": (atom03(f'<title type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml">Новости{SCRIPT} дня</div></title>'), "Новости дня"),
    "atom 0.3 xhtml, script in CDATA": (atom03(f'<title type="application/xhtml+xml" mode="escaped"><![CDATA[Новости{SCRIPT} дня]]></title>'), "Новости дня"),
    "atom 0.3 html, comment with a script in it": (atom03('<title type="text/html" mode="escaped">Ново&lt;!-- &lt;script> -->сти&lt;script>alert(1);&lt;/script> дня</title>'), "Новости дня"),
    "atom 0.3 html, malicious comment": (atom03('<title type="text/html" mode="escaped">Новости&lt;!-- -- nonwhitespace >&lt;script>alert(1);&lt;/script></title>'), "Новости"),
    "atom 0.3 html, a whole document": (
        atom03('<title type="text/html" mode="escaped">\n&lt;!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n&lt;html xmlns="http://www.w3.org/1999/xhtml">&lt;body onload="run();">\n&lt;!-- \n\t&lt;script> \n-->\n&lt;script\n\n>\nfunction run() { /* &lt;script> */ alert(1) }\n&lt;/script\n\n>\n&lt;h1>Главное за день&lt;/h1>&lt;/body>&lt;/html></title>'),
        "Главное за день",
    ),
    "atom text keeps its angle brackets": (atom('<entry><title type="text">History of the &lt;blink&gt; tag</title></entry>'), "History of the <blink> tag"),
    "atom default type is text": (atom("<entry><title>a &lt; b &amp;&amp; c &gt; d</title></entry>"), "a < b && c > d"),
    "atom 0.3 text/plain keeps its angle brackets": (atom03('<title type="text/plain" mode="escaped">Тег &lt;blink&gt; и &lt;script&gt;</title>'), "Тег <blink> и <script>"),
    "rss, plain text with an angle bracket": (rss("<item><title>Курс: 1 $ &lt; 500 тенге</title></item>"), "Курс: 1 $ < 500 тенге"),
}  # fmt: skip


@pytest.mark.parametrize("case", TITLES)
def test_titles_keep_their_words_and_never_carry_script(case):
    body, expected = TITLES[case]
    assert parse_feed(body, URL).items[0].title == expected


def test_feed_titles_and_subtitles_follow_the_same_rules():
    body = atom(
        "",
        f'<subtitle type="html">Лента{ESCAPED_SCRIPT} новостей</subtitle>',
    ).replace(b"<title>Atom feed</title>", b'<title type="text">The &lt;b&gt; tag</title>')
    feed = parse_feed(body, URL)
    assert (feed.title, feed.description) == ("The <b> tag", "Лента новостей")
