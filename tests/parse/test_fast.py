"""fast.py: the lxml fast path returns exactly what the feedparser path returns, or None.

Every test is differential: the reference is parse_feed(parser="feedparser"), and
fast_parse() must either decline (None, and feedparser runs) or produce an equal ParsedFeed.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from aggregator import parse
from aggregator.models import ParsedFeed
from aggregator.parse.dates import numeric_order, zoneless_date
from aggregator.parse.decode import charset_of, decode
from aggregator.parse.fast import fallback_reason, fast_parse

REPO = Path(__file__).resolve().parents[2]
REALFEEDS = REPO.parent / "shared" / "realfeeds"
URL = "https://agency.example.kz/rss/news.xml"

RU = "Президент подписал закон о бюджете, Ёжик и съезд"
KK = "Қазақстан: әлем, ғылым, қала, өңір, өнер, ұлт, үміт, һәм, іс"

NS = (
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:atom="http://www.w3.org/2005/Atom"'
    ' xmlns:media="http://search.yahoo.com/mrss/"'
    ' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
    ' xmlns:yandex="http://news.yandex.ru"'
    ' xmlns:wfw="http://wellformedweb.org/CommentAPI/"'
    ' xmlns:slash="http://purl.org/rss/1.0/modules/slash/"'
)


def rss(items: str, channel: str = "", *, rss_attrs: str = ' version="2.0"') -> str:
    return (
        f"<rss{rss_attrs}{NS}><channel><title>Feed</title><link>https://agency.example.kz/</link>"
        f"{channel}{items}</channel></rss>"
    )


def atom(entries: str, feed: str = "", *, feed_attrs: str = "") -> str:
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom"{NS.replace(" xmlns:atom=", " xmlns:a=")}'
        f"{feed_attrs}><title>Atom feed</title><id>urn:feed</id>"
        f"<updated>2024-01-01T00:00:00Z</updated>{feed}{entries}</feed>"
    )


def reference(body: bytes, url: str = URL, headers: dict | None = None) -> ParsedFeed:
    return parse.parse_feed(body, url, headers, parser="feedparser")


def decoded(body: bytes, headers: dict | None) -> tuple[str, dict[str, str]]:
    """What parse_feed hands the XML paths: the decoded text and lowercased headers."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return decode(body, charset_of(lowered.get("content-type", ""))).text, lowered


def finished(got: ParsedFeed, encoding: str | None) -> ParsedFeed:
    """fast_parse's feed as parse_feed gives it: with how it decoded the bytes (fast_parse
    gets text), and its dates read as a whole (their order, whether they say an offset)."""
    got = numeric_order(got)
    return replace(got, encoding=encoding, zoneless_date=zoneless_date(got))


def check(
    body: bytes | str, *, url: str = URL, headers: dict | None = None, fast: bool = True
) -> ParsedFeed:
    """Assert the fast path equals the reference; and that it handles ``body`` if ``fast``."""
    if isinstance(body, str):
        body = body.encode()
    expected = reference(body, url, headers)
    text, lowered = decoded(body, headers)
    got = fast_parse(text, url, lowered)
    if fast:
        assert got is not None, fallback_reason(text, url, lowered)
    if got is not None:
        assert finished(got, expected.encoding) == expected
    return expected


def item(body: str, **kwargs) -> None:
    check(rss(f"<item>{body}</item>"), **kwargs)


def entry(body: str, **kwargs) -> None:
    check(atom(f"<entry>{body}</entry>"), **kwargs)


# --- real feeds and the benchmark corpus ----------------------------------------

REALFEED_FILES = sorted(
    p for p in REALFEEDS.rglob("*") if p.suffix in (".xml", ".rss", ".atom")
)  # fmt: skip
# RSS 1.0 (RDF) is feedparser's alone; every other sample is plain RSS 2.0/0.9x or Atom 1.0.
RDF_FILES = {"rdf_UTF8.xml", "craigslist.rss"}


def realfeed_ids() -> list:
    if not REALFEED_FILES:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{REALFEEDS} not found"))]
    return [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in REALFEED_FILES]


