"""Dates in RFC 822 shape that feedparser alone cannot read: localized month names and
times without a colon.  An unreadable date makes an old item look like today's news."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.parse import parse_feed
from aggregator.parse.dates import localized_rfc822

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realfeeds" / "rss-parser"


def utc(value: str) -> datetime | None:
    parsed = localized_rfc822(value)
    return parsed and datetime(*parsed[:6], tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Пн, 24 сен 2018 19:42:40 +0300", datetime(2018, 9, 24, 16, 42, 40, tzinfo=UTC)),
        ("Вт, 5 мар. 2024 12:00:00 +0500", datetime(2024, 3, 5, 7, 0, tzinfo=UTC)),
        ("5 марта 2024 12:00 +0500", datetime(2024, 3, 5, 7, 0, tzinfo=UTC)),
        ("24 қыркүйек 2018 10:00 +0500", datetime(2018, 9, 24, 5, 0, tzinfo=UTC)),
        ("Di, 12 Mär 2024 08:15:00 +0100", datetime(2024, 3, 12, 7, 15, tzinfo=UTC)),
        ("03 Apr 02 1500 GMT", datetime(2002, 4, 3, 15, 0, tzinfo=UTC)),
    ],
)
def test_localized_months_and_colon_less_times_are_read(value, expected) -> None:
    assert utc(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 24 Sep 2018 19:42:40 -0300",  # ordinary: left to feedparser's own handler
        "2018-09-24T19:42:40Z",
        "31 фев 2018 10:00",  # no such day
        "24 брюмера 2018 10:00",  # no such month
        "вчера в 10:00",
        "",
    ],
)
def test_other_values_are_left_alone(value) -> None:
    assert localized_rfc822(value) is None


def test_an_item_with_a_localized_date_keeps_it_on_both_parse_paths() -> None:
    body = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
    <title>Новости</title><link>https://news.example/</link>
    <item><title>Старая новость</title><link>https://news.example/1</link>
    <pubDate>Пн, 24 сен 2018 19:42:40 +0300</pubDate></item></channel></rss>""".encode()
    for parser in ("auto", "feedparser"):  # auto: the fast path where it applies
        (item,) = parse_feed(body, "https://news.example/rss", parser=parser).items
        assert item.published == datetime(2018, 9, 24, 16, 42, 40, tzinfo=UTC), parser


@pytest.mark.skipif(not REALFEEDS.is_dir(), reason="../shared/realfeeds is not beside the project")
@pytest.mark.parametrize(("name", "year"), [("uolNoticias.rss", 2018), ("heraldsun.rss", 2002)])
def test_real_feeds_with_such_dates_are_dated(name: str, year: int) -> None:
    """UOL localizes its dates in Portuguese; the Herald Sun writes '03 Apr 02 1500 GMT'
    on its channel, which dates its undated items."""
    feed = parse_feed((REALFEEDS / name).read_bytes(), f"https://feeds.example/{name}")
    dated = [item.published or feed.updated for item in feed.items]
    assert dated and all(when is not None and when.year == year for when in dated)
