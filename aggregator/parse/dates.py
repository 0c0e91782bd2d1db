"""Dates feedparser does not read (RFC 822 dates with month names in the site's language,
day.month.year ones), and dates without an offset read in a source's time zone.

Some CMSs localize the month and weekday of ``<pubDate>`` ("Seg, 24 Set 2018 19:42:40
-0300" from a Brazilian portal, "Пн, 24 сен 2018 19:42:40 +0300" from Russian ones) or
write the time without its colon ("03 Apr 02 1500 GMT").  feedparser reads none of these,
and an item without a readable date is dated when we first see it: an old item then
looks like today's news.  :func:`localized_rfc822` is registered as a feedparser date
handler (parse/feedparser.py), so both parse paths read these dates alike.

Only the shape day-month-year-time is read; anything else is left to feedparser's own
handlers (it returns None quickly for them, since it runs before them).
:func:`day_month_year` reads numeric dates ("07.12.2026 06:00", "09/22/26") so, where the
date alone shows the order of its day and month; :func:`numeric_order` reads the rest of a
feed's in the order its other dates show.

A date without an offset ("2026-12-07T06:00:00", "07.12.2026 06:00") is read as UTC by
the handlers, as feedparser reads it; :func:`in_zone` then reads such dates, and only
those, in the source's zone (its ``timezone:``, by default the site's).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz
from zoneinfo import ZoneInfo

from aggregator.models import Item, ParsedFeed

__all__ = [
    "EARLIEST",
    "day_month_year",
    "in_zone",
    "localized_rfc822",
    "numeric_order",
    "plausible",
    "zoneless_date",
]

# No feed's item was published before the web: an earlier date is a CMS's empty one
# (Unix time 0, "Thu, 01 Jan 1970 00:00:00 +0000"; "0001-01-01") or a number misread (a
# Unix time "1765087200" read as the year 1765).  Such an item is undated: dated as
# README says, not put at the bottom of every output (nor in an archive of 1970-01).
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)


def plausible(moment: datetime | None) -> datetime | None:
    """``moment``, unless it is before ``EARLIEST`` (then None: no date)."""
    return moment if moment is not None and moment >= EARLIEST else None


# Month names and abbreviations (lowercase, without a final dot) -> the English
# abbreviation RFC 822 uses.  Russian and Kazakh for our region; the Romance and German
# ones because real feeds (shared/realfeeds) carry them.  English is absent on purpose:
# feedparser reads those dates itself.
_MONTHS_BY_LANGUAGE = {
    "ru": [
        ("янв", "января", "январь"), ("фев", "февр", "февраля", "февраль"),
        ("мар", "марта", "март"), ("апр", "апреля", "апрель"), ("мая", "май"),
        ("июн", "июня", "июнь"), ("июл", "июля", "июль"), ("авг", "августа", "август"),
        ("сен", "сент", "сентября", "сентябрь"), ("окт", "октября", "октябрь"),
        ("ноя", "нояб", "ноября", "ноябрь"), ("дек", "декабря", "декабрь"),
    ],
    "kk": [
        ("қаң", "қаңтар"), ("ақп", "ақпан"), ("нау", "наурыз"), ("сәу", "сәуір"),
        ("мам", "мамыр"), ("мау", "маусым"), ("шіл", "шілде"), ("там", "тамыз"),
        ("қыр", "қыркүйек"), ("қаз", "қазан"), ("қар", "қараша"), ("жел", "желтоқсан"),
    ],
    "pt": [
        ("jan", "janeiro"), ("fev", "fevereiro"), ("mar", "março"), ("abr", "abril"),
        ("mai", "maio"), ("jun", "junho"), ("jul", "julho"), ("ago", "agosto"),
        ("set", "setembro"), ("out", "outubro"), ("nov", "novembro"), ("dez", "dezembro"),
    ],
    "es": [
        ("ene", "enero"), ("feb", "febrero"), ("mar", "marzo"), ("abr", "abril"),
        ("may", "mayo"), ("jun", "junio"), ("jul", "julio"), ("ago", "agosto"),
        ("sep", "sept", "septiembre"), ("oct", "octubre"), ("nov", "noviembre"),
        ("dic", "diciembre"),
    ],
    "fr": [
        ("janv", "janvier"), ("févr", "février"), ("mars",), ("avr", "avril"), ("mai",),
        ("juin",), ("juil", "juillet"), ("août",), ("sept", "septembre"),
        ("oct", "octobre"), ("nov", "novembre"), ("déc", "décembre"),
    ],
    "de": [
        ("jan", "januar"), ("feb", "februar"), ("mär", "märz"), ("apr", "april"),
        ("mai",), ("jun", "juni"), ("jul", "juli"), ("aug", "august"),
        ("sep", "sept", "september"), ("okt", "oktober"), ("nov", "november"),
        ("dez", "dezember"),
    ],
}  # fmt: skip
_ENGLISH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ENGLISH_INDEX = {m.lower(): i for i, m in enumerate(_ENGLISH)}


def _month_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for months in _MONTHS_BY_LANGUAGE.values():
        for english, names in zip(_ENGLISH, months, strict=True):
            for name in names:
                # One spelling, one month in every language listed ("mar" is March in
                # each); a clash would be a mistake in the table above.
                assert table.setdefault(name, english) == english, name
    return table


_MONTHS = _month_table()

# [weekday[,]] day month[.] year time [zone]; time as HH:MM[:SS] or HHMM[SS].
_SHAPE = re.compile(
    r"""\A\s*(?:[^\W\d_]+\.?,?\s+)?
    (?P<day>\d{1,2})\s+(?P<month>[^\W\d_]+)\.?,?\s+(?P<year>\d{2}|\d{4}),?\s+
    (?P<hour>\d{1,2}):?(?P<minute>\d{2})(?::?(?P<second>\d{2}))?
    (?:\s*(?P<zone>(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5}))?\s*\Z""",
    re.VERBOSE,
)

# Zone names of our region (and Central Europe's) that RFC 822 and feedparser do not
# know, and would read as UTC: "10:00:00 MSK" three hours late, "ALMT" five.  A name
# that means one offset has it; one whose offset moved over the years names the IANA
# zone, read at the date given (Moscow was +04:00 in 2011-2014, Almaty +06:00 until
# March 2024).
_ZONE_NAMES: dict[str, str | timedelta] = {
    "msk": "Europe/Moscow", "msd": timedelta(hours=4),
    "almt": "Asia/Almaty", "qyzt": "Asia/Qyzylorda", "aqtt": timedelta(hours=5),
    "orat": timedelta(hours=5), "yekt": timedelta(hours=5), "omst": timedelta(hours=6),
    "uzt": timedelta(hours=5), "kgt": timedelta(hours=6), "tjt": timedelta(hours=5),
    "cet": timedelta(hours=1), "cest": timedelta(hours=2),
    "eet": timedelta(hours=2), "eest": timedelta(hours=3),
}  # fmt: skip
# "+05:00", "+5", "GMT+5", "UTC+05:00": offsets RFC 822 does not spell (it writes +0500).
_NUMERIC_ZONE = re.compile(r"(?:GMT|UTC)?([+-])(\d{1,2})(?::?(\d{2}))?\Z", re.IGNORECASE)
_RFC822_OFFSET = re.compile(r"[+-]\d{4}")


def _misread(zone: str) -> bool:
    """Whether RFC 822 (and so feedparser) misreads ``zone`` as UTC: one of our region's
    names, or an offset it does not spell."""
    if zone.lower() in _ZONE_NAMES:
        return True
    return _NUMERIC_ZONE.match(zone) is not None and not _RFC822_OFFSET.fullmatch(zone)


def _zone_offset(zone: str, local: datetime) -> timedelta | None:
    """The UTC offset ``zone`` names at the wall time ``local``, if it is one RFC 822
    (and so feedparser) misreads; None for the ones it reads (+0500, GMT, EST)."""
    if not _misread(zone):
        return None
    named = _ZONE_NAMES.get(zone.lower())
    if isinstance(named, timedelta):
        return named
    if named is not None:
        return ZoneInfo(named).utcoffset(local.replace(tzinfo=None))
    sign, hours, minutes = _NUMERIC_ZONE.match(zone).groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return offset if sign == "+" else -offset


def localized_rfc822(value: str) -> time.struct_time | None:
    """``value`` read as an RFC 822 date with a localized month or a colon-less time,
    as a UTC struct_time (what feedparser's date handlers return); None otherwise."""
    shape = _SHAPE.match(value)
    if shape is None:
        return None
    month = shape["month"].lower()
    zone = shape["zone"] or "GMT"
    if month in _ENGLISH_INDEX and ":" in value and shape["zone"] and not _misread(zone):
        return None  # an ordinary RFC 822 date: feedparser's own handler reads it
    # (Without a zone, it reads none after a weekday: "Mon, 07 Dec 2026 06:00:00".)
    english = _MONTHS.get(month) or (month.title() if month in _ENGLISH_INDEX else None)
    if english is None:
        return None
    year = int(shape["year"])
    if year < 100:  # RFC 822's two-digit years, read as email.utils does
        year += 2000 if year < 69 else 1900
    try:
        local = datetime(
            year, _ENGLISH_INDEX[english.lower()] + 1, int(shape["day"]),
            int(shape["hour"]), int(shape["minute"]), int(shape["second"] or 0), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None  # 31 February, hour 25: not a date
    offset = _zone_offset(zone, local)
    if offset is None:  # the zone as RFC 822 reads it (+0300, GMT, EST...; unknown: UTC)
        zoned = parsedate_tz(f"1 Jan 2000 00:00:00 {zone}")
        offset = timedelta(seconds=(zoned[9] or 0) if zoned else 0)
    return (local - offset).timetuple()


# Day, month and year as numbers, then the time and perhaps a zone.  Day first between
# dots ("07.12.2026 06:00", as Russian and Kazakh sites write dates) or dashes ("20-04-2020
# 19:00 +0400", a real feed's: rbren/rss-parser#156), where feedparser's ISO 8601 handler
# misreads them ("07-12-2026": 20 December 2007); between slashes, as the US writes them
# month first ("09/22/26", "4/5/2025 2:30 PM") and much of the world day first, in the
# order the date itself shows (a number above 12 is the day), else the one the feed's other
# dates show (:func:`numeric_order`), else none.  Year first ("2026.07.28", "2026/07/28",
# which feedparser reads as 1 December) is always year, month, day.
_NUMERIC_DATE = re.compile(
    r"""\A\s*(?:(?P<first>\d{1,2})(?P<sep>[./-])(?P<second>\d{1,2})(?P=sep)
    (?P<year>\d{4}|\d{2}(?!\d))
    |(?P<year_first>\d{4})(?P<ysep>[./])(?P<month_second>\d{1,2})(?P=ysep)(?P<day_last>\d{1,2}))
    (?:,?\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second_>\d{2}))?
    (?:\s*(?P<half>[AaPp]\.?[Mm]\.?)(?=\s|\Z))?
    (?:\s*(?P<zone>(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5}))?)?\s*\Z""",
    re.VERBOSE,
)


def day_month_year(value: str) -> time.struct_time | None:
    """``value`` read as a numeric date (see ``_NUMERIC_DATE``), as a UTC struct_time
    (what feedparser's date handlers return); None otherwise, and for a date between
    slashes that the date alone cannot tell the order of."""
    shape = _numeric_date(value)
    if shape is None:
        return None
    order = _order_shown(shape)
    if order is None:
        order = _ORDER_BY_CUSTOM.get(shape["sep"])
        if order is None and _either_way(shape):
            return None  # "04/05/2025": April or May; the feed may tell (numeric_order)
    moment = _numeric_moment(shape, order or "day")
    return None if moment is None else moment.timetuple()


# Without a date that shows the order: day first between dots and dashes, as the region
# writes them; between slashes, none (the US writes month first, Britain day first).
_ORDER_BY_CUSTOM = {".": "day", "-": "day"}


def _numeric_date(value: str) -> re.Match | None:
    """``value``'s parts as ``_NUMERIC_DATE`` reads them; None for another shape, and
    for a two-digit year between dashes ("07-12-26": ISO 8601's year first, perhaps)."""
    shape = _NUMERIC_DATE.match(value)
    if shape is None or (shape["sep"] == "-" and len(shape["year"]) == 2):
        return None
    return shape


def _order_shown(shape: re.Match) -> str | None:
    """ "day" or "month" (which comes first) when the date shows it, else None."""
    if shape["year_first"]:
        return "year"
    first, second = int(shape["first"]), int(shape["second"])
    if first > 12 >= second:
        return "day"
    if second > 12 >= first:
        return "month"
    return None


def _either_way(shape: re.Match) -> bool:
    """Whether day and month could be either way round ("04/05/2026": two dates; not
    "05/05/2026", nor "13/14/2026", which is none)."""
    first, second = int(shape["first"]), int(shape["second"])
    return first != second and first <= 12 and second <= 12


def _numeric_moment(shape: re.Match, order: str) -> datetime | None:
    """The UTC time ``shape`` (a ``_NUMERIC_DATE`` match) says, its day and month in
    ``order`` ("day" or "month" first; "year": year first); None if it is no date."""
    if shape["year_first"]:
        year, month, day = shape["year_first"], shape["month_second"], shape["day_last"]
    elif order == "month":
        year, month, day = shape["year"], shape["first"], shape["second"]
    else:
        year, month, day = shape["year"], shape["second"], shape["first"]
    hour = int(shape["hour"] or 0)
    if shape["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if shape["half"][0] in "Pp" else 0)
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    try:
        local = datetime(
            full_year, int(month), int(day),
            hour, int(shape["minute"] or 0), int(shape["second_"] or 0), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None  # 31.02, 25:00: not a date
    zone = shape["zone"] or "GMT"
    offset = _zone_offset(zone, local)
    if offset is None:
        zoned = parsedate_tz(f"1 Jan 2000 00:00:00 {zone}")
        if zoned is None:
            return None  # a word RFC 822 does not know as a zone: not a date we can place
        offset = timedelta(seconds=zoned[9] or 0)
    return local - offset


def numeric_order(feed: ParsedFeed, known: str | None = None) -> ParsedFeed:
    """``feed`` with its numeric dates whose day and month could be either way round
    ("04/05/2025", "04.05.2025") read in the order its other numeric dates show ("day" or
    "month" first: "22/09/2026" shows day first, "09/22/2026" month first), else in the
    order ``known`` (what its source's earlier fetches showed), else by custom (day
    first between dots and dashes; between slashes, left unread: the item is dated as
    an undated one, and ``ambiguous_date`` says so).  ``date_order`` is the order shown,
    by this feed or earlier."""
    shapes = {raw: shape for raw in _raw_dates(feed) if (shape := _numeric_date(raw))}
    if not shapes:
        return feed
    shown = {_order_shown(shape) for shape in shapes.values() if not shape["year_first"]}
    shown.discard(None)
    order = shown.pop() if len(shown) == 1 else known if not shown else None
    # Every numeric date is read here, not only those either way round: the per-date
    # handler reads the others alike in RSS and Atom, but a JSON Feed's dates are RFC
    # 3339's, and its "13.12.2026 10:00" would stay unread beside a "04.12.2026" read.
    moments: dict[str, datetime | None] = {}
    ambiguous = None
    for raw, shape in shapes.items():
        read_as = _order_shown(shape)
        if read_as is None:  # the same day and month, or no date either way: day first
            read_as = (order or _ORDER_BY_CUSTOM.get(shape["sep"])) if _either_way(shape) else "day"
        if read_as is None:
            ambiguous = ambiguous or raw.strip()
            moments[raw] = None
        else:
            moments[raw] = plausible(_numeric_moment(shape, read_as))

    return replace(
        feed,
        updated=moments.get(feed.updated_raw or "", feed.updated),
        items=tuple(
            replace(
                item,
                published=moments.get(item.published_raw or "", item.published),
                updated=moments.get(item.updated_raw or "", item.updated),
            )
            if item.published_raw in moments or item.updated_raw in moments
            else item
            for item in feed.items
        ),
        date_order=order,
        ambiguous_date=ambiguous,
    )


def _raw_dates(feed: ParsedFeed) -> Iterator[str]:
    if feed.updated_raw:
        yield feed.updated_raw
    for item in feed.items:
        if item.published_raw:
            yield item.published_raw
        if item.updated_raw:
            yield item.updated_raw


# A zone after the time of a date: "Z", "+05:00", "+0500", "-3", "GMT+5", "GMT", "MSK";
# the time with its colons ("06:00", "06:00:00.123") or RFC 822's without ("1500").  A
# date alone ("2026-12-07") or a time alone at the end has none.
_ZONE_AFTER_TIME = re.compile(
    r"""(?:\d:\d\d(?::\d\d(?:[.,]\d+)?)?|\s\d{4}(?:\d\d)?)
    \s*(?P<zone>[zZ]|(?:GMT|UTC|UT)?[+-]\d{1,2}(?::?\d\d)?|[A-Za-z]{1,5})\s*\Z""",
    re.VERBOSE | re.IGNORECASE,
)


# The endings nearly every feed's dates have ("... 10:00:00 +0500", "...T06:00:00Z"):
# matched from the start, they are told about five times faster than by the search.
_COMMON_OFFSET = re.compile(r".*\d:\d\d(?:[.,]\d+)?\s*(?:[+-]\d\d:?\d\d|Z|GMT|UTC)\s*\Z", re.S)


def states_offset(raw: str) -> bool:
    """Whether the date ``raw`` says its offset from UTC (a zone name or a number)."""
    if _COMMON_OFFSET.match(raw):
        return True
    found = _ZONE_AFTER_TIME.search(raw)
    return found is not None and found["zone"].lower() not in ("am", "pm")


def zoneless_date(feed: ParsedFeed) -> str | None:
    """The first date ``feed`` gives (its items', its own) that was read and says no
    offset from UTC, as the feed spells it; None if every one says its offset."""
    for item in feed.items:
        for moment, raw in ((item.published, item.published_raw), (item.updated, item.updated_raw)):
            if moment is not None and raw and not states_offset(raw):
                return raw.strip()
    if feed.updated is not None and feed.updated_raw and not states_offset(feed.updated_raw):
        return feed.updated_raw.strip()
    return None


def in_zone(feed: ParsedFeed, zone: ZoneInfo) -> ParsedFeed:
    """``feed`` with its dates that say no offset (its own, its items') read as wall
    times in ``zone`` (they were read as UTC); dates with one as they are."""
    return replace(
        feed,
        updated=_wall_time_in(feed.updated, feed.updated_raw, zone),
        items=tuple(_item_in_zone(item, zone) for item in feed.items),
    )


def _item_in_zone(item: Item, zone: ZoneInfo) -> Item:
    published = _wall_time_in(item.published, item.published_raw, zone)
    updated = _wall_time_in(item.updated, item.updated_raw, zone)
    if published == item.published and updated == item.updated:
        return item
    return replace(item, published=published, updated=updated)


def _wall_time_in(moment: datetime | None, raw: str | None, zone: ZoneInfo) -> datetime | None:
    if moment is None or raw is None or states_offset(raw):
        return moment
    return plausible(moment.replace(tzinfo=zone).astimezone(UTC))
