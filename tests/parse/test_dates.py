"""Dates that feedparser alone cannot read: RFC 822 shape with localized month names,
times without a colon or no zone, and day.month.year; and dates without an offset read
in a source's time zone.  An unreadable date makes an old item look like today's news;
a local time read as UTC puts an item hours off (and one from the east in the future)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.parse import parse_feed
from aggregator.parse.dates import localized_rfc822

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realfeeds" / "rss-parser"


def utc(value: str) -> datetime | None:
    parsed = localized_rfc822(value)
    return parsed and datetime(*parsed[:6], tzinfo=UTC)


def rss_dated(*values: str) -> bytes:
    items = "".join(
        f"<item><title>{i}</title><link>https://x.kz/{i}</link><pubDate>{value}</pubDate></item>"
        for i, value in enumerate(values)
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


def published(value: str) -> datetime | None:
    """An item's date read from ``value`` as its pubDate, alike on both parse paths."""
    dates = {
        parser: parse_feed(rss_dated(value), "https://x.kz/rss", parser=parser).items[0].published
        for parser in ("auto", "feedparser")
    }
    assert dates["auto"] == dates["feedparser"], dates
    return dates["auto"]


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
    ("value", "utc_time"),
    [
        # Our region's zone names, read as UTC before: hours off, or in the future.
        ("Mon, 07 Dec 2026 10:00:00 MSK", "2026-12-07 07:00"),
        ("Fri, 07 Dec 2012 10:00:00 MSK", "2012-12-07 06:00"),  # Moscow at +04:00 then
        ("Mon, 07 Dec 2026 10:00:00 ALMT", "2026-12-07 05:00"),
        ("Thu, 07 Dec 2023 10:00:00 ALMT", "2023-12-07 04:00"),  # Almaty at +06:00 then
        ("Пн, 07 дек 2026 10:00:00 MSK", "2026-12-07 07:00"),
        ("Mon, 07 Dec 2026 10:00:00 CEST", "2026-12-07 08:00"),
        # Offsets spelled otherwise than +0500.
        ("Mon, 07 Dec 2026 10:00:00 GMT+5", "2026-12-07 05:00"),
        ("Mon, 07 Dec 2026 10:00:00 UTC+05:00", "2026-12-07 05:00"),
        ("Mon, 07 Dec 2026 10:00:00 +05:00", "2026-12-07 05:00"),
        ("07 Dec 2026 10:00 -3", "2026-12-07 13:00"),
    ],
)
def test_zone_names_and_offsets_rfc822_does_not_know_are_read(value, utc_time) -> None:
    expected = datetime.fromisoformat(utc_time).replace(tzinfo=UTC)
    assert utc(value) == expected
    assert published(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 24 Sep 2018 19:42:40 -0300",  # ordinary: left to feedparser's own handler
        "Mon, 24 Sep 2018 19:42:40 EST",
        "Mon, 24 Sep 2018 19:42:40 GMT",
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


@pytest.mark.parametrize(
    ("value", "utc_time"),
    [
        ("07.12.2026 06:00", "2026-12-07 06:00"),
        ("7.12.2026 06:00:30", "2026-12-07 06:00:30"),
        ("07.12.2026", "2026-12-07 00:00"),
        ("07.12.2026 06:00 +0300", "2026-12-07 03:00"),
        ("07.12.2026 06:00 MSK", "2026-12-07 03:00"),
        # Dashes: feedparser's ISO 8601 handler read these 20 Dec 2007 and 20 Apr 00:00.
        ("07-12-2026 06:00", "2026-12-07 06:00"),
        ("20-04-2020 19:00 +0400", "2020-04-20 15:00"),
        ("12-13-2026", "2026-12-13 00:00"),  # only the US order is a date
        # Year first between dots or slashes (feedparser: 1 December).
        ("2026.07.28", "2026-07-28 00:00"),
        ("2026/07/28 10:00", "2026-07-28 10:00"),
        # Month first where only it is a date, between dots and slashes too.
        ("12.13.2026", "2026-12-13 00:00"),
        ("09/22/26", "2026-09-22 00:00"),
        ("9/22/2026 2:30 PM", "2026-09-22 14:30"),
        ("22/09/2026 06:00 +0500", "2026-09-22 01:00"),
        # RFC 822 with a weekday and no zone: feedparser reads none.
        ("Mon, 07 Dec 2026 06:00:00", "2026-12-07 06:00"),
    ],
)
def test_numeric_and_zoneless_rfc822_dates_are_read(value, utc_time) -> None:
    assert published(value) == datetime.fromisoformat(utc_time).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["07/12/2026 06:00", "4/5/2025", "31.02.2026 06:00", "07.12.2026 06:00 ч"],
)
def test_a_date_either_way_round_alone_an_impossible_one_or_a_strange_zone_is_not_read(value):
    assert published(value) is None


