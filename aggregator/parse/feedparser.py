"""The feedparser adapter: decoded RSS 0.9x/1.0/2.0 or Atom 0.3/1.0 text -> ParsedFeed.

feedparser reads every RSS and Atom dialect there is; we hand it text we decoded
ourselves (decode.py), as UTF-8, and normalize its dicts in normalize.py.

Relative URLs are resolved against the feed's URL, but feedparser only gets
that URL when the document uses xml:base (it is needed to chain xml:base values
correctly).  Otherwise feedparser would also resolve guids against it and turn
``<guid>12345</guid>`` into ``https://site/rss/12345``: an id that changes when
the feed moves and a link that leads nowhere.  Content HTML is sanitized and
absolutized by sanitize.py against the base feedparser reports for it.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import feedparser

# feedparser's own rules, for the fast path (fast.py), which must give feedparser's
# result without running feedparser: its date parser (a dozen formats and time zone
# names), its URL joining quirk, and its parser class (namespace table, element
# handlers, helpers such as _add_tag).  Private names of a pinned feedparser
# (pyproject.toml), taken here only, so that a feedparser upgrade that moves them
# breaks one import line; tests/parse/test_fast.py tells whether the rules still hold.
from feedparser.datetimes import _parse_date as parse_date
from feedparser.mixin import _FeedParserMixin as FeedParserRules
from feedparser.urls import _urljoin as urljoin

from aggregator.models import ParsedFeed
from aggregator.parse.dates import day_month_year, localized_rfc822
from aggregator.parse.normalize import ParseError, build_feed
from aggregator.text.counts import counted

# Localized RFC 822 dates ("Пн, 24 сен 2018 ...") and dotted ones ("07.12.2026 06:00")
# through feedparser's public hook, so the fast path, which calls feedparser's date
# parser, reads them the same way.  A module runs once per process, so the handlers are
# registered once.
feedparser.registerDateHandler(localized_rfc822)
feedparser.registerDateHandler(day_month_year)

__all__ = ["FeedParserRules", "parse_date", "parse_with_feedparser", "urljoin"]

_ROOT = re.compile(
    r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE\s+([^\s>\[]+)[^>\[]*(?:\[.*?\])?\s*>\s*)*<([A-Za-z_][\w:.-]*)",
    re.DOTALL | re.IGNORECASE,
)
_HTML_ROOTS = frozenset({"html", "head", "body"})
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def parse_with_feedparser(text: str, url: str, headers: dict[str, str]) -> ParsedFeed:
    """``text``, a decoded XML document fetched from ``url``, read by feedparser.

    ``headers`` are the response headers with lowercased names.  Raises ParseError
    if the document is not an RSS or Atom feed.
    """
    # We decoded already, so feedparser gets UTF-8 and is told so.  Content-Location
    # is its base URL; see the module docstring for why it is usually left out.
    response_headers = {k: v for k, v in headers.items() if k != "content-location"}
    response_headers["content-type"] = "application/xml; charset=utf-8"
    if "xml:base" in text:
        response_headers["content-location"] = url
    result = feedparser.parse(
        io.BytesIO(text.encode("utf-8", "surrogatepass")),
        response_headers=response_headers,
        sanitize_html=False,  # sanitize.py does it, with nh3
        resolve_relative_uris=False,
    )
    version = result.get("version") or ""
    if not version:
        raise ParseError(_not_a_feed_reason(text))
    entries = result["entries"]
    problem = None
    if result.get("bozo"):
        # Not well-formed: feedparser's lenient parser read on past the error, and
        # reads a cut item (a document cut mid-item, say) as one, without the id
        # or link it never got to: a phantom under a hash id, stored for good.
        # Only items whose end tag is in the document are complete.
        complete = len(_ITEM_END.findall(text))
        problem = f"not well-formed XML: {_where(result.get('bozo_exception'), text)}"
        if len(entries) > complete:
            problem += f"; {counted(len(entries) - complete, 'incomplete item')} left out"
            entries = entries[:complete]
    return replace(build_feed(version, result["feed"], entries, url, headers), problem=problem)


_ITEM_END = re.compile(r"</(?:[\w.-]+:)?(?:item|entry)\s*>")


def _where(exc: object, text: str) -> str:
    """feedparser's parse error as "unclosed token at line 3"."""
    message = getattr(exc, "getMessage", lambda: str(exc))()
    line = getattr(exc, "getLineNumber", lambda: None)()
    if not isinstance(line, int):
        return str(message)
    if not text.startswith("<?xml"):
        line -= 1  # feedparser put an XML declaration line before the document
    return f"{message} at line {max(line, 1)}"


def _not_a_feed_reason(text: str) -> str:
    sample = text[:2000]
    if len(_CONTROL_CHARS.findall(sample)) > len(sample) // 20:
        return "not a feed: binary data, not a text document"
    match = _ROOT.match(text[:20000])
    if match is None:
        if "<" not in sample:
            start = " ".join(sample[:40].split())
            return f"not a feed: plain text without markup (starts with {start!r})"
        return "not a feed: no root element found (is the document truncated or not XML?)"
    doctype, root = match.group(1), match.group(2)
    if root.lower() in _HTML_ROOTS or (doctype or "").lower() == "html":
        return (
            f"not a feed: the document is an HTML page (<{root}> root); find the page's feed link"
        )
    return f"not a feed: XML document with root <{root}>, expected <rss>, <rdf:RDF> or Atom <feed>"
