"""Finding the feeds of a site from its address: what ``aggregator add`` asks.

Given a feed URL, that is the feed.  Given a page, its advertised feeds are, in order:
the HTTP ``Link`` header's and the HTML ``<link rel="alternate">`` elements' with a
feed type (RSS, Atom, JSON Feed; HTML parsed with beautifulsoup4, which copes with
the tag soup real sites serve); only when the page advertises none, the usual paths
on its origin (``/feed``, ``/rss``, ``/rss.xml``, ``/atom.xml``, ``/feed.json``).

Every request goes through the fetch stage's :class:`Fetcher`, so each guard holds
here as for any source: the deadline, the body cap and the SSRF policy (a page cannot
point us at an intranet address by advertising a feed there).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from aggregator.ingest.fetch import Fetcher
from aggregator.models import FetchOutcome, FetchRequest, FetchResult, ParsedFeed
from aggregator.parse import ParseError, parse_feed

__all__ = [
    "FALLBACK_PATHS",
    "FEED_TYPES",
    "Discovery",
    "DiscoveryError",
    "FeedLink",
    "FoundFeed",
    "advertised_feeds",
    "discover",
    "html_page_hint",
]

# Media types of feeds as pages advertise them, lowercased, parameters dropped.
FEED_TYPES: Mapping[str, str] = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSON Feed",
    "application/json": "JSON Feed",
    "application/rdf+xml": "RSS",
    "text/xml": "RSS",
    "application/xml": "RSS",
}
FALLBACK_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.json")

_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_LINK_PARAM = re.compile(r";\s*([a-zA-Z*]+)\s*=\s*(\"[^\"]*\"|[^;,\s]*)")


class DiscoveryError(Exception):
    """The address gave no feed; the message says why and what was tried."""


@dataclass(frozen=True)
class FeedLink:
    """A feed a page advertises (or a fallback path to try)."""

    url: str
    type: str = ""  # the advertised media type; "" for a fallback path
    title: str = ""


@dataclass(frozen=True)
class FoundFeed:
    """A candidate that was fetched and read as a feed."""

    url: str  # the URL to configure (after permanent redirects)
    feed: ParsedFeed
    link: FeedLink


@dataclass(frozen=True)
class Discovery:
    """What an address led to: the feeds found, and what went wrong with the rest."""

    address: str
    page_url: str | None  # the HTML page, when the address was not a feed itself
    feeds: tuple[FoundFeed, ...]
    problems: tuple[str, ...]  # "URL: why it was not used", one per rejected candidate


def advertised_feeds(body: bytes, page_url: str, headers: Mapping[str, str]) -> list[FeedLink]:
    """The feeds an HTML page advertises, Link header first, in document order, once each.

    Relative URLs resolve against the page (and its ``<base href>``); only http(s)
    URLs are kept.
    """
    links: list[FeedLink] = []
    for value in (v for k, v in headers.items() if k.lower() == "link"):
        links += _header_links(value, page_url)
    links += _html_links(body, page_url)
    seen: set[str] = set()
    unique = []
    for link in links:
        if link.url not in seen and urlsplit(link.url).scheme in ("http", "https"):
            seen.add(link.url)
            unique.append(link)
    return unique


def _header_links(value: str, base: str) -> list[FeedLink]:
    found = []
    for match in _LINK_VALUE.finditer(value):
        params = {k.lower(): v.strip('"') for k, v in _LINK_PARAM.findall(match.group(2) or "")}
        media_type = params.get("type", "").split(";")[0].strip().lower()
        if "alternate" in params.get("rel", "").lower().split() and media_type in FEED_TYPES:
            url = urljoin(base, match.group(1).strip())
            found.append(FeedLink(url, media_type, params.get("title", "")))
    return found


def _html_links(body: bytes, page_url: str) -> list[FeedLink]:
    from bs4 import BeautifulSoup  # only `aggregator add` needs it: keep cron runs light

    soup = BeautifulSoup(body, "html.parser")
    base = page_url
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = urljoin(page_url, str(base_tag["href"]).strip())
    found = []
    for tag in soup.find_all(["link", "a"], href=True):
        rel = tag.get("rel") or []
        rels = [r.lower() for r in (rel if isinstance(rel, list) else str(rel).split())]
        media_type = str(tag.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rels and media_type in FEED_TYPES:
            url = urljoin(base, str(tag["href"]).strip())
            found.append(FeedLink(url, media_type, " ".join(str(tag.get("title") or "").split())))
    return found


def html_page_hint(body: bytes, page_url: str, headers: Mapping[str, str]) -> str:
    """What to add to "not a feed: the document is an HTML page": the feeds it advertises."""
    links = advertised_feeds(body, page_url, headers)
    if not links:
        return ""
    listed = ", ".join(f"{link.url} ({FEED_TYPES[link.type]})" for link in links[:5])
    more = f" and {len(links) - 5} more" if len(links) > 5 else ""
    return f"; the page advertises {listed}{more}: set the source's url to one of them"


def fallback_links(page_url: str) -> list[FeedLink]:
    """The usual feed paths on the page's origin."""
    split = urlsplit(page_url)
    return [
        FeedLink(urlunsplit((split.scheme, split.netloc, path, "", ""))) for path in FALLBACK_PATHS
    ]


