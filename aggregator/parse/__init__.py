"""Parse: bytes of a feed document -> ``ParsedFeed``, whatever its format and encoding.

Pure: no I/O, no clock.  decode.py picks the character encoding; JSON Feed goes to
jsonfeed.py; RSS and Atom go to the lxml fast path (fast.py) when the document is
one of the plain shapes it handles, else to feedparser (feedparser.py).  Both XML
paths normalize through normalize.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from zoneinfo import ZoneInfo

from aggregator.models import ParsedFeed
from aggregator.parse.dates import in_zone, numeric_order, zoneless_date
from aggregator.parse.decode import charset_of, decode
from aggregator.parse.fast import fast_parse
from aggregator.parse.feedparser import parse_with_feedparser
from aggregator.parse.jsonfeed import parse_json_feed
from aggregator.parse.normalize import ParseError

__all__ = ["PARSERS", "ParseError", "parse_feed"]

# "auto": plain RSS and Atom 1.0 go through fast.py (lxml: the same ParsedFeed in
# about a third of the time), everything else through feedparser; "feedparser":
# feedparser reads every RSS/Atom document (config: fetch.parser).
PARSERS = ("auto", "feedparser")


def parse_feed(
    body: bytes,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    parser: str = "auto",
    encoding: str | None = None,
    timezone: str | None = None,
    date_order: str | None = None,
) -> ParsedFeed:
    """Parse a feed document fetched from ``url`` (the final URL, after redirects).

    ``headers`` are the response headers (any case); Content-Type's charset and
    Content-Language are used.  ``parser`` is one of PARSERS.  ``encoding`` (a
    source's ``encoding:`` key) overrides what the document and headers declare.
    ``timezone`` (a source's ``timezone:`` key, an IANA name) is where the items' dates
    that say no offset are wall times; without it they are UTC, as feedparser reads
    them.  ``date_order`` ("day" or "month") is which comes first in the numeric dates of
    the source's earlier fetches (``ParsedFeed.date_order``): it reads those of this one
    that could be either (dates.numeric_order).  The result's ``encoding`` says how the
    text was decoded.  Raises ParseError if
    ``body`` is not a feed.
    """
    if parser not in PARSERS:
        raise ValueError(f"parser {parser!r}: expected one of {', '.join(PARSERS)}")
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    if not body or not body.strip():
        raise ParseError("empty document: the response body has no content")
    decoded = decode(body, charset_of(content_type), pinned=encoding)
    text = decoded.text
    start = text.lstrip()[:1]
    if not start:
        raise ParseError("empty document: the response body is only whitespace")
    if start in "{[":
        parsed = parse_json_feed(text, url)
    elif "json" in content_type and start != "<":
        raise ParseError(f"not a feed: Content-Type is {content_type!r} but the body is not JSON")
    else:
        fast = fast_parse(text, url, headers) if parser == "auto" else None
        parsed = fast or parse_with_feedparser(text, url, headers)
    parsed = numeric_order(parsed, date_order)
    if timezone:
        zone = ZoneInfo(timezone)
        parsed = in_zone(parsed, zone)
    return replace(parsed, encoding=decoded.note, zoneless_date=zoneless_date(parsed))
