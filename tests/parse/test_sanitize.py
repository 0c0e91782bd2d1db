"""sanitize.py: item HTML is safe to republish under our domain, and URLs are absolute."""

from __future__ import annotations

import re

import pytest

from aggregator.parse.sanitize import absolute_http_url, sanitize_html
from aggregator.text.html import plain_text

BASE = "https://news.example.kz/section/article.html"

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="evil.swf"><param name="x"></object>',
    '<embed src="evil.swf">',
    '<form action="https://evil.example/"><input name="password"><button>Go</button></form>',
    '<img src="x.png" onerror="alert(1)">',
    '<p onclick="alert(1)" onmouseover="alert(2)">text</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;vascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="   javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="VBScript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+">',
    '<img src=" DATA:image/png;base64,AAAA">',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<span style="position:fixed;top:0">x</span>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<a href="https://ok.example/" target="_blank" rel="opener">x</a>',
    "<!--<script>alert(1)</script>-->",
    "<scr<script>ipt>alert(1)</script>",
    '<img src="x" srcset="javascript:alert(1) 1x">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<blockquote cite="javascript:alert(1)">q</blockquote>',
    "<textarea><script>alert(1)</script></textarea>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
]

DANGEROUS = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|button|svg|math|meta|base|link|textarea)\b"
    r"|\son\w+\s*=|\sstyle\s*=|\starget\s*=|\ssrcset\s*=|\sbackground\s*="
    r"|javascript:|vbscript:|data:",
    re.IGNORECASE,
)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_nothing_dangerous_survives(hostile):
    cleaned = sanitize_html(hostile, BASE)
    assert not DANGEROUS.search(cleaned), cleaned


def test_script_and_style_are_removed_with_their_content():
    cleaned = sanitize_html("<p>a</p><script>alert('x')</script><style>p{}</style><p>b</p>", BASE)
    assert cleaned == "<p>a</p><p>b</p>"


def test_form_controls_are_removed_but_surrounding_text_kept():
    cleaned = sanitize_html("<form><p>Subscribe</p><input name=e><button>Go</button></form>", BASE)
    assert cleaned == "<p>Subscribe</p>"


@pytest.mark.parametrize(
    "markup",
    [
        "<p>para<br>line</p>",
        "<ul><li>one</li></ul><ol><li>two</li></ol>",
        "<b>b</b><i>i</i><em>em</em><strong>strong</strong>",
        "<blockquote>quoted</blockquote>",
        "<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6>",
        "<pre><code>x = 1</code></pre>",
        "<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>",
        '<figure><img src="https://cdn.example/a.jpg" alt="a"><figcaption>cap</figcaption></figure>',
        '<a href="https://example.org/x">link</a>',
    ],
)
def test_ordinary_formatting_is_kept(markup):
    assert sanitize_html(markup, BASE) == markup


def test_links_get_no_rel_and_no_target():
    # No target, so no window.opener to protect; sources see our referrer traffic.
    assert sanitize_html('<a href="https://a.example/" target="_blank">x</a>', BASE) == (
        '<a href="https://a.example/">x</a>'
    )


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<a href="/news/1">x</a>', '<a href="https://news.example.kz/news/1">x</a>'),
        ('<a href="other.html">x</a>', '<a href="https://news.example.kz/section/other.html">x</a>'),
        ('<img src="../img/a.png">', '<img src="https://news.example.kz/img/a.png">'),
        ('<img src="//cdn.example/a.png">', '<img src="https://cdn.example/a.png">'),
        ('<a href="?page=2">x</a>', '<a href="https://news.example.kz/section/article.html?page=2">x</a>'),
        ('<a href="mailto:desk@example.kz">mail</a>', '<a href="mailto:desk@example.kz">mail</a>'),
    ],
)  # fmt: skip
def test_relative_urls_are_made_absolute_against_the_base(markup, expected):
    assert sanitize_html(markup, BASE) == expected


def test_relative_urls_are_dropped_without_an_http_base():
    # They would otherwise resolve against our own site.
    assert sanitize_html('<a href="/x">x</a><a href="https://a.example/">y</a>', None) == (
        '<a>x</a><a href="https://a.example/">y</a>'
    )
    assert sanitize_html('<a href="/x">x</a>', "file:///srv/feed.xml") == "<a>x</a>"


def test_images_whose_source_was_dropped_are_removed():
    assert sanitize_html('<p><img src="javascript:x" alt="a">t</p>', BASE) == "<p>t</p>"


def test_noscript_fallback_images_are_unwrapped():
    cleaned = sanitize_html('<img data-src="a.jpg"><noscript><img src="a.jpg"></noscript>', BASE)
    assert cleaned == '<img src="https://news.example.kz/section/a.jpg">'


