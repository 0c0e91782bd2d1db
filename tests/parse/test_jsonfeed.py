"""jsonfeed.py: JSON Feed 1.0 and 1.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aggregator.models import Author, Enclosure
from aggregator.parse import parse_feed

# Every test runs on both parse paths (conftest.py), "auto" (lxml where it can) and "feedparser".
pytestmark = pytest.mark.usefixtures("both_parse_paths")

URL = "https://agency.example.kz/rss/news.xml"

KK = "Қазақстан: әлем, ғылым, қала, өңір, өнер, ұлт, үміт, һәм, іс"


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


def test_json_feed_html_resolves_against_the_item_url_and_a_file_against_home_page_url():
    items = [
        {
            "id": "1",
            "url": "https://www.steppe.example/news/2024/1",
            "content_html": '<a href="/news/2">more</a> <img src="p.jpg">',
        },
        {"id": "2", "url": "/news/3", "content_html": '<a href="foto">photo</a>'},
    ]
    body = json_feed("1.1", home_page_url="https://www.steppe.example/", items=items)
    served = parse_feed(body, "https://feeds.steppe.example/feed.json").items
    assert served[0].content == (
        '<a href="https://www.steppe.example/news/2">more</a>'
        ' <img src="https://www.steppe.example/news/2024/p.jpg">'
    )
    read_from_file = parse_feed(body, "file:///srv/feeds/steppe.json").items
    assert read_from_file[0].content == served[0].content
    assert read_from_file[1].link == "https://www.steppe.example/news/3"
    assert read_from_file[1].content == '<a href="https://www.steppe.example/news/foto">photo</a>'
