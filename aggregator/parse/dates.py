"""Dates feedparser does not read: RFC 822 dates with month names in the site's language.

Some CMSs localize the month and weekday of ``<pubDate>`` ("Seg, 24 Set 2018 19:42:40
-0300" from a Brazilian portal, "Пн, 24 сен 2018 19:42:40 +0300" from Russian ones) or
write the time without its colon ("03 Apr 02 1500 GMT").  feedparser reads none of these,
and an item without a readable date is dated when we first see it: an old item then
looks like today's news.  :func:`localized_rfc822` is registered as a feedparser date
handler (parse/feedparser.py), so both parse paths read these dates alike.

Only the shape day-month-year-time is read; anything else is left to feedparser's own
handlers (it returns None quickly for them, since it runs before them).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz

__all__ = ["localized_rfc822"]

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
    (?:\s*(?P<zone>[+-]\d{4}|[A-Za-z]{1,5}))?\s*\Z""",
    re.VERBOSE,
)


def localized_rfc822(value: str) -> time.struct_time | None:
    """``value`` read as an RFC 822 date with a localized month or a colon-less time,
    as a UTC struct_time (what feedparser's date handlers return); None otherwise."""
    shape = _SHAPE.match(value)
    if shape is None:
        return None
    month = shape["month"].lower()
    if month in _ENGLISH_INDEX and ":" in value:
        return None  # an ordinary RFC 822 date: feedparser's own handler reads it
    english = _MONTHS.get(month) or (month.title() if month in _ENGLISH_INDEX else None)
    if english is None:
        return None
    # The zone as RFC 822 reads it (+0300, GMT, EST...; unknown names are UTC).
    zoned = parsedate_tz(f"1 Jan 2000 00:00:00 {shape['zone'] or 'GMT'}")
    offset = (zoned[9] or 0) if zoned else 0
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
    return (local - timedelta(seconds=offset)).timetuple()