def test_cyrillic_and_kazakh_text_pass_through_unchanged():
    text = "<p>Қазақстан: әлем, ғылым, өнер, ұлт, үміт, һәм, іс — Президент</p>"
    assert sanitize_html(text, BASE) == text


def test_empty_fragment_stays_empty():
    assert sanitize_html("", BASE) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Plain title", "Plain title"),
        ("  spaced \n\t title  ", "spaced title"),
        ("A <b>bold</b> move", "A bold move"),
        ("Tom &amp; Jerry &#8212; &laquo;Ёжик&raquo;", "Tom & Jerry — «Ёжик»"),
        ("<![CDATA[Wrapped]]>", "Wrapped"),
        ("x < y and y > z", "x < y and y > z"),
        ("", ""),
        (None, ""),
    ],
)
def test_html_to_text_gives_plain_text(value, expected):
    assert plain_text(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("/x", "https://news.example.kz/x"),
        ("y.html", "https://news.example.kz/section/y.html"),
        ("  https://a.example/x \n", "https://a.example/x"),
        ("HTTP://A.example/x", "http://A.example/x"),
        ("javascript:alert(1)", None),
        (" JaVaScRiPt:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,x", None),
        ("mailto:a@example.org", None),
        ("ftp://files.example/x", None),
        ("http://[broken", None),
        ("", None),
        (None, None),
    ],
)
def test_absolute_http_url_keeps_only_http_urls(url, expected):
    assert absolute_http_url(url, BASE) == expected


def test_absolute_http_url_without_base_needs_an_absolute_url():
    assert absolute_http_url("/x") is None
    assert absolute_http_url("https://a.example/") == "https://a.example/"


# Bases of every kind an item can have: paths, queries, ports, user info, upper case,
# IDN and IP hosts, and bases ammonia cannot parse.
BASES = [
    BASE,
    "http://news.example.kz/",
    "https://news.example.kz",
    "https://news.example.kz:8443/a/b?c=d#e",
    "http://user:pw@news.example.kz/a/",
    "httpS://NEWS.Example.KZ/A/b",
    "https://информ.кз/ru/новость",
    "http://127.0.0.1:8080/feed.xml",
    "http://[::1]/x",
    "https://news.example.kz\\a\\b",
    "http://[bad/x",
    "http://exa mple.kz/x",
    "http://news.example.kz:99999/x",
    "http://1.2.3.999/x",
    "http:news.example.kz/x",
    "httpx://news.example.kz/x",
]
FRAGMENTS = [
    '<p><img src="https://cdn.example/a.jpg"> <a href="https://a.example/x">x</a></p>',
    '<a href="HTTPS://A.Example/x">x</a><img src="http://cdn.example">',
    '<a href="//cdn.example/x">x</a><img src="\\\\cdn.example\\y">',
    '<a href="/x">x</a>',
    '<a href="x?y#z">x</a>',
    '<a href="">empty</a><a href="#top">top</a><a href="?q=1">q</a>',
    '<a href="http:relative">x</a><a href="https:other">y</a>',
    '<a href="mailto:desk@example.kz">m</a><a href="javascript:x">j</a>',
    '<a href="https://relative-url.aggregator.invalid/x">the stand-in, written out</a>',
    '<a href="//[bad">x</a><a href="//exa mple/">y</a><a href="//host:99999/">z</a>',
    "<p>no links at all</p>",
]


@pytest.mark.parametrize("base", BASES)
def test_cleaning_gives_what_a_cleaner_built_for_the_base_gives(base):
    # Cleaning with a stand-in base (one Cleaner for all items) must never show.
    from aggregator.parse import sanitize

    for fragment in FRAGMENTS:
        assert sanitize._clean(fragment, base) == sanitize._clean_exactly(fragment, base)


URLS = [
    "https://news.example.kz/ru/news/1",
    "http://news.example.kz",
    "http://news.example.kz:8080/a b/новость",
    "https://news.example.kz/a;b",
    "https://news.example.kz/a;",
    "https://news.example.kz/?",
    "https://news.example.kz/a?b=1#c",
    "https://news.example.kz/#",
    "http:///path",
    "http://:80/x",
    "http://./x",
    "https://user@news.example.kz/",
    "https://[::1]/x",
    "https://[bad/x",
    "https://информ.кз/x",
    "HTTP://NEWS.example.kz/x",
    "//cdn.example/x",
    "/ru/news/1",
    "news/1",
    "javascript:alert(1)",
    "mailto:desk@example.kz",
]


@pytest.mark.parametrize("base", [None, "", BASE, "http://[bad/", "ftp://files.example/", "news/"])
def test_absolute_urls_come_out_as_the_long_way_makes_them(base):
    # absolute_http_url takes a shortcut for plain absolute URLs; it must never show.
    from aggregator.parse import sanitize

    for url in URLS:
        assert absolute_http_url(url, base) == sanitize._resolve(url, base), url