@pytest.mark.parametrize(
    ("dates", "known", "read", "ambiguous"),
    [
        # The feed's other dates show the order: month first, day first.
        (("09/22/2026 10:00", "04/05/2026 10:00"), None, "2026-04-05", None),
        (("22/09/2026 10:00", "04/05/2026 10:00"), None, "2026-05-04", None),
        # None does, but the source's earlier fetches did.
        (("03/05/2026 10:00", "04/05/2026 10:00"), "month", "2026-04-05", None),
        # Nothing shows it: unread, and said.
        (("03/05/2026 10:00", "04/05/2026 10:00"), None, None, "03/05/2026 10:00"),
        # No date at all either way round: unread, and not said to be ambiguous.
        (("05/05/2026 10:00", "13/14/2026 10:00"), None, None, None),
        # Dots and dashes: day first by custom, unless the feed shows month first.
        (("03.05.2026 10:00", "04.05.2026 10:00"), None, "2026-05-04", None),
        (("12.13.2026 10:00", "04.05.2026 10:00"), None, "2026-04-05", None),
        (("12-13-2026 10:00", "04-05-2026 10:00"), None, "2026-04-05", None),
    ],
)
def test_a_date_either_way_round_is_read_in_the_order_its_feeds_dates_show(
    dates, known, read, ambiguous
) -> None:
    for parser in ("auto", "feedparser"):
        feed = parse_feed(rss_dated(*dates), "https://x.kz/rss", parser=parser, date_order=known)
        second = feed.items[1].published
        assert (second and second.date().isoformat()) == read, parser
        assert feed.ambiguous_date == ambiguous, parser


def test_a_sources_timezone_places_its_dates_without_an_offset_and_only_those() -> None:
    body = rss_dated(
        "07.12.2026 06:00",  # Almaty's 06:00: 01:00 UTC
        "2026-12-07T06:00:00",
        "Mon, 07 Dec 2026 06:00:00",
        "07.12.2026",  # midnight there
        "07.12.2026 06:00 +0300",  # these say their offset: as they say
        "Mon, 07 Dec 2026 06:00:00 GMT",
        "2026-12-07T06:00:00Z",
        "2026-12-07T06:00:00+05:00",
    )
    at = lambda hour, day=7: datetime(2026, 12, day, hour, 0, tzinfo=UTC)  # noqa: E731
    for parser in ("auto", "feedparser"):
        feed = parse_feed(body, "https://x.kz/rss", parser=parser, timezone="Asia/Almaty")
        assert [item.published for item in feed.items] == [
            at(1),
            at(1),
            at(1),
            at(19, day=6),
            at(3),
            at(6),
            at(6),
            at(1),
        ], parser
        # Without the key: UTC, as before.
        feed = parse_feed(body, "https://x.kz/rss", parser=parser)
        assert [item.published for item in feed.items][:4] == [at(6), at(6), at(6), at(0)]


def test_a_timezone_places_the_feeds_own_date_too() -> None:
    """The channel's date bounds the dates given to undated items: hours in the future,
    it would look changed at every fetch."""
    body = b"""<rss version='2.0'><channel><title>t</title>
    <lastBuildDate>07.12.2026 06:00</lastBuildDate><item><title>a</title></item></channel></rss>"""
    for parser in ("auto", "feedparser"):
        feed = parse_feed(body, "https://x.kz/rss", parser=parser, timezone="Asia/Almaty")
        assert feed.updated == datetime(2026, 12, 7, 1, 0, tzinfo=UTC), parser


def test_a_timezone_reads_each_date_at_the_offset_of_its_day() -> None:
    """Almaty was at +06:00 until March 2024; Moscow keeps no summer time since 2014."""
    body = rss_dated("07.12.2023 10:00", "07.12.2026 10:00")
    feed = parse_feed(body, "https://x.kz/rss", timezone="Asia/Almaty")
    assert [item.published.hour for item in feed.items] == [4, 5]


def test_a_json_feeds_numeric_dates_are_read_as_an_xml_feeds_are() -> None:
    """JSON Feed's dates are RFC 3339's; one that writes "13.12.2026 10:00" had only its
    dates either way round read ("04.12.2026": by the feed-wide pass), not this one."""
    items = [
        {"id": str(n), "url": f"https://x.kz/{n}", "title": "t", "content_text": "x",
         "date_published": date}
        for n, date in enumerate(["13.12.2026 10:00", "04.12.2026 10:00", "2026.12.03"])
    ]  # fmt: skip
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items})
    feed = parse_feed(body.encode(), "https://x.kz/feed.json")
    assert [item.published for item in feed.items] == [
        datetime(2026, 12, 13, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 0, 0, tzinfo=UTC),
    ]
