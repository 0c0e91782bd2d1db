"""JSON Feed 1.0 and 1.1 -> ParsedFeed (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from aggregator.models import Author, Enclosure, Item, ParsedFeed
from aggregator.parse.dates import plausible
from aggregator.parse.normalize import (
    ParseError,
    author_list,
    clean_language,
    dedupe,
    enclosure_list,
    hash_id,
)
from aggregator.parse.sanitize import absolute_http_url, sanitize_html
from aggregator.text.html import plain_text

__all__ = ["parse_json_feed"]

_JSONFEED_VERSION = re.compile(r"\Ahttps?://jsonfeed\.org/version/(\d+(?:\.\d+)?)/?\Z")


def parse_json_feed(text: str, url: str) -> ParsedFeed:
    try:
        document = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        column = getattr(exc, "colno", "?")
        message = getattr(exc, "msg", str(exc))
        raise ParseError(
            f"not a feed: invalid JSON at line {line} column {column}: {message}"
        ) from None
    version = document.get("version") if isinstance(document, dict) else None
    match = _JSONFEED_VERSION.match(version) if isinstance(version, str) else None
    if match is None:
        raise ParseError(
            "not a feed: JSON document that is not a JSON Feed "
            '(no "version": "https://jsonfeed.org/version/1.1")'
        )
    fmt = "json10" if match.group(1) in ("1", "1.0") else "json11"
    items = document.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ParseError('not a feed: JSON Feed "items" is not a list')

    feed_language = clean_language(_string(document.get("language")))
    feed_authors = _json_authors(document, url)
    home_page = absolute_http_url(_string(document.get("home_page_url")), url)
    # A file source has no web address: its relative URLs resolve against the site's.
    base = url if url.startswith(("http:", "https:")) else home_page or url
    return ParsedFeed(
        format=fmt,
        title=plain_text(_string(document.get("title"))) or None,
        link=home_page,
        description=plain_text(_string(document.get("description"))) or None,
        language=feed_language,
        items=tuple(
            _json_item(item, base, feed_language, feed_authors)
            for item in items
            if isinstance(item, dict)
        ),
    )


def _json_item(
    item: dict[str, Any], base: str, feed_language: str | None, feed_authors: tuple[Author, ...]
) -> Item:
    title_raw = _string(item.get("title"))
    link = absolute_http_url(_string(item.get("url")), base) or absolute_http_url(
        _string(item.get("external_url")), base
    )
    content_html = _string(item.get("content_html"))
    content_text = _string(item.get("content_text"))
    if content_html.strip():
        # The HTML is the article's: "/news/2" is a page of the article's site.
        content = sanitize_html(content_html, link or base) or None
    elif content_text.strip():
        content = _text_to_html(content_text)
    else:
        content = None
    summary_text = _string(item.get("summary"))  # plain text, per the spec
    summary = _text_to_html(summary_text) if summary_text.strip() else None

    raw_id = item.get("id")
    guid = "" if raw_id is None or isinstance(raw_id, bool) else str(raw_id).strip()
    if not guid:
        guid = link or hash_id(title_raw, content_html or content_text or summary_text)

    published_raw = _string(item.get("date_published")) or None
    updated_raw = _string(item.get("date_modified")) or None
    tags = item.get("tags")
    return Item(
        id=guid,
        title=plain_text(title_raw),
        link=link,
        summary=summary,
        content=content,
        published=_rfc3339(published_raw),
        updated=_rfc3339(updated_raw),
        published_raw=published_raw,
        updated_raw=updated_raw,
        authors=_json_authors(item, base) or feed_authors,
        categories=dedupe(
            plain_text(tag)
            for tag in (tags if isinstance(tags, list) else ())
            if isinstance(tag, str)
        ),
        enclosures=_json_attachments(item.get("attachments"), base),
        language=clean_language(_string(item.get("language"))) or feed_language,
    )


def _json_authors(document: dict[str, Any], url: str) -> tuple[Author, ...]:
    # 1.1 has "authors" (a list); 1.0 has "author" (an object), which 1.1 deprecates.
    authors = document.get("authors")
    if not isinstance(authors, list) or not authors:
        author = document.get("author")
        authors = [author] if isinstance(author, dict) else []
    return author_list(
        [
            {"name": _string(a.get("name")), "href": _string(a.get("url"))}
            for a in authors
            if isinstance(a, dict)
        ],
        url,
    )


def _json_attachments(attachments: Any, url: str) -> tuple[Enclosure, ...]:
    if not isinstance(attachments, list):
        return ()
    links = [
        {
            "rel": "enclosure",
            "href": _string(a.get("url")),
            "type": _string(a.get("mime_type")),
            "length": a.get("size_in_bytes"),
        }
        for a in attachments
        if isinstance(a, dict)
    ]
    return enclosure_list(links, url)


def _rfc3339(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:  # RFC 822 dates are common in hand-written JSON Feeds
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # as feedparser does for zoneless dates
    try:
        return plausible(parsed.astimezone(UTC))
    except (OverflowError, ValueError):
        return None


def _text_to_html(text: str) -> str:
    return html.escape(text.strip(), quote=False).replace("\n", "<br>")


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""
