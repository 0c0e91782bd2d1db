"""Feed documents for the parse tests: an RSS 2.0 channel or an Atom feed around the
given items, and the one item a document holds."""

from __future__ import annotations

from aggregator.parse import parse_feed

URL = "https://agency.example.kz/rss/news.xml"


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