async def discover(
    address: str, fetcher: Fetcher, *, allow_networks: tuple[str, ...] = ()
) -> Discovery:
    """The feeds at ``address``: itself if it is a feed, else those its page advertises.

    Raises DiscoveryError when the address cannot be fetched or nothing found is a feed.
    """
    first = await fetcher.fetch(FetchRequest(address, allow_networks=allow_networks))
    if first.outcome is not FetchOutcome.OK or first.body is None:
        raise DiscoveryError(f"{address}: {first.error or 'no content (HTTP 304)'}")
    # A temporary redirect keeps the address the user gave; a permanent one moves it.
    url = first.permanent_url or address
    try:
        feed = parse_feed(first.body, first.final_url, first.headers)
    except ParseError as exc:
        reason = str(exc)
    else:
        return Discovery(address, None, (FoundFeed(url, feed, FeedLink(url)),), ())
    if not _looks_like_html(first, reason):
        raise DiscoveryError(f"{address}: {reason}")
    page_url = first.final_url
    candidates = advertised_feeds(first.body, page_url, first.headers)
    advertised = bool(candidates)
    if not advertised and urlsplit(page_url).scheme in ("http", "https"):
        candidates = fallback_links(page_url)
    results = await asyncio.gather(*(_try(c, fetcher, allow_networks) for c in candidates))
    feeds = tuple(r for r in results if isinstance(r, FoundFeed))
    problems = tuple(r for r in results if isinstance(r, str)) if advertised else ()
    if not feeds:
        if advertised:
            tried = "; ".join(problems)
            raise DiscoveryError(
                f"{address}: the page advertises feeds, but none could be read: {tried}"
            )
        paths = ", ".join(FALLBACK_PATHS)
        raise DiscoveryError(
            f'{address}: an HTML page that advertises no feed (no <link rel="alternate"> '
            f"with a feed type), and none of {paths} on its site is a feed; "
            "find the feed's address on the site and add that"
        )
    return Discovery(address, page_url, feeds, problems)


def _looks_like_html(result: FetchResult, reason: str) -> bool:
    content_type = result.headers.get("content-type", "").lower()
    return "html" in content_type or "HTML page" in reason


async def _try(
    link: FeedLink, fetcher: Fetcher, allow_networks: tuple[str, ...]
) -> FoundFeed | str:
    result = await fetcher.fetch(FetchRequest(link.url, allow_networks=allow_networks))
    if result.outcome is not FetchOutcome.OK or result.body is None:
        return f"{link.url}: {result.error or 'no content'}"
    try:
        feed = parse_feed(result.body, result.final_url, result.headers)
    except ParseError as exc:
        return f"{link.url}: {exc}"
    return FoundFeed(result.permanent_url or link.url, feed, link)
