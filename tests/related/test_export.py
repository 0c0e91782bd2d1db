"""related.export: URL keys and shards (related.js computes the same)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from aggregator.related import (
    url_key,
    url_shard,
)
from aggregator.related.widget import WIDGET_JS
from aggregator.text.urls import canonical_url

# --- URL keys (the widget computes the same) ----------------------------------------------


SPELLINGS = [
    ("https://www.tengri.kz/news/1/", "http://tengri.kz/news/1"),
    ("https://TENGRI.kz/news/1#top", "https://tengri.kz/news/1"),
    (
        "https://tengri.kz/ru/новость",
        "https://tengri.kz/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D1%8C",
    ),
    ("https://информ.кз/a", "https://xn--h1aicekw.xn--g1af/a"),
    # A feed's link says how its readers came; the article's canonical link does not.
    ("https://tengri.kz/news/1?utm_source=rss&utm_medium=feed", "https://tengri.kz/news/1"),
    ("https://tengri.kz/news?id=1&from=rss", "https://tengri.kz/news?id=1"),
    ("https://tengri.kz/news?UTM_Campaign=x&id=1", "https://tengri.kz/news?id=1"),
]


@pytest.mark.parametrize("a, b", SPELLINGS)
def test_url_keys_ignore_spelling_differences(a: str, b: str):
    assert url_key(a) == url_key(b)


def test_url_keys_keep_what_names_another_article():
    assert url_key("https://tengri.kz/news?id=1") != url_key("https://tengri.kz/news?id=2")
    assert url_key("https://tengri.kz:8443/news") != url_key("https://tengri.kz/news")
    assert url_key("ftp://tengri.kz/news") is None
    assert url_shard("tengri.kz/news/1") == url_shard("tengri.kz/news/1")
    assert len(url_shard("tengri.kz/news/1")) == 2


# --- the widget's keys: the same as Python's, and as an item's link identity -----------

SESSION_CASES = [
    # The visitor's session, wherever a CMS writes it: one article (text/urls).
    (
        "https://kapital.kz/news/1?PHPSESSID=9c1185a5c5e9fc54612808977ee8f548",
        "https://kapital.kz/news/1",
    ),
    ("https://kapital.kz/news/1;jsessionid=0A1B2C3D4E.node1", "https://kapital.kz/news/1"),
    ("https://kapital.kz/news/1;JSESSIONID=0A1B2C3D?id=7", "https://kapital.kz/news/1?id=7"),
    ("https://kapital.kz/news?id=7&jsessionid=0A1B2C", "https://kapital.kz/news?id=7"),
    (
        "https://kapital.kz/news?ASPSESSIONIDQQGGQGPS=ABCDEFGHIJ&id=7",
        "https://kapital.kz/news?id=7",
    ),
    ("https://kapital.kz/news?CFID=1234&CFTOKEN=5678&id=7", "https://kapital.kz/news?id=7"),
    (
        "https://kapital.kz/news?id=7&sid=0123456789abcdef0123456789abcdef",
        "https://kapital.kz/news?id=7",
    ),
    ("https://kapital.kz/news?utm_source=rss&PHPSESSID=x1&id=7", "https://kapital.kz/news?id=7"),
]
KEPT_CASES = [
    # PHP-Nuke's ?sid=1234 is the article's own number, not a session.
    (
        "https://kapital.kz/modules.php?name=News&sid=1234",
        "https://kapital.kz/modules.php?name=News",
    ),
    ("https://kapital.kz/news?id=7", "https://kapital.kz/news?id=8"),
]


def js_url_keys(urls: list[str]) -> list[str | None]:
    """related.js's urlKey of each URL, run by node on the very script we publish."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("no node: install Debian's 'nodejs' package to run related.js's urlKey")
    constants = WIDGET_JS[WIDGET_JS.index("var TRACKING = ") : WIDGET_JS.index("var ALSO = ")]
    start = WIDGET_JS.index("function urlKey(text) {")
    function = WIDGET_JS[start : WIDGET_JS.index("\n  }\n", start) + 4]
    program = (
        'var location = {href: "https://partner.example/article"};\n'
        f"{constants}\n{function}\n"
        f"console.log(JSON.stringify({json.dumps(urls)}.map(urlKey)));"
    )
    done = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_widget_keys_an_article_as_its_items_identity_does_in_python_and_js():
    pairs = SPELLINGS + SESSION_CASES + KEPT_CASES
    urls = [url for pair in pairs for url in pair]
    js = dict(zip(urls, js_url_keys(urls), strict=True))
    assert all(js[url] == url_key(url) for url in urls), {
        url: (js[url], url_key(url)) for url in urls if js[url] != url_key(url)
    }
    for a, b in SESSION_CASES:  # one article to the item's identity: one to the widget
        assert canonical_url(a) == canonical_url(b)
        assert url_key(a) == url_key(b), (a, b)
    for a, b in KEPT_CASES:
        assert canonical_url(a) != canonical_url(b)
        assert url_key(a) != url_key(b), (a, b)
