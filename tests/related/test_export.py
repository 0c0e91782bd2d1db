"""related.export: URL keys and shards (related.js computes the same)."""

from __future__ import annotations

import pytest

from aggregator.related import (
    url_key,
    url_shard,
)

# --- URL keys (the widget computes the same) ----------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
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
    ],
)
def test_url_keys_ignore_spelling_differences(a: str, b: str):
    assert url_key(a) == url_key(b)


def test_url_keys_keep_what_names_another_article():
    assert url_key("https://tengri.kz/news?id=1") != url_key("https://tengri.kz/news?id=2")
    assert url_key("https://tengri.kz:8443/news") != url_key("https://tengri.kz/news")
    assert url_key("ftp://tengri.kz/news") is None
    assert url_shard("tengri.kz/news/1") == url_shard("tengri.kz/news/1")
    assert len(url_shard("tengri.kz/news/1")) == 2