@pytest.mark.parametrize("path", realfeed_ids())
def test_real_feeds_parse_the_same_on_both_paths(path: Path) -> None:
    check(path.read_bytes(), fast=path.name not in RDF_FILES)


@pytest.mark.parametrize("path", realfeed_ids())
def test_only_rss10_real_feeds_fall_back(path: Path) -> None:
    text, headers = decoded(path.read_bytes(), None)
    reason = fallback_reason(text, URL, headers)
    if path.name in RDF_FILES:
        assert reason == "an RSS 1.0/0.90 namespace on the root"
    else:
        assert reason is None


def load_corpus():
    """benchmarks/corpus.py if it exists and offers generate(directory, feeds)."""
    path = REPO / "benchmarks" / "corpus.py"
    if not path.exists():
        pytest.skip("benchmarks/corpus.py not found")
    spec = importlib.util.spec_from_file_location("_bench_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # under construction elsewhere: not this test's failure
        pytest.skip(f"benchmarks/corpus.py does not import: {exc!r}")
    finally:
        del sys.modules[spec.name]
    if not callable(getattr(module, "generate", None)):
        pytest.skip("benchmarks/corpus.py has no generate(directory, feeds)")
    return module


def test_benchmark_corpus_feeds_take_the_fast_path_with_the_same_result(tmp_path: Path) -> None:
    corpus = load_corpus()
    feeds = getattr(corpus.generate(tmp_path, 8), "feeds", None)
    if not feeds:
        pytest.skip("benchmarks/corpus.py generate() gave no manifest.feeds")
    formats = set()
    for info in feeds:
        body = (tmp_path / info.file).read_bytes()
        content_type = getattr(info, "content_type", None)
        headers = {"Content-Type": content_type} if content_type else None
        url = f"http://{getattr(info, 'host', '127.0.0.2')}/{info.file}"
        expected = check(body, url=url, headers=headers)
        assert len(expected.items) == getattr(info, "items", len(expected.items))
        assert parse.parse_feed(body, url, headers) == expected  # wired in, on by default
        formats.add(expected.format)
    assert formats == {"rss20", "atom10"}


# --- RSS 2.0 edge cases ---------------------------------------------------------

RSS_ITEMS = {
    "cdata-html": f"<title><![CDATA[<b>{RU}</b> &amp; co]]></title><description><![CDATA[<p>Hi <a href='/x'>x</a></p>]]></description>",
    "entities": "<title>Tom &amp; Jerry &lt;3 &#8212; &#1179;</title><description>&lt;p&gt;a &amp;amp; b&lt;/p&gt;</description>",
    "html-title": "<title>&lt;b&gt;Bold&lt;/b&gt; news &amp;nbsp;here</title><link>https://a.example/1</link>",
    "relative-link": "<title>t</title><link>/news/1?a=1&amp;b=2</link>",
    "relative-link-bad-scheme": "<title>t</title><link>javascript:alert(1)</link>",
    "link-with-entity-like-query": "<title>t</title><link>https://a.example/?a=1&amp;amp;b=2&amp;copy;</link>",
    "missing-guid-and-link": "<title>Only a title</title><description>body</description>",
    "missing-everything": "<description>just a body</description>",
    "empty-item": "",
    "guid-permalink": "<title>t</title><guid>https://a.example/p/1</guid>",
    "guid-permalink-path": "<title>t</title><guid>/p/1</guid>",
    "guid-number": "<title>t</title><guid>12345</guid>",
    "guid-not-permalink": '<title>t</title><guid isPermaLink="false">https://a.example/p/1</guid>',
    "guid-permalink-True": '<title>t</title><guid isPermaLink="True">https://a.example/p/1</guid>',
    "guid-before-link": "<guid>https://a.example/g</guid><link>https://a.example/l</link>",
    "guid-after-link": "<link>https://a.example/l</link><guid>https://a.example/g</guid>",
    "guid-empty": "<title>t</title><guid></guid><link>https://a.example/l</link>",
    "guid-extra-slashes": "<title>t</title><guid>http:///a.example//p</guid>",
    "categories": "<title>t</title><category>Саясат</category><category domain='x'>Economy</category><category>Саясат</category><category></category><category domain='y'/><category>After empty</category>",
    "media-category-after-label": "<category label='L'/><media:category>X</media:category>",
    "attribute-case": "<title>t</title><guid isPermaLink='false' ISPERMALINK='true'>g</guid><enclosure URL='https://cdn.example/u.mp3' Type='Audio/X'/>",
    "crlf": "<title>a\r\nb</title><description><![CDATA[<p>x\r\ny\rz</p>]]></description>",
    "no-xml-lang-inheritance": "<title xml:lang=''>t</title>",
    "dc-subject": "<title>t</title><dc:subject>Sport</dc:subject><category>Sport</category>",
    "enclosures": "<title>t</title><enclosure url='https://cdn.example/a.mp3' length='123' type='Audio/MPEG'/><enclosure url='/b.jpg' length='12kb' type='image/jpeg'/><enclosure url='https://cdn.example/a.mp3' length='-5'/><enclosure length='5'/><enclosure url='' type='x/y'/>",
    "author-email-name": "<title>t</title><author>news@agency.kz (Айгерим Сапарова)</author>",
    "author-name-angle-email": "<title>t</title><author>Ерлан Жумабеков &lt;erlan@agency.kz&gt;</author>",
    "author-name-only": "<title>t</title><author>Дина Ахметова</author>",
    "author-email-only": "<title>t</title><author>desk@agency.kz</author>",
    "author-empty": "<title>t</title><author> </author>",
    "authors-every-spelling": "<title>t</title><author>a@b.kz (A)</author><dc:creator>Мұрат</dc:creator><itunes:author>Podcaster</itunes:author><dc:creator>b@c.kz</dc:creator>",
    "author-with-unknown-child": "<title>t</title><author>a@b.kz (Name<yandex:x a='1'> More</yandex:x>)<yandex:y>not this</yandex:y></author>",
    "author-with-children": "<title>t</title><author><name>N</name><email>n@x.kz</email></author>",
    "dates-rfc822": "<title>t</title><pubDate>Mon, 20 May 2024 09:00:00 +0500</pubDate>",
    "dates-gmt-and-dc": "<title>t</title><pubDate>Mon, 20 May 2024 09:00:00 GMT</pubDate><dc:date>2024-05-20T10:00:00+06:00</dc:date>",
    "dates-odd": "<title>t</title><pubDate>20 May 2024 9:00 ALMT</pubDate><dc:date>2024-05-20</dc:date>",
    "dates-iso-in-pubdate": "<title>t</title><pubDate> 2024-05-20T09:00:00Z </pubDate>",
    "dates-garbage": "<title>t</title><pubDate>вчера</pubDate><dc:date>soon</dc:date>",
    "dates-empty": "<title>t</title><pubDate></pubDate>",
    "dates-twice": "<title>t</title><pubDate>Mon, 20 May 2024 09:00:00 GMT</pubDate><pubDate>Tue, 21 May 2024 09:00:00 GMT</pubDate>",
    "whitespace": "<title>\n   Spaced   title \t</title><link>\n https://a.example/ws \n</link><guid>  g-1  </guid><category>  c  </category>",
    "empty-elements": "<title/><link/><description/><guid/><category/><author/><pubDate/>",
    "content-encoded": f"<title>t</title><description>short</description><content:encoded><![CDATA[<p>{KK}</p>]]></content:encoded>",
    "content-before-description": "<title>t</title><content:encoded>&lt;p&gt;full&lt;/p&gt;</content:encoded><description>short</description>",
    "content-only": "<title>t</title><content:encoded><![CDATA[<p>full</p>]]></content:encoded>",
    "content-twice": "<content:encoded></content:encoded><content:encoded>&lt;b&gt;2&lt;/b&gt;</content:encoded>",
    "content-empty": "<title>t</title><description>d</description><content:encoded>  </content:encoded>",
    "two-descriptions": "<title>t</title><description>first</description><description>&lt;b&gt;second&lt;/b&gt;</description>",
    "description-then-itunes-summary": "<title>t</title><description>d</description><itunes:summary>s &lt;i&gt;i&lt;/i&gt;</itunes:summary>",
    "description-type-plain": "<title>t</title><description type='text/plain'>1 &lt; 2 &amp;amp; 3</description>",
    "two-titles": "<title></title><title>Second</title><title>Third</title>",
    "dc-title": "<dc:title>DC title</dc:title>",
    "media-title-after-title": "<title>Title</title><media:title>Media</media:title>",
    "media-title-first": "<media:title>Media</media:title><title>Title</title>",
    "media-only": "<media:title>Media</media:title><media:description>md</media:description><media:category>mc</media:category><media:thumbnail url='https://i.example/t.jpg'/>",
    "media-content": "<title>t</title><media:content url='https://v.example/v.mp4' type='video/mp4'><media:credit>c</media:credit><media:thumbnail url='/t.jpg'/></media:content>",
    "atom-links-in-rss": "<title>t</title><atom:link href='https://a.example/alt' rel='alternate'/><atom:link rel='enclosure' href='https://a.example/e.mp3' length='10' type='audio/mpeg'/><atom:link rel='related' href='https://a.example/r'/>",
    "link-then-atom-link": "<link>https://a.example/rss-link</link><atom:link href='https://a.example/atom-link' type='text/html'/>",
    "link-href-attribute": "<link href='https://a.example/href'>https://a.example/text</link>",
    "harmless-extensions": "<title>t</title><comments>https://a.example/c</comments><wfw:commentRss>/c.rss</wfw:commentRss><slash:comments>4</slash:comments><yandex:full-text>Толық мәтін</yandex:full-text><yandex:genre>message</yandex:genre><itunes:duration>01:02</itunes:duration><itunes:image href='https://i.example/i.jpg'/>",
    "source-element": "<title>t</title><source url='https://other.example/rss'>Other</source><title>After source</title>",
    "xml-lang": "<title xml:lang='kk_KZ'>Тақырып</title><description xml:lang=''>d</description>",
    "lang-attribute": "<title lang='en'>English</title>",
    "comment-inside-text": "<title>before<!-- hidden -->after</title><description>a<?pi x?>b</description>",
    "latin1-looking-utf8": "<title>CafÃ© au lait</title><description>naÃ¯ve</description>",
    "character-references": "<title>a&#13;b&#10;c&#x85; &#128512;</title><description>&#xD;</description>",
    "unicode-spaces": "<title>\u00a0 t \u200b\u00a0</title><category>\u2003c\u3000</category>",
    "attribute-whitespace": "<title>t</title><enclosure url='https://a.example/x\n y\tz' type='a/b'/>",
    "c1-controls": "<title>Quote\u0093d\u0094 \u0096 dash \u0085</title>",
    "keywords": "<title>t</title><keywords>alpha</keywords><itunes:keywords>one, two ,,three</itunes:keywords>",
    "itunes-category-in-item": "<title>t</title><itunes:category text='News'/>",
    "kazakh-everything": f"<title>{KK}</title><description>{RU}</description><category>{KK}</category><author>{KK}</author>",
    "generic-date-element": "<title>t</title><date>2024-05-20</date>",
}


@pytest.mark.parametrize(("name", "body"), RSS_ITEMS.items(), ids=RSS_ITEMS.keys())
def test_rss_items_parse_the_same_on_both_paths(name: str, body: str) -> None:
    # <date> is filed under "updated" by FeedParserDict itself: left to feedparser.
    item(body, fast=name != "generic-date-element")


RSS_CHANNELS = {
    "language": "<language>kk</language>",
    "language-empty": "<language></language>",
    "ttl": "<ttl> 30 </ttl>",
    "ttl-garbage": "<ttl>soon</ttl>",
    "ttl-attribute": "<ttl unit='min'>30</ttl>",
    "dates": "<lastBuildDate>Mon, 20 May 2024 09:00:00 +0500</lastBuildDate><pubDate>Sun, 19 May 2024 09:00:00 GMT</pubDate>",
    "pubdate-only": "<pubDate>Sun, 19 May 2024 09:00:00 GMT</pubDate>",
    "description": f"<description>{RU} &lt;b&gt;!&lt;/b&gt;</description>",
    "image-and-textinput": "<image><url>https://i.example/logo.png</url><title>Logo</title><link>https://agency.example.kz/</link><width>88</width></image><textInput><title>Search</title><description>d</description><name>q</name><link>https://agency.example.kz/s</link></textInput><title>Second channel title</title>",
    "atom-self-link": "<atom:link rel='self' href='https://agency.example.kz/rss' type='application/rss+xml'/>",
    "itunes-podcast": "<itunes:owner><itunes:name>Owner</itunes:name><itunes:email>o@x.kz</itunes:email></itunes:owner><itunes:category text='News'><itunes:category text='Politics'/></itunes:category><itunes:summary>About</itunes:summary><itunes:subtitle>Sub</itunes:subtitle><itunes:explicit>no</itunes:explicit>",
    "managing-editor": "<managingEditor>ed@agency.kz (Editor)</managingEditor><webMaster>web@agency.kz</webMaster><copyright>©</copyright><generator>CMS</generator><docs>/rss-spec</docs><cloud domain='x' port='80'/><skipHours><hour>1</hour></skipHours>",
    "comments-and-pis": "<!-- generated --><?cms page='1'?>",
}


@pytest.mark.parametrize("channel", RSS_CHANNELS.values(), ids=RSS_CHANNELS.keys())
def test_rss_channels_parse_the_same_on_both_paths(channel: str) -> None:
    check(rss("<item><title>a</title></item>", channel))
    check(rss("<item><title>a</title></item>", channel), headers={"Content-Language": "ru_RU"})


@pytest.mark.parametrize(
    "rss_attrs", [' version="2.0"', ' version="2.01"', "", ' version="0.92"', ' version="3.0"']
)
def test_rss_versions_without_doctype_parse_the_same(rss_attrs: str) -> None:
    feed = check(rss("<item><title>a</title></item>", rss_attrs=rss_attrs))
    assert feed.format in ("rss20", "rss092")


def test_xml_lang_on_the_root_and_content_language_reach_items_as_feedparser_has_them() -> None:
    body = rss(
        "<item><title>a</title></item><item xml:lang='ru'><title>b</title></item>",
        "<language>kk</language>",
        rss_attrs=' version="2.0" xml:lang="en_GB"',
    )
    check(body)
    check(body, headers={"Content-Language": "kk"})
    check(
        rss("<item><title>a</title></item>", "<language>ru</language>"),
        headers={"Content-Language": "kk"},
    )


def test_windows_1251_russian_with_kazakh_character_references_parses_the_same() -> None:
    kazakh_refs = "".join(f"&#{ord(c)};" for c in "әғқңөұүһ")
    text = rss(
        f"<item><title>{RU} і {kazakh_refs}</title><description>{RU}</description>"
        f"<category>Новости</category><author>Редакция</author></item>"
    )
    body = ('<?xml version="1.0" encoding="windows-1251"?>\n' + text).encode("cp1251")
    check(body)
    check(body, headers={"Content-Type": "application/rss+xml; charset=windows-1251"})
    check(body, headers={"Content-Type": "text/xml; charset=ISO-8859-1"})  # a wrong header


def test_declared_encoding_that_lies_parses_the_same() -> None:
    body = (
        '<?xml version="1.0" encoding="windows-1251"?>' + rss(f"<item><title>{KK}</title></item>")
    ).encode()
    check(body)


# --- Atom 1.0 edge cases --------------------------------------------------------

ATOM_ENTRIES = {
    "text-and-html": "<title type='html'>&lt;b&gt;Bold&lt;/b&gt; &amp;amp;</title><summary type='text'>1 &lt; 2</summary><content type='html'>&lt;p&gt;Hi&lt;/p&gt;</content>",
    "text-content": "<title>t</title><content>plain &lt;b&gt;not bold&lt;/b&gt;</content>",
    "mime-type-content": "<title>t</title><content type='text/html'>&lt;i&gt;x&lt;/i&gt;</content><content type='text/plain'>y</content>",
    "content-src": "<title>t</title><content src='https://a.example/full' type='text/html'/>",
    "content-then-summary": "<content type='html'>&lt;p&gt;c&lt;/p&gt;</content><summary>s</summary>",
    "two-summaries": "<summary>s1</summary><summary type='html'>&lt;b&gt;s2&lt;/b&gt;</summary>",
    "links": "<link href='/rel/1'/><link rel='alternate' type='application/pdf' href='https://a.example/p.pdf'/><link rel='enclosure' href='https://a.example/a.mp3' length='1 000' type='audio/mpeg'/><link rel='enclosure' href='https://a.example/b.mp3'/><link rel='self' href='https://a.example/self'/><link rel='Alternate' href='https://a.example/upper'/>",
    "link-extra-slashes": "<link href='https:///a.example//p'/><link rel='enclosure' href='https:///a.example/e.mp3'/>",
    "text-link": "<link>https://a.example/text-link</link><title>t</title>",
    "id-as-link": "<id>https://a.example/post/1</id><title>t</title>",
    "id-not-url": "<id>tag:a.example,2024:1</id><link rel='enclosure' href='https://a.example/e.mp3'/>",
    "no-id": "<title>t</title><link href='https://a.example/x'/>",
    "nothing": "",
    "dates": "<published>2024-05-20T09:00:00+05:00</published><updated>2024-05-20T10:00:00.123Z</updated>",
    "odd-dates": "<published>2024-05-20</published><updated>20 May 2024 10:00:00 GMT</updated>",
    "authors": "<author><name>Айгерим</name><email>a@x.kz</email><uri>/people/a</uri></author><author><name>Slashes</name><uri> http:///x.kz//u </uri></author><author><name>Ерлан</name></author><author><email>only@x.kz</email></author><author><uri>https://x.kz/u</uri></author>",
    "author-with-text": "<author>Plain text author</author>",
    "author-with-extension": "<author><name>N</name><yandex:avatar url='x'/></author>",
    "contributor": "<contributor><name>C</name></contributor><title>t</title>",
    "category-text-after-label": "<category label='Label'/><category>Text</category>",
    "categories": "<category term='politics' label='Саясат'/><category label='Only label'/><category term='' scheme='s'/><category term='politics' label='Саясат'/>",
    "xml-lang": "<title xml:lang='kk'>Тақырып</title><summary xml:lang='ru_RU'>Текст</summary>",
    "rights-and-extensions": "<rights>©</rights><media:thumbnail url='https://i.example/t.jpg'/><itunes:duration>1:00</itunes:duration>",
    "source-text": "<title>t</title><source>x</source>",
}


ATOM_FEED_PARTS = {
    "author": "<author><name>Desk</name><email>desk@x.kz</email></author>",
    "two-authors": "<author><name>A</name><email>a@x.kz</email></author><author><name>B</name></author>",
    "subtitle": "<subtitle type='html'>&lt;i&gt;sub&lt;/i&gt;</subtitle>",
    "links": "<link rel='self' href='/atom.xml'/><link rel='alternate' type='text/html' href='https://agency.example.kz/'/>",
    "relative-link": "<link href='/home'/>",
    "id-url": "<id>https://agency.example.kz/</id>",
    "second-title": "<title type='html'>&lt;b&gt;Second&lt;/b&gt;</title>",
    "published": "<published>2023-12-31T23:00:00-01:00</published>",
    "extensions": "<generator uri='https://cms.example/'>CMS</generator><icon>/i.png</icon><logo>/l.png</logo><rights>©</rights><category term='news'/>",
}


@pytest.mark.parametrize("body", ATOM_ENTRIES.values(), ids=ATOM_ENTRIES.keys())
def test_atom_entries_parse_the_same_on_both_paths(body: str) -> None:
    entry(body)


def test_atom_feed_author_language_and_link_parse_the_same() -> None:
    feed = (
        "<author><name>Desk</name><email>desk@x.kz</email></author><subtitle type='html'>&lt;i&gt;sub&lt;/i&gt;</subtitle>"
        "<link rel='alternate' type='text/html' href='https://agency.example.kz/'/><link rel='self' href='/atom.xml'/>"
    )
    check(
        atom(
            "<entry><title>a</title></entry><entry><title>b</title><author><name>Own</name></author></entry>",
            feed,
            feed_attrs=' xml:lang="kk"',
        )
    )
    check(
        atom("<entry><title>a</title></entry>", "<id>https://agency.example.kz/</id>"),
        headers={"Content-Language": "ru"},
    )


# --- what the fast path leaves to feedparser ------------------------------------

FALLBACKS = {
    "xml-base": atom(
        "<entry><title>t</title><link href='x'/></entry>",
        feed_attrs=' xml:base="https://b.example/"',
    ),
    "xhtml-content": atom(
        "<entry><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>x</p></div></content></entry>"
    ),
    "markup-in-description": rss("<item><description>a <b xmlns=''>b</b></description></item>"),
    "doctype": '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>'
    + rss("<item><title>a&nbsp;b</title></item>"),
    "not-well-formed": rss("<item><title>a &nbsp; b</title></item>"),
    "rss10": '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>x</title></channel><item rdf:about="https://a.example/1"><title>a</title><link>https://a.example/1</link></item></rdf:RDF>',
    "atom03": '<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>x</title><entry><title>a</title><id>urn:1</id></entry></feed>',
    "base64-content": atom("<entry><content type='image/png'>aGVsbG8=</content></entry>"),
    "nested-media-title": rss(
        "<item><title>t</title><media:group><media:title>m</media:title></media:group></item>"
    ),
    "base-attribute": rss("<item><title base='https://b.example/'>t</title></item>"),
    "atom-source": atom("<entry><title>t</title><source><title>s</title></source></entry>"),
    "namespaced-attribute": rss(
        "<item><title>t</title><guid xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'"
        " rdf:resource='x'>g</guid></item>"
    ),
    "unknown-default-namespace": rss("<item><title>t</title><x xmlns='urn:x'>y</x></item>"),
}


@pytest.mark.parametrize("body", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_documents_outside_the_simple_shapes_fall_back_to_feedparser(body: str) -> None:
    text, headers = decoded(body.encode(), None)
    assert fast_parse(text, URL, headers) is None
    assert fallback_reason(text, URL, headers)
    assert parse.parse_feed(body.encode(), URL) == reference(body.encode())


def test_authors_repeated_across_items_and_feeds_parse_the_same() -> None:
    # The fast path files an author element of a shape it has seen once as it did
    # then: every repetition must still come out as feedparser has it.
    rss_authors = [v for k, v in RSS_ITEMS.items() if "author" in k]
    atom_authors = [v for k, v in ATOM_ENTRIES.items() if "author" in k]
    for _ in range(2):
        check(
            rss(
                "".join(
                    f"<item>{a}</item><item>{b}{a}</item>" for a in rss_authors for b in rss_authors
                )
            )
        )
        check(atom("".join(f"<entry><title>t</title>{a}</entry>" for a in atom_authors * 3)))


# --- random combinations ----------------------------------------------------------


def random_feed(rng: random.Random) -> str:
    """An RSS or Atom document assembled from the edge-case fragments above."""
    if rng.random() < 0.5:
        items = "".join(
            rng.choice(["<item>", '<item xml:lang="ru">'])
            + "".join(rng.sample(list(RSS_ITEMS.values()), rng.randint(1, 4)))
            + "</item>"
            for _ in range(rng.randint(1, 5))
        )
        channel = "".join(rng.sample(list(RSS_CHANNELS.values()), rng.randint(0, 3)))
        return rss(items, channel) if rng.random() < 0.7 else rss(items + channel)
    entries = "".join(
        rng.choice(["<entry>", '<entry xml:lang="kk">'])
        + "".join(rng.sample(list(ATOM_ENTRIES.values()), rng.randint(1, 4)))
        + "</entry>"
        for _ in range(rng.randint(1, 5))
    )
    feed = "".join(rng.sample(list(ATOM_FEED_PARTS.values()), rng.randint(0, 3)))
    return atom(entries, feed) if rng.random() < 0.7 else atom(entries + feed)


def test_random_combinations_of_the_edge_cases_parse_the_same() -> None:
    rng = random.Random(20240520)
    handled = 0
    for n in range(250):
        body = random_feed(rng).encode()
        headers = rng.choice([None, {"Content-Language": "kk"}, {"Content-Language": "en_US"}])
        expected = reference(body, URL, headers)
        text, lowered = decoded(body, headers)
        got = fast_parse(text, URL, lowered)
        if got is not None:
            handled += 1
            assert finished(got, "utf-8") == expected, f"document {n}: {body.decode()}"
    assert handled > 150  # the combinations mostly stay on the fast path


def test_namespace_prefixes_are_mapped_document_wide_as_feedparser_does() -> None:
    odd_prefixes = (
        '<rss version="2.0" xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:thr="urn:threads"'
        ' xmlns:Y="urn:yandex"><channel><title>x</title><item><title>t</title><d:creator>A</d:creator>'
        "<d:date>2024-05-20</d:date><thr:total>3</thr:total><Y:full-text>F</Y:full-text></item>"
        "</channel></rss>"
    )
    check(odd_prefixes)


@pytest.mark.parametrize(
    "prolog",
    [
        '<?xml version="1.1" encoding="utf-8"?>',
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        "\n  ",
        "<!-- generated -->\n",
    ],
)
def test_xml_declarations_are_rewritten_as_feedparser_does(prolog: str) -> None:
    check(prolog + rss("<item><title>t</title></item>"))


# fast.py reads the two usual spellings of a date itself; feedparser reads the rest.
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DATES = [
    "2024-05-20T12:39:00+05:00",
    "2024-05-20T12:39:00Z",
    "2024-05-20T12:39:00.999999-03:30",
    "2024-05-20t12:39:00z",
    "2024-02-30T12:00:00Z",
    "2024-13-01T12:00:00Z",
    "2024-05-20T24:00:00Z",
    "2024-05-20T12:60:00Z",
    "2024-05-20T12:00:60Z",
    "2024-05-20T12:00:00+99:99",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2024-05-20T12:39:00+0500",
    "2024-05-20 12:39:00",
    "2024-05-20",
    "Mon, 20 May 2024 12:39:00 +0500",
    "Mon, 20 May 2024 12:39:00 -0330",
    "Mon, 20 May 2024 07:39:00 GMT",
    "mon, 20 may 2024 07:39:00 gmt",
    "MON, 20 MAY 2024 07:39:00 GMT",
    "Mon, 5 May 2024 07:39:00 +0000",
    "Mon, 31 Feb 2024 07:39:00 +0000",
    "Mon, 20 May 2024 24:39:00 +0000",
    "Mon, 20 May 2024 07:39:60 +0000",
    "Mon, 20 May 2024 07:39:00 +9999",
    "Mon, 01 Jan 0001 00:00:00 +0100",
    "Fri, 31 Dec 9999 23:59:59 -0100",
    "Mon, 20 May 24 07:39:00 GMT",
    "Mon,  20 May 2024 07:39:00 GMT",
    "Mon 20 May 2024 07:39:00 GMT",
    "Xyz, 20 May 2024 07:39:00 GMT",
    "Mon, 20 May 2024 07:39:00 EST",
    "Mon, 20 May 2024 07:39 GMT",
    "20 May 2024 07:39:00 GMT",
    *(f"{d}, {n:02} {m} 2024 0{n % 10}:{n:02}:0{n % 7} +0{n % 9}{n % 6}0" for n, (d, m)
      in enumerate((d, m) for d in DAYS for m in MONTHS)),
]  # fmt: skip


def test_dates_parse_the_same_on_both_paths() -> None:
    items = "".join(
        f"<item><title>t{n}</title><guid>g{n}</guid><pubDate>{d}</pubDate>"
        f"<dc:date>{d}</dc:date></item>"
        for n, d in enumerate(DATES)
    )
    check(rss(items))
    entries = "".join(
        f"<entry><id>e{n}</id><title>t</title><published>{d}</published>"
        f"<updated>{d}</updated></entry>"
        for n, d in enumerate(DATES)
    )
    check(atom(entries))
